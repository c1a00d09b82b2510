//! Checkpoint protocols as sans-IO state machines.
//!
//! A task protocol receives one `TaskInput` at a time (a barrier consumed on an input, a
//! trigger, an ended input, a storage result, an abort notice) and appends `TaskCommand`s
//! (block an input, snapshot, acknowledge, decline). It holds no clock, no RNG, no channel
//! and no storage handle: the harness performs every effect and records what physically
//! happened. The coordinator (`coordinator.rs`) is the job-level state machine of the same
//! shape. Unit tests in `protocol/tests.rs`.

pub mod aligned;
pub mod aligned_timeout;
pub mod at_least_once;
pub mod broken;
pub mod chandy_lamport;
pub mod coordinator;
pub mod unaligned;

#[cfg(test)]
mod aligned_timeout_tests;
#[cfg(test)]
mod at_least_once_tests;
#[cfg(test)]
mod chandy_lamport_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unaligned_tests;

use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;

/// Something that happened to a task that its checkpoint protocol must hear of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskInput {
    /// The coordinator asks this source task to start `checkpoint`.
    Trigger {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// The task consumed the barrier of `checkpoint` on input `input`.
    Barrier {
        /// The task's input index.
        input: u32,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Input `input` closed: nothing more, not even a barrier, will arrive on it (a bank
    /// account that closed its outputs). A dataflow task's end-of-data is not reported:
    /// barriers keep coming after it (FLIP-147), so a protocol aligns on that input as ever.
    InputEnded {
        /// The task's input index.
        input: u32,
    },
    /// The state this task captured for `checkpoint` is durable.
    StatePersisted {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// The coordinator abandoned `checkpoint`.
    CheckpointAborted {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// A timer the protocol set has fired.
    Timer,
}

/// An effect a protocol asks the harness to perform, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskCommand {
    /// Stop consuming input `input` until unblocked (alignment for `checkpoint`).
    BlockInput {
        /// The task's input index.
        input: u32,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Resume consuming every blocked input.
    UnblockAllInputs,
    /// Capture the operator's state for `checkpoint` and send its barrier (marker) on every
    /// output. Atomic with respect to record processing.
    Snapshot {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Like `Snapshot`, but each barrier overtakes the records waiting in that output's
    /// buffer and goes out at once; the overtaken records are kept as output channel state.
    SnapshotOvertaking {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Keep the records waiting in `input`'s buffer ahead of the barrier being handled (all
    /// of them for a barrier handled on arrival, none for one consumed in order) as channel
    /// state of `checkpoint`.
    RecordQueued {
        /// The task's input index.
        input: u32,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// From now on, keep every record consumed from `input` as channel state of `checkpoint`.
    StartRecording {
        /// The task's input index.
        input: u32,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Stop keeping `input`'s records for `checkpoint`.
    StopRecording {
        /// The task's input index.
        input: u32,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Write the captured state of `checkpoint`, with its recorded channel state, to durable
    /// storage; `StatePersisted` follows when it is durable.
    Persist {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Tell the coordinator this task's part of `checkpoint` is durable.
    Acknowledge {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Tell the coordinator this task cannot complete `checkpoint`.
    Decline {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Deliver `TaskInput::Timer` at `at` (unless the task restarts first).
    SetTimer {
        /// When the timer fires.
        at: SimTime,
    },
}

/// Which way `recording_commands` turns recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recording {
    Start,
    Stop,
}

/// Starts or stops recording channel state of `checkpoint` on every input not marked
/// `skip` (inputs that ended, or whose barrier already came): the one loop that every
/// protocol recording channel state needs.
pub(crate) fn recording_commands(checkpoint: CheckpointId, skip: &[bool], turn: Recording, out: &mut Vec<TaskCommand>) {
    for (input, _) in skip.iter().enumerate().filter(|(_, skipped)| !**skipped) {
        let input = u32::try_from(input).expect("input index fits u32");
        out.push(match turn {
            Recording::Start => TaskCommand::StartRecording { input, checkpoint },
            Recording::Stop => TaskCommand::StopRecording { input, checkpoint },
        });
    }
}

/// What a protocol factory is told about the task it builds a protocol for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskSetup {
    /// The task's inputs (0 for a source, which the coordinator triggers instead).
    pub input_count: u32,
}

/// A user's own checkpoint protocol: plug it in through `RunOptions::custom_protocol` (or
/// `snapsim::testing::check_with_protocol`) and it runs under every checker, fault plan
/// and sweep, in place of the scenario's built-in protocol. See docs/guide.md.
pub trait ProtocolFactory {
    /// The protocol's name in reports.
    fn name(&self) -> &str;

    /// What it promises: how the checkers judge it.
    fn guarantee(&self) -> Guarantee;

    /// A fresh protocol state machine for one task (at the start and after each restart).
    fn build(&self, setup: TaskSetup) -> Box<dyn TaskProtocol>;
}

/// The checkpoint protocols a scenario can choose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProtocolKind {
    /// Flink's aligned barriers (exactly-once mode).
    #[default]
    Aligned,
    /// Chandy-Lamport snapshots: never block, record channel state.
    ChandyLamport,
    /// Flink's at-least-once mode: barriers tracked, never blocked; duplicates after a
    /// recovery are allowed, loss never.
    AtLeastOnce,
    /// Flink's unaligned checkpoints: barriers overtake buffered records, which are
    /// persisted as channel state.
    Unaligned,
    /// Aligned, but a checkpoint whose alignment outlasts `aligned_timeout_ms` switches to
    /// unaligned (Flink's aligned-checkpoint-timeout).
    AlignedTimeout,
}

/// What a protocol promises about records' effects after a recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarantee {
    /// Every record's effect exactly once; every snapshot a consistent cut.
    ExactlyOnce,
    /// Every record's effect at least once: duplicates allowed and counted, loss never.
    AtLeastOnce,
}

impl ProtocolKind {
    /// Every protocol, in the order `compare` shows them.
    pub const ALL: [ProtocolKind; 5] = [
        ProtocolKind::Aligned,
        ProtocolKind::AlignedTimeout,
        ProtocolKind::Unaligned,
        ProtocolKind::ChandyLamport,
        ProtocolKind::AtLeastOnce,
    ];

    /// What the protocol promises, which decides how the checkers judge it.
    pub fn guarantee(self) -> Guarantee {
        match self {
            ProtocolKind::Aligned
            | ProtocolKind::AlignedTimeout
            | ProtocolKind::Unaligned
            | ProtocolKind::ChandyLamport => Guarantee::ExactlyOnce,
            ProtocolKind::AtLeastOnce => Guarantee::AtLeastOnce,
        }
    }

    /// The protocol's name in reports and scenario files.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolKind::Aligned => "aligned",
            ProtocolKind::ChandyLamport => "chandy-lamport",
            ProtocolKind::AtLeastOnce => "at-least-once",
            ProtocolKind::Unaligned => "unaligned",
            ProtocolKind::AlignedTimeout => "aligned-timeout",
        }
    }
}

/// The per-task half of a checkpoint protocol.
///
/// Implement this to plug a protocol into the harness: it gets every fault, checker and
/// sweep without any change to snapsim.
pub trait TaskProtocol {
    /// Handles one input at simulated time `now`, appending commands to `out`.
    fn handle(&mut self, now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>);

    /// Whether a barrier of `checkpoint` is a priority event: handled the moment it arrives,
    /// ahead of the records queued before it (an unaligned checkpoint), rather than when
    /// consumed in order. Asked per barrier because a protocol may take one checkpoint
    /// unaligned and the next aligned (aligned-with-timeout): a newer checkpoint's barrier
    /// must not jump the records queued ahead of it.
    fn barrier_overtakes(&self, _checkpoint: CheckpointId) -> bool {
        false
    }
}
