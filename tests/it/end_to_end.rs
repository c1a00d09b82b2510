//! End to end: a two-phase-commit sink against the modelled external system, judged by
//! what a reader sees committed. The shipped scenario passes under every protocol and swarm
//! faults; a transaction timeout shorter than the wait for a commit loses records, and the
//! loss is attributed to the timeout. (The planted sink and store bugs, each caught by its
//! invariant, are in checkers.rs.)

use crate::support::{load, run};
use proptest::prelude::*;
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::{Scenario, SwarmSection};
use snapsim::testing::{assert_exactly_once, seeds};

fn kafka() -> Scenario {
    load("sims/kafka-2pc.toml")
}

#[test]
fn the_shipped_scenario_is_exactly_once_end_to_end_under_every_exactly_once_protocol() {
    for protocol in [ProtocolKind::Aligned, ProtocolKind::Unaligned, ProtocolKind::AlignedTimeout] {
        let mut scenario = kafka();
        scenario.checkpoint.protocol = protocol;
        let outcome = run(&scenario, 1, &[]);
        assert!(outcome.passed(), "{protocol:?}: {:?}", outcome.verdict);
        assert!(outcome.stats.recoveries >= 2, "both crashes struck: {:?}", outcome.stats);
    }
}

#[test]
fn a_transaction_timeout_shorter_than_the_wait_for_a_commit_loses_records_and_says_why() {
    let mut scenario = kafka();
    // A transaction opens at one snapshot and commits after the next checkpoint completes,
    // some 20 ms later; across a restart (10 ms delay) the re-commit comes later still, and a
    // 25 ms timeout has aborted the prepared transaction by then.
    scenario.external.transaction_timeout_ms = 25;
    let outcome = run(&scenario, 1, &[]);
    let snapsim::explore::run::Verdict::Fail(violation) = outcome.verdict else {
        panic!("a too-short transaction timeout went unnoticed");
    };
    assert_eq!(violation.invariant.name(), "end-to-end-exactly-once");
    assert!(
        violation.detail.contains("aborted it at the transaction timeout before its commit"),
        "{}",
        violation.detail
    );
}

#[test]
fn the_at_least_once_protocol_may_duplicate_but_never_lose_what_readers_see() {
    let mut scenario = kafka();
    scenario.checkpoint.protocol = ProtocolKind::AtLeastOnce;
    let outcome = run(&scenario, 1, &[]);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Swarm fault plans over seeds: whatever mix a seed draws, readers see each record once.
    #[test]
    fn readers_see_each_record_exactly_once_under_swarm_faults(
        seed in seeds(),
        protocol in prop::sample::select(vec![ProtocolKind::Aligned, ProtocolKind::Unaligned]),
    ) {
        let mut scenario = kafka();
        scenario.checkpoint.protocol = protocol;
        scenario.workload.records_per_source_subtask = 1_000;
        scenario.swarm = Some(SwarmSection::default());
        assert_exactly_once(&scenario, seed);
    }
}
