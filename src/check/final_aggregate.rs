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
    /// Per (group, key): who reported it and what.
    reported: BTreeMap<(usize, u64), (TaskId, KeyExpectation)>,
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
        let Some(group) = self.expected.group_of(task) else {
            return Some((
                Invariant::FinalAggregate,
                format!("{task} reports keyed totals but runs no keyed operator"),
            ));
        };
        self.reported.insert((group, key), (task, totals)).map(|(other, _)| {
            (Invariant::FinalAggregate, format!("key {key} is held by both {other} and {task} at the end"))
        })
    }

    /// Compares every key's reported totals with the oracle, group by group.
    pub fn finish(&self) -> Option<(Invariant, String)> {
        for (group, per_key) in self.expected.groups.iter().enumerate() {
            let expected_keys = (0..per_key.len() as u64).filter(|&key| self.expected.of(group, key).count > 0);
            let reported_keys = self.reported.range((group, 0)..=(group, u64::MAX)).map(|(&(_, key), _)| key);
            let keys: std::collections::BTreeSet<u64> = expected_keys.chain(reported_keys).collect();
            for key in keys {
                let held = self.reported.get(&(group, key)).map(|(_, totals)| *totals).unwrap_or_default();
                let expected = self.expected.of(group, key);
                if held != expected {
                    let detail = format!(
                        "key {key}: expected count {} sum {} fingerprint {:016x} from the source records, the job \
                         ended with count {} sum {} fingerprint {:016x}",
                        expected.count, expected.sum, expected.fingerprint, held.count, held.sum, held.fingerprint
                    );
                    return Some((Invariant::FinalAggregate, detail));
                }
            }
        }
        None
    }
}
