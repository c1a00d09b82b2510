//! Executing protocol and coordinator commands: barriers, snapshots, storage writes,
//! acknowledgements, completion and abort.
//!
//! Control messages (triggers, acknowledgements, declines, abort notices) travel with a
//! latency drawn from the network stream. A snapshot is atomic with respect to record
//! processing: the state is captured and the barrier queued on every output in one step.

use super::faults::Step;
use super::tasks::TaskStatus;
use super::{Event, SimWorld};
use crate::dataflow::operator::TaskLogic;
use crate::dataflow::record::{Message, Record};
use crate::faults::ControlMessage;
use crate::kernel::Scheduler;
use crate::kernel::ids::{Attempt, ChannelId, CheckpointId, TaskId};
use crate::kernel::time::SimDuration;
use crate::kernel::trace::{Fact, MessageTag, ObjectName, digest_bytes};
use crate::plant::PlantedBug;
use crate::protocol::coordinator::{CoordinatorCommand, CoordinatorInput};
use crate::protocol::{TaskCommand, TaskInput};
use crate::recovery::snapshot_object::TaskSnapshot;
use crate::recovery::{CheckpointMetadata, TaskRole};
use crate::storage::{WriteId, WriteRefused};

impl SimWorld {
    /// Hands `input` to the task's protocol and performs the commands it returns.
    pub(super) fn run_protocol(&mut self, task: TaskId, input: TaskInput, scheduler: &mut Scheduler<Event>) {
        let mut commands = std::mem::take(&mut self.scratch.task_commands);
        match self.savepoint_input(&input) {
            // Savepoints are always aligned, whatever the job's protocol.
            Some(savepoint) => self.handle_savepoint_input(task, savepoint, input, &mut commands),
            None => self.tasks[task.index()].protocol.handle(self.now, input, &mut commands),
        }
        for command in commands.drain(..) {
            self.execute_task_command(task, command, scheduler);
        }
        self.scratch.task_commands = commands;
    }

    fn execute_task_command(&mut self, task: TaskId, command: TaskCommand, scheduler: &mut Scheduler<Event>) {
        match command {
            TaskCommand::BlockInput { input, checkpoint } => {
                let slot = &mut self.tasks[task.index()].inputs[input as usize];
                assert!(!slot.blocked, "{task} blocked input {input} twice");
                slot.blocked = true;
                let channel = slot.channel;
                self.record(Fact::InputBlocked { task, channel, checkpoint });
                self.step_taken(Step::InputBlocked { task, checkpoint }, scheduler);
            }
            TaskCommand::UnblockAllInputs => self.unblock_all(task),
            TaskCommand::Snapshot { checkpoint } => self.snapshot(task, checkpoint, scheduler),
            TaskCommand::SnapshotOvertaking { checkpoint } => self.snapshot_overtaking(task, checkpoint, scheduler),
            TaskCommand::RecordQueued { input, checkpoint } => self.record_queued(task, input, checkpoint),
            TaskCommand::StartRecording { input, checkpoint } => {
                self.tasks[task.index()].inputs[input as usize].recording.push(checkpoint);
            }
            TaskCommand::StopRecording { input, checkpoint } => {
                self.tasks[task.index()].inputs[input as usize].recording.retain(|&id| id != checkpoint);
            }
            TaskCommand::Persist { checkpoint } => {
                let snapshot = self.tasks[task.index()].captured.remove(&checkpoint).expect("persisting a capture");
                // A savepoint is self-contained: its whole state, never shared files.
                if self.persists_incrementally(task) && !self.is_savepoint(checkpoint) {
                    self.persist_incrementally(task, checkpoint, snapshot, scheduler);
                } else {
                    self.write_object(ObjectName::TaskState { checkpoint, task }, snapshot.encode(), scheduler);
                }
            }
            TaskCommand::Acknowledge { checkpoint } => {
                let delay = self.control_latency();
                let event = Event::AcknowledgeReceived { task, checkpoint };
                self.send_control(ControlMessage::Acknowledgement, task, checkpoint, delay, event, scheduler);
            }
            TaskCommand::SetTimer { at } => {
                scheduler.at(at, Event::ProtocolTimer { task, attempt: self.tasks[task.index()].attempt })
            }
            TaskCommand::Decline { checkpoint } => {
                self.tasks[task.index()].captured.remove(&checkpoint);
                // A protocol declines for task-side reasons (an input ended): not counted.
                self.decline(task, checkpoint, false, scheduler);
            }
        }
    }

    /// Tells the coordinator `task` cannot complete `checkpoint`.
    /// `counted`: a failure Flink's failure manager counts (a failed write), not a task-side
    /// reason (an input ended, a finished task).
    fn decline(&mut self, task: TaskId, checkpoint: CheckpointId, counted: bool, scheduler: &mut Scheduler<Event>) {
        let delay = self.control_latency();
        let event = Event::DeclineReceived { task, checkpoint, counted };
        self.send_control(ControlMessage::Decline, task, checkpoint, delay, event, scheduler);
    }

    fn unblock_all(&mut self, task: TaskId) {
        let runtime = &mut self.tasks[task.index()];
        for (input, slot) in runtime.inputs.iter_mut().enumerate() {
            if !slot.blocked {
                continue;
            }
            slot.blocked = false;
            if !slot.queued && self.network.has_arrived(slot.channel.index()) {
                slot.queued = true;
                runtime.ready.push_back(u32::try_from(input).expect("input index fits u32"));
            }
        }
        self.record(Fact::InputsUnblocked { task });
    }

    fn snapshot(&mut self, task: TaskId, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        self.capture(task, checkpoint, scheduler);
        // A closed output carries nothing more; its receiver treats that input as ended.
        if !self.tasks[task.index()].outputs_closed {
            self.broadcast(task, Message::Barrier(checkpoint), scheduler);
        }
    }

    /// Captures the operator's state for `checkpoint` (atomic with record processing).
    fn capture(&mut self, task: TaskId, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        // A two-phase-commit sink pre-commits first, so that its state holds the pending
        // transaction and the next one.
        self.drive_sink(task, scheduler, |sink, out| sink.pre_commit(checkpoint, out));
        self.flush_direct(task, scheduler);
        let mut state = Vec::new();
        self.tasks[task.index()].logic.snapshot(&mut state);
        let bytes = state.len() as u64;
        self.record(Fact::StateCaptured { task, checkpoint, digest: digest_bytes(&state), bytes });
        if let TaskLogic::Account(account) = &self.tasks[task.index()].logic {
            let balance = account.balance();
            self.record(Fact::BalanceCaptured { task, checkpoint, balance });
        }
        self.step_taken(Step::StateCaptured { task, checkpoint }, scheduler);
        // Records restored as channel state but not yet replayed are still in flight on the
        // task's inputs: a snapshot taken now (a barrier handled on arrival) must keep them,
        // ahead of anything it records from the channels, or a restore from it loses them.
        let channel_state: Vec<(u32, Record)> = self.tasks[task.index()].replay.iter().copied().collect();
        if !channel_state.is_empty() {
            let records = channel_state.len() as u64;
            self.record(Fact::RecoveredStateCarried { task, checkpoint, records });
        }
        let snapshot = TaskSnapshot { state, channel_state, ..TaskSnapshot::default() };
        let runtime = &mut self.tasks[task.index()];
        let previous = runtime.captured.insert(checkpoint, snapshot);
        assert!(previous.is_none(), "{task} captured {checkpoint} twice");
        if runtime.data_ended && runtime.final_checkpoint.is_none() {
            runtime.final_checkpoint = Some(checkpoint);
        }
    }

    /// Captures state, then sends each barrier ahead of its output buffer; the records a
    /// barrier overtakes are kept as output channel state.
    fn snapshot_overtaking(&mut self, task: TaskId, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        self.capture(task, checkpoint, scheduler);
        let channels: Vec<ChannelId> =
            self.topology.tasks[task.index()].outputs.iter().flat_map(|gate| gate.channels.iter().copied()).collect();
        for channel in channels {
            let (sent, overtaken) = self.network.send_priority(
                channel.index(),
                Message::Barrier(checkpoint),
                self.now,
                &mut self.network_stream,
            );
            let message = MessageTag::Barrier { checkpoint };
            self.record(Fact::MessageSent { channel, sequence: sent.sequence, message });
            let attempt = self.tasks[self.receiver_of(channel).index()].attempt;
            scheduler.at(sent.arrival, Event::Arrival { channel, sequence: sent.sequence, attempt });
            let forgets = self.plants.contains(&PlantedBug::ForgetOvertakenOutput);
            for (sequence, message) in overtaken {
                if let (Message::Record(record), false) = (message, forgets) {
                    let snapshot = self.tasks[task.index()].captured.get_mut(&checkpoint).expect("captured above");
                    snapshot.output_state.push((channel.0, record));
                    self.record(Fact::ChannelStateRecorded { task, checkpoint, channel, sequence });
                }
            }
        }
    }

    /// Keeps the records queued in `input`'s buffer as channel state of `checkpoint`.
    fn record_queued(&mut self, task: TaskId, input: u32, checkpoint: CheckpointId) {
        let channel = self.tasks[task.index()].inputs[input as usize].channel;
        // Only what is queued ahead of the barrier being handled, by position in the queue:
        // everything, for a barrier taken on arrival; nothing, for one consumed in order.
        // (By sequence number would be wrong: records a sender's barrier overtook have lower
        // numbers but queue behind it, and the sender keeps them itself.)
        if self.barrier_in_hand == Some(super::BarrierTaken::InOrder) {
            return;
        }
        let queued: Vec<(u64, Record)> = self
            .network
            .arrived(channel.index())
            .filter_map(|&(sequence, message)| match message {
                Message::Record(record) => Some((sequence, record)),
                _ => None,
            })
            .collect();
        for (sequence, record) in queued {
            let snapshot =
                self.tasks[task.index()].captured.get_mut(&checkpoint).expect("recording a captured snapshot");
            snapshot.channel_state.push((input, record));
            self.record(Fact::ChannelStateRecorded { task, checkpoint, channel, sequence });
        }
    }

    /// Starts a storage write. A refused write (storage unavailable) fails at once: a task
    /// declines its checkpoint, the coordinator aborts one whose metadata it was.
    pub(super) fn write_object(&mut self, name: ObjectName, bytes: Vec<u8>, scheduler: &mut Scheduler<Event>) {
        match self.storage.begin_write(name, bytes, self.now, &mut self.storage_stream) {
            Ok((write, durable_at)) => {
                // A task's write carries its writer's attempt; the coordinator's, the job's.
                let attempt = match name {
                    ObjectName::TaskState { task, .. } | ObjectName::SharedFile { task, .. } => {
                        self.tasks[task.index()].attempt
                    }
                    ObjectName::Metadata { .. } => self.attempt,
                };
                scheduler.at(durable_at, Event::WriteDone { write, attempt });
            }
            Err(WriteRefused) => {
                self.record(Fact::WriteFailed { object: name });
                match name {
                    ObjectName::TaskState { checkpoint, task } => self.decline(task, checkpoint, true, scheduler),
                    ObjectName::SharedFile { checkpoint, task, .. } => {
                        self.shared_file_refused(name);
                        self.decline(task, checkpoint, true, scheduler);
                    }
                    ObjectName::Metadata { checkpoint } => {
                        self.tell_coordinator(CoordinatorInput::MetadataWriteFailed { checkpoint }, scheduler);
                    }
                }
            }
        }
    }

    pub(super) fn on_write_done(&mut self, write: WriteId, attempt: Attempt, scheduler: &mut Scheduler<Event>) {
        let Some((object, bytes)) = self.storage.complete_write(write) else {
            return; // Torn by a crash of its writer: it never becomes durable.
        };
        self.record(Fact::ObjectDurable { object, bytes });
        match object {
            ObjectName::TaskState { checkpoint, task } => {
                if self.is_live(task, attempt) {
                    self.run_protocol(task, TaskInput::StatePersisted { checkpoint }, scheduler);
                }
                self.discard_if_abandoned(checkpoint);
            }
            ObjectName::Metadata { checkpoint } => {
                self.tell_coordinator(CoordinatorInput::MetadataDurable { checkpoint }, scheduler);
                self.discard_if_abandoned(checkpoint);
            }
            ObjectName::SharedFile { task, .. } => {
                let live = self.is_live(task, attempt);
                self.on_shared_file_durable(object, live, scheduler);
            }
        }
    }

    pub(super) fn on_trigger_received(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        scheduler: &mut Scheduler<Event>,
    ) {
        let runtime = &self.tasks[task.index()];
        if runtime.status == TaskStatus::Finished || runtime.outputs_closed {
            // A finished source (or an account done paying) cannot send a barrier any more.
            self.decline(task, checkpoint, false, scheduler);
            return;
        }
        self.log_trigger_arriving(task, checkpoint, scheduler);
        self.run_protocol(task, TaskInput::Trigger { checkpoint }, scheduler);
        self.log_trigger_handled(task, checkpoint, scheduler);
    }

    pub(super) fn on_abort_received(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        scheduler: &mut Scheduler<Event>,
    ) {
        self.run_protocol(task, TaskInput::CheckpointAborted { checkpoint }, scheduler);
        // The protocol has abandoned every snapshot up to this one: drop their captures.
        self.tasks[task.index()].captured.retain(|&captured, _| captured > checkpoint);
        self.try_work(task, scheduler);
    }

    pub(super) fn on_acknowledge_received(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        scheduler: &mut Scheduler<Event>,
    ) {
        self.record(Fact::AcknowledgementReceived { task, checkpoint });
        self.tell_coordinator(CoordinatorInput::Acknowledge { task, checkpoint }, scheduler);
        self.step_taken(Step::Acknowledged { task, checkpoint }, scheduler);
    }

    pub(super) fn on_decline_received(
        &mut self,
        task: TaskId,
        checkpoint: CheckpointId,
        counted: bool,
        scheduler: &mut Scheduler<Event>,
    ) {
        self.tell_coordinator(CoordinatorInput::Decline { task, checkpoint, counted }, scheduler);
    }

    pub(super) fn on_trigger_timer(&mut self, generation: u64, scheduler: &mut Scheduler<Event>) {
        self.tell_coordinator(CoordinatorInput::TriggerTimer { generation }, scheduler);
    }

    pub(super) fn on_checkpoint_timeout(&mut self, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        self.tell_coordinator(CoordinatorInput::Timeout { checkpoint }, scheduler);
    }

    /// Hands `input` to the coordinator and performs the commands it returns.
    pub(super) fn tell_coordinator(&mut self, input: CoordinatorInput, scheduler: &mut Scheduler<Event>) {
        let mut commands = std::mem::take(&mut self.scratch.coordinator_commands);
        self.coordinator.handle(self.now, input, &mut commands);
        for command in commands.drain(..) {
            self.execute_coordinator_command(command, scheduler);
        }
        self.scratch.coordinator_commands = commands;
    }

    fn execute_coordinator_command(&mut self, command: CoordinatorCommand, scheduler: &mut Scheduler<Event>) {
        match command {
            CoordinatorCommand::ArmTriggerTimer { at, generation } => {
                scheduler.at(at, Event::TriggerTimer { generation })
            }
            CoordinatorCommand::TriggerSources { checkpoint } if self.config.bank.is_some() => {
                self.note_checkpoint_stage(checkpoint);
                self.record(Fact::CheckpointTriggered { checkpoint });
                // A bank's snapshot starts at one account: a scripted one at once, a drawn
                // one after a control-message latency.
                let delay = if self.next_initiator.is_some() { SimDuration::ZERO } else { self.control_latency() };
                let task = self.initiator();
                let event = Event::TriggerReceived { task, checkpoint, attempt: self.tasks[task.index()].attempt };
                self.send_control(ControlMessage::Trigger, task, checkpoint, delay, event, scheduler);
            }
            CoordinatorCommand::TriggerSources { checkpoint } => self.trigger_sources(checkpoint, scheduler),
            CoordinatorCommand::TriggerSavepoint { checkpoint, stop } => {
                self.savepoints.insert(checkpoint, stop);
                self.record(Fact::SavepointTriggered { checkpoint, stop });
                self.trigger_sources(checkpoint, scheduler);
            }
            CoordinatorCommand::SavepointCompleted { checkpoint, stop } => {
                self.savepoint_completed(checkpoint, stop, scheduler);
            }
            CoordinatorCommand::ArmTimeout { checkpoint, at } => {
                scheduler.at(at, Event::CheckpointTimeout { checkpoint })
            }
            CoordinatorCommand::WriteMetadata { checkpoint } => {
                let mut metadata = CheckpointMetadata::for_tasks(checkpoint, &self.running_tasks());
                metadata.enumerator_state = self.enumerator_state_for(checkpoint);
                self.write_object(ObjectName::Metadata { checkpoint }, metadata.encode(), scheduler);
                if self.plants.contains(&PlantedBug::NotifyBeforeMetadataDurable) {
                    // Sinks commit a checkpoint that may never complete.
                    self.notify_tasks(ControlMessage::CompletionNotice, checkpoint, scheduler);
                }
                self.step_taken(Step::MetadataWriteBegun { checkpoint }, scheduler);
            }
            CoordinatorCommand::Completed { checkpoint, oldest_retained } => {
                self.stats.checkpoints_completed += 1;
                self.record(Fact::CheckpointCompleted { checkpoint });
                // Checkpoints older than the retained ones are deleted (and with them the
                // leftovers of older aborted ones); recovery restores only the latest.
                // A savepoint's objects are the user's: never deleted with the checkpoints'.
                let kept = self.completed_savepoints.clone();
                self.delete_objects_where(|name| {
                    object_checkpoint(name).is_some_and(|owner| owner < oldest_retained && !kept.contains(&owner))
                });
                // Shared files go only when no checkpoint references them any more.
                self.release_subsumed(oldest_retained);
                self.close_bank_if_done(scheduler);
                self.log_checkpoint_completed(checkpoint, scheduler);
                self.log_checkpoint_ended(checkpoint, scheduler);
                self.notify_tasks(ControlMessage::CompletionNotice, checkpoint, scheduler);
                self.step_taken(Step::Completed { checkpoint }, scheduler);
            }
            CoordinatorCommand::FailJob { failures } => {
                self.record(Fact::CheckpointFailuresExceeded { failures });
                self.fail_over(scheduler);
            }
            CoordinatorCommand::Aborted { checkpoint, reason } => {
                if self.savepoints.get(&checkpoint) == Some(&true) {
                    self.rescale_on_stop = None; // A failed stop leaves the job as it was.
                }
                self.stats.checkpoints_aborted += 1;
                self.record(Fact::CheckpointAborted { checkpoint, reason });
                self.close_bank_if_done(scheduler);
                self.log_checkpoint_ended(checkpoint, scheduler);
                self.release_aborted(checkpoint);
                self.discard_if_abandoned(checkpoint);
                self.notify_tasks(ControlMessage::AbortNotice, checkpoint, scheduler);
            }
        }
    }

    /// Sends the trigger of `checkpoint` (or a savepoint) to every running source.
    fn trigger_sources(&mut self, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        self.note_checkpoint_stage(checkpoint);
        self.record(Fact::CheckpointTriggered { checkpoint });
        self.log_checkpoint_triggered(checkpoint, scheduler);
        for task in self.running_tasks() {
            if self.roles[task.index()] == TaskRole::Source {
                let delay = self.control_latency();
                let event = Event::TriggerReceived { task, checkpoint, attempt: self.tasks[task.index()].attempt };
                self.send_control(ControlMessage::Trigger, task, checkpoint, delay, event, scheduler);
            }
        }
    }

    /// Sends every running task a notice (`kind`: abort or completion) of `checkpoint`;
    /// returns how many are on their way (lost ones are not).
    pub(super) fn notify_tasks(
        &mut self,
        kind: ControlMessage,
        checkpoint: CheckpointId,
        scheduler: &mut Scheduler<Event>,
    ) -> usize {
        let mut sent = 0;
        if self.job != super::JobStatus::Running {
            return sent;
        }
        for index in 0..self.tasks.len() {
            if matches!(self.tasks[index].status, TaskStatus::Down | TaskStatus::Inactive) {
                continue; // Its region failed over (it hears of nothing until restored), or a
                // rescale retired it.
            }
            let delay = self.control_latency();
            let task = TaskId::from_index(index);
            let attempt = self.tasks[index].attempt;
            let event = match kind {
                ControlMessage::CompletionNotice => Event::CompletionReceived { task, checkpoint, attempt },
                _ => Event::AbortReceived { task, checkpoint, attempt },
            };
            if self.send_control(kind, task, checkpoint, delay, event, scheduler) {
                sent += 1;
            }
        }
        sent
    }
}

impl SimWorld {
    /// Deletes the task states and metadata of `checkpoint` if it will never complete —
    /// aborted, or lost with a crashed coordinator — as Flink discards an aborted pending
    /// checkpoint's state; a write that lands for one later is deleted as it lands.
    fn discard_if_abandoned(&mut self, checkpoint: CheckpointId) {
        if self.coordinator.is_pending(checkpoint)
            || self.coordinator.is_retained(checkpoint)
            || self.completed_savepoints.contains(&checkpoint)
        {
            return;
        }
        self.delete_objects_where(|name| object_checkpoint(name) == Some(checkpoint));
    }

    /// Deletes every stored object `doomed` selects, recording each deletion.
    pub(super) fn delete_objects_where(&mut self, doomed: impl Fn(&ObjectName) -> bool) {
        for object in self.storage.delete_where(doomed) {
            self.record(Fact::ObjectDeleted { object });
        }
    }
}

/// The checkpoint a task-state or metadata object belongs to; `None` for a shared file,
/// which later checkpoints may reference too.
fn object_checkpoint(name: &ObjectName) -> Option<CheckpointId> {
    match *name {
        ObjectName::TaskState { checkpoint, .. } | ObjectName::Metadata { checkpoint } => Some(checkpoint),
        ObjectName::SharedFile { .. } => None,
    }
}
