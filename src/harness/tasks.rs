//! The data path: tasks consuming inputs, operators processing records, outputs routed to
//! channels under credit-based back-pressure.
//!
//! A task is `Idle` (waiting for input), `Busy` (processing one record until its
//! `TaskReady`), `Backpressured` (its output buffer waits for credit), `Finished` (a closed
//! bank account), or `Down` (its attempt failed). Inputs with data wait in a ready queue in
//! arrival order, as Flink's input gate keeps its available channels; a blocked input leaves
//! the queue until unblocked.
//!
//! The end of a job (docs/end-to-end.md): a source at the end of its split, or a task whose
//! inputs all delivered end-of-data, ends its data and keeps taking checkpoints; it finishes
//! when it hears that a checkpoint it took after that completed, and the job ends when every
//! task has finished.

use super::{BarrierTaken, Event, JobStatus, ProtocolChoice, ReadyInputs, RunOptions, SimWorld, WorldConfig};
use crate::dataflow::account::Account;
use crate::dataflow::direct_sinks::{AtLeastOnceSink, UpsertSink};
use crate::dataflow::graph::{Topology, VertexKind};
use crate::dataflow::join::{KeyedJoin, side_key};
use crate::dataflow::keyed::KeyedCount;
use crate::dataflow::operator::{Operator, TaskLogic};
use crate::dataflow::record::{Message, Record};
use crate::dataflow::sink::RecordingSink;
use crate::dataflow::source::{RecordGenerator, ReplayableSource};
use crate::dataflow::split_reader::{PartitionCatalog, SplitReader};
use crate::dataflow::two_phase_sink::{SinkFlaws, TwoPhaseCommitSink};
use crate::dataflow::window::TumblingWindow;
use crate::kernel::Scheduler;
use crate::kernel::ids::CheckpointId;
use crate::kernel::ids::{Attempt, ChannelId, TaskId};
use crate::kernel::rng::Seed;
use crate::kernel::time::SimDuration;
use crate::kernel::trace::Fact;
use crate::plant::PlantedBug;
use crate::protocol::aligned::AlignedBarriers;
use crate::protocol::aligned_timeout::AlignedWithTimeout;
use crate::protocol::at_least_once::AtLeastOnce;
use crate::protocol::broken::{AcknowledgeTwice, ConsumeBlockedInput, SnapshotAtFirstBarrier};
use crate::protocol::chandy_lamport::ChandyLamport;
use crate::protocol::coordinator::CoordinatorInput;
use crate::protocol::unaligned::UnalignedBarriers;
use crate::protocol::{ProtocolKind, TaskInput, TaskProtocol, TaskSetup};
use crate::recovery::TaskRole;
use crate::recovery::snapshot_object::TaskSnapshot;
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskStatus {
    Idle,
    Busy,
    Backpressured,
    Finished,
    Down,
    /// Not deployed in the running stage of the job: retired by a rescale, or deployed by
    /// a later one.
    Inactive,
}

#[derive(Clone, Debug)]
pub(super) struct InputSlot {
    pub(super) channel: ChannelId,
    /// For a join: 0 if the channel belongs to its first input edge (left), 1 otherwise.
    pub(super) side: u8,
    pub(super) blocked: bool,
    pub(super) ended: bool,
    /// Whether the input is in the ready queue.
    pub(super) queued: bool,
    /// Snapshots whose channel state this input's records currently go to.
    pub(super) recording: Vec<CheckpointId>,
    /// The highest watermark this input has delivered in this attempt.
    pub(super) watermark: Option<u64>,
}

impl InputSlot {
    /// The input on `channel` (of join side `side`) as a fresh attempt finds it.
    fn new(channel: ChannelId, side: u8) -> InputSlot {
        InputSlot { channel, side, blocked: false, ended: false, queued: false, recording: Vec::new(), watermark: None }
    }
}

/// One task's live state in the harness.
pub(super) struct TaskRuntime {
    pub(super) logic: TaskLogic,
    pub(super) protocol: Box<dyn TaskProtocol>,
    pub(super) inputs: Vec<InputSlot>,
    pub(super) ready: ReadyInputs,
    pub(super) status: TaskStatus,
    /// Messages in this task's output buffers still waiting for credit.
    pub(super) outbox_len: u64,
    pub(super) rebalance_cursors: Vec<u32>,
    pub(super) processing: SimDuration,
    /// Snapshots captured but not yet persisted, with the channel state recorded so far.
    pub(super) captured: BTreeMap<CheckpointId, TaskSnapshot>,
    /// Restored channel state (by input), processed before any new input.
    pub(super) replay: VecDeque<(u32, Record)>,
    /// Restored output channel state, sent again before anything new.
    pub(super) resend: Vec<(ChannelId, Record)>,
    /// Whether the task has sent end-of-input on every output while still consuming (a
    /// bank account whose payments are done).
    pub(super) outputs_closed: bool,
    /// The failover attempt this task was last (re)deployed in: events scheduled for an
    /// earlier one died with it.
    pub(super) attempt: Attempt,
    /// Whether the task has reached the end of its data and sent end-of-data downstream.
    pub(super) data_ended: bool,
    /// The first checkpoint this task captured after its data ended: once it (or a later
    /// one) completes, the task may finish.
    pub(super) final_checkpoint: Option<CheckpointId>,
    /// Whether the task has finished; the job is over when every task has.
    pub(super) finished: bool,
    /// The last watermark the task sent on, in this attempt.
    pub(super) watermark_out: Option<u64>,
    /// A call of this sink failed and its failure is on its way: it must not finish.
    pub(super) failing: bool,
    /// A commit of this sink failed at its last completion notice and waits for a retry at
    /// the next one: it must not finish before.
    pub(super) commit_to_retry: bool,
    /// The aligned handler of the savepoint this task is taking (or took last).
    pub(super) savepoint: Option<super::savepoint::SavepointHandler>,
}

impl TaskRuntime {
    pub(super) fn new(
        config: &WorldConfig,
        topology: &Topology,
        index: usize,
        seed: Seed,
        choice: &ProtocolChoice,
        options: &RunOptions,
    ) -> TaskRuntime {
        let plants = &options.plants[..];
        let spec = &topology.tasks[index];
        let vertex = &config.graph.vertices[spec.vertex.index()];
        let logic = task_logic(config, topology, index, seed, options);
        TaskRuntime {
            logic,
            protocol: new_protocol(choice, spec.inputs.len(), plants),
            inputs: input_slots(config, topology, index),
            ready: ReadyInputs::new(),
            status: TaskStatus::Idle,
            outbox_len: 0,
            rebalance_cursors: vec![0; spec.outputs.len()],
            processing: vertex.processing,
            captured: BTreeMap::new(),
            replay: VecDeque::new(),
            resend: Vec::new(),
            outputs_closed: false,
            attempt: Attempt(0),
            data_ended: false,
            final_checkpoint: None,
            finished: false,
            watermark_out: None,
            failing: false,
            commit_to_retry: false,
            savepoint: None,
        }
    }

    /// Connects the task to `topology`'s channels, as a rescale redeploys it among changed
    /// neighbours; a restart follows, which resets the rest.
    pub(super) fn rewire(&mut self, config: &WorldConfig, topology: &Topology, index: usize) {
        self.inputs = input_slots(config, topology, index);
        self.rebalance_cursors = vec![0; topology.tasks[index].outputs.len()];
    }

    /// Forgets everything of the failed attempt except the operator's state, which recovery
    /// restores separately.
    pub(super) fn reset_for_restart(&mut self, choice: &ProtocolChoice, plants: &[PlantedBug]) {
        for slot in &mut self.inputs {
            *slot = InputSlot::new(slot.channel, slot.side);
        }
        self.captured.clear();
        self.replay.clear();
        self.resend.clear();
        self.outputs_closed = false;
        self.data_ended = false;
        self.final_checkpoint = None;
        self.finished = false;
        self.watermark_out = None;
        self.failing = false;
        self.commit_to_retry = false;
        self.ready.clear();
        self.status = TaskStatus::Idle;
        self.outbox_len = 0;
        self.rebalance_cursors.fill(0);
        self.protocol = new_protocol(choice, self.inputs.len(), plants);
        self.savepoint = None;
    }
}

/// The input slots of task `index`: one per input channel, with its join side.
fn input_slots(config: &WorldConfig, topology: &Topology, index: usize) -> Vec<InputSlot> {
    let spec = &topology.tasks[index];
    let left = config.graph.edges.iter().find(|edge| edge.to == spec.vertex).map(|edge| edge.from);
    spec.inputs
        .iter()
        .map(|&channel| {
            let sender = topology.tasks[topology.channels[channel.index()].sender.index()].vertex;
            let side = u8::from(Some(sender) != left);
            InputSlot::new(channel, side)
        })
        .collect()
}

/// The logic task `index` runs: the built-in operator (or a user's sink) its vertex's kind
/// names, with any planted bug of that operator.
fn task_logic(config: &WorldConfig, topology: &Topology, index: usize, seed: Seed, options: &RunOptions) -> TaskLogic {
    let (plants, custom_sink) = (&options.plants[..], &options.custom_sink);
    let spec = &topology.tasks[index];
    let vertex = &config.graph.vertices[spec.vertex.index()];
    let task = TaskId::from_index(index);
    match vertex.kind {
        VertexKind::Source => {
            let generator = RecordGenerator::for_source_task(seed, config.workload, task);
            let source = ReplayableSource::new(generator, config.workload.records_per_source_subtask);
            let late = plants.contains(&PlantedBug::RestoredSourceOneOffsetLate);
            TaskLogic::Source(Box::new(if late { source.restoring_one_late() } else { source }))
        }
        VertexKind::LogSource => {
            let log = config.log.as_ref().expect("a validated log-source has a log");
            let catalog = PartitionCatalog {
                seed,
                workload: config.workload,
                records_per_partition: log.records_per_partition,
                event_time_bases: (0..log.partition_count()).map(|p| log.event_time_base(p)).collect(),
            };
            let reader = SplitReader::new(std::rc::Rc::new(catalog));
            let late = plants.contains(&PlantedBug::RestoredSourceOneOffsetLate);
            TaskLogic::LogSource(Box::new(if late { reader.restoring_one_late() } else { reader }))
        }
        VertexKind::TumblingWindow => {
            TaskLogic::Window(TumblingWindow::new(spec.vertex, vertex.window_us, vertex.max_parallelism))
        }
        VertexKind::KeyedCount => TaskLogic::KeyedCount(KeyedCount::new(vertex.max_parallelism)),
        VertexKind::KeyedJoin => TaskLogic::KeyedJoin(KeyedJoin::new(vertex.max_parallelism)),
        VertexKind::Sink => TaskLogic::Sink(RecordingSink::new()),
        VertexKind::TwoPhaseCommitSink => {
            let flaws = SinkFlaws {
                commit_on_pre_commit: plants.contains(&PlantedBug::CommitOnPreCommit),
                skip_recommit_after_recovery: plants.contains(&PlantedBug::SkipRecommitAfterRecovery),
            };
            TaskLogic::TwoPhaseSink(match custom_sink {
                Some(custom) => custom.0.build(task),
                None => Box::new(TwoPhaseCommitSink::new(task, flaws)),
            })
        }
        VertexKind::UpsertSink => TaskLogic::UpsertSink(UpsertSink),
        VertexKind::AtLeastOnceSink => {
            let sink = AtLeastOnceSink::default();
            let skips = plants.contains(&PlantedBug::SkipFlushOnSnapshot);
            TaskLogic::AtLeastOnceSink(if skips { sink.skipping_flush_on_snapshot() } else { sink })
        }
        VertexKind::Account => {
            let generator = RecordGenerator::for_source_task(seed, config.workload, task);
            let opening_balance = config.bank.as_ref().map_or(0, |bank| bank.opening_balances[index]);
            let transfers = config.workload.records_per_source_subtask;
            TaskLogic::Account(Box::new(Account::new(generator, opening_balance, transfers)))
        }
    }
}

fn new_protocol(choice: &ProtocolChoice, input_count: usize, plants: &[PlantedBug]) -> Box<dyn TaskProtocol> {
    let input_count = u32::try_from(input_count).expect("input count fits u32");
    if let Some(custom) = &choice.custom {
        return custom.0.build(TaskSetup { input_count });
    }
    let checkpoint = &choice.checkpoint;
    match choice.kind {
        ProtocolKind::ChandyLamport if plants.contains(&PlantedBug::SkipChannelState) => {
            Box::new(ChandyLamport::without_channel_state(input_count))
        }
        ProtocolKind::ChandyLamport => Box::new(ChandyLamport::new(input_count)),
        ProtocolKind::Aligned if plants.contains(&PlantedBug::AcknowledgeTwice) => {
            Box::new(AcknowledgeTwice::new(input_count))
        }
        ProtocolKind::Aligned if plants.contains(&PlantedBug::ConsumeBlockedInput) => {
            Box::new(ConsumeBlockedInput::new(input_count))
        }
        ProtocolKind::Aligned if plants.contains(&PlantedBug::SnapshotBeforeAlignmentCompletes) => {
            Box::new(SnapshotAtFirstBarrier::new(input_count))
        }
        ProtocolKind::Aligned => Box::new(AlignedBarriers::new(input_count)),
        ProtocolKind::AtLeastOnce => Box::new(AtLeastOnce::new(input_count)),
        ProtocolKind::Unaligned if plants.contains(&PlantedBug::SkipChannelState) => {
            Box::new(UnalignedBarriers::without_channel_state(input_count))
        }
        ProtocolKind::Unaligned if plants.contains(&PlantedBug::StaleBarrierStopsChannelRecording) => {
            Box::new(UnalignedBarriers::stopping_recording_on_stale_barriers(input_count))
        }
        ProtocolKind::Unaligned => Box::new(UnalignedBarriers::new(input_count)),
        ProtocolKind::AlignedTimeout => Box::new(AlignedWithTimeout::new(input_count, checkpoint.aligned_timeout)),
    }
}

impl SimWorld {
    pub(super) fn on_task_ready(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        let runtime = &mut self.tasks[task.index()];
        assert_eq!(runtime.status, TaskStatus::Busy, "{task} got TaskReady while not busy");
        runtime.status = TaskStatus::Idle;
        self.try_work(task, scheduler);
    }

    pub(super) fn on_arrival(&mut self, channel: ChannelId, sequence: u64, scheduler: &mut Scheduler<Event>) {
        let message = self.network.arrive(channel.index(), sequence);
        self.record(Fact::MessageArrived { channel, sequence });
        let spec = self.topology.channels[channel.index()];
        let receiver = spec.receiver;
        if let Message::Barrier(checkpoint) = message
            && !self.is_savepoint(checkpoint)
            && self.tasks[receiver.index()].protocol.barrier_overtakes(checkpoint)
        {
            // A priority event: handled now, ahead of the records queued before it.
            self.network.take_arrived(channel.index(), sequence);
            self.record(Fact::MessageConsumed { channel, sequence });
            self.pump(channel, scheduler);
            self.barrier_in_hand = Some(BarrierTaken::OnArrival);
            self.run_protocol(receiver, TaskInput::Barrier { input: spec.receiver_input, checkpoint }, scheduler);
            self.barrier_in_hand = None;
            self.try_work(receiver, scheduler);
            return;
        }
        let runtime = &mut self.tasks[spec.receiver.index()];
        let slot = &mut runtime.inputs[spec.receiver_input as usize];
        if !slot.queued && !slot.blocked {
            slot.queued = true;
            runtime.ready.push_back(spec.receiver_input);
        }
        self.try_work(spec.receiver, scheduler);
    }

    /// Lets an idle task take its next step: read (a source), pay or be paid (an account),
    /// or consume (any other task).
    pub(super) fn try_work(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        let role = self.roles[task.index()];
        let runtime = &mut self.tasks[task.index()];
        match runtime.status {
            TaskStatus::Idle => {}
            // Being paid sends nothing, so back-pressure never stops an account consuming.
            TaskStatus::Backpressured if role == TaskRole::Account => runtime.status = TaskStatus::Idle,
            _ => return,
        }
        if role == TaskRole::Account {
            self.account_step(task, scheduler);
            return;
        }
        if runtime.outbox_len > 0 {
            runtime.status = TaskStatus::Backpressured;
            return;
        }
        if role == TaskRole::Source {
            if runtime.data_ended {
            } else if matches!(runtime.logic, TaskLogic::LogSource(_)) {
                self.log_source_step(task, scheduler);
            } else {
                self.source_step(task, scheduler);
            }
        } else if !self.consume_step(task, true, scheduler) {
            let runtime = &self.tasks[task.index()];
            if !runtime.data_ended && runtime.inputs.iter().all(|slot| slot.ended) {
                self.end_data(task, scheduler);
            }
        }
    }

    fn source_step(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        let TaskLogic::Source(source) = &mut self.tasks[task.index()].logic else {
            unreachable!("a source task runs a source");
        };
        let Some(record) = source.read_next() else {
            if self.watermarks {
                self.forward_watermark(task, u64::MAX, scheduler);
            }
            self.end_data(task, scheduler);
            return;
        };
        self.stats.source_records_read += 1;
        self.record(Fact::SourceRead { task, offset: record.id.offset });
        self.emit(task, record, scheduler);
        // A split's records are a step of event time apart, each within its step: no later
        // record is earlier than the start of this one's.
        let step = crate::dataflow::source::EVENT_TIME_STEP_US;
        self.offer_source_watermark(task, record.event_time - record.event_time % step, scheduler);
        self.become_busy(task, scheduler);
        self.count_source_record(scheduler);
    }

    /// One more source record read: a record-count trigger may be due.
    pub(super) fn count_source_record(&mut self, scheduler: &mut Scheduler<Event>) {
        if let Some(every) = self.config.checkpoint.every_source_records {
            self.source_records_since_milestone += 1;
            if self.source_records_since_milestone >= every {
                self.source_records_since_milestone = 0;
                self.tell_coordinator(CoordinatorInput::SourceRecordsMilestone, scheduler);
            }
        }
    }

    pub(super) fn become_busy(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        let runtime = &mut self.tasks[task.index()];
        runtime.status = TaskStatus::Busy;
        scheduler.after(runtime.processing, Event::TaskReady { task, attempt: runtime.attempt });
    }

    /// Consumes messages until one record has been processed (the task is then busy), the
    /// task has nothing it may consume, or — if `stop_when_backpressured` — it is
    /// back-pressured. Barriers and end-of-input markers take no processing time. Returns
    /// whether the task stopped for busy or back-pressure (rather than for want of input).
    pub(super) fn consume_step(
        &mut self,
        task: TaskId,
        stop_when_backpressured: bool,
        scheduler: &mut Scheduler<Event>,
    ) -> bool {
        if let Some((input, record)) = self.tasks[task.index()].replay.pop_front() {
            self.apply(task, input, record, scheduler);
            self.become_busy(task, scheduler);
            return true;
        }
        loop {
            let Some(input) = self.next_ready_input(task) else {
                return false;
            };
            let (sequence, message) = self.consume(task, input, scheduler);
            match message {
                Message::Record(record) => {
                    self.record_channel_state(task, input, sequence, record);
                    self.apply(task, input, record, scheduler);
                    self.become_busy(task, scheduler);
                    return true;
                }
                Message::Barrier(checkpoint) => {
                    self.barrier_in_hand = Some(BarrierTaken::InOrder);
                    self.run_protocol(task, TaskInput::Barrier { input, checkpoint }, scheduler);
                    self.barrier_in_hand = None;
                }
                Message::Watermark(watermark) => self.on_input_watermark(task, input, watermark, scheduler),
                Message::EndOfData => self.tasks[task.index()].inputs[input as usize].ended = true,
                Message::EndOfInput => {
                    self.tasks[task.index()].inputs[input as usize].ended = true;
                    self.run_protocol(task, TaskInput::InputEnded { input }, scheduler);
                }
            }
            let runtime = &mut self.tasks[task.index()];
            if stop_when_backpressured && runtime.outbox_len > 0 {
                runtime.status = TaskStatus::Backpressured;
                return true;
            }
        }
    }

    fn next_ready_input(&mut self, task: TaskId) -> Option<u32> {
        let runtime = &mut self.tasks[task.index()];
        while let Some(input) = runtime.ready.pop_front() {
            let slot = &mut runtime.inputs[input as usize];
            slot.queued = false;
            if !slot.blocked {
                return Some(input);
            }
        }
        None
    }

    /// Takes the oldest arrived message of `input`, requeues the input if more wait, and
    /// returns the credit to the sender.
    fn consume(&mut self, task: TaskId, input: u32, scheduler: &mut Scheduler<Event>) -> (u64, Message) {
        let channel = self.tasks[task.index()].inputs[input as usize].channel;
        let (sequence, message) = self.network.consume(channel.index()).expect("a ready input has data");
        if self.network.has_arrived(channel.index()) {
            let runtime = &mut self.tasks[task.index()];
            runtime.inputs[input as usize].queued = true;
            runtime.ready.push_back(input);
        }
        self.record(Fact::MessageConsumed { channel, sequence });
        self.pump(channel, scheduler);
        (sequence, message)
    }

    /// Keeps a record consumed from `input` as channel state of every snapshot recording it.
    fn record_channel_state(&mut self, task: TaskId, input: u32, sequence: u64, record: Record) {
        let runtime = &mut self.tasks[task.index()];
        let slot = &runtime.inputs[input as usize];
        if slot.recording.is_empty() {
            return;
        }
        let channel = slot.channel;
        let recording = slot.recording.clone();
        for &checkpoint in &recording {
            let snapshot = runtime.captured.get_mut(&checkpoint).expect("recording belongs to a captured snapshot");
            snapshot.channel_state.push((input, record));
        }
        for checkpoint in recording {
            self.record(Fact::ChannelStateRecorded { task, checkpoint, channel, sequence });
        }
    }

    /// Processes `record`, which arrived on `input`.
    fn apply(&mut self, task: TaskId, input: u32, record: Record, scheduler: &mut Scheduler<Event>) {
        let mut outputs = std::mem::take(&mut self.scratch.records);
        let runtime = &mut self.tasks[task.index()];
        match &mut runtime.logic {
            TaskLogic::KeyedCount(count) => {
                count.process(&record, &mut outputs);
                self.stats.records_applied += 1;
                self.record(Fact::RecordApplied { task, record: record.id, key: record.key });
            }
            TaskLogic::KeyedJoin(join) => {
                let side = runtime.inputs[input as usize].side;
                join.process_side(side, &record, &mut outputs);
                self.stats.records_applied += 1;
                self.record(Fact::RecordApplied { task, record: record.id, key: side_key(record.key, side) });
            }
            TaskLogic::Sink(sink) => sink.process(&record, &mut outputs),
            TaskLogic::TwoPhaseSink(_) => {
                self.drive_sink(task, scheduler, |sink, out| sink.write(record, out));
            }
            TaskLogic::UpsertSink(_) | TaskLogic::AtLeastOnceSink(_) => self.write_direct(task, record, scheduler),
            TaskLogic::Account(account) => {
                account.process(&record, &mut outputs);
                self.stats.records_applied += 1;
            }
            TaskLogic::Window(window) => window.process(&record, &mut outputs),
            TaskLogic::Source(_) | TaskLogic::LogSource(_) => unreachable!("sources have no inputs"),
        }
        for output in outputs.drain(..) {
            self.emit(task, output, scheduler);
        }
        self.scratch.records = outputs;
    }

    /// `task` reached the end of its data: it sends end-of-data on every output and from now
    /// on only takes checkpoints, until one it took after this point completes.
    pub(super) fn end_data(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        self.tasks[task.index()].data_ended = true;
        self.broadcast(task, Message::EndOfData, scheduler);
        self.record(Fact::DataEnded { task });
        // The last records count as a milestone, so a record-count trigger also takes the
        // final checkpoint rather than leaving it to a distant periodic trigger.
        let is_source = |index: usize| self.roles[index] == TaskRole::Source;
        let last_source = is_source(task.index())
            && (0..self.tasks.len()).all(|index| !is_source(index) || self.tasks[index].data_ended);
        if last_source && self.config.checkpoint.every_source_records.is_some() {
            self.source_records_since_milestone = 0;
            self.tell_coordinator(CoordinatorInput::SourceRecordsMilestone, scheduler);
        }
    }

    /// A completion notice of `checkpoint` reached `task`: if the checkpoint covers all of
    /// the task's data (it is the task's final checkpoint or a later one), the task finishes.
    pub(super) fn on_completion_received(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        scheduler: &mut Scheduler<Event>,
    ) {
        self.record(Fact::CompletionNotified { task, checkpoint });
        self.savepoint_notice_heard(checkpoint, scheduler);
        self.confirm_incremental(task, checkpoint);
        // A sink commits what the checkpoint covers before it may finish.
        self.tasks[task.index()].commit_to_retry = false;
        self.drive_sink(task, scheduler, |sink, out| sink.on_checkpoint_complete(checkpoint, out));
        // A sink whose commit just failed retries at the next notice, or is about to fail
        // over and re-commit after its restore: finishing now would end the job with the
        // transaction never committed.
        let runtime = &self.tasks[task.index()];
        let committed = !runtime.failing && !runtime.commit_to_retry;
        if !runtime.finished && committed && runtime.final_checkpoint.is_some_and(|last| last <= checkpoint) {
            self.mark_finished(task);
        }
    }

    /// A bank account has paid everything and its inputs ended: it stops.
    pub(super) fn finish_account(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        self.tasks[task.index()].status = TaskStatus::Finished;
        // A finished account can take no checkpoint: the coordinator triggers no more.
        self.tell_coordinator(CoordinatorInput::TaskClosed { task }, scheduler);
        self.mark_finished(task);
    }

    /// Marks `task` finished; the job is over when every task is.
    fn mark_finished(&mut self, task: TaskId) {
        self.tasks[task.index()].finished = true;
        self.record(Fact::TaskFinished { task });
        if self.tasks.iter().all(|runtime| runtime.finished || runtime.status == TaskStatus::Inactive) {
            self.record_final_totals();
            self.record_final_balances();
            self.job = JobStatus::Finished;
        }
    }

    /// At the natural end of the job, records what every keyed operator holds.
    fn record_final_totals(&mut self) {
        let mut totals = Vec::new();
        for (index, runtime) in
            self.tasks.iter().enumerate().filter(|(_, runtime)| runtime.status != TaskStatus::Inactive)
        {
            let task = TaskId::from_index(index);
            match &runtime.logic {
                TaskLogic::KeyedCount(count) => {
                    totals.extend(count.nonzero_totals().map(|(key, held)| (task, key, held)))
                }
                TaskLogic::KeyedJoin(join) => totals.extend(join.nonzero_totals().map(|(key, held)| (task, key, held))),
                _ => {}
            }
        }
        for (task, key, held) in totals {
            self.record(Fact::KeyTotal { task, key, count: held.count, sum: held.sum, fingerprint: held.fingerprint });
        }
    }
}
