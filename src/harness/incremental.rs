//! The incremental state backend in the harness (docs/state.md): at a keyed task's persist,
//! each key group whose bytes changed since the task's base — the files of the last
//! checkpoint it heard completed, or of the one it restored — is written as a new shared
//! file, the others are referenced; the task-state object then holds the references and
//! is written once every new file is durable. The shared-state registry deletes a file once
//! no pending or retained checkpoint references it: at an abort, at subsumption, or when
//! a write completes for a checkpoint (or writer) that is gone.

use super::{Event, SimWorld};
use crate::dataflow::keyed_state::KeyGroupedBytes;
use crate::kernel::Scheduler;
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::{Fact, ObjectName, digest_bytes};
use crate::plant::PlantedBug;
use crate::recovery::incremental::{SharedStateRegistry, StateHandles};
use crate::recovery::snapshot_object::TaskSnapshot;
use std::collections::BTreeMap;

/// Per key group: its file and the digest of its bytes.
pub(super) type GroupFiles = BTreeMap<u32, (u64, ObjectName)>;

/// The incremental backend's bookkeeping.
#[derive(Default)]
pub(super) struct IncrementalState {
    pub(super) registry: SharedStateRegistry,
    /// Per task: the files later checkpoints may reference (confirmed ones only).
    base: BTreeMap<TaskId, GroupFiles>,
    /// Per task and checkpoint: the files its state references, until confirmed.
    referenced: BTreeMap<(TaskId, CheckpointId), GroupFiles>,
    /// Task states waiting for their new files: how many are still pending.
    waiting: BTreeMap<(TaskId, CheckpointId), (usize, TaskSnapshot)>,
}

impl IncrementalState {
    /// The bookkeeping of a run, with its planted bug if asked for.
    pub(super) fn new(plants: &[PlantedBug]) -> IncrementalState {
        let mut registry = SharedStateRegistry::new();
        if plants.contains(&PlantedBug::DeleteSharedFilesOnSubsumption) {
            registry = registry.deleting_without_counting();
        }
        IncrementalState { registry, ..IncrementalState::default() }
    }
}

impl SimWorld {
    /// Whether `task`'s state goes to shared files: keyed state under the incremental backend.
    pub(super) fn persists_incrementally(&self, task: TaskId) -> bool {
        self.config.incremental && self.tasks[task.index()].logic.has_key_grouped_state()
    }

    /// Persists `snapshot` of `task` for `checkpoint` incrementally.
    pub(super) fn persist_incrementally(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        mut snapshot: TaskSnapshot,
        scheduler: &mut Scheduler<Event>,
    ) {
        let grouped = KeyGroupedBytes::decode(&snapshot.state).expect("keyed state is key-grouped");
        let base = self.incremental.base.get(&task).cloned().unwrap_or_default();
        let mut files = GroupFiles::new();
        let mut new_files = Vec::new();
        for (key_group, bytes) in grouped.sections() {
            let digest = digest_bytes(bytes);
            let bytes_len = bytes.len() as u64;
            // A base file no checkpoint references any more may be gone (its checkpoint was
            // subsumed while this task missed the news): upload the group again, as Flink's
            // coordinator resolves a reused handle only while it is registered.
            let (file, reused) = match base.get(&key_group) {
                Some(&(base_digest, file))
                    if base_digest == digest && self.incremental.registry.is_referenced(&file) =>
                {
                    (file, true)
                }
                _ => {
                    let file = ObjectName::SharedFile { task, checkpoint, key_group };
                    new_files.push((file, bytes.to_vec()));
                    (file, false)
                }
            };
            files.insert(key_group, (digest, file));
            let figures = self.stats.incremental_state.get_or_insert_default();
            figures.full += bytes_len;
            if !reused {
                figures.written += bytes_len;
            }
            self.incremental.registry.reference(checkpoint, file);
            self.record(Fact::StateFileReferenced { task, checkpoint, file, bytes: bytes_len, reused });
        }
        self.stats.incremental_state.get_or_insert_default().persists += 1;
        snapshot.state = StateHandles { files: files.values().map(|&(_, file)| file).collect() }.encode();
        self.incremental.referenced.insert((task, checkpoint), files);
        if new_files.is_empty() {
            self.write_object(ObjectName::TaskState { checkpoint, task }, snapshot.encode(), scheduler);
            return;
        }
        self.incremental.waiting.insert((task, checkpoint), (new_files.len(), snapshot));
        for (file, bytes) in new_files {
            self.write_object(file, bytes, scheduler);
        }
    }

    /// A shared file's write completed: the task state waiting for it may go; a file no
    /// checkpoint references any more (aborted, or its writer failed) is deleted at once.
    pub(super) fn on_shared_file_durable(&mut self, file: ObjectName, live: bool, scheduler: &mut Scheduler<Event>) {
        let ObjectName::SharedFile { task, checkpoint, .. } = file else { unreachable!("a shared file") };
        if !live || !self.incremental.registry.is_referenced(&file) {
            self.delete_objects(&[file]);
            return;
        }
        let Some((remaining, _)) = self.incremental.waiting.get_mut(&(task, checkpoint)) else { return };
        *remaining -= 1;
        if *remaining == 0 {
            let (_, snapshot) = self.incremental.waiting.remove(&(task, checkpoint)).expect("just seen");
            self.write_object(ObjectName::TaskState { checkpoint, task }, snapshot.encode(), scheduler);
        }
    }

    /// A shared file's write was refused: the task's state for that checkpoint will never
    /// be whole.
    pub(super) fn shared_file_refused(&mut self, file: ObjectName) {
        let ObjectName::SharedFile { task, checkpoint, .. } = file else { unreachable!("a shared file") };
        self.incremental.waiting.remove(&(task, checkpoint));
    }

    /// `task` heard that `checkpoint` completed: its files become the task's base.
    pub(super) fn confirm_incremental(&mut self, task: TaskId, checkpoint: CheckpointId) {
        if let Some(files) = self.incremental.referenced.remove(&(task, checkpoint)) {
            self.incremental.base.insert(task, files);
        }
        self.incremental.referenced.retain(|&(holder, pending), _| holder != task || pending > checkpoint);
    }

    /// `checkpoint` was aborted: what only it referenced goes.
    pub(super) fn release_aborted(&mut self, checkpoint: CheckpointId) {
        let unreferenced = self.incremental.registry.release(checkpoint, false);
        self.incremental.waiting.retain(|&(_, pending), _| pending != checkpoint);
        self.delete_objects(&unreferenced);
    }

    /// Checkpoints before `oldest_retained` were subsumed: what only they referenced goes.
    pub(super) fn release_subsumed(&mut self, oldest_retained: CheckpointId) {
        let subsumed: Vec<CheckpointId> =
            self.incremental.registry.checkpoints().filter(|&checkpoint| checkpoint < oldest_retained).collect();
        for checkpoint in subsumed {
            let unreferenced = self.incremental.registry.release(checkpoint, true);
            self.delete_objects(&unreferenced);
        }
    }

    /// `task` restarts: what it was writing is gone; its base is what it restores.
    pub(super) fn reset_incremental(&mut self, task: TaskId, restored: Option<GroupFiles>) {
        self.incremental.waiting.retain(|&(writer, _), _| writer != task);
        self.incremental.referenced.retain(|&(holder, _), _| holder != task);
        match restored {
            Some(files) => self.incremental.base.insert(task, files),
            None => self.incremental.base.remove(&task),
        };
    }

    /// Reads `handles` back into key-grouped bytes, with each group's file for the base;
    /// `None` (after recording which) if storage lacks a file.
    pub(super) fn read_shared_state(&mut self, task: TaskId, handles: &StateHandles) -> Option<(Vec<u8>, GroupFiles)> {
        let mut grouped = KeyGroupedBytes::new();
        let mut files = GroupFiles::new();
        for &file in &handles.files {
            let ObjectName::SharedFile { key_group, .. } = file else { unreachable!("handles name shared files") };
            let Some(bytes) = self.storage.read(&file) else {
                self.record(Fact::StateFileMissing { task, file });
                return None;
            };
            files.insert(key_group, (digest_bytes(bytes), file));
            grouped.section_mut(key_group).extend_from_slice(bytes);
        }
        let mut state = Vec::new();
        grouped.encode(&mut state);
        Some((state, files))
    }

    fn delete_objects(&mut self, objects: &[ObjectName]) {
        self.delete_objects_where(|name| objects.contains(name));
    }
}
