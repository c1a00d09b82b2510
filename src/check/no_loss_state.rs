//! No loss, for at-least-once protocols: every source record's effect is in the surviving
//! keyed state at least as often as the graph routes it there; extra applications are
//! duplicates, counted and reported, not failed.
//!
//! A per-key count cannot tell a loss from a duplicate, so the ledger here is per record:
//! for each keyed task, how many times each source record was applied. It follows the same
//! facts as the exactly-once ledger — `RecordApplied`, `StateCaptured` (copy),
//! `TaskRestored` (replace), `ObjectDeleted` (drop the copy) — and is judged at the end of
//! the run, vertex by vertex, record by record.

use super::{ExpectedTotals, Invariant, JobShape, RecordNumbering};
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::{Fact, ObjectName};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The no-loss checker.
pub struct NoLossState {
    expected: Rc<ExpectedTotals>,
    shape: Rc<JobShape>,
    /// The state key each record was applied under (by record number), kept only for a
    /// job with rescales: a rescaled restore moves records by their key's group.
    record_keys: Vec<u64>,
    numbering: RecordNumbering,
    /// Per task: applications per record (saturating), allocated on first use.
    ledgers: Vec<Vec<u8>>,
    captured: BTreeMap<(CheckpointId, TaskId), Vec<u8>>,
    duplicates: u64,
}

impl NoLossState {
    /// A checker against `expected`.
    pub fn new(expected: Rc<ExpectedTotals>, shape: Rc<JobShape>) -> NoLossState {
        NoLossState {
            numbering: RecordNumbering::of(&expected),
            expected,
            shape,
            record_keys: Vec::new(),
            ledgers: Vec::new(),
            captured: BTreeMap::new(),
            duplicates: 0,
        }
    }

    /// Applications beyond the expected ones, counted by `finish`.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    fn ledger(&mut self, task: TaskId) -> &mut Vec<u8> {
        if task.index() >= self.ledgers.len() {
            self.ledgers.resize(task.index() + 1, Vec::new());
        }
        let size = self.numbering.count();
        let ledger = &mut self.ledgers[task.index()];
        if ledger.len() < size {
            ledger.resize(size, 0);
        }
        ledger
    }

    /// Observes one fact; loss shows only at the end, so this never reports.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        match *fact {
            Fact::RecordApplied { task, record, key } => {
                // A record no fault-free run has cannot be lost; exactly-once-state judges it.
                if let Some(index) = self.numbering.index(record) {
                    let entry = &mut self.ledger(task)[index];
                    *entry = entry.saturating_add(1);
                    if self.shape.stages.len() > 1 {
                        if index >= self.record_keys.len() {
                            self.record_keys.resize(self.numbering.count(), 0);
                        }
                        self.record_keys[index] = key;
                    }
                }
            }
            Fact::JobRescaled { stage } => {
                // The tasks a rescale retired hold nothing any more; their captures stay.
                let running = self.shape.running(stage as usize);
                for (index, ledger) in self.ledgers.iter_mut().enumerate() {
                    if running.binary_search(&TaskId::from_index(index)).is_err() {
                        ledger.clear();
                    }
                }
            }
            Fact::KeyGroupsRestored { task, checkpoint, first, last, .. } => {
                self.restore_key_groups(task, checkpoint, first..=last)
            }
            Fact::StateCaptured { task, checkpoint, .. } if self.expected.group_of(task).is_some() => {
                let copy = self.ledger(task).clone();
                self.captured.insert((checkpoint, task), copy);
            }
            Fact::ObjectDeleted { object: ObjectName::TaskState { checkpoint, task } } => {
                self.captured.remove(&(checkpoint, task));
            }
            Fact::TaskRestored { task, checkpoint, .. } if self.expected.group_of(task).is_some() => {
                let restored = checkpoint.and_then(|id| self.captured.get(&(id, task)).cloned());
                let ledger = self.ledger(task);
                match restored {
                    Some(copy) => *ledger = copy,
                    None => ledger.fill(0),
                }
            }
            _ => {}
        }
        None
    }

    /// `task`, deployed by a rescale, restored the key groups `groups` from every state of
    /// `checkpoint` of its vertex: its ledger is theirs, record by record, for those groups.
    fn restore_key_groups(&mut self, task: TaskId, checkpoint: CheckpointId, groups: std::ops::RangeInclusive<u32>) {
        let Some(owned) = self.shape.key_groups_of(task).copied() else { return };
        let group = self.expected.group_of(task);
        let mut restored = vec![0u8; self.numbering.count()];
        for (&(_, old), captured) in self.captured.range((checkpoint, TaskId(0))..=(checkpoint, TaskId(u32::MAX))) {
            if self.expected.group_of(old) != group {
                continue;
            }
            for (index, &applied) in captured.iter().enumerate().filter(|(_, applied)| **applied > 0) {
                let key = self.record_keys.get(index).copied().unwrap_or(0);
                if groups.contains(&owned.group_of(key)) {
                    restored[index] = restored[index].saturating_add(applied);
                }
            }
        }
        *self.ledger(task) = restored;
    }

    /// Every record must reach every keyed vertex at least as often as the graph routes it.
    pub fn finish(&mut self) -> Option<(Invariant, String)> {
        let mut duplicates = 0u64;
        for (group, per_split) in self.expected.multiplicity.iter().enumerate() {
            let members: Vec<usize> = (0..self.ledgers.len())
                .filter(|&task| self.expected.group_of(TaskId::from_index(task)) == Some(group))
                .collect();
            for (position, &wanted) in per_split.iter().enumerate().filter(|(_, wanted)| **wanted > 0) {
                for record in self.numbering.records_of(&self.expected, position) {
                    let index = self.numbering.index(record).expect("an expected record is numbered");
                    let applied: u64 = members
                        .iter()
                        .map(|&task| u64::from(self.ledgers[task].get(index).copied().unwrap_or(0)))
                        .sum();
                    if applied < wanted {
                        let detail = format!(
                            "{record} is in the surviving keyed state {applied} times, but the graph routes it \
                             there {wanted} times: lost"
                        );
                        return Some((Invariant::NoLossState, detail));
                    }
                    duplicates += applied - wanted;
                }
            }
        }
        self.duplicates = duplicates;
        None
    }
}
