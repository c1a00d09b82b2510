//! Keyed state: key groups, and the built-in keyed count-and-sum aggregation.
//!
//! Keys map to key groups as Flink maps them (a hash of the key modulo the maximum
//! parallelism), and each subtask owns a contiguous range of key groups. Routing by key
//! group now is what will let a later rescale move state by whole groups.

use super::keyed_state::KeyGroupedBytes;
use super::operator::{Operator, StateError};
use super::record::{Record, mix64};
use super::state_codec::{push_row, rows};

/// Flink's default maximum parallelism for an operator of `parallelism` subtasks: the next
/// power of two of 1.5 × parallelism, clamped to 128..=32768.
pub fn default_max_parallelism(parallelism: u32) -> u32 {
    let wanted = (u64::from(parallelism) + u64::from(parallelism) / 2).next_power_of_two();
    u32::try_from(wanted.clamp(128, 32_768)).expect("clamped below u32::MAX")
}

/// The key group of `key` among `max_parallelism` groups.
pub fn key_group_of(key: u64, max_parallelism: u32) -> u32 {
    u32::try_from(mix64(key) % u64::from(max_parallelism)).expect("below a u32 modulus")
}

/// The subtask (of `parallelism`) that owns `key_group`: Flink's `group × p / maxP`.
pub fn subtask_of_key_group(key_group: u32, max_parallelism: u32, parallelism: u32) -> u32 {
    assert!(key_group < max_parallelism, "key group {key_group} out of {max_parallelism}");
    u32::try_from(u64::from(key_group) * u64::from(parallelism) / u64::from(max_parallelism))
        .expect("below parallelism")
}

/// What a keyed count holds for one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyTotals {
    /// Records applied.
    pub count: u64,
    /// Sum of their values.
    pub sum: i64,
    /// Wrapping sum of their record fingerprints.
    pub fingerprint: u64,
}

impl KeyTotals {
    /// These totals with one more record applied.
    pub fn with(self, record: &Record) -> KeyTotals {
        KeyTotals {
            count: self.count + 1,
            sum: self.sum.checked_add(record.value).expect("sum overflowed i64"),
            fingerprint: self.fingerprint.wrapping_add(record.id.fingerprint()),
        }
    }
}

/// Counts and sums records per key; emits the key's new count for every record.
#[derive(Clone, Debug)]
pub struct KeyedCount {
    /// Indexed by state key; keys are dense.
    totals: Vec<KeyTotals>,
    /// Key groups of the vertex: its snapshot holds a section per key group.
    max_parallelism: u32,
    /// State keys per record key (a join keeps two: one per side), so that a state key's
    /// record key — and so its key group — is `state key / state_keys_per_key`.
    state_keys_per_key: u64,
}

impl KeyedCount {
    /// An empty aggregation of a vertex with `max_parallelism` key groups.
    pub fn new(max_parallelism: u32) -> KeyedCount {
        KeyedCount::with_state_keys_per_key(max_parallelism, 1)
    }

    /// An empty aggregation keeping `state_keys_per_key` state keys per record key.
    pub fn with_state_keys_per_key(max_parallelism: u32, state_keys_per_key: u64) -> KeyedCount {
        KeyedCount { totals: Vec::new(), max_parallelism, state_keys_per_key }
    }

    /// The key group a state key's totals belong to.
    fn group_of(&self, state_key: u64) -> u32 {
        key_group_of(state_key / self.state_keys_per_key, self.max_parallelism)
    }

    /// The totals of every key that has at least one record, in key order.
    pub fn nonzero_totals(&self) -> impl Iterator<Item = (u64, KeyTotals)> + '_ {
        self.totals.iter().enumerate().filter(|(_, totals)| totals.count > 0).map(|(key, totals)| (key as u64, *totals))
    }

    fn slot(&mut self, key: u64) -> &mut KeyTotals {
        let index = usize::try_from(key).expect("key fits usize");
        if index >= self.totals.len() {
            self.totals.resize(index + 1, KeyTotals::default());
        }
        &mut self.totals[index]
    }
}

impl Operator for KeyedCount {
    fn process(&mut self, record: &Record, out: &mut Vec<Record>) {
        let slot = self.slot(record.key);
        *slot = slot.with(record);
        let count = i64::try_from(slot.count).expect("count fits i64");
        out.push(Record { value: count, ..*record });
    }

    /// Per key group, rows of `[key, count, sum, fingerprint]` for every non-empty key, in
    /// key order.
    fn snapshot(&self, out: &mut Vec<u8>) {
        let mut grouped = KeyGroupedBytes::new();
        for (key, totals) in self.nonzero_totals() {
            push_row(
                grouped.section_mut(self.group_of(key)),
                [key, totals.count, totals.sum as u64, totals.fingerprint],
            );
        }
        grouped.encode(out);
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        self.totals.clear();
        for (group, section) in KeyGroupedBytes::decode(state)?.sections() {
            for [key, count, sum, fingerprint] in rows::<4>(section)? {
                if self.group_of(key) != group {
                    return Err(StateError(format!("key {key} is in key group {group}'s section")));
                }
                *self.slot(key) = KeyTotals { count, sum: sum as i64, fingerprint };
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.totals.clear();
    }
}
