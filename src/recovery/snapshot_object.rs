//! The durable object of one task's part of a checkpoint: its operator state and, for
//! protocols that record them, the in-flight records of its input channels.
//!
//! Layout (little-endian): the operator-state length (u64), the operator-state bytes, the
//! number of input rows (u64), then 40-byte rows — input index (or, for output rows, channel
//! id), source task, source offset, key, value — first the input channel state, then the
//! output channel state; last, the XXH3-64 checksum of everything before it, so that an
//! object torn by a crash mid-write is refused, never loaded. Recovery loads the state,
//! re-sends the output rows on their channels, and replays the input rows, in order, before
//! any new input.

use crate::dataflow::record::Record;
use crate::kernel::ids::{RecordId, SplitId};

/// One task's snapshot as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskSnapshot {
    /// The operator's state bytes (what `StateCaptured` digests).
    pub state: Vec<u8>,
    /// Records in flight on the task's inputs when it snapshotted: (input index, record).
    pub channel_state: Vec<(u32, Record)>,
    /// Records waiting in the task's output buffers that its barriers overtook (unaligned
    /// checkpoints): (channel id, record).
    pub output_state: Vec<(u32, Record)>,
}

/// Bytes of one channel-state row: input (or channel), split, offset, key, value, event time.
pub const ROW_BYTES: usize = 48;

impl TaskSnapshot {
    /// The object's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let rows = self.channel_state.len() + self.output_state.len();
        let mut out = Vec::with_capacity(16 + self.state.len() + rows * ROW_BYTES);
        out.extend_from_slice(&(self.state.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.state);
        out.extend_from_slice(&(self.channel_state.len() as u64).to_le_bytes());
        for (place, record) in self.channel_state.iter().chain(&self.output_state) {
            let id = record.id;
            for word in [
                u64::from(*place),
                u64::from(id.split.0),
                id.offset,
                record.key,
                record.value as u64,
                record.event_time,
            ] {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        seal(out)
    }

    /// Reads back what `encode` wrote; `None` if the bytes are malformed or torn (the
    /// checksum does not match).
    pub fn decode(bytes: &[u8]) -> Option<TaskSnapshot> {
        let bytes = unseal(bytes)?;
        let word_at = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at.checked_add(8)?)?.try_into().ok()?));
        let length = usize::try_from(word_at(0)?).ok()?;
        let state = bytes.get(8..8usize.checked_add(length)?)?.to_vec();
        let input_rows = usize::try_from(word_at(8 + length)?).ok()?;
        let rows = &bytes[16 + length..];
        if !rows.len().is_multiple_of(ROW_BYTES) || rows.len() / ROW_BYTES < input_rows {
            return None;
        }
        let mut decoded = rows
            .chunks_exact(ROW_BYTES)
            .map(|row| {
                let word =
                    |index: usize| u64::from_le_bytes(row[index * 8..index * 8 + 8].try_into().expect("8 bytes"));
                let split = SplitId(u32::try_from(word(1)).ok()?);
                let id = RecordId { split, offset: word(2) };
                let record = Record { id, key: word(3), value: word(4) as i64, event_time: word(5) };
                Some((u32::try_from(word(0)).ok()?, record))
            })
            .collect::<Option<Vec<_>>>()?;
        let output_state = decoded.split_off(input_rows);
        Some(TaskSnapshot { state, channel_state: decoded, output_state })
    }
}

/// Appends the XXH3-64 checksum of `bytes`.
pub fn seal(mut bytes: Vec<u8>) -> Vec<u8> {
    let checksum = xxhash_rust::xxh3::xxh3_64(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}

/// The contents of sealed `bytes`, or `None` if they are torn or corrupted.
pub fn unseal(bytes: &[u8]) -> Option<&[u8]> {
    let split = bytes.len().checked_sub(8)?;
    let (contents, checksum) = bytes.split_at(split);
    (xxhash_rust::xxh3::xxh3_64(contents).to_le_bytes() == checksum).then_some(contents)
}
