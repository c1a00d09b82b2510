//! Coverage of protocol phases by faults: which fault struck the job in which phase of its
//! checkpoint protocol, counted over a run and summed over a sweep.
//!
//! A bug in checkpoint-and-recovery code hides in one corner — a crash *during alignment*, a
//! completion notice lost *between pre-commit and commit* — and a sweep that never put a
//! fault there proves nothing about it. So every run keeps a matrix of `ProtocolPhase` ×
//! `Strike` hit counts (`CoverageCounts`), derived from facts alone (`tracker.rs`): the
//! phases are read from the checkpoint facts as they happen, a strike is the fact a fault
//! leaves (a crash, a failed write, a lost message, an expired checkpoint), and the cell
//! counted is every phase that held just before the strike. A sweep adds the matrices and
//! flags the cells never hit among those it could reach; a guided sweep (`aim.rs`) aims
//! each seed's extra fault at a cell not yet hit. Coverage never feeds the trace hash.

pub mod aim;
pub mod summary;
mod tracker;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
pub use tracker::CoverageTracker;

/// A phase of the checkpoint protocol that may hold when a fault strikes. Several may hold
/// at once (a task aligning while a sink holds a pre-committed transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProtocolPhase {
    /// No checkpoint has completed yet: a restore starts from scratch.
    BeforeFirstCheckpoint,
    /// No checkpoint is pending.
    NoCheckpointPending,
    /// A checkpoint is pending and some task has not captured its state for it yet
    /// (barriers still travelling).
    BarriersInFlight,
    /// A task holds a blocked input: aligned barriers are being aligned.
    Aligning,
    /// A task records in-flight data as channel state (unaligned capture) and has not
    /// acknowledged yet.
    RecordingChannelState,
    /// A task's state write is in flight.
    UploadingState,
    /// Every task acknowledged a checkpoint; its metadata is not yet durable.
    MetadataWrite,
    /// A checkpoint completed and some task has not heard so yet.
    NotifyingCompletion,
    /// A sink holds a pre-committed transaction not yet committed (between pre-commit and
    /// commit).
    PreCommitted,
    /// The job restarted and no checkpoint has completed since.
    Recovering,
    /// A savepoint is pending.
    SavepointPending,
    /// Some task reached the end of its data: final checkpoints (FLIP-147).
    Ending,
}

/// What a fault did to the job, as its facts show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Strike {
    /// A task crashed (alone, not with its worker or a broken channel).
    CrashTask,
    /// A worker crashed with every task on it.
    CrashWorker,
    /// The coordinator crashed.
    CrashCoordinator,
    /// A storage write failed (storage unavailable).
    WriteFailed,
    /// A checkpoint expired (its timeout passed).
    CheckpointExpired,
    /// A checkpoint trigger was lost.
    TriggerLost,
    /// An acknowledgement was lost.
    AcknowledgementLost,
    /// A decline was lost.
    DeclineLost,
    /// An abort notice was lost.
    AbortNoticeLost,
    /// A completion notice was lost.
    CompletionNoticeLost,
    /// A control message was delayed.
    ControlMessageDelayed,
    /// A network partition broke a channel.
    ChannelBroken,
    /// A latency spike began on a link.
    LatencySpike,
    /// Storage turned slow.
    SlowStorage,
    /// A sink's call to the external system failed (unavailable).
    ExternalCallFailed,
    /// The external system aborted open transactions on its own.
    TransactionsAborted,
}

impl ProtocolPhase {
    /// Every phase, in matrix order.
    pub const ALL: [ProtocolPhase; 12] = [
        ProtocolPhase::BeforeFirstCheckpoint,
        ProtocolPhase::NoCheckpointPending,
        ProtocolPhase::BarriersInFlight,
        ProtocolPhase::Aligning,
        ProtocolPhase::RecordingChannelState,
        ProtocolPhase::UploadingState,
        ProtocolPhase::MetadataWrite,
        ProtocolPhase::NotifyingCompletion,
        ProtocolPhase::PreCommitted,
        ProtocolPhase::Recovering,
        ProtocolPhase::SavepointPending,
        ProtocolPhase::Ending,
    ];

    /// The phase's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolPhase::BeforeFirstCheckpoint => "before-first-checkpoint",
            ProtocolPhase::NoCheckpointPending => "no-checkpoint-pending",
            ProtocolPhase::BarriersInFlight => "barriers-in-flight",
            ProtocolPhase::Aligning => "aligning",
            ProtocolPhase::RecordingChannelState => "recording-channel-state",
            ProtocolPhase::UploadingState => "uploading-state",
            ProtocolPhase::MetadataWrite => "metadata-write",
            ProtocolPhase::NotifyingCompletion => "notifying-completion",
            ProtocolPhase::PreCommitted => "pre-committed",
            ProtocolPhase::Recovering => "recovering",
            ProtocolPhase::SavepointPending => "savepoint-pending",
            ProtocolPhase::Ending => "ending",
        }
    }

    /// A short column heading for the matrix.
    pub fn short(self) -> &'static str {
        match self {
            ProtocolPhase::BeforeFirstCheckpoint => "first",
            ProtocolPhase::NoCheckpointPending => "idle",
            ProtocolPhase::BarriersInFlight => "barr",
            ProtocolPhase::Aligning => "align",
            ProtocolPhase::RecordingChannelState => "chan",
            ProtocolPhase::UploadingState => "upld",
            ProtocolPhase::MetadataWrite => "meta",
            ProtocolPhase::NotifyingCompletion => "notif",
            ProtocolPhase::PreCommitted => "2pc",
            ProtocolPhase::Recovering => "recov",
            ProtocolPhase::SavepointPending => "svpt",
            ProtocolPhase::Ending => "end",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl Strike {
    /// Every strike, in matrix order.
    pub const ALL: [Strike; 16] = [
        Strike::CrashTask,
        Strike::CrashWorker,
        Strike::CrashCoordinator,
        Strike::WriteFailed,
        Strike::CheckpointExpired,
        Strike::TriggerLost,
        Strike::AcknowledgementLost,
        Strike::DeclineLost,
        Strike::AbortNoticeLost,
        Strike::CompletionNoticeLost,
        Strike::ControlMessageDelayed,
        Strike::ChannelBroken,
        Strike::LatencySpike,
        Strike::SlowStorage,
        Strike::ExternalCallFailed,
        Strike::TransactionsAborted,
    ];

    /// The strike's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strike::CrashTask => "crash-task",
            Strike::CrashWorker => "crash-worker",
            Strike::CrashCoordinator => "crash-coordinator",
            Strike::WriteFailed => "write-failed",
            Strike::CheckpointExpired => "checkpoint-expired",
            Strike::TriggerLost => "trigger-lost",
            Strike::AcknowledgementLost => "acknowledgement-lost",
            Strike::DeclineLost => "decline-lost",
            Strike::AbortNoticeLost => "abort-notice-lost",
            Strike::CompletionNoticeLost => "completion-notice-lost",
            Strike::ControlMessageDelayed => "control-message-delayed",
            Strike::ChannelBroken => "channel-broken",
            Strike::LatencySpike => "latency-spike",
            Strike::SlowStorage => "slow-storage",
            Strike::ExternalCallFailed => "external-call-failed",
            Strike::TransactionsAborted => "transactions-aborted",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// Number of cells in the matrix.
pub const CELLS: usize = ProtocolPhase::ALL.len() * Strike::ALL.len();

/// One run's (or a sweep's) coverage: hit counts per cell, and which phases and strikes
/// happened at all (a phase with no fault in it is reachable yet unhit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageCounts {
    /// Hits, row-major: `hits[strike * PHASES + phase]`.
    pub hits: Vec<u64>,
    /// Phases that held at some moment (bit per `ProtocolPhase`).
    pub phases_seen: u16,
    /// Strikes that happened (bit per `Strike`).
    pub strikes_seen: u32,
}

impl Default for CoverageCounts {
    fn default() -> CoverageCounts {
        CoverageCounts { hits: vec![0; CELLS], phases_seen: 0, strikes_seen: 0 }
    }
}

impl CoverageCounts {
    fn cell(phase: ProtocolPhase, strike: Strike) -> usize {
        strike as usize * ProtocolPhase::ALL.len() + phase as usize
    }

    /// How often `strike` struck while `phase` held.
    pub fn hits(&self, phase: ProtocolPhase, strike: Strike) -> u64 {
        self.hits[Self::cell(phase, strike)]
    }

    /// Counts a strike in every phase of `phases` (a bit set).
    pub fn count(&mut self, strike: Strike, phases: u16) {
        self.strikes_seen |= strike.bit();
        for phase in ProtocolPhase::ALL.into_iter().filter(|phase| phases & phase.bit() != 0) {
            self.hits[Self::cell(phase, strike)] += 1;
        }
    }

    /// Adds `other` in.
    pub fn merge(&mut self, other: &CoverageCounts) {
        for (mine, theirs) in self.hits.iter_mut().zip(&other.hits) {
            *mine += theirs;
        }
        self.phases_seen |= other.phases_seen;
        self.strikes_seen |= other.strikes_seen;
    }

    /// Whether `phase` held at some moment.
    pub fn phase_seen(&self, phase: ProtocolPhase) -> bool {
        self.phases_seen & phase.bit() != 0
    }

    /// Whether `strike` happened.
    pub fn strike_seen(&self, strike: Strike) -> bool {
        self.strikes_seen & strike.bit() != 0
    }

    /// Every cell whose phase was seen and whose strike happened, but for the cells no run
    /// can hit (`impossible`): the cells this sweep could have hit.
    pub fn reachable(&self) -> impl Iterator<Item = (ProtocolPhase, Strike)> + '_ {
        Strike::ALL.into_iter().filter(|&strike| self.strike_seen(strike)).flat_map(move |strike| {
            ProtocolPhase::ALL
                .into_iter()
                .filter(move |&phase| self.phase_seen(phase) && !impossible(phase, strike))
                .map(move |phase| (phase, strike))
        })
    }

    /// The cells hit at least once.
    pub fn cells_hit(&self) -> usize {
        self.hits.iter().filter(|&&hits| hits > 0).count()
    }

    /// Reachable cells never hit, in matrix order.
    pub fn never_hit(&self) -> Vec<(ProtocolPhase, Strike)> {
        self.reachable().filter(|&(phase, strike)| self.hits(phase, strike) == 0).collect()
    }
}

/// Cells no run can hit, by what the strike is: a trigger is lost, and a checkpoint expires,
/// only while a checkpoint is pending; a completion notice exists only after a completion.
pub fn impossible(phase: ProtocolPhase, strike: Strike) -> bool {
    matches!(
        (phase, strike),
        (ProtocolPhase::NoCheckpointPending, Strike::TriggerLost | Strike::CheckpointExpired)
            | (ProtocolPhase::BeforeFirstCheckpoint, Strike::CompletionNoticeLost)
    )
}
