//! Checkpoint storage and the shared state of incremental checkpoints: no retained
//! checkpoint references a deleted shared file (checked when a file is deleted, and when a
//! checkpoint referencing an already deleted one completes), every restore finds every file
//! it needs, and at the end nothing is left in storage that no retained checkpoint needs —
//! no shared file it does not reference, no task state or metadata of a checkpoint that is
//! neither retained nor still in flight (no leak). A savepoint is self-contained: it
//! references no shared file.
//!
//! Judged from facts: `StateFileReferenced` (which files each task's state for each
//! checkpoint references), `CheckpointCompleted`, the deletions of metadata (a checkpoint
//! no longer retained) and of shared files, `ObjectDurable` of shared files, and
//! `StateFileMissing`.

use super::Invariant;
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, ObjectName};
use std::collections::{BTreeMap, BTreeSet};

/// The shared-state checker.
#[derive(Default)]
pub struct SharedState {
    /// Per checkpoint: the shared files its task states reference.
    references: BTreeMap<CheckpointId, BTreeSet<ObjectName>>,
    /// Completed checkpoints whose metadata is not deleted.
    retained: BTreeSet<CheckpointId>,
    /// Objects durable and not deleted.
    stored: BTreeSet<ObjectName>,
    /// Shared files deleted, and when.
    deleted: BTreeMap<ObjectName, SimTime>,
    latest_completed: Option<CheckpointId>,
    /// Checkpoint ids that are savepoints: self-contained.
    savepoints: BTreeSet<CheckpointId>,
}

impl SharedState {
    /// A checker with nothing seen.
    pub fn new() -> SharedState {
        SharedState::default()
    }

    /// Observes one fact at `time`; returns the violation it reveals, if any.
    #[inline]
    pub fn observe(&mut self, time: SimTime, fact: &Fact) -> Option<(Invariant, String)> {
        let found = match *fact {
            Fact::StateFileReferenced { task, checkpoint, file, .. } => {
                self.references.entry(checkpoint).or_default().insert(file);
                self.savepoints.contains(&checkpoint).then(|| {
                    format!(
                        "savepoint {checkpoint}: {task}'s state references {}; a savepoint must hold its whole state \
                         and share nothing with checkpoints",
                        describe(file)
                    )
                })
            }
            Fact::SavepointTriggered { checkpoint, .. } => {
                self.savepoints.insert(checkpoint);
                None
            }
            Fact::ObjectDurable { object, .. } => {
                self.stored.insert(object);
                None
            }
            Fact::CheckpointCompleted { checkpoint } => {
                self.retained.insert(checkpoint);
                self.latest_completed = Some(checkpoint);
                let files = self.references.get(&checkpoint);
                files.and_then(|files| files.iter().find_map(|file| self.deleted.get(file).map(|at| (file, at)))).map(
                    |(file, at)| {
                        format!(
                            "{checkpoint} completed referencing {}, which was deleted at {at}: a restore from it \
                             will not find its state",
                            describe(*file)
                        )
                    },
                )
            }
            Fact::ObjectDeleted { object: object @ ObjectName::Metadata { checkpoint } } => {
                self.stored.remove(&object);
                self.retained.remove(&checkpoint);
                self.references.remove(&checkpoint);
                None
            }
            Fact::ObjectDeleted { object: file @ ObjectName::SharedFile { .. } } => {
                self.stored.remove(&file);
                self.deleted.insert(file, time);
                self.retained
                    .iter()
                    .find(|checkpoint| self.references.get(checkpoint).is_some_and(|files| files.contains(&file)))
                    .map(|checkpoint| {
                        format!(
                            "{} was deleted while retained {checkpoint} references it: a restore from {checkpoint} \
                             will not find its state",
                            describe(file)
                        )
                    })
            }
            Fact::ObjectDeleted { object } => {
                self.stored.remove(&object);
                None
            }
            Fact::StateFileMissing { task, file } => {
                Some(format!("{task} restored without {}: storage does not have it", describe(file)))
            }
            _ => None,
        };
        found.map(|detail| (Invariant::SharedState, detail))
    }

    /// At the end: every shared file still stored is referenced by a retained checkpoint or
    /// by one newer than the last completed (still in flight when the run ended), or was
    /// written for such a one.
    pub fn finish(&self) -> Option<(Invariant, String)> {
        let in_flight = |checkpoint: CheckpointId| self.latest_completed.is_none_or(|latest| checkpoint > latest);
        let leaked = self.stored.iter().find(|object| match **object {
            ObjectName::SharedFile { checkpoint: written_for, .. } => {
                let referenced = self.references.iter().any(|(checkpoint, files)| {
                    (self.retained.contains(checkpoint) || in_flight(*checkpoint)) && files.contains(object)
                });
                !in_flight(written_for) && !referenced
            }
            ObjectName::TaskState { checkpoint, .. } | ObjectName::Metadata { checkpoint } => {
                !in_flight(checkpoint) && !self.retained.contains(&checkpoint)
            }
        })?;
        let retained: Vec<String> = self.retained.iter().map(ToString::to_string).collect();
        let detail = format!(
            "{} is still in storage at the end of the run, but no retained checkpoint needs it (retained: {}): a leak",
            describe(*leaked),
            if retained.is_empty() { "none".to_string() } else { retained.join(", ") }
        );
        Some((Invariant::SharedState, detail))
    }
}

fn describe(object: ObjectName) -> String {
    match object {
        ObjectName::SharedFile { task, checkpoint, key_group } => {
            format!("the shared file of key group {key_group} that {task} wrote for {checkpoint}")
        }
        ObjectName::TaskState { task, checkpoint } => format!("the state of {task} for {checkpoint}"),
        ObjectName::Metadata { checkpoint } => format!("the metadata of {checkpoint}"),
    }
}
