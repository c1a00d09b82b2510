//! Key ownership across a rescale: after a rescaled restore, every key's state lives on
//! exactly the subtask that owns its key group, and holds what it held in the checkpoint the
//! job restored from.
//!
//! Judged from facts only, for jobs with rescales. What each key held at each checkpoint
//! comes from the records applied (`RecordApplied`, copied at `StateCaptured`, replaced at
//! `TaskRestored`) — never from the state bytes. A rescaled restore shows as
//! `KeyGroupsRestored` per new subtask, followed by one `KeyRestored` per key the operator
//! then holds: each must be on the owner of its key group (the checker computes ownership
//! from the job's shape, not from the harness), hold exactly the checkpoint's records for
//! that key, and appear once; once every new subtask of the vertex has reported, every key
//! the checkpoint held must have turned up somewhere.

use super::{ExpectedTotals, Invariant, JobShape};
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::{Fact, ObjectName};
use std::collections::BTreeMap;
use std::rc::Rc;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct KeyLedger {
    count: u64,
    fingerprint: u64,
}

/// The state of one keyed vertex's rescaled restore in progress.
struct RescaledVertex {
    checkpoint: CheckpointId,
    /// Every key the checkpoint's states of the vertex held: the old holder and its ledger.
    before: BTreeMap<u64, (TaskId, KeyLedger)>,
    /// New subtasks that have not reported yet.
    tasks_left: usize,
    /// `KeyRestored` facts still announced, per new subtask.
    keys_left: BTreeMap<TaskId, u64>,
    /// Where each key turned up.
    restored: BTreeMap<u64, TaskId>,
}

/// The key-ownership checker.
pub struct KeyOwnership {
    expected: Rc<ExpectedTotals>,
    shape: Rc<JobShape>,
    /// Judged only for a job with rescales (the ledgers cost a lookup per record).
    enabled: bool,
    stage: usize,
    /// Per task, per state key.
    ledgers: BTreeMap<TaskId, BTreeMap<u64, KeyLedger>>,
    captured: BTreeMap<(CheckpointId, TaskId), BTreeMap<u64, KeyLedger>>,
    /// Rescaled restores in progress, by group (keyed vertex).
    rescaled: BTreeMap<usize, RescaledVertex>,
}

impl KeyOwnership {
    /// A checker for a job of `shape` (judging nothing unless it has more than one stage).
    pub fn new(expected: Rc<ExpectedTotals>, shape: Rc<JobShape>) -> KeyOwnership {
        KeyOwnership {
            enabled: shape.stages.len() > 1,
            expected,
            shape,
            stage: 0,
            ledgers: BTreeMap::new(),
            captured: BTreeMap::new(),
            rescaled: BTreeMap::new(),
        }
    }

    /// Observes one fact; returns the violation it reveals, if any.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        if !self.enabled {
            return None;
        }
        let found = match *fact {
            Fact::RecordApplied { task, key, record } if self.shape.key_groups_of(task).is_some() => {
                let entry = self.ledgers.entry(task).or_default().entry(key).or_default();
                entry.count += 1;
                entry.fingerprint = entry.fingerprint.wrapping_add(record.fingerprint());
                None
            }
            Fact::StateCaptured { task, checkpoint, .. } if self.shape.key_groups_of(task).is_some() => {
                self.captured.insert((checkpoint, task), self.ledgers.get(&task).cloned().unwrap_or_default());
                None
            }
            Fact::ObjectDeleted { object: ObjectName::TaskState { checkpoint, task } } => {
                self.captured.remove(&(checkpoint, task));
                None
            }
            Fact::TaskRestored { task, checkpoint, .. } => {
                let restored = checkpoint.and_then(|checkpoint| self.captured.get(&(checkpoint, task)).cloned());
                self.ledgers.insert(task, restored.unwrap_or_default());
                None
            }
            Fact::JobRescaled { stage } => {
                self.stage = stage as usize;
                let running = self.shape.running(self.stage);
                self.ledgers.retain(|task, _| running.binary_search(task).is_ok());
                None
            }
            Fact::JobRestarted { .. } | Fact::RegionRestarted { .. } => {
                self.rescaled.clear();
                None
            }
            Fact::KeyGroupsRestored { task, checkpoint, first, last, keys } => {
                self.on_key_groups_restored(task, checkpoint, first..=last, keys)
            }
            Fact::KeyRestored { task, key, count, fingerprint } => {
                self.on_key_restored(task, key, KeyLedger { count, fingerprint })
            }
            _ => None,
        };
        found.map(|detail| (Invariant::KeyOwnership, detail))
    }

    fn on_key_groups_restored(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        groups: std::ops::RangeInclusive<u32>,
        keys: u64,
    ) -> Option<String> {
        let owned = *self.shape.key_groups_of(task)?;
        let group = self.expected.group_of(task)?;
        if self.rescaled.get(&group).is_none_or(|vertex| vertex.checkpoint != checkpoint) {
            let before = self.held_at(checkpoint, group);
            let running = self.shape.running(self.stage);
            let tasks_left = running.iter().filter(|&&other| self.expected.group_of(other) == Some(group)).count();
            let fresh = RescaledVertex {
                checkpoint,
                before,
                tasks_left,
                keys_left: BTreeMap::new(),
                restored: BTreeMap::new(),
            };
            self.rescaled.insert(group, fresh);
        }
        let vertex = self.rescaled.get_mut(&group).expect("just inserted");
        // The ledger follows what the harness says it loaded; `KeyRestored` shows what the
        // operator then holds.
        let ledger = vertex
            .before
            .iter()
            .filter(|&(&key, _)| groups.contains(&owned.group_of(key)))
            .map(|(&key, &(_, held))| (key, held))
            .collect();
        self.ledgers.insert(task, ledger);
        vertex.tasks_left = vertex.tasks_left.saturating_sub(1);
        vertex.keys_left.insert(task, keys);
        self.judge_complete(group)
    }

    fn on_key_restored(&mut self, task: TaskId, key: u64, held: KeyLedger) -> Option<String> {
        let owned = *self.shape.key_groups_of(task)?;
        let group = self.expected.group_of(task)?;
        let key_group = owned.group_of(key);
        if !owned.range.contains(key_group) {
            let owner =
                self.owner_of(group, key_group).map_or_else(|| "no running subtask".to_string(), |t| t.to_string());
            return Some(format!(
                "after the rescale, key {key} (key group {key_group}) was restored on {task}, which owns key groups \
                 {}..={}; key group {key_group} belongs to {owner}",
                owned.range.first, owned.range.last
            ));
        }
        let vertex = self.rescaled.get_mut(&group)?;
        let checkpoint = vertex.checkpoint;
        if let Some(other) = vertex.restored.insert(key, task) {
            return Some(format!("after the rescale, key {key} was restored on both {other} and {task}"));
        }
        if let Some(left) = vertex.keys_left.get_mut(&task) {
            *left = left.saturating_sub(1);
        }
        let found = match vertex.before.get(&key).copied() {
            None => Some(format!(
                "after the rescale, {task} holds key {key} ({} records), but no state of {checkpoint} held that key",
                held.count
            )),
            Some((holder, ledger)) if ledger != held => Some(format!(
                "after the rescale, {task} holds key {key} with {} records (fingerprint {:016x}), but {holder} held {} \
                 (fingerprint {:016x}) for it in {checkpoint}",
                held.count, held.fingerprint, ledger.count, ledger.fingerprint
            )),
            Some(_) => None,
        };
        found.or_else(|| self.judge_complete(group))
    }

    /// Once every new subtask of `group` has reported all its keys: every key the checkpoint
    /// held must have turned up.
    fn judge_complete(&mut self, group: usize) -> Option<String> {
        let vertex = self.rescaled.get(&group)?;
        if vertex.tasks_left > 0 || vertex.keys_left.values().any(|&left| left > 0) {
            return None;
        }
        let vertex = self.rescaled.remove(&group).expect("present");
        let (&key, &(holder, ledger)) = vertex.before.iter().find(|(key, _)| !vertex.restored.contains_key(key))?;
        let owned = self.shape.key_groups_of(holder).copied()?;
        let key_group = owned.group_of(key);
        let owner = self.owner_of(group, key_group).map_or_else(|| "no running subtask".to_string(), |t| t.to_string());
        Some(format!(
            "after the rescale, key {key} (key group {key_group}; {} records on {holder} in {}) was restored on no \
             subtask; key group {key_group} belongs to {owner}",
            ledger.count, vertex.checkpoint
        ))
    }

    /// Every key held by a state of `group` captured for `checkpoint`, with its holder.
    fn held_at(&self, checkpoint: CheckpointId, group: usize) -> BTreeMap<u64, (TaskId, KeyLedger)> {
        let mut before = BTreeMap::new();
        for (&(_, old), captured) in self.captured.range((checkpoint, TaskId(0))..=(checkpoint, TaskId(u32::MAX))) {
            if self.expected.group_of(old) == Some(group) {
                for (&key, &ledger) in captured.iter().filter(|(_, ledger)| ledger.count > 0) {
                    before.insert(key, (old, ledger));
                }
            }
        }
        before
    }

    /// The running subtask of `group` that owns `key_group`.
    fn owner_of(&self, group: usize, key_group: u32) -> Option<TaskId> {
        self.shape.running(self.stage).iter().copied().find(|&task| {
            self.expected.group_of(task) == Some(group)
                && self.shape.key_groups_of(task).is_some_and(|owned| owned.range.contains(key_group))
        })
    }
}
