//! Final aggregates: what the keyed operators hold at the end equals the oracle.
//!
//! The harness records a `KeyTotal` fact per key and keyed task when a run finishes. This
//! catches what the ledger cannot see: an operator whose restore loads different state than
//! it captured, or that counts wrongly.

use super::{ExpectedTotals, Invariant, KeyExpectation};
use crate::kernel::ids::TaskId;
use crate::kernel::trace::Fact;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The final-aggregate checker.
pub struct FinalAggregate {
    expected: Rc<ExpectedTotals>,
    reported: BTreeMap<u64, (TaskId, KeyExpectation)>,
}

impl FinalAggregate {
    /// A checker against `expected`.
    pub fn new(expected: Rc<ExpectedTotals>) -> FinalAggregate {
        FinalAggregate { expected, reported: BTreeMap::new() }
    }

    /// Observes one fact; a key reported by two tasks is a violation at once.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        let Fact::KeyTotal { task, key, count, sum, fingerprint } = *fact else {
            return None;
        };
        let totals = KeyExpectation { count, sum, fingerprint };
        self.reported.insert(key, (task, totals)).map(|(other, _)| {
            (Invariant::FinalAggregate, format!("key {key} is held by both {other} and {task} at the end"))
        })
    }

    /// Compares every key's reported totals with the oracle.
    pub fn finish(&self) -> Option<(Invariant, String)> {
        let expected_keys = (0..self.expected.per_key.len() as u64).filter(|&key| self.expected.of(key).count > 0);
        let keys: std::collections::BTreeSet<u64> = expected_keys.chain(self.reported.keys().copied()).collect();
        keys.into_iter().find_map(|key| {
            let held = self.reported.get(&key).map(|(_, totals)| *totals).unwrap_or_default();
            let expected = self.expected.of(key);
            (held != expected).then(|| {
                let detail = format!(
                    "key {key}: expected count {} sum {} fingerprint {:016x} from the source records, the job \
                     ended with count {} sum {} fingerprint {:016x}",
                    expected.count, expected.sum, expected.fingerprint, held.count, held.sum, held.fingerprint
                );
                (Invariant::FinalAggregate, detail)
            })
        })
    }
}
