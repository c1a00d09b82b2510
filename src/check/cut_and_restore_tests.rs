//! Unit tests of the consistent-cut and restore-equivalence checkers: hand-written fact
//! histories of a two-task job (p = task#0 sends to q = task#1 on channel#0), each broken on
//! purpose in one way. Their restarts name checkpoints no `CheckpointCompleted` announced,
//! so restore-latest (tested in `restore_latest_tests.rs`) is not judged here.

use super::{Checks, ExpectedTotals, Invariant, JobShape, RunEnd, Violation};
use crate::kernel::Stop;
use crate::kernel::ids::{Attempt, ChannelId, CheckpointId, RecordId, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, MessageTag};

const P: TaskId = TaskId(0);
const Q: TaskId = TaskId(1);
const CHANNEL: ChannelId = ChannelId(0);
const CHECKPOINT: CheckpointId = CheckpointId(1);

fn judge(facts: &[Fact]) -> Option<Violation> {
    let shape = JobShape::single_stage(2, vec![(P, Q)], vec![vec![P, Q]]);
    let disabled = vec![Invariant::ExactlyOnceState, Invariant::FinalAggregate, Invariant::RestoreLatest];
    let mut checks = Checks::new(ExpectedTotals::default(), shape, crate::protocol::Guarantee::ExactlyOnce, disabled);
    for (index, fact) in facts.iter().enumerate() {
        checks.observe(SimTime::from_nanos(index as u64), index as u64, fact);
    }
    checks.finish(RunEnd { stop: Stop::Finished, time: SimTime::from_nanos(facts.len() as u64) });
    checks.take_violation()
}

fn data(sequence: u64) -> Fact {
    let record = RecordId { split: crate::kernel::ids::SplitId::of_task(P), offset: sequence };
    Fact::MessageSent { channel: CHANNEL, sequence, message: MessageTag::Record { record, key: 0 } }
}

fn barrier(sequence: u64) -> Fact {
    Fact::MessageSent { channel: CHANNEL, sequence, message: MessageTag::Barrier { checkpoint: CHECKPOINT } }
}

fn consumed(sequence: u64) -> Fact {
    Fact::MessageConsumed { channel: CHANNEL, sequence }
}

fn captured(task: TaskId, digest: u64) -> Fact {
    Fact::StateCaptured { task, checkpoint: CHECKPOINT, digest, bytes: 8 }
}

fn recorded(sequence: u64) -> Fact {
    Fact::ChannelStateRecorded { task: Q, checkpoint: CHECKPOINT, channel: CHANNEL, sequence }
}

const COMPLETED: Fact = Fact::CheckpointCompleted { checkpoint: CHECKPOINT };

/// p sends #0 and #1, q consumes #0, p snapshots and sends its marker #2, q snapshots
/// before #1 arrives, then consumes #1 (recording it when `record` is set) and the marker.
fn chandy_lamport_history(record: &[u64]) -> Vec<Fact> {
    let mut facts = vec![data(0), data(1), consumed(0), captured(P, 10), barrier(2), captured(Q, 20), consumed(1)];
    facts.extend(record.iter().map(|&sequence| recorded(sequence)));
    facts.extend([consumed(2), COMPLETED]);
    facts
}

fn assert_violation(found: Option<Violation>, invariant: Invariant, phrase: &str) {
    let found = found.unwrap_or_else(|| panic!("expected {invariant}: {phrase}"));
    assert_eq!(found.invariant, invariant, "{}", found.detail);
    assert!(found.detail.contains(phrase), "{}", found.detail);
}

#[test]
fn an_aligned_cut_with_empty_channel_state_passes() {
    let facts = [data(0), captured(P, 10), barrier(1), consumed(0), consumed(1), captured(Q, 20), COMPLETED];
    assert_eq!(judge(&facts), None);
}

#[test]
fn recorded_channel_state_equal_to_what_was_in_flight_passes() {
    assert_eq!(judge(&chandy_lamport_history(&[1])), None);
}

#[test]
fn an_in_flight_message_missing_from_the_channel_state_is_caught() {
    assert_violation(judge(&chandy_lamport_history(&[])), Invariant::ConsistentCut, "message #1 was in flight");
}

#[test]
fn a_message_recorded_that_was_not_in_flight_is_caught() {
    assert_violation(judge(&chandy_lamport_history(&[0, 1])), Invariant::ConsistentCut, "holds message #0");
}

#[test]
fn a_message_recorded_twice_is_caught_as_it_is_recorded() {
    let found = judge(&chandy_lamport_history(&[1, 1]));
    assert_violation(found.clone(), Invariant::ConsistentCut, "recorded as channel state twice");
    assert!(found.and_then(|violation| violation.fact).is_some(), "caught online");
}

#[test]
fn a_message_consumed_before_the_snapshot_but_sent_after_the_senders_is_an_orphan() {
    let facts = [captured(P, 10), data(0), consumed(0), captured(Q, 20), COMPLETED];
    assert_violation(judge(&facts), Invariant::ConsistentCut, "orphan");
}

#[test]
fn out_of_order_delivery_shows_up_as_a_broken_cut() {
    // q consumes #1 before #0 (FIFO broken), snapshots on the marker it took early.
    let facts = [data(0), captured(P, 10), barrier(1), consumed(1), captured(Q, 20), consumed(0), COMPLETED];
    assert_violation(judge(&facts), Invariant::ConsistentCut, "message #0 was in flight");
}

#[test]
fn a_checkpoint_completed_without_every_snapshot_is_caught() {
    assert_violation(judge(&[captured(P, 10), COMPLETED]), Invariant::ConsistentCut, "never captured");
}

#[test]
fn an_aborted_checkpoint_is_not_judged() {
    let facts = [
        captured(P, 10),
        Fact::CheckpointAborted { checkpoint: CHECKPOINT, reason: crate::kernel::trace::AbortReason::Expired },
    ];
    assert_eq!(judge(&facts), None);
}

fn restart(checkpoint: Option<CheckpointId>) -> Fact {
    Fact::JobRestarted { attempt: Attempt(1), checkpoint }
}

fn restored(task: TaskId, digest: u64) -> Fact {
    Fact::TaskRestored { task, checkpoint: Some(CHECKPOINT), digest }
}

fn read(offset: u64) -> Fact {
    Fact::SourceRead { task: P, offset }
}

/// p reads offsets 0..3 and captures at offset 3; q captures; the job restarts from it.
fn restart_history() -> Vec<Fact> {
    vec![read(0), read(1), read(2), captured(P, 10), captured(Q, 20), read(3), restart(Some(CHECKPOINT))]
}

#[test]
fn restoring_what_was_captured_and_reading_on_from_the_offset_passes() {
    let facts = [restart_history(), vec![restored(P, 10), restored(Q, 20), read(3), read(4)]].concat();
    assert_eq!(judge(&facts), None);
}

#[test]
fn restored_bytes_that_differ_from_the_capture_are_caught() {
    let facts = [restart_history(), vec![restored(P, 10), restored(Q, 21)]].concat();
    assert_violation(judge(&facts), Invariant::RestoreEquivalence, "digest");
}

#[test]
fn a_source_that_reads_on_from_the_wrong_offset_is_caught() {
    let facts = [restart_history(), vec![restored(P, 10), restored(Q, 20), read(4)]].concat();
    assert_violation(judge(&facts), Invariant::RestoreEquivalence, "recorded offset 3");
}

#[test]
fn a_task_that_acts_before_it_is_restored_is_caught() {
    let facts = [restart_history(), vec![restored(Q, 20), read(3)]].concat();
    assert_violation(judge(&facts), Invariant::RestoreEquivalence, "without restoring");
}

#[test]
fn a_restore_left_unfinished_at_the_end_is_caught() {
    let facts = [restart_history(), vec![restored(P, 10)]].concat();
    assert_violation(judge(&facts), Invariant::RestoreEquivalence, "never restored");
}

#[test]
fn a_restore_from_another_checkpoint_than_the_restart_is_caught() {
    let other = Fact::TaskRestored { task: P, checkpoint: Some(CheckpointId(2)), digest: 10 };
    let facts = [restart_history(), vec![other]].concat();
    assert_violation(judge(&facts), Invariant::RestoreEquivalence, "while it restarted from");
}

#[test]
fn a_fresh_start_that_loads_state_is_caught() {
    let fresh = |task, digest| Fact::TaskRestored { task, checkpoint: None, digest };
    let facts = [vec![read(0), restart(None)], vec![fresh(P, 0), fresh(Q, 5)]].concat();
    assert_violation(judge(&facts), Invariant::RestoreEquivalence, "started fresh but loaded state");
}

/// The paper's single token (Examples 2.1 and 3.1): p holds it, c = channel#0 carries it to
/// q. `facts` is judged with one of consistent-cut and conservation switched off, so each
/// must reject the paper's two wrong recordings on its own.
fn judge_token(facts: &[Fact], judged: Invariant) -> Option<Violation> {
    let shape = JobShape::single_stage(2, vec![(P, Q)], vec![vec![P, Q]]);
    let expected = ExpectedTotals {
        bank: Some(super::BankExpectation { total: 1, final_balances: None }),
        ..ExpectedTotals::default()
    };
    let mut disabled = vec![
        Invariant::ExactlyOnceState,
        Invariant::FinalAggregate,
        Invariant::RestoreEquivalence,
        Invariant::RestoreLatest,
    ];
    disabled.push(if judged == Invariant::ConsistentCut { Invariant::Conservation } else { Invariant::ConsistentCut });
    let mut checks = Checks::new(expected, shape, crate::protocol::Guarantee::ExactlyOnce, disabled);
    for (index, fact) in facts.iter().enumerate() {
        checks.observe(SimTime::from_nanos(index as u64), index as u64, fact);
    }
    checks.take_violation()
}

fn token_sent() -> Fact {
    let record = RecordId { split: crate::kernel::ids::SplitId::of_task(P), offset: 0 };
    Fact::MessageSent { channel: CHANNEL, sequence: 0, message: MessageTag::Transfer { record, amount: 1 } }
}

fn balance(task: TaskId, balance: i64) -> [Fact; 2] {
    [captured(task, 0), Fact::BalanceCaptured { task, checkpoint: CHECKPOINT, balance }]
}

#[test]
fn the_papers_two_token_recording_is_rejected_by_both_checkers() {
    // (i) p recorded while it held the token (before sending it), c recorded after: the
    // token in both p's state and c's. n < n': c's state holds a message p's snapshot had
    // not sent.
    let mut facts = balance(P, 1).to_vec();
    facts.extend([token_sent(), recorded(0)]);
    facts.extend(balance(Q, 0));
    facts.push(COMPLETED);
    assert_violation(judge_token(&facts, Invariant::ConsistentCut), Invariant::ConsistentCut, "not in flight");
    assert_violation(judge_token(&facts, Invariant::Conservation), Invariant::Conservation, "appeared from nowhere");
}

#[test]
fn the_papers_zero_token_recording_is_rejected_by_both_checkers() {
    // (ii) c recorded (empty) while p held the token, p and q recorded after p sent it: the
    // token nowhere. n > n': p's snapshot sent a message that neither q nor c recorded.
    let mut facts = vec![token_sent()];
    facts.extend(balance(P, 0));
    facts.extend(balance(Q, 0));
    facts.push(COMPLETED);
    assert_violation(
        judge_token(&facts, Invariant::ConsistentCut),
        Invariant::ConsistentCut,
        "missing from the recorded",
    );
    assert_violation(judge_token(&facts, Invariant::Conservation), Invariant::Conservation, "vanished");
}

#[test]
fn the_papers_correct_token_recordings_pass() {
    // The token at p (p records, then sends), and in c (p sends, q records before it arrives
    // and records it as c's state).
    let mut at_p = balance(P, 1).to_vec();
    at_p.extend([token_sent()]);
    at_p.extend(balance(Q, 0));
    at_p.extend([consumed(0), COMPLETED]);
    let mut in_c = vec![token_sent()];
    in_c.extend(balance(Q, 0));
    in_c.extend(balance(P, 0));
    in_c.extend([consumed(0), recorded(0), COMPLETED]);
    for facts in [at_p, in_c] {
        for judged in [Invariant::ConsistentCut, Invariant::Conservation] {
            assert_eq!(judge_token(&facts, judged), None, "{judged}");
        }
    }
}

/// Region failover: p and q in two pipelined regions (no channel between them).
fn judge_regions(facts: &[Fact]) -> Option<Violation> {
    let shape = JobShape::single_stage(2, Vec::new(), vec![vec![P], vec![Q]]);
    let disabled = vec![Invariant::ExactlyOnceState, Invariant::FinalAggregate, Invariant::RestoreLatest];
    let mut checks = Checks::new(ExpectedTotals::default(), shape, crate::protocol::Guarantee::ExactlyOnce, disabled);
    for (index, fact) in facts.iter().enumerate() {
        checks.observe(SimTime::from_nanos(index as u64), index as u64, fact);
    }
    checks.finish(RunEnd { stop: Stop::Finished, time: SimTime::from_nanos(facts.len() as u64) });
    checks.take_violation()
}

fn region_restart(region: u32) -> Fact {
    Fact::RegionRestarted { region, attempt: Attempt(1), checkpoint: Some(CHECKPOINT) }
}

/// p reads offset 0 and captures at offset 1; q captures; p's region (0) restarts.
fn region_history() -> Vec<Fact> {
    vec![read(0), captured(P, 10), captured(Q, 20), read(1), region_restart(0)]
}

#[test]
fn a_region_restart_restores_its_tasks_while_the_others_run_on() {
    let q_reads = Fact::SourceRead { task: Q, offset: 7 };
    let facts = [region_history(), vec![q_reads, restored(P, 10), read(1)]].concat();
    assert_eq!(judge_regions(&facts), None);
}

#[test]
fn a_task_of_a_restarted_region_that_acts_before_its_restore_is_caught() {
    let facts = [region_history(), vec![read(1)]].concat();
    assert_violation(judge_regions(&facts), Invariant::RestoreEquivalence, "without restoring");
}

#[test]
fn a_task_restored_outside_the_restarted_region_is_caught() {
    let facts = [region_history(), vec![restored(P, 10), restored(Q, 20)]].concat();
    assert_violation(judge_regions(&facts), Invariant::RestoreEquivalence, "without a restart");
}

#[test]
fn a_region_restarted_twice_before_its_restore_is_caught() {
    let facts = [region_history(), vec![region_restart(0)]].concat();
    assert_violation(judge_regions(&facts), Invariant::RestoreEquivalence, "region 0 restarted again");
}

#[test]
fn a_region_restarted_fresh_instead_of_from_its_checkpoint_is_caught() {
    let fresh = Fact::TaskRestored { task: P, checkpoint: None, digest: 0 };
    let facts = [region_history(), vec![fresh]].concat();
    assert_violation(judge_regions(&facts), Invariant::RestoreEquivalence, "while it restarted from");
}

#[test]
fn a_restart_of_a_region_the_job_does_not_have_is_caught() {
    let facts = [region_history()[..4].to_vec(), vec![region_restart(5)]].concat();
    assert_violation(judge_regions(&facts), Invariant::RestoreEquivalence, "no such pipelined region");
}

#[test]
fn a_checkpoint_id_triggered_twice_is_caught() {
    let facts = vec![
        Fact::CheckpointTriggered { checkpoint: CheckpointId(1) },
        Fact::CheckpointTriggered { checkpoint: CheckpointId(2) },
        Fact::CoordinatorCrashed,
        Fact::CheckpointTriggered { checkpoint: CheckpointId(2) },
    ];
    let found = judge(&facts).expect("caught");
    assert_eq!(found.invariant, Invariant::ConsistentCut);
    assert!(found.detail.contains("checkpoint ids must rise"), "{}", found.detail);
    assert_eq!(found.fact_index, Some(3));
}
