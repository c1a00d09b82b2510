//! Deliberately wrong protocol variants, used to prove that the checks bite. Never chosen
//! unless a planted bug asks for it.

use super::aligned::AlignedBarriers;
use super::{TaskCommand, TaskInput, TaskProtocol};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;

/// Aligned barriers that acknowledge every checkpoint twice, as a task whose retry logic
/// resends an acknowledgement that already arrived. The coordinator asserts against it.
pub struct AcknowledgeTwice {
    inner: AlignedBarriers,
}

impl AcknowledgeTwice {
    /// The broken protocol of a task with `input_count` inputs.
    pub fn new(input_count: u32) -> AcknowledgeTwice {
        AcknowledgeTwice { inner: AlignedBarriers::new(input_count) }
    }
}

impl TaskProtocol for AcknowledgeTwice {
    fn handle(&mut self, now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        let first = out.len();
        self.inner.handle(now, input, out);
        let acknowledgements: Vec<TaskCommand> =
            out[first..].iter().copied().filter(|command| matches!(command, TaskCommand::Acknowledge { .. })).collect();
        out.extend(acknowledgements);
    }
}

/// Aligned barriers whose alignment never blocks: the task keeps consuming an input after
/// that input's barrier arrived, so post-barrier records reach the snapshot.
pub struct ConsumeBlockedInput {
    inner: AlignedBarriers,
}

impl ConsumeBlockedInput {
    /// The broken protocol of a task with `input_count` inputs.
    pub fn new(input_count: u32) -> ConsumeBlockedInput {
        ConsumeBlockedInput { inner: AlignedBarriers::new(input_count) }
    }
}

impl TaskProtocol for ConsumeBlockedInput {
    fn handle(&mut self, now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        let first = out.len();
        self.inner.handle(now, input, out);
        let mut index = first;
        while index < out.len() {
            if matches!(out[index], TaskCommand::BlockInput { .. }) {
                out.remove(index);
            } else {
                index += 1;
            }
        }
    }
}

/// Aligned barriers that capture the task's state at the first barrier of a checkpoint
/// instead of once the last input's barrier arrived: the inputs still block as usual, but
/// what the other inputs deliver before their barriers lands after the snapshot, in no
/// channel state either (the planted bug `snapshot-before-alignment-completes`).
pub struct SnapshotAtFirstBarrier {
    inner: AlignedBarriers,
    /// The checkpoint whose state was captured early, at its first barrier.
    captured_early: Option<CheckpointId>,
}

impl SnapshotAtFirstBarrier {
    /// The broken protocol of a task with `input_count` inputs.
    pub fn new(input_count: u32) -> SnapshotAtFirstBarrier {
        SnapshotAtFirstBarrier { inner: AlignedBarriers::new(input_count), captured_early: None }
    }
}

impl TaskProtocol for SnapshotAtFirstBarrier {
    fn handle(&mut self, now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        let first = out.len();
        self.inner.handle(now, input, out);
        let commands: Vec<TaskCommand> = out.drain(first..).collect();
        for command in commands {
            match command {
                // The first block of an alignment: snapshot now, not when it completes.
                TaskCommand::BlockInput { checkpoint, .. } if self.captured_early != Some(checkpoint) => {
                    self.captured_early = Some(checkpoint);
                    out.push(TaskCommand::Snapshot { checkpoint });
                    out.push(command);
                }
                TaskCommand::Snapshot { checkpoint } if self.captured_early == Some(checkpoint) => {}
                other => out.push(other),
            }
        }
    }
}
