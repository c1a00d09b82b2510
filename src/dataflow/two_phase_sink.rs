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
    Write {
        /// The transaction.
        txn: TransactionId,
        /// The record to write.
        record: Record,
    },
    /// Pre-commit `txn` for `checkpoint`.
    Prepare {
        /// The transaction.
        txn: TransactionId,
        /// The checkpoint the pre-commit belongs to.
        checkpoint: CheckpointId,
    },
    /// Commit `txn`.
    Commit(TransactionId),
    /// Abort this sink's transactions numbered `from` or later that are not committed.
    AbortLingering {
        /// The first transaction number (`TransactionId::sequence`) to abort.
        from: u64,
    },
}

/// A sink that writes to the external system in transactions, as a sans-IO state machine:
/// implement it (and a `SinkFactory`) to have snapsim judge your own two-phase commit by
/// what a reader sees, under every protocol, fault plan and sweep. Each method answers with
/// the calls to make, in order; the harness makes them, records the facts, and reports back
/// through `commit_finished`. The built-in `TwoPhaseCommitSink` is one implementation.
pub trait TransactionalSink: std::fmt::Debug {
    /// The task starts, fresh or just restored (after `restore`): typically commit what the
    /// restored state says was pre-committed, abort the failed attempt's leftovers, open a
    /// transaction.
    fn start(&mut self, out: &mut Vec<SinkCommand>);

    /// One record to write.
    fn write(&mut self, record: Record, out: &mut Vec<SinkCommand>);

    /// The task's snapshot for `checkpoint` is about to be captured (`snapshot` follows).
    fn pre_commit(&mut self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>);

    /// The task heard that `checkpoint` completed (a later notice stands for earlier ones).
    fn on_checkpoint_complete(&mut self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>);

    /// A commit of `txn` asked for is over; `retry` if the external system was unavailable
    /// and the commit should be tried again later.
    fn commit_finished(&mut self, txn: TransactionId, retry: bool);

    /// The sink's checkpointed state, as bytes.
    fn snapshot(&self, out: &mut Vec<u8>);

    /// Replaces the state with what `snapshot` wrote.
    fn restore(&mut self, state: &[u8]) -> Result<(), StateError>;

    /// Drops all state, as a task that starts without a checkpoint.
    fn reset(&mut self);
}

/// Builds the sink of each two-phase-commit sink subtask of a run.
pub trait SinkFactory {
    /// A short name for reports.
    fn name(&self) -> &str;

    /// The sink of subtask `task`; its transactions must be named `TransactionId { sink:
    /// task, .. }`.
    fn build(&self, task: TaskId) -> Box<dyn TransactionalSink>;
}

/// Lets the harness restore and reset any transactional sink like an operator.
impl Operator for Box<dyn TransactionalSink> {
    fn process(&mut self, _record: &Record, _out: &mut Vec<Record>) {
        unreachable!("the harness writes a transactional sink's records through `write`")
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        self.as_ref().snapshot(out);
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        self.as_mut().restore(state)
    }

    fn reset(&mut self) {
        self.as_mut().reset();
    }
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

    /// The pending transactions (for tests and reports).
    pub fn pending(&self) -> &[(CheckpointId, u64)] {
        &self.pending
    }
}

impl TransactionalSink for TwoPhaseCommitSink {
    /// Commit what the restored state says was pre-committed, abort the failed attempt's
    /// leftovers, open a transaction.
    fn start(&mut self, out: &mut Vec<SinkCommand>) {
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
    fn write(&mut self, record: Record, out: &mut Vec<SinkCommand>) {
        out.push(SinkCommand::Write { txn: self.open_transaction(), record });
    }

    /// Pre-commit the open transaction and open the next; the state captured next holds
    /// both.
    fn pre_commit(&mut self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>) {
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

    /// Commit every pending transaction up to `checkpoint`. They stay pending until the
    /// harness reports each commit's outcome.
    fn on_checkpoint_complete(&mut self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>) {
        for &(pre_committed, sequence) in &self.pending {
            if pre_committed <= checkpoint {
                out.push(SinkCommand::Commit(self.txn(sequence)));
            }
        }
    }

    /// A failed commit stays pending, for the next completion.
    fn commit_finished(&mut self, txn: TransactionId, retry: bool) {
        if !retry {
            self.pending.retain(|&(_, sequence)| sequence != txn.sequence);
        }
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
