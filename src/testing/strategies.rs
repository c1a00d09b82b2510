//! proptest strategies for seeds, fault plans and scenarios.
//!
//! Each strategy draws plain data that the run then interprets, so proptest can shrink a
//! failing case towards fewer faults, earlier crash times, smaller jobs and workloads. The
//! strategies never run anything themselves.

use super::builder::ScenarioBuilder;
use crate::dataflow::graph::{JobGraph, Partitioning, TaskRef};
use crate::faults::{Fault, FaultPlan, ScheduledFault};
use crate::kernel::ids::VertexId;
use crate::kernel::rng::Seed;
use crate::kernel::time::{NANOS_PER_MICRO, NANOS_PER_MILLI, SimTime};
use crate::scenario::{CompiledScenario, Scenario};
use proptest::prelude::*;

/// Seeds for a property test: only `SNAPSIM_SEED` when it is set (to replay one seed while
/// proptest varies everything else), any `u64` otherwise.
///
/// # Panics
///
/// If `SNAPSIM_SEED` is set to something that is not a `u64`, with a one-line message.
pub fn seeds() -> impl Strategy<Value = Seed> {
    seeds_or_only(super::replay_seed())
}

/// Any seed, or only `only` when it is given: `seeds` without reading the environment.
pub fn seeds_or_only(only: Option<Seed>) -> impl Strategy<Value = Seed> {
    match only {
        Some(seed) => Just(seed).boxed(),
        None => any::<u64>().prop_map(Seed).boxed(),
    }
}

/// Anything that names a job's subtasks: what `fault_plans` picks its victims from.
pub trait JobShape {
    /// Every subtask, vertices in declaration order and subtasks in order within each.
    fn task_refs(&self) -> Vec<TaskRef>;
}

impl JobShape for Scenario {
    /// Read from the vertex list, without validating: `TaskRef` numbers vertices by their
    /// position in the list, exactly as compiling does.
    fn task_refs(&self) -> Vec<TaskRef> {
        task_refs_of(self.vertices.iter().map(|vertex| vertex.parallelism))
    }
}

impl JobShape for ScenarioBuilder {
    /// No tasks while the builder holds an error: its `build` reports that error, so the
    /// test fails with it rather than with a plan for a job that cannot exist.
    fn task_refs(&self) -> Vec<TaskRef> {
        match self.try_build() {
            Ok(scenario) => scenario.task_refs(),
            Err(_) => Vec::new(),
        }
    }
}

impl JobShape for JobGraph {
    fn task_refs(&self) -> Vec<TaskRef> {
        task_refs_of(self.vertices.iter().map(|vertex| vertex.parallelism))
    }
}

impl JobShape for CompiledScenario {
    fn task_refs(&self) -> Vec<TaskRef> {
        self.world.graph.task_refs()
    }
}

fn task_refs_of(parallelisms: impl Iterator<Item = u32>) -> Vec<TaskRef> {
    parallelisms
        .enumerate()
        .flat_map(|(index, parallelism)| {
            (0..parallelism).map(move |subtask| TaskRef { vertex: VertexId::from_index(index), subtask })
        })
        .collect()
}

/// Fault plans for `job`: up to `max_faults` crashes, each of a random subtask at a random
/// time (to the microsecond) before `horizon_ms`. Choose the horizon near the job's
/// simulated running time: a crash after the job has finished never happens. A job with
/// no subtasks gets only the empty plan.
pub fn fault_plans<J: JobShape + ?Sized>(
    job: &J,
    horizon_ms: u64,
    max_faults: usize,
) -> impl Strategy<Value = FaultPlan> + use<J> {
    let tasks = job.task_refs();
    if tasks.is_empty() {
        return Just(FaultPlan::default()).boxed();
    }
    // `max(1)` keeps the range non-empty for a zero horizon: every crash at time zero.
    let horizon_us = horizon_ms.saturating_mul(NANOS_PER_MILLI / NANOS_PER_MICRO).max(1);
    prop::collection::vec((0..tasks.len(), 0..horizon_us), 0..=max_faults)
        .prop_map(move |crashes| {
            FaultPlan::new(
                crashes
                    .into_iter()
                    .map(|(task, at_us)| {
                        let at = SimTime::from_nanos(at_us * NANOS_PER_MICRO);
                        ScheduledFault::at(at, Fault::CrashTask { task: tasks[task] })
                    })
                    .collect(),
            )
        })
        .boxed()
}

/// Small, valid word-count-like scenarios: a source, a keyed count and a sink, each of
/// parallelism 1..=3 (forward into the sink only where the sizes match, hash or rebalance
/// otherwise), 200..=2000 records per source subtask over 1..=64 keys (sometimes hot),
/// checkpoints every 1..=50 ms, and varied network latency, buffer capacity (1..=32) and
/// storage latency. No faults: draw them with `fault_plans`, or use
/// `scenarios_with_fault_plans`. Every scenario drawn compiles.
pub fn scenarios() -> impl Strategy<Value = Scenario> {
    let shape = (1u32..=3, 1u32..=3, 1u32..=3, 0usize..3);
    let workload = (200u64..=2_000, 1u64..=64, prop::option::of((1u64..=4, 0u64..=100)));
    let timing = (1u64..=50, 0u64..=500, 0u64..=1_000, 1u32..=32, 0u64..=2_000, 0u64..=5_000);
    (shape, workload, timing).prop_map(|(shape, workload, timing)| {
        let (sources, counts, sinks, sink_edge) = shape;
        let (records, keys, hot) = workload;
        let (interval_ms, latency_min, latency_spread, capacity, write_min, write_spread) = timing;
        // Forward needs equal parallelism on both sides, so it is only offered then.
        let sink_partitioning = match sink_edge {
            0 if counts == sinks => Partitioning::Forward,
            0 | 1 => Partitioning::Hash,
            _ => Partitioning::Rebalance,
        };
        let mut builder = ScenarioBuilder::new("generated")
            .records_per_source_subtask(records)
            .keys(keys)
            .source("source", sources)
            .keyed_count("count", counts)
            .sink("sink", sinks)
            .processing_us("source", 20)
            .processing_us("count", 15)
            .processing_us("sink", 5)
            .edge("source", "count", Partitioning::Hash)
            .edge("count", "sink", sink_partitioning)
            .checkpoint_interval_ms(interval_ms)
            .checkpoint_timeout_ms(500)
            .latency_us(latency_min, latency_min + latency_spread)
            .buffer_capacity(capacity)
            .write_latency_us(write_min, write_min + write_spread)
            .restart_delay_ms(10)
            .budget(10_000_000, 60_000);
        if let Some((hot_keys, hot_percent)) = hot {
            builder = builder.hot_keys(hot_keys.min(keys), hot_percent);
        }
        builder.build()
    })
}

/// A scenario from `scenarios` with a fault plan for it from `fault_plans`.
pub fn scenarios_with_fault_plans(horizon_ms: u64, max_faults: usize) -> impl Strategy<Value = (Scenario, FaultPlan)> {
    scenarios().prop_flat_map(move |scenario| {
        let plans = fault_plans(&scenario, horizon_ms, max_faults);
        (Just(scenario), plans)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn a_replayed_seed_is_the_only_seed_drawn() {
        let mut runner = TestRunner::deterministic();
        let strategy = seeds_or_only(Some(Seed(42)));
        for _ in 0..8 {
            assert_eq!(strategy.new_tree(&mut runner).expect("a value").current(), Seed(42));
        }
    }

    #[test]
    fn fault_plans_strike_existing_tasks_before_the_horizon() {
        let job = ScenarioBuilder::wordcount();
        let compiled = job.compile().expect("valid");
        let mut runner = TestRunner::deterministic();
        let strategy = fault_plans(&job, 30, 4);
        for _ in 0..64 {
            let plan = strategy.new_tree(&mut runner).expect("a value").current();
            assert!(plan.faults.len() <= 4);
            assert!(plan.faults.windows(2).all(|pair| pair[0].at <= pair[1].at), "sorted: {plan:?}");
            for scheduled in &plan.faults {
                let Fault::CrashTask { task } = scheduled.fault else { panic!("only crashes: {scheduled:?}") };
                assert!(compiled.world.graph.task_id(task).is_some(), "{task:?}");
                assert!(scheduled.at < SimTime::from_nanos(30 * NANOS_PER_MILLI));
            }
        }
    }

    #[test]
    fn the_shapes_agree_on_the_tasks() {
        let builder = ScenarioBuilder::wordcount();
        let compiled = builder.compile().expect("valid");
        assert_eq!(builder.task_refs(), compiled.task_refs());
        assert_eq!(builder.build().task_refs().len(), compiled.task_names.len());
    }

    #[test]
    fn a_job_without_tasks_gets_only_the_empty_plan() {
        let mut runner = TestRunner::deterministic();
        let plan = fault_plans(&ScenarioBuilder::new("empty"), 10, 3).new_tree(&mut runner).expect("a value");
        assert_eq!(plan.current(), FaultPlan::default());
    }
}
