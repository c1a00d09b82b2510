//! The sinks that write to the external system without transactions, as sans-IO state
//! machines answering with `DirectWrite`s the harness performs:
//!
//! - the **idempotent upsert** sink writes each record as `key → value` into a table at
//!   once. Replayed records write the same values again, so once the job has caught up the
//!   table is what a fault-free run leaves (readers may see a key step back meanwhile);
//! - the **at-least-once** sink buffers records and appends them to a log when the buffer
//!   fills and at every snapshot (Flink's at-least-once `KafkaSink` flushes in
//!   `snapshotState`), so a checkpoint never completes with a record only in its buffer.
//!   Whatever it appended after the checkpoint a failover restores is appended again:
//!   duplicates, never a loss.
//!
//! Neither keeps state in checkpoints: the upsert sink has none, and the at-least-once sink's
//! buffer is empty whenever its state is captured.

use super::operator::{Operator, StateError};
use super::record::Record;

/// A write a direct sink asks the harness to make, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectWrite {
    /// Set `record.key` to `record.value` in the sink's table.
    Upsert(Record),
    /// Append `record` to the sink's log.
    Append(Record),
}

/// The idempotent upsert sink of one subtask.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpsertSink;

impl UpsertSink {
    /// Writes one record.
    pub fn write(self, record: Record, out: &mut Vec<DirectWrite>) {
        out.push(DirectWrite::Upsert(record));
    }
}

/// Records an at-least-once sink buffers before it appends them without waiting for a
/// snapshot.
pub const AT_LEAST_ONCE_BATCH: usize = 32;

/// The at-least-once sink of one subtask.
#[derive(Clone, Debug, Default)]
pub struct AtLeastOnceSink {
    buffer: Vec<Record>,
    /// The planted bug `skip-flush-on-snapshot`.
    skips_flush_on_snapshot: bool,
}

impl AtLeastOnceSink {
    /// Buffers one record, appending the batch once it is full.
    pub fn write(&mut self, record: Record, out: &mut Vec<DirectWrite>) {
        self.buffer.push(record);
        if self.buffer.len() >= AT_LEAST_ONCE_BATCH {
            self.flush(out);
        }
    }

    /// The same sink with the planted bug `skip-flush-on-snapshot`.
    pub fn skipping_flush_on_snapshot(self) -> AtLeastOnceSink {
        AtLeastOnceSink { skips_flush_on_snapshot: true, ..self }
    }

    /// At a snapshot, before the state is captured: appends everything buffered.
    pub fn on_snapshot(&mut self, out: &mut Vec<DirectWrite>) {
        if !self.skips_flush_on_snapshot {
            self.flush(out);
        }
    }

    fn flush(&mut self, out: &mut Vec<DirectWrite>) {
        out.extend(self.buffer.drain(..).map(DirectWrite::Append));
    }
}

/// Direct sinks keep nothing in checkpoints: empty state, nothing to restore.
macro_rules! stateless_operator {
    ($sink:ty, $reset:expr) => {
        impl Operator for $sink {
            /// The harness calls `write` instead: a sink's output goes to the external system.
            fn process(&mut self, _record: &Record, _out: &mut Vec<Record>) {
                unreachable!("the harness writes a direct sink's records through `write`")
            }

            fn snapshot(&self, _out: &mut Vec<u8>) {}

            fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
                if !state.is_empty() {
                    return Err(StateError(format!("a direct sink keeps no state, got {} bytes", state.len())));
                }
                $reset(self);
                Ok(())
            }

            fn reset(&mut self) {
                $reset(self);
            }
        }
    };
}

stateless_operator!(UpsertSink, |_: &mut UpsertSink| {});
stateless_operator!(AtLeastOnceSink, |sink: &mut AtLeastOnceSink| sink.buffer.clear());
