//! Savepoints end to end (docs/state.md): an intermediate savepoint commits no side effect
//! and is never subsumed; a stop-with-savepoint commits and the job starts again from it; a
//! savepoint is aligned whatever the protocol and self-contained under incremental
//! checkpoints; a rescale can start from one. `tests/data/savepoints.toml` has all three
//! kinds, with a two-phase-commit sink and incremental checkpoints.

use crate::support::{assert_swarm_passes, load, run_keeping_facts};
use snapsim::kernel::ids::CheckpointId;
use snapsim::kernel::trace::{Fact, ObjectName, TimedFact};
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::Scenario;

fn savepoints() -> Scenario {
    load("tests/data/savepoints.toml")
}

/// The savepoints of a run, in order: (id, stop).
fn savepoints_of(facts: &[TimedFact]) -> Vec<(CheckpointId, bool)> {
    facts
        .iter()
        .filter_map(|timed| match timed.fact {
            Fact::SavepointTriggered { checkpoint, stop } => Some((checkpoint, stop)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_intermediate_savepoint_commits_nothing_and_outlives_the_checkpoints_it_precedes() {
    let outcome = run_keeping_facts(&savepoints(), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let facts = outcome.facts.expect("kept");
    let (intermediate, stop) = savepoints_of(&facts)[0];
    assert!(!stop);
    let completed = facts.iter().any(|timed| timed.fact == Fact::CheckpointCompleted { checkpoint: intermediate });
    assert!(completed, "{intermediate} completed");
    let notified = facts
        .iter()
        .any(|timed| matches!(timed.fact, Fact::CompletionNotified { checkpoint, .. } if checkpoint == intermediate));
    assert!(!notified, "no task hears of an intermediate savepoint: no side effect is committed for it");
    let deleted = facts.iter().any(|timed| {
        matches!(timed.fact, Fact::ObjectDeleted { object: ObjectName::TaskState { checkpoint, .. } | ObjectName::Metadata { checkpoint } } if checkpoint == intermediate)
    });
    assert!(!deleted, "later checkpoints never subsume a savepoint");
    let shared = facts
        .iter()
        .any(|timed| matches!(timed.fact, Fact::StateFileReferenced { checkpoint, .. } if checkpoint == intermediate));
    assert!(!shared, "a savepoint writes its whole state, even under incremental checkpoints");
}

#[test]
fn a_stop_with_savepoint_commits_then_the_job_starts_again_from_it() {
    let outcome = run_keeping_facts(&savepoints(), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.stops, 2, "the stop at 70 ms, and the rescale from a savepoint at 110 ms");
    assert_eq!(outcome.stats.rescales, 1);
    let facts = outcome.facts.expect("kept");
    for (savepoint, _) in savepoints_of(&facts).into_iter().filter(|&(_, stop)| stop) {
        let notified = facts
            .iter()
            .any(|timed| matches!(timed.fact, Fact::CompletionNotified { checkpoint, .. } if checkpoint == savepoint));
        assert!(notified, "tasks hear of stopping {savepoint}: sinks commit");
        attempt_of(&facts, savepoint); // The job starts again from it.
    }
}

/// The attempt of the restart from `savepoint` (the first restart naming it).
fn attempt_of(facts: &[TimedFact], savepoint: CheckpointId) -> snapsim::kernel::ids::Attempt {
    facts
        .iter()
        .find_map(|timed| match timed.fact {
            Fact::JobRestarted { attempt, checkpoint } if checkpoint == Some(savepoint) => Some(attempt),
            _ => None,
        })
        .expect("a restart from the savepoint")
}

#[test]
fn a_savepoint_under_unaligned_checkpoints_is_aligned() {
    let mut scenario = savepoints();
    scenario.checkpoint.protocol = ProtocolKind::Unaligned;
    let outcome = run_keeping_facts(&scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let facts = outcome.facts.expect("kept");
    let ids: Vec<CheckpointId> = savepoints_of(&facts).into_iter().map(|(id, _)| id).collect();
    let recorded = facts
        .iter()
        .any(|timed| matches!(timed.fact, Fact::ChannelStateRecorded { checkpoint, .. } if ids.contains(&checkpoint)));
    assert!(!recorded, "no savepoint records channel state");
    let blocked = facts
        .iter()
        .any(|timed| matches!(timed.fact, Fact::InputBlocked { checkpoint, .. } if ids.contains(&checkpoint)));
    assert!(blocked, "savepoint barriers align");
    let unaligned = facts.iter().any(|timed| matches!(timed.fact, Fact::ChannelStateRecorded { .. }));
    assert!(unaligned, "the checkpoints themselves stay unaligned");
}

#[test]
fn swarm_faults_keep_savepoints_exactly_once_under_aligned_and_unaligned_protocols() {
    assert_swarm_passes(&savepoints(), &[ProtocolKind::Aligned, ProtocolKind::Unaligned], 0..6);
}
