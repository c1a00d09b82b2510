//! What the protocol unit tests share: feeding a state machine a script of inputs, and the
//! inputs and commands the scripts are written in.

use super::{TaskCommand, TaskInput, TaskProtocol};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;

/// Feeds `inputs` one at a time to `handle`; returns the commands each input produced, so a
/// test reads as a script: inputs on one side, the exact commands of each step on the other.
pub fn script<I: Copy, C>(inputs: &[I], mut handle: impl FnMut(I, &mut Vec<C>)) -> Vec<Vec<C>> {
    inputs
        .iter()
        .map(|&input| {
            let mut out = Vec::new();
            handle(input, &mut out);
            out
        })
        .collect()
}

/// Feeds `inputs` to a task protocol at time zero, one by one; returns the commands of each.
pub fn steps(protocol: &mut dyn TaskProtocol, inputs: &[TaskInput]) -> Vec<Vec<TaskCommand>> {
    script(inputs, |input, out| protocol.handle(SimTime::ZERO, input, out))
}

/// Checkpoint `checkpoint`.
pub fn id(checkpoint: u64) -> CheckpointId {
    CheckpointId(checkpoint)
}

/// The barrier (marker) of `checkpoint` on `input`.
pub fn barrier(input: u32, checkpoint: u64) -> TaskInput {
    TaskInput::Barrier { input, checkpoint: id(checkpoint) }
}

/// Capture state and send barriers for `checkpoint`.
pub fn snapshot(checkpoint: u64) -> TaskCommand {
    TaskCommand::Snapshot { checkpoint: id(checkpoint) }
}

/// Persist `checkpoint`.
pub fn persist(checkpoint: u64) -> TaskCommand {
    TaskCommand::Persist { checkpoint: id(checkpoint) }
}
