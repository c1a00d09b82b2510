//! At-least-once checkpoints, as Flink's barrier tracker runs them: barriers are tracked,
//! inputs are never blocked.
//!
//! A task snapshots when barrier `n` has arrived on every open input, having meanwhile kept
//! processing records from the inputs whose barrier already arrived. Those records' effects
//! are in the snapshot although their sources' offsets are not past them, so after a
//! recovery they are applied again: duplicates are allowed, loss never
//! (flink-checkpointing.md §2.3). A completed snapshot drops older pending ones.

use super::{TaskCommand, TaskInput, TaskProtocol};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;
use std::collections::BTreeMap;

/// The at-least-once barrier tracker of one task.
#[derive(Clone, Debug)]
pub struct AtLeastOnce {
    ended: Vec<bool>,
    /// Checkpoints whose barriers are arriving: which inputs have delivered theirs.
    pending: BTreeMap<CheckpointId, Vec<bool>>,
    /// The newest checkpoint this task snapshotted or heard aborted.
    newest_done: Option<CheckpointId>,
}

impl AtLeastOnce {
    /// The tracker of a task with `input_count` inputs (0 for a source).
    pub fn new(input_count: u32) -> AtLeastOnce {
        AtLeastOnce { ended: vec![false; input_count as usize], pending: BTreeMap::new(), newest_done: None }
    }

    fn is_done(&self, checkpoint: CheckpointId) -> bool {
        self.newest_done.is_some_and(|done| checkpoint <= done)
    }

    fn on_barrier(&mut self, input: u32, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        if self.is_done(checkpoint) {
            return;
        }
        let ended = self.ended.clone();
        let arrived = self.pending.entry(checkpoint).or_insert(ended);
        assert!(!arrived[input as usize], "two barriers of {checkpoint} on input {input}");
        arrived[input as usize] = true;
        if arrived.iter().all(|&done| done) {
            self.snapshot(checkpoint, out);
        }
    }

    /// Snapshots `checkpoint` and declines the older ones still pending.
    fn snapshot(&mut self, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        let older: Vec<CheckpointId> = self.pending.range(..checkpoint).map(|(&id, _)| id).collect();
        for id in older {
            self.pending.remove(&id);
            out.push(TaskCommand::Decline { checkpoint: id });
        }
        self.pending.remove(&checkpoint);
        self.newest_done = Some(checkpoint);
        out.push(TaskCommand::Snapshot { checkpoint });
        out.push(TaskCommand::Persist { checkpoint });
    }
}

impl TaskProtocol for AtLeastOnce {
    fn handle(&mut self, _now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        match input {
            TaskInput::Trigger { checkpoint } => {
                assert!(self.ended.is_empty(), "only sources are triggered");
                if !self.is_done(checkpoint) {
                    self.snapshot(checkpoint, out);
                }
            }
            TaskInput::Barrier { input, checkpoint } => self.on_barrier(input, checkpoint, out),
            TaskInput::InputEnded { input } => {
                self.ended[input as usize] = true;
                let waiting: Vec<CheckpointId> =
                    self.pending.iter().filter(|(_, arrived)| !arrived[input as usize]).map(|(&id, _)| id).collect();
                for checkpoint in waiting {
                    self.pending.remove(&checkpoint);
                    out.push(TaskCommand::Decline { checkpoint });
                }
            }
            TaskInput::StatePersisted { checkpoint } => out.push(TaskCommand::Acknowledge { checkpoint }),
            TaskInput::Timer => {}
            TaskInput::CheckpointAborted { checkpoint } => {
                self.pending.retain(|&id, _| id > checkpoint);
                self.newest_done = self.newest_done.max(Some(checkpoint));
            }
        }
    }
}
