//! Restore equivalence: after each restart, every task loads exactly what it captured for
//! the checkpoint the job restarted from, and every source reads on from the offset it had
//! reached when it captured that state.
//!
//! Judged from facts: `StateCaptured` digests and the `SourceRead` offsets before a capture
//! on one side; `JobRestarted`, `TaskRestored` digests and the first `SourceRead` after a
//! restore on the other. A task that acts again after a restart (reads, applies, sends)
//! without a `TaskRestored` is a violation too, as is a run that ends with one missing.

use super::{Invariant, JobShape};
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::{Fact, ObjectName};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// The restore-equivalence checker.
pub struct RestoreEquivalence {
    shape: Rc<JobShape>,
    /// Per (checkpoint, task): the digest captured and the next source offset at capture.
    captured: BTreeMap<(CheckpointId, TaskId), (u64, u64)>,
    /// Per task: the offset its next source read must have.
    next_read: Vec<u64>,
    /// The checkpoint of the restart in progress, and the tasks not restored yet.
    restoring: Option<(Option<CheckpointId>, BTreeSet<TaskId>)>,
    /// Per task restored from a checkpoint: the offset its first read must have.
    expected_read: BTreeMap<TaskId, u64>,
}

impl RestoreEquivalence {
    /// A checker for a job of this shape.
    pub fn new(shape: Rc<JobShape>) -> RestoreEquivalence {
        let next_read = vec![0; shape.task_count];
        RestoreEquivalence {
            shape,
            captured: BTreeMap::new(),
            next_read,
            restoring: None,
            expected_read: BTreeMap::new(),
        }
    }

    /// Observes one fact; returns the violation it reveals, if any.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        let found = match *fact {
            Fact::StateCaptured { task, checkpoint, digest, .. } => {
                let offset = self.next_read.get(task.index()).copied().unwrap_or(0);
                self.captured.insert((checkpoint, task), (digest, offset));
                None
            }
            Fact::ObjectDeleted { object: ObjectName::TaskState { checkpoint, task } } => {
                self.captured.remove(&(checkpoint, task));
                None
            }
            Fact::JobRestarted { checkpoint, .. } => self.on_restart(checkpoint),
            Fact::TaskRestored { task, checkpoint, digest } => self.on_restored(task, checkpoint, digest),
            Fact::SourceRead { task, offset } => self.acted(task).or_else(|| self.on_read(task, offset)),
            Fact::RecordApplied { task, .. } => self.acted(task),
            Fact::MessageSent { channel, .. } => self.acted(self.shape.channel_ends[channel.index()].0),
            _ => None,
        };
        found.map(|detail| (Invariant::RestoreEquivalence, detail))
    }

    /// The end-of-run check: no restart may be left with a task never restored.
    pub fn finish(&self) -> Option<(Invariant, String)> {
        let (_, pending) = self.restoring.as_ref()?;
        let task = pending.first()?;
        Some((Invariant::RestoreEquivalence, format!("the job restarted, but {task} was never restored")))
    }

    fn on_restart(&mut self, checkpoint: Option<CheckpointId>) -> Option<String> {
        if let Some((_, pending)) = &self.restoring
            && let Some(task) = pending.first()
        {
            return Some(format!("the job restarted again before {task} was restored"));
        }
        let pending: BTreeSet<TaskId> = (0..self.shape.task_count).map(TaskId::from_index).collect();
        self.restoring = (!pending.is_empty()).then_some((checkpoint, pending));
        self.expected_read.clear();
        None
    }

    fn on_restored(&mut self, task: TaskId, checkpoint: Option<CheckpointId>, digest: u64) -> Option<String> {
        let Some((restart_checkpoint, pending)) = &mut self.restoring else {
            return Some(format!("{task} restored state without a restart"));
        };
        if checkpoint != *restart_checkpoint {
            return Some(format!("{task} restored {checkpoint:?} while the job restarted from {restart_checkpoint:?}"));
        }
        pending.remove(&task);
        if pending.is_empty() {
            self.restoring = None;
        }
        let Some(checkpoint) = checkpoint else {
            self.set_next_read(task, 0);
            self.expected_read.insert(task, 0);
            return (digest != 0).then(|| format!("{task} started fresh but loaded state (digest {digest:016x})"));
        };
        let Some(&(captured, offset)) = self.captured.get(&(checkpoint, task)) else {
            return Some(format!("{task} restored {checkpoint}, whose state it never captured (or which was deleted)"));
        };
        self.expected_read.insert(task, offset);
        (digest != captured).then(|| {
            format!("{task} restored {checkpoint} with state digest {digest:016x}, but captured {captured:016x} for it")
        })
    }

    /// A task that does anything after a restart must have been restored first.
    fn acted(&self, task: TaskId) -> Option<String> {
        let (_, pending) = self.restoring.as_ref()?;
        pending.contains(&task).then(|| format!("{task} ran after the restart without restoring its state"))
    }

    fn set_next_read(&mut self, task: TaskId, offset: u64) {
        if task.index() >= self.next_read.len() {
            self.next_read.resize(task.index() + 1, 0);
        }
        self.next_read[task.index()] = offset;
    }

    fn on_read(&mut self, task: TaskId, offset: u64) -> Option<String> {
        self.set_next_read(task, offset + 1);
        let expected = self.expected_read.remove(&task)?;
        (offset != expected).then(|| {
            format!(
                "{task} read offset {offset} first after its restore, but the checkpoint recorded offset {expected}"
            )
        })
    }
}
