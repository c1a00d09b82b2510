//! Aligned checkpoints with a timeout, as Flink's `aligned-checkpoint-timeout` runs them
//! (flink-checkpointing.md §2.5, "Alternating / timeout").
//!
//! A checkpoint starts aligned: inputs whose barrier has arrived are blocked. If alignment
//! has not finished `timeout` after the first barrier, the task switches that checkpoint to
//! unaligned: it snapshots at once (its barriers overtake its output buffers), unblocks
//! every input, records as channel state what it consumes from inputs whose barrier has not
//! come, and from then on handles their barriers on arrival (keeping what is queued ahead
//! of each). Records behind a barrier that already arrived are after the cut and are not
//! kept. A checkpoint that aligns in time is an ordinary aligned one.

use super::{Recording, TaskCommand, TaskInput, TaskProtocol, recording_commands};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::{SimDuration, SimTime};

/// The aligned-with-timeout state machine of one task.
#[derive(Clone, Debug)]
pub struct AlignedWithTimeout {
    timeout: SimDuration,
    ended: Vec<bool>,
    pending: Option<Pending>,
    newest_seen: Option<CheckpointId>,
}

#[derive(Clone, Debug)]
struct Pending {
    checkpoint: CheckpointId,
    arrived: Vec<bool>,
    deadline: SimTime,
    /// Switched to unaligned: snapshotted already, barriers handled on arrival.
    unaligned: bool,
}

impl AlignedWithTimeout {
    /// The protocol of a task with `input_count` inputs that switches after `timeout`.
    pub fn new(input_count: u32, timeout: SimDuration) -> AlignedWithTimeout {
        AlignedWithTimeout { timeout, ended: vec![false; input_count as usize], pending: None, newest_seen: None }
    }

    fn on_barrier(&mut self, now: SimTime, input: u32, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        match &self.pending {
            Some(pending) if checkpoint < pending.checkpoint => return,
            Some(pending) if checkpoint > pending.checkpoint => {
                let old = pending.checkpoint;
                self.abandon(out);
                out.push(TaskCommand::Decline { checkpoint: old });
                self.start(now, checkpoint, out);
            }
            Some(_) => {}
            None if self.newest_seen.is_some_and(|newest| checkpoint <= newest) => return,
            None => self.start(now, checkpoint, out),
        }
        let pending = self.pending.as_mut().expect("started above");
        assert!(!pending.arrived[input as usize], "two barriers of {checkpoint} on input {input}");
        pending.arrived[input as usize] = true;
        let complete = pending.arrived.iter().all(|&done| done);
        match (pending.unaligned, complete) {
            (true, _) => {
                out.push(TaskCommand::StopRecording { input, checkpoint });
                out.push(TaskCommand::RecordQueued { input, checkpoint });
            }
            (false, false) => out.push(TaskCommand::BlockInput { input, checkpoint }),
            (false, true) => {
                out.push(TaskCommand::Snapshot { checkpoint });
                out.push(TaskCommand::UnblockAllInputs);
            }
        }
        if complete {
            self.pending = None;
            out.push(TaskCommand::Persist { checkpoint });
        }
    }

    fn start(&mut self, now: SimTime, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        self.newest_seen = Some(checkpoint);
        let deadline = now.after(self.timeout);
        self.pending = Some(Pending { checkpoint, arrived: self.ended.clone(), deadline, unaligned: false });
        out.push(TaskCommand::SetTimer { at: deadline });
    }

    /// The alignment outlasted the timeout: snapshot now, unaligned.
    fn switch_to_unaligned(&mut self, out: &mut Vec<TaskCommand>) {
        let pending = self.pending.as_mut().expect("switching needs a pending checkpoint");
        let checkpoint = pending.checkpoint;
        pending.unaligned = true;
        out.push(TaskCommand::SnapshotOvertaking { checkpoint });
        out.push(TaskCommand::UnblockAllInputs);
        // Records queued on these inputs are consumed after the snapshot and recorded then;
        // a barrier already queued behind them is consumed in order and stops the recording.
        recording_commands(checkpoint, &pending.arrived, Recording::Start, out);
    }

    fn abandon(&mut self, out: &mut Vec<TaskCommand>) {
        let Some(pending) = self.pending.take() else { return };
        if pending.unaligned {
            recording_commands(pending.checkpoint, &pending.arrived, Recording::Stop, out);
        } else if pending.arrived.iter().zip(&self.ended).any(|(&arrived, &ended)| arrived && !ended) {
            out.push(TaskCommand::UnblockAllInputs);
        }
    }
}

impl TaskProtocol for AlignedWithTimeout {
    fn handle(&mut self, now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        match input {
            TaskInput::Trigger { checkpoint } => {
                assert!(self.ended.is_empty(), "only sources are triggered");
                if self.newest_seen.is_none_or(|newest| checkpoint > newest) {
                    self.newest_seen = Some(checkpoint);
                    out.push(TaskCommand::Snapshot { checkpoint });
                    out.push(TaskCommand::Persist { checkpoint });
                }
            }
            TaskInput::Barrier { input, checkpoint } => self.on_barrier(now, input, checkpoint, out),
            TaskInput::Timer => {
                if self.pending.as_ref().is_some_and(|pending| !pending.unaligned && now >= pending.deadline) {
                    self.switch_to_unaligned(out);
                }
            }
            TaskInput::InputEnded { input } => {
                self.ended[input as usize] = true;
                if let Some(pending) = &self.pending {
                    let checkpoint = pending.checkpoint;
                    self.abandon(out);
                    out.push(TaskCommand::Decline { checkpoint });
                }
            }
            TaskInput::StatePersisted { checkpoint } => out.push(TaskCommand::Acknowledge { checkpoint }),
            TaskInput::CheckpointAborted { checkpoint } => {
                if self.pending.as_ref().is_some_and(|pending| pending.checkpoint <= checkpoint) {
                    self.abandon(out);
                }
                self.newest_seen = self.newest_seen.max(Some(checkpoint));
            }
        }
    }

    fn barrier_overtakes(&self, checkpoint: CheckpointId) -> bool {
        // Only the barriers of the checkpoint that switched: Flink sends every checkpoint's
        // barriers aligned and converts just the announced ones of a timed-out alignment.
        self.pending.as_ref().is_some_and(|pending| pending.unaligned && pending.checkpoint == checkpoint)
    }
}
