//! Swarm testing: each seed draws its own fault mix, then a plan from it.
//!
//! First the profile — which fault kinds are enabled for this seed and how heavily each is
//! weighted (integer ratios), and how many faults — so that some seeds are quiet and some
//! are storms (Groce et al.'s swarm testing, as TigerBeetle's VOPR and FoundationDB's
//! BUGGIFY do it). Then each fault: its kind by weight, its time within the fault phase,
//! its target, its parameters, and — for crashes, one time in four — a protocol step to
//! wait for instead of a bare time. Every draw comes from the run's fault stream, in a fixed
//! order, with integer helpers only, so one seed is one plan on every machine.

use super::{ControlMessage, Fault, FaultPlan, Phase, ScheduledFault};
use crate::dataflow::graph::{JobGraph, TaskRef};
use crate::kernel::ids::{CheckpointId, VertexId};
use crate::kernel::rng::{Seed, SimRng, Stream};
use crate::kernel::time::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// A kind of fault the swarm may enable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// `Fault::CrashTask`.
    #[default]
    CrashTask,
    /// `Fault::CrashCoordinator`.
    CrashCoordinator,
    /// `Fault::StorageUnavailable`.
    StorageUnavailable,
    /// `Fault::SlowStorage`.
    SlowStorage,
    /// `Fault::LoseControlMessages`.
    LoseControlMessages,
    /// `Fault::LatencySpike`.
    LatencySpike,
    /// `Fault::CrashWorker`.
    CrashWorker,
    /// `Fault::Partition`.
    Partition,
    /// `Fault::DelayControlMessages`.
    DelayControlMessages,
    /// `Fault::ExternalUnavailable` (only in jobs with an external sink).
    ExternalUnavailable,
    /// `Fault::AbortTransactions` (only in jobs with an external sink).
    AbortTransactions,
}

impl FaultKind {
    /// Every kind, in the order the swarm draws them.
    pub const ALL: [FaultKind; 11] = [
        FaultKind::CrashTask,
        FaultKind::CrashCoordinator,
        FaultKind::StorageUnavailable,
        FaultKind::SlowStorage,
        FaultKind::LoseControlMessages,
        FaultKind::LatencySpike,
        FaultKind::CrashWorker,
        FaultKind::Partition,
        FaultKind::DelayControlMessages,
        FaultKind::ExternalUnavailable,
        FaultKind::AbortTransactions,
    ];

    /// The kind's name in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::CrashTask => "crash-task",
            FaultKind::CrashCoordinator => "crash-coordinator",
            FaultKind::StorageUnavailable => "storage-unavailable",
            FaultKind::SlowStorage => "slow-storage",
            FaultKind::LoseControlMessages => "lose-control-messages",
            FaultKind::LatencySpike => "latency-spike",
            FaultKind::CrashWorker => "crash-worker",
            FaultKind::Partition => "partition",
            FaultKind::DelayControlMessages => "delay-control-messages",
            FaultKind::ExternalUnavailable => "external-unavailable",
            FaultKind::AbortTransactions => "abort-transactions",
        }
    }

    /// The kind of `fault`.
    pub fn of(fault: &Fault) -> FaultKind {
        match fault {
            Fault::CrashTask { .. } => FaultKind::CrashTask,
            Fault::CrashCoordinator => FaultKind::CrashCoordinator,
            Fault::StorageUnavailable { .. } => FaultKind::StorageUnavailable,
            Fault::SlowStorage { .. } => FaultKind::SlowStorage,
            Fault::LoseControlMessages { .. } => FaultKind::LoseControlMessages,
            Fault::LatencySpike { .. } => FaultKind::LatencySpike,
            Fault::CrashWorker { .. } => FaultKind::CrashWorker,
            Fault::Partition { .. } => FaultKind::Partition,
            Fault::DelayControlMessages { .. } => FaultKind::DelayControlMessages,
            Fault::ExternalUnavailable { .. } => FaultKind::ExternalUnavailable,
            Fault::AbortTransactions => FaultKind::AbortTransactions,
        }
    }

    /// Whether the kind acts on the external system, and so exists only for jobs that
    /// write to it.
    pub fn needs_an_external_sink(self) -> bool {
        matches!(self, FaultKind::ExternalUnavailable | FaultKind::AbortTransactions)
    }
}

/// What the swarm may draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwarmConfig {
    /// At most this many faults per seed.
    pub faults_max: u32,
    /// Faults strike (and phase-triggered ones arm) within `0..fault_phase`.
    pub fault_phase: SimDuration,
    /// The kinds a seed may enable.
    pub kinds: Vec<FaultKind>,
}

impl Default for SwarmConfig {
    /// `[swarm]` with its defaults: up to 6 faults in the first 60 ms, every kind.
    fn default() -> SwarmConfig {
        SwarmConfig { faults_max: 6, fault_phase: SimDuration::from_millis(60), kinds: FaultKind::ALL.to_vec() }
    }
}

/// What faults may name: the job's tasks, its links (sender, receiver) with a channel, and
/// how many workers run them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwarmTargets {
    /// Every task.
    pub tasks: Vec<TaskRef>,
    /// Every pair of tasks joined by a channel, sender first.
    pub links: Vec<(TaskRef, TaskRef)>,
    /// Workers `0..workers`.
    pub workers: u32,
    /// Whether the job writes to the external system (its faults are drawn only then).
    pub external_sinks: bool,
}

impl SwarmTargets {
    /// Every task of `graph` and every linked pair, in `TaskId` and channel order, on
    /// `workers` workers.
    pub fn of(graph: &JobGraph, workers: u32) -> SwarmTargets {
        let tasks: Vec<TaskRef> = graph
            .vertices
            .iter()
            .enumerate()
            .flat_map(|(vertex, spec)| {
                (0..spec.parallelism).map(move |subtask| TaskRef { vertex: VertexId::from_index(vertex), subtask })
            })
            .collect();
        let mut links: Vec<(TaskRef, TaskRef)> = graph
            .expand()
            .channels
            .iter()
            .map(|channel| (tasks[channel.sender.index()], tasks[channel.receiver.index()]))
            .collect();
        links.dedup();
        SwarmTargets { tasks, links, workers, external_sinks: graph.has_external_sink() }
    }
}

/// One seed's fault mix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmProfile {
    /// The enabled kinds and their weights (1..=4), in `FaultKind::ALL` order.
    pub enabled: Vec<(FaultKind, u32)>,
    /// How many faults the plan holds.
    pub fault_count: u32,
}

/// Checkpoint ids a phase-triggered fault may wait for.
const PHASE_CHECKPOINT_MAX: u64 = 8;

/// Draws the profile and the plan of `seed`.
pub fn draw_plan(seed: Seed, config: &SwarmConfig, targets: &SwarmTargets) -> (SwarmProfile, FaultPlan) {
    let mut rng = SimRng::open(seed, Stream::Faults);
    let enabled: Vec<(FaultKind, u32)> = FaultKind::ALL
        .iter()
        .filter(|kind| config.kinds.contains(kind))
        // Dropped before any draw, so that jobs without an external sink draw the plans
        // they drew before these kinds existed.
        .filter(|kind| !kind.needs_an_external_sink() || targets.external_sinks)
        .filter_map(|&kind| {
            let on = rng.chance(1, 2);
            let weight = u32::try_from(rng.in_range(1, 4)).expect("below 5");
            (on && kind_has_targets(kind, targets)).then_some((kind, weight))
        })
        .collect();
    let drawn_count = u32::try_from(rng.below(u64::from(config.faults_max) + 1)).expect("below a u32");
    let fault_count = if enabled.is_empty() { 0 } else { drawn_count };
    let total_weight: u64 = enabled.iter().map(|&(_, weight)| u64::from(weight)).sum();
    let phase_nanos = config.fault_phase.as_nanos().max(1);
    let faults = (0..fault_count)
        .map(|_| {
            let mut pick = rng.below(total_weight.max(1));
            let kind = enabled
                .iter()
                .find(|&&(_, weight)| {
                    let hit = pick < u64::from(weight);
                    pick = pick.saturating_sub(u64::from(weight));
                    hit
                })
                .map_or(FaultKind::CrashTask, |&(kind, _)| kind);
            let at = SimTime::from_nanos(rng.below(phase_nanos));
            draw_fault(&mut rng, kind, at, phase_nanos, targets)
        })
        .collect();
    (SwarmProfile { enabled, fault_count }, FaultPlan::new(faults))
}

fn kind_has_targets(kind: FaultKind, targets: &SwarmTargets) -> bool {
    match kind {
        FaultKind::CrashTask => !targets.tasks.is_empty(),
        FaultKind::LatencySpike => !targets.links.is_empty(),
        FaultKind::CrashWorker => targets.workers > 0,
        FaultKind::Partition => targets.workers > 1,
        _ => true,
    }
}

/// One fault of `kind` at `at`: its target and parameters, then maybe a phase to wait for.
fn draw_fault(
    rng: &mut SimRng,
    kind: FaultKind,
    at: SimTime,
    phase_nanos: u64,
    targets: &SwarmTargets,
) -> ScheduledFault {
    let pick = |rng: &mut SimRng, count: usize| usize::try_from(rng.below(count as u64)).expect("an index");
    // Windows last up to a quarter of the fault phase, at least a microsecond.
    let window = |rng: &mut SimRng| SimDuration::from_nanos(rng.in_range(1_000, (phase_nanos / 4).max(1_000)));
    let fault = match kind {
        FaultKind::CrashTask => Fault::CrashTask { task: targets.tasks[pick(rng, targets.tasks.len())] },
        FaultKind::CrashCoordinator => Fault::CrashCoordinator,
        FaultKind::StorageUnavailable => Fault::StorageUnavailable { duration: window(rng) },
        FaultKind::SlowStorage => {
            let factor = u32::try_from(rng.in_range(2, 20)).expect("below 21");
            Fault::SlowStorage { factor, duration: window(rng) }
        }
        FaultKind::LoseControlMessages => {
            let kind = ControlMessage::ALL[pick(rng, ControlMessage::ALL.len())];
            Fault::LoseControlMessages { kind, count: u32::try_from(rng.in_range(1, 3)).expect("below 4") }
        }
        FaultKind::LatencySpike => {
            let (from, to) = targets.links[pick(rng, targets.links.len())];
            let extra = SimDuration::from_nanos(rng.in_range(100_000, 20_000_000));
            Fault::LatencySpike { from, to, extra, duration: window(rng) }
        }
        FaultKind::CrashWorker => {
            Fault::CrashWorker { worker: u32::try_from(rng.below(u64::from(targets.workers))).expect("a worker") }
        }
        FaultKind::Partition => {
            let a = u32::try_from(rng.below(u64::from(targets.workers))).expect("a worker");
            let other = u32::try_from(rng.below(u64::from(targets.workers - 1))).expect("a worker");
            let b = if other >= a { other + 1 } else { other };
            Fault::Partition { a, b, one_way: rng.chance(1, 2), duration: window(rng) }
        }
        FaultKind::DelayControlMessages => {
            let kind = ControlMessage::ALL[pick(rng, ControlMessage::ALL.len())];
            let count = u32::try_from(rng.in_range(1, 3)).expect("below 4");
            Fault::DelayControlMessages {
                kind,
                count,
                extra: SimDuration::from_nanos(rng.in_range(100_000, 30_000_000)),
            }
        }
        FaultKind::ExternalUnavailable => Fault::ExternalUnavailable { duration: window(rng) },
        FaultKind::AbortTransactions => Fault::AbortTransactions,
    };
    let after = match kind {
        FaultKind::CrashTask | FaultKind::CrashCoordinator if rng.chance(1, 4) => Some(draw_phase(rng, targets)),
        _ => None,
    };
    ScheduledFault { at, fault, after }
}

fn draw_phase(rng: &mut SimRng, targets: &SwarmTargets) -> Phase {
    let checkpoint = CheckpointId(rng.in_range(1, PHASE_CHECKPOINT_MAX));
    let task = targets.tasks.get(rng.below(targets.tasks.len().max(1) as u64) as usize).copied();
    match (rng.below(4), task) {
        (0, Some(task)) => Phase::StateCaptured { task, checkpoint },
        (1, Some(task)) => Phase::Acknowledged { task, checkpoint },
        (2, _) => Phase::MetadataWriteBegun { checkpoint },
        _ => Phase::Completed { checkpoint },
    }
}
