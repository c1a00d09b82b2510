//! The sinks' side effects: performing a two-phase-commit sink's calls against the external
//! system, recording a fact for each, and deciding what a failed call means.
//!
//! A failed begin, write, pre-commit or abort of leftovers fails the sink's task (Flink's
//! sink throws, the task fails over, and the records are replayed from the checkpoint). A
//! commit that finds the system unavailable stays pending and is retried at the next
//! completion notice; a commit that finds its transaction aborted (it timed out) is dropped,
//! as Flink's committer drops it — the records are lost, and the end-to-end check says so.

use super::{Event, SimWorld};
use crate::dataflow::direct_sinks::DirectWrite;
use crate::dataflow::operator::TaskLogic;
use crate::dataflow::record::Record;
use crate::dataflow::two_phase_sink::{SinkCommand, TransactionalSink};
use crate::external::{CommitOutcome, Incarnation};
use crate::kernel::Scheduler;
use crate::kernel::ids::{TaskId, TransactionId};
use crate::kernel::time::SimDuration;
use crate::kernel::trace::{ExternalCall, ExternalError, Fact, TransactionAbort};
use crate::plant::PlantedBug;

impl SimWorld {
    /// Runs `step` on the two-phase-commit sink of `task` (if it runs one) and performs
    /// the calls it asks for, in order, until one fails.
    pub(super) fn drive_sink(
        &mut self,
        task: TaskId,
        scheduler: &mut Scheduler<Event>,
        step: impl FnOnce(&mut dyn TransactionalSink, &mut Vec<SinkCommand>),
    ) {
        let TaskLogic::TwoPhaseSink(sink) = &mut self.tasks[task.index()].logic else { return };
        let mut calls = std::mem::take(&mut self.scratch.sink_commands);
        step(sink.as_mut(), &mut calls);
        for call in calls.drain(..) {
            if !self.perform(task, call, scheduler) {
                break;
            }
        }
        calls.clear();
        self.scratch.sink_commands = calls;
    }

    /// Starts the two-phase-commit sinks among `tasks` (fresh, or just restored).
    pub(super) fn start_sinks(&mut self, tasks: &[TaskId], scheduler: &mut Scheduler<Event>) {
        for &task in tasks {
            self.drive_sink(task, scheduler, |sink, out| sink.start(out));
        }
    }

    /// Performs one call; false if it failed and the task fails.
    fn perform(&mut self, task: TaskId, call: SinkCommand, scheduler: &mut Scheduler<Event>) -> bool {
        let now = self.now;
        match call {
            SinkCommand::Begin(txn) => match self.external.begin(txn, now) {
                Ok((epoch, fenced)) => {
                    if let Some(old) = fenced {
                        self.record_aborted(old, TransactionAbort::Fenced);
                    }
                    self.record(Fact::TransactionBegun { txn, epoch });
                    scheduler.at(self.external.timeout_of(now), Event::TransactionTimeout { txn, epoch });
                    true
                }
                Err(error) => self.fail_sink(task, ExternalCall::Begin, Some(txn), error, scheduler),
            },
            SinkCommand::Write { txn, record } => match self.external.write(txn, record, now) {
                Ok(()) => {
                    let (key, value) = (record.key, record.value);
                    self.record(Fact::TransactionWrite { txn, record: record.id, key, value });
                    true
                }
                Err(error) => self.fail_sink(task, ExternalCall::Write, Some(txn), error, scheduler),
            },
            SinkCommand::Prepare { txn, checkpoint } => match self.external.prepare(txn, now) {
                Ok(()) => {
                    self.record(Fact::TransactionPrepared { txn, checkpoint });
                    true
                }
                Err(error) => self.fail_sink(task, ExternalCall::Prepare, Some(txn), error, scheduler),
            },
            SinkCommand::Commit(txn) => {
                self.commit(task, txn);
                true
            }
            SinkCommand::AbortLingering { from } => match self.external.abort_lingering(task, from, now) {
                Ok(aborted) => {
                    for old in aborted {
                        self.record_aborted(old, TransactionAbort::Lingering);
                    }
                    true
                }
                Err(error) => {
                    let txn = TransactionId { sink: task, sequence: from };
                    self.fail_sink(task, ExternalCall::AbortLingering, Some(txn), error, scheduler)
                }
            },
        }
    }

    /// Commits `txn`; the sink hears whether to keep it pending for a retry.
    fn commit(&mut self, task: TaskId, txn: TransactionId) {
        let retry = match self.external.commit(txn, self.now) {
            Ok(CommitOutcome::Committed { epoch, records }) => {
                self.record(Fact::TransactionCommitted { txn, epoch, records: records.len() as u64 });
                false
            }
            Ok(CommitOutcome::AlreadyCommitted) => false,
            Err(error) => {
                self.record(Fact::ExternalCallFailed { task, call: ExternalCall::Commit, txn: Some(txn), error });
                error == ExternalError::Unavailable
            }
        };
        let runtime = &mut self.tasks[task.index()];
        runtime.commit_to_retry |= retry;
        if let TaskLogic::TwoPhaseSink(sink) = &mut runtime.logic {
            sink.commit_finished(txn, retry);
        }
    }

    /// A call failed: the task fails, at once but after the step it is in.
    fn fail_sink(
        &mut self,
        task: TaskId,
        call: ExternalCall,
        txn: Option<TransactionId>,
        error: ExternalError,
        scheduler: &mut Scheduler<Event>,
    ) -> bool {
        self.record(Fact::ExternalCallFailed { task, call, txn, error });
        let runtime = &mut self.tasks[task.index()];
        runtime.failing = true;
        scheduler.after(SimDuration::ZERO, Event::SinkFailed { task, attempt: runtime.attempt });
        false
    }

    /// An upsert or at-least-once sink's record: written (or buffered) as its kind does.
    pub(super) fn write_direct(&mut self, task: TaskId, record: Record, scheduler: &mut Scheduler<Event>) {
        let mut writes = Vec::new();
        match &mut self.tasks[task.index()].logic {
            TaskLogic::UpsertSink(sink) => sink.write(record, &mut writes),
            TaskLogic::AtLeastOnceSink(sink) => sink.write(record, &mut writes),
            _ => return,
        }
        self.perform_direct(task, writes, false, scheduler);
    }

    /// An at-least-once sink's snapshot: everything buffered is appended first.
    pub(super) fn flush_direct(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        let mut writes = Vec::new();
        if let TaskLogic::AtLeastOnceSink(sink) = &mut self.tasks[task.index()].logic {
            sink.on_snapshot(&mut writes);
        }
        // FLINK-31305 / FLINK-35749: the flush's error is never rethrown before the snapshot.
        let swallows = self.plants.contains(&PlantedBug::SwallowAsyncSinkError);
        self.perform_direct(task, writes, swallows, scheduler);
    }

    /// Performs direct writes until one fails: the task then fails — or, `swallowing` the
    /// error (a planted bug), goes on as if the rest had been written.
    fn perform_direct(
        &mut self,
        task: TaskId,
        writes: Vec<DirectWrite>,
        swallowing: bool,
        scheduler: &mut Scheduler<Event>,
    ) {
        for write in writes {
            let upsert_key = match write {
                DirectWrite::Upsert(record) => Some((task, record.key)),
                DirectWrite::Append(_) => None,
            };
            match self.external.write_direct(upsert_key, self.now) {
                Ok(true) => {}
                Ok(false) => continue, // The planted insert-or-ignore table kept the old value.
                Err(error) if swallowing => {
                    let call = ExternalCall::DirectWrite;
                    self.record(Fact::ExternalCallFailed { task, call, txn: None, error });
                    return;
                }
                Err(error) => {
                    self.fail_sink(task, ExternalCall::DirectWrite, None, error, scheduler);
                    return;
                }
            }
            self.record(match write {
                DirectWrite::Upsert(Record { id, key, value, .. }) => {
                    Fact::ExternalUpsert { task, record: id, key, value }
                }
                DirectWrite::Append(Record { id, key, value, .. }) => {
                    Fact::ExternalAppend { task, record: id, key, value }
                }
            });
        }
    }

    /// A sink's failed call fails its task over.
    pub(super) fn on_sink_failed(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        self.record(Fact::TaskCrashed { task });
        self.fail_tasks(&[task], scheduler);
    }

    /// A fault: the external system aborts every open transaction.
    pub(super) fn abort_open_transactions(&mut self) {
        for open in self.external.open_transactions() {
            self.abort_incarnation(open, TransactionAbort::Injected);
        }
    }

    /// The external system aborts `incarnation` for `cause`, if it is still live.
    fn abort_incarnation(&mut self, incarnation: Incarnation, cause: TransactionAbort) {
        if self.external.abort(incarnation, cause) {
            self.record_aborted(incarnation, cause);
        }
    }

    fn record_aborted(&mut self, incarnation: Incarnation, cause: TransactionAbort) {
        let Incarnation { txn, epoch } = incarnation;
        self.record(Fact::TransactionAborted { txn, epoch, cause });
    }

    /// Starts the downstream reader's polling, if the job has a transactional sink to read.
    pub(super) fn start_reader(&mut self, scheduler: &mut Scheduler<Event>) {
        let poll = self.config.external.reader_poll;
        let transactional = self.tasks.iter().any(|runtime| matches!(runtime.logic, TaskLogic::TwoPhaseSink(_)));
        if transactional && poll > SimDuration::ZERO {
            scheduler.after(poll, Event::ReaderPoll);
        }
    }

    /// The reader polls: what it sees is a fact, judged against what commits published.
    pub(super) fn on_reader_poll(&mut self, scheduler: &mut Scheduler<Event>) {
        let view = self.external.reader_view();
        self.record(Fact::ReaderSaw { records: view.records, fingerprint: view.fingerprint });
        scheduler.after(self.config.external.reader_poll, Event::ReaderPoll);
    }

    /// Incarnation `epoch` of `txn` outlived the transaction timeout.
    pub(super) fn on_transaction_timeout(&mut self, txn: TransactionId, epoch: u32) {
        self.abort_incarnation(Incarnation { txn, epoch }, TransactionAbort::TimedOut);
    }
}
