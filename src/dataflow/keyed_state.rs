//! Keyed state organised per key group, as Flink organises it: each subtask of a keyed
//! vertex owns a contiguous range of key groups (`KeyGroupRange`), and a keyed operator's
//! snapshot holds one section per key group with an index in front
//! (`KeyGroupedBytes`), so that a restore can take any range of key groups from any
//! snapshots — what a rescale needs — and a state backend can store each group apart.

use super::operator::StateError;
use std::collections::BTreeMap;

/// The key groups `first..=last` (Flink's `KeyGroupRange`, inclusive at both ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyGroupRange {
    /// The first key group.
    pub first: u32,
    /// The last key group.
    pub last: u32,
}

impl KeyGroupRange {
    /// The key groups subtask `subtask` of `parallelism` owns among `max_parallelism`
    /// (Flink's `computeKeyGroupRangeForOperatorIndex`): exactly the groups
    /// `subtask_of_key_group` routes to it.
    pub fn of_subtask(subtask: u32, parallelism: u32, max_parallelism: u32) -> KeyGroupRange {
        assert!(subtask < parallelism && parallelism <= max_parallelism, "subtask {subtask} of {parallelism}");
        let (subtask, parallelism, max) = (u64::from(subtask), u64::from(parallelism), u64::from(max_parallelism));
        let first = (subtask * max).div_ceil(parallelism);
        let last = ((subtask + 1) * max - 1) / parallelism;
        let narrow = |group: u64| u32::try_from(group).expect("below max parallelism");
        KeyGroupRange { first: narrow(first), last: narrow(last) }
    }

    /// Whether `group` is in the range.
    pub fn contains(&self, group: u32) -> bool {
        (self.first..=self.last).contains(&group)
    }
}

/// A keyed operator's state bytes, one section per non-empty key group.
///
/// Encoded little-endian: the section count, then `[key group, byte length]` per section in
/// group order, then the sections' bytes in the same order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyGroupedBytes {
    sections: BTreeMap<u32, Vec<u8>>,
}

impl KeyGroupedBytes {
    /// No state.
    pub fn new() -> KeyGroupedBytes {
        KeyGroupedBytes::default()
    }

    /// The section of `group`, to append rows to.
    pub fn section_mut(&mut self, group: u32) -> &mut Vec<u8> {
        self.sections.entry(group).or_default()
    }

    /// Every section, in key-group order.
    pub fn sections(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.sections.iter().map(|(&group, bytes)| (group, bytes.as_slice()))
    }

    /// Appends the encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.sections.len() as u64).to_le_bytes());
        for (&group, bytes) in &self.sections {
            out.extend_from_slice(&u64::from(group).to_le_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        }
        for bytes in self.sections.values() {
            out.extend_from_slice(bytes);
        }
    }

    /// Reads back what `encode` wrote; empty bytes are no state.
    pub fn decode(state: &[u8]) -> Result<KeyGroupedBytes, StateError> {
        if state.is_empty() {
            return Ok(KeyGroupedBytes::new());
        }
        let word = |at: usize| -> Result<u64, StateError> {
            let bytes = state.get(at..at + 8).ok_or_else(|| StateError(format!("no word at byte {at}")))?;
            Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
        };
        let count = usize::try_from(word(0)?).map_err(|_| StateError("section count".to_string()))?;
        let index_end = count.checked_mul(16).and_then(|bytes| bytes.checked_add(8));
        let index_end = index_end.filter(|&end| end <= state.len()).ok_or_else(|| StateError("index".to_string()))?;
        let mut sections = BTreeMap::new();
        let mut at = index_end;
        for entry in 0..count {
            let group = u32::try_from(word(8 + entry * 16)?).map_err(|_| StateError("key group".to_string()))?;
            let length = usize::try_from(word(16 + entry * 16)?).map_err(|_| StateError("length".to_string()))?;
            let end = at.checked_add(length).filter(|&end| end <= state.len());
            let end = end.ok_or_else(|| StateError(format!("key group {group}'s section runs past the end")))?;
            if sections.insert(group, state[at..end].to_vec()).is_some() {
                return Err(StateError(format!("key group {group} has two sections")));
            }
            at = end;
        }
        if at != state.len() {
            return Err(StateError(format!("{} bytes after the last section", state.len() - at)));
        }
        Ok(KeyGroupedBytes { sections })
    }

    /// Only the sections of `range`.
    pub fn restricted_to(&self, range: KeyGroupRange) -> KeyGroupedBytes {
        let sections = self.sections.range(range.first..=range.last).map(|(&group, bytes)| (group, bytes.clone()));
        KeyGroupedBytes { sections: sections.collect() }
    }

    /// The sections of every part together (a restore from several old subtasks' state); a
    /// key group found in two parts is an error — two subtasks cannot have owned it.
    pub fn merged(parts: impl IntoIterator<Item = KeyGroupedBytes>) -> Result<KeyGroupedBytes, StateError> {
        let mut sections = BTreeMap::new();
        for part in parts {
            for (group, bytes) in part.sections {
                if sections.insert(group, bytes).is_some() {
                    return Err(StateError(format!("key group {group} is in two snapshots")));
                }
            }
        }
        Ok(KeyGroupedBytes { sections })
    }
}
