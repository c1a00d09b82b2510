//! Checkpoint protocols as sans-IO state machines.
//!
//! A task protocol receives one `TaskInput` at a time (a barrier consumed on an input, a
//! trigger, an ended input, a storage result, an abort notice) and appends `TaskCommand`s
//! (block an input, snapshot, acknowledge, decline). It holds no clock, no RNG, no channel
//! and no storage handle: the harness performs every effect and records what physically
//! happened. The coordinator (`coordinator.rs`) is the job-level state machine of the same
//! shape. Unit tests in `protocol/tests.rs`.

pub mod aligned;
pub mod broken;
pub mod coordinator;

#[cfg(test)]
mod tests;

use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;

/// Something that happened to a task that its checkpoint protocol must hear of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskInput {
    /// The coordinator asks this source task to start `checkpoint`.
    Trigger { checkpoint: CheckpointId },
    /// The task consumed the barrier of `checkpoint` on input `input`.
    Barrier { input: u32, checkpoint: CheckpointId },
    /// Input `input` delivered its end-of-input; nothing more will arrive on it.
    InputEnded { input: u32 },
    /// The state this task captured for `checkpoint` is durable.
    StatePersisted { checkpoint: CheckpointId },
    /// The coordinator abandoned `checkpoint`.
    CheckpointAborted { checkpoint: CheckpointId },
}

/// An effect a protocol asks the harness to perform, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskCommand {
    /// Stop consuming input `input` until unblocked (alignment for `checkpoint`).
    BlockInput { input: u32, checkpoint: CheckpointId },
    /// Resume consuming every blocked input.
    UnblockAllInputs,
    /// Capture the operator's state for `checkpoint`, send its barrier on every output, and
    /// persist the state. Atomic with respect to record processing.
    Snapshot { checkpoint: CheckpointId },
    /// Tell the coordinator this task's part of `checkpoint` is durable.
    Acknowledge { checkpoint: CheckpointId },
    /// Tell the coordinator this task cannot complete `checkpoint`.
    Decline { checkpoint: CheckpointId },
}

/// The per-task half of a checkpoint protocol.
///
/// Implement this to plug a protocol into the harness: it gets every fault, checker and
/// sweep without any change to snapsim.
pub trait TaskProtocol {
    /// Handles one input at simulated time `now`, appending commands to `out`.
    fn handle(&mut self, now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>);
}
