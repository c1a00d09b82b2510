//! At-least-once barrier tracking, input by input.

use super::at_least_once::AtLeastOnce;
use super::test_support::{barrier, persist, snapshot, steps};
use super::{TaskCommand, TaskInput};
use crate::kernel::ids::CheckpointId;

fn snapshot_and_persist(checkpoint: u64) -> Vec<TaskCommand> {
    vec![snapshot(checkpoint), persist(checkpoint)]
}

#[test]
fn a_task_never_blocks_and_snapshots_when_every_barrier_is_in() {
    let mut task = AtLeastOnce::new(2);
    let script = steps(&mut task, &[barrier(0, 1), barrier(1, 1)]);
    assert_eq!(script, [vec![], snapshot_and_persist(1)]);
}

#[test]
fn completing_a_newer_checkpoint_declines_the_older_pending_one() {
    let mut task = AtLeastOnce::new(2);
    let script = steps(&mut task, &[barrier(0, 1), barrier(0, 2), barrier(1, 2), barrier(1, 1)]);
    let mut expected = vec![TaskCommand::Decline { checkpoint: CheckpointId(1) }];
    expected.extend(snapshot_and_persist(2));
    assert_eq!(script, [vec![], vec![], expected, vec![]], "the late barrier of 1 is obsolete");
}

#[test]
fn an_input_ending_declines_what_waits_for_it_and_later_checkpoints_ignore_it() {
    let mut task = AtLeastOnce::new(2);
    let script = steps(&mut task, &[barrier(0, 1), TaskInput::InputEnded { input: 1 }, barrier(0, 2)]);
    assert_eq!(script, [vec![], vec![TaskCommand::Decline { checkpoint: CheckpointId(1) }], snapshot_and_persist(2)]);
}

#[test]
fn a_source_snapshots_on_its_trigger_and_aborts_make_checkpoints_obsolete() {
    let mut source = AtLeastOnce::new(0);
    let aborted = TaskInput::CheckpointAborted { checkpoint: CheckpointId(2) };
    let script = steps(
        &mut source,
        &[
            TaskInput::Trigger { checkpoint: CheckpointId(1) },
            aborted,
            TaskInput::Trigger { checkpoint: CheckpointId(2) },
        ],
    );
    assert_eq!(script, [snapshot_and_persist(1), vec![], vec![]]);
}
