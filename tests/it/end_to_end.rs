//! End to end: a two-phase-commit sink against the modelled external system, judged by
//! what a reader sees committed. The shipped scenario passes under every protocol and swarm
//! faults; a transaction timeout shorter than the wait for a commit loses records, and the
//! loss is attributed to the timeout. (The planted sink and store bugs, each caught by its
//! invariant, are in checkers.rs.)

use crate::support::{load, run, run_keeping_facts};
use proptest::prelude::*;
use snapsim::kernel::trace::{ExternalCall, ExternalError, Fact, TransactionAbort};
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::{FaultKindName, FaultSection};
use snapsim::scenario::{Scenario, SwarmSection};
use snapsim::testing::{assert_exactly_once, seeds};

fn kafka() -> Scenario {
    load("sims/kafka-2pc.toml")
}

/// `scenario` at seed 1 under each exactly-once protocol, asserted to pass.
fn passes_under_exactly_once_protocols(scenario: &Scenario) -> Vec<(ProtocolKind, snapsim::explore::run::Outcome)> {
    [ProtocolKind::Aligned, ProtocolKind::Unaligned, ProtocolKind::AlignedTimeout]
        .into_iter()
        .map(|protocol| {
            let mut scenario = scenario.clone();
            scenario.checkpoint.protocol = protocol;
            let outcome = run(&scenario, 1, &[]);
            assert!(outcome.passed(), "{protocol:?}: {:?}", outcome.verdict);
            (protocol, outcome)
        })
        .collect()
}

#[test]
fn the_shipped_scenario_is_exactly_once_end_to_end_under_every_exactly_once_protocol() {
    for (_, outcome) in passes_under_exactly_once_protocols(&kafka()) {
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

fn external_fault(kind: FaultKindName, at_ms: u64, duration_ms: Option<u64>) -> FaultSection {
    FaultSection { kind, at_ms, duration_ms, ..FaultSection::default() }
}

#[test]
fn an_unavailable_external_system_fails_the_sinks_and_the_job_recovers_exactly_once() {
    let mut scenario = kafka();
    scenario.faults = vec![external_fault(FaultKindName::ExternalUnavailable, 20, Some(5))];
    let outcome = run_keeping_facts(&scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let facts = outcome.facts.expect("kept");
    let failed_write = facts.iter().any(|timed| {
        matches!(
            timed.fact,
            Fact::ExternalCallFailed { call: ExternalCall::Write, error: ExternalError::Unavailable, .. }
        )
    });
    assert!(failed_write, "a sink's write met the outage");
    assert!(outcome.stats.recoveries >= 1, "and its task failed over");
}

#[test]
fn transactions_the_external_system_aborts_on_its_own_are_replayed_not_lost() {
    let mut scenario = kafka();
    scenario.faults = vec![external_fault(FaultKindName::AbortTransactions, 22, None)];
    let outcome = run_keeping_facts(&scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let facts = outcome.facts.expect("kept");
    let injected = facts
        .iter()
        .filter(|timed| matches!(timed.fact, Fact::TransactionAborted { cause: TransactionAbort::Injected, .. }))
        .count();
    assert_eq!(injected, 2, "each sink's open transaction");
}

#[test]
fn an_external_fault_in_a_job_without_an_external_sink_is_refused_by_name() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.faults = vec![external_fault(FaultKindName::AbortTransactions, 22, None)];
    let error = scenario.compile().expect_err("refused");
    assert_eq!(error.field.as_deref(), Some("faults[0].kind"));
    assert!(error.message.contains("needs a job with an external sink"), "{}", error.message);
}

fn upsert() -> Scenario {
    load("sims/upsert.toml")
}

#[test]
fn the_upsert_table_ends_as_a_fault_free_run_leaves_it_and_the_log_loses_nothing() {
    for (protocol, outcome) in passes_under_exactly_once_protocols(&upsert()) {
        let duplicates = outcome.stats.external_duplicates.expect("the job writes externally");
        assert!(duplicates > 0, "{protocol:?}: the at-least-once log shows replays twice, counted, not failed");
    }
}

#[test]
fn an_upsert_sink_fed_by_anything_but_keyed_counts_is_refused() {
    let mut scenario = upsert();
    let table = scenario.edges.iter_mut().find(|edge| edge.to == "table").expect("an edge into the table");
    table.from = "source".to_string();
    table.partitioning = snapsim::dataflow::graph::Partitioning::Hash;
    let error = scenario.compile().expect_err("refused");
    assert!(error.message.contains("an upsert sink's inputs must come from keyed counts"), "{}", error.message);
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

    #[test]
    fn upsert_tables_and_at_least_once_logs_hold_under_swarm_faults(seed in seeds()) {
        let mut scenario = upsert();
        scenario.workload.records_per_source_subtask = 1_000;
        scenario.swarm = Some(SwarmSection::default());
        assert_exactly_once(&scenario, seed);
    }
}
