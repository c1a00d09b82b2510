//! Restore equivalence: after each restart, every task loads exactly what it captured for
//! the checkpoint the job restarted from, and every source reads on from the offset it had
//! reached when it captured that state.
//!
//! Judged from facts: `StateCaptured` digests and the `SourceRead` offsets before a capture
//! on one side; `JobRestarted` (every task) or `RegionRestarted` (the region's tasks, from
//! the job's shape), `TaskRestored` digests and the first `SourceRead` after a restore on
//! the other. A task that acts again after a restart (reads, applies, sends) without a
//! `TaskRestored` is a violation too, as is a run that ends with one missing. Tasks outside
//! a restarted region keep running untouched.

use super::{Invariant, JobShape};
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::{Fact, ObjectName};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The restore-equivalence checker.
pub struct RestoreEquivalence {
    shape: Rc<JobShape>,
    /// The stage of the job running now (`JobRescaled`).
    stage: usize,
    /// Per (checkpoint, task): the digest captured and the next source offset at capture.
    captured: BTreeMap<(CheckpointId, TaskId), (u64, u64)>,
    /// Per task: the offset its next source read must have.
    next_read: Vec<u64>,
    /// The tasks a restart in progress has not restored yet, each with the checkpoint its
    /// job or region restarted from.
    restoring: BTreeMap<TaskId, Option<CheckpointId>>,
    /// Per task restored from a checkpoint: the offset its first read must have.
    expected_read: BTreeMap<TaskId, u64>,
}

impl RestoreEquivalence {
    /// A checker for a job of this shape.
    pub fn new(shape: Rc<JobShape>) -> RestoreEquivalence {
        let next_read = vec![0; shape.task_count];
        RestoreEquivalence {
            shape,
            stage: 0,
            captured: BTreeMap::new(),
            next_read,
            restoring: BTreeMap::new(),
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
            Fact::JobRescaled { stage } => {
                self.stage = stage as usize;
                None
            }
            Fact::JobRestarted { checkpoint, .. } => {
                let every_task = self.shape.running(self.stage).to_vec();
                self.on_restart("the job", &every_task, checkpoint)
            }
            Fact::KeyGroupsRestored { task, checkpoint, .. } | Fact::SplitsRedistributed { task, checkpoint, .. } => {
                self.on_rescaled_restore(task, checkpoint)
            }
            Fact::RegionRestarted { region, checkpoint, .. } => match self.shape.clone().region(self.stage, region) {
                Some(members) => self.on_restart(&format!("region {region}"), members, checkpoint),
                None => Some(format!("region {region} restarted, but the job has no such pipelined region")),
            },
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
        let task = self.restoring.keys().next()?;
        Some((Invariant::RestoreEquivalence, format!("{task} was restarted, but never restored")))
    }

    /// `what` (the job, or a region) restarted `tasks` from `checkpoint`.
    fn on_restart(&mut self, what: &str, tasks: &[TaskId], checkpoint: Option<CheckpointId>) -> Option<String> {
        if let Some(task) = tasks.iter().find(|task| self.restoring.contains_key(task)) {
            return Some(format!("{what} restarted again before {task} was restored"));
        }
        for &task in tasks {
            self.restoring.insert(task, checkpoint);
            self.expected_read.remove(&task);
        }
        None
    }

    fn on_restored(&mut self, task: TaskId, checkpoint: Option<CheckpointId>, digest: u64) -> Option<String> {
        let Some(restart_checkpoint) = self.restoring.remove(&task) else {
            return Some(format!("{task} restored state without a restart"));
        };
        if checkpoint != restart_checkpoint {
            let (loaded, wanted) = (described(checkpoint), described(restart_checkpoint));
            return Some(format!("{task} restored {loaded} while it restarted from {wanted}"));
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

    /// A task a rescale deployed restored its key groups from every state of `checkpoint`:
    /// the checkpoint must be the one its job restarted from. Which keys it got, and what
    /// they hold, is the key-ownership checker's to judge.
    fn on_rescaled_restore(&mut self, task: TaskId, checkpoint: CheckpointId) -> Option<String> {
        let Some(restart_checkpoint) = self.restoring.remove(&task) else {
            return Some(format!("{task} restored key groups without a restart"));
        };
        (restart_checkpoint != Some(checkpoint)).then(|| {
            format!(
                "{task} restored key groups of {checkpoint} while it restarted from {}",
                described(restart_checkpoint)
            )
        })
    }

    /// A task that does anything after a restart must have been restored first.
    fn acted(&self, task: TaskId) -> Option<String> {
        self.restoring.contains_key(&task).then(|| format!("{task} ran after the restart without restoring its state"))
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

/// A restore's origin in words: a checkpoint, or a fresh start.
fn described(checkpoint: Option<CheckpointId>) -> String {
    checkpoint.map_or_else(|| "nothing (a fresh start)".to_string(), |checkpoint| checkpoint.to_string())
}
