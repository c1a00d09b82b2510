//! Reads the protocol phase off the facts as they are recorded, and counts each fault's
//! strike in the phases that held just before it.
//!
//! Judged from facts alone, like the checkers: pending checkpoints from `CheckpointTriggered`
//! to their completion or abort, blocked inputs from `InputBlocked` to `InputsUnblocked`,
//! state uploads from `StateCaptured` to their object's durability, and so on. A restart
//! forgets what the restarted tasks were doing.

use super::{CoverageCounts, ProtocolPhase, Strike};
use crate::faults::Fault;
use crate::kernel::ids::{CheckpointId, TaskId, TransactionId};
use crate::kernel::trace::{AbortReason, ExternalError, Fact, ObjectName, TransactionAbort};
use std::collections::{BTreeMap, BTreeSet};

/// What the tracker knows of a pending checkpoint.
#[derive(Clone, Debug, Default)]
struct Pending {
    captured: BTreeSet<TaskId>,
    acknowledged: BTreeSet<TaskId>,
    savepoint: bool,
}

/// The run's coverage so far.
#[derive(Clone, Debug)]
pub struct CoverageTracker {
    /// For `FaultInjected { index }`: the strike fault `index` of the plan is, if counted
    /// at its start (the others are counted by the facts they leave).
    injected: Vec<Option<Strike>>,
    /// Tasks of each stage of the job.
    stage_sizes: Vec<usize>,
    stage: usize,
    completed_any: bool,
    pending: BTreeMap<CheckpointId, Pending>,
    blocked: BTreeSet<TaskId>,
    recording: BTreeSet<(TaskId, CheckpointId)>,
    uploading: BTreeSet<(TaskId, CheckpointId)>,
    notified: Option<(CheckpointId, BTreeSet<TaskId>)>,
    prepared: BTreeSet<TransactionId>,
    recovering: bool,
    ended: BTreeSet<TaskId>,
    /// The previous fact was the cause of a crash that follows (a worker crash, a broken
    /// channel, a failed external call): that crash is not counted again.
    crash_explained: bool,
    /// The previous fact was a strike of this kind: a burst counts once.
    last_strike: Option<Strike>,
    counts: CoverageCounts,
}

impl CoverageTracker {
    /// A tracker for a run of `faults` over a job whose stages have `stage_sizes` tasks.
    pub fn new(faults: &[crate::faults::ScheduledFault], stage_sizes: Vec<usize>) -> CoverageTracker {
        let injected = faults
            .iter()
            .map(|scheduled| match scheduled.fault {
                Fault::LatencySpike { .. } => Some(Strike::LatencySpike),
                Fault::SlowStorage { .. } => Some(Strike::SlowStorage),
                _ => None,
            })
            .collect();
        CoverageTracker {
            injected,
            stage_sizes,
            stage: 0,
            completed_any: false,
            pending: BTreeMap::new(),
            blocked: BTreeSet::new(),
            recording: BTreeSet::new(),
            uploading: BTreeSet::new(),
            notified: None,
            prepared: BTreeSet::new(),
            recovering: false,
            ended: BTreeSet::new(),
            crash_explained: false,
            last_strike: None,
            counts: CoverageCounts::default(),
        }
    }

    /// The coverage counted so far.
    pub fn counts(&self) -> &CoverageCounts {
        &self.counts
    }

    /// Hands back the coverage.
    pub fn into_counts(self) -> CoverageCounts {
        self.counts
    }

    /// Observes one fact: counts it if it is a strike, then follows the phase.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) {
        if fact.is_data_path()
            || matches!(
                fact,
                Fact::PartitionRead { .. }
                    | Fact::TransactionWrite { .. }
                    | Fact::ExternalAppend { .. }
                    | Fact::ExternalUpsert { .. }
            )
        {
            return; // Data traffic: the hot path, and no phase changes on it.
        }
        let strike = self.strike_of(fact);
        if let Some(strike) = strike
            && self.last_strike != Some(strike)
        {
            let phases = self.phases_now();
            self.counts.count(strike, phases);
        }
        self.last_strike = strike;
        self.crash_explained = matches!(
            fact,
            Fact::WorkerCrashed { .. }
                | Fact::ChannelBroken { .. }
                | Fact::ExternalCallFailed { .. }
                | Fact::CheckpointFailuresExceeded { .. }
                | Fact::CoordinatorCrashed
        ) || (self.crash_explained && matches!(fact, Fact::TaskCrashed { .. }));
        self.follow(fact);
        self.counts.phases_seen |= self.phases_now();
    }

    /// The strike `fact` records, if it is one.
    fn strike_of(&self, fact: &Fact) -> Option<Strike> {
        match *fact {
            Fact::TaskCrashed { .. } if !self.crash_explained => Some(Strike::CrashTask),
            Fact::WorkerCrashed { .. } => Some(Strike::CrashWorker),
            Fact::CoordinatorCrashed => Some(Strike::CrashCoordinator),
            Fact::WriteFailed { .. } => Some(Strike::WriteFailed),
            Fact::CheckpointAborted { reason: AbortReason::Expired, .. } => Some(Strike::CheckpointExpired),
            Fact::ControlMessageLost { kind, .. } => Some(match kind {
                0 => Strike::TriggerLost,
                1 => Strike::AcknowledgementLost,
                2 => Strike::DeclineLost,
                3 => Strike::AbortNoticeLost,
                _ => Strike::CompletionNoticeLost,
            }),
            Fact::ControlMessageDelayed { .. } => Some(Strike::ControlMessageDelayed),
            Fact::ChannelBroken { .. } => Some(Strike::ChannelBroken),
            Fact::FaultInjected { index } => self.injected.get(index as usize).copied().flatten(),
            Fact::ExternalCallFailed { error: ExternalError::Unavailable, .. } => Some(Strike::ExternalCallFailed),
            Fact::TransactionAborted { cause: TransactionAbort::Injected, .. } => Some(Strike::TransactionsAborted),
            _ => None,
        }
    }

    /// The phases that hold now, as a bit set.
    fn phases_now(&self) -> u16 {
        let tasks = self.stage_sizes.get(self.stage).copied().unwrap_or(0);
        let holds = [
            (ProtocolPhase::BeforeFirstCheckpoint, !self.completed_any),
            (ProtocolPhase::NoCheckpointPending, self.pending.is_empty()),
            (ProtocolPhase::BarriersInFlight, self.pending.values().any(|pending| pending.captured.len() < tasks)),
            (ProtocolPhase::Aligning, !self.blocked.is_empty()),
            (ProtocolPhase::RecordingChannelState, !self.recording.is_empty()),
            (ProtocolPhase::UploadingState, !self.uploading.is_empty()),
            (ProtocolPhase::MetadataWrite, self.pending.values().any(|pending| pending.acknowledged.len() >= tasks)),
            (ProtocolPhase::NotifyingCompletion, self.notified.as_ref().is_some_and(|(_, heard)| heard.len() < tasks)),
            (ProtocolPhase::PreCommitted, !self.prepared.is_empty()),
            (ProtocolPhase::Recovering, self.recovering),
            (ProtocolPhase::SavepointPending, self.pending.values().any(|pending| pending.savepoint)),
            (ProtocolPhase::Ending, !self.ended.is_empty()),
        ];
        holds.into_iter().filter(|&(_, held)| held).fold(0, |bits, (phase, _)| bits | phase.bit())
    }

    /// Follows the phase through `fact`.
    fn follow(&mut self, fact: &Fact) {
        match *fact {
            Fact::CheckpointTriggered { checkpoint } => {
                self.pending.entry(checkpoint).or_default();
            }
            Fact::SavepointTriggered { checkpoint, .. } => self.pending.entry(checkpoint).or_default().savepoint = true,
            Fact::InputBlocked { task, .. } => {
                self.blocked.insert(task);
            }
            Fact::InputsUnblocked { task } => {
                self.blocked.remove(&task);
            }
            Fact::ChannelStateRecorded { task, checkpoint, .. } if self.pending.contains_key(&checkpoint) => {
                self.recording.insert((task, checkpoint));
            }
            Fact::StateCaptured { task, checkpoint, .. } => {
                if let Some(pending) = self.pending.get_mut(&checkpoint) {
                    pending.captured.insert(task);
                    self.uploading.insert((task, checkpoint));
                }
            }
            Fact::ObjectDurable { object: ObjectName::TaskState { checkpoint, task }, .. }
            | Fact::WriteFailed { object: ObjectName::TaskState { checkpoint, task } }
            | Fact::ObjectTorn { object: ObjectName::TaskState { checkpoint, task } } => {
                self.uploading.remove(&(task, checkpoint));
            }
            Fact::AcknowledgementReceived { task, checkpoint } => {
                self.recording.remove(&(task, checkpoint));
                if let Some(pending) = self.pending.get_mut(&checkpoint) {
                    pending.acknowledged.insert(task);
                }
            }
            Fact::CheckpointCompleted { checkpoint } => {
                self.checkpoint_over(checkpoint);
                self.completed_any = true;
                self.recovering = false;
                self.notified = Some((checkpoint, BTreeSet::new()));
            }
            Fact::CheckpointAborted { checkpoint, .. } => self.checkpoint_over(checkpoint),
            Fact::CompletionNotified { task, checkpoint } => {
                if let Some((_, heard)) = self.notified.as_mut().filter(|(id, _)| *id == checkpoint) {
                    heard.insert(task);
                }
            }
            Fact::TransactionPrepared { txn, .. } => {
                self.prepared.insert(txn);
            }
            Fact::TransactionCommitted { txn, .. } | Fact::TransactionAborted { txn, .. } => {
                self.prepared.remove(&txn);
            }
            Fact::DataEnded { task } => {
                self.ended.insert(task);
            }
            Fact::CoordinatorCrashed => self.pending.clear(),
            _ => self.follow_recovery(fact),
        }
    }

    /// Restarts and restores: what the restarted tasks were doing is over.
    fn follow_recovery(&mut self, fact: &Fact) {
        match *fact {
            Fact::JobRestarted { .. } => {
                self.blocked.clear();
                self.recording.clear();
                self.uploading.clear();
                self.ended.clear();
                self.notified = None;
                self.recovering = true;
            }
            Fact::RegionRestarted { .. } => self.recovering = true,
            Fact::TaskRestored { task, .. } => {
                self.blocked.remove(&task);
                self.ended.remove(&task);
                self.recording.retain(|&(at, _)| at != task);
                self.uploading.retain(|&(at, _)| at != task);
            }
            Fact::JobRescaled { stage } => self.stage = stage as usize,
            _ => {}
        }
    }

    fn checkpoint_over(&mut self, checkpoint: CheckpointId) {
        self.pending.remove(&checkpoint);
        self.recording.retain(|&(_, id)| id != checkpoint);
        self.uploading.retain(|&(_, id)| id != checkpoint);
    }
}
