//! Applying the fault plan: each fault strikes at its time, or — armed at its time — right
//! after the protocol step it waits for; control messages the plan loses; the record of what
//! struck.
//!
//! Crashes fail the job over (`failover.rs`); a coordinator crash also replaces the
//! coordinator with one recovered from the durable metadata store. Storage and network
//! faults open windows in `storage/` and `net/`. The run heals — fact `FaultsLifted` —
//! when every fault of the plan has struck, every window has closed and every lost or
//! delayed control message it promised has been lost or delayed; a phase-triggered fault
//! whose step never comes (or messages that are never sent) keeps the run from healing.

use super::tasks::TaskStatus;
use super::{Event, JobStatus, SimWorld};
use crate::dataflow::graph::ChannelSpec;
use crate::faults::{ControlMessage, Fault, Phase};
use crate::kernel::Scheduler;
use crate::kernel::ids::{ChannelId, CheckpointId, TaskId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::{Fact, ObjectName};
use crate::recovery::FailoverStrategy;

/// What the plan still does to the control messages of one kind, for one effect (lose or
/// delay).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ControlEffect {
    /// Messages still to lose or delay.
    remaining: u32,
    /// The extra latency of a delay.
    extra: SimDuration,
    /// Faults that contributed: all are over when `remaining` reaches zero.
    faults: u32,
}

impl ControlEffect {
    /// Applies the effect to one message, if any remains: its extra latency, and how many
    /// faults are over with it.
    fn take_one(&mut self) -> Option<(SimDuration, u32)> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let lifted = if self.remaining == 0 { std::mem::take(&mut self.faults) } else { 0 };
        Some((self.extra, lifted))
    }
}

/// The control-message faults in force, per `ControlMessage` kind.
#[derive(Clone, Debug, Default)]
pub(super) struct ControlFaults {
    lose: [ControlEffect; ControlMessage::ALL.len()],
    delay: [ControlEffect; ControlMessage::ALL.len()],
}

/// An active network partition between two workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cut {
    a: u32,
    b: u32,
    one_way: bool,
    until: SimTime,
}

impl Cut {
    /// Whether a channel from a task on worker `from` to one on worker `to` crosses it.
    fn separates(&self, from: u32, to: u32) -> bool {
        (from == self.a && to == self.b) || (!self.one_way && from == self.b && to == self.a)
    }
}

/// A protocol step that just happened, as phase-triggered faults wait for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    StateCaptured { task: TaskId, checkpoint: CheckpointId },
    Acknowledged { task: TaskId, checkpoint: CheckpointId },
    MetadataWriteBegun { checkpoint: CheckpointId },
    Completed { checkpoint: CheckpointId },
    InputBlocked { task: TaskId, checkpoint: CheckpointId },
    Restarted,
}

impl SimWorld {
    /// Schedules every fault of the plan: a timed one strikes at its time, a phase-triggered
    /// one is armed then.
    pub(super) fn schedule_faults(&mut self, scheduler: &mut Scheduler<Event>) {
        for (index, fault) in self.config.faults.faults.iter().enumerate() {
            let index = u32::try_from(index).expect("fault count fits u32");
            match fault.after {
                None => scheduler.at(fault.at, Event::Fault { index }),
                Some(_) => scheduler.at(fault.at, Event::ArmFault { index }),
            }
        }
    }

    pub(super) fn on_arm_fault(&mut self, index: u32) {
        self.armed_faults.push(index);
    }

    /// One more fault of the plan is over (struck, or its window closed).
    pub(super) fn fault_lifted(&mut self) {
        self.faults_outstanding -= 1;
        if self.faults_outstanding == 0 {
            self.record(Fact::FaultsLifted);
        }
    }

    /// Strikes, right after this event, every armed fault waiting for `step`.
    #[inline]
    pub(super) fn step_taken(&mut self, step: Step, scheduler: &mut Scheduler<Event>) {
        if self.armed_faults.is_empty() {
            return;
        }
        let task_id = |task| self.task_named(task);
        let plan = &self.config.faults.faults;
        let matching: Vec<u32> = self
            .armed_faults
            .iter()
            .copied()
            .filter(|&index| {
                let Some(phase) = plan[index as usize].after else { return false };
                match (phase, step) {
                    (Phase::StateCaptured { task, checkpoint }, Step::StateCaptured { task: at, checkpoint: id })
                    | (Phase::Acknowledged { task, checkpoint }, Step::Acknowledged { task: at, checkpoint: id }) => {
                        task_id(task) == Some(at) && checkpoint == id
                    }
                    (Phase::MetadataWriteBegun { checkpoint }, Step::MetadataWriteBegun { checkpoint: id })
                    | (Phase::Completed { checkpoint }, Step::Completed { checkpoint: id }) => checkpoint == id,
                    (Phase::InputBlocked { task, checkpoint }, Step::InputBlocked { task: at, checkpoint: id }) => {
                        task_id(task) == Some(at) && checkpoint == id
                    }
                    (Phase::Restarted, Step::Restarted) => true,
                    _ => false,
                }
            })
            .collect();
        for index in matching {
            self.armed_faults.retain(|&armed| armed != index);
            scheduler.at(self.now, Event::Fault { index });
        }
    }

    pub(super) fn on_fault(&mut self, index: u32, scheduler: &mut Scheduler<Event>) {
        let scheduled = self.config.faults.faults[index as usize];
        let window = scheduled.lifted_at().since(scheduled.at);
        match scheduled.fault {
            Fault::CrashTask { task } => {
                // After a rescale, `count[3]` may name no subtask: the crash finds nobody.
                let Some(task) = self.task_named(task) else { return };
                self.record(Fact::TaskCrashed { task });
                self.tear_writes_of(
                    |name| matches!(name, ObjectName::TaskState { task: writer, .. } if *writer == task),
                );
                self.fail_tasks(&[task], scheduler);
            }
            Fault::CrashCoordinator => {
                self.record(Fact::CoordinatorCrashed);
                self.tear_writes_of(|name| matches!(name, ObjectName::Metadata { .. }));
                self.fail_over_to_new_coordinator(scheduler);
            }
            Fault::StorageUnavailable { duration } => {
                self.record(Fact::FaultInjected { index });
                self.storage.make_unavailable(self.now.after(duration));
            }
            Fault::SlowStorage { factor, duration } => {
                self.record(Fact::FaultInjected { index });
                self.storage.make_slow(factor, self.now.after(duration));
            }
            Fault::LoseControlMessages { kind, count } => {
                self.record(Fact::FaultInjected { index });
                let effect = &mut self.control_faults.lose[kind as usize];
                effect.remaining += count;
                effect.faults += 1;
            }
            Fault::LatencySpike { from, to, extra, duration } => {
                self.record(Fact::FaultInjected { index });
                let (from, to) = (self.task_named(from), self.task_named(to));
                let until = self.now.after(duration);
                for (channel, spec) in self.topology.channels.iter().enumerate() {
                    if Some(spec.sender) == from && Some(spec.receiver) == to {
                        self.network.spike(channel, extra, until);
                    }
                }
            }
            Fault::CrashWorker { worker } => self.crash_worker(worker, scheduler),
            Fault::Partition { a, b, one_way, duration } => {
                self.record(Fact::FaultInjected { index });
                self.partitions.push(Cut { a, b, one_way, until: self.now.after(duration) });
                if self.job == JobStatus::Running {
                    self.break_cut_connections(scheduler);
                }
            }
            Fault::ExternalUnavailable { duration } => {
                self.record(Fact::FaultInjected { index });
                self.external.make_unavailable(self.now.after(duration));
            }
            Fault::AbortTransactions => {
                self.record(Fact::FaultInjected { index });
                self.abort_open_transactions();
            }
            Fault::DelayControlMessages { kind, count, extra } => {
                self.record(Fact::FaultInjected { index });
                let effect = &mut self.control_faults.delay[kind as usize];
                // Counts add up, as lost messages' do; the latest fault sets the extra latency.
                effect.remaining += count;
                effect.extra = extra;
                effect.faults += 1;
            }
        }
        match scheduled.fault {
            // Over once its messages have been lost or delayed (see `send_control`).
            Fault::LoseControlMessages { .. } | Fault::DelayControlMessages { .. } => {}
            _ if window == SimDuration::ZERO => self.fault_lifted(),
            _ => scheduler.after(window, Event::FaultLifted),
        }
    }

    /// Every task on `worker` dies at once: one failover.
    fn crash_worker(&mut self, worker: u32, scheduler: &mut Scheduler<Event>) {
        self.record(Fact::WorkerCrashed { worker });
        let on_worker: Vec<bool> =
            (0..self.tasks.len()).map(|index| self.worker_of(TaskId::from_index(index)) == worker).collect();
        let crashed: Vec<TaskId> = (0..on_worker.len())
            .filter(|&index| on_worker[index] && self.tasks[index].status != TaskStatus::Inactive)
            .map(TaskId::from_index)
            .collect();
        for &task in &crashed {
            self.record(Fact::TaskCrashed { task });
        }
        self.tear_writes_of(|name| matches!(name, ObjectName::TaskState { task, .. } if on_worker[task.index()]));
        if !crashed.is_empty() {
            self.fail_tasks(&crashed, scheduler);
        }
    }

    /// A writer crashed: its writes in progress are left torn in storage.
    fn tear_writes_of(&mut self, writer: impl Fn(&ObjectName) -> bool) {
        for object in self.storage.tear_pending(writer) {
            self.record(Fact::ObjectTorn { object });
        }
    }

    /// The first channel among those `which` selects that an active partition cuts, if any
    /// (expired partitions are dropped first).
    pub(super) fn first_cut_channel(&mut self, which: impl Fn(&ChannelSpec) -> bool) -> Option<ChannelId> {
        self.drop_expired_partitions();
        let cut = self.topology.channels.iter().position(|spec| spec.in_use() && which(spec) && self.is_cut(spec));
        cut.map(ChannelId::from_index)
    }

    fn drop_expired_partitions(&mut self) {
        let now = self.now;
        self.partitions.retain(|cut| cut.until > now);
    }

    /// Whether an active partition separates the workers of the channel's two ends.
    fn is_cut(&self, spec: &ChannelSpec) -> bool {
        let (from, to) = (self.worker_of(spec.sender), self.worker_of(spec.receiver));
        self.partitions.iter().any(|cut| cut.separates(from, to))
    }

    /// A broken connection fails the tasks on both ends: each running region (under full
    /// failover, the job) with a channel an active partition cuts fails over, its first cut
    /// channel recorded as broken.
    fn break_cut_connections(&mut self, scheduler: &mut Scheduler<Event>) {
        self.drop_expired_partitions();
        let full = self.config.recovery.failover == FailoverStrategy::Full;
        let mut units_seen = Vec::new();
        let mut broken = Vec::new();
        for (index, spec) in self.topology.channels.iter().enumerate() {
            let unit = if full { 0 } else { self.regions.of_task(spec.sender) };
            let down = self.tasks[spec.sender.index()].status == TaskStatus::Down;
            if !spec.in_use() || down || units_seen.contains(&unit) || !self.is_cut(spec) {
                continue;
            }
            units_seen.push(unit);
            broken.push(ChannelId::from_index(index));
        }
        let mut failed = Vec::new();
        for channel in broken {
            self.record(Fact::ChannelBroken { channel });
            let spec = self.topology.channels[channel.index()];
            failed.extend([spec.sender, spec.receiver]);
        }
        if !failed.is_empty() {
            self.fail_tasks(&failed, scheduler);
        }
    }

    /// Sends a control message after `delay` — unless the plan loses it (then `false`) or
    /// delays it. The latency is drawn either way, so a lost message shifts no later draw.
    pub(super) fn send_control(
        &mut self,
        kind: ControlMessage,
        task: TaskId,
        checkpoint: CheckpointId,
        delay: SimDuration,
        event: Event,
        scheduler: &mut Scheduler<Event>,
    ) -> bool {
        if let Some((_, lifted)) = self.control_faults.lose[kind as usize].take_one() {
            self.record(Fact::ControlMessageLost { kind: kind as u8, task, checkpoint });
            (0..lifted).for_each(|_| self.fault_lifted());
            return false;
        }
        let delay = match self.control_faults.delay[kind as usize].take_one() {
            Some((extra, lifted)) => {
                self.record(Fact::ControlMessageDelayed { kind: kind as u8, task, checkpoint });
                (0..lifted).for_each(|_| self.fault_lifted());
                delay.plus(extra)
            }
            None => delay,
        };
        scheduler.after(delay, event);
        true
    }
}
