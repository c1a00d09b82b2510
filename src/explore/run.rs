//! One run: a compiled scenario and a seed in, an `Outcome` out.
//!
//! Computes the oracle (`oracle.rs`), builds the world, runs the kernel loop within the scenario's budget, and
//! gathers the verdict. Nothing here draws randomness of its own.

use super::oracle::compute_oracle;
use crate::check::Violation;
use crate::harness::{Event, RunOptions, RunStats, SimWorld};
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
    let oracle = compute_oracle(&compiled.world, seed);
    let source_records = oracle.source_records;
    let mut world = SimWorld::new(compiled.world.clone(), seed, oracle.expected, options.clone());
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
