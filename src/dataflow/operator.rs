//! The operator contract, and the built-in operators a task can run.
//!
//! An `Operator` sees one record at a time and the buffer its outputs go to; its state
//! leaves and returns only as bytes. That is the whole surface: no clock, no RNG, no I/O.

use super::account::Account;
use super::direct_sinks::{AtLeastOnceSink, UpsertSink};
use super::join::KeyedJoin;
use super::keyed::KeyedCount;
use super::record::Record;
use super::sink::RecordingSink;
use super::source::ReplayableSource;
use super::split_reader::SplitReader;
use super::two_phase_sink::TransactionalSink;
use super::window::TumblingWindow;
use std::fmt;

/// A stream operator as a pure state machine.
pub trait Operator {
    /// Processes one input record, appending any output records to `out`.
    fn process(&mut self, record: &Record, out: &mut Vec<Record>);

    /// Appends the operator's whole state to `out` as bytes.
    fn snapshot(&self, out: &mut Vec<u8>);

    /// Replaces the operator's state with the state `snapshot` wrote.
    fn restore(&mut self, state: &[u8]) -> Result<(), StateError>;

    /// Drops all state, as a task that starts without a checkpoint.
    fn reset(&mut self);
}

/// State bytes that do not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError(pub String);

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state bytes do not decode: {}", self.0)
    }
}

/// The logic one task runs: a built-in operator, chosen by the vertex kind.
///
/// An enum rather than `Box<dyn Operator>` so the per-record call is a match, not a
/// virtual call.
#[derive(Debug)]
pub enum TaskLogic {
    /// A replayable source: it has no inputs and reads its split. Boxed because its
    /// ChaCha generator is far larger than the other variants.
    Source(Box<ReplayableSource>),
    /// A keyed count-and-sum aggregation.
    KeyedCount(KeyedCount),
    /// A sink that keeps the latest value it received per key.
    Sink(RecordingSink),
    /// A two-input keyed operator with state on both sides.
    KeyedJoin(KeyedJoin),
    /// A bank account (boxed, like the source, for its generator).
    Account(Box<Account>),
    /// A transactional (two-phase-commit) sink — the built-in one or a user's: its records
    /// go to the external system.
    TwoPhaseSink(Box<dyn TransactionalSink>),
    /// An idempotent upsert sink: its records go to an external table.
    UpsertSink(UpsertSink),
    /// An at-least-once sink: its records go to an external log.
    AtLeastOnceSink(AtLeastOnceSink),
    /// A reader of the partitioned log (boxed, for its partitions' generators).
    LogSource(Box<SplitReader>),
    /// A keyed event-time tumbling window.
    Window(TumblingWindow),
}

impl TaskLogic {
    /// The operator view of the logic, for snapshot and restore.
    pub fn as_operator(&mut self) -> &mut dyn Operator {
        match self {
            TaskLogic::Source(source) => source.as_mut(),
            TaskLogic::KeyedCount(count) => count,
            TaskLogic::Sink(sink) => sink,
            TaskLogic::Account(account) => account.as_mut(),
            TaskLogic::KeyedJoin(join) => join,
            TaskLogic::TwoPhaseSink(sink) => sink,
            TaskLogic::UpsertSink(sink) => sink,
            TaskLogic::AtLeastOnceSink(sink) => sink,
            TaskLogic::LogSource(reader) => reader.as_mut(),
            TaskLogic::Window(window) => window,
        }
    }

    /// Appends the state bytes to `out`.
    pub fn snapshot(&self, out: &mut Vec<u8>) {
        match self {
            TaskLogic::Source(source) => source.snapshot(out),
            TaskLogic::KeyedCount(count) => count.snapshot(out),
            TaskLogic::Sink(sink) => sink.snapshot(out),
            TaskLogic::Account(account) => account.snapshot(out),
            TaskLogic::KeyedJoin(join) => join.snapshot(out),
            TaskLogic::TwoPhaseSink(sink) => sink.snapshot(out),
            TaskLogic::UpsertSink(sink) => sink.snapshot(out),
            TaskLogic::AtLeastOnceSink(sink) => sink.snapshot(out),
            TaskLogic::LogSource(reader) => reader.snapshot(out),
            TaskLogic::Window(window) => window.snapshot(out),
        }
    }

    /// Whether the logic's state is keyed and organised by key group (what the incremental
    /// backend stores as a file per key group).
    pub fn has_key_grouped_state(&self) -> bool {
        matches!(self, TaskLogic::KeyedCount(_) | TaskLogic::KeyedJoin(_) | TaskLogic::Window(_))
    }

    /// Whether records applied by this logic change keyed state (and are traced as such).
    pub fn is_keyed(&self) -> bool {
        matches!(self, TaskLogic::KeyedCount(_) | TaskLogic::KeyedJoin(_))
    }
}
