//! Rescaling: a scenario's `[[rescale]]` stops the job and redeploys it from its latest
//! completed checkpoint with a keyed vertex at another parallelism (docs/state.md).
//!
//! The job's stages (`dataflow/staging.rs`) are fixed before the run: the rescale moves the
//! harness to the next one at the restart it forces. Tasks kept between the stages restore
//! their own state objects; each subtask the rescale deployed restores its key groups — cut
//! out of every checkpointed state of its vertex and merged, as Flink's keyed backends
//! restore a rescaled subtask — and records what each key then holds, for the key-ownership
//! check. Records in flight that the checkpoint carried (unaligned channel state, and output
//! its barriers overtook) were addressed to channels of the old stage: each is re-addressed
//! to the subtask that now owns its key. A restore from a checkpoint of an earlier stage —
//! a failure before the new stage completes a checkpoint — goes the same way, and always
//! restarts the whole job, since regions of different stages do not match.

use super::tasks::TaskStatus;
use super::{Event, JobStatus, SimWorld};
use crate::dataflow::keyed::{key_group_of, subtask_of_key_group};
use crate::dataflow::keyed_state::{KeyGroupRange, KeyGroupedBytes};
use crate::dataflow::operator::TaskLogic;
use crate::dataflow::record::Record;
use crate::kernel::Scheduler;
use crate::kernel::ids::{ChannelId, CheckpointId, TaskId, VertexId};
use crate::kernel::time::SimDuration;
use crate::kernel::trace::{Fact, ObjectName};
use crate::plant::PlantedBug;
use crate::recovery::CheckpointMetadata;
use crate::recovery::list_state::{Redistribution, redistribute};
use crate::recovery::snapshot_object::TaskSnapshot;
use std::collections::BTreeMap;

impl SimWorld {
    /// Schedules every rescale of the scenario: the `i`-th leads to stage `i + 1`.
    pub(super) fn schedule_rescales(&mut self, scheduler: &mut Scheduler<Event>) {
        for (index, rescale) in self.config.rescales.iter().enumerate() {
            let stage = u32::try_from(index + 1).expect("rescales fit u32");
            scheduler.at(rescale.at, Event::Rescale { stage });
        }
    }

    /// The rescale into `stage` is due: a running job stops and redeploys at once; a job
    /// restarting deploys the new stage at its restart; a finished or failed job stays so.
    pub(super) fn on_rescale(&mut self, stage: usize, scheduler: &mut Scheduler<Event>) {
        if self.config.rescales[stage - 1].from_savepoint {
            // Stop with a savepoint; its completion deploys the stage (`savepoint.rs`).
            self.rescale_on_stop = Some(stage);
            self.on_savepoint_requested(true, scheduler);
            return;
        }
        match self.job {
            JobStatus::Finished | JobStatus::Failed => {}
            JobStatus::Restarting => self.stage_wanted = stage,
            JobStatus::Running => {
                self.stage_wanted = stage;
                self.halt_the_job(scheduler);
                scheduler.after(SimDuration::ZERO, Event::Restart { attempt: self.attempt });
            }
        }
    }

    /// At a restart: moves to the stage a rescale asked for, if it is not the running one.
    pub(super) fn enter_wanted_stage(&mut self) {
        if self.stage_wanted == self.stage {
            return;
        }
        // Rescales due while the job was restarting are deployed together.
        self.stats.rescales += (self.stage_wanted - self.stage) as u64;
        self.stage = self.stage_wanted;
        self.record(Fact::JobRescaled { stage: u32::try_from(self.stage).expect("stages fit u32") });
        let stage = &self.staging.stages[self.stage];
        self.topology = stage.topology.clone();
        self.regions = stage.regions.clone();
        for index in 0..self.tasks.len() {
            let runtime = &mut self.tasks[index];
            if stage.runs(TaskId::from_index(index)) {
                runtime.rewire(&self.config, &self.topology, index);
                runtime.status = TaskStatus::Down; // Restored next.
            } else {
                runtime.status = TaskStatus::Inactive;
            }
        }
        self.coordinator.set_task_count(stage.active.len());
        if let Some(vertex) = self.log.as_ref().map(|log| log.vertex) {
            let readers = self.staging.subtasks_of(self.stage, vertex);
            let log = self.log.as_mut().expect("checked above");
            if log.readers != readers {
                log.redeployed(readers);
            }
        }
    }

    /// The running subtask `reference` names (after a rescale, `count[1]` is the new one).
    pub(super) fn task_named(&self, reference: crate::dataflow::graph::TaskRef) -> Option<TaskId> {
        self.staging.subtasks_of(self.stage, reference.vertex).get(reference.subtask as usize).copied()
    }

    /// The worker `task` runs on: as placed, or — for a subtask a rescale deployed beyond
    /// the placement — round robin by id.
    pub(super) fn worker_of(&self, task: TaskId) -> u32 {
        let round_robin = || u32::try_from(task.index() % self.config.workers.max(1) as usize).expect("fits u32");
        self.config.placement.get(task.index()).copied().unwrap_or_else(round_robin)
    }

    /// Whether a restore from the latest completed checkpoint would cross stages (the job
    /// was rescaled since): only a restart of the whole job can do that.
    pub(super) fn latest_checkpoint_is_of_another_stage(&self) -> bool {
        self.coordinator.latest_completed().is_some_and(|checkpoint| self.stage_of(checkpoint) != self.stage)
    }

    /// The stage `checkpoint` was taken in.
    pub(super) fn stage_of(&self, checkpoint: CheckpointId) -> usize {
        self.checkpoint_stages.range(..=checkpoint).next_back().map_or(0, |(_, &stage)| stage)
    }

    /// Notes that `checkpoint` is taken in the running stage. Only the first checkpoint of
    /// each stage is kept (ids rise, so the stage of any other is that of the nearest one
    /// below it): an entry per checkpoint would grow with the run.
    pub(super) fn note_checkpoint_stage(&mut self, checkpoint: CheckpointId) {
        if self.stage_of(checkpoint) != self.stage {
            self.checkpoint_stages.insert(checkpoint, self.stage);
        }
    }

    /// Restores `task`, which a rescale deployed after `metadata`'s checkpoint: its key
    /// groups, cut out of the checkpoint's state of every subtask of its vertex and merged.
    pub(super) fn restore_key_groups(&mut self, task: TaskId, metadata: &CheckpointMetadata) {
        if matches!(self.tasks[task.index()].logic, TaskLogic::LogSource(_)) {
            self.restore_reader_share(task, metadata);
            return;
        }
        let incarnation = self.staging.tasks[task.index()];
        let max_parallelism = self.config.graph.vertices[incarnation.vertex.index()].max_parallelism;
        let range = self.key_groups_restored_by(task, max_parallelism);
        let mut parts = Vec::new();
        for &name in &metadata.task_states {
            let ObjectName::TaskState { task: old, .. } = name else { continue };
            if self.staging.tasks[old.index()].vertex != incarnation.vertex {
                continue;
            }
            // A state a planted bug broke, or a shared file gone: the checks see what is lost.
            if let Some(grouped) = self.state_of(old, name).and_then(|state| KeyGroupedBytes::decode(&state).ok()) {
                parts.push(grouped.restricted_to(range));
            }
        }
        let mut bytes = Vec::new();
        if let Ok(merged) = KeyGroupedBytes::merged(parts) {
            merged.encode(&mut bytes);
        }
        let operator = self.tasks[task.index()].logic.as_operator();
        if operator.restore(&bytes).is_err() {
            operator.reset();
        }
        // Every group is new to this subtask: its next incremental checkpoint writes them all.
        self.reset_incremental(task, None);
        let held = held_keys(&self.tasks[task.index()].logic);
        let (first, last) = (range.first, range.last);
        let keys = held.len() as u64;
        self.record(Fact::KeyGroupsRestored { task, checkpoint: metadata.checkpoint, first, last, keys });
        for (key, count, fingerprint) in held {
            self.record(Fact::KeyRestored { task, key, count, fingerprint });
        }
    }

    /// Restores reader `task`, which a rescale deployed after `metadata`'s checkpoint: its
    /// round-robin share of every old reader's partitions and offsets (list state).
    fn restore_reader_share(&mut self, task: TaskId, metadata: &CheckpointMetadata) {
        let readers = self.log.as_ref().map(|log| log.readers.clone()).unwrap_or_default();
        let position = readers.iter().position(|&reader| reader == task).expect("a running reader");
        let share = self.redistributed_splits(metadata).swap_remove(position);
        let mut bytes = Vec::new();
        for &(partition, offset) in &share {
            crate::dataflow::state_codec::push_row(&mut bytes, [u64::from(partition), offset]);
        }
        let operator = self.tasks[task.index()].logic.as_operator();
        if operator.restore(&bytes).is_err() {
            operator.reset();
        }
        let splits = share.len() as u64;
        self.record(Fact::SplitsRedistributed { task, checkpoint: metadata.checkpoint, splits });
    }

    /// The running readers' partitions and offsets after a restore of `metadata` across a
    /// rescale of the readers: every old reader's, dealt out round robin.
    fn redistributed_splits(&self, metadata: &CheckpointMetadata) -> Vec<Vec<(u32, u64)>> {
        let Some(log) = &self.log else { return Vec::new() };
        let mut old: Vec<Vec<(u32, u64)>> = Vec::new();
        for &name in &metadata.task_states {
            let ObjectName::TaskState { task: old_reader, .. } = name else { continue };
            if self.staging.tasks[old_reader.index()].vertex != log.vertex {
                continue;
            }
            let state = self.storage.read(&name).and_then(TaskSnapshot::decode).map(|snapshot| snapshot.state);
            let rows = state.and_then(|state| crate::dataflow::state_codec::rows::<2>(&state).ok());
            // Offsets and partitions are what a reader's state holds; a broken one holds none.
            old.push(
                rows.unwrap_or_default()
                    .into_iter()
                    .filter_map(|[partition, offset]| Some((u32::try_from(partition).ok()?, offset)))
                    .collect(),
            );
        }
        redistribute(&old, log.readers.len(), Redistribution::RoundRobin)
    }

    /// After a restore of `metadata` that crosses a rescale of the readers: the reader
    /// (by subtask) each partition went to; `None` when the readers were not rescaled.
    pub(super) fn redistributed_owners(&self, metadata: &CheckpointMetadata) -> Option<BTreeMap<u32, u32>> {
        let log = self.log.as_ref()?;
        let same_readers = metadata
            .task_states
            .iter()
            .any(|name| matches!(name, ObjectName::TaskState { task, .. } if log.readers.first() == Some(task)));
        if same_readers || self.stage_of(metadata.checkpoint) == self.stage {
            return None;
        }
        let mut owners = BTreeMap::new();
        for (subtask, share) in self.redistributed_splits(metadata).into_iter().enumerate() {
            for (partition, _) in share {
                owners.insert(partition, u32::try_from(subtask).expect("parallelism fits u32"));
            }
        }
        Some(owners)
    }

    /// The key groups a rescaled restore gives `task`: the range it owns — or, under the
    /// planted bug, the range one past it.
    fn key_groups_restored_by(&self, task: TaskId, max_parallelism: u32) -> KeyGroupRange {
        let incarnation = self.staging.tasks[task.index()];
        let owned = KeyGroupRange::of_subtask(incarnation.subtask, incarnation.parallelism, max_parallelism);
        if !self.plants.contains(&PlantedBug::RescaleKeyGroupsOffByOne) {
            return owned;
        }
        let last_group = max_parallelism - 1;
        KeyGroupRange { first: (owned.first + 1).min(last_group), last: (owned.last + 1).min(last_group) }
    }

    /// The operator state bytes stored for `old` in object `name` (its key groups read back
    /// from shared files under the incremental backend); `None` if it cannot be read.
    fn state_of(&mut self, old: TaskId, name: ObjectName) -> Option<Vec<u8>> {
        let snapshot = TaskSnapshot::decode(self.storage.read(&name)?)?;
        let savepoint = matches!(name, ObjectName::TaskState { checkpoint, .. } if self.is_savepoint(checkpoint));
        if savepoint || !(self.config.incremental && self.tasks[old.index()].logic.has_key_grouped_state()) {
            return Some(snapshot.state);
        }
        let handles = crate::recovery::incremental::StateHandles::decode(&snapshot.state)?;
        self.read_shared_state(old, &handles).map(|(state, _)| state)
    }

    /// After a restore from a checkpoint of another stage: every record the checkpoint
    /// carried in flight is re-addressed to the channel of this stage that now joins its
    /// sender (or its key's new owner) to its receiver (or its key's new owner).
    pub(super) fn readdress_carried_records(&mut self, metadata: &CheckpointMetadata) {
        let old_stage = self.stage_of(metadata.checkpoint);
        for &name in &metadata.task_states {
            let ObjectName::TaskState { task: old, .. } = name else { continue };
            let running = self.staging.stages[self.stage].runs(old);
            let (replay, resend) = if running {
                let runtime = &mut self.tasks[old.index()];
                (std::mem::take(&mut runtime.replay).into_iter().collect(), std::mem::take(&mut runtime.resend))
            } else {
                let Some(snapshot) = self.storage.read(&name).and_then(TaskSnapshot::decode) else { continue };
                let resend =
                    snapshot.output_state.iter().map(|&(channel, record)| (ChannelId(channel), record)).collect();
                (snapshot.channel_state, resend)
            };
            let old_inputs = self.staging.stages[old_stage].topology.tasks[old.index()].inputs.clone();
            for (input, record) in replay {
                let (sender, _) = self.staging.channel_ends[old_inputs[input as usize].index()];
                let channel = self.channel_now(sender, old, &record);
                let receiver_input = self.topology.channels[channel.index()].receiver_input;
                let receiver = self.topology.channels[channel.index()].receiver;
                self.tasks[receiver.index()].replay.push_back((receiver_input, record));
            }
            for (channel, record) in resend {
                let (_, receiver) = self.staging.channel_ends[channel.index()];
                let channel = self.channel_now(old, receiver, &record);
                let sender = self.topology.channels[channel.index()].sender;
                self.tasks[sender.index()].resend.push((channel, record));
            }
        }
    }

    /// The channel of the running stage that carries `record` from `sender` to `receiver` —
    /// each replaced by its vertex's subtask owning the record's key if a rescale retired it.
    fn channel_now(&self, sender: TaskId, receiver: TaskId, record: &Record) -> ChannelId {
        let (sender, receiver) = (self.task_now(sender, record), self.task_now(receiver, record));
        let found = self.topology.tasks[sender.index()]
            .outputs
            .iter()
            .flat_map(|gate| gate.channels.iter().copied())
            .find(|&channel| self.topology.channels[channel.index()].receiver == receiver);
        found.expect("an edge of the old stage joins the same vertices in the new one")
    }

    /// `task` if it runs in this stage, else the subtask of its vertex owning `record`'s key.
    fn task_now(&self, task: TaskId, record: &Record) -> TaskId {
        if self.staging.stages[self.stage].runs(task) {
            return task;
        }
        let vertex: VertexId = self.staging.tasks[task.index()].vertex;
        let subtasks = self.staging.subtasks_of(self.stage, vertex);
        let max_parallelism = self.config.graph.vertices[vertex.index()].max_parallelism;
        let parallelism = u32::try_from(subtasks.len()).expect("parallelism fits u32");
        let group = key_group_of(record.key, max_parallelism);
        subtasks[subtask_of_key_group(group, max_parallelism, parallelism) as usize]
    }
}

/// What a keyed operator holds per state key: (key, count, fingerprint), in key order.
fn held_keys(logic: &TaskLogic) -> Vec<(u64, u64, u64)> {
    match logic {
        TaskLogic::KeyedCount(count) => {
            count.nonzero_totals().map(|(key, held)| (key, held.count, held.fingerprint)).collect()
        }
        TaskLogic::KeyedJoin(join) => {
            join.nonzero_totals().map(|(key, held)| (key, held.count, held.fingerprint)).collect()
        }
        _ => Vec::new(),
    }
}
