//! Deliberately wrong protocol variants, used to prove that the checks bite. Never chosen
//! unless a planted bug asks for it.

use super::aligned::AlignedBarriers;
use super::{TaskCommand, TaskInput, TaskProtocol};
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
