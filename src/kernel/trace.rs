//! The trace: facts about what physically happened, folded into a stable 64-bit hash.
//!
//! A fact is recorded by the harness at the moment the thing happens (a message entered a
//! channel, a record was applied to keyed state, bytes became durable, a task crashed). Facts
//! are the ground truth the checkers judge; protocols never read them. The trace hash is
//! XXH3-64 (seed 0) over the canonical encoding of every `(time, fact)` in order: each field
//! as little-endian bytes behind a one-byte tag (see `Fact::encode`). It never uses
//! `derive(Hash)` or std's hashers, so it is the same in debug and release, on every machine,
//! and across Rust releases. Facts can also be kept in memory for replay and reports, or
//! handed one by one to a `FactSink` as they are recorded (a run file streamed to disk),
//! which keeps none of them; the hash is the same either way.

use super::ids::{Attempt, ChannelId, CheckpointId, RecordId, TaskId, TransactionId};
use super::time::SimTime;
use serde::{Deserialize, Serialize};
use std::fmt;
use xxhash_rust::xxh3::Xxh3;

/// One thing that physically happened in the simulated world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fact {
    /// A message entered `channel` (the sender's output buffer) as number `sequence`.
    MessageSent {
        /// The channel the message entered.
        channel: ChannelId,
        /// The message's number on its channel, from 0.
        sequence: u64,
        /// What the message is.
        message: MessageTag,
    },
    /// A message reached the receiver's input buffer.
    MessageArrived {
        /// The channel.
        channel: ChannelId,
        /// The message's number on its channel, from 0.
        sequence: u64,
    },
    /// The receiving task took the message from its input buffer and processed it.
    MessageConsumed {
        /// The channel.
        channel: ChannelId,
        /// The message's number on its channel, from 0.
        sequence: u64,
    },
    /// A keyed operator applied `record` to the state of `key`.
    RecordApplied {
        /// The keyed operator's task.
        task: TaskId,
        /// The source record's id.
        record: RecordId,
        /// The state key.
        key: u64,
    },
    /// A source read the record at `offset` of its split.
    SourceRead {
        /// The source task.
        task: TaskId,
        /// The record's offset in the split, from 0.
        offset: u64,
    },
    /// A task finished: its data had ended and a checkpoint it took after that completed
    /// (it heard so) — Flink's final checkpoint (FLIP-147); or a bank account closed.
    TaskFinished {
        /// The finished task.
        task: TaskId,
    },
    /// The coordinator started a checkpoint.
    CheckpointTriggered {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// A task stopped consuming an input because the barrier of `checkpoint` arrived on it.
    InputBlocked {
        /// The blocking task.
        task: TaskId,
        /// The input channel blocked.
        channel: ChannelId,
        /// The checkpoint whose barrier arrived.
        checkpoint: CheckpointId,
    },
    /// A task resumed consuming every blocked input.
    InputsUnblocked {
        /// The task that resumed.
        task: TaskId,
    },
    /// A task recorded an in-flight message of `channel` as channel state of `checkpoint`.
    ChannelStateRecorded {
        /// The receiving task that recorded the message.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// The input channel the message came on.
        channel: ChannelId,
        /// The message's number on that channel.
        sequence: u64,
    },
    /// A task captured its state for `checkpoint`; `digest` is XXH3-64 of the state bytes.
    StateCaptured {
        /// The task that captured its state.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// XXH3-64 of the state bytes.
        digest: u64,
        /// The size of the captured state, in bytes.
        bytes: u64,
    },
    /// A storage write finished: the object is now durable.
    ObjectDurable {
        /// The object's name.
        object: ObjectName,
        /// The object's size, in bytes.
        bytes: u64,
    },
    /// A durable object was deleted; nothing can be restored from it any more.
    ObjectDeleted {
        /// The object's name.
        object: ObjectName,
    },
    /// The coordinator received a task's acknowledgement of `checkpoint`.
    AcknowledgementReceived {
        /// The acknowledging task.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// `checkpoint` completed: every task acknowledged and its metadata is durable.
    CheckpointCompleted {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// `checkpoint` was abandoned.
    CheckpointAborted {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// Why it was abandoned.
        reason: AbortReason,
    },
    /// A task crashed; the job fails over.
    TaskCrashed {
        /// The crashed task.
        task: TaskId,
    },
    /// The job restarted as `attempt`, from `checkpoint` or from scratch.
    JobRestarted {
        /// The new attempt's number.
        attempt: Attempt,
        /// The checkpoint restored; `None` for a start from scratch.
        checkpoint: Option<CheckpointId>,
    },
    /// A channel was emptied at a restart, dropping `discarded` messages of the old attempt.
    ChannelReset {
        /// The channel.
        channel: ChannelId,
        /// How many messages of the old attempt were dropped.
        discarded: u64,
    },
    /// A task loaded state; `digest` is XXH3-64 of the bytes loaded (0 for a fresh start).
    TaskRestored {
        /// The restored task.
        task: TaskId,
        /// The checkpoint restored; `None` for a start from scratch.
        checkpoint: Option<CheckpointId>,
        /// XXH3-64 of the bytes loaded (0 for a fresh start).
        digest: u64,
    },
    /// At the end of a finished run, the totals a keyed aggregate holds for one key.
    KeyTotal {
        /// The keyed aggregate's task.
        task: TaskId,
        /// The state key.
        key: u64,
        /// How many records the key holds.
        count: u64,
        /// The sum of those records' values.
        sum: i64,
        /// The wrapping sum of those records' fingerprints (`RecordId::fingerprint`).
        fingerprint: u64,
    },
    /// A bank account captured its state for `checkpoint`: this is the balance it recorded.
    BalanceCaptured {
        /// The account's task.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// The balance recorded.
        balance: i64,
    },
    /// At the end of a finished bank run, the balance an account holds.
    FinalBalance {
        /// The account's task.
        task: TaskId,
        /// The balance held at the end.
        balance: i64,
    },
    /// Fault `index` of the plan struck (faults other than crashes, which have their own).
    FaultInjected {
        /// The fault's index in the plan.
        index: u32,
    },
    /// The coordinator crashed; the job fails over and a new coordinator recovers.
    CoordinatorCrashed,
    /// A storage write failed (storage unavailable); the object never became durable.
    WriteFailed {
        /// The object's name.
        object: ObjectName,
    },
    /// A control message was lost in transit: `kind` is its `ControlMessage` index, `task`
    /// the task it was from or to.
    ControlMessageLost {
        /// The message's kind, as its index in `ControlMessage::ALL`.
        kind: u8,
        /// The task the message was from or to.
        task: TaskId,
        /// The checkpoint the message was about.
        checkpoint: CheckpointId,
    },
    /// A task captured its state for `checkpoint` before replaying all the channel state a
    /// restore gave it; those `records` go into the new snapshot's channel state.
    RecoveredStateCarried {
        /// The task that captured its state.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// How many not yet replayed records go into the new snapshot's channel state.
        records: u64,
    },
    /// Every fault of the plan has struck and every fault window has closed: the run is
    /// healed from here on.
    FaultsLifted,
    /// More consecutive checkpoints failed than tolerated: the job fails over.
    CheckpointFailuresExceeded {
        /// How many consecutive checkpoints failed.
        failures: u32,
    },
    /// The restart strategy gave up after `failures` failovers: the job failed for good.
    JobFailed {
        /// How many failovers there were.
        failures: u64,
    },
    /// A worker crashed (each task on it is recorded as crashed too).
    WorkerCrashed {
        /// The crashed worker's index.
        worker: u32,
    },
    /// A control message was delayed in transit (see `ControlMessageLost` for the fields).
    ControlMessageDelayed {
        /// The message's kind, as its index in `ControlMessage::ALL`.
        kind: u8,
        /// The task the message was from or to.
        task: TaskId,
        /// The checkpoint the message was about.
        checkpoint: CheckpointId,
    },
    /// A network partition broke `channel`'s connection: the tasks on both ends fail.
    ChannelBroken {
        /// The broken channel.
        channel: ChannelId,
    },
    /// The writer of `object` crashed mid-write: it is left torn in storage (its checksum
    /// exposes it) and never becomes durable.
    ObjectTorn {
        /// The object's name.
        object: ObjectName,
    },
    /// Region failover: the tasks of pipelined `region` failed (or were cancelled with a
    /// failed one) and are down until the region restarts as `attempt`; the other regions
    /// keep running.
    RegionFailedOver {
        /// The pipelined region's index.
        region: u32,
        /// The attempt the region restarts as.
        attempt: Attempt,
    },
    /// Pipelined `region` restarted as `attempt`, from `checkpoint` or from scratch: each of
    /// its tasks is restored (`TaskRestored`); the other regions kept running.
    RegionRestarted {
        /// The pipelined region's index.
        region: u32,
        /// The attempt the region restarts as.
        attempt: Attempt,
        /// The checkpoint restored; `None` for a start from scratch.
        checkpoint: Option<CheckpointId>,
    },
    /// A task reached the end of its data (a source read its whole split, or every input
    /// delivered end-of-data) and sent end-of-data on its outputs; it keeps taking
    /// checkpoints until its final one completes.
    DataEnded {
        /// The task whose data ended.
        task: TaskId,
    },
    /// A task heard that `checkpoint` completed (a completion notice reached it).
    CompletionNotified {
        /// The task that heard.
        task: TaskId,
        /// The completed checkpoint.
        checkpoint: CheckpointId,
    },
    /// The external system opened `txn` (incarnation `epoch`: a transactional id opened
    /// again fences and aborts its earlier incarnation).
    TransactionBegun {
        /// The transaction opened.
        txn: TransactionId,
        /// The incarnation opened (an earlier one is fenced).
        epoch: u32,
    },
    /// A sink wrote `record` (value `value` under `key`) into `txn`; readers see it only
    /// once `txn` commits.
    TransactionWrite {
        /// The transaction written into.
        txn: TransactionId,
        /// The record's id.
        record: RecordId,
        /// The record's key.
        key: u64,
        /// The record's value.
        value: i64,
    },
    /// A sink pre-committed `txn` as part of its snapshot for `checkpoint`.
    TransactionPrepared {
        /// The transaction pre-committed.
        txn: TransactionId,
        /// The checkpoint whose snapshot the pre-commit is part of.
        checkpoint: CheckpointId,
    },
    /// The external system committed incarnation `epoch` of `txn`: its `records` are
    /// visible to readers from now.
    TransactionCommitted {
        /// The transaction committed.
        txn: TransactionId,
        /// The incarnation committed.
        epoch: u32,
        /// How many records became visible.
        records: u64,
    },
    /// The external system aborted `txn` (incarnation `epoch`); its records are gone.
    TransactionAborted {
        /// The transaction aborted.
        txn: TransactionId,
        /// The incarnation aborted.
        epoch: u32,
        /// Why it was aborted.
        cause: TransactionAbort,
    },
    /// A sink's call to the external system failed (`txn`: the transaction it was for, if
    /// any).
    ExternalCallFailed {
        /// The sink's task.
        task: TaskId,
        /// The call that failed.
        call: ExternalCall,
        /// The transaction the call was for; `None` if for none.
        txn: Option<TransactionId>,
        /// Why it failed.
        error: ExternalError,
    },
    /// An upsert sink set `key` to `value` in its external table (from `record`); readers
    /// see it at once.
    ExternalUpsert {
        /// The sink's task.
        task: TaskId,
        /// The record's id.
        record: RecordId,
        /// The table key set.
        key: u64,
        /// The value set.
        value: i64,
    },
    /// An at-least-once sink appended `record` to its external log; readers see it at once.
    ExternalAppend {
        /// The sink's task.
        task: TaskId,
        /// The record's id.
        record: RecordId,
        /// The record's key.
        key: u64,
        /// The record's value.
        value: i64,
    },
    /// The downstream reader polled the external system's transactional records: it saw
    /// `records`, whose fingerprints add up (wrapping) to `fingerprint`.
    ReaderSaw {
        /// How many committed transactional records the reader saw.
        records: u64,
        /// The wrapping sum of their fingerprints.
        fingerprint: u64,
    },
    /// The split enumerator handed log `partition` to reader `task`, to read from its start.
    PartitionAssigned {
        /// The reader's task.
        task: TaskId,
        /// The log partition assigned.
        partition: u32,
    },
    /// Reader `task` read record `offset` of log `partition`.
    PartitionRead {
        /// The reader's task.
        task: TaskId,
        /// The log partition.
        partition: u32,
        /// The record's offset in the partition, from 0.
        offset: u64,
    },
    /// Reader `task` restored log `partition` from its state, to read on from `offset`.
    PartitionRestored {
        /// The reader's task.
        task: TaskId,
        /// The log partition.
        partition: u32,
        /// The offset reading goes on from.
        offset: u64,
    },
    /// `task`'s state for `checkpoint` holds key group `key_group` as shared file `file`
    /// (`bytes` long): written now for this checkpoint (`reused` false), or referenced from
    /// an earlier one.
    StateFileReferenced {
        /// The task.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// The shared file's name (`ObjectName::SharedFile`).
        file: ObjectName,
        /// The file's size, in bytes.
        bytes: u64,
        /// Whether the file was written for an earlier checkpoint and referenced again.
        reused: bool,
    },
    /// A restore of `task` needed shared file `file`, and storage did not have it.
    StateFileMissing {
        /// The task being restored.
        task: TaskId,
        /// The shared file's name.
        file: ObjectName,
    },
    /// The job was stopped for a rescale; its restart deploys `stage` (stage 0 is the job as
    /// first deployed, each rescale adds one).
    JobRescaled {
        /// The deployment stage the restart deploys.
        stage: u32,
    },
    /// `task`, deployed by a rescale, restored key groups `first..=last` of its vertex from
    /// every state of `checkpoint` that held them; `keys` `KeyRestored` facts follow (one
    /// per key it holds afterwards, for keyed state judged by key).
    KeyGroupsRestored {
        /// The task deployed by the rescale.
        task: TaskId,
        /// The checkpoint restored from.
        checkpoint: CheckpointId,
        /// The first key group restored.
        first: u32,
        /// The last key group restored (inclusive).
        last: u32,
        /// How many `KeyRestored` facts follow.
        keys: u64,
    },
    /// Right after a rescaled restore, `task` holds `count` records with fingerprint sum
    /// `fingerprint` for state key `key`.
    KeyRestored {
        /// The task right after its rescaled restore.
        task: TaskId,
        /// The state key.
        key: u64,
        /// How many records the key holds.
        count: u64,
        /// The wrapping sum of those records' fingerprints.
        fingerprint: u64,
    },
    /// Reader `task`, deployed by a rescale, restored its round-robin share (`splits`
    /// partitions and offsets) of every reader's state in `checkpoint`; a `PartitionRestored`
    /// per partition follows.
    SplitsRedistributed {
        /// The reader's task, deployed by the rescale.
        task: TaskId,
        /// The checkpoint restored from.
        checkpoint: CheckpointId,
        /// How many partitions the reader took over.
        splits: u64,
    },
    /// `checkpoint` is a savepoint (`CheckpointTriggered` follows): always aligned, its
    /// state whole, never subsumed; `stop`: the job stops with it and starts from it.
    SavepointTriggered {
        /// The savepoint's id.
        checkpoint: CheckpointId,
        /// Whether the job stops with the savepoint.
        stop: bool,
    },
}

/// Why the external system aborted a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionAbort {
    /// Its sink, restarted, aborted it as a leftover of a failed attempt.
    Lingering,
    /// The same transactional id was opened again (fencing).
    Fenced,
    /// It stayed open or prepared longer than the transaction timeout.
    TimedOut,
    /// The external system aborted it on its own (a fault: a transaction coordinator moved).
    Injected,
}

/// A call a sink makes to the external system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternalCall {
    /// Open a transaction.
    Begin,
    /// Write a record into a transaction.
    Write,
    /// Pre-commit (flush) a transaction.
    Prepare,
    /// Commit a transaction.
    Commit,
    /// Abort a restarted sink's leftover transactions.
    AbortLingering,
    /// Upsert or append outside any transaction.
    DirectWrite,
}

/// Why a call to the external system failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternalError {
    /// The external system is unavailable (a fault window).
    Unavailable,
    /// The transaction was aborted before the call (timed out, fenced, injected).
    Aborted,
}

/// What a sent message was, as far as the trace cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageTag {
    /// A data record and the source record it descends from.
    Record {
        /// The source record it descends from.
        record: RecordId,
        /// The record's key.
        key: u64,
    },
    /// A checkpoint barrier.
    Barrier {
        /// The barrier's checkpoint.
        checkpoint: CheckpointId,
    },
    /// The end of the sender's output on this channel.
    EndOfInput,
    /// A bank transfer of `amount` (the record's value); the channel names payer and payee.
    Transfer {
        /// The transfer record's id.
        record: RecordId,
        /// The amount transferred (the record's value).
        amount: i64,
    },
    /// A watermark: no record with an event time at or below `event_time` follows it.
    Watermark {
        /// The watermark's event time, in µs.
        event_time: u64,
    },
}

impl MessageTag {
    /// Whether the message is data (a record or a transfer), not a barrier or end marker.
    pub fn is_data(self) -> bool {
        matches!(self, MessageTag::Record { .. } | MessageTag::Transfer { .. })
    }
}

/// A durable object's name in simulated storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ObjectName {
    /// One task's state for one checkpoint.
    TaskState {
        /// The checkpoint.
        checkpoint: CheckpointId,
        /// The task whose state it is.
        task: TaskId,
    },
    /// A checkpoint's metadata: which objects make it up. Its durability completes it.
    Metadata {
        /// The checkpoint it completes.
        checkpoint: CheckpointId,
    },
    /// An incremental checkpoint's immutable file of one key group of one task, first
    /// written for `checkpoint`; later checkpoints may reference it instead of writing the
    /// group again.
    SharedFile {
        /// The task whose state it is part of.
        task: TaskId,
        /// The checkpoint it was first written for.
        checkpoint: CheckpointId,
        /// The key group it holds.
        key_group: u32,
    },
}

/// Why a checkpoint was abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AbortReason {
    /// It did not complete within the checkpoint timeout.
    Expired,
    /// A task declined it (for example, an input ended during alignment).
    Declined,
    /// The job failed over while it was pending.
    JobFailover,
    /// A later checkpoint completed first.
    Subsumed,
    /// Its metadata could not be written.
    MetadataWriteFailed,
    /// A pipelined region failed over while it was pending (region failover).
    RegionFailover,
}

/// A fact and the simulated time at which it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedFact {
    /// When it happened.
    pub time: SimTime,
    /// What happened.
    pub fact: Fact,
}

/// The 64-bit digest of a whole trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceHash(pub u64);

impl fmt::Display for TraceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Where a trace hands each fact as it is recorded, instead of (or as well as) keeping it:
/// the streaming run-file writer is one. It cannot fail the run; a sink that can fail (a
/// full disk) remembers its first error and reports it when it is finished.
pub trait FactSink {
    /// Takes the fact recorded at `time`.
    fn fact(&mut self, time: SimTime, fact: &Fact);
}

/// A fact sink shared between a trace and whoever finishes it after the run.
pub type SharedFactSink = std::rc::Rc<std::cell::RefCell<dyn FactSink>>;

/// The running trace of one simulation.
pub struct Trace {
    hasher: Xxh3,
    /// Encoded facts not yet fed to the hasher: one `update` per few kilobytes is cheaper
    /// than one per fact, and the digest is the same.
    pending: Vec<u8>,
    fact_count: u64,
    kept: Option<Vec<TimedFact>>,
    sink: Option<SharedFactSink>,
}

const PENDING_FLUSH_BYTES: usize = 4096;

impl Trace {
    /// An empty trace; with `keep_facts` it also keeps every fact for later inspection.
    pub fn new(keep_facts: bool) -> Trace {
        Trace {
            hasher: Xxh3::new(),
            pending: Vec::with_capacity(PENDING_FLUSH_BYTES + 128),
            fact_count: 0,
            kept: keep_facts.then(Vec::new),
            sink: None,
        }
    }

    /// This trace, also handing every fact to `sink` as it is recorded.
    pub fn streaming_to(self, sink: SharedFactSink) -> Trace {
        Trace { sink: Some(sink), ..self }
    }

    /// Appends a fact; returns its index in the trace (from 0).
    #[inline]
    pub fn record(&mut self, time: SimTime, fact: &Fact) -> u64 {
        push_u64(&mut self.pending, time.as_nanos());
        fact.encode(&mut self.pending);
        if self.pending.len() >= PENDING_FLUSH_BYTES {
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
        if let Some(kept) = &mut self.kept {
            kept.push(TimedFact { time, fact: fact.clone() });
        }
        if let Some(sink) = &self.sink {
            sink.borrow_mut().fact(time, fact);
        }
        let index = self.fact_count;
        self.fact_count += 1;
        index
    }

    /// The number of facts recorded so far.
    pub fn fact_count(&self) -> u64 {
        self.fact_count
    }

    /// The hash of every fact recorded so far.
    pub fn hash(&self) -> TraceHash {
        let mut hasher = self.hasher.clone();
        hasher.update(&self.pending);
        TraceHash(hasher.digest())
    }

    /// The kept facts, if the trace keeps them.
    pub fn kept_facts(&self) -> Option<&[TimedFact]> {
        self.kept.as_deref()
    }

    /// Takes the kept facts out of the trace.
    pub fn take_kept_facts(&mut self) -> Option<Vec<TimedFact>> {
        self.kept.take()
    }
}

/// XXH3-64 of a byte string: the digest used for state bytes in facts.
pub fn digest_bytes(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

#[inline]
fn push_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[inline]
fn push_transaction(out: &mut Vec<u8>, txn: TransactionId) {
    push_u32(out, txn.sink.0);
    push_u64(out, txn.sequence);
}

fn push_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn push_optional_checkpoint(out: &mut Vec<u8>, checkpoint: Option<CheckpointId>) {
    match checkpoint {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            push_u64(out, id.0);
        }
    }
}

impl Fact {
    /// The one task the fact is about, if it names one (a sink's transactions and a task's
    /// state objects included; a message's channel joins two and is left to the caller).
    pub fn task(&self) -> Option<TaskId> {
        match *self {
            Fact::RecordApplied { task, .. }
            | Fact::SourceRead { task, .. }
            | Fact::TaskFinished { task }
            | Fact::DataEnded { task }
            | Fact::CompletionNotified { task, .. }
            | Fact::InputBlocked { task, .. }
            | Fact::InputsUnblocked { task }
            | Fact::StateCaptured { task, .. }
            | Fact::AcknowledgementReceived { task, .. }
            | Fact::TaskCrashed { task }
            | Fact::TaskRestored { task, .. }
            | Fact::ChannelStateRecorded { task, .. }
            | Fact::KeyTotal { task, .. }
            | Fact::ExternalCallFailed { task, .. }
            | Fact::ExternalUpsert { task, .. }
            | Fact::ExternalAppend { task, .. }
            | Fact::PartitionAssigned { task, .. }
            | Fact::PartitionRead { task, .. }
            | Fact::PartitionRestored { task, .. }
            | Fact::StateFileReferenced { task, .. }
            | Fact::StateFileMissing { task, .. }
            | Fact::KeyGroupsRestored { task, .. }
            | Fact::KeyRestored { task, .. }
            | Fact::SplitsRedistributed { task, .. } => Some(task),
            Fact::TransactionBegun { txn, .. }
            | Fact::TransactionWrite { txn, .. }
            | Fact::TransactionPrepared { txn, .. }
            | Fact::TransactionCommitted { txn, .. }
            | Fact::TransactionAborted { txn, .. } => Some(txn.sink),
            Fact::ObjectDurable {
                object: ObjectName::TaskState { task, .. } | ObjectName::SharedFile { task, .. },
                ..
            }
            | Fact::ObjectDeleted {
                object: ObjectName::TaskState { task, .. } | ObjectName::SharedFile { task, .. },
            } => Some(task),
            _ => None,
        }
    }

    /// Whether the fact is a record on the data path — sent, arrived, consumed, read at a
    /// source, applied to keyed state: nine in ten of a run's facts, and the ones the hot
    /// paths (checkers' routing, coverage, logs) treat apart.
    #[inline]
    pub fn is_data_path(&self) -> bool {
        matches!(
            self,
            Fact::MessageSent { .. }
                | Fact::MessageArrived { .. }
                | Fact::MessageConsumed { .. }
                | Fact::SourceRead { .. }
                | Fact::RecordApplied { .. }
        )
    }

    /// The canonical encoding that the trace hash covers: a tag byte, then each field in
    /// declaration order as little-endian integers. Changing it changes every golden hash,
    /// which is a reviewed event.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Fact::MessageSent { channel, sequence, message } => {
                out.push(1);
                push_u32(out, channel.0);
                push_u64(out, sequence);
                message.encode(out);
            }
            Fact::MessageArrived { channel, sequence } => {
                out.push(2);
                push_u32(out, channel.0);
                push_u64(out, sequence);
            }
            Fact::MessageConsumed { channel, sequence } => {
                out.push(3);
                push_u32(out, channel.0);
                push_u64(out, sequence);
            }
            Fact::RecordApplied { task, record, key } => {
                out.push(4);
                push_u32(out, task.0);
                push_u64(out, record.packed());
                push_u64(out, key);
            }
            Fact::SourceRead { task, offset } => {
                out.push(5);
                push_u32(out, task.0);
                push_u64(out, offset);
            }
            Fact::TaskFinished { task } => {
                out.push(6);
                push_u32(out, task.0);
            }
            Fact::CheckpointTriggered { checkpoint } => {
                out.push(7);
                push_u64(out, checkpoint.0);
            }
            _ => self.encode_rare(out),
        }
    }

    /// The encoding of the facts that happen at most a few times per checkpoint.
    fn encode_rare(&self, out: &mut Vec<u8>) {
        match *self {
            Fact::InputBlocked { task, channel, checkpoint } => {
                out.push(8);
                push_u32(out, task.0);
                push_u32(out, channel.0);
                push_u64(out, checkpoint.0);
            }
            Fact::InputsUnblocked { task } => {
                out.push(9);
                push_u32(out, task.0);
            }
            Fact::StateCaptured { task, checkpoint, digest, bytes } => {
                out.push(10);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
                push_u64(out, digest);
                push_u64(out, bytes);
            }
            Fact::ObjectDurable { object, bytes } => {
                out.push(11);
                object.encode(out);
                push_u64(out, bytes);
            }
            Fact::AcknowledgementReceived { task, checkpoint } => {
                out.push(12);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
            }
            Fact::CheckpointCompleted { checkpoint } => {
                out.push(13);
                push_u64(out, checkpoint.0);
            }
            Fact::CheckpointAborted { checkpoint, reason } => {
                out.push(14);
                push_u64(out, checkpoint.0);
                out.push(reason as u8);
            }
            _ => self.encode_recovery(out),
        }
    }

    /// The encoding of crash, restart and end-of-run facts.
    fn encode_recovery(&self, out: &mut Vec<u8>) {
        match *self {
            Fact::TaskCrashed { task } => {
                out.push(15);
                push_u32(out, task.0);
            }
            Fact::JobRestarted { attempt, checkpoint } => {
                out.push(16);
                push_u32(out, attempt.0);
                push_optional_checkpoint(out, checkpoint);
            }
            Fact::ChannelReset { channel, discarded } => {
                out.push(17);
                push_u32(out, channel.0);
                push_u64(out, discarded);
            }
            Fact::TaskRestored { task, checkpoint, digest } => {
                out.push(18);
                push_u32(out, task.0);
                push_optional_checkpoint(out, checkpoint);
                push_u64(out, digest);
            }
            Fact::ObjectDeleted { object } => {
                out.push(20);
                object.encode(out);
            }
            Fact::ChannelStateRecorded { task, checkpoint, channel, sequence } => {
                out.push(21);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
                push_u32(out, channel.0);
                push_u64(out, sequence);
            }
            Fact::KeyTotal { task, key, count, sum, fingerprint } => {
                out.push(19);
                push_u32(out, task.0);
                push_u64(out, key);
                push_u64(out, count);
                out.extend_from_slice(&sum.to_le_bytes());
                push_u64(out, fingerprint);
            }
            Fact::BalanceCaptured { task, checkpoint, balance } => {
                out.push(22);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
                out.extend_from_slice(&balance.to_le_bytes());
            }
            Fact::FinalBalance { task, balance } => {
                out.push(23);
                push_u32(out, task.0);
                out.extend_from_slice(&balance.to_le_bytes());
            }
            _ => self.encode_faults(out),
        }
    }

    /// The encoding of injected faults and their direct consequences.
    fn encode_faults(&self, out: &mut Vec<u8>) {
        match *self {
            Fact::FaultInjected { index } => {
                out.push(24);
                push_u32(out, index);
            }
            Fact::CoordinatorCrashed => out.push(25),
            Fact::WriteFailed { object } => {
                out.push(26);
                object.encode(out);
            }
            Fact::ControlMessageLost { kind, task, checkpoint } => {
                out.push(27);
                out.push(kind);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
            }
            Fact::FaultsLifted => out.push(29),
            Fact::CheckpointFailuresExceeded { failures } => {
                out.push(30);
                push_u32(out, failures);
            }
            Fact::JobFailed { failures } => {
                out.push(31);
                push_u64(out, failures);
            }
            Fact::WorkerCrashed { worker } => {
                out.push(32);
                push_u32(out, worker);
            }
            Fact::ControlMessageDelayed { kind, task, checkpoint } => {
                out.push(33);
                out.push(kind);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
            }
            Fact::ChannelBroken { channel } => {
                out.push(34);
                push_u32(out, channel.0);
            }
            Fact::ObjectTorn { object } => {
                out.push(35);
                object.encode(out);
            }
            Fact::RegionFailedOver { region, attempt } => {
                out.push(36);
                push_u32(out, region);
                push_u32(out, attempt.0);
            }
            Fact::RegionRestarted { region, attempt, checkpoint } => {
                out.push(37);
                push_u32(out, region);
                push_u32(out, attempt.0);
                push_optional_checkpoint(out, checkpoint);
            }
            Fact::RecoveredStateCarried { task, checkpoint, records } => {
                out.push(28);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
                push_u64(out, records);
            }
            _ => self.encode_ending(out),
        }
    }

    /// The encoding of the facts of a job's end: its data ending, and completion notices.
    fn encode_ending(&self, out: &mut Vec<u8>) {
        match *self {
            Fact::DataEnded { task } => {
                out.push(38);
                push_u32(out, task.0);
            }
            Fact::CompletionNotified { task, checkpoint } => {
                out.push(39);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
            }
            _ => self.encode_external(out),
        }
    }

    /// The encoding of the external systems' facts: transactions, failed calls, and the
    /// log's partitions.
    fn encode_external(&self, out: &mut Vec<u8>) {
        match *self {
            Fact::TransactionWrite { txn, record, key, value } => {
                out.push(40);
                push_transaction(out, txn);
                push_u64(out, record.packed());
                push_u64(out, key);
                out.extend_from_slice(&value.to_le_bytes());
            }
            Fact::TransactionBegun { txn, epoch } => {
                out.push(41);
                push_transaction(out, txn);
                push_u32(out, epoch);
            }
            Fact::TransactionPrepared { txn, checkpoint } => {
                out.push(42);
                push_transaction(out, txn);
                push_u64(out, checkpoint.0);
            }
            Fact::TransactionCommitted { txn, epoch, records } => {
                out.push(43);
                push_transaction(out, txn);
                push_u32(out, epoch);
                push_u64(out, records);
            }
            Fact::TransactionAborted { txn, epoch, cause } => {
                out.push(44);
                push_transaction(out, txn);
                push_u32(out, epoch);
                out.push(cause as u8);
            }
            Fact::ExternalCallFailed { task, call, txn, error } => {
                out.push(45);
                push_u32(out, task.0);
                out.push(call as u8);
                match txn {
                    Some(txn) => {
                        out.push(1);
                        push_transaction(out, txn);
                    }
                    None => out.push(0),
                }
                out.push(error as u8);
            }
            Fact::ReaderSaw { records, fingerprint } => {
                out.push(48);
                push_u64(out, records);
                push_u64(out, fingerprint);
            }
            Fact::ExternalUpsert { task, record, key, value } | Fact::ExternalAppend { task, record, key, value } => {
                out.push(if matches!(self, Fact::ExternalUpsert { .. }) { 46 } else { 47 });
                push_u32(out, task.0);
                push_u64(out, record.packed());
                push_u64(out, key);
                out.extend_from_slice(&value.to_le_bytes());
            }
            _ => self.encode_log_and_files(out),
        }
    }
    /// The encoding of the log's facts and of incremental checkpoints' shared files.
    fn encode_log_and_files(&self, out: &mut Vec<u8>) {
        match *self {
            Fact::PartitionAssigned { task, partition } => {
                out.push(49);
                push_u32(out, task.0);
                push_u32(out, partition);
            }
            Fact::PartitionRead { task, partition, offset } | Fact::PartitionRestored { task, partition, offset } => {
                out.push(if matches!(self, Fact::PartitionRead { .. }) { 50 } else { 51 });
                push_u32(out, task.0);
                push_u32(out, partition);
                push_u64(out, offset);
            }
            Fact::StateFileReferenced { task, checkpoint, file, bytes, reused } => {
                out.push(52);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
                file.encode(out);
                push_u64(out, bytes);
                out.push(u8::from(reused));
            }
            Fact::StateFileMissing { task, file } => {
                out.push(53);
                push_u32(out, task.0);
                file.encode(out);
            }
            Fact::JobRescaled { stage } => {
                out.push(54);
                push_u32(out, stage);
            }
            Fact::KeyGroupsRestored { task, checkpoint, first, last, keys } => {
                out.push(55);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
                push_u32(out, first);
                push_u32(out, last);
                push_u64(out, keys);
            }
            Fact::SplitsRedistributed { task, checkpoint, splits } => {
                out.push(57);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
                push_u64(out, splits);
            }
            Fact::SavepointTriggered { checkpoint, stop } => {
                out.push(58);
                push_u64(out, checkpoint.0);
                out.push(u8::from(stop));
            }
            Fact::KeyRestored { task, key, count, fingerprint } => {
                out.push(56);
                push_u32(out, task.0);
                push_u64(out, key);
                push_u64(out, count);
                push_u64(out, fingerprint);
            }
            _ => unreachable!("every fact kind is encoded by encode or one of its helpers"),
        }
    }
}

impl MessageTag {
    fn encode(self, out: &mut Vec<u8>) {
        match self {
            MessageTag::Record { record, key } => {
                out.push(1);
                push_u64(out, record.packed());
                push_u64(out, key);
            }
            MessageTag::Barrier { checkpoint } => {
                out.push(2);
                push_u64(out, checkpoint.0);
            }
            MessageTag::EndOfInput => out.push(3),
            MessageTag::Transfer { record, amount } => {
                out.push(4);
                push_u64(out, record.packed());
                out.extend_from_slice(&amount.to_le_bytes());
            }
            MessageTag::Watermark { event_time } => {
                out.push(5);
                push_u64(out, event_time);
            }
        }
    }
}

impl ObjectName {
    fn encode(self, out: &mut Vec<u8>) {
        match self {
            ObjectName::TaskState { checkpoint, task } => {
                out.push(1);
                push_u64(out, checkpoint.0);
                push_u32(out, task.0);
            }
            ObjectName::Metadata { checkpoint } => {
                out.push(2);
                push_u64(out, checkpoint.0);
            }
            ObjectName::SharedFile { task, checkpoint, key_group } => {
                out.push(3);
                push_u32(out, task.0);
                push_u64(out, checkpoint.0);
                push_u32(out, key_group);
            }
        }
    }
}
