//! One run: a compiled scenario and a seed in, an `Outcome` out.
//!
//! Builds the oracle straight from the source records (the same generators the sources
//! read), builds the world, runs the kernel loop within the scenario's budget, and
//! gathers the verdict. Nothing here draws randomness of its own.

use crate::check::{ExpectedTotals, KeyExpectation, Violation};
use crate::dataflow::graph::VertexKind;
use crate::dataflow::source::RecordGenerator;
use crate::harness::{Event, RunOptions, RunStats, SimWorld, WorldConfig};
use crate::kernel::ids::TaskId;
use crate::kernel::rng::Seed;
use crate::kernel::time::SimTime;
use crate::kernel::trace::{TimedFact, TraceHash};
use crate::kernel::{Scheduler, Stop, run};
use crate::scenario::{CompiledScenario, Scenario, ScenarioError};

/// Pass, or the first violated invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every invariant held.
    Pass,
    /// An invariant failed.
    Fail(Violation),
}

/// Everything a run reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The seed it ran with.
    pub seed: Seed,
    /// Pass or the first violation.
    pub verdict: Verdict,
    /// Why the event loop stopped.
    pub stop: Stop,
    /// Events handled.
    pub events: u64,
    /// Simulated time at the end.
    pub end_time: SimTime,
    /// Figures from the harness.
    pub stats: RunStats,
    /// Records the sources hold in all (each read at least once in a finished run).
    pub source_records: u64,
    /// The trace hash.
    pub trace_hash: TraceHash,
    /// Facts recorded.
    pub fact_count: u64,
    /// The facts themselves, if `keep_facts` was set.
    pub facts: Option<Vec<TimedFact>>,
}

impl Outcome {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

/// Validates `scenario` and runs it with `seed`: the library entry point for property tests.
pub fn check(scenario: &Scenario, seed: Seed) -> Result<Outcome, ScenarioError> {
    Ok(run_compiled(&scenario.compile()?, seed, &RunOptions::default()))
}

/// Runs a compiled scenario with `seed`.
pub fn run_compiled(compiled: &CompiledScenario, seed: Seed, options: &RunOptions) -> Outcome {
    let expected = expected_totals(&compiled.world, seed);
    let source_records = expected.per_key.iter().map(|key| key.count).sum();
    let mut world = SimWorld::new(compiled.world.clone(), seed, expected, options.clone());
    let mut scheduler: Scheduler<Event> = Scheduler::new(1024);
    world.start(&mut scheduler);
    let end = run(&mut world, &mut scheduler, compiled.budget);
    let outcome = world.finish(end);
    Outcome {
        seed,
        verdict: outcome.violation.map_or(Verdict::Pass, Verdict::Fail),
        stop: end.stop,
        events: end.events,
        end_time: end.now,
        stats: outcome.stats,
        source_records,
        trace_hash: outcome.trace_hash,
        fact_count: outcome.fact_count,
        facts: outcome.facts,
    }
}

/// The oracle: per key, the count, sum and fingerprint of every source record, computed
/// directly from the record generators and nothing the job did.
pub fn expected_totals(world: &WorldConfig, seed: Seed) -> ExpectedTotals {
    let key_count = usize::try_from(world.workload.key_count).expect("key count fits usize");
    let mut per_key = vec![KeyExpectation::default(); key_count];
    let mut first_task = 0usize;
    for vertex in &world.graph.vertices {
        if vertex.kind == VertexKind::Source {
            for subtask in 0..vertex.parallelism as usize {
                let task = TaskId::from_index(first_task + subtask);
                let mut generator = RecordGenerator::for_source_task(seed, world.workload, task);
                for offset in 0..world.workload.records_per_source_subtask {
                    let record = generator.record_at(offset);
                    let entry = &mut per_key[record.key as usize];
                    entry.count += 1;
                    entry.sum += record.value;
                    entry.fingerprint = entry.fingerprint.wrapping_add(record.id.fingerprint());
                }
            }
        }
        first_task += vertex.parallelism as usize;
    }
    ExpectedTotals { per_key }
}
