//! Records and the messages that carry them on channels.

pub use crate::kernel::ids::mix64;
use crate::kernel::ids::{CheckpointId, RecordId};

/// One data record: a key, a value, and the source record it descends from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The source record this one was read as or derived from.
    pub id: RecordId,
    /// The key (dense: `0..key_count`).
    pub key: u64,
    /// The payload value.
    pub value: i64,
    /// Its event time in microseconds: when it happened, as the record says — set by the
    /// source, kept by the operators that derive records from it, and what event-time windows
    /// and watermarks measure. Not simulated time.
    pub event_time: u64,
}

/// What travels on a channel, in FIFO order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// A data record.
    Record(Record),
    /// A checkpoint barrier, in-band with the data.
    Barrier(CheckpointId),
    /// A watermark: no record with an event time (µs) at or below this follows on the
    /// channel. Not channel state: a restored job's watermarks start again from the sources.
    Watermark(u64),
    /// The sender's data has ended (FLIP-147): no more records, but barriers still follow,
    /// so the receiver's protocol goes on aligning on (or recording) this channel.
    EndOfData,
    /// The sender closed the channel: nothing more follows, not even a barrier (a bank
    /// account done paying). The receiver's protocol hears `InputEnded`.
    EndOfInput,
}
