//! A two-input keyed operator with state on both sides: the shape of a stream join.
//!
//! Input edge 0 is the left side, input edge 1 the right; both are hash-partitioned by the
//! same key, so a key's two sides live on one subtask. Per key and side it keeps the count,
//! the sum of values and the fingerprint sum of the records it received — keyed state as
//! `2 × key + side`, so the checkers judge each side like any keyed state. It forwards every
//! record unchanged: which records a full join would emit depends on how the two inputs
//! interleave, and the oracle follows records along paths, not interleavings.

use super::keyed::{KeyTotals, KeyedCount};
use super::operator::{Operator, StateError};
use super::record::Record;

/// The state key of `key` on `side` (0 left, 1 right).
pub fn side_key(key: u64, side: u8) -> u64 {
    key * 2 + u64::from(side)
}

/// A keyed two-input operator.
#[derive(Clone, Debug)]
pub struct KeyedJoin {
    /// Per side-tagged key (`side_key`); both sides of a key are in the key's key group.
    sides: KeyedCount,
}

impl KeyedJoin {
    /// An empty join of a vertex with `max_parallelism` key groups.
    pub fn new(max_parallelism: u32) -> KeyedJoin {
        KeyedJoin { sides: KeyedCount::with_state_keys_per_key(max_parallelism, 2) }
    }

    /// Applies `record`, which arrived on `side`, and forwards it to `out`.
    pub fn process_side(&mut self, side: u8, record: &Record, out: &mut Vec<Record>) {
        let tagged = Record { key: side_key(record.key, side), ..*record };
        let mut ignored = Vec::new();
        self.sides.process(&tagged, &mut ignored);
        out.push(*record);
    }

    /// Every non-empty side-tagged key's totals, in key order.
    pub fn nonzero_totals(&self) -> impl Iterator<Item = (u64, KeyTotals)> + '_ {
        self.sides.nonzero_totals()
    }
}

impl Operator for KeyedJoin {
    /// A join must know the side: the harness calls `process_side`.
    fn process(&mut self, _record: &Record, _out: &mut Vec<Record>) {
        unreachable!("a join's records are processed by side")
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        self.sides.snapshot(out);
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        self.sides.restore(state)
    }

    fn reset(&mut self) {
        self.sides.reset();
    }
}
