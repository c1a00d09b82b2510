//! The two-phase-commit sink, as Flink's `TwoPhaseCommitSinkFunction` and `KafkaSink` run
//! it, as a sans-IO state machine: it answers with `SinkCommand`s that the harness performs
//! against the external system.
//!
//! One transaction per subtask per checkpoint, numbered by the sink itself (`open`):
//! records go into the open transaction; at its snapshot for checkpoint `n` the sink
//! pre-commits it, remembers it as pending for `n` and opens the next; when it hears that
//! `n` (or a later checkpoint) completed it commits every pending transaction up to `n`. Its
//! checkpointed state is the number of the open transaction and the pending list. After a
//! restore it commits the restored pending transactions again (a commit of a committed one
//! succeeds) and aborts every transaction from the restored open number on — whatever the
//! failed attempt left open or prepared — before opening its own.

use super::operator::{Operator, StateError};
use super::record::Record;
use super::state_codec::{push_row, rows};
use crate::kernel::ids::{CheckpointId, TaskId, TransactionId};

/// A call the sink asks the harness to make to the external system, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkCommand {
    /// Open `txn`.
    Begin(TransactionId),
    /// Write `record` into `txn`.
    Write { txn: TransactionId, record: Record },
    /// Pre-commit `txn` for `checkpoint`.
    Prepare { txn: TransactionId, checkpoint: CheckpointId },
    /// Commit `txn`.
    Commit(TransactionId),
    /// Abort this sink's transactions numbered `from` or later that are not committed.
    AbortLingering { from: u64 },
}

/// Test-only ways to break the sink (planted bugs), each a real mistake.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SinkFlaws {
    /// Commit at pre-commit instead of on the checkpoint's completion.
    pub commit_on_pre_commit: bool,
    /// After a restore, drop the restored pending transactions instead of committing them.
    pub skip_recommit_after_recovery: bool,
}

/// The two-phase-commit sink of one subtask.
#[derive(Clone, Debug)]
pub struct TwoPhaseCommitSink {
    task: TaskId,
    /// The number of the open transaction.
    open: u64,
    /// Pre-committed transactions waiting for their commit, by the checkpoint that
    /// pre-committed them (ascending).
    pending: Vec<(CheckpointId, u64)>,
    flaws: SinkFlaws,
}

impl TwoPhaseCommitSink {
    /// The sink of subtask `task`, with `flaws` planted (none in a real run).
    pub fn new(task: TaskId, flaws: SinkFlaws) -> TwoPhaseCommitSink {
        TwoPhaseCommitSink { task, open: 0, pending: Vec::new(), flaws }
    }

    fn txn(&self, sequence: u64) -> TransactionId {
        TransactionId { sink: self.task, sequence }
    }

    /// The transaction records go into now.
    pub fn open_transaction(&self) -> TransactionId {
        self.txn(self.open)
    }

    /// Starts (fresh, or just restored): commit what the restored state says was
    /// pre-committed, abort the failed attempt's leftovers, open a transaction.
    pub fn start(&mut self, out: &mut Vec<SinkCommand>) {
        if self.flaws.skip_recommit_after_recovery {
            self.pending.clear();
        }
        for &(_, sequence) in &self.pending {
            out.push(SinkCommand::Commit(self.txn(sequence)));
        }
        out.push(SinkCommand::AbortLingering { from: self.open });
        out.push(SinkCommand::Begin(self.open_transaction()));
    }

    /// Writes one record into the open transaction.
    pub fn write(&self, record: Record, out: &mut Vec<SinkCommand>) {
        out.push(SinkCommand::Write { txn: self.open_transaction(), record });
    }

    /// The snapshot for `checkpoint`: pre-commit the open transaction and open the next.
    /// Call before capturing the state, which then holds both.
    pub fn pre_commit(&mut self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>) {
        let txn = self.open_transaction();
        out.push(SinkCommand::Prepare { txn, checkpoint });
        if self.flaws.commit_on_pre_commit {
            out.push(SinkCommand::Commit(txn));
        } else {
            self.pending.push((checkpoint, self.open));
        }
        self.open += 1;
        out.push(SinkCommand::Begin(self.open_transaction()));
    }

    /// `checkpoint` completed: commit every pending transaction up to it. They stay pending
    /// until the harness reports each commit's outcome.
    pub fn on_checkpoint_complete(&self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>) {
        for &(pre_committed, sequence) in &self.pending {
            if pre_committed <= checkpoint {
                out.push(SinkCommand::Commit(self.txn(sequence)));
            }
        }
    }

    /// The commit of `txn` is over: `retry` if it could not be made now (the external
    /// system was unavailable) and must be tried again at the next completion.
    pub fn commit_finished(&mut self, txn: TransactionId, retry: bool) {
        if !retry {
            self.pending.retain(|&(_, sequence)| sequence != txn.sequence);
        }
    }

    /// The pending transactions (for tests and reports).
    pub fn pending(&self) -> &[(CheckpointId, u64)] {
        &self.pending
    }
}

impl Operator for TwoPhaseCommitSink {
    /// The harness calls `write` instead: a sink's output goes to the external system.
    fn process(&mut self, _record: &Record, _out: &mut Vec<Record>) {
        unreachable!("the harness writes a two-phase-commit sink's records through `write`")
    }

    /// A row `[open, 0]`, then `[checkpoint, number]` per pending transaction.
    fn snapshot(&self, out: &mut Vec<u8>) {
        push_row(out, [self.open, 0]);
        for &(checkpoint, sequence) in &self.pending {
            push_row(out, [checkpoint.0, sequence]);
        }
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        let decoded = rows::<2>(state)?;
        let Some(([open, _], pending)) = decoded.split_first() else {
            return Err(StateError("a two-phase-commit sink's state starts with a header row".to_string()));
        };
        self.open = *open;
        self.pending = pending.iter().map(|&[checkpoint, sequence]| (CheckpointId(checkpoint), sequence)).collect();
        Ok(())
    }

    fn reset(&mut self) {
        self.open = 0;
        self.pending.clear();
    }
}
