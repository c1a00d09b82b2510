//! Unaligned checkpoints, input by input.

use super::test_support::{barrier, id, steps};
use super::unaligned::UnalignedBarriers;
use super::{TaskCommand, TaskInput, TaskProtocol};

#[test]
fn barriers_are_priority_events() {
    assert!(UnalignedBarriers::new(2).barrier_overtakes(id(1)));
}

#[test]
fn the_first_barrier_snapshots_at_once_keeping_what_it_overtook_and_recording_the_rest() {
    let mut task = UnalignedBarriers::new(3);
    let script = steps(&mut task, &[barrier(1, 1), barrier(0, 1), barrier(2, 1)]);
    let checkpoint = id(1);
    assert_eq!(
        script,
        [
            vec![
                TaskCommand::SnapshotOvertaking { checkpoint },
                TaskCommand::RecordQueued { input: 1, checkpoint },
                TaskCommand::StartRecording { input: 0, checkpoint },
                TaskCommand::StartRecording { input: 2, checkpoint },
            ],
            vec![
                TaskCommand::StopRecording { input: 0, checkpoint },
                TaskCommand::RecordQueued { input: 0, checkpoint }
            ],
            vec![
                TaskCommand::StopRecording { input: 2, checkpoint },
                TaskCommand::RecordQueued { input: 2, checkpoint },
                TaskCommand::Persist { checkpoint },
            ],
        ]
    );
}

#[test]
fn a_source_snapshots_overtaking_and_persists_on_its_trigger() {
    let mut source = UnalignedBarriers::new(0);
    let script = steps(&mut source, &[TaskInput::Trigger { checkpoint: id(2) }]);
    assert_eq!(
        script,
        [vec![TaskCommand::SnapshotOvertaking { checkpoint: id(2) }, TaskCommand::Persist { checkpoint: id(2) }]]
    );
}

#[test]
fn a_newer_barrier_declines_the_pending_checkpoint() {
    let mut task = UnalignedBarriers::new(2);
    let script = steps(&mut task, &[barrier(0, 1), barrier(0, 2)]);
    assert_eq!(script[1][0], TaskCommand::StopRecording { input: 1, checkpoint: id(1) });
    assert_eq!(script[1][1], TaskCommand::Decline { checkpoint: id(1) });
    assert_eq!(script[1][2], TaskCommand::SnapshotOvertaking { checkpoint: id(2) });
}

#[test]
fn an_input_ending_before_its_barrier_declines() {
    let mut task = UnalignedBarriers::new(2);
    let script = steps(&mut task, &[barrier(0, 1), TaskInput::InputEnded { input: 1 }]);
    assert_eq!(
        script[1],
        [TaskCommand::StopRecording { input: 1, checkpoint: id(1) }, TaskCommand::Decline { checkpoint: id(1) }]
    );
}

#[test]
fn the_planted_variant_keeps_no_channel_state() {
    let mut task = UnalignedBarriers::without_channel_state(2);
    let script = steps(&mut task, &[barrier(0, 1), barrier(1, 1)]);
    assert_eq!(
        script,
        [vec![TaskCommand::SnapshotOvertaking { checkpoint: id(1) }], vec![TaskCommand::Persist { checkpoint: id(1) }]]
    );
}

#[test]
fn an_obsolete_barrier_is_ignored_but_the_planted_variant_stops_recording_on_it() {
    // Checkpoint 2 overtook 1 on input 0; then 1's barrier arrives on input 1, obsolete.
    let honest = steps(&mut UnalignedBarriers::new(2), &[barrier(0, 1), barrier(0, 2), barrier(1, 1)]);
    assert_eq!(honest[2], []);
    let planted = [barrier(0, 1), barrier(0, 2), barrier(1, 1)];
    let script = steps(&mut UnalignedBarriers::stopping_recording_on_stale_barriers(2), &planted);
    assert_eq!(script[2], [TaskCommand::StopRecording { input: 1, checkpoint: id(2) }]);
}
