//! The checkpoint coordinator: when to trigger, when a checkpoint completes, when it aborts.
//!
//! A sans-IO state machine like the task protocols. It triggers checkpoint `n` every
//! interval (and, optionally, every N source records) while the job runs and no task has
//! closed (a dataflow task whose data ended keeps taking checkpoints until its final one
//! completes, so the job never stops triggering before it ends), within the max-concurrent
//! limit; collects one acknowledgement per task;
//! asks for the metadata to be written once all are in; and completes the checkpoint only
//! when the metadata is durable. Timeouts, declines and a job or region failover abort
//! pending checkpoints (while a failed region is down, triggers are skipped); a completion subsumes older pending ones. Late messages for a checkpoint
//! that is no longer pending are ignored. Checkpoint ids only ever rise.

use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::AbortReason;
use std::collections::BTreeMap;

/// The checkpoint settings of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointConfig {
    /// Time between periodic triggers; zero for none (a bank scenario's scripted snapshots).
    pub interval: SimDuration,
    /// Also trigger after this many source records (summed over sources), if set.
    pub every_source_records: Option<u64>,
    /// A checkpoint not complete after this long is aborted as expired.
    pub timeout: SimDuration,
    /// At most this many checkpoints pending at once.
    pub max_concurrent: u32,
    /// After a checkpoint completes, no trigger for this long.
    pub min_pause: SimDuration,
    /// Consecutive counted checkpoint failures tolerated before the job is failed over
    /// (`None`: any number).
    pub tolerable_failures: Option<u32>,
    /// Completed checkpoints kept (at least 1): older ones are subsumed and deleted.
    pub retained: u32,
    /// For `aligned-timeout`: how long a task aligns before switching to unaligned.
    pub aligned_timeout: SimDuration,
}

/// Planted bugs of the coordinator (all off in a normal run); the harness sets them from
/// the run's plants, and a coordinator that takes over keeps them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoordinatorFlaws {
    /// `count-stale-checkpoint-failures` (FLINK-18336): the failure manager counts every
    /// counted-kind failure it hears of — again for a checkpoint no longer pending, and for
    /// one older than the last success.
    pub count_stale_failures: bool,
    /// `checkpoint-trigger-stuck-after-expiry` (FLINK-26394): once a pending checkpoint
    /// expires, the "triggering" state is never reset, and no checkpoint or savepoint is
    /// triggered again (until a new coordinator takes over).
    pub trigger_stuck_after_expiry: bool,
}

/// An input to the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinatorInput {
    /// The job started: arm the periodic trigger.
    JobStarted,
    /// The periodic trigger timer of `generation` fired.
    TriggerTimer {
        /// The trigger timer's generation; a timer of an older generation is ignored.
        generation: u64,
    },
    /// Another `every_source_records` records were read.
    SourceRecordsMilestone,
    /// A snapshot is asked for now (a scripted initiation), under the usual pre-flight checks.
    TriggerRequest,
    /// The job's work is done (a bank whose accounts have paid everything): trigger no
    /// more checkpoints, so that the pending ones drain and the job can end.
    WindDown,
    /// A task acknowledged a checkpoint.
    Acknowledge {
        /// The acknowledging task.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// A task declined a checkpoint; `counted` if for a reason Flink's failure manager
    /// counts (a failed state write), not a task-side one (an input ended, a finished task).
    Decline {
        /// The declining task.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// Whether the failure counts towards the tolerated consecutive failures.
        counted: bool,
    },
    /// A checkpoint's timeout elapsed.
    Timeout {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// A checkpoint's metadata became durable.
    MetadataDurable {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// A checkpoint's metadata could not be written.
    MetadataWriteFailed {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// A task closed for good and can take no more checkpoints (a bank account that paid
    /// everything). A dataflow task whose data ended still takes checkpoints — its final
    /// one must complete before it finishes — so it is never reported here.
    TaskClosed {
        /// The closed task.
        task: TaskId,
    },
    /// The user asks for a savepoint (`stop`: and for the job to stop with it). It is taken
    /// as soon as no checkpoint is pending and every task runs; periodic checkpoints wait
    /// meanwhile.
    SavepointRequested {
        /// Whether the job stops with the savepoint.
        stop: bool,
    },
    /// The job failed over: every task is gone until the restart.
    JobFailed,
    /// The job restarted: every task runs again.
    JobRestarted,
    /// Region failover: some tasks failed and are down until their region restarts; the job
    /// keeps running, but pending checkpoints abort and none is triggered meanwhile.
    RegionFailed,
    /// A failed region restarted. `all_running`: no other region is still down;
    /// `closed_tasks`: how many tasks are closed now (a region restart can bring closed
    /// tasks back to work).
    RegionRestarted {
        /// Whether no other region is still down.
        all_running: bool,
        /// How many tasks are closed now.
        closed_tasks: usize,
    },
}

/// An effect the coordinator asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinatorCommand {
    /// Fire `TriggerTimer { generation }` at `at`.
    ArmTriggerTimer {
        /// When the timer fires.
        at: SimTime,
        /// The trigger timer's generation; a timer of an older generation is ignored.
        generation: u64,
    },
    /// Send the trigger of `checkpoint` to every source task.
    TriggerSources {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// Fire `Timeout { checkpoint }` at `at`.
    ArmTimeout {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// When the timeout elapses.
        at: SimTime,
    },
    /// Write the metadata of `checkpoint`; report `MetadataDurable` when done.
    WriteMetadata {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// `checkpoint` is complete: recovery may use it from now on. Checkpoints older than
    /// `oldest_retained` are no longer retained.
    Completed {
        /// The completed checkpoint.
        checkpoint: CheckpointId,
        /// The oldest checkpoint still retained; older ones may be discarded.
        oldest_retained: CheckpointId,
    },
    /// More consecutive checkpoint failures than tolerated: fail the job over.
    FailJob {
        /// How many consecutive checkpoints failed.
        failures: u32,
    },
    /// `checkpoint` is abandoned; tasks should hear of it.
    Aborted {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// Why it was abandoned.
        reason: AbortReason,
    },
    /// Start savepoint `checkpoint` at the sources (an id of the checkpoints' counter).
    TriggerSavepoint {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// Whether the job stops with the savepoint.
        stop: bool,
    },
    /// Savepoint `checkpoint` is complete: its metadata is durable. It is no checkpoint: it
    /// subsumes nothing and is never subsumed; only a stopping one is restored from.
    SavepointCompleted {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// Whether the job stops with the savepoint.
        stop: bool,
    },
}

#[derive(Clone, Debug)]
struct PendingCheckpoint {
    acknowledged: Vec<bool>,
    acknowledged_count: usize,
    metadata_requested: bool,
    /// A savepoint, and whether the job stops with it.
    savepoint: Option<bool>,
}

/// The coordinator of one job.
#[derive(Clone, Debug)]
pub struct Coordinator {
    config: CheckpointConfig,
    task_count: usize,
    next_checkpoint: u64,
    pending: BTreeMap<CheckpointId, PendingCheckpoint>,
    latest_completed: Option<CheckpointId>,
    job_running: bool,
    /// False while a failed region is down (region failover; the job keeps running).
    all_tasks_running: bool,
    closed_tasks: usize,
    timer_generation: u64,
    winding_down: bool,
    /// When the newest checkpoint completed (for the min pause).
    last_completion: Option<SimTime>,
    /// Counted failures since the last completion.
    consecutive_failures: u32,
    /// The retained completed checkpoints, oldest first.
    retained: std::collections::VecDeque<CheckpointId>,
    /// A savepoint asked for and not triggered yet (`stop`: the job stops with it).
    savepoint_wanted: Option<bool>,
    flaws: CoordinatorFlaws,
    /// The planted `trigger_stuck_after_expiry` struck: nothing is triggered any more.
    trigger_stuck: bool,
}

impl Coordinator {
    /// A coordinator for a job of `task_count` tasks; checkpoint ids start at 1.
    pub fn new(config: CheckpointConfig, task_count: usize) -> Coordinator {
        assert!(config.max_concurrent > 0, "max_concurrent must be at least 1");
        Coordinator {
            config,
            task_count,
            next_checkpoint: 1,
            pending: BTreeMap::new(),
            latest_completed: None,
            job_running: false,
            all_tasks_running: true,
            closed_tasks: 0,
            timer_generation: 0,
            winding_down: false,
            last_completion: None,
            consecutive_failures: 0,
            retained: std::collections::VecDeque::new(),
            savepoint_wanted: None,
            flaws: CoordinatorFlaws::default(),
            trigger_stuck: false,
        }
    }

    /// The same coordinator with planted bugs.
    pub fn with_flaws(self, flaws: CoordinatorFlaws) -> Coordinator {
        Coordinator { flaws, ..self }
    }

    /// The coordinator a new process starts after this one crashed: only what the durable
    /// metadata store holds survives — the completed checkpoints (a checkpoint is in it only
    /// if its metadata write completed) and the checkpoint id counter, which never goes
    /// backwards. Pending checkpoints, timers and counts are gone.
    pub fn recovered(&self) -> Coordinator {
        Coordinator {
            next_checkpoint: self.next_checkpoint,
            latest_completed: self.latest_completed,
            retained: self.retained.clone(),
            // Timer generations keep rising, so a timer armed by the dead coordinator never
            // fires for the new one.
            timer_generation: self.timer_generation + 1,
            flaws: self.flaws,
            ..Coordinator::new(self.config, self.task_count)
        }
    }

    /// A rescale redeployed the job with `task_count` tasks: a checkpoint needs that many
    /// acknowledgements from now on (nothing is pending: the rescale's stop aborted it all).
    pub fn set_task_count(&mut self, task_count: usize) {
        debug_assert!(self.pending.is_empty(), "a rescale stops the job first");
        self.task_count = task_count;
    }

    /// Numbers the next checkpoint right after the latest completed one, as a coordinator
    /// that does not keep the id counter durable would: only the planted bug
    /// `reuse-checkpoint-ids-after-failover` calls this.
    pub fn rewind_checkpoint_ids(&mut self) {
        self.next_checkpoint = self.latest_completed.map_or(1, |latest| latest.0 + 1);
    }

    /// Forgets every completed checkpoint, as a coordinator that drops from its store the
    /// checkpoints whose metadata it cannot read would: only the planted bug
    /// `drop-checkpoints-unreadable-at-recovery` calls this.
    pub fn forget_completed(&mut self) {
        self.latest_completed = None;
        self.retained.clear();
    }

    /// The newest completed checkpoint.
    pub fn latest_completed(&self) -> Option<CheckpointId> {
        self.latest_completed
    }

    /// Whether the job is winding down (no more triggers).
    pub fn is_winding_down(&self) -> bool {
        self.winding_down
    }

    /// Whether any checkpoint is pending.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether `checkpoint` is still pending.
    pub fn is_pending(&self, checkpoint: CheckpointId) -> bool {
        self.pending.contains_key(&checkpoint)
    }

    /// Whether `checkpoint` completed and is still retained.
    pub fn is_retained(&self, checkpoint: CheckpointId) -> bool {
        self.retained.contains(&checkpoint)
    }

    /// Handles one input at `now`, appending commands to `out`.
    pub fn handle(&mut self, now: SimTime, input: CoordinatorInput, out: &mut Vec<CoordinatorCommand>) {
        match input {
            CoordinatorInput::JobStarted | CoordinatorInput::JobRestarted => {
                self.job_running = true;
                self.all_tasks_running = true;
                self.closed_tasks = 0;
                self.winding_down = false;
                self.arm_timer(now, out);
            }
            CoordinatorInput::TriggerTimer { generation } => {
                if generation == self.timer_generation {
                    self.try_trigger(now, out);
                    self.arm_timer(now, out);
                }
            }
            CoordinatorInput::SourceRecordsMilestone | CoordinatorInput::TriggerRequest => self.try_trigger(now, out),
            CoordinatorInput::Acknowledge { task, checkpoint } => self.on_acknowledge(task, checkpoint, out),
            CoordinatorInput::Decline { checkpoint, counted, .. } => {
                self.fail(checkpoint, AbortReason::Declined, counted, out);
            }
            CoordinatorInput::Timeout { checkpoint } => {
                // The planted bug: an expiry leaves the trigger in its "triggering" state.
                self.trigger_stuck |= self.flaws.trigger_stuck_after_expiry && self.pending.contains_key(&checkpoint);
                self.fail(checkpoint, AbortReason::Expired, true, out);
            }
            CoordinatorInput::MetadataDurable { checkpoint } => self.on_metadata_durable(now, checkpoint, out),
            CoordinatorInput::MetadataWriteFailed { checkpoint } => {
                self.abort(checkpoint, AbortReason::MetadataWriteFailed, out);
            }
            CoordinatorInput::TaskClosed { .. } => self.closed_tasks += 1,
            CoordinatorInput::SavepointRequested { stop } => self.savepoint_wanted = Some(stop),
            CoordinatorInput::WindDown => self.winding_down = true,
            CoordinatorInput::JobFailed => {
                self.job_running = false;
                self.timer_generation += 1;
                self.abort_all_pending(AbortReason::JobFailover, out);
            }
            CoordinatorInput::RegionFailed => {
                // The periodic trigger keeps running: Flink's job stays RUNNING.
                self.all_tasks_running = false;
                self.abort_all_pending(AbortReason::RegionFailover, out);
            }
            CoordinatorInput::RegionRestarted { all_running, closed_tasks } => {
                self.all_tasks_running = all_running;
                self.closed_tasks = closed_tasks;
            }
        }
        // A savepoint asked for goes as soon as nothing stands in its way.
        self.try_trigger_savepoint(now, out);
    }

    /// Arms the periodic trigger, unless the interval is zero (scripted snapshots only).
    fn arm_timer(&mut self, now: SimTime, out: &mut Vec<CoordinatorCommand>) {
        self.timer_generation += 1;
        if self.config.interval == SimDuration::ZERO {
            return;
        }
        out.push(CoordinatorCommand::ArmTriggerTimer {
            at: now.after(self.config.interval),
            generation: self.timer_generation,
        });
    }

    /// Flink's pre-flight checks: a running job, every task running (no region down, none
    /// closed), and room under max-concurrent.
    /// A failed check skips this trigger; it is not a checkpoint failure.
    fn try_trigger(&mut self, now: SimTime, out: &mut Vec<CoordinatorCommand>) {
        if self.savepoint_wanted.is_some() || self.pending.values().any(|pending| pending.savepoint.is_some()) {
            return; // A savepoint goes first, alone.
        }
        let room = self.pending.len() < self.config.max_concurrent as usize;
        let paused = self.last_completion.is_some_and(|completed| now < completed.after(self.config.min_pause));
        let all_running = self.job_running && self.all_tasks_running && self.closed_tasks == 0;
        if !all_running || self.winding_down || !room || paused || self.trigger_stuck {
            return;
        }
        let checkpoint = self.open_pending(None);
        out.push(CoordinatorCommand::TriggerSources { checkpoint });
        out.push(CoordinatorCommand::ArmTimeout { checkpoint, at: now.after(self.config.timeout) });
    }

    /// Triggers the savepoint asked for, once the job runs whole and nothing is pending (a
    /// savepoint shares the checkpoints' id counter and is never concurrent with one).
    fn try_trigger_savepoint(&mut self, now: SimTime, out: &mut Vec<CoordinatorCommand>) {
        let Some(stop) = self.savepoint_wanted else { return };
        let ready = self.job_running && self.all_tasks_running && self.closed_tasks == 0 && !self.winding_down;
        if !ready || !self.pending.is_empty() || self.trigger_stuck {
            return;
        }
        self.savepoint_wanted = None;
        let checkpoint = self.open_pending(Some(stop));
        out.push(CoordinatorCommand::TriggerSavepoint { checkpoint, stop });
        out.push(CoordinatorCommand::ArmTimeout { checkpoint, at: now.after(self.config.timeout) });
    }

    /// A new pending checkpoint (or savepoint, `Some(stop)`) with the next id.
    fn open_pending(&mut self, savepoint: Option<bool>) -> CheckpointId {
        let checkpoint = CheckpointId(self.next_checkpoint);
        self.next_checkpoint += 1;
        let pending =
            PendingCheckpoint { acknowledged: Vec::new(), acknowledged_count: 0, metadata_requested: false, savepoint };
        self.pending.insert(checkpoint, pending);
        checkpoint
    }

    fn on_acknowledge(&mut self, task: TaskId, checkpoint: CheckpointId, out: &mut Vec<CoordinatorCommand>) {
        let Some(pending) = self.pending.get_mut(&checkpoint) else {
            return; // Late: the checkpoint already completed or aborted.
        };
        if task.index() >= pending.acknowledged.len() {
            // Task ids of a rescaled job run past its task count.
            pending.acknowledged.resize(task.index() + 1, false);
        }
        assert!(!pending.acknowledged[task.index()], "{task} acknowledged {checkpoint} twice");
        pending.acknowledged[task.index()] = true;
        pending.acknowledged_count += 1;
        if pending.acknowledged_count == self.task_count {
            assert!(!pending.metadata_requested);
            pending.metadata_requested = true;
            out.push(CoordinatorCommand::WriteMetadata { checkpoint });
        }
    }

    fn on_metadata_durable(&mut self, now: SimTime, checkpoint: CheckpointId, out: &mut Vec<CoordinatorCommand>) {
        let Some(pending) = self.pending.remove(&checkpoint) else {
            return; // Aborted while its metadata was being written: it never completes.
        };
        assert!(pending.metadata_requested, "metadata durable before it was requested");
        assert!(self.latest_completed < Some(checkpoint), "completed ids must rise");
        if let Some(stop) = pending.savepoint {
            if stop {
                // The job stops and starts again from it: it is what a restore loads until
                // a checkpoint completes (Flink's job started from a savepoint).
                self.latest_completed = Some(checkpoint);
            }
            out.push(CoordinatorCommand::SavepointCompleted { checkpoint, stop });
            return;
        }
        self.latest_completed = Some(checkpoint);
        self.last_completion = Some(now);
        self.consecutive_failures = 0;
        self.retained.push_back(checkpoint);
        while self.retained.len() > self.config.retained.max(1) as usize {
            self.retained.pop_front();
        }
        let oldest_retained = *self.retained.front().expect("just pushed");
        out.push(CoordinatorCommand::Completed { checkpoint, oldest_retained });
        let subsumed: Vec<CheckpointId> = self.pending.range(..checkpoint).map(|(&id, _)| id).collect();
        for older in subsumed {
            self.abort(older, AbortReason::Subsumed, out);
        }
    }

    /// Aborts `checkpoint`; a `counted` failure (Flink's failure manager counts declines for
    /// failed writes and expiries, once per checkpoint, and ignores checkpoints older than
    /// the last success) past the tolerance fails the job over.
    fn fail(
        &mut self,
        checkpoint: CheckpointId,
        reason: AbortReason,
        counted: bool,
        out: &mut Vec<CoordinatorCommand>,
    ) {
        let was_pending = self.pending.contains_key(&checkpoint);
        // A failed savepoint is the user's to retry; it counts against no tolerance.
        let counted = counted && !self.is_pending_savepoint(checkpoint);
        self.abort(checkpoint, reason, out);
        let stale = !was_pending || self.latest_completed.is_some_and(|latest| checkpoint < latest);
        if !counted || (stale && !self.flaws.count_stale_failures) {
            return;
        }
        self.consecutive_failures += 1;
        if let Some(tolerable) = self.config.tolerable_failures
            && self.consecutive_failures > tolerable
        {
            out.push(CoordinatorCommand::FailJob { failures: self.consecutive_failures });
            self.consecutive_failures = 0;
        }
    }

    fn abort_all_pending(&mut self, reason: AbortReason, out: &mut Vec<CoordinatorCommand>) {
        let pending: Vec<CheckpointId> = self.pending.keys().copied().collect();
        for checkpoint in pending {
            self.abort(checkpoint, reason, out);
        }
    }

    fn abort(&mut self, checkpoint: CheckpointId, reason: AbortReason, out: &mut Vec<CoordinatorCommand>) {
        if self.pending.remove(&checkpoint).is_some() {
            out.push(CoordinatorCommand::Aborted { checkpoint, reason });
        }
    }

    /// Whether `checkpoint` is a savepoint still pending.
    pub fn is_pending_savepoint(&self, checkpoint: CheckpointId) -> bool {
        self.pending.get(&checkpoint).is_some_and(|pending| pending.savepoint.is_some())
    }
}
