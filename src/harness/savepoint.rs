//! Savepoints: user-triggered snapshots from the scenario's `[[savepoint]]` entries
//! (docs/state.md).
//!
//! A savepoint shares the checkpoints' id counter but is no checkpoint: the coordinator
//! takes it alone (no checkpoint pending, periodic ones waiting), every task handles its
//! barrier aligned whatever the job's protocol (an aligned-barrier handler of its own, as
//! Flink's savepoints are always aligned), and writes its whole state — never incremental
//! shared files, so a savepoint neither references nor keeps alive anything of the
//! checkpoints'. Its objects are never deleted by the checkpoints' retention. An
//! intermediate savepoint sends no completion notice, so no side effect is committed for it
//! (Flink since 1.15); a stopping one is notified — sinks commit — and once every task has
//! heard, the job stops and is started again from it.

use super::{Event, SimWorld};
use crate::kernel::Scheduler;
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::Fact;
use crate::protocol::aligned::AlignedBarriers;
use crate::protocol::coordinator::CoordinatorInput;
use crate::protocol::{TaskInput, TaskProtocol};

/// A scenario's savepoint: at `at`, the user asks for one (`stop`: stop-with-savepoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavepointRequest {
    /// When it is asked for.
    pub at: SimTime,
    /// Whether the job stops with it (and starts again from it).
    pub stop: bool,
}

/// The aligned handler of one task's current savepoint.
pub(super) struct SavepointHandler {
    pub(super) savepoint: CheckpointId,
    pub(super) protocol: AlignedBarriers,
}

impl SimWorld {
    /// Schedules every savepoint request of the scenario.
    pub(super) fn schedule_savepoints(&mut self, scheduler: &mut Scheduler<Event>) {
        for request in &self.config.savepoints {
            scheduler.at(request.at, Event::SavepointRequested { stop: request.stop });
        }
    }

    /// The user asks for a savepoint; the coordinator takes it when it can.
    pub(super) fn on_savepoint_requested(&mut self, stop: bool, scheduler: &mut Scheduler<Event>) {
        if self.job == super::JobStatus::Running || self.job == super::JobStatus::Restarting {
            self.tell_coordinator(CoordinatorInput::SavepointRequested { stop }, scheduler);
        }
    }

    /// Whether `checkpoint` is a savepoint's id.
    pub(super) fn is_savepoint(&self, checkpoint: CheckpointId) -> bool {
        self.savepoints.contains_key(&checkpoint)
    }

    /// The savepoint an input to a task's protocol is about, if it is about one.
    pub(super) fn savepoint_input(&self, input: &TaskInput) -> Option<CheckpointId> {
        let checkpoint = match *input {
            TaskInput::Trigger { checkpoint }
            | TaskInput::Barrier { checkpoint, .. }
            | TaskInput::StatePersisted { checkpoint }
            | TaskInput::CheckpointAborted { checkpoint } => checkpoint,
            TaskInput::InputEnded { .. } | TaskInput::Timer => return None,
        };
        self.is_savepoint(checkpoint).then_some(checkpoint)
    }

    /// Hands `input` about `savepoint` to `task`'s aligned savepoint handler (a fresh one
    /// for a newer savepoint), appending its commands to `out`.
    pub(super) fn handle_savepoint_input(
        &mut self,
        task: TaskId,
        savepoint: CheckpointId,
        input: TaskInput,
        out: &mut Vec<crate::protocol::TaskCommand>,
    ) {
        let runtime = &mut self.tasks[task.index()];
        let input_count = u32::try_from(runtime.inputs.len()).expect("inputs fit u32");
        let handler = runtime
            .savepoint
            .get_or_insert_with(|| SavepointHandler { savepoint, protocol: AlignedBarriers::new(input_count) });
        if handler.savepoint < savepoint {
            *handler = SavepointHandler { savepoint, protocol: AlignedBarriers::new(input_count) };
        }
        if handler.savepoint == savepoint {
            handler.protocol.handle(self.now, input, out);
        }
    }

    /// Savepoint `checkpoint` completed: intermediate, nothing more happens; stopping, every
    /// task hears of it and the job then stops, to start again from it.
    pub(super) fn savepoint_completed(
        &mut self,
        checkpoint: CheckpointId,
        stop: bool,
        scheduler: &mut Scheduler<Event>,
    ) {
        self.stats.savepoints_completed += 1;
        self.completed_savepoints.insert(checkpoint);
        self.record(Fact::CheckpointCompleted { checkpoint });
        self.log_checkpoint_ended(checkpoint, scheduler);
        if !stop {
            if self.plants.contains(&crate::plant::PlantedBug::SavepointNotifiesCompletion) {
                // FLINK-10354: sinks commit up to a savepoint no restore will load.
                self.notify_tasks(crate::faults::ControlMessage::CompletionNotice, checkpoint, scheduler);
            }
            return;
        }
        if let Some(stage) = self.rescale_on_stop.take() {
            self.stage_wanted = self.stage_wanted.max(stage); // Started from it, rescaled.
        }
        // Restored from next, as a completed checkpoint: the enumerator keeps what it covers.
        self.log_checkpoint_completed(checkpoint, scheduler);
        let notified = self.notify_tasks(crate::faults::ControlMessage::CompletionNotice, checkpoint, scheduler);
        self.stopping = Some((checkpoint, notified));
        if notified == 0 {
            self.stop_with_savepoint(scheduler);
        }
    }

    /// A task heard of `checkpoint`: if it is the stopping savepoint and every task has now
    /// heard (or will never: the notice was lost), the job stops.
    pub(super) fn savepoint_notice_heard(&mut self, checkpoint: CheckpointId, scheduler: &mut Scheduler<Event>) {
        let Some((stopping, left)) = self.stopping.as_mut() else { return };
        if *stopping != checkpoint {
            return;
        }
        *left = left.saturating_sub(1);
        if *left == 0 && self.job == super::JobStatus::Running {
            self.stop_with_savepoint(scheduler);
        }
    }

    /// The job stops after its savepoint and is started again from it at once.
    fn stop_with_savepoint(&mut self, scheduler: &mut Scheduler<Event>) {
        self.stopping = None;
        self.stats.stops += 1;
        self.halt_the_job(scheduler);
        scheduler.after(SimDuration::ZERO, Event::Restart { attempt: self.attempt });
    }
}
