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

/// Where source records come from: a classic source subtask's own split, a partition of the
/// log, or — for records a window derives — the window vertex that emits them.
///
/// One number space, so a record id stays one packed word: a subtask's split keeps its task's
/// number (below `PARTITION_BASE`), log partition `p` is `PARTITION_BASE + p`, and the
/// results of window vertex `v` are `WINDOW_BASE + v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SplitId(pub u32);

/// What a `SplitId` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitKind {
    /// The split a classic source subtask reads alone.
    Task(TaskId),
    /// A partition of the log.
    Partition(u32),
    /// The results a window vertex emits: offset `(window << WINDOW_KEY_BITS) | key`.
    WindowResults(VertexId),
}

/// Bits of a window result's offset that hold its key.
pub const WINDOW_KEY_BITS: u32 = 20;

impl SplitId {
    /// Log partitions are numbered from here.
    pub const PARTITION_BASE: u32 = 1 << 20;
    /// Window vertices' results are numbered from here.
    pub const WINDOW_BASE: u32 = 1 << 22;

    /// The split source subtask `task` reads alone.
    pub const fn of_task(task: TaskId) -> SplitId {
        SplitId(task.0)
    }

    /// Partition `partition` of the log.
    pub const fn partition(partition: u32) -> SplitId {
        SplitId(SplitId::PARTITION_BASE + partition)
    }

    /// The results window vertex `vertex` emits.
    pub const fn window_results(vertex: VertexId) -> SplitId {
        SplitId(SplitId::WINDOW_BASE + vertex.0)
    }

    /// What the id names.
    pub const fn kind(self) -> SplitKind {
        if self.0 >= SplitId::WINDOW_BASE {
            SplitKind::WindowResults(VertexId(self.0 - SplitId::WINDOW_BASE))
        } else if self.0 >= SplitId::PARTITION_BASE {
            SplitKind::Partition(self.0 - SplitId::PARTITION_BASE)
        } else {
            SplitKind::Task(TaskId(self.0))
        }
    }
}

impl fmt::Display for SplitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            SplitKind::Task(task) => write!(f, "{task}"),
            SplitKind::Partition(partition) => write!(f, "partition {partition}"),
            SplitKind::WindowResults(vertex) => write!(f, "{vertex}'s windows"),
        }
    }
}

/// The identity of one source record: the split it comes from and its offset there (for a
/// window's result: its window and key).
///
/// Stable across replays: a record re-read after a rewind has the same id, which is what lets
/// the checkers tell a duplicate from a new record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordId {
    /// The split the record comes from.
    pub split: SplitId,
    /// The record's position in that split, from 0.
    pub offset: u64,
}

impl RecordId {
    /// The id packed into one word, for hashing: 24 bits of split, 40 of offset.
    pub const fn packed(self) -> u64 {
        ((self.split.0 as u64) << 40) | (self.offset & ((1 << 40) - 1))
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
        match self.split.kind() {
            SplitKind::WindowResults(vertex) => {
                let (window, key) = (self.offset >> WINDOW_KEY_BITS, self.offset & ((1 << WINDOW_KEY_BITS) - 1));
                write!(f, "the result of window {window} for key {key} of {vertex}")
            }
            _ => write!(f, "record {}@{}", self.split, self.offset),
        }
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
