//! Incremental checkpoints of keyed state: a keyed task's state object holds references to
//! one immutable shared file per key group (`StateHandles`) instead of the bytes, and the
//! coordinator side's `SharedStateRegistry` counts which checkpoints — pending or
//! completed — reference each file, so that a file is deleted only once none does.
//!
//! The registry decides nothing about when; the harness tells it what each checkpoint
//! references (at the task's persist), what was aborted or subsumed, and deletes what it
//! hands back. The planted bug `delete-shared-files-on-subsumption` deletes every file a
//! subsumed checkpoint referenced, counting nothing.

use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::ObjectName;
use std::collections::{BTreeMap, BTreeSet};

/// A keyed task's state under the incremental backend: its key groups' shared files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateHandles {
    /// One `ObjectName::SharedFile` per non-empty key group, in key-group order.
    pub files: Vec<ObjectName>,
}

impl StateHandles {
    /// Little-endian: the count, then per file its task, checkpoint and key group.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.files.len() * 16);
        out.extend_from_slice(&(self.files.len() as u64).to_le_bytes());
        for file in &self.files {
            let ObjectName::SharedFile { task, checkpoint, key_group } = *file else {
                unreachable!("state handles name shared files");
            };
            out.extend_from_slice(&task.0.to_le_bytes());
            out.extend_from_slice(&checkpoint.0.to_le_bytes());
            out.extend_from_slice(&key_group.to_le_bytes());
        }
        out
    }

    /// Reads back what `encode` wrote; `None` if malformed.
    pub fn decode(bytes: &[u8]) -> Option<StateHandles> {
        let count = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
        if bytes.len() != 8 + count.checked_mul(16)? {
            return None;
        }
        let files = bytes[8..]
            .chunks_exact(16)
            .map(|chunk| ObjectName::SharedFile {
                task: TaskId(u32::from_le_bytes(chunk[0..4].try_into().expect("4 bytes"))),
                checkpoint: CheckpointId(u64::from_le_bytes(chunk[4..12].try_into().expect("8 bytes"))),
                key_group: u32::from_le_bytes(chunk[12..16].try_into().expect("4 bytes")),
            })
            .collect();
        Some(StateHandles { files })
    }
}

/// Which checkpoints reference each shared file.
#[derive(Clone, Debug, Default)]
pub struct SharedStateRegistry {
    refs: BTreeMap<ObjectName, BTreeSet<CheckpointId>>,
    by_checkpoint: BTreeMap<CheckpointId, BTreeSet<ObjectName>>,
    /// The planted bug `delete-shared-files-on-subsumption`.
    deletes_without_counting: bool,
}

impl SharedStateRegistry {
    /// An empty registry.
    pub fn new() -> SharedStateRegistry {
        SharedStateRegistry::default()
    }

    /// The same registry with the planted bug `delete-shared-files-on-subsumption`.
    pub fn deleting_without_counting(self) -> SharedStateRegistry {
        SharedStateRegistry { deletes_without_counting: true, ..self }
    }

    /// `checkpoint` references `file` (a task persisted its state for it).
    pub fn reference(&mut self, checkpoint: CheckpointId, file: ObjectName) {
        self.refs.entry(file).or_default().insert(checkpoint);
        self.by_checkpoint.entry(checkpoint).or_default().insert(file);
    }

    /// Whether any checkpoint still references `file`.
    pub fn is_referenced(&self, file: &ObjectName) -> bool {
        self.refs.get(file).is_some_and(|checkpoints| !checkpoints.is_empty())
    }

    /// `checkpoint` was aborted or subsumed: it references nothing any more. Returns the
    /// files no checkpoint references now, to be deleted.
    pub fn release(&mut self, checkpoint: CheckpointId, subsumed: bool) -> Vec<ObjectName> {
        let files = self.by_checkpoint.remove(&checkpoint).unwrap_or_default();
        let mut unreferenced = Vec::new();
        for file in files {
            let checkpoints = self.refs.entry(file).or_default();
            checkpoints.remove(&checkpoint);
            if checkpoints.is_empty() || (subsumed && self.deletes_without_counting) {
                self.refs.remove(&file);
                unreferenced.push(file);
            }
        }
        unreferenced
    }

    /// The checkpoints that reference anything, oldest first.
    pub fn checkpoints(&self) -> impl Iterator<Item = CheckpointId> + '_ {
        self.by_checkpoint.keys().copied()
    }
}
