//! Failure accounting: the job is failed over for checkpoint failures only after more than
//! `checkpoint.tolerable_failures` consecutive counted failures since the last success.
//!
//! Counted as Flink's CheckpointFailureManager counts them (flink-checkpointing.md §2.6):
//! expiries, and declines for a failed state write; each checkpoint once; never a savepoint,
//! nor a checkpoint older than the last success. A success resets the count, and so do a
//! failover for too many failures and a new coordinator.
//!
//! Judged from facts alone: `CheckpointAborted` (with its reason), `WriteFailed` (a decline
//! can only be a counted one if a write of that checkpoint failed first), `SavepointTriggered`,
//! `CheckpointCompleted`, `CoordinatorCrashed` and `CheckpointFailuresExceeded`. Which
//! decline reached the coordinator first is not a fact, so a declined checkpoint with a
//! failed write counts: the count is an upper bound of the coordinator's, and a failover
//! at or below the tolerance is a failure counted that should not have been.

use super::Invariant;
use crate::kernel::ids::CheckpointId;
use crate::kernel::trace::{AbortReason, Fact, ObjectName};
use std::collections::BTreeSet;

/// The failure-accounting checker.
pub struct FailureAccounting {
    /// Consecutive counted failures tolerated (`None`: any number).
    tolerable: Option<u32>,
    savepoints: BTreeSet<CheckpointId>,
    /// The newest checkpoint (not savepoint) that completed.
    last_success: Option<CheckpointId>,
    /// Checkpoints a task's state write failed for: a counted decline may follow.
    failed_writes: BTreeSet<CheckpointId>,
    /// The checkpoints counted since the last reset.
    counted: BTreeSet<CheckpointId>,
}

impl FailureAccounting {
    /// A checker for a job tolerating `tolerable` consecutive counted failures.
    pub fn new(tolerable: Option<u32>) -> FailureAccounting {
        FailureAccounting {
            tolerable,
            savepoints: BTreeSet::new(),
            last_success: None,
            failed_writes: BTreeSet::new(),
            counted: BTreeSet::new(),
        }
    }

    /// Observes one fact; returns the violation it reveals, if any.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        match *fact {
            Fact::SavepointTriggered { checkpoint, .. } => {
                self.savepoints.insert(checkpoint);
            }
            Fact::WriteFailed {
                object: ObjectName::TaskState { checkpoint, .. } | ObjectName::SharedFile { checkpoint, .. },
            } => {
                self.failed_writes.insert(checkpoint);
            }
            Fact::CheckpointCompleted { checkpoint } if !self.savepoints.contains(&checkpoint) => {
                self.last_success = self.last_success.max(Some(checkpoint));
                self.counted.clear();
            }
            Fact::CheckpointAborted { checkpoint, reason } => self.on_aborted(checkpoint, reason),
            Fact::CoordinatorCrashed => self.counted.clear(),
            Fact::CheckpointFailuresExceeded { failures } => {
                let found = self.on_failover(failures);
                self.counted.clear();
                return found.map(|detail| (Invariant::FailureAccounting, detail));
            }
            _ => {}
        }
        None
    }

    fn on_aborted(&mut self, checkpoint: CheckpointId, reason: AbortReason) {
        let counted_kind = match reason {
            AbortReason::Expired => true,
            AbortReason::Declined => self.failed_writes.contains(&checkpoint),
            _ => false,
        };
        let stale = self.last_success.is_some_and(|latest| checkpoint < latest);
        if counted_kind && !stale && !self.savepoints.contains(&checkpoint) {
            self.counted.insert(checkpoint);
        }
    }

    /// The job is failed over for `failures` consecutive checkpoint failures (its claim).
    fn on_failover(&self, failures: u32) -> Option<String> {
        let since = match self.last_success {
            Some(latest) => format!("since {latest} completed"),
            None => "since the job started".to_string(),
        };
        let counted: Vec<String> = self.counted.iter().map(ToString::to_string).collect();
        let counted = if counted.is_empty() { "none".to_string() } else { counted.join(", ") };
        match self.tolerable {
            None => Some(format!(
                "the job was failed over for {failures} checkpoint failures, but any number is tolerated \
                 (counted {since}: {counted})"
            )),
            Some(tolerable) if self.counted.len() <= tolerable as usize => Some(format!(
                "the job was failed over for {failures} consecutive checkpoint failures, but at most {} were \
                 counted {since} ({counted}), and {tolerable} are tolerated",
                self.counted.len()
            )),
            Some(_) => None,
        }
    }
}
