//! Unit tests of the restore-latest checker: restarts judged against the latest checkpoint
//! whose metadata is durable, from hand-written facts.

use super::Invariant;
use super::restore_latest::RestoreLatest;
use crate::kernel::ids::{Attempt, CheckpointId};
use crate::kernel::trace::{Fact, ObjectName};

fn completed(checkpoint: u64) -> Fact {
    Fact::CheckpointCompleted { checkpoint: CheckpointId(checkpoint) }
}

fn restarted(checkpoint: Option<u64>) -> Fact {
    Fact::JobRestarted { attempt: Attempt(1), checkpoint: checkpoint.map(CheckpointId) }
}

fn savepoint(checkpoint: u64, stop: bool) -> Fact {
    Fact::SavepointTriggered { checkpoint: CheckpointId(checkpoint), stop }
}

fn metadata_deleted(checkpoint: u64) -> Fact {
    Fact::ObjectDeleted { object: ObjectName::Metadata { checkpoint: CheckpointId(checkpoint) } }
}

/// The first violation `facts` reveal.
fn judged(facts: &[Fact]) -> Option<(Invariant, String)> {
    let mut checker = RestoreLatest::new();
    facts.iter().find_map(|fact| checker.observe(fact))
}

#[test]
fn a_restart_from_the_latest_durable_checkpoint_passes() {
    assert_eq!(judged(&[restarted(None), completed(1), completed(2), metadata_deleted(1), restarted(Some(2))]), None);
    // An intermediate savepoint is never restored from; a stopping one is, until a
    // checkpoint completes after it.
    let savepoints = [
        completed(1),
        savepoint(2, false),
        completed(2),
        restarted(Some(1)),
        savepoint(3, true),
        completed(3),
        restarted(Some(3)),
        completed(4),
        restarted(Some(4)),
    ];
    assert_eq!(judged(&savepoints), None);
    let region = Fact::RegionRestarted { region: 1, attempt: Attempt(1), checkpoint: Some(CheckpointId(1)) };
    assert_eq!(judged(&[completed(1), region]), None);
}

#[test]
fn a_restart_from_scratch_or_an_older_checkpoint_is_caught() {
    let found = judged(&[completed(1), completed(2), restarted(None)]).expect("caught");
    assert_eq!(found.0, Invariant::RestoreLatest);
    assert!(found.1.contains("from scratch, but checkpoint 2 is the latest"), "{}", found.1);
    assert!(judged(&[completed(1), completed(2), restarted(Some(1))]).is_some());
    // A region restart is held to the same rule; so is a restart from an intermediate
    // savepoint, or from a checkpoint whose metadata was deleted.
    let region = Fact::RegionRestarted { region: 0, attempt: Attempt(1), checkpoint: None };
    assert!(judged(&[completed(1), region]).is_some());
    assert!(judged(&[completed(1), savepoint(2, false), completed(2), restarted(Some(2))]).is_some());
    assert!(judged(&[completed(1), completed(2), metadata_deleted(1), restarted(Some(1))]).is_some());
}
