//! Exactly-once state, judged from facts: a ledger of applied records per task and key.
//!
//! The ledger follows what the harness physically did: `RecordApplied` adds a record's
//! fingerprint to its key; `StateCaptured` copies the task's ledger as the checkpoint's;
//! `TaskRestored` replaces the ledger with the copy of the checkpoint it loaded (or empties
//! it for a fresh start); `ObjectDeleted` drops a copy whose state can no longer be loaded.
//! Restoring from a capture the checker never saw is itself a violation. A key whose ledger
//! count passes the number of source records with that key is a duplicate, caught when the
//! count overflows (not necessarily at the duplicated record itself). At the end, each key of
//! a keyed vertex must live on one of its subtasks only, and its count and fingerprint must
//! equal the oracle's — a loss and a duplicate cannot cancel out in the fingerprint.

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

/// The ledger checker.
pub struct ExactlyOnceState {
    expected: Rc<ExpectedTotals>,
    shape: Rc<JobShape>,
    /// Per task (indexed by `TaskId`), per key.
    ledgers: Vec<Vec<KeyLedger>>,
    /// Ledgers captured per checkpoint and keyed task.
    captured: BTreeMap<(CheckpointId, TaskId), Vec<KeyLedger>>,
}

impl ExactlyOnceState {
    /// A checker against `expected`.
    pub fn new(expected: Rc<ExpectedTotals>, shape: Rc<JobShape>) -> ExactlyOnceState {
        ExactlyOnceState { expected, shape, ledgers: Vec::new(), captured: BTreeMap::new() }
    }

    fn ledger(&mut self, task: TaskId) -> &mut Vec<KeyLedger> {
        if task.index() >= self.ledgers.len() {
            self.ledgers.resize(task.index() + 1, Vec::new());
        }
        &mut self.ledgers[task.index()]
    }

    /// Observes one fact; returns the violation it reveals, if any.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        match *fact {
            Fact::RecordApplied { task, record, key } => {
                let Some(group) = self.expected.group_of(task) else {
                    let detail = format!("{task} applied {record} to keyed state, but it runs no keyed operator");
                    return Some((Invariant::ExactlyOnceState, detail));
                };
                let expected = self.expected.of(group, key).count;
                let ledger = self.ledger(task);
                let index = usize::try_from(key).expect("key fits usize");
                if index >= ledger.len() {
                    ledger.resize(index + 1, KeyLedger::default());
                }
                let entry = &mut ledger[index];
                entry.count += 1;
                entry.fingerprint = entry.fingerprint.wrapping_add(record.fingerprint());
                (entry.count > expected).then(|| {
                    let detail = format!(
                        "{record} was applied to key {key} on {task} as its record number {}, but the sources \
                         produced only {expected} records with that key: a record was counted twice",
                        entry.count
                    );
                    (Invariant::ExactlyOnceState, detail)
                })
            }
            Fact::StateCaptured { task, checkpoint, .. } => {
                if self.expected.group_of(task).is_some() {
                    let ledger = self.ledger(task).clone();
                    self.captured.insert((checkpoint, task), ledger);
                }
                None
            }
            Fact::ObjectDeleted { object: ObjectName::TaskState { checkpoint, task } } => {
                self.captured.remove(&(checkpoint, task));
                None
            }
            Fact::JobRescaled { stage } => {
                self.retire_all_but(stage as usize);
                None
            }
            Fact::KeyGroupsRestored { task, checkpoint, first, last, .. } => {
                self.restore_key_groups(task, checkpoint, first..=last);
                None
            }
            Fact::TaskRestored { task, checkpoint: None, .. } => {
                self.ledger(task).clear();
                None
            }
            Fact::TaskRestored { task, checkpoint: Some(checkpoint), .. } => {
                let holds_keyed_state = self.expected.group_of(task).is_some();
                match self.captured.get(&(checkpoint, task)).cloned() {
                    Some(restored) => {
                        *self.ledger(task) = restored;
                        None
                    }
                    None if !holds_keyed_state => None,
                    None => Some((
                        Invariant::ExactlyOnceState,
                        format!("{task} restored {checkpoint}, whose state it never captured or which was deleted"),
                    )),
                }
            }
            _ => None,
        }
    }

    /// The tasks a rescale retired (all but `stage`'s) hold nothing any more; their
    /// captures stay, for restores.
    fn retire_all_but(&mut self, stage: usize) {
        let running = self.shape.running(stage);
        for (index, ledger) in self.ledgers.iter_mut().enumerate() {
            if running.binary_search(&TaskId::from_index(index)).is_err() {
                ledger.clear();
            }
        }
    }

    /// `task`, deployed by a rescale, restored key groups `groups` from every state of
    /// `checkpoint` of its vertex: its ledger is theirs, for the keys of those groups.
    fn restore_key_groups(&mut self, task: TaskId, checkpoint: CheckpointId, groups: std::ops::RangeInclusive<u32>) {
        let Some(owned) = self.shape.key_groups_of(task).copied() else { return };
        let group = self.expected.group_of(task);
        let mut restored: Vec<KeyLedger> = Vec::new();
        for (&(_, old), captured) in self.captured.range((checkpoint, TaskId(0))..=(checkpoint, TaskId(u32::MAX))) {
            if self.expected.group_of(old) != group {
                continue;
            }
            for (key, entry) in captured.iter().enumerate().filter(|(_, entry)| entry.count > 0) {
                if groups.contains(&owned.group_of(key as u64)) {
                    if key >= restored.len() {
                        restored.resize(key + 1, KeyLedger::default());
                    }
                    let slot = &mut restored[key];
                    slot.count += entry.count;
                    slot.fingerprint = slot.fingerprint.wrapping_add(entry.fingerprint);
                }
            }
        }
        *self.ledger(task) = restored;
    }

    /// The end-of-run comparison with the oracle, group by group and key by key.
    pub fn finish(&self) -> Option<(Invariant, String)> {
        for (group, per_key) in self.expected.groups.iter().enumerate() {
            let members: Vec<usize> = (0..self.expected.task_groups.len())
                .filter(|&task| self.expected.group_of(TaskId::from_index(task)) == Some(group))
                .collect();
            let held_keys = members.iter().filter_map(|&task| self.ledgers.get(task)).map(Vec::len).max().unwrap_or(0);
            for key in 0..held_keys.max(per_key.len()) {
                let holders: Vec<(usize, KeyLedger)> = members
                    .iter()
                    .filter_map(|&task| {
                        let entry = self.ledgers.get(task)?.get(key).filter(|entry| entry.count > 0)?;
                        Some((task, *entry))
                    })
                    .collect();
                if let Some(detail) = self.judge_key(group, key as u64, &holders) {
                    return Some((Invariant::ExactlyOnceState, detail));
                }
            }
        }
        None
    }

    fn judge_key(&self, group: usize, key: u64, holders: &[(usize, KeyLedger)]) -> Option<String> {
        if holders.len() > 1 {
            let tasks: Vec<String> = holders.iter().map(|(task, _)| format!("task#{task}")).collect();
            return Some(format!("key {key} has state on more than one task: {}", tasks.join(", ")));
        }
        let held = holders.first().map(|(_, entry)| *entry).unwrap_or_default();
        let expected = self.expected.of(group, key);
        if held.count == expected.count && held.fingerprint == expected.fingerprint {
            return None;
        }
        let verdict = match held.count.cmp(&expected.count) {
            std::cmp::Ordering::Less => format!("{} records lost", expected.count - held.count),
            std::cmp::Ordering::Greater => format!("{} records counted twice", held.count - expected.count),
            std::cmp::Ordering::Equal => "as many records, but not the same ones (a loss and a duplicate)".to_string(),
        };
        Some(format!(
            "key {key}: the sources produced {} records (fingerprint {:016x}), the surviving state applied {} \
             (fingerprint {:016x}): {verdict}",
            expected.count, expected.fingerprint, held.count, held.fingerprint
        ))
    }
}
