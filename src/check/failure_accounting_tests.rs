//! Unit tests of the failure-accounting checker: failovers for checkpoint failures judged
//! against the tolerance, from hand-written facts.

use super::Invariant;
use super::failure_accounting::FailureAccounting;
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::{AbortReason, Fact, ObjectName};

fn aborted(checkpoint: u64, reason: AbortReason) -> Fact {
    Fact::CheckpointAborted { checkpoint: CheckpointId(checkpoint), reason }
}

fn write_failed(checkpoint: u64) -> Fact {
    Fact::WriteFailed { object: ObjectName::TaskState { checkpoint: CheckpointId(checkpoint), task: TaskId(1) } }
}

fn completed(checkpoint: u64) -> Fact {
    Fact::CheckpointCompleted { checkpoint: CheckpointId(checkpoint) }
}

const EXCEEDED: Fact = Fact::CheckpointFailuresExceeded { failures: 2 };

/// The first violation `facts` reveal to a checker tolerating `tolerable` failures.
fn judged(tolerable: Option<u32>, facts: &[Fact]) -> Option<(Invariant, String)> {
    let mut checker = FailureAccounting::new(tolerable);
    facts.iter().find_map(|fact| checker.observe(fact))
}

#[test]
fn a_failover_after_more_counted_failures_than_tolerated_is_due() {
    let facts = [completed(1), aborted(2, AbortReason::Expired), write_failed(3), aborted(3, AbortReason::Declined)];
    let facts = [&facts[..], &[EXCEEDED]].concat();
    assert_eq!(judged(Some(1), &facts), None);
}

#[test]
fn a_failure_counted_twice_or_a_stale_one_makes_a_failover_early() {
    // One failed checkpoint, counted twice (a late decline after its expiry).
    let found = judged(Some(1), &[aborted(2, AbortReason::Expired), EXCEEDED]).expect("caught");
    assert_eq!(found.0, Invariant::FailureAccounting);
    assert!(found.1.contains("at most 1 were counted"), "{}", found.1);
    // Only a failure older than the last success before the failover.
    let stale = [completed(3), aborted(2, AbortReason::Expired), aborted(4, AbortReason::Expired), EXCEEDED];
    assert!(judged(Some(1), &stale).is_some());
    // A success resets the count.
    let reset = [aborted(1, AbortReason::Expired), completed(2), aborted(3, AbortReason::Expired), EXCEEDED];
    assert!(judged(Some(1), &reset).is_some());
    // With no tolerance set, no failover for checkpoint failures is ever due.
    assert!(judged(None, &[aborted(1, AbortReason::Expired), aborted(2, AbortReason::Expired), EXCEEDED]).is_some());
}

#[test]
fn only_the_reasons_the_failure_manager_counts_are_counted() {
    // A decline with no failed write is task-side; subsumed, failover and a failed metadata
    // write are never counted; nor is a savepoint.
    let uncounted = [
        aborted(1, AbortReason::Declined),
        aborted(2, AbortReason::Subsumed),
        aborted(3, AbortReason::JobFailover),
        aborted(4, AbortReason::MetadataWriteFailed),
        Fact::SavepointTriggered { checkpoint: CheckpointId(5), stop: false },
        aborted(5, AbortReason::Expired),
        aborted(6, AbortReason::Expired),
        EXCEEDED,
    ];
    assert!(judged(Some(1), &uncounted).is_some());
    // A new coordinator starts counting afresh.
    let crashed =
        [aborted(1, AbortReason::Expired), Fact::CoordinatorCrashed, aborted(2, AbortReason::Expired), EXCEEDED];
    assert!(judged(Some(1), &crashed).is_some());
}
