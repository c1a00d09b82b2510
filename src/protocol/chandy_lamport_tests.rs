//! Chandy-Lamport, input by input: the exact commands for each marker, end and abort.

use super::chandy_lamport::ChandyLamport;
use super::test_support::{barrier as marker, id, persist, snapshot, steps};
use super::{TaskCommand, TaskInput};

fn start(input: u32, checkpoint: u64) -> TaskCommand {
    TaskCommand::StartRecording { input, checkpoint: id(checkpoint) }
}

fn stop(input: u32, checkpoint: u64) -> TaskCommand {
    TaskCommand::StopRecording { input, checkpoint: id(checkpoint) }
}

#[test]
fn a_source_records_and_persists_at_once_on_its_trigger() {
    let mut source = ChandyLamport::new(0);
    let script =
        steps(&mut source, &[TaskInput::Trigger { checkpoint: id(1) }, TaskInput::Trigger { checkpoint: id(1) }]);
    assert_eq!(script, [vec![snapshot(1), persist(1)], vec![]]);
}

#[test]
fn the_first_marker_snapshots_and_records_every_other_input_until_its_marker() {
    let mut task = ChandyLamport::new(3);
    let script = steps(&mut task, &[marker(1, 1), marker(0, 1), marker(2, 1)]);
    assert_eq!(
        script,
        [vec![snapshot(1), start(0, 1), start(2, 1)], vec![stop(0, 1)], vec![stop(2, 1), persist(1)]],
        "never blocks; persists once every marker is in"
    );
}

#[test]
fn a_one_input_task_persists_on_its_marker_without_recording() {
    let mut task = ChandyLamport::new(1);
    assert_eq!(steps(&mut task, &[marker(0, 4)]), [vec![snapshot(4), persist(4)]]);
}

#[test]
fn several_snapshots_may_be_in_progress_at_once() {
    let mut task = ChandyLamport::new(2);
    let script = steps(&mut task, &[marker(0, 1), marker(0, 2), marker(1, 1), marker(1, 2)]);
    assert_eq!(
        script,
        [
            vec![snapshot(1), start(1, 1)],
            vec![snapshot(2), start(1, 2)],
            vec![stop(1, 1), persist(1)],
            vec![stop(1, 2), persist(2)],
        ]
    );
}

#[test]
fn a_marker_of_a_finished_or_aborted_snapshot_is_ignored() {
    let mut task = ChandyLamport::new(2);
    let aborted = TaskInput::CheckpointAborted { checkpoint: id(2) };
    let script = steps(&mut task, &[marker(0, 1), marker(1, 1), marker(0, 1), aborted, marker(0, 2)]);
    assert_eq!(script[2], vec![], "snapshot 1 is done");
    assert_eq!(script[3], vec![], "nothing of 2 was in progress");
    assert_eq!(script[4], vec![], "2 was aborted before its first marker");
}

#[test]
fn an_abort_stops_the_recordings_of_the_snapshots_it_covers() {
    let mut task = ChandyLamport::new(3);
    let script = steps(&mut task, &[marker(0, 3), TaskInput::CheckpointAborted { checkpoint: id(3) }]);
    assert_eq!(script[1], [stop(1, 3), stop(2, 3)]);
}

#[test]
fn an_input_ending_before_its_marker_declines_the_snapshot() {
    let mut task = ChandyLamport::new(2);
    let script = steps(&mut task, &[marker(0, 1), TaskInput::InputEnded { input: 1 }, marker(0, 2)]);
    assert_eq!(script[1], [stop(1, 1), TaskCommand::Decline { checkpoint: id(1) }]);
    assert_eq!(script[2], [snapshot(2), persist(2)], "the ended input is not waited for");
}

#[test]
fn without_channel_state_the_planted_variant_records_nothing() {
    let mut task = ChandyLamport::without_channel_state(2);
    assert_eq!(steps(&mut task, &[marker(0, 1), marker(1, 1)]), [vec![snapshot(1)], vec![persist(1)]]);
}

#[test]
fn persisted_state_is_acknowledged() {
    let mut task = ChandyLamport::new(1);
    let script = steps(&mut task, &[TaskInput::StatePersisted { checkpoint: id(5) }]);
    assert_eq!(script, [vec![TaskCommand::Acknowledge { checkpoint: id(5) }]]);
}

#[test]
fn a_task_with_inputs_may_initiate_and_records_every_input() {
    // Any account of the bank initiates: on its trigger it records its state, sends markers
    // and records all of its inputs until each input's marker arrives.
    let mut account = ChandyLamport::new(2);
    let script = steps(&mut account, &[TaskInput::Trigger { checkpoint: id(1) }, marker(0, 1), marker(1, 1)]);
    assert_eq!(script, [vec![snapshot(1), start(0, 1), start(1, 1)], vec![stop(0, 1)], vec![stop(1, 1), persist(1)]]);
}

#[test]
fn markers_of_an_older_snapshot_after_a_newer_one_still_start_it() {
    // Two initiators: snapshot 2's marker reaches this task before snapshot 1's. Both are
    // snapshots of their own, and each completes.
    let mut task = ChandyLamport::new(2);
    let script = steps(&mut task, &[marker(0, 2), marker(1, 1), marker(1, 2), marker(0, 1)]);
    assert_eq!(
        script,
        [
            vec![snapshot(2), start(1, 2)],
            vec![snapshot(1), start(0, 1)],
            vec![stop(1, 2), persist(2)],
            vec![stop(0, 1), persist(1)],
        ]
    );
}

#[test]
fn a_late_marker_of_an_aborted_snapshot_starts_nothing() {
    let mut task = ChandyLamport::new(2);
    let script = steps(
        &mut task,
        &[marker(0, 1), TaskInput::CheckpointAborted { checkpoint: id(1) }, marker(1, 1), marker(0, 2)],
    );
    assert_eq!(script, [vec![snapshot(1), start(1, 1)], vec![stop(1, 1)], vec![], vec![snapshot(2), start(1, 2)]]);
}
