//! Validation of `[[faults]]` and `[swarm]`: each fault's kind-specific fields, its targets
//! resolved against the graph, and the swarm settings.

use super::ScenarioError;
use super::compile::{micros, millis, resolve_task};
use super::file::{FaultKindName, FaultSection, PhaseName, Scenario};
use crate::dataflow::graph::{JobGraph, TaskRef};
use crate::faults::swarm::SwarmConfig;
use crate::faults::{Fault, FaultPlan, Phase, ScheduledFault};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::{SimDuration, SimTime};

/// The largest slow-storage factor and lost-message count: beyond them a fault is an outage,
/// which other kinds model.
const FACTOR_MAX: u32 = 1_000;
const COUNT_MAX: u32 = 1_000;

impl Scenario {
    pub(super) fn compile_faults(&self, graph: &JobGraph) -> Result<FaultPlan, ScenarioError> {
        let external = graph.has_external_sink();
        if let Some(index) = self.faults.iter().position(|fault| fault.kind.needs_an_external_sink() && !external) {
            let message = format!("{} needs a job with an external sink", self.faults[index].kind.name());
            return Err(ScenarioError::at(format!("faults[{index}].kind"), message));
        }
        let faults = self
            .faults
            .iter()
            .enumerate()
            .map(|(index, fault)| compile_fault(graph, self.cluster.workers, index, fault))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FaultPlan::new(faults))
    }

    /// The worker of every task (`TaskId` order): the scenario's placement, or round robin.
    pub(super) fn compile_placement(&self, task_count: usize) -> Result<Vec<u32>, ScenarioError> {
        let cluster = &self.cluster;
        if !(1..=10_000).contains(&cluster.workers) {
            return Err(ScenarioError::at("cluster.workers", "must lie in 1..=10000"));
        }
        let Some(placement) = &cluster.placement else {
            return Ok((0..task_count).map(|task| (task % cluster.workers as usize) as u32).collect());
        };
        if placement.len() != task_count {
            let message = format!("places {} tasks, but the job has {task_count}", placement.len());
            return Err(ScenarioError::at("cluster.placement", message));
        }
        if let Some(index) = placement.iter().position(|&worker| worker >= cluster.workers) {
            let message = format!("no worker {}: the cluster has {}", placement[index], cluster.workers);
            return Err(ScenarioError::at(format!("cluster.placement[{index}]"), message));
        }
        Ok(placement.clone())
    }

    /// The swarm settings, if the scenario has `[swarm]`.
    pub(super) fn compile_swarm(&self) -> Result<Option<SwarmConfig>, ScenarioError> {
        let Some(swarm) = &self.swarm else { return Ok(None) };
        if swarm.fault_phase_ms == 0 {
            return Err(ScenarioError::at("swarm.fault_phase_ms", "must be at least 1"));
        }
        if swarm.faults_max > 1_000 {
            return Err(ScenarioError::at("swarm.faults_max", "must be at most 1000"));
        }
        Ok(Some(SwarmConfig {
            faults_max: swarm.faults_max,
            fault_phase: millis("swarm.fault_phase_ms", swarm.fault_phase_ms)?,
            kinds: swarm.kinds.clone(),
        }))
    }
}

fn compile_fault(
    graph: &JobGraph,
    workers: u32,
    index: usize,
    section: &FaultSection,
) -> Result<ScheduledFault, ScenarioError> {
    let field = |name: &str| format!("faults[{index}].{name}");
    let kind = section.kind.name();
    let needs = |name: &str| ScenarioError::at(field(name), format!("a {kind} fault needs it"));
    let task_at = |name: &str, reference: &Option<String>| -> Result<TaskRef, ScenarioError> {
        let reference = reference.as_deref().ok_or_else(|| needs(name))?;
        resolve_task(graph, reference).map_err(|message| ScenarioError::at(field(name), message))
    };
    let duration = || -> Result<_, ScenarioError> {
        let value = section.duration_ms.ok_or_else(|| needs("duration_ms"))?;
        if value == 0 {
            return Err(ScenarioError::at(field("duration_ms"), "must be at least 1"));
        }
        millis(&field("duration_ms"), value)
    };
    let at = SimTime::ZERO.after(millis(&field("at_ms"), section.at_ms)?);
    let mut used = vec!["kind", "at_ms"];
    let fault = match section.kind {
        FaultKindName::CrashTask => {
            used.push("task");
            Fault::CrashTask { task: task_at("task", &section.task)? }
        }
        FaultKindName::CrashCoordinator => Fault::CrashCoordinator,
        FaultKindName::StorageUnavailable | FaultKindName::ExternalUnavailable => {
            used.push("duration_ms");
            let duration = duration()?;
            match section.kind {
                FaultKindName::StorageUnavailable => Fault::StorageUnavailable { duration },
                _ => Fault::ExternalUnavailable { duration },
            }
        }
        FaultKindName::SlowStorage => {
            used.extend(["duration_ms", "factor"]);
            let factor = section.factor.ok_or_else(|| needs("factor"))?;
            if !(2..=FACTOR_MAX).contains(&factor) {
                return Err(ScenarioError::at(field("factor"), format!("must lie in 2..={FACTOR_MAX}")));
            }
            Fault::SlowStorage { factor, duration: duration()? }
        }
        FaultKindName::LoseControlMessages => {
            used.extend(["message", "count"]);
            let (kind, count) = control_messages(section, &field)?;
            Fault::LoseControlMessages { kind, count }
        }
        FaultKindName::LatencySpike => {
            used.extend(["task", "to", "extra_us", "duration_ms"]);
            let (from, to) = (task_at("task", &section.task)?, task_at("to", &section.to)?);
            let extra = micros(&field("extra_us"), section.extra_us.ok_or_else(|| needs("extra_us"))?)?;
            Fault::LatencySpike { from, to, extra, duration: duration()? }
        }
        FaultKindName::CrashWorker | FaultKindName::Partition => {
            used.extend(["worker", "to_worker", "one_way", "duration_ms"]);
            compile_worker_fault(section, workers, &field, duration)?
        }
        FaultKindName::DelayControlMessages => {
            used.extend(["message", "count", "extra_us"]);
            let (kind, count) = control_messages(section, &field)?;
            let extra = micros(&field("extra_us"), section.extra_us.ok_or_else(|| needs("extra_us"))?)?;
            Fault::DelayControlMessages { kind, count, extra }
        }
        FaultKindName::AbortTransactions => Fault::AbortTransactions,
    };
    if section.after.is_some() {
        used.extend(["after", "checkpoint", "phase_task"]);
    }
    let after = section.after.map(|phase| compile_phase(graph, index, section, phase)).transpose()?;
    refuse_stray_fields(section, &used)
        .map_err(|name| ScenarioError::at(field(name), format!("does not apply to a {kind} fault")))?;
    Ok(ScheduledFault { at, fault, after })
}

/// Which control messages, and how many (default 1).
fn control_messages(
    section: &FaultSection,
    field: &dyn Fn(&str) -> String,
) -> Result<(crate::faults::ControlMessage, u32), ScenarioError> {
    let needs = format!("a {} fault needs it", section.kind.name());
    let kind = section.message.ok_or_else(|| ScenarioError::at(field("message"), needs))?;
    let count = section.count.unwrap_or(1);
    if !(1..=COUNT_MAX).contains(&count) {
        return Err(ScenarioError::at(field("count"), format!("must lie in 1..={COUNT_MAX}")));
    }
    Ok((kind, count))
}

/// A fault on workers: a crash of one, or a partition between two.
fn compile_worker_fault(
    section: &FaultSection,
    workers: u32,
    field: &dyn Fn(&str) -> String,
    duration: impl Fn() -> Result<SimDuration, ScenarioError>,
) -> Result<Fault, ScenarioError> {
    let kind = section.kind.name();
    let worker_at = |name: &str, worker: Option<u32>| -> Result<u32, ScenarioError> {
        let worker = worker.ok_or_else(|| ScenarioError::at(field(name), format!("a {kind} fault needs it")))?;
        if worker >= workers {
            return Err(ScenarioError::at(field(name), format!("no worker {worker}: the cluster has {workers}")));
        }
        Ok(worker)
    };
    if section.kind == FaultKindName::CrashWorker {
        if let Some(name) = [("to_worker", section.to_worker.is_some()), ("one_way", section.one_way.is_some())]
            .into_iter()
            .chain([("duration_ms", section.duration_ms.is_some())])
            .find_map(|(name, set)| set.then_some(name))
        {
            return Err(ScenarioError::at(field(name), format!("does not apply to a {kind} fault")));
        }
        return Ok(Fault::CrashWorker { worker: worker_at("worker", section.worker)? });
    }
    let (a, b) = (worker_at("worker", section.worker)?, worker_at("to_worker", section.to_worker)?);
    if a == b {
        return Err(ScenarioError::at(field("to_worker"), "a partition needs two different workers"));
    }
    Ok(Fault::Partition { a, b, one_way: section.one_way.unwrap_or(false), duration: duration()? })
}

/// The protocol step a crash waits for.
fn compile_phase(
    graph: &JobGraph,
    index: usize,
    section: &FaultSection,
    phase: PhaseName,
) -> Result<Phase, ScenarioError> {
    let field = |name: &str| format!("faults[{index}].{name}");
    let kind = section.kind.name();
    if !matches!(section.kind, FaultKindName::CrashTask | FaultKindName::CrashCoordinator) {
        return Err(ScenarioError::at(field("after"), "only crashes wait for a protocol step"));
    }
    let needs = |name: &str| ScenarioError::at(field(name), format!("a {kind} fault with `after` needs it"));
    if phase == PhaseName::Restarted {
        return Ok(Phase::Restarted); // Any restart: no checkpoint or task to name.
    }
    let checkpoint = CheckpointId(section.checkpoint.ok_or_else(|| needs("checkpoint"))?);
    let phase_task = || {
        let (name, reference) = match (&section.phase_task, &section.task) {
            (Some(reference), _) => ("phase_task", reference),
            (None, Some(reference)) => ("task", reference),
            (None, None) => return Err(needs("phase_task")),
        };
        resolve_task(graph, reference).map_err(|message| ScenarioError::at(field(name), message))
    };
    Ok(match phase {
        PhaseName::StateCaptured => Phase::StateCaptured { task: phase_task()?, checkpoint },
        PhaseName::Acknowledged => Phase::Acknowledged { task: phase_task()?, checkpoint },
        PhaseName::MetadataWriteBegun => Phase::MetadataWriteBegun { checkpoint },
        PhaseName::Completed => Phase::Completed { checkpoint },
        PhaseName::InputBlocked => Phase::InputBlocked { task: phase_task()?, checkpoint },
        PhaseName::Restarted => Phase::Restarted,
    })
}

/// The first field set that the fault's kind does not use.
fn refuse_stray_fields(section: &FaultSection, used: &[&str]) -> Result<(), &'static str> {
    let present = [
        ("task", section.task.is_some()),
        ("duration_ms", section.duration_ms.is_some()),
        ("factor", section.factor.is_some()),
        ("message", section.message.is_some()),
        ("count", section.count.is_some()),
        ("to", section.to.is_some()),
        ("extra_us", section.extra_us.is_some()),
        ("after", section.after.is_some()),
        ("checkpoint", section.checkpoint.is_some()),
        ("phase_task", section.phase_task.is_some()),
        ("worker", section.worker.is_some()),
        ("to_worker", section.to_worker.is_some()),
        ("one_way", section.one_way.is_some()),
    ];
    match present.into_iter().find(|&(name, set)| set && !used.contains(&name)) {
        Some((name, _)) => Err(name),
        None => Ok(()),
    }
}
