//! The durable object of one task's part of a checkpoint: its operator state and, for
//! protocols that record them, the in-flight records of its input channels.
//!
//! Layout (little-endian): the operator-state length (u64), the operator-state bytes, then
//! one 40-byte row per recorded record — input index, source task, source offset, key,
//! value. Recovery loads the state and replays the rows, in order, before any new input.

use crate::dataflow::record::Record;
use crate::kernel::ids::{RecordId, TaskId};

/// One task's snapshot as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskSnapshot {
    /// The operator's state bytes (what `StateCaptured` digests).
    pub state: Vec<u8>,
    /// Records in flight on the task's inputs when it snapshotted: (input index, record).
    pub channel_state: Vec<(u32, Record)>,
}

const ROW_BYTES: usize = 40;

impl TaskSnapshot {
    /// The object's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.state.len() + self.channel_state.len() * ROW_BYTES);
        out.extend_from_slice(&(self.state.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.state);
        for (input, record) in &self.channel_state {
            for word in
                [u64::from(*input), u64::from(record.id.source.0), record.id.offset, record.key, record.value as u64]
            {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        out
    }

    /// Reads back what `encode` wrote; `None` if the bytes are malformed.
    pub fn decode(bytes: &[u8]) -> Option<TaskSnapshot> {
        let length = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
        let state = bytes.get(8..8usize.checked_add(length)?)?.to_vec();
        let rows = &bytes[8 + length..];
        if !rows.len().is_multiple_of(ROW_BYTES) {
            return None;
        }
        let channel_state = rows
            .chunks_exact(ROW_BYTES)
            .map(|row| {
                let word =
                    |index: usize| u64::from_le_bytes(row[index * 8..index * 8 + 8].try_into().expect("8 bytes"));
                let source = TaskId(u32::try_from(word(1)).ok()?);
                let record = Record { id: RecordId { source, offset: word(2) }, key: word(3), value: word(4) as i64 };
                Some((u32::try_from(word(0)).ok()?, record))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(TaskSnapshot { state, channel_state })
    }
}
