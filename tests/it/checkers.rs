//! Every check can fail: each invariant is broken on purpose by a planted bug (or a budget
//! too small to finish) and caught with the right name, and the honest runs pass.

use crate::support::{load, run, run_judged_without, run_planted_keeping_facts};
use snapsim::check::Invariant;
use snapsim::explore::run::{Outcome, Verdict};
use snapsim::kernel::trace::Fact;
use snapsim::plant::PlantedBug;
use snapsim::scenario::FaultSection;

fn violation(outcome: &Outcome) -> &snapsim::check::Violation {
    match &outcome.verdict {
        Verdict::Fail(violation) => violation,
        Verdict::Pass => panic!("expected a violation, the run passed (seed {})", outcome.seed.0),
        Verdict::Panicked { message } => panic!("expected a violation, the run panicked: {message}"),
    }
}

#[test]
fn a_source_that_is_not_rewound_breaks_restore_equivalence_at_once() {
    let scenario = load("sims/wordcount.toml");
    for seed in 1..=5 {
        let outcome = run(&scenario, seed, &[PlantedBug::ForgetSourceRewind]);
        let found = violation(&outcome);
        assert_eq!(found.invariant, Invariant::RestoreEquivalence, "seed {seed}");
        assert!(found.detail.contains("without restoring"), "seed {seed}: {}", found.detail);
        assert!(found.fact_index.is_some(), "caught online, at the first read after the restart");
    }
}

#[test]
fn without_restore_equivalence_forgetting_to_rewind_still_loses_records_in_the_ledger() {
    let scenario = load("sims/wordcount.toml");
    for seed in 1..=5 {
        let outcome =
            run_judged_without(&scenario, seed, &[PlantedBug::ForgetSourceRewind], &[Invariant::RestoreEquivalence]);
        let found = violation(&outcome);
        assert_eq!(found.invariant, Invariant::ExactlyOnceState, "seed {seed}");
        assert!(found.detail.contains("lost"), "seed {seed}: {}", found.detail);
        assert_eq!(found.fact, None, "a loss shows only at the end of the run");
    }
}

#[test]
fn skipping_the_keyed_restore_counts_records_twice_and_is_caught_at_once() {
    let plants = [PlantedBug::SkipKeyedStateRestore];
    let scenario = load("sims/wordcount.toml");
    assert_eq!(violation(&run(&scenario, 1, &plants)).invariant, Invariant::RestoreEquivalence);
    let outcome = run_judged_without(&scenario, 1, &plants, &[Invariant::RestoreEquivalence]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::ExactlyOnceState);
    assert!(matches!(found.fact, Some(Fact::RecordApplied { .. })), "caught online: {:?}", found.fact);
    assert!(found.fact_index.is_some());
    assert!(found.detail.contains("counted twice"), "{}", found.detail);
}

#[test]
fn state_restored_onto_the_wrong_subtask_is_caught_by_its_digest_and_by_the_final_aggregates() {
    let plants = [PlantedBug::RestoreNeighbourState];
    let scenario = load("sims/wordcount.toml");
    let found = violation(&run(&scenario, 1, &plants)).clone();
    assert_eq!(found.invariant, Invariant::RestoreEquivalence);
    assert!(found.detail.contains("digest"), "{}", found.detail);
    let disabled = [Invariant::RestoreEquivalence];
    let outcome = run_judged_without(&scenario, 1, &plants, &disabled);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::FinalAggregate);
    assert!(matches!(found.fact, Some(Fact::KeyTotal { .. })), "{:?}", found.fact);
}

#[test]
fn consuming_a_blocked_input_during_alignment_leaves_an_orphan_across_the_cut() {
    let scenario = load("sims/wordcount.toml");
    let outcome = run(&scenario, 1, &[PlantedBug::ConsumeBlockedInput]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::ConsistentCut);
    assert!(found.detail.contains("orphan"), "{}", found.detail);
    assert!(matches!(found.fact, Some(Fact::CheckpointCompleted { .. })), "judged as the checkpoint completes");
}

#[test]
fn a_job_that_cannot_finish_within_its_budget_is_a_liveness_failure() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.budget.events_max = 1_000;
    let found = violation(&run(&scenario, 1, &[])).clone();
    assert_eq!(found.invariant, Invariant::Liveness);
    assert!(found.detail.contains("event budget"), "{}", found.detail);
    scenario.budget.events_max = 10_000_000;
    scenario.budget.time_ms_max = 5;
    assert!(violation(&run(&scenario, 1, &[])).detail.contains("time budget"));
}

#[test]
fn planted_recovery_bugs_are_harmless_when_nothing_crashes() {
    assert!(snapsim::plant::ALL_PLANTS.iter().filter(|plant| plant.needs_a_failure()).count() >= 3);
    let mut scenario = load("sims/wordcount.toml");
    scenario.faults.clear();
    for plant in snapsim::plant::ALL_PLANTS.into_iter().filter(|plant| plant.needs_a_failure()) {
        let outcome = run(&scenario, 1, &[plant]);
        assert!(outcome.passed(), "{plant} without a crash: {:?}", outcome.verdict);
        assert_eq!(outcome.stats.recoveries, 0);
    }
}

#[test]
fn a_crash_before_the_first_checkpoint_restarts_from_scratch() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.faults = vec![FaultSection::crash_task("sink[2]", 1)];
    let outcome = run(&scenario, 3, &[]);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.recoveries, 1);
    assert!(outcome.stats.source_records_read > outcome.source_records, "some records were read twice");
}

#[test]
fn the_shipped_crashes_really_force_recovery_and_replay() {
    let outcome = run(&load("sims/wordcount.toml"), 1, &[]);
    assert!(outcome.passed());
    assert_eq!(outcome.stats.recoveries, 2);
    assert!(outcome.stats.checkpoints_completed >= 3);
    assert!(outcome.stats.source_records_read > outcome.source_records, "recovery replayed records");
}

#[test]
fn a_protocol_that_acknowledges_twice_trips_the_coordinator_even_without_a_crash() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.faults.clear();
    let guarded = snapsim::explore::guarded::run_guarded(
        &snapsim::explore::run::RunSpec {
            plants: vec![PlantedBug::AcknowledgeTwice],
            ..snapsim::explore::run::RunSpec::new(scenario, snapsim::kernel::rng::Seed(1))
        },
        false,
    )
    .expect("valid");
    assert!(matches!(&guarded.verdict, Verdict::Panicked { message } if message.contains("acknowledged")));
}

fn chandy_lamport(relative: &str) -> snapsim::scenario::Scenario {
    let mut scenario = load(relative);
    scenario.checkpoint.protocol = snapsim::protocol::ProtocolKind::ChandyLamport;
    scenario
}

#[test]
fn chandy_lamport_without_channel_state_loses_what_was_in_flight_across_the_cut() {
    let outcome = run(&chandy_lamport("sims/diamond.toml"), 1, &[PlantedBug::SkipChannelState]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::ConsistentCut);
    assert!(found.detail.contains("missing from the recorded channel state"), "{}", found.detail);
}

#[test]
fn chandy_lamport_over_channels_that_are_not_fifo_breaks_the_cut() {
    for relative in ["sims/wordcount.toml", "sims/diamond.toml"] {
        let scenario = chandy_lamport(relative);
        assert!(run(&scenario, 1, &[]).passed(), "{relative} passes over FIFO channels");
        let outcome = run(&scenario, 1, &[PlantedBug::BreakFifo]);
        assert_eq!(violation(&outcome).invariant, Invariant::ConsistentCut, "{relative}");
    }
}

#[test]
fn at_least_once_still_never_loses_a_record_and_the_no_loss_ledger_proves_it() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.checkpoint.protocol = snapsim::protocol::ProtocolKind::AtLeastOnce;
    let honest = run(&scenario, 1, &[]);
    assert!(honest.passed(), "{:?}", honest.verdict);
    let disabled = [Invariant::RestoreEquivalence];
    let outcome = run_judged_without(&scenario, 1, &[PlantedBug::ForgetSourceRewind], &disabled);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::NoLossState);
    assert!(found.detail.contains("lost"), "{}", found.detail);
}

#[test]
fn unaligned_barriers_without_channel_state_lose_what_they_overtook() {
    let mut scenario = load("sims/diamond.toml");
    scenario.checkpoint.protocol = snapsim::protocol::ProtocolKind::Unaligned;
    assert!(run(&scenario, 1, &[]).passed());
    let outcome = run(&scenario, 1, &[PlantedBug::SkipChannelState]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::ConsistentCut);
    assert!(found.detail.contains("missing from the recorded channel state"), "{}", found.detail);
}

#[test]
fn a_bank_snapshot_that_skips_channel_state_loses_money_in_conservation() {
    // The same bug the consistent-cut checker names by message: with that checker off, the
    // bank's own invariant sees the money in flight missing from the snapshot.
    let scenario = load("sims/bank.toml");
    let plants = [PlantedBug::SkipChannelState];
    assert_eq!(violation(&run(&scenario, 1, &plants)).invariant, Invariant::ConsistentCut);
    let outcome = run_judged_without(&scenario, 1, &plants, &[Invariant::ConsistentCut]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::Conservation);
    assert!(found.detail.contains("vanished"), "{}", found.detail);
    assert!(matches!(found.fact, Some(Fact::CheckpointCompleted { .. })), "judged when the snapshot completes");
}

#[test]
fn an_account_that_keeps_its_live_balance_after_a_crash_breaks_conservation() {
    // forget-source-rewind keeps the accounts' live balances while the restart empties the
    // channels: the transfers in flight at the crash are lost for good, and the next
    // completed snapshot (or the final balances) comes up short.
    let scenario = load("sims/bank.toml");
    let plants = [PlantedBug::ForgetSourceRewind];
    assert_eq!(violation(&run(&scenario, 1, &plants)).invariant, Invariant::RestoreEquivalence);
    let outcome = run_judged_without(&scenario, 1, &plants, &[Invariant::RestoreEquivalence]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::Conservation, "{}", found.detail);
    assert!(found.detail.contains("the bank holds 5000"), "{}", found.detail);
}

#[test]
fn no_checkpoint_soon_enough_after_the_faults_are_over_is_a_liveness_failure() {
    // Word count checkpoints every 20 ms; demanding one within the checkpoint timeout (cut to
    // 5 ms) plus 1 ms of the last crash (and its 10 ms restart) cannot be met.
    let mut scenario = load("sims/wordcount.toml");
    scenario.budget.heal_checkpoint_ms = 1;
    scenario.checkpoint.timeout_ms = 5;
    let outcome = run(&scenario, 1, &[]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::Liveness);
    assert!(found.detail.contains("every fault was over at"), "{}", found.detail);
    assert!(found.fact.is_some(), "caught while the run goes on, not at its end");
    scenario.budget.heal_checkpoint_ms = 0;
    assert!(run(&scenario, 1, &[]).passed(), "0 switches the check off");
}

#[test]
fn a_restart_strategy_that_gives_up_fails_the_run_with_its_own_verdict() {
    // Word count crashes twice; a fixed delay with one attempt restarts once, then gives up.
    let mut scenario = load("sims/wordcount.toml");
    scenario.recovery.max_attempts = Some(1);
    let outcome = run(&scenario, 1, &[]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::RestartsExhausted);
    assert!(found.detail.contains("gave up after 2 failovers"), "{}", found.detail);
    assert!(matches!(found.fact, Some(Fact::JobFailed { failures: 2 })));
    scenario.recovery.max_attempts = Some(2);
    assert!(run(&scenario, 1, &[]).passed(), "two attempts suffice");
}

fn kafka() -> snapsim::scenario::Scenario {
    load("sims/kafka-2pc.toml")
}

/// The violation `plant` causes in `scenario` at seed 1.
fn caught(scenario: &snapsim::scenario::Scenario, plant: PlantedBug) -> snapsim::check::Violation {
    violation(&run(scenario, 1, &[plant])).clone()
}

#[test]
fn committing_at_pre_commit_shows_a_reader_replayed_records_twice() {
    let found = caught(&kafka(), PlantedBug::CommitOnPreCommit);
    assert_eq!(found.invariant, Invariant::EndToEndExactlyOnce);
    let detail = found.detail;
    assert!(detail.contains("is visible 2 times to a reader"), "{detail}");
    assert!(detail.contains("pre-committed for checkpoint"), "the checkpoints are named: {detail}");
    assert!(detail.contains("after the job restarted from checkpoint"), "the restart is named: {detail}");
}

#[test]
fn skipping_the_re_commit_after_recovery_loses_the_pre_committed_records() {
    let found = caught(&kafka(), PlantedBug::SkipRecommitAfterRecovery);
    assert_eq!(found.invariant, Invariant::EndToEndExactlyOnce);
    let detail = found.detail;
    assert!(detail.contains("visible 0 of the 1 time(s)"), "{detail}");
    assert!(detail.contains("was pre-committed for checkpoint 2 but never committed"), "{detail}");
    assert!(detail.contains("the job restarted from checkpoint 2"), "{detail}");
}

#[test]
fn a_commit_that_publishes_again_is_a_transaction_committed_twice() {
    let found = caught(&kafka(), PlantedBug::RecommitRepublishes);
    assert_eq!(found.invariant, Invariant::CommitOnce);
    let detail = found.detail;
    assert!(detail.contains("was committed twice"), "{detail}");
    // Judged without commit-once, the same run shows the duplicates it makes.
    let outcome = run_judged_without(&kafka(), 1, &[PlantedBug::RecommitRepublishes], &[Invariant::CommitOnce]);
    assert_eq!(violation(&outcome).invariant, Invariant::EndToEndExactlyOnce);
}

#[test]
fn a_restored_source_one_offset_late_is_caught_at_its_first_read() {
    let found = caught(&load("sims/wordcount.toml"), PlantedBug::RestoredSourceOneOffsetLate);
    assert_eq!(found.invariant, Invariant::RestoreEquivalence);
    assert!(found.detail.contains("first after its restore, but the checkpoint recorded offset"), "{}", found.detail);
}

#[test]
fn a_log_reader_restored_one_offset_late_breaks_partition_ownership_and_what_readers_see() {
    let plants = [PlantedBug::RestoredSourceOneOffsetLate];
    let found = caught(&kafka(), plants[0]);
    assert_eq!(found.invariant, Invariant::PartitionOwnership);
    let detail = &found.detail;
    assert!(detail.contains("restored partition"), "the partition is named: {detail}");
    assert!(detail.contains("when it captured checkpoint"), "the checkpoint is named: {detail}");
    assert!(detail.contains("would be skipped"), "{detail}");
    // With the ownership check switched off, a window result a reader sees is short of
    // the record that was skipped.
    let outcome = run_judged_without(&kafka(), 1, &plants, &[Invariant::PartitionOwnership]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::EndToEndExactlyOnce);
    assert!(found.detail.contains("but the fault-free run's is"), "{}", found.detail);
    assert!(found.detail.contains("after the job restarted from checkpoint"), "{}", found.detail);
}

#[test]
fn an_enumerator_that_forgets_a_restarted_readers_partitions_leaves_them_unread() {
    let scenario = load("tests/data/log-regions.toml");
    assert!(run(&scenario, 1, &[]).passed(), "the honest enumerator gives the partitions back");
    let plants = [PlantedBug::ForgetAssignmentsBeforeFirstCheckpoint];
    let found = caught(&scenario, plants[0]);
    assert_eq!(found.invariant, Invariant::PartitionOwnership);
    let detail = &found.detail;
    assert!(detail.contains("is owned by no reader at the end of the run"), "{detail}");
    assert!(detail.contains("task#0 owned it until region 0 restarted from scratch"), "{detail}");
    // Judged by what a reader sees alone, the partition's records are missing.
    let outcome = run_judged_without(&scenario, 1, &plants, &[Invariant::PartitionOwnership]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::EndToEndExactlyOnce);
    assert!(found.detail.contains("is visible 0 of the 1 time(s)"), "{}", found.detail);
    assert!(found.detail.contains("no later transaction wrote the record again"), "{}", found.detail);
}

#[test]
fn an_at_least_once_sink_that_skips_its_flush_loses_what_was_in_its_buffer() {
    let scenario = load("sims/upsert.toml");
    let found = caught(&scenario, PlantedBug::SkipFlushOnSnapshot);
    assert_eq!(found.invariant, Invariant::EndToEndExactlyOnce);
    assert!(found.detail.contains("is visible 0 of the 1 time(s)"), "{}", found.detail);
    assert!(found.detail.contains("must flush its buffer at every snapshot"), "{}", found.detail);
}

#[test]
fn a_table_that_ignores_upserts_of_known_keys_ends_with_the_wrong_values() {
    let scenario = load("sims/upsert.toml");
    let found = caught(&scenario, PlantedBug::UpsertInsertIgnore);
    assert_eq!(found.invariant, Invariant::EndToEndExactlyOnce);
    assert!(found.detail.contains("in the upsert table (last set from"), "{}", found.detail);
    assert!(found.detail.contains("but the fault-free run ends it at"), "{}", found.detail);
}

#[test]
fn a_reader_that_reads_uncommitted_sees_what_no_commit_published() {
    let mut scenario = kafka();
    scenario.external.reader_isolation = snapsim::external::Isolation::ReadUncommitted;
    let found = violation(&run(&scenario, 1, &[])).clone();
    assert_eq!(found.invariant, Invariant::ReadCommitted);
    assert!(found.detail.contains("but commits had published"), "{}", found.detail);
    assert!(found.detail.contains("it sees uncommitted writes, such as"), "{}", found.detail);
    // Read committed, the same reader polls throughout and always sees what commits published.
    let outcome = crate::support::run_keeping_facts(&kafka(), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let polls =
        outcome.facts.expect("kept").iter().filter(|timed| matches!(timed.fact, Fact::ReaderSaw { .. })).count();
    assert!(polls > 100, "the reader polled every millisecond: {polls}");
}

#[test]
fn a_registry_that_deletes_shared_files_at_subsumption_without_counting_is_caught() {
    let scenario = load("sims/incremental.toml");
    let plants = [PlantedBug::DeleteSharedFilesOnSubsumption];
    let found = caught(&scenario, plants[0]);
    assert_eq!(found.invariant, Invariant::SharedState);
    assert!(found.detail.contains("was deleted while retained checkpoint"), "{}", found.detail);
    // Judged without it, the restore that needs the file finds nothing and starts empty.
    let outcome = run_judged_without(&scenario, 1, &plants, &[Invariant::SharedState]);
    assert_eq!(violation(&outcome).invariant, Invariant::RestoreEquivalence, "{:?}", outcome.verdict);
}

#[test]
fn a_rescale_that_restores_key_groups_one_off_is_caught() {
    let scenario = load("sims/rescale.toml");
    let plants = [PlantedBug::RescaleKeyGroupsOffByOne];
    let found = caught(&scenario, plants[0]);
    assert_eq!(found.invariant, Invariant::KeyOwnership);
    assert!(found.detail.contains("which owns key groups"), "{}", found.detail);
    // Judged without it, a key group restored on its neighbour too is held twice at the end.
    let outcome = run_judged_without(&scenario, 1, &plants, &[Invariant::KeyOwnership]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::FinalAggregate, "{:?}", outcome.verdict);
    assert!(found.detail.contains("is held by both"), "{}", found.detail);
}

#[test]
fn a_snapshot_taken_at_the_first_barrier_misses_what_the_other_inputs_still_delivered() {
    let outcome = run(&load("sims/wordcount.toml"), 1, &[PlantedBug::SnapshotBeforeAlignmentCompletes]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::ConsistentCut);
    assert!(found.detail.contains("missing from the recorded channel state"), "{}", found.detail);
    assert!(matches!(found.fact, Some(Fact::CheckpointCompleted { .. })), "judged as the checkpoint completes");
}

#[test]
fn a_failure_manager_that_counts_stale_failures_fails_the_job_over_early() {
    let scenario = load("tests/data/failure-accounting.toml");
    assert!(run(&scenario, 1, &[]).passed(), "the honest failure manager tolerates one failed checkpoint");
    let found = caught(&scenario, PlantedBug::CountStaleCheckpointFailures);
    assert_eq!(found.invariant, Invariant::FailureAccounting);
    assert!(matches!(found.fact, Some(Fact::CheckpointFailuresExceeded { .. })), "{:?}", found.fact);
    assert!(found.detail.contains("1 are tolerated"), "{}", found.detail);
}

#[test]
fn a_trigger_stuck_after_an_expiry_never_checkpoints_again_and_the_job_never_finishes() {
    let scenario = load("tests/data/checkpoint-expiry.toml");
    assert!(run(&scenario, 1, &[]).passed(), "the honest coordinator triggers on after an expiry");
    let outcome = run_planted_keeping_facts(&scenario, 1, &[PlantedBug::CheckpointTriggerStuckAfterExpiry]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::Liveness);
    let facts: Vec<&Fact> = outcome.facts.as_deref().expect("kept").iter().map(|timed| &timed.fact).collect();
    let expired = facts
        .iter()
        .position(|fact| {
            matches!(fact, Fact::CheckpointAborted { reason: snapsim::kernel::trace::AbortReason::Expired, .. })
        })
        .expect("a checkpoint expired");
    assert!(
        !facts[expired..].iter().any(|fact| matches!(fact, Fact::CheckpointTriggered { .. })),
        "none triggered after"
    );
}

#[test]
fn a_coordinator_that_drops_unreadable_checkpoints_at_recovery_restarts_from_scratch() {
    let scenario = load("tests/data/coordinator-outage.toml");
    assert!(run(&scenario, 1, &[]).passed(), "the honest coordinator restores the latest checkpoint");
    let plants = [PlantedBug::DropCheckpointsUnreadableAtRecovery];
    let found = caught(&scenario, plants[0]);
    assert_eq!(found.invariant, Invariant::RestoreLatest);
    assert!(matches!(found.fact, Some(Fact::JobRestarted { checkpoint: None, .. })), "{:?}", found.fact);
    assert!(found.detail.contains("from scratch"), "{}", found.detail);
    // A restart from scratch is a consistent state of its own: nothing else sees the loss
    // of what the completed checkpoint held (it is all replayed).
    assert!(run_judged_without(&scenario, 1, &plants, &[Invariant::RestoreLatest]).passed());
}

#[test]
fn an_at_least_once_sink_that_swallows_a_failed_flush_loses_those_records() {
    let scenario = load("tests/data/at-least-once-outage.toml");
    assert!(run(&scenario, 1, &[]).passed(), "a failed flush fails the sink's task, and the records are replayed");
    let outcome = run_planted_keeping_facts(&scenario, 1, &[PlantedBug::SwallowAsyncSinkError]);
    let found = violation(&outcome);
    assert_eq!(found.invariant, Invariant::EndToEndExactlyOnce);
    assert!(found.detail.contains("is visible 0 of the 1 time(s)"), "{}", found.detail);
    let facts = outcome.facts.as_deref().expect("kept");
    let swallowed = facts.iter().any(|timed| {
        matches!(timed.fact, Fact::ExternalCallFailed { call: snapsim::kernel::trace::ExternalCall::DirectWrite, .. })
    });
    assert!(swallowed, "an append of a flush failed");
}

#[test]
fn an_obsolete_barrier_that_stops_channel_recording_loses_what_was_in_flight() {
    let scenario = load("tests/data/unaligned-stale-barriers.toml");
    assert!(run(&scenario, 1, &[]).passed(), "an obsolete barrier is ignored");
    let found = caught(&scenario, PlantedBug::StaleBarrierStopsChannelRecording);
    assert_eq!(found.invariant, Invariant::ConsistentCut);
    assert!(found.detail.contains("missing from the recorded channel state"), "{}", found.detail);
}

/// Routing data-path facts to the checkers that read them (`Checks::observe`) must change no
/// verdict: every planted bug, on its own scenario, is judged alike with and without routing
/// — the same invariant at the same fact, or the same pass — and again with the invariant
/// that caught it disabled, so routed facts honour disabled checks too.
#[test]
fn routing_data_path_facts_changes_no_verdict() {
    let mut failures = 0;
    for plant in snapsim::plant::ALL_PLANTS {
        let scenario = load(plant.scenario());
        for seed in 0..1 {
            let mut disabled = Vec::new();
            while disabled.len() < 2 {
                let routed =
                    std::panic::catch_unwind(|| run_judged_without(&scenario, seed, &[plant], &disabled).verdict);
                let everywhere = std::panic::catch_unwind(|| {
                    crate::support::run_unrouted(&scenario, seed, &[plant], &disabled).verdict
                });
                match (routed, everywhere) {
                    (Ok(routed), Ok(everywhere)) => {
                        assert_eq!(routed, everywhere, "{plant}, seed {seed}, {disabled:?} not judged");
                        let Verdict::Fail(violation) = routed else { break };
                        failures += 1;
                        disabled.push(violation.invariant);
                    }
                    (Err(_), Err(_)) => break, // The bug trips an assertion of the harness either way.
                    (routed, everywhere) => panic!("{plant}, seed {seed}: {routed:?} against {everywhere:?}"),
                }
            }
        }
    }
    assert!(failures >= 30, "only {failures} planted runs failed: the comparison saw too few verdicts");
}

/// Safety-only mode skips the liveness phase — a job that cannot finish within its budget
/// passes, and the outcome says liveness was not judged — but still catches a safety bug, and
/// a run file keeps the mode, so its replay judges the same way.
#[test]
fn safety_only_skips_liveness_and_still_judges_safety() {
    use snapsim::explore::guarded::run_guarded;
    use snapsim::explore::run::RunSpec;
    use snapsim::explore::run_file::RunFile;
    use snapsim::kernel::rng::Seed;
    let mut scenario = load("sims/wordcount.toml");
    scenario.budget.events_max = 1_000;
    let judged = RunSpec::new(scenario.clone(), Seed(1));
    assert_eq!(violation(&run_guarded(&judged, false).unwrap().outcome.unwrap()).invariant, Invariant::Liveness);
    let safety_only = RunSpec { safety_only: true, ..judged };
    let outcome = run_guarded(&safety_only, false).unwrap().outcome.unwrap();
    assert_eq!(outcome.verdict, Verdict::Pass);
    assert!(!outcome.liveness_judged);
    let file = RunFile::decode(&RunFile::record(&safety_only, "safety only").unwrap().encode()).unwrap();
    assert!(file.spec.safety_only, "the run file keeps the mode");
    let planted =
        RunSpec { plants: vec![PlantedBug::ForgetSourceRewind], ..RunSpec::new(load("sims/wordcount.toml"), Seed(1)) };
    let planted = RunSpec { safety_only: true, ..planted };
    let found = violation(&run_guarded(&planted, false).unwrap().outcome.unwrap()).clone();
    assert_eq!(found.invariant, Invariant::RestoreEquivalence, "safety is judged as ever");
}
