//! Incremental checkpoints end to end (docs/state.md): the shipped scenario passes under
//! the aligned and unaligned protocols and swarm faults, writes a fraction of what full
//! checkpoints write, and restores from shared files; a registry that deletes without
//! counting is caught. (The planted bug is also in checkers.rs.)

use crate::support::{assert_swarm_passes, load, run, run_keeping_facts};
use snapsim::kernel::trace::{Fact, ObjectName};
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::Scenario;

fn incremental() -> Scenario {
    load("sims/incremental.toml")
}

#[test]
fn incremental_checkpoints_write_less_than_full_ones_and_restore_from_shared_files() {
    let outcome = run_keeping_facts(&incremental(), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.recoveries, 2);
    let figures = outcome.stats.incremental_state.expect("an incremental run");
    assert!(figures.written * 2 < figures.full, "at most half of the full bytes: {figures:?}");
    let facts = outcome.facts.expect("kept");
    let reused =
        facts.iter().filter(|timed| matches!(timed.fact, Fact::StateFileReferenced { reused: true, .. })).count();
    let deleted = facts
        .iter()
        .filter(|timed| matches!(timed.fact, Fact::ObjectDeleted { object: ObjectName::SharedFile { .. } }))
        .count();
    assert!(reused > 100 && deleted > 10, "files were shared across checkpoints and cleaned up: {reused}, {deleted}");

    let mut full = incremental();
    full.checkpoint.incremental = false;
    let full = run(&full, 1, &[]);
    assert!(full.passed());
    assert!(outcome.stats.bytes_persisted < full.stats.bytes_persisted, "{:?} vs {:?}", outcome.stats, full.stats);
}

#[test]
fn swarm_faults_keep_incremental_checkpoints_whole_under_aligned_and_unaligned_protocols() {
    assert_swarm_passes(&incremental(), &[ProtocolKind::Aligned, ProtocolKind::Unaligned], 0..10);
}

#[test]
fn three_pending_checkpoints_and_one_retained_still_share_files_safely() {
    let mut scenario = incremental();
    // Checkpoints complete while two later ones are in flight, each subsuming what the
    // in-flight ones may reuse; a run that ends leaves some in flight.
    scenario.checkpoint.max_concurrent = 3;
    scenario.checkpoint.retained = 1;
    scenario.checkpoint.interval_ms = 4;
    assert_swarm_passes(&scenario, &[ProtocolKind::Aligned], 0..10);
}
