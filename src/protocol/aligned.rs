//! Aligned barriers, as Flink's exactly-once mode runs them.
//!
//! On the first barrier `n` a task blocks that input and keeps consuming the others; when
//! barrier `n` has arrived on every open input it snapshots, forwards the barrier and
//! unblocks. Flink's rules for the odd cases (reference: flink-checkpointing.md §2.3):
//! a barrier older than the newest seen is obsolete and ignored; a newer barrier during an
//! alignment declines the pending checkpoint as subsumed and starts the new one; an abort
//! notice or an input ending during an alignment abandons it and unblocks.

use super::{TaskCommand, TaskInput, TaskProtocol};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;

/// The aligned-barrier state machine of one task.
#[derive(Clone, Debug)]
pub struct AlignedBarriers {
    ended: Vec<bool>,
    open_inputs: u32,
    /// The newest checkpoint this task started, finished or heard aborted.
    newest_seen: Option<CheckpointId>,
    alignment: Option<Alignment>,
}

#[derive(Clone, Debug)]
struct Alignment {
    checkpoint: CheckpointId,
    arrived: Vec<bool>,
    arrived_count: u32,
}

impl AlignedBarriers {
    /// The protocol of a task with `input_count` inputs (0 for a source).
    pub fn new(input_count: u32) -> AlignedBarriers {
        AlignedBarriers {
            ended: vec![false; input_count as usize],
            open_inputs: input_count,
            newest_seen: None,
            alignment: None,
        }
    }

    /// The checkpoint being aligned, if any.
    pub fn aligning(&self) -> Option<CheckpointId> {
        self.alignment.as_ref().map(|alignment| alignment.checkpoint)
    }

    fn is_obsolete(&self, checkpoint: CheckpointId) -> bool {
        self.newest_seen.is_some_and(|newest| checkpoint <= newest)
    }

    fn on_barrier(&mut self, input: u32, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        assert!(!self.ended[input as usize], "a barrier after end-of-input on input {input}");
        if let Some(pending) = self.aligning() {
            if checkpoint < pending {
                return;
            }
            if checkpoint > pending {
                self.abandon_alignment(out);
                out.push(TaskCommand::Decline { checkpoint: pending });
                self.start_alignment(checkpoint);
            }
        } else if self.is_obsolete(checkpoint) {
            return;
        } else {
            self.start_alignment(checkpoint);
        }
        self.mark_arrived(input, checkpoint, out);
    }

    fn start_alignment(&mut self, checkpoint: CheckpointId) {
        self.newest_seen = Some(checkpoint);
        self.alignment = Some(Alignment { checkpoint, arrived: vec![false; self.ended.len()], arrived_count: 0 });
    }

    fn mark_arrived(&mut self, input: u32, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        let alignment = self.alignment.as_mut().expect("marking needs an alignment");
        assert!(!alignment.arrived[input as usize], "two barriers of {checkpoint} on input {input}");
        alignment.arrived[input as usize] = true;
        alignment.arrived_count += 1;
        if alignment.arrived_count < self.open_inputs {
            out.push(TaskCommand::BlockInput { input, checkpoint });
            return;
        }
        let blocked_any = alignment.arrived_count > 1;
        self.alignment = None;
        out.push(TaskCommand::Snapshot { checkpoint });
        out.push(TaskCommand::Persist { checkpoint });
        if blocked_any {
            out.push(TaskCommand::UnblockAllInputs);
        }
    }

    fn abandon_alignment(&mut self, out: &mut Vec<TaskCommand>) {
        if let Some(alignment) = self.alignment.take()
            && alignment.arrived_count > 0
        {
            out.push(TaskCommand::UnblockAllInputs);
        }
    }

    fn on_input_ended(&mut self, input: u32, out: &mut Vec<TaskCommand>) {
        assert!(!self.ended[input as usize], "input {input} ended twice");
        self.ended[input as usize] = true;
        self.open_inputs -= 1;
        if let Some(pending) = self.aligning() {
            self.abandon_alignment(out);
            out.push(TaskCommand::Decline { checkpoint: pending });
        }
    }
}

impl TaskProtocol for AlignedBarriers {
    fn handle(&mut self, _now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        match input {
            TaskInput::Trigger { checkpoint } => {
                assert!(self.ended.is_empty(), "only sources are triggered");
                if !self.is_obsolete(checkpoint) {
                    self.newest_seen = Some(checkpoint);
                    out.push(TaskCommand::Snapshot { checkpoint });
                    out.push(TaskCommand::Persist { checkpoint });
                }
            }
            TaskInput::Barrier { input, checkpoint } => self.on_barrier(input, checkpoint, out),
            TaskInput::InputEnded { input } => self.on_input_ended(input, out),
            TaskInput::StatePersisted { checkpoint } => out.push(TaskCommand::Acknowledge { checkpoint }),
            TaskInput::Timer => {}
            TaskInput::CheckpointAborted { checkpoint } => {
                if self.aligning().is_some_and(|pending| pending <= checkpoint) {
                    self.abandon_alignment(out);
                }
                self.newest_seen = self.newest_seen.max(Some(checkpoint));
            }
        }
    }
}
