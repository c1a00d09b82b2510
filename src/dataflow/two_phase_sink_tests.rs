//! Unit tests of the two-phase-commit sink's state machine: the calls it asks for at each step.

use super::record::Record;
use super::two_phase_sink::{SinkCommand, SinkFlaws, TransactionalSink, TwoPhaseCommitSink};
use crate::kernel::ids::{CheckpointId, RecordId, TaskId, TransactionId};

const SINK: TaskId = TaskId(7);

fn txn(sequence: u64) -> TransactionId {
    TransactionId { sink: SINK, sequence }
}

fn record(offset: u64) -> Record {
    Record {
        id: RecordId { split: crate::kernel::ids::SplitId::of_task(TaskId(0)), offset },
        key: 2,
        value: 5,
        event_time: 0,
    }
}

fn commands(step: impl FnOnce(&mut Vec<SinkCommand>)) -> Vec<SinkCommand> {
    let mut out = Vec::new();
    step(&mut out);
    out
}

#[test]
fn a_fresh_sink_aborts_every_leftover_and_opens_its_first_transaction() {
    let mut sink = TwoPhaseCommitSink::new(SINK, SinkFlaws::default());
    let out = commands(|out| sink.start(out));
    assert_eq!(out, [SinkCommand::AbortLingering { from: 0 }, SinkCommand::Begin(txn(0))]);
    assert_eq!(commands(|out| sink.write(record(1), out)), [SinkCommand::Write { txn: txn(0), record: record(1) }]);
}

#[test]
fn a_snapshot_pre_commits_and_a_completion_commits_up_to_its_checkpoint() {
    let mut sink = TwoPhaseCommitSink::new(SINK, SinkFlaws::default());
    sink.start(&mut Vec::new());
    let out = commands(|out| sink.pre_commit(CheckpointId(3), out));
    assert_eq!(out, [SinkCommand::Prepare { txn: txn(0), checkpoint: CheckpointId(3) }, SinkCommand::Begin(txn(1))]);
    sink.pre_commit(CheckpointId(4), &mut Vec::new());
    assert_eq!(commands(|out| sink.on_checkpoint_complete(CheckpointId(3), out)), [SinkCommand::Commit(txn(0))]);
    sink.commit_finished(txn(0), true);
    let both = commands(|out| sink.on_checkpoint_complete(CheckpointId(4), out));
    assert_eq!(both, [SinkCommand::Commit(txn(0)), SinkCommand::Commit(txn(1))], "a failed commit is retried");
    sink.commit_finished(txn(0), false);
    sink.commit_finished(txn(1), false);
    assert!(sink.pending().is_empty());
}

#[test]
fn a_restored_sink_commits_its_pending_transactions_again_and_aborts_from_its_open_one() {
    let mut sink = TwoPhaseCommitSink::new(SINK, SinkFlaws::default());
    sink.start(&mut Vec::new());
    sink.pre_commit(CheckpointId(1), &mut Vec::new());
    sink.pre_commit(CheckpointId(2), &mut Vec::new());
    let mut state = Vec::new();
    sink.snapshot(&mut state);
    let mut restored = TwoPhaseCommitSink::new(SINK, SinkFlaws::default());
    restored.restore(&state).expect("decodes");
    let out = commands(|out| restored.start(out));
    assert_eq!(
        out,
        [
            SinkCommand::Commit(txn(0)),
            SinkCommand::Commit(txn(1)),
            SinkCommand::AbortLingering { from: 2 },
            SinkCommand::Begin(txn(2))
        ]
    );
}

#[test]
fn each_flaw_changes_exactly_its_step() {
    let flawed = |flaws: SinkFlaws| {
        let mut sink = TwoPhaseCommitSink::new(SINK, flaws);
        sink.start(&mut Vec::new());
        let pre_commit = commands(|out| sink.pre_commit(CheckpointId(1), out));
        let mut state = Vec::new();
        sink.snapshot(&mut state);
        sink.restore(&state).expect("decodes");
        (pre_commit, commands(|out| sink.start(out)))
    };
    let (pre_commit, _) = flawed(SinkFlaws { commit_on_pre_commit: true, ..SinkFlaws::default() });
    assert_eq!(pre_commit[1], SinkCommand::Commit(txn(0)), "committed before the checkpoint completed");
    let (_, restart) = flawed(SinkFlaws { skip_recommit_after_recovery: true, ..SinkFlaws::default() });
    assert_eq!(restart, [SinkCommand::AbortLingering { from: 1 }, SinkCommand::Begin(txn(1))]);
}

#[test]
fn state_that_does_not_decode_is_refused() {
    let mut sink = TwoPhaseCommitSink::new(SINK, SinkFlaws::default());
    assert!(sink.restore(&[]).is_err());
    assert!(sink.restore(&[1, 2, 3]).is_err());
}
