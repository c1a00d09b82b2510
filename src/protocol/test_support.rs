//! What the protocol unit tests share: feeding a task protocol a script of inputs.

use super::{TaskCommand, TaskInput, TaskProtocol};
use crate::kernel::time::SimTime;

/// Feeds `inputs` to `protocol` at time zero, one by one; returns the commands of each.
pub fn steps(protocol: &mut dyn TaskProtocol, inputs: &[TaskInput]) -> Vec<Vec<TaskCommand>> {
    inputs
        .iter()
        .map(|&input| {
            let mut out = Vec::new();
            protocol.handle(SimTime::ZERO, input, &mut out);
            out
        })
        .collect()
}
