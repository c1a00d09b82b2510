//! The split enumerator of a `log-source`, on the coordinator's side: it discovers the
//! log's partitions, assigns each to one reader subtask, and tells a reader when nothing
//! more will come — a sans-IO state machine, as Flink's `SplitEnumerator` is.
//!
//! Its state (partitions discovered, and who owns which) goes into every checkpoint's
//! metadata, snapshotted when the checkpoint is triggered; a global restart resets it to
//! the restored checkpoint's. A reader that restarts alone (region failover) loads its
//! partitions from its own state, so the enumerator takes back — and assigns again — every
//! partition it handed that reader after the restored checkpoint was triggered: those are
//! in no state the reader restores (Flink's `SplitAssignmentTracker` and `addSplitsBack`).
//! Assignments reach a reader at once, so one made before a checkpoint's trigger is in the
//! reader's state for that checkpoint.

use super::operator::StateError;
use super::state_codec::{push_row, rows};
use crate::kernel::ids::CheckpointId;
use std::collections::{BTreeMap, BTreeSet};

/// What the harness tells the enumerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnumeratorInput {
    /// Partition discovery found `partitions` in the log; `complete`: it will not grow.
    Discovered {
        /// How many partitions the log has now.
        partitions: u32,
        /// Whether the log will get no more partitions.
        complete: bool,
    },
    /// Reader `subtask` is deployed and running: it may be assigned partitions.
    ReaderRegistered {
        /// The reader's subtask index.
        subtask: u32,
    },
    /// Reader `subtask` failed: assign it nothing until it registers again.
    ReaderFailed {
        /// The reader's subtask index.
        subtask: u32,
    },
    /// Reader `subtask` restarts alone, restoring `checkpoint` (`None`: from scratch).
    ReaderReset {
        /// The reader's subtask index.
        subtask: u32,
        /// The checkpoint restored; `None` for a start from scratch.
        checkpoint: Option<CheckpointId>,
    },
    /// Checkpoint `checkpoint` was triggered (the enumerator's snapshot is taken now).
    CheckpointTriggered {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Checkpoint `checkpoint` completed.
    CheckpointCompleted {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
}

/// What the enumerator asks the harness to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnumeratorCommand {
    /// Hand `partition` to reader `subtask`, to be read from its start.
    Assign {
        /// The reader's subtask index.
        subtask: u32,
        /// The log partition handed over.
        partition: u32,
    },
    /// Tell reader `subtask` no partition will come any more.
    NoMoreSplits {
        /// The reader's subtask index.
        subtask: u32,
    },
}

/// The split enumerator.
#[derive(Clone, Debug)]
pub struct SplitEnumerator {
    parallelism: u32,
    /// Partitions `0..discovered` are known.
    discovered: u32,
    /// The log will not grow beyond `discovered`.
    complete: bool,
    /// Every assigned partition and its reader.
    owner: BTreeMap<u32, u32>,
    /// Known partitions not assigned yet (their reader is not registered).
    unassigned: BTreeSet<u32>,
    registered: Vec<bool>,
    /// Readers told there is nothing more (since they last registered).
    told_no_more: Vec<bool>,
    /// Assignments not yet in a completed checkpoint: partition, reader, and the last
    /// checkpoint triggered before the assignment.
    uncheckpointed: Vec<(u32, u32, Option<CheckpointId>)>,
    last_triggered: Option<CheckpointId>,
    /// The planted bug `forget-assignments-before-first-checkpoint` (FLINK-20396): a
    /// reader that restarts with no checkpoint to restore does not get back what it had.
    forgets_before_first_checkpoint: bool,
}

impl SplitEnumerator {
    /// An enumerator for `parallelism` readers that knows no partition yet.
    pub fn new(parallelism: u32) -> SplitEnumerator {
        let readers = parallelism as usize;
        SplitEnumerator {
            parallelism,
            discovered: 0,
            complete: false,
            owner: BTreeMap::new(),
            unassigned: BTreeSet::new(),
            registered: vec![false; readers],
            told_no_more: vec![false; readers],
            uncheckpointed: Vec::new(),
            last_triggered: None,
            forgets_before_first_checkpoint: false,
        }
    }

    /// The same enumerator with the planted bug `forget-assignments-before-first-checkpoint`.
    pub fn forgetting_assignments_before_first_checkpoint(self) -> SplitEnumerator {
        SplitEnumerator { forgets_before_first_checkpoint: true, ..self }
    }

    /// The reader that owns `partition` once assigned (Kafka's rule: partition modulo the
    /// readers).
    pub fn owner_of(&self, partition: u32) -> u32 {
        partition % self.parallelism
    }

    /// Handles one input, appending commands to `out`.
    pub fn handle(&mut self, input: EnumeratorInput, out: &mut Vec<EnumeratorCommand>) {
        match input {
            EnumeratorInput::Discovered { partitions, complete } => {
                self.unassigned.extend(self.discovered..partitions.max(self.discovered));
                self.discovered = self.discovered.max(partitions);
                self.complete = complete;
            }
            EnumeratorInput::ReaderRegistered { subtask } => {
                self.registered[subtask as usize] = true;
                self.told_no_more[subtask as usize] = false;
            }
            EnumeratorInput::ReaderFailed { subtask } => self.registered[subtask as usize] = false,
            EnumeratorInput::ReaderReset { subtask, checkpoint } => self.take_back(subtask, checkpoint),
            EnumeratorInput::CheckpointTriggered { checkpoint } => self.last_triggered = Some(checkpoint),
            EnumeratorInput::CheckpointCompleted { checkpoint } => {
                // In the completed checkpoint's state: a restore is never from an older one.
                self.uncheckpointed.retain(|&(_, _, after)| after.is_some_and(|after| after >= checkpoint));
            }
        }
        self.assign(out);
    }

    /// Returns to the unassigned set what reader `subtask` got after `checkpoint` was
    /// triggered (everything, restoring from scratch).
    fn take_back(&mut self, subtask: u32, checkpoint: Option<CheckpointId>) {
        if checkpoint.is_none() && self.forgets_before_first_checkpoint {
            self.uncheckpointed.retain(|&(_, reader, _)| reader != subtask);
            return;
        }
        let after_restored = |after: Option<CheckpointId>| match (after, checkpoint) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(after), Some(restored)) => after >= restored,
        };
        let mut kept = Vec::new();
        for (partition, reader, after) in std::mem::take(&mut self.uncheckpointed) {
            if reader == subtask && after_restored(after) {
                self.owner.remove(&partition);
                self.unassigned.insert(partition);
            } else {
                kept.push((partition, reader, after));
            }
        }
        self.uncheckpointed = kept;
    }

    /// Assigns every unassigned partition whose reader is registered; tells each registered
    /// reader with nothing left to come that there is no more.
    fn assign(&mut self, out: &mut Vec<EnumeratorCommand>) {
        let ready: Vec<u32> =
            self.unassigned.iter().copied().filter(|&p| self.registered[self.owner_of(p) as usize]).collect();
        for partition in ready {
            let subtask = self.owner_of(partition);
            self.unassigned.remove(&partition);
            self.owner.insert(partition, subtask);
            self.uncheckpointed.push((partition, subtask, self.last_triggered));
            out.push(EnumeratorCommand::Assign { subtask, partition });
        }
        if !self.complete {
            return;
        }
        for subtask in 0..self.parallelism {
            let waiting = self.unassigned.iter().any(|&p| self.owner_of(p) == subtask);
            let reader = subtask as usize;
            if self.registered[reader] && !self.told_no_more[reader] && !waiting {
                self.told_no_more[reader] = true;
                out.push(EnumeratorCommand::NoMoreSplits { subtask });
            }
        }
    }

    /// The state a checkpoint keeps: `[discovered, complete]`, then `[partition, reader]`
    /// for every assignment.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::new();
        push_row(&mut out, [u64::from(self.discovered), u64::from(self.complete)]);
        for (&partition, &reader) in &self.owner {
            push_row(&mut out, [u64::from(partition), u64::from(reader)]);
        }
        out
    }

    /// Resets to what `snapshot` wrote when `checkpoint` was triggered (a global restart
    /// from that checkpoint); the readers register again.
    pub fn restore(&mut self, checkpoint: CheckpointId, state: &[u8]) -> Result<(), StateError> {
        let decoded = rows::<2>(state)?;
        let Some((&[discovered, complete], assignments)) = decoded.split_first() else {
            return Err(StateError("an enumerator state has a header row".to_string()));
        };
        self.reset();
        self.discovered = u32::try_from(discovered).map_err(|_| StateError("partition count".to_string()))?;
        self.complete = complete == 1;
        // What is assigned from now on came after the restored checkpoint's trigger.
        self.last_triggered = Some(checkpoint);
        self.unassigned = (0..self.discovered).collect();
        for &[partition, reader] in assignments {
            let partition = u32::try_from(partition).map_err(|_| StateError("partition".to_string()))?;
            let reader = u32::try_from(reader).map_err(|_| StateError("reader".to_string()))?;
            self.unassigned.remove(&partition);
            self.owner.insert(partition, reader);
        }
        Ok(())
    }

    /// A rescale redeployed the readers as `parallelism` subtasks: nothing is registered
    /// until they register again. (A restore, or a reset, follows at the restart.)
    pub fn resize(&mut self, parallelism: u32) {
        self.parallelism = parallelism;
        self.registered = vec![false; parallelism as usize];
        self.told_no_more = vec![false; parallelism as usize];
        self.uncheckpointed.clear();
    }

    /// Resets to `checkpoint`'s state as a rescale restores it: the readers' partitions
    /// were redistributed (`owners`: partition to new reader), so each partition's owner is
    /// the reader its offset went to; one the state assigned but no reader holds is
    /// assigned again.
    pub fn restore_rescaled(
        &mut self,
        checkpoint: CheckpointId,
        state: &[u8],
        owners: &BTreeMap<u32, u32>,
    ) -> Result<(), StateError> {
        self.restore(checkpoint, state)?;
        for partition in std::mem::take(&mut self.owner).into_keys() {
            match owners.get(&partition) {
                Some(&owner) => {
                    self.owner.insert(partition, owner);
                }
                None => {
                    self.unassigned.insert(partition);
                }
            }
        }
        Ok(())
    }

    /// Forgets everything: a global restart with no checkpoint to restore.
    pub fn reset(&mut self) {
        let planted = self.forgets_before_first_checkpoint;
        *self = SplitEnumerator::new(self.parallelism);
        self.forgets_before_first_checkpoint = planted;
    }
}
