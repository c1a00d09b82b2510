//! Unit tests of the shared-state checker: facts by hand that keep it, and facts that break
//! each of its rules.

use super::Invariant;
use super::shared_state::SharedState;
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, ObjectName};

const ONE: CheckpointId = CheckpointId(1);
const TWO: CheckpointId = CheckpointId(2);

fn file(checkpoint: CheckpointId, key_group: u32) -> ObjectName {
    ObjectName::SharedFile { task: TaskId(1), checkpoint, key_group }
}

fn referenced(checkpoint: CheckpointId, file: ObjectName, reused: bool) -> Fact {
    Fact::StateFileReferenced { task: TaskId(1), checkpoint, file, bytes: 32, reused }
}

fn durable(object: ObjectName) -> Fact {
    Fact::ObjectDurable { object, bytes: 32 }
}

fn deleted(object: ObjectName) -> Fact {
    Fact::ObjectDeleted { object }
}

fn feed(facts: &[Fact]) -> (SharedState, Option<(Invariant, String)>) {
    let mut checker = SharedState::new();
    let found = facts.iter().find_map(|fact| checker.observe(SimTime::ZERO, fact));
    (checker, found)
}

/// Checkpoint 1 writes groups 0 and 1; checkpoint 2 writes group 1 anew and reuses group 0.
fn two_checkpoints() -> Vec<Fact> {
    vec![
        referenced(ONE, file(ONE, 0), false),
        referenced(ONE, file(ONE, 1), false),
        durable(file(ONE, 0)),
        durable(file(ONE, 1)),
        Fact::CheckpointCompleted { checkpoint: ONE },
        referenced(TWO, file(ONE, 0), true),
        referenced(TWO, file(TWO, 1), false),
        durable(file(TWO, 1)),
        Fact::CheckpointCompleted { checkpoint: TWO },
    ]
}

#[test]
fn subsuming_a_checkpoint_deletes_only_what_no_retained_one_references() {
    let mut facts = two_checkpoints();
    facts.extend([deleted(ObjectName::Metadata { checkpoint: ONE }), deleted(file(ONE, 1))]);
    let (checker, found) = feed(&facts);
    assert_eq!(found, None);
    assert_eq!(checker.finish(), None);
}

#[test]
fn a_shared_file_deleted_while_a_retained_checkpoint_references_it_is_caught() {
    let mut facts = two_checkpoints();
    facts.extend([deleted(ObjectName::Metadata { checkpoint: ONE }), deleted(file(ONE, 0))]);
    let (_, found) = feed(&facts);
    let (invariant, detail) = found.expect("caught");
    assert_eq!(invariant, Invariant::SharedState);
    assert!(
        detail.contains("key group 0 that task#1 wrote for checkpoint 1 was deleted while retained checkpoint 2"),
        "{detail}"
    );
}

#[test]
fn a_checkpoint_completing_with_a_file_already_deleted_is_caught() {
    let facts = [
        referenced(ONE, file(ONE, 0), false),
        durable(file(ONE, 0)),
        Fact::CheckpointCompleted { checkpoint: ONE },
        referenced(TWO, file(ONE, 0), true),
        deleted(ObjectName::Metadata { checkpoint: ONE }),
        deleted(file(ONE, 0)),
        Fact::CheckpointCompleted { checkpoint: TWO },
    ];
    let (invariant, detail) = feed(&facts).1.expect("caught");
    assert_eq!(invariant, Invariant::SharedState);
    assert!(detail.contains("checkpoint 2 completed referencing"), "{detail}");
}

#[test]
fn a_missing_file_at_a_restore_and_a_leaked_file_at_the_end_are_caught() {
    let missing = [Fact::StateFileMissing { task: TaskId(1), file: file(ONE, 3) }];
    let (invariant, detail) = feed(&missing).1.expect("caught");
    assert_eq!(invariant, Invariant::SharedState);
    assert!(detail.contains("restored without"), "{detail}");

    let mut facts = two_checkpoints();
    facts.push(deleted(ObjectName::Metadata { checkpoint: ONE }));
    let (checker, found) = feed(&facts);
    assert_eq!(found, None, "nothing wrong yet: group 1's old file is merely not deleted");
    let (invariant, detail) = checker.finish().expect("a leak");
    assert_eq!(invariant, Invariant::SharedState);
    assert!(detail.contains("key group 1 that task#1 wrote for checkpoint 1 is still in storage"), "{detail}");

    let abandoned = [
        durable(ObjectName::TaskState { task: TaskId(1), checkpoint: ONE }),
        Fact::CheckpointCompleted { checkpoint: TWO },
    ];
    let (checker, _) = feed(&abandoned);
    let (_, detail) = checker.finish().expect("an aborted checkpoint's state left behind");
    assert!(detail.contains("the state of task#1 for checkpoint 1 is still in storage"), "{detail}");
}

#[test]
fn a_file_only_a_checkpoint_still_in_flight_references_is_no_leak() {
    const THREE: CheckpointId = CheckpointId(3);
    let mut facts = two_checkpoints();
    // Checkpoint 3, pending when the run ends, reuses group 1's file of checkpoint 1 — it
    // restored from checkpoint 1, say — after checkpoint 1 was subsumed.
    facts.extend([deleted(ObjectName::Metadata { checkpoint: ONE }), referenced(THREE, file(ONE, 1), true)]);
    let (checker, found) = feed(&facts);
    assert_eq!(found, None);
    assert_eq!(checker.finish(), None);
}

#[test]
fn a_savepoint_that_references_a_shared_file_is_caught() {
    let savepoint = CheckpointId(3);
    let facts = vec![
        referenced(ONE, file(ONE, 0), false),
        durable(file(ONE, 0)),
        Fact::CheckpointCompleted { checkpoint: ONE },
        Fact::SavepointTriggered { checkpoint: savepoint, stop: false },
        referenced(savepoint, file(ONE, 0), true),
    ];
    let (_, found) = feed(&facts);
    let (invariant, detail) = found.expect("caught");
    assert_eq!(invariant, Invariant::SharedState);
    assert!(detail.contains("a savepoint must hold its whole state"), "{detail}");
}
