//! Faults as data: the materialised plan a run applies, and the swarm generator that draws
//! one per seed (`swarm.rs`).
//!
//! A plan is a list of faults, each striking at a simulated time or — "crash task 3 after
//! it acknowledges checkpoint 5" — at the first protocol step of a kind (`Phase`) once that
//! time has passed. The harness turns each into an event and applies it; protocols and
//! operators never see a fault, only its consequences (a lost message, a failed write, a
//! restart). The plan is stored whole in run files, so a failure still means the same thing
//! after the code changes. Variants are append-only: run files store their index.

pub mod swarm;

#[cfg(test)]
mod tests;

use crate::dataflow::graph::TaskRef;
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// The task's process dies; the job fails over and restarts from the latest completed
    /// checkpoint.
    CrashTask {
        /// The task that crashes.
        task: TaskRef,
    },
    /// The coordinator (Flink's JobManager) dies: its pending checkpoints are lost and the
    /// job fails over; a new coordinator recovers from the durable metadata store — the
    /// checkpoints whose metadata write completed, and the checkpoint id counter.
    CrashCoordinator,
    /// Storage is unavailable: every write begun in the window fails (a task declines its
    /// checkpoint; a metadata write aborts it).
    StorageUnavailable {
        /// How long the fault window lasts.
        duration: SimDuration,
    },
    /// Writes begun in the window take `factor` times as long (checkpoint timeouts).
    SlowStorage {
        /// How many times longer each write takes.
        factor: u32,
        /// How long the fault window lasts.
        duration: SimDuration,
    },
    /// The next `count` control messages of `kind` are lost in transit.
    LoseControlMessages {
        /// Which kind of control message is hit.
        kind: ControlMessage,
        /// How many messages of that kind are hit.
        count: u32,
    },
    /// Every message sent from `from` to `to` in the window takes `extra` longer (a latency
    /// spike; a long one is a slow link that fills buffers and back-pressures).
    LatencySpike {
        /// The sending task.
        from: TaskRef,
        /// The receiving task.
        to: TaskRef,
        /// The latency added to each message.
        extra: SimDuration,
        /// How long the fault window lasts.
        duration: SimDuration,
    },
    /// Every task placed on `worker` dies at once; the job fails over.
    CrashWorker {
        /// The worker's index.
        worker: u32,
    },
    /// The network between workers `a` and `b` is cut for `duration` (from `a` to `b` only
    /// if `one_way`). A channel across it breaks, which fails the job over (Flink fails the
    /// tasks on both ends of a broken connection; a channel never drops a message silently),
    /// and every restart while the cut lasts fails again.
    Partition {
        /// One worker's index.
        a: u32,
        /// The other worker's index.
        b: u32,
        /// Whether only traffic from `a` to `b` is cut.
        one_way: bool,
        /// How long the fault window lasts.
        duration: SimDuration,
    },
    /// The next `count` control messages of `kind` take `extra` longer.
    DelayControlMessages {
        /// Which kind of control message is hit.
        kind: ControlMessage,
        /// How many messages of that kind are hit.
        count: u32,
        /// The latency added to each message.
        extra: SimDuration,
    },
    /// The external system the sinks write to refuses every call for `duration`: a sink's
    /// write or pre-commit fails its task; a commit is retried later.
    ExternalUnavailable {
        /// How long the fault window lasts.
        duration: SimDuration,
    },
    /// The external system aborts every open (not yet pre-committed) transaction, as a
    /// moved transaction coordinator does: the sinks' next writes fail and their records
    /// are replayed.
    AbortTransactions,
}

/// A control message between the coordinator and the tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlMessage {
    /// The coordinator asks a source to start a checkpoint.
    Trigger,
    /// A task tells the coordinator its part of a checkpoint is durable.
    Acknowledgement,
    /// A task tells the coordinator it cannot complete a checkpoint.
    Decline,
    /// The coordinator tells a task a checkpoint was abandoned.
    AbortNotice,
    /// The coordinator tells a task a checkpoint completed (Flink's
    /// `notifyCheckpointComplete`): a finished task may end, a sink may commit.
    CompletionNotice,
}

impl ControlMessage {
    /// Every kind, in a fixed order.
    pub const ALL: [ControlMessage; 5] = [
        ControlMessage::Trigger,
        ControlMessage::Acknowledgement,
        ControlMessage::Decline,
        ControlMessage::AbortNotice,
        ControlMessage::CompletionNotice,
    ];

    /// The kind's name in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            ControlMessage::Trigger => "trigger",
            ControlMessage::Acknowledgement => "acknowledgement",
            ControlMessage::Decline => "decline",
            ControlMessage::AbortNotice => "abort-notice",
            ControlMessage::CompletionNotice => "completion-notice",
        }
    }
}

/// A protocol step a fault can wait for; it strikes right after the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// `task` captured its state for `checkpoint`.
    StateCaptured {
        /// The task that captured its state.
        task: TaskRef,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// The coordinator received `task`'s acknowledgement of `checkpoint`.
    Acknowledged {
        /// The acknowledging task.
        task: TaskRef,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Every task acknowledged `checkpoint` and its metadata write began (not yet durable).
    MetadataWriteBegun {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// `checkpoint` completed.
    Completed {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// `task` blocked an input on a barrier of `checkpoint`: its alignment began.
    InputBlocked {
        /// The aligning task.
        task: TaskRef,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// The job (or a region of it) restarted after a failure.
    Restarted,
}

/// A fault and when it strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledFault {
    /// When — or, with `after`, from when on the fault waits for its phase.
    pub at: SimTime,
    /// What.
    pub fault: Fault,
    /// The protocol step it waits for, if any; it never strikes if the step never comes.
    #[serde(default)]
    pub after: Option<Phase>,
}

impl ScheduledFault {
    /// `fault` at `at`.
    pub fn at(at: SimTime, fault: Fault) -> ScheduledFault {
        ScheduledFault { at, fault, after: None }
    }

    /// When the fault's effect is over, if it has a duration (a window); otherwise when it
    /// strikes. A phase-triggered fault may strike later than this.
    pub fn lifted_at(&self) -> SimTime {
        match self.fault {
            Fault::StorageUnavailable { duration }
            | Fault::ExternalUnavailable { duration }
            | Fault::SlowStorage { duration, .. }
            | Fault::LatencySpike { duration, .. }
            | Fault::Partition { duration, .. } => self.at.after(duration),
            _ => self.at,
        }
    }

    /// The tasks the fault names (to check them against the job, and to re-aim them when
    /// shrinking changes parallelism).
    pub fn tasks_mut(&mut self) -> Vec<&mut TaskRef> {
        let mut tasks: Vec<&mut TaskRef> = match &mut self.fault {
            Fault::CrashTask { task } => vec![task],
            Fault::LatencySpike { from, to, .. } => vec![from, to],
            _ => Vec::new(),
        };
        if let Some(
            Phase::StateCaptured { task, .. } | Phase::Acknowledged { task, .. } | Phase::InputBlocked { task, .. },
        ) = &mut self.after
        {
            tasks.push(task);
        }
        tasks
    }
}

/// Every fault of a run, in time order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// The faults, sorted by time (ties keep their order).
    pub faults: Vec<ScheduledFault>,
}

impl FaultPlan {
    /// A plan of `faults`, sorted stably by time.
    pub fn new(mut faults: Vec<ScheduledFault>) -> FaultPlan {
        faults.sort_by_key(|fault| fault.at);
        FaultPlan { faults }
    }

    /// The plan in a few words: how many faults of each kind.
    pub fn summary(&self) -> String {
        if self.faults.is_empty() {
            return "none".to_string();
        }
        let mut counts: std::collections::BTreeMap<swarm::FaultKind, usize> = std::collections::BTreeMap::new();
        for scheduled in &self.faults {
            *counts.entry(swarm::FaultKind::of(&scheduled.fault)).or_default() += 1;
        }
        let kinds: Vec<String> = counts.iter().map(|(kind, count)| format!("{} x{count}", kind.name())).collect();
        let phased = self.faults.iter().filter(|scheduled| scheduled.after.is_some()).count();
        let phased = if phased > 0 { format!(", {phased} waiting for a protocol step") } else { String::new() };
        format!("{} in the plan: {}{phased}", self.faults.len(), kinds.join(", "))
    }
}
