//! One run: a compiled scenario and a seed in, an `Outcome` out.
//!
//! Computes the oracle (`oracle.rs`), builds the world, runs the kernel loop within the scenario's budget, and
//! gathers the verdict. Nothing here draws randomness of its own.

use super::oracle::compute_oracle;
use crate::check::Violation;
use crate::coverage::aim::{Aim, AimTiming, aimed_faults};
use crate::faults::FaultPlan;
use crate::faults::swarm::{SwarmTargets, draw_plan};
use crate::harness::{Event, RunOptions, RunStats, SimWorld};
use crate::kernel::rng::Seed;
use crate::kernel::time::SimTime;
use crate::kernel::trace::{TimedFact, TraceHash};
use crate::kernel::{Scheduler, Stop, run};
use crate::plant::PlantedBug;
use crate::scenario::{CompiledScenario, DrawnConfig, Scenario, ScenarioError};
use serde::{Deserialize, Serialize};

/// The unit of reproduction: everything one run depends on, stored whole in run files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The scenario, whole (not a path: the file may change or vanish).
    pub scenario: Scenario,
    /// The root seed.
    pub seed: Seed,
    /// The materialised fault plan; `None` takes the scenario's own faults.
    pub fault_plan: Option<FaultPlan>,
    /// Planted bugs switched on.
    pub plants: Vec<PlantedBug>,
    /// Judge safety only: no liveness phase (no progress demanded after healing, and a run
    /// that does not finish is not a failure) — for protocols under development.
    pub safety_only: bool,
}

impl RunSpec {
    /// A run of `scenario` with `seed`, its own faults and no plants.
    pub fn new(scenario: Scenario, seed: Seed) -> RunSpec {
        RunSpec { scenario, seed, fault_plan: None, plants: Vec::new(), safety_only: false }
    }

    /// Validates the scenario and the fault plan and builds the configuration to run: with
    /// `[randomize]`, the seed's checkpoint configuration is drawn and applied first.
    pub fn compile(&self) -> Result<CompiledScenario, ScenarioError> {
        let (scenario, drawn) = self.scenario.with_drawn_config(self.seed)?;
        let mut compiled = self.compile_drawn(scenario)?;
        compiled.drawn = drawn;
        Ok(compiled)
    }

    /// `compile`, for the scenario with its configuration drawn.
    fn compile_drawn(&self, scenario: Scenario) -> Result<CompiledScenario, ScenarioError> {
        let Some(plan) = &self.fault_plan else {
            let mut compiled = scenario.compile()?;
            if let Some(swarm) = &compiled.world.swarm {
                // The scenario's own faults, and this seed's swarm draw.
                let targets = SwarmTargets::of(&compiled.world.graph, compiled.world.workers);
                let (_, drawn) = draw_plan(self.seed, swarm, &targets);
                let mut faults = std::mem::take(&mut compiled.world.faults.faults);
                faults.extend(drawn.faults);
                compiled.world.faults = FaultPlan::new(faults);
            }
            return Ok(compiled);
        };
        // The plan replaces the scenario's own faults, so those are not validated.
        let mut compiled = Scenario { faults: Vec::new(), ..scenario }.compile()?;
        {
            // A fault may name any subtask the job ever has, in any stage of its rescales.
            let widest = crate::scenario::widest(&compiled.world.graph, &compiled.world.rescales);
            for (index, scheduled) in plan.faults.iter().enumerate() {
                for task in scheduled.clone().tasks_mut() {
                    if widest.task_id(*task).is_none() {
                        let message = format!("names {}, which the job does not have", widest.task_name(*task));
                        return Err(ScenarioError::at(format!("fault_plan[{index}]"), message));
                    }
                }
            }
            compiled.world.faults = plan.clone();
        }
        Ok(compiled)
    }

    /// This spec as a run file stores it: its fault plan materialised, and its scenario
    /// with the seed's drawn configuration written in and no `[randomize]` section, so a
    /// replay runs the same configuration without drawing again.
    pub fn materialised(&self) -> Result<RunSpec, ScenarioError> {
        let fault_plan = Some(self.materialised_plan()?);
        let (scenario, _) = self.scenario.with_drawn_config(self.seed)?;
        Ok(RunSpec { scenario, fault_plan, ..self.clone() })
    }

    /// The checkpoint configuration this spec's seed draws, if its scenario has
    /// `[randomize]` (a materialised spec has none: its values are in the scenario).
    pub fn drawn_config(&self) -> Result<Option<DrawnConfig>, ScenarioError> {
        Ok(self.scenario.with_drawn_config(self.seed)?.1)
    }

    /// This spec with `seed`, and `aim`'s faults in its plan if it has one: how a sweep, a
    /// run, the zoo and a run file rebuild one (possibly guided) seed.
    pub fn for_seed(&self, seed: Seed, aim: Option<Aim>) -> Result<RunSpec, ScenarioError> {
        let spec = RunSpec { seed, ..self.clone() };
        match aim {
            Some(aim) => spec.aimed(aim),
            None => Ok(spec),
        }
    }

    /// This spec with `aim`'s faults added to its materialised plan: a guided sweep's seed.
    /// The plan is stored whole, so the run replays without the aim.
    pub fn aimed(&self, aim: Aim) -> Result<RunSpec, ScenarioError> {
        let compiled = self.compile()?;
        let world = &compiled.world;
        let targets = SwarmTargets::of(&world.graph, world.workers);
        if let Some(refusal) = aim.refusal(&targets) {
            return Err(ScenarioError::at("aim", format!("{aim}: {refusal}")));
        }
        let fault_phase = world.swarm.clone().unwrap_or_default().fault_phase;
        let timing = AimTiming { interval: world.checkpoint.interval, timeout: world.checkpoint.timeout, fault_phase };
        let mut faults = world.faults.faults.clone();
        faults.extend(aimed_faults(self.seed, aim, &targets, timing));
        Ok(RunSpec { fault_plan: Some(FaultPlan::new(faults)), ..self.clone() })
    }

    /// The fault plan this spec runs: its own, or the scenario's.
    pub fn materialised_plan(&self) -> Result<FaultPlan, ScenarioError> {
        Ok(self.compile()?.world.faults)
    }
}

/// Pass, or the first violated invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Every invariant held.
    Pass,
    /// An invariant failed.
    Fail(Violation),
    /// The simulation panicked: an assertion in the harness, a protocol or an operator
    /// failed. Only a guarded run (`explore::guarded`) reports this; it is a finding too.
    Panicked {
        /// The panic message and, when known, where it was raised.
        message: String,
    },
}

impl Verdict {
    /// The failure's class: the invariant's name, `panic`, or `None` for a pass. Shrinking
    /// keeps a case only while its class stays the same.
    pub fn failure_class(&self) -> Option<String> {
        match self {
            Verdict::Pass => None,
            Verdict::Fail(violation) => Some(violation.invariant.name().to_string()),
            Verdict::Panicked { .. } => Some("panic".to_string()),
        }
    }
}

/// Everything a run reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The seed it ran with.
    pub seed: Seed,
    /// The scenario's checkpoint protocol.
    pub protocol: crate::protocol::ProtocolKind,
    /// The name of the user's protocol that ran instead, if any.
    pub custom_protocol: Option<String>,
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
    /// Records the sources hold in all (each read at least once in a finished run); for a
    /// bank, the transfers in all accounts' series.
    pub source_records: u64,
    /// Whether the job is a bank of accounts (its records are transfers).
    pub bank: bool,
    /// The fault plan it ran (the scenario's, a swarm draw, or a run file's).
    pub plan: FaultPlan,
    /// The trace hash.
    pub trace_hash: TraceHash,
    /// Facts recorded.
    pub fact_count: u64,
    /// The facts themselves, if `keep_facts` was set.
    pub facts: Option<Vec<TimedFact>>,
    /// Which fault struck in which protocol phase (never part of the trace hash).
    pub coverage: crate::coverage::CoverageCounts,
    /// Whether liveness was judged (not with `RunSpec::safety_only`).
    pub liveness_judged: bool,
    /// The checkpoint configuration the seed drew (`[randomize]`), if any.
    pub drawn_config: Option<DrawnConfig>,
}

impl Outcome {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

/// Validates `scenario` and runs it with `seed` (and, with `[swarm]`, the seed's swarm
/// plan): the library entry point for property tests.
pub fn check(scenario: &Scenario, seed: Seed) -> Result<Outcome, ScenarioError> {
    run_spec(&RunSpec::new(scenario.clone(), seed), false)
}

/// Like `check`, with an explicit fault plan in place of the scenario's faults.
pub fn check_with_plan(scenario: &Scenario, seed: Seed, plan: &FaultPlan) -> Result<Outcome, ScenarioError> {
    let spec = RunSpec { fault_plan: Some(plan.clone()), ..RunSpec::new(scenario.clone(), seed) };
    run_spec(&spec, false)
}

/// Runs `scenario` with `seed` under a user's own protocol in place of the scenario's (and
/// `plan` in place of its faults, if given): every checker, fault and sweep applies to it.
pub fn check_with_protocol(
    scenario: &Scenario,
    seed: Seed,
    plan: Option<&FaultPlan>,
    protocol: std::rc::Rc<dyn crate::protocol::ProtocolFactory>,
) -> Result<Outcome, ScenarioError> {
    let options =
        RunOptions { custom_protocol: Some(crate::harness::CustomProtocol(protocol)), ..RunOptions::default() };
    check_with_options(scenario, seed, plan, &options)
}

/// Runs `scenario` with `seed` with a user's own transactional sink in place of the
/// built-in two-phase-commit sink (and `plan` in place of its faults, if given): the
/// end-to-end checks judge it by what a reader of the external system sees.
pub fn check_with_sink(
    scenario: &Scenario,
    seed: Seed,
    plan: Option<&FaultPlan>,
    sink: std::rc::Rc<dyn crate::dataflow::two_phase_sink::SinkFactory>,
) -> Result<Outcome, ScenarioError> {
    let options = RunOptions { custom_sink: Some(crate::harness::CustomSink(sink)), ..RunOptions::default() };
    check_with_options(scenario, seed, plan, &options)
}

/// Validates `scenario` and runs it with `seed`, `plan` in place of its faults if given,
/// under `options` (a user's protocol or sink).
fn check_with_options(
    scenario: &Scenario,
    seed: Seed,
    plan: Option<&FaultPlan>,
    options: &RunOptions,
) -> Result<Outcome, ScenarioError> {
    let spec = RunSpec { fault_plan: plan.cloned(), ..RunSpec::new(scenario.clone(), seed) };
    Ok(run_compiled(&spec.compile()?, seed, options))
}

/// Runs a spec; with `keep_facts` the outcome carries every fact.
pub fn run_spec(spec: &RunSpec, keep_facts: bool) -> Result<Outcome, ScenarioError> {
    let options = RunOptions { keep_facts, plants: spec.plants.clone(), ..RunOptions::default() };
    Ok(run_compiled(&spec.compile()?, spec.seed, &options))
}

/// Runs a compiled scenario with `seed`, with exactly the faults `compiled` holds:
/// `RunSpec::compile` is where a seed's swarm plan is drawn and added.
pub fn run_compiled(compiled: &CompiledScenario, seed: Seed, options: &RunOptions) -> Outcome {
    // Every log event of the run nests in this span, named by its seed.
    let _run = tracing::debug_span!("run", seed = seed.0).entered();
    let oracle = compute_oracle(&compiled.world, seed);
    let source_records = oracle.source_records;
    let mut world = SimWorld::new(compiled.world.clone(), seed, oracle.expected, options.clone());
    let mut scheduler: Scheduler<Event> = Scheduler::new(1024);
    world.start(&mut scheduler);
    let end = run(&mut world, &mut scheduler, compiled.budget);
    let outcome = world.finish(end);
    tracing::debug!(sim_time = %end.now, events = end.events, stop = ?end.stop, "the run ended");
    Outcome {
        seed,
        protocol: compiled.world.protocol,
        custom_protocol: options.custom_protocol.as_ref().map(|custom| custom.0.name().to_string()),
        verdict: outcome.violation.map_or(Verdict::Pass, Verdict::Fail),
        stop: end.stop,
        events: end.events,
        end_time: end.now,
        stats: outcome.stats,
        source_records,
        bank: compiled.world.bank.is_some(),
        plan: compiled.world.faults.clone(),
        trace_hash: outcome.trace_hash,
        fact_count: outcome.fact_count,
        facts: outcome.facts,
        coverage: outcome.coverage,
        liveness_judged: !options.safety_only,
        drawn_config: compiled.drawn.clone(),
    }
}
