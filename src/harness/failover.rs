//! Crash and restart: a failed task fails the whole job over; the restart strategy decides
//! whether and when it restarts (or fails it for good); at the restart every task is
//! restored as recovery plans it, and every channel is emptied.

use super::tasks::TaskStatus;
use super::{Event, JobStatus, SimWorld};
use crate::dataflow::record::Message;
use crate::kernel::Scheduler;
use crate::kernel::ids::{Attempt, ChannelId, TaskId};
use crate::kernel::time::SimDuration;
use crate::kernel::trace::{Fact, ObjectName, digest_bytes};
use crate::protocol::coordinator::CoordinatorInput;
use crate::recovery::restart::{RestartDecision, Restarts};
use crate::recovery::snapshot_object::TaskSnapshot;
use crate::recovery::{CheckpointMetadata, RestoreAction, plan_restore};

impl SimWorld {
    /// Fails the job over: every task of the current attempt is gone, pending checkpoints
    /// abort, and the restart strategy decides: a restart after its delay (a failure during a
    /// restart postpones it), or the job fails for good.
    pub(super) fn fail_over(&mut self, scheduler: &mut Scheduler<Event>) {
        let decision = self.restarts.on_failure(self.now, &mut self.restart_stream);
        self.stop_the_job(scheduler);
        match decision {
            RestartDecision::RestartAfter(delay) => scheduler.after(delay, Event::Restart { attempt: self.attempt }),
            RestartDecision::GiveUp => {
                self.job = JobStatus::Failed;
                self.record(Fact::JobFailed { failures: self.stats.recoveries });
            }
        }
    }

    /// The coordinator crashed: a new one redeploys the job at once from the durable store,
    /// with a fresh restart strategy (as a new Flink JobMaster does), so the crash does not
    /// count against the strategy.
    pub(super) fn fail_over_to_new_coordinator(&mut self, scheduler: &mut Scheduler<Event>) {
        self.stop_the_job(scheduler);
        self.coordinator = self.coordinator.recovered();
        self.restarts = Restarts::new(self.config.recovery.strategy);
        scheduler.after(SimDuration::ZERO, Event::Restart { attempt: self.attempt });
    }

    /// Every task of the current attempt is gone and pending checkpoints abort.
    fn stop_the_job(&mut self, scheduler: &mut Scheduler<Event>) {
        if self.job == JobStatus::Running {
            self.tell_coordinator(CoordinatorInput::JobFailed, scheduler);
        }
        self.stats.recoveries += 1;
        self.attempt = Attempt(self.attempt.0 + 1);
        self.job = JobStatus::Restarting;
        for runtime in &mut self.tasks {
            runtime.status = TaskStatus::Down;
        }
    }

    pub(super) fn on_restart(&mut self, scheduler: &mut Scheduler<Event>) {
        assert_eq!(self.job, JobStatus::Restarting, "a restart needs a failed job");
        if self.break_cut_channel() {
            // Deploying across a partition fails at once: another failure for the strategy.
            self.fail_over(scheduler);
            return;
        }
        let latest = self.coordinator.latest_completed();
        let metadata = latest.map(|checkpoint| {
            let bytes =
                self.storage.read(&ObjectName::Metadata { checkpoint }).expect("completed metadata is retained");
            CheckpointMetadata::decode(bytes).expect("metadata written by the harness decodes")
        });
        self.record(Fact::JobRestarted { attempt: self.attempt, checkpoint: latest });
        for channel in 0..self.network.channel_count() {
            let discarded = self.network.reset(channel);
            if discarded > 0 {
                self.record(Fact::ChannelReset { channel: ChannelId::from_index(channel), discarded });
            }
        }
        let plan = plan_restore(metadata.as_ref(), &self.roles, &self.plants);
        for (index, action) in plan.into_iter().enumerate() {
            self.restore_task(TaskId::from_index(index), action);
        }
        self.job = JobStatus::Running;
        // Output channel state goes out first, ahead of anything the tasks produce anew.
        for index in 0..self.tasks.len() {
            let task = TaskId::from_index(index);
            for (channel, record) in std::mem::take(&mut self.tasks[index].resend) {
                self.send(task, channel, Message::Record(record), scheduler);
            }
        }
        self.finished_tasks = 0;
        self.source_records_since_milestone = 0;
        self.tell_coordinator(CoordinatorInput::JobRestarted, scheduler);
        for task in 0..self.tasks.len() {
            self.try_work(TaskId::from_index(task), scheduler);
        }
    }

    fn restore_task(&mut self, task: TaskId, action: RestoreAction) {
        let runtime = &mut self.tasks[task.index()];
        runtime.reset_for_restart(&self.protocol_choice, &self.plants);
        let fact = match action {
            RestoreAction::FromObject(name) => {
                let bytes = self.storage.read(&name).expect("a completed checkpoint's state objects are retained");
                let snapshot = TaskSnapshot::decode(bytes).expect("an object written by the harness decodes");
                runtime.logic.as_operator().restore(&snapshot.state).expect("state captured by the harness decodes");
                runtime.replay = snapshot.channel_state.iter().copied().collect();
                runtime.resend =
                    snapshot.output_state.iter().map(|&(channel, record)| (ChannelId(channel), record)).collect();
                let ObjectName::TaskState { checkpoint, .. } = name else {
                    unreachable!("tasks restore from task-state objects");
                };
                Some(Fact::TaskRestored { task, checkpoint: Some(checkpoint), digest: digest_bytes(&snapshot.state) })
            }
            RestoreAction::Fresh => {
                runtime.logic.as_operator().reset();
                Some(Fact::TaskRestored { task, checkpoint: None, digest: 0 })
            }
            RestoreAction::KeepLive => None,
        };
        if let Some(fact) = fact {
            self.record(fact);
        }
    }
}
