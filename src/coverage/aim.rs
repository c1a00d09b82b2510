//! Guided fault generation: aim a seed's extra fault at a coverage cell not yet hit.
//!
//! An `Aim` is a cell — a protocol phase and a strike. `aimed_faults` turns it into one or
//! two faults: the fault that leaves that strike, waiting for the protocol step that opens
//! the phase (`Phase::InputBlocked` for alignment, `Phase::MetadataWriteBegun` for the
//! metadata write, …). A guided sweep adds them to each seed's swarm plan, choosing aims
//! from the cells its earlier chunks left unhit (`choose_aims`). Aims are drawn from their
//! own sub-stream of the fault stream, so the swarm's draws are the same with or without
//! one, and `snapsim run --aim PHASE/STRIKE` rebuilds a guided seed's plan exactly.

use super::{ProtocolPhase, Strike};
use crate::faults::swarm::{FaultKind, SwarmConfig, SwarmTargets};
use crate::faults::{ControlMessage, Fault, Phase, ScheduledFault};
use crate::kernel::ids::CheckpointId;
use crate::kernel::rng::{Seed, SimRng, Stream};
use crate::kernel::time::{SimDuration, SimTime};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A coverage cell to aim a fault at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Aim {
    /// The phase the fault should strike in.
    pub phase: ProtocolPhase,
    /// What the fault should do.
    pub strike: Strike,
}

/// The job's timing an aim needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AimTiming {
    /// The checkpoint interval.
    pub interval: SimDuration,
    /// The checkpoint timeout.
    pub timeout: SimDuration,
    /// Faults arm within `0..fault_phase`.
    pub fault_phase: SimDuration,
}

/// The sub-stream of `Stream::Faults` aims draw from (entity 0 is the swarm's).
const AIM_ENTITY: u32 = 1;

/// Checkpoint ids an aimed fault may wait for (low: later ones may never come).
const AIM_CHECKPOINT_MAX: u64 = 6;

impl Aim {
    /// Whether a protocol step opens `phase`, so a fault can be made to wait for it.
    pub fn phase_is_aimable(phase: ProtocolPhase) -> bool {
        !matches!(phase, ProtocolPhase::SavepointPending | ProtocolPhase::Ending)
    }

    /// The swarm kinds that can leave `strike` (any one enabled will do).
    fn kinds_for(strike: Strike) -> &'static [FaultKind] {
        match strike {
            Strike::CrashTask => &[FaultKind::CrashTask],
            Strike::CrashWorker => &[FaultKind::CrashWorker],
            Strike::CrashCoordinator => &[FaultKind::CrashCoordinator],
            Strike::WriteFailed => &[FaultKind::StorageUnavailable],
            Strike::CheckpointExpired => &[FaultKind::SlowStorage, FaultKind::LatencySpike],
            Strike::TriggerLost
            | Strike::AcknowledgementLost
            | Strike::DeclineLost
            | Strike::AbortNoticeLost
            | Strike::CompletionNoticeLost => &[FaultKind::LoseControlMessages],
            Strike::ControlMessageDelayed => &[FaultKind::DelayControlMessages],
            Strike::ChannelBroken => &[FaultKind::Partition],
            Strike::LatencySpike => &[FaultKind::LatencySpike],
            Strike::SlowStorage => &[FaultKind::SlowStorage],
            Strike::ExternalCallFailed => &[FaultKind::ExternalUnavailable],
            Strike::TransactionsAborted => &[FaultKind::AbortTransactions],
        }
    }

    /// Whether the swarm `config` allows `strike` and the job has something for it to hit.
    fn strike_is_available(strike: Strike, config: &SwarmConfig, targets: &SwarmTargets) -> bool {
        let kind_allowed = Aim::kinds_for(strike)
            .iter()
            .any(|kind| config.kinds.contains(kind) && (!kind.needs_an_external_sink() || targets.external_sinks));
        let has_targets = match strike {
            Strike::CrashTask => !targets.tasks.is_empty(),
            Strike::CrashWorker => targets.workers > 0,
            Strike::ChannelBroken => targets.workers > 1,
            Strike::LatencySpike => !targets.links.is_empty(),
            _ => true,
        };
        kind_allowed && has_targets
    }

    /// Why this job cannot take the aim, if it cannot: its phase is not opened by a step,
    /// no run can hit the cell, or the job has nothing for the strike to hit.
    pub fn refusal(&self, targets: &SwarmTargets) -> Option<String> {
        if !Aim::phase_is_aimable(self.phase) {
            return Some(format!("no protocol step opens {}, so nothing can wait for it", self.phase.name()));
        }
        if super::impossible(self.phase, self.strike) {
            return Some("no run can hit this cell".to_string());
        }
        let every_kind = SwarmConfig::default();
        (!Aim::strike_is_available(self.strike, &every_kind, targets))
            .then(|| format!("the job has nothing for {} to strike", self.strike.name()))
    }

    /// Every cell a guided sweep may aim at, in matrix order (strike-major).
    pub fn candidates(config: &SwarmConfig, targets: &SwarmTargets) -> Vec<Aim> {
        Strike::ALL
            .into_iter()
            .filter(|&strike| Aim::strike_is_available(strike, config, targets))
            .flat_map(|strike| {
                ProtocolPhase::ALL
                    .into_iter()
                    .filter(move |&phase| Aim::phase_is_aimable(phase) && !super::impossible(phase, strike))
                    .map(move |phase| Aim { phase, strike })
            })
            .collect()
    }
}

/// The fault (or faults) that aim `aim` in the run of `seed`.
pub fn aimed_faults(seed: Seed, aim: Aim, targets: &SwarmTargets, timing: AimTiming) -> Vec<ScheduledFault> {
    let mut rng = SimRng::open_entity(seed, Stream::Faults, AIM_ENTITY);
    let phase_nanos = timing.fault_phase.as_nanos().max(1);
    let at = SimTime::from_nanos(rng.below(phase_nanos));
    let fault = fault_for(&mut rng, aim, targets, timing);
    let checkpoint = CheckpointId(rng.in_range(1, AIM_CHECKPOINT_MAX));
    let pick_task = |rng: &mut SimRng| targets.tasks[rng.below(targets.tasks.len() as u64) as usize];
    let scheduled = |at: SimTime, after: Option<Phase>| ScheduledFault { at, fault, after };
    match aim.phase {
        ProtocolPhase::BeforeFirstCheckpoint => {
            let at = SimTime::from_nanos(rng.below(timing.interval.as_nanos().max(1)));
            vec![scheduled(at, None)]
        }
        ProtocolPhase::NoCheckpointPending | ProtocolPhase::NotifyingCompletion => {
            vec![scheduled(at, Some(Phase::Completed { checkpoint }))]
        }
        ProtocolPhase::BarriersInFlight | ProtocolPhase::RecordingChannelState | ProtocolPhase::UploadingState => {
            let task = pick_task(&mut rng);
            vec![scheduled(at, Some(Phase::StateCaptured { task, checkpoint }))]
        }
        ProtocolPhase::Aligning => {
            // Only a task with two inputs or more stays blocked past the barrier's event.
            let aligners = aligning_tasks(targets);
            let task = aligners[rng.below(aligners.len() as u64) as usize];
            vec![scheduled(at, Some(Phase::InputBlocked { task, checkpoint }))]
        }
        ProtocolPhase::MetadataWrite | ProtocolPhase::PreCommitted => {
            vec![scheduled(at, Some(Phase::MetadataWriteBegun { checkpoint }))]
        }
        ProtocolPhase::Recovering | ProtocolPhase::SavepointPending | ProtocolPhase::Ending => {
            // A crash first, then the strike right after the restart it causes.
            let crash = Fault::CrashTask { task: pick_task(&mut rng) };
            vec![ScheduledFault { at, fault: crash, after: None }, scheduled(at, Some(Phase::Restarted))]
        }
    }
}

/// The tasks with inputs from two senders or more (every task, if none has).
fn aligning_tasks(targets: &SwarmTargets) -> Vec<crate::dataflow::graph::TaskRef> {
    let mut senders: BTreeMap<crate::dataflow::graph::TaskRef, usize> = BTreeMap::new();
    for &(_, receiver) in &targets.links {
        *senders.entry(receiver).or_default() += 1;
    }
    let aligners: Vec<_> = senders.into_iter().filter(|&(_, count)| count >= 2).map(|(task, _)| task).collect();
    if aligners.is_empty() { targets.tasks.clone() } else { aligners }
}

/// The fault that leaves `aim.strike`.
fn fault_for(rng: &mut SimRng, aim: Aim, targets: &SwarmTargets, timing: AimTiming) -> Fault {
    let pick = |rng: &mut SimRng, count: usize| usize::try_from(rng.below(count.max(1) as u64)).expect("an index");
    // Short windows: long enough to catch the step in flight, short enough to end soon.
    let window = SimDuration::from_nanos(rng.in_range(1_000_000, 20_000_000));
    let lose = |kind: ControlMessage| Fault::LoseControlMessages { kind, count: 1 };
    match aim.strike {
        Strike::CrashTask => Fault::CrashTask { task: targets.tasks[pick(rng, targets.tasks.len())] },
        Strike::CrashWorker => Fault::CrashWorker { worker: pick(rng, targets.workers as usize) as u32 },
        Strike::CrashCoordinator => Fault::CrashCoordinator,
        Strike::WriteFailed => Fault::StorageUnavailable { duration: window },
        Strike::CheckpointExpired => expiring_fault(rng, aim.phase, targets, timing),
        Strike::TriggerLost => lose(ControlMessage::Trigger),
        Strike::AcknowledgementLost => lose(ControlMessage::Acknowledgement),
        Strike::DeclineLost => lose(ControlMessage::Decline),
        Strike::AbortNoticeLost => lose(ControlMessage::AbortNotice),
        Strike::CompletionNoticeLost => lose(ControlMessage::CompletionNotice),
        Strike::ControlMessageDelayed => Fault::DelayControlMessages {
            kind: ControlMessage::ALL[pick(rng, ControlMessage::ALL.len())],
            count: 1,
            extra: SimDuration::from_nanos(rng.in_range(1_000_000, 30_000_000)),
        },
        Strike::ChannelBroken => {
            let a = pick(rng, targets.workers as usize) as u32;
            let b = (a + 1 + pick(rng, targets.workers.saturating_sub(1) as usize) as u32) % targets.workers.max(1);
            Fault::Partition { a, b, one_way: false, duration: window }
        }
        Strike::LatencySpike => {
            let (from, to) = targets.links[pick(rng, targets.links.len())];
            Fault::LatencySpike { from, to, extra: SimDuration::from_nanos(5_000_000), duration: window }
        }
        Strike::SlowStorage => Fault::SlowStorage { factor: 10, duration: window },
        Strike::ExternalCallFailed => Fault::ExternalUnavailable { duration: window },
        Strike::TransactionsAborted => Fault::AbortTransactions,
    }
}

/// A fault that holds a checkpoint past its timeout in `phase`: storage slowed for the
/// phases that write, a link slowed for those that wait on barriers.
fn expiring_fault(rng: &mut SimRng, phase: ProtocolPhase, targets: &SwarmTargets, timing: AimTiming) -> Fault {
    let past_timeout = timing.timeout.plus(timing.timeout);
    let writes = matches!(phase, ProtocolPhase::UploadingState | ProtocolPhase::MetadataWrite);
    if writes || targets.links.is_empty() {
        return Fault::SlowStorage { factor: 1_000, duration: past_timeout };
    }
    let (from, to) = targets.links[rng.below(targets.links.len() as u64) as usize];
    Fault::LatencySpike { from, to, extra: past_timeout, duration: past_timeout }
}

/// Aims for the next `count` seeds of a guided sweep: the `candidates` not yet hit in
/// `hit` (a cell counts as hit once it has a hit), skipping cells aimed at `give_up_after`
/// times already without a hit, taken in turn from `rotation`. `None` once every candidate
/// is hit or given up: those seeds run the plain swarm.
pub fn choose_aims(
    candidates: &[Aim],
    hit: &dyn Fn(Aim) -> bool,
    tries: &mut BTreeMap<Aim, u32>,
    give_up_after: u32,
    count: usize,
) -> Vec<Option<Aim>> {
    let open: Vec<Aim> = candidates
        .iter()
        .copied()
        .filter(|&aim| !hit(aim) && tries.get(&aim).copied().unwrap_or(0) < give_up_after)
        .collect();
    (0..count)
        .map(|position| {
            let aim = *open.get(position % open.len().max(1))?;
            *tries.entry(aim).or_default() += 1;
            Some(aim)
        })
        .collect()
}

impl fmt::Display for Aim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.phase.name(), self.strike.name())
    }
}

impl FromStr for Aim {
    type Err = String;

    /// `PHASE/STRIKE`, e.g. `aligning/crash-task`.
    fn from_str(text: &str) -> Result<Aim, String> {
        let (phase, strike) = text.split_once('/').ok_or_else(|| format!("`{text}` is not PHASE/STRIKE"))?;
        let phase = ProtocolPhase::ALL.into_iter().find(|candidate| candidate.name() == phase).ok_or_else(|| {
            let names: Vec<&str> = ProtocolPhase::ALL.iter().map(|phase| phase.name()).collect();
            format!("`{phase}` is not a phase (one of {})", names.join(", "))
        })?;
        let strike = Strike::ALL.into_iter().find(|candidate| candidate.name() == strike).ok_or_else(|| {
            let names: Vec<&str> = Strike::ALL.iter().map(|strike| strike.name()).collect();
            format!("`{strike}` is not a strike (one of {})", names.join(", "))
        })?;
        Ok(Aim { phase, strike })
    }
}
