//! Partition ownership: every partition of the log is owned by exactly one reader at every
//! moment it is owned at all, a reader reads only what it owns and each offset in order,
//! a restored reader holds exactly the partitions it held when it captured the restored
//! checkpoint, each at the offset it had reached then, and at the end of the run every
//! partition has an owner.
//!
//! Judged from facts: `PartitionAssigned`, `PartitionRead`, `PartitionRestored`, the
//! readers' `StateCaptured` and `TaskRestored`, and `JobRestarted` / `RegionRestarted`
//! (the restarted tasks own nothing until they restore or are assigned). A violation names
//! the partition, the offsets, the checkpoint and the restart.

use super::{ExpectedTotals, Invariant, JobShape};
use crate::kernel::ids::{CheckpointId, SplitKind, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, ObjectName};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Who holds a partition now, and where its next read must be.
#[derive(Clone, Copy, Debug)]
struct Ownership {
    task: TaskId,
    next_offset: u64,
}

/// Partitions held in a checkpoint by readers a rescale retired: offset and holder.
type Pool = BTreeMap<u32, (u64, TaskId)>;

/// The partition-ownership checker.
pub struct PartitionOwnership {
    shape: Rc<JobShape>,
    /// The stage of the job running now (`JobRescaled`).
    stage: usize,
    /// Every partition of the log (from the oracle).
    partitions: Vec<u32>,
    owners: BTreeMap<u32, Ownership>,
    /// Per (checkpoint, reader): the partitions it held and their next offsets at capture.
    captured: BTreeMap<(CheckpointId, TaskId), BTreeMap<u32, u64>>,
    /// Readers restored from a checkpoint whose partitions are still to be restored.
    restoring: BTreeMap<TaskId, (CheckpointId, BTreeMap<u32, u64>)>,
    /// After a restore across a rescale of the readers: the checkpoint, and every partition
    /// the old readers held in it (offset, holder) not yet restored by a new one.
    pool: Option<(CheckpointId, Pool)>,
    /// New readers restoring their share of the pool.
    redistributed: Vec<TaskId>,
    /// Per partition: the owner a restart took it from, when, and what restarted.
    released: BTreeMap<u32, (TaskId, SimTime, String)>,
}

impl PartitionOwnership {
    /// A checker for a job of this shape whose log has the partitions in `expected`.
    pub fn new(expected: &ExpectedTotals, shape: Rc<JobShape>) -> PartitionOwnership {
        let partitions = expected
            .source_splits
            .iter()
            .filter_map(|&(split, _)| match split.kind() {
                SplitKind::Partition(partition) => Some(partition),
                _ => None,
            })
            .collect();
        PartitionOwnership {
            shape,
            stage: 0,
            partitions,
            owners: BTreeMap::new(),
            captured: BTreeMap::new(),
            restoring: BTreeMap::new(),
            pool: None,
            redistributed: Vec::new(),
            released: BTreeMap::new(),
        }
    }

    /// Observes one fact at `time`; returns the violation it reveals, if any.
    #[inline]
    pub fn observe(&mut self, time: SimTime, fact: &Fact) -> Option<(Invariant, String)> {
        if self.partitions.is_empty() {
            return None;
        }
        let found = match *fact {
            Fact::PartitionAssigned { task, partition } => self.take(task, partition, 0, "was assigned"),
            Fact::PartitionRestored { task, partition, offset } if self.redistributed.contains(&task) => {
                self.on_restored_share(task, partition, offset)
            }
            Fact::PartitionRestored { task, partition, offset } => self.on_restored(task, partition, offset),
            Fact::SplitsRedistributed { task, checkpoint, .. } => self.on_redistributed(task, checkpoint),
            Fact::PartitionRead { task, partition, offset } => self.on_read(task, partition, offset),
            Fact::StateCaptured { task, checkpoint, .. } => {
                let held = self.held_by(task);
                if !held.is_empty() {
                    self.captured.insert((checkpoint, task), held);
                }
                None
            }
            Fact::ObjectDeleted { object: ObjectName::TaskState { checkpoint, task } } => {
                self.captured.remove(&(checkpoint, task));
                None
            }
            Fact::TaskRestored { task, checkpoint: Some(checkpoint), .. } => {
                if let Some(held) = self.captured.get(&(checkpoint, task)) {
                    self.restoring.insert(task, (checkpoint, held.clone()));
                }
                None
            }
            Fact::JobRescaled { stage } => {
                self.stage = stage as usize;
                // The readers a rescale retired own nothing any more.
                let running = self.shape.running(self.stage);
                let retired: Vec<TaskId> = self
                    .owners
                    .values()
                    .map(|owner| owner.task)
                    .filter(|task| running.binary_search(task).is_err())
                    .collect();
                self.release(&retired, time, "the job was rescaled".to_string());
                None
            }
            Fact::JobRestarted { checkpoint, .. } => {
                if let Some(detail) = self.unrestored_share() {
                    return Some((Invariant::PartitionOwnership, detail));
                }
                self.pool = None;
                self.redistributed.clear();
                let every_task = self.shape.running(self.stage).to_vec();
                self.release(&every_task, time, format!("the job restarted from {}", from(checkpoint)));
                None
            }
            Fact::RegionRestarted { region, checkpoint, .. } => {
                let members = self.shape.region(self.stage, region).unwrap_or_default().to_vec();
                self.release(&members, time, format!("region {region} restarted from {}", from(checkpoint)));
                None
            }
            _ => None,
        };
        found.map(|detail| (Invariant::PartitionOwnership, detail))
    }

    /// At the end, every partition must have an owner, and every restore must be complete.
    pub fn finish(&self) -> Option<(Invariant, String)> {
        if let Some(detail) = self.unrestored_share() {
            return Some((Invariant::PartitionOwnership, detail));
        }
        if let Some(detail) = self.restoring.iter().find_map(|(&task, (checkpoint, left))| {
            let (&partition, &offset) = left.first_key_value()?;
            Some(unrestored(task, *checkpoint, partition, offset))
        }) {
            return Some((Invariant::PartitionOwnership, detail));
        }
        let orphan = self.partitions.iter().find(|partition| !self.owners.contains_key(partition))?;
        let history = match self.released.get(orphan) {
            Some((task, time, what)) => format!(
                ": {task} owned it until {what} at {time}, and neither its restored state nor the enumerator gave it \
                 to anyone again — its records after that point were never read"
            ),
            None => ": it was never assigned".to_string(),
        };
        Some((
            Invariant::PartitionOwnership,
            format!("partition {orphan} is owned by no reader at the end of the run{history}"),
        ))
    }

    /// `task` takes `partition`, to read from `offset`.
    fn take(&mut self, task: TaskId, partition: u32, offset: u64, how: &str) -> Option<String> {
        if let Some(owner) = self.owners.get(&partition).filter(|owner| owner.task != task) {
            return Some(format!(
                "partition {partition} {how} to {task} while {} still owns it (at offset {}): two readers would read it",
                owner.task, owner.next_offset
            ));
        }
        self.owners.insert(partition, Ownership { task, next_offset: offset });
        self.released.remove(&partition);
        None
    }

    fn on_restored(&mut self, task: TaskId, partition: u32, offset: u64) -> Option<String> {
        let expected = match self.restoring.get_mut(&task) {
            Some((checkpoint, left)) => match left.remove(&partition) {
                Some(captured) if captured == offset => None,
                Some(captured) => {
                    let (from, to) = (offset.min(captured), offset.max(captured));
                    let records =
                        if to - from == 1 { format!("record {from}") } else { format!("records {from}..{to}") };
                    let fate = if offset > captured { "skipped" } else { "read twice" };
                    Some(format!(
                        "{task} restored partition {partition} at offset {offset}, but it had reached offset \
                         {captured} when it captured {checkpoint}: {records} would be {fate}"
                    ))
                }
                None => Some(format!("{task} restored partition {partition}, which it did not hold at {checkpoint}")),
            },
            None => Some(format!("{task} restored partition {partition} without a checkpoint that holds it")),
        };
        if self.restoring.get(&task).is_some_and(|(_, left)| left.is_empty()) {
            self.restoring.remove(&task);
        }
        expected.or_else(|| self.take(task, partition, offset, "was restored"))
    }

    /// New reader `task` restores its share of what every old reader held in `checkpoint`.
    fn on_redistributed(&mut self, task: TaskId, checkpoint: CheckpointId) -> Option<String> {
        if self.pool.as_ref().is_none_or(|(pooled, _)| *pooled != checkpoint) {
            let running = self.shape.running(self.stage);
            let mut held = BTreeMap::new();
            for (&(_, old), partitions) in self.captured.range((checkpoint, TaskId(0))..=(checkpoint, TaskId(u32::MAX)))
            {
                if running.binary_search(&old).is_err() {
                    held.extend(partitions.iter().map(|(&partition, &offset)| (partition, (offset, old))));
                }
            }
            self.pool = Some((checkpoint, held));
            self.redistributed.clear();
        }
        self.redistributed.push(task);
        None
    }

    /// A new reader restored `partition` at `offset` from the pool of a rescaled restore.
    fn on_restored_share(&mut self, task: TaskId, partition: u32, offset: u64) -> Option<String> {
        let (checkpoint, pool) = self.pool.as_mut()?;
        let checkpoint = *checkpoint;
        let found = match pool.remove(&partition) {
            Some((captured, _)) if captured == offset => None,
            Some((captured, holder)) => Some(format!(
                "after the rescale, {task} restored partition {partition} at offset {offset}, but {holder} had reached \
                 offset {captured} when it captured {checkpoint}"
            )),
            None => Some(format!(
                "after the rescale, {task} restored partition {partition}, which no old reader held in {checkpoint} \
                 or another new reader restored already"
            )),
        };
        found.or_else(|| self.take(task, partition, offset, "was restored"))
    }

    /// A partition of a rescaled restore that no new reader took: its records would never
    /// be read again.
    fn unrestored_share(&self) -> Option<String> {
        let (checkpoint, pool) = self.pool.as_ref()?;
        let (&partition, &(offset, holder)) = pool.first_key_value()?;
        Some(format!(
            "after the rescale, partition {partition} ({holder} held it at offset {offset} in {checkpoint}) was restored \
             by no reader"
        ))
    }

    fn on_read(&mut self, task: TaskId, partition: u32, offset: u64) -> Option<String> {
        if let Some((checkpoint, left)) = self.restoring.get(&task)
            && let Some((&missing, &at)) = left.first_key_value()
        {
            return Some(unrestored(task, *checkpoint, missing, at));
        }
        let Some(owner) = self.owners.get_mut(&partition).filter(|owner| owner.task == task) else {
            return Some(format!("{task} read partition {partition} (offset {offset}), which it does not own"));
        };
        if owner.next_offset != offset {
            return Some(format!(
                "{task} read offset {offset} of partition {partition}, but its next offset was {}",
                owner.next_offset
            ));
        }
        owner.next_offset = offset + 1;
        None
    }

    fn held_by(&self, task: TaskId) -> BTreeMap<u32, u64> {
        self.owners
            .iter()
            .filter(|(_, owner)| owner.task == task)
            .map(|(&partition, owner)| (partition, owner.next_offset))
            .collect()
    }

    fn release(&mut self, tasks: &[TaskId], time: SimTime, what: String) {
        let released: Vec<(u32, TaskId)> = self
            .owners
            .iter()
            .filter(|(_, owner)| tasks.contains(&owner.task))
            .map(|(&partition, owner)| (partition, owner.task))
            .collect();
        for (partition, task) in released {
            self.owners.remove(&partition);
            self.released.insert(partition, (task, time, what.clone()));
        }
        for task in tasks {
            self.restoring.remove(task);
        }
    }
}

fn unrestored(task: TaskId, checkpoint: CheckpointId, partition: u32, offset: u64) -> String {
    format!(
        "{task} held partition {partition} at offset {offset} when it captured {checkpoint}, but did not restore it"
    )
}

fn from(checkpoint: Option<CheckpointId>) -> String {
    checkpoint.map_or_else(|| "scratch".to_string(), |checkpoint| checkpoint.to_string())
}
