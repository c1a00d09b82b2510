//! Newtype ids: indexes into the simulator's vectors, with no behaviour of their own.
//!
//! A `TaskId` is one subtask of the job graph, a `ChannelId` one FIFO channel between two
//! subtasks. Both are dense indexes, so state per task or channel lives in a `Vec`, never a
//! hash map.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! index_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as a vector index.
            pub const fn index(self) -> usize {
                self.0 as usize
            }

            /// The id of the vector slot `index`; panics past `u32::MAX`.
            pub fn from_index(index: usize) -> Self {
                $name(u32::try_from(index).expect(concat!(stringify!($name), " overflowed u32")))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

index_id!(
    /// One subtask (one parallel instance of a vertex) of the job.
    TaskId,
    "task#"
);
index_id!(
    /// One FIFO point-to-point channel from a producing to a consuming subtask.
    ChannelId,
    "channel#"
);
index_id!(
    /// One vertex (operator) of the job graph.
    VertexId,
    "vertex#"
);

/// A checkpoint's id, issued by the coordinator; it never goes backwards within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CheckpointId(pub u64);

impl fmt::Display for CheckpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "checkpoint {}", self.0)
    }
}

/// The identity of one source record: the source subtask that reads it and its offset there.
///
/// Stable across replays: a record re-read after a rewind has the same id, which is what lets
/// the checkers tell a duplicate from a new record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordId {
    /// The source subtask that reads the record.
    pub source: TaskId,
    /// The record's position in that subtask's split, from 0.
    pub offset: u64,
}

impl RecordId {
    /// The id packed into one word, for hashing: 24 bits of source, 40 of offset.
    pub const fn packed(self) -> u64 {
        ((self.source.0 as u64) << 40) | (self.offset & ((1 << 40) - 1))
    }

    /// The record's fingerprint: `mix64` of its packed id.
    ///
    /// Keyed state keeps a wrapping sum of these per key, so a record counted twice and
    /// another lost cannot cancel out as they would in a plain count.
    pub const fn fingerprint(self) -> u64 {
        mix64(self.packed())
    }
}

/// The splitmix64 finalizer (Steele, Lea, Flood 2014): a fixed, documented bijection on u64.
pub const fn mix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}@{}", self.source, self.offset)
    }
}

/// A transaction in the external system: the sink subtask that opens it and that
/// subtask's own running number for it — deterministic, as Flink derives a transactional id
/// from the sink's subtask and a counter, so a restarted sink can name (and abort) the
/// transactions a failed attempt left open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TransactionId {
    /// The sink subtask.
    pub sink: TaskId,
    /// Its number among that sink's transactions, from 0.
    pub sequence: u64,
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transaction {}#{}", self.sink, self.sequence)
    }
}

/// Which run of the job a piece of state belongs to: 0 at start, +1 at every restart.
///
/// Events scheduled by an earlier attempt carry its number and are dropped on arrival, which
/// is how a restart discards everything the failed attempt left in flight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Attempt(pub u32);
