//! Crash and restart. Under the `region` failover strategy a failed task fails over only
//! its pipelined region (`dataflow/regions.rs`): the region's tasks go down, the rest keep
//! running, and at the region's restart its tasks are restored and its channels emptied.
//! Under `full` — and whenever the failed regions are the whole job, the coordinator
//! crashed, or too many checkpoints failed — the whole job fails over: every task is
//! restored and every channel emptied. Either way the restart strategy decides whether and
//! when the restart comes (or fails the job for good).

use super::faults::Step;
use super::tasks::TaskStatus;
use super::{Event, JobStatus, SimWorld};
use crate::dataflow::graph::ChannelSpec;
use crate::dataflow::record::Message;
use crate::kernel::Scheduler;
use crate::kernel::ids::{Attempt, ChannelId, CheckpointId, TaskId};
use crate::kernel::time::SimDuration;
use crate::kernel::trace::{Fact, ObjectName, digest_bytes};
use crate::plant::PlantedBug;
use crate::protocol::coordinator::CoordinatorInput;
use crate::recovery::restart::{RestartDecision, Restarts};
use crate::recovery::snapshot_object::TaskSnapshot;
use crate::recovery::{CheckpointMetadata, FailoverStrategy, RestoreAction, plan_restore};

impl SimWorld {
    /// `failed` tasks failed (crashed, or lost a connection): their regions fail over, or
    /// the whole job does.
    pub(super) fn fail_tasks(&mut self, failed: &[TaskId], scheduler: &mut Scheduler<Event>) {
        match self.regions_to_fail(failed) {
            Some(regions) => self.fail_over_regions(&regions, scheduler),
            None => self.fail_over(scheduler),
        }
    }

    /// The regions a failure of `failed` restarts, or `None` for the whole job: under full
    /// failover, while the whole job is restarting, or when they are every region anyway.
    fn regions_to_fail(&self, failed: &[TaskId]) -> Option<Vec<u32>> {
        if self.config.recovery.failover == FailoverStrategy::Full
            || self.job != JobStatus::Running
            || self.latest_checkpoint_is_of_another_stage()
        {
            return None;
        }
        let mut regions: Vec<u32> = failed.iter().map(|&task| self.regions.of_task(task)).collect();
        regions.sort_unstable();
        regions.dedup();
        (regions.len() < self.regions.count()).then_some(regions)
    }

    /// Region failover: the tasks of `regions` go down (pending checkpoints abort) while the
    /// others keep running; the restart strategy decides when the regions restart — each
    /// on its own, so that a later failure of one postpones only that one.
    fn fail_over_regions(&mut self, regions: &[u32], scheduler: &mut Scheduler<Event>) {
        let decision = self.restarts.on_failure(self.now, &mut self.restart_stream);
        self.stats.recoveries += 1;
        self.attempt = Attempt(self.attempt.0 + 1);
        for &region in regions {
            self.record(Fact::RegionFailedOver { region, attempt: self.attempt });
            for &task in self.regions.members(region) {
                let runtime = &mut self.tasks[task.index()];
                runtime.finished = false; // It finishes again after its restore, if it does.
                runtime.status = TaskStatus::Down;
                runtime.attempt = self.attempt;
            }
            let members = self.regions.members(region).to_vec();
            self.log_readers_failed(&members, scheduler);
        }
        self.tell_coordinator(CoordinatorInput::RegionFailed, scheduler);
        match decision {
            RestartDecision::RestartAfter(delay) => {
                for &region in regions {
                    scheduler.after(delay, Event::RegionRestart { region, attempt: self.attempt });
                }
            }
            RestartDecision::GiveUp => {
                self.job = JobStatus::Failed;
                self.record(Fact::JobFailed { failures: self.stats.recoveries });
            }
        }
    }

    /// Restarts `region` from the latest completed checkpoint — unless it failed again
    /// since (`attempt` is no longer its tasks'), or the whole job failed over meanwhile.
    pub(super) fn on_region_restart(&mut self, region: u32, attempt: Attempt, scheduler: &mut Scheduler<Event>) {
        let members = self.regions.members(region).to_vec();
        if self.job != JobStatus::Running || members.iter().any(|task| self.tasks[task.index()].attempt != attempt) {
            return;
        }
        let in_region = |spec: &ChannelSpec| members.contains(&spec.sender);
        if let Some(channel) = self.first_cut_channel(in_region) {
            // Deploying across a partition fails at once: another failure for the strategy.
            self.record(Fact::ChannelBroken { channel });
            self.fail_over_regions(&[region], scheduler);
            return;
        }
        let latest = self.coordinator.latest_completed();
        self.record(Fact::RegionRestarted { region, attempt, checkpoint: latest });
        self.step_taken(Step::Restarted, scheduler);
        let metadata = if self.plants.contains(&PlantedBug::RegionRestartWithoutState) {
            None // FLINK-10712: the region is redeployed with empty state.
        } else {
            self.latest_metadata()
        };
        self.reset_channels(|spec| members.contains(&spec.sender));
        let plan = plan_restore(metadata.as_ref(), &self.roles, &self.plants);
        for &task in &members {
            self.restore_task(task, plan[task.index()], metadata.as_ref());
        }
        self.resend_output_state(&members, scheduler);
        self.start_sinks(&members, scheduler);
        // After the restored output went out: a reader given work now emits behind it.
        let restored = metadata.as_ref().map(|metadata| metadata.checkpoint);
        self.log_readers_restored(&members, super::log::ReaderRestart::Alone { restored }, scheduler);
        let all_running = self.tasks.iter().all(|runtime| runtime.status != TaskStatus::Down);
        let closed_tasks = self.tasks.iter().filter(|runtime| runtime.status == TaskStatus::Finished).count();
        self.tell_coordinator(CoordinatorInput::RegionRestarted { all_running, closed_tasks }, scheduler);
        for &task in &members {
            self.try_work(task, scheduler);
        }
    }

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
        if self.plants.contains(&PlantedBug::ReuseCheckpointIdsAfterFailover) {
            self.coordinator.rewind_checkpoint_ids();
        }
        if self.plants.contains(&PlantedBug::DropCheckpointsUnreadableAtRecovery)
            && self.storage.is_unavailable(self.now)
        {
            // FLINK-7783: the completed checkpoints it cannot read now are dropped for good.
            self.coordinator.forget_completed();
        }
        self.restarts = Restarts::new(self.config.recovery.strategy);
        scheduler.after(SimDuration::ZERO, Event::Restart { attempt: self.attempt });
    }

    /// A failure: every task of the current attempt is gone and pending checkpoints abort.
    fn stop_the_job(&mut self, scheduler: &mut Scheduler<Event>) {
        self.stats.recoveries += 1;
        self.halt_the_job(scheduler);
    }

    /// Every task of the current attempt is gone and pending checkpoints abort (a failure,
    /// or a rescale's stop).
    pub(super) fn halt_the_job(&mut self, scheduler: &mut Scheduler<Event>) {
        if self.job == JobStatus::Running {
            self.tell_coordinator(CoordinatorInput::JobFailed, scheduler);
        }
        self.attempt = Attempt(self.attempt.0 + 1);
        self.job = JobStatus::Restarting;
        self.stopping = None; // A stop underway is overtaken: the restart loads the savepoint.
        for runtime in &mut self.tasks {
            if runtime.status != TaskStatus::Inactive {
                runtime.status = TaskStatus::Down;
            }
            runtime.attempt = self.attempt;
        }
        let every_task = self.running_tasks();
        self.log_readers_failed(&every_task, scheduler);
    }

    pub(super) fn on_restart(&mut self, scheduler: &mut Scheduler<Event>) {
        assert_eq!(self.job, JobStatus::Restarting, "a restart needs a failed job");
        self.enter_wanted_stage();
        if let Some(channel) = self.first_cut_channel(|_| true) {
            // Deploying across a partition fails at once: another failure for the strategy.
            self.record(Fact::ChannelBroken { channel });
            self.fail_over(scheduler);
            return;
        }
        let latest = self.coordinator.latest_completed();
        let metadata = self.latest_metadata();
        self.record(Fact::JobRestarted { attempt: self.attempt, checkpoint: latest });
        self.step_taken(Step::Restarted, scheduler);
        self.reset_channels(|_| true);
        let plan = plan_restore(metadata.as_ref(), &self.roles, &self.plants);
        let every_task = self.running_tasks();
        for &task in &every_task {
            self.restore_task(task, plan[task.index()], metadata.as_ref());
        }
        if let Some(metadata) = metadata.as_ref().filter(|metadata| self.stage_of(metadata.checkpoint) != self.stage) {
            self.readdress_carried_records(metadata);
        }
        self.job = JobStatus::Running;
        self.resend_output_state(&every_task, scheduler);
        self.start_sinks(&every_task, scheduler);
        // After the restored output went out: a reader given work now emits behind it (a
        // watermark sent ahead of a restored record would make that record late).
        self.log_job_restarted(metadata.as_ref(), scheduler);
        self.source_records_since_milestone = 0;
        self.tell_coordinator(CoordinatorInput::JobRestarted, scheduler);
        for task in every_task {
            self.try_work(task, scheduler);
        }
    }

    /// The metadata of the latest completed checkpoint, read back from storage.
    fn latest_metadata(&self) -> Option<CheckpointMetadata> {
        self.coordinator.latest_completed().map(|checkpoint| {
            let bytes =
                self.storage.read(&ObjectName::Metadata { checkpoint }).expect("completed metadata is retained");
            CheckpointMetadata::decode(bytes).expect("metadata written by the harness decodes")
        })
    }

    /// Empties every channel `which` selects, dropping what the failed attempt left in it.
    fn reset_channels(&mut self, which: impl Fn(&ChannelSpec) -> bool) {
        for channel in 0..self.network.channel_count() {
            if !which(&self.topology.channels[channel]) {
                continue;
            }
            let discarded = self.network.reset(channel);
            if discarded > 0 {
                self.record(Fact::ChannelReset { channel: ChannelId::from_index(channel), discarded });
            }
        }
    }

    /// Sends the restored output channel state of `tasks` first, ahead of anything they
    /// produce anew.
    fn resend_output_state(&mut self, tasks: &[TaskId], scheduler: &mut Scheduler<Event>) {
        for &task in tasks {
            for (channel, record) in std::mem::take(&mut self.tasks[task.index()].resend) {
                self.send(task, channel, Message::Record(record), scheduler);
            }
        }
    }

    fn restore_task(&mut self, task: TaskId, action: RestoreAction, metadata: Option<&CheckpointMetadata>) {
        let runtime = &mut self.tasks[task.index()];
        runtime.reset_for_restart(&self.protocol_choice, &self.plants);
        let fact = match action {
            RestoreAction::FromKeyGroups => {
                let metadata = metadata.expect("only a restore from a checkpoint restores key groups");
                self.restore_key_groups(task, metadata);
                None
            }
            RestoreAction::FromObject(name) => {
                let bytes = self.storage.read(&name).expect("a completed checkpoint's state objects are retained");
                let snapshot = TaskSnapshot::decode(bytes).expect("an object written by the harness decodes");
                let ObjectName::TaskState { checkpoint: restored, .. } = name else {
                    unreachable!("tasks restore from task-state objects");
                };
                let state = self.state_to_restore(task, restored, &snapshot.state);
                let runtime = &mut self.tasks[task.index()];
                // Only a planted recovery bug hands a task state it did not write (a
                // neighbour's, of another shape), and only a lost shared file leaves it none:
                // the task then starts empty, and the checks see the wrong digest and the
                // lost state.
                let restored = state.as_deref().is_some_and(|state| runtime.logic.as_operator().restore(state).is_ok());
                if !restored {
                    runtime.logic.as_operator().reset();
                }
                runtime.replay = snapshot.channel_state.iter().copied().collect();
                runtime.resend =
                    snapshot.output_state.iter().map(|&(channel, record)| (ChannelId(channel), record)).collect();
                let ObjectName::TaskState { checkpoint, .. } = name else {
                    unreachable!("tasks restore from task-state objects");
                };
                let digest = state.as_deref().map_or(0, digest_bytes);
                Some(Fact::TaskRestored { task, checkpoint: Some(checkpoint), digest })
            }
            RestoreAction::Fresh => {
                runtime.logic.as_operator().reset();
                self.reset_incremental(task, None);
                Some(Fact::TaskRestored { task, checkpoint: None, digest: 0 })
            }
            RestoreAction::KeepLive => None,
        };
        if let Some(fact) = fact {
            self.record(fact);
        }
    }
}

impl SimWorld {
    /// The state bytes `task` restores from its state object's `stored` bytes: those bytes,
    /// or — under the incremental backend — its key groups read back from their shared files
    /// (`None` if one is missing). Resets the task's incremental base to what it restored.
    fn state_to_restore(&mut self, task: TaskId, checkpoint: CheckpointId, stored: &[u8]) -> Option<Vec<u8>> {
        if !self.persists_incrementally(task) {
            return Some(stored.to_vec());
        }
        if self.is_savepoint(checkpoint) {
            // A savepoint holds the whole state; the next checkpoint writes every group.
            self.reset_incremental(task, None);
            return Some(stored.to_vec());
        }
        let handles = crate::recovery::incremental::StateHandles::decode(stored);
        match handles.and_then(|handles| self.read_shared_state(task, &handles)) {
            Some((state, files)) => {
                self.reset_incremental(task, Some(files));
                Some(state)
            }
            None => {
                self.reset_incremental(task, None);
                None
            }
        }
    }
}
