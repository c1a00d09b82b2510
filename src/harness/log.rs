//! The partitioned log's side of the job: the split enumerator beside the coordinator,
//! partition discovery, handing assignments to the readers, the reader's read step, and
//! the enumerator's state through checkpoints and restarts (docs/end-to-end.md).
//!
//! An assignment must be in a reader's state for a checkpoint exactly when it is in the
//! enumerator's snapshot for it, and the two are taken at different moments: the
//! enumerator's when the checkpoint is triggered, the reader's when the trigger reaches it.
//! So, as Flink's coordinator closes its event valve from a checkpoint's trigger until the
//! barrier is injected, an assignment made while a trigger is still on its way to a reader
//! is held back and handed over right after the snapshot of the newest such trigger (or
//! once that checkpoint ends without it); an earlier held one goes in just before a later
//! trigger's snapshot. Found by this checker's first run: without the valve a partition assigned in
//! that gap was restored by its reader and assigned to it again.

use super::{Event, SimWorld};
use crate::dataflow::enumerator::{EnumeratorCommand, EnumeratorInput, SplitEnumerator};
use crate::dataflow::graph::{TaskRef, VertexKind};
use crate::dataflow::operator::TaskLogic;
use crate::dataflow::split_reader::ReadStep;
use crate::external::log::LogSpec;
use crate::kernel::Scheduler;
use crate::kernel::ids::{CheckpointId, TaskId, VertexId};
use crate::kernel::trace::Fact;
use crate::plant::PlantedBug;
use std::collections::BTreeMap;

/// The log and its enumerator, in a job with a `log-source`.
pub(super) struct LogRuntime {
    spec: LogSpec,
    enumerator: SplitEnumerator,
    /// The log-source vertex.
    pub(super) vertex: VertexId,
    /// The reader task of each subtask (of the running stage).
    pub(super) readers: Vec<TaskId>,
    /// The enumerator's state as each pending checkpoint was triggered, for its metadata.
    snapshots: BTreeMap<CheckpointId, Vec<u8>>,
    /// Discovery timers of an earlier generation died with the enumerator they were for.
    discovery_generation: u64,
    /// Per reader: the triggers on their way to it (sent to its current attempt), oldest
    /// first.
    outstanding: Vec<Vec<CheckpointId>>,
    /// Per reader: commands held back until the trigger they wait for has reached it.
    held: Vec<Vec<(CheckpointId, EnumeratorCommand)>>,
}

/// How the readers restarted, as the enumerator needs to know it.
#[derive(Clone, Copy, Debug)]
pub(super) enum ReaderRestart {
    /// The whole job restarted: the enumerator was reset with them.
    WithTheEnumerator,
    /// Their region restarted alone, from `restored` (`None`: from scratch).
    Alone { restored: Option<CheckpointId> },
}

/// How far apart in event time a classic source's watermarks are (a log's readers follow
/// `log.watermark_interval_ms`, whose default this is).
const CLASSIC_WATERMARK_INTERVAL_US: u64 = 10_000;

impl LogRuntime {
    /// The log runtime of a job, if it has a `log-source`.
    pub(super) fn of(config: &super::WorldConfig, plants: &[PlantedBug]) -> Option<LogRuntime> {
        let spec = config.log.clone()?;
        let (index, vertex) =
            config.graph.vertices.iter().enumerate().find(|(_, vertex)| vertex.kind == VertexKind::LogSource)?;
        let readers = (0..vertex.parallelism)
            .map(|subtask| {
                let task = TaskRef { vertex: VertexId::from_index(index), subtask };
                config.graph.task_id(task).expect("a subtask of the log-source")
            })
            .collect();
        let mut enumerator = SplitEnumerator::new(vertex.parallelism);
        if plants.contains(&PlantedBug::ForgetAssignmentsBeforeFirstCheckpoint) {
            enumerator = enumerator.forgetting_assignments_before_first_checkpoint();
        }
        let count = vertex.parallelism as usize;
        Some(LogRuntime {
            spec,
            enumerator,
            vertex: VertexId::from_index(index),
            readers,
            snapshots: BTreeMap::new(),
            discovery_generation: 0,
            outstanding: vec![Vec::new(); count],
            held: vec![Vec::new(); count],
        })
    }

    /// A rescale redeployed the readers as `readers`: nothing is on its way to them, and
    /// the enumerator waits for them to register.
    pub(super) fn redeployed(&mut self, readers: Vec<TaskId>) {
        self.enumerator.resize(u32::try_from(readers.len()).expect("parallelism fits u32"));
        self.outstanding = vec![Vec::new(); readers.len()];
        self.held = vec![Vec::new(); readers.len()];
        self.readers = readers;
    }

    fn subtask_of(&self, task: TaskId) -> Option<u32> {
        self.readers.iter().position(|&reader| reader == task).map(|subtask| subtask as u32)
    }
}

impl SimWorld {
    /// Starts the log: every reader registers, and the first discovery runs at once.
    pub(super) fn start_log(&mut self, scheduler: &mut Scheduler<Event>) {
        let Some(log) = &self.log else { return };
        let readers = log.readers.len() as u32;
        for subtask in 0..readers {
            self.tell_enumerator(EnumeratorInput::ReaderRegistered { subtask }, scheduler);
        }
        self.on_partition_discovery(0, scheduler);
    }

    /// The enumerator looks at the log; it looks again later while the log may grow.
    pub(super) fn on_partition_discovery(&mut self, generation: u64, scheduler: &mut Scheduler<Event>) {
        let Some(log) = &self.log else { return };
        if generation != log.discovery_generation {
            return;
        }
        let partitions = log.spec.partitions_at(self.now);
        let complete = log.spec.is_complete_at(self.now);
        let interval = log.spec.discovery_interval;
        self.tell_enumerator(EnumeratorInput::Discovered { partitions, complete }, scheduler);
        if !complete {
            scheduler.after(interval, Event::PartitionDiscovery { generation });
        }
    }

    /// Hands `input` to the enumerator and performs what it asks.
    pub(super) fn tell_enumerator(&mut self, input: EnumeratorInput, scheduler: &mut Scheduler<Event>) {
        let Some(log) = &mut self.log else { return };
        let mut commands = Vec::new();
        log.enumerator.handle(input, &mut commands);
        for command in commands {
            let (EnumeratorCommand::Assign { subtask, .. } | EnumeratorCommand::NoMoreSplits { subtask }) = command;
            // Made after every trigger still on its way to the reader: it must reach the
            // reader after the newest one's snapshot.
            let log = self.log.as_mut().expect("checked above");
            let reader = subtask as usize;
            match log.outstanding[reader].last() {
                Some(&newest) => log.held[reader].push((newest, command)),
                None => self.hand_to_reader(command, scheduler),
            }
        }
    }

    /// Performs one enumerator command at its reader.
    fn hand_to_reader(&mut self, command: EnumeratorCommand, scheduler: &mut Scheduler<Event>) {
        let (EnumeratorCommand::Assign { subtask, .. } | EnumeratorCommand::NoMoreSplits { subtask }) = command;
        let task = self.log.as_ref().expect("only with a log").readers[subtask as usize];
        let TaskLogic::LogSource(reader) = &mut self.tasks[task.index()].logic else {
            unreachable!("the enumerator assigns to readers");
        };
        match command {
            EnumeratorCommand::Assign { partition, .. } => {
                reader.add_split(partition, 0);
                self.record(Fact::PartitionAssigned { task, partition });
            }
            EnumeratorCommand::NoMoreSplits { .. } => reader.no_more_splits(),
        }
        self.try_work(task, scheduler);
    }

    /// Hands reader `subtask` the held commands `due` selects (by the checkpoint they wait
    /// for), in the order they were made.
    fn release_held(&mut self, subtask: usize, due: impl Fn(CheckpointId) -> bool, scheduler: &mut Scheduler<Event>) {
        let Some(log) = &mut self.log else { return };
        let (released, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut log.held[subtask]).into_iter().partition(|&(waits_for, _)| due(waits_for));
        log.held[subtask] = kept;
        for (_, command) in released {
            self.hand_to_reader(command, scheduler);
        }
    }

    /// A trigger of `checkpoint` reached `task`, whose snapshot comes next: what was held
    /// for an earlier trigger goes in first.
    pub(super) fn log_trigger_arriving(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        scheduler: &mut Scheduler<Event>,
    ) {
        let Some(subtask) = self.log.as_ref().and_then(|log| log.subtask_of(task)) else { return };
        let log = self.log.as_mut().expect("checked above");
        log.outstanding[subtask as usize].retain(|&pending| pending > checkpoint);
        self.release_held(subtask as usize, |waits_for| waits_for < checkpoint, scheduler);
    }

    /// `task` has handled the trigger of `checkpoint` (its snapshot is taken): what was held
    /// for it goes in now.
    pub(super) fn log_trigger_handled(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        scheduler: &mut Scheduler<Event>,
    ) {
        let Some(subtask) = self.log.as_ref().and_then(|log| log.subtask_of(task)) else { return };
        self.release_held(subtask as usize, |waits_for| waits_for <= checkpoint, scheduler);
    }

    /// `checkpoint` ended (completed or aborted): no reader waits for its trigger any more.
    pub(super) fn log_checkpoint_ended(&mut self, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        let Some(log) = &mut self.log else { return };
        for outstanding in &mut log.outstanding {
            outstanding.retain(|&pending| pending != checkpoint);
        }
        for subtask in 0..log.readers.len() {
            let outstanding = self.log.as_ref().expect("checked above").outstanding[subtask].clone();
            self.release_held(subtask, |waits_for| !outstanding.contains(&waits_for), scheduler);
        }
    }

    /// A checkpoint was triggered: the enumerator's state now goes into its metadata.
    pub(super) fn log_checkpoint_triggered(&mut self, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        let Some(log) = &mut self.log else { return };
        log.snapshots.insert(checkpoint, log.enumerator.snapshot());
        for (subtask, &task) in log.readers.iter().enumerate() {
            if self.tasks[task.index()].status != super::tasks::TaskStatus::Down {
                log.outstanding[subtask].push(checkpoint);
            }
        }
        self.tell_enumerator(EnumeratorInput::CheckpointTriggered { checkpoint }, scheduler);
    }

    /// The enumerator's state for `checkpoint`'s metadata (empty without a log).
    pub(super) fn enumerator_state_for(&self, checkpoint: CheckpointId) -> Vec<u8> {
        self.log.as_ref().and_then(|log| log.snapshots.get(&checkpoint).cloned()).unwrap_or_default()
    }

    /// A checkpoint completed: older snapshots are no longer needed.
    pub(super) fn log_checkpoint_completed(&mut self, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        let Some(log) = &mut self.log else { return };
        log.snapshots.retain(|&pending, _| pending > checkpoint);
        self.tell_enumerator(EnumeratorInput::CheckpointCompleted { checkpoint }, scheduler);
    }

    /// `tasks` went down: readers among them get nothing until they register again.
    pub(super) fn log_readers_failed(&mut self, tasks: &[TaskId], scheduler: &mut Scheduler<Event>) {
        for subtask in self.reader_subtasks(tasks) {
            // What was held for it dies with it: the enumerator takes those back.
            let log = self.log.as_mut().expect("readers exist");
            log.outstanding[subtask as usize].clear();
            log.held[subtask as usize].clear();
            self.tell_enumerator(EnumeratorInput::ReaderFailed { subtask }, scheduler);
        }
    }

    /// The whole job restarted from `checkpoint` (whose metadata held `enumerator_state`):
    /// the enumerator is reset to it, and every reader registers again.
    pub(super) fn log_job_restarted(
        &mut self,
        restored: Option<&crate::recovery::CheckpointMetadata>,
        scheduler: &mut Scheduler<Event>,
    ) {
        // After a rescale of the readers, each partition is owned where its offset went.
        let owners = restored.and_then(|metadata| self.redistributed_owners(metadata));
        let Some(log) = &mut self.log else { return };
        log.snapshots.clear();
        log.discovery_generation += 1;
        let generation = log.discovery_generation;
        let decoded = match (restored, owners) {
            (Some(metadata), Some(owners)) => {
                log.enumerator.restore_rescaled(metadata.checkpoint, &metadata.enumerator_state, &owners)
            }
            (Some(metadata), None) => log.enumerator.restore(metadata.checkpoint, &metadata.enumerator_state),
            (None, _) => {
                log.enumerator.reset();
                Ok(())
            }
        };
        decoded.expect("enumerator state written by the harness decodes");
        let readers = log.readers.clone();
        self.log_readers_restored(&readers, ReaderRestart::WithTheEnumerator, scheduler);
        // Discovery runs again at once: a restored enumerator may know less than the log.
        self.on_partition_discovery(generation, scheduler);
    }

    /// Readers among `tasks` were restored: the partitions they restored are traced, and
    /// they register again — after the enumerator, for a reader restarted alone, took back
    /// what it gave that reader after the restored checkpoint.
    pub(super) fn log_readers_restored(
        &mut self,
        tasks: &[TaskId],
        restart: ReaderRestart,
        scheduler: &mut Scheduler<Event>,
    ) {
        for subtask in self.reader_subtasks(tasks) {
            let task = self.log.as_ref().expect("readers exist").readers[subtask as usize];
            let TaskLogic::LogSource(reader) = &self.tasks[task.index()].logic else {
                unreachable!("readers run a split reader");
            };
            let restored: Vec<(u32, u64)> = reader.partitions().collect();
            for (partition, offset) in restored {
                self.record(Fact::PartitionRestored { task, partition, offset });
            }
            if let ReaderRestart::Alone { restored } = restart {
                self.tell_enumerator(EnumeratorInput::ReaderReset { subtask, checkpoint: restored }, scheduler);
            }
            self.tell_enumerator(EnumeratorInput::ReaderRegistered { subtask }, scheduler);
        }
    }

    fn reader_subtasks(&self, tasks: &[TaskId]) -> Vec<u32> {
        let Some(log) = &self.log else { return Vec::new() };
        tasks.iter().filter_map(|&task| log.subtask_of(task)).collect()
    }

    /// A log reader's step: read one record (then emit it and, when due, a watermark),
    /// wait for partitions, or end its data.
    pub(super) fn log_source_step(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        let TaskLogic::LogSource(reader) = &mut self.tasks[task.index()].logic else {
            unreachable!("a log-source task runs a split reader");
        };
        match reader.read_next() {
            ReadStep::Record(partition, record) => {
                let watermark = reader.watermark();
                self.stats.source_records_read += 1;
                self.record(Fact::PartitionRead { task, partition, offset: record.id.offset });
                self.emit(task, record, scheduler);
                if let Some(watermark) = watermark {
                    self.offer_source_watermark(task, watermark, scheduler);
                }
                self.become_busy(task, scheduler);
                self.count_source_record(scheduler);
            }
            ReadStep::Waiting => {}
            ReadStep::Finished => {
                if self.watermarks {
                    self.forward_watermark(task, u64::MAX, scheduler);
                }
                self.end_data(task, scheduler);
            }
        }
    }

    /// A reader's watermark reached `watermark`: sent on when it crosses into a new
    /// watermark interval.
    pub(super) fn offer_source_watermark(&mut self, task: TaskId, watermark: u64, scheduler: &mut Scheduler<Event>) {
        if !self.watermarks {
            return;
        }
        let interval =
            self.log.as_ref().map_or(CLASSIC_WATERMARK_INTERVAL_US, |log| log.spec.watermark_interval_us.max(1));
        let last = self.tasks[task.index()].watermark_out;
        if last.is_none_or(|last| watermark / interval > last / interval) {
            self.forward_watermark(task, watermark, scheduler);
        }
    }
}
