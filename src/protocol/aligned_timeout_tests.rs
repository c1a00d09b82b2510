//! Aligned with a timeout, input by input: aligned while in time, unaligned after.

use super::aligned_timeout::AlignedWithTimeout;
use super::{TaskCommand, TaskInput, TaskProtocol};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::{SimDuration, SimTime};

const TIMEOUT: SimDuration = SimDuration::from_millis(2);

fn at(millis: u64) -> SimTime {
    SimTime::ZERO.after(SimDuration::from_millis(millis))
}

fn handle(protocol: &mut AlignedWithTimeout, now: SimTime, input: TaskInput) -> Vec<TaskCommand> {
    let mut out = Vec::new();
    protocol.handle(now, input, &mut out);
    out
}

fn barrier(input: u32) -> TaskInput {
    TaskInput::Barrier { input, checkpoint: CheckpointId(1) }
}

const ONE: CheckpointId = CheckpointId(1);

#[test]
fn an_alignment_in_time_is_an_ordinary_aligned_checkpoint() {
    let mut task = AlignedWithTimeout::new(2, TIMEOUT);
    assert_eq!(
        handle(&mut task, at(0), barrier(0)),
        [TaskCommand::SetTimer { at: at(2) }, TaskCommand::BlockInput { input: 0, checkpoint: ONE }]
    );
    assert!(!task.barrier_overtakes(ONE));
    assert_eq!(
        handle(&mut task, at(1), barrier(1)),
        [
            TaskCommand::Snapshot { checkpoint: ONE },
            TaskCommand::UnblockAllInputs,
            TaskCommand::Persist { checkpoint: ONE }
        ]
    );
    assert_eq!(handle(&mut task, at(2), TaskInput::Timer), [], "the timer of a finished alignment does nothing");
}

#[test]
fn an_alignment_past_the_timeout_switches_to_unaligned() {
    let mut task = AlignedWithTimeout::new(3, TIMEOUT);
    handle(&mut task, at(0), barrier(0));
    assert_eq!(
        handle(&mut task, at(2), TaskInput::Timer),
        [
            TaskCommand::SnapshotOvertaking { checkpoint: ONE },
            TaskCommand::UnblockAllInputs,
            TaskCommand::StartRecording { input: 1, checkpoint: ONE },
            TaskCommand::StartRecording { input: 2, checkpoint: ONE },
        ]
    );
    assert!(task.barrier_overtakes(ONE), "the remaining barriers are taken on arrival");
    assert!(!task.barrier_overtakes(CheckpointId(2)), "a newer checkpoint's barrier waits its turn");
    assert_eq!(
        handle(&mut task, at(3), barrier(1)),
        [
            TaskCommand::StopRecording { input: 1, checkpoint: ONE },
            TaskCommand::RecordQueued { input: 1, checkpoint: ONE }
        ]
    );
    let last = handle(&mut task, at(3), barrier(2));
    assert_eq!(last.last(), Some(&TaskCommand::Persist { checkpoint: ONE }));
    assert!(!task.barrier_overtakes(CheckpointId(2)), "back to aligned for the next checkpoint");
}

#[test]
fn a_timer_before_the_deadline_does_not_switch() {
    let mut task = AlignedWithTimeout::new(2, TIMEOUT);
    handle(&mut task, at(0), barrier(0));
    assert_eq!(handle(&mut task, at(1), TaskInput::Timer), []);
}
