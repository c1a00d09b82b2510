//! Unaligned checkpoints, as Flink runs them (flink-checkpointing.md §2.5).
//!
//! Barriers are priority events. A sender's barrier jumps ahead of the records waiting in
//! each output buffer and goes out at once; the records it overtook are persisted as
//! output channel state. At the receiver the first barrier of checkpoint `n`, on any input,
//! is handled the moment it arrives: the task snapshots at once, keeps the records queued
//! ahead of that barrier as input channel state, and records every record it consumes from
//! the other inputs until their barriers arrive — each then also keeps what is queued ahead
//! of it. No input is ever blocked, and the checkpoint never waits for buffered data to
//! drain. Recovery re-sends the output channel state and replays the input channel state
//! before any new input.

use super::{Recording, TaskCommand, TaskInput, TaskProtocol, recording_commands};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;

/// The unaligned-checkpoint state machine of one task.
#[derive(Clone, Debug)]
pub struct UnalignedBarriers {
    ended: Vec<bool>,
    /// The checkpoint in progress (Flink allows one unaligned checkpoint at a time) and the
    /// inputs whose barrier has arrived.
    in_progress: Option<(CheckpointId, Vec<bool>)>,
    newest_seen: Option<CheckpointId>,
    /// Record channel state (false only in the planted bug `skip-channel-state`).
    records_channels: bool,
    /// The planted bug `stale-barrier-stops-channel-recording`: an obsolete barrier stops
    /// the recording of its input for the checkpoint in progress.
    stale_barrier_stops_recording: bool,
}

impl UnalignedBarriers {
    /// The protocol of a task with `input_count` inputs (0 for a source).
    pub fn new(input_count: u32) -> UnalignedBarriers {
        UnalignedBarriers {
            ended: vec![false; input_count as usize],
            in_progress: None,
            newest_seen: None,
            records_channels: true,
            stale_barrier_stops_recording: false,
        }
    }

    /// The planted bug `stale-barrier-stops-channel-recording` (FLINK-20654 / FLINK-21104):
    /// the recorder of an input stops on any barrier arriving on it, even the obsolete
    /// barrier of an older, abandoned checkpoint, not only on the barrier of the checkpoint
    /// it records for; what that input delivers until its real barrier is recorded nowhere.
    pub fn stopping_recording_on_stale_barriers(input_count: u32) -> UnalignedBarriers {
        UnalignedBarriers { stale_barrier_stops_recording: true, ..UnalignedBarriers::new(input_count) }
    }

    /// The planted bug `skip-channel-state`: overtaken records are not kept.
    pub fn without_channel_state(input_count: u32) -> UnalignedBarriers {
        UnalignedBarriers { records_channels: false, ..UnalignedBarriers::new(input_count) }
    }

    fn on_barrier(&mut self, input: u32, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        match &self.in_progress {
            Some((pending, _)) if checkpoint < *pending => {
                if self.stale_barrier_stops_recording && self.records_channels {
                    out.push(TaskCommand::StopRecording { input, checkpoint: *pending });
                }
                return;
            }
            Some((pending, _)) if checkpoint > *pending => {
                let pending = *pending;
                self.abandon(out);
                out.push(TaskCommand::Decline { checkpoint: pending });
                self.start(input, checkpoint, out);
            }
            Some(_) => {
                if self.records_channels {
                    out.push(TaskCommand::StopRecording { input, checkpoint });
                    out.push(TaskCommand::RecordQueued { input, checkpoint });
                }
            }
            None if self.newest_seen.is_some_and(|newest| checkpoint <= newest) => return,
            None => self.start(input, checkpoint, out),
        }
        let (_, arrived) = self.in_progress.as_mut().expect("started above");
        assert!(!arrived[input as usize], "two barriers of {checkpoint} on input {input}");
        arrived[input as usize] = true;
        if arrived.iter().all(|&done| done) {
            self.in_progress = None;
            out.push(TaskCommand::Persist { checkpoint });
        }
    }

    fn start(&mut self, input: u32, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        self.newest_seen = Some(checkpoint);
        out.push(TaskCommand::SnapshotOvertaking { checkpoint });
        if self.records_channels {
            out.push(TaskCommand::RecordQueued { input, checkpoint });
            let mut skip = self.ended.clone();
            skip[input as usize] = true;
            recording_commands(checkpoint, &skip, Recording::Start, out);
        }
        self.in_progress = Some((checkpoint, self.ended.clone()));
    }

    fn abandon(&mut self, out: &mut Vec<TaskCommand>) {
        if let Some((checkpoint, arrived)) = self.in_progress.take()
            && self.records_channels
        {
            recording_commands(checkpoint, &arrived, Recording::Stop, out);
        }
    }
}

impl TaskProtocol for UnalignedBarriers {
    fn handle(&mut self, _now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        match input {
            TaskInput::Trigger { checkpoint } => {
                assert!(self.ended.is_empty(), "only sources are triggered");
                if self.newest_seen.is_none_or(|newest| checkpoint > newest) {
                    self.newest_seen = Some(checkpoint);
                    out.push(TaskCommand::SnapshotOvertaking { checkpoint });
                    out.push(TaskCommand::Persist { checkpoint });
                }
            }
            TaskInput::Barrier { input, checkpoint } => self.on_barrier(input, checkpoint, out),
            TaskInput::InputEnded { input } => {
                self.ended[input as usize] = true;
                if let Some((checkpoint, arrived)) = &self.in_progress
                    && !arrived[input as usize]
                {
                    let checkpoint = *checkpoint;
                    self.abandon(out);
                    out.push(TaskCommand::Decline { checkpoint });
                }
            }
            TaskInput::StatePersisted { checkpoint } => out.push(TaskCommand::Acknowledge { checkpoint }),
            TaskInput::Timer => {}
            TaskInput::CheckpointAborted { checkpoint } => {
                if self.in_progress.as_ref().is_some_and(|(pending, _)| *pending <= checkpoint) {
                    self.abandon(out);
                }
                self.newest_seen = self.newest_seen.max(Some(checkpoint));
            }
        }
    }

    fn barrier_overtakes(&self, _checkpoint: CheckpointId) -> bool {
        true
    }
}
