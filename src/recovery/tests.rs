//! Recovery planning tests: latest checkpoint, fresh start, planted bugs, metadata codec.

use super::*;

/// Tasks `0..count`.
fn first_tasks(count: usize) -> Vec<TaskId> {
    (0..count).map(TaskId::from_index).collect()
}

const ROLES: [TaskRole; 3] = [TaskRole::Source, TaskRole::Keyed, TaskRole::Other];

#[test]
fn without_a_checkpoint_every_task_starts_fresh() {
    assert_eq!(plan_restore(None, &ROLES, &[]), vec![RestoreAction::Fresh; 3]);
}

#[test]
fn with_a_checkpoint_every_task_loads_its_own_object() {
    let metadata = CheckpointMetadata::for_tasks(CheckpointId(4), &first_tasks(3));
    let plan = plan_restore(Some(&metadata), &ROLES, &[]);
    for (index, action) in plan.iter().enumerate() {
        let expected = ObjectName::TaskState { checkpoint: CheckpointId(4), task: TaskId::from_index(index) };
        assert_eq!(*action, RestoreAction::FromObject(expected));
    }
}

#[test]
fn planted_bugs_keep_live_state_on_the_tasks_they_target() {
    let metadata = CheckpointMetadata::for_tasks(CheckpointId(2), &first_tasks(3));
    let forget = plan_restore(Some(&metadata), &ROLES, &[PlantedBug::ForgetSourceRewind]);
    assert_eq!(forget[0], RestoreAction::KeepLive);
    assert!(matches!(forget[1], RestoreAction::FromObject(_)));
    let skip = plan_restore(Some(&metadata), &ROLES, &[PlantedBug::SkipKeyedStateRestore]);
    assert!(matches!(skip[0], RestoreAction::FromObject(_)));
    assert_eq!(skip[1], RestoreAction::KeepLive);
}

#[test]
fn metadata_round_trips_and_rejects_truncation() {
    let metadata = CheckpointMetadata::for_tasks(CheckpointId(9), &first_tasks(5));
    let bytes = metadata.encode();
    assert_eq!(CheckpointMetadata::decode(&bytes), Some(metadata));
    assert_eq!(CheckpointMetadata::decode(&bytes[..bytes.len() - 1]), None);
    assert_eq!(CheckpointMetadata::decode(&[]), None);
}

#[test]
fn the_neighbour_plant_rotates_keyed_restores_only() {
    let roles = [TaskRole::Source, TaskRole::Keyed, TaskRole::Keyed, TaskRole::Keyed, TaskRole::Other];
    let metadata = CheckpointMetadata::for_tasks(CheckpointId(1), &first_tasks(roles.len()));
    let honest = plan_restore(Some(&metadata), &roles, &[]);
    let rotated = plan_restore(Some(&metadata), &roles, &[PlantedBug::RestoreNeighbourState]);
    assert_eq!(rotated[0], honest[0]);
    assert_eq!(rotated[1..4], [honest[2], honest[3], honest[1]]);
    assert_eq!(rotated[4], honest[4]);
}

#[test]
fn a_task_snapshot_round_trips_with_channel_state_and_refuses_damage() {
    use super::snapshot_object::TaskSnapshot;
    use crate::dataflow::record::Record;
    use crate::kernel::ids::RecordId;
    let record = Record {
        id: RecordId { split: crate::kernel::ids::SplitId::of_task(TaskId(1)), offset: 7 },
        key: 3,
        value: -2,
        event_time: 1_234,
    };
    let snapshot = TaskSnapshot {
        state: vec![1, 2, 3],
        channel_state: vec![(0, record), (2, record)],
        output_state: vec![(5, record)],
    };
    let bytes = snapshot.encode();
    assert_eq!(TaskSnapshot::decode(&bytes), Some(snapshot));
    assert_eq!(TaskSnapshot::decode(&bytes[..bytes.len() - 1]), None);
    assert_eq!(TaskSnapshot::decode(&[9, 0, 0, 0, 0, 0, 0, 0]), None, "a state longer than the object");
    let mut too_many_inputs = TaskSnapshot::default().encode();
    too_many_inputs[8] = 1;
    assert_eq!(TaskSnapshot::decode(&too_many_inputs), None, "more input rows than rows");
    let empty = TaskSnapshot::default();
    assert_eq!(TaskSnapshot::decode(&empty.encode()), Some(empty));
}

#[test]
fn a_torn_or_corrupted_object_is_refused_by_its_checksum() {
    use crate::dataflow::record::Record;
    use crate::kernel::ids::RecordId;
    use crate::recovery::snapshot_object::TaskSnapshot;
    let record = Record {
        id: RecordId { split: crate::kernel::ids::SplitId::of_task(crate::kernel::ids::TaskId(0)), offset: 3 },
        key: 1,
        value: 2,
        event_time: 5,
    };
    let snapshot =
        TaskSnapshot { state: vec![1, 2, 3, 4, 5, 6, 7, 8], channel_state: vec![(0, record)], output_state: vec![] };
    let bytes = snapshot.encode();
    assert_eq!(TaskSnapshot::decode(&bytes), Some(snapshot));
    assert_eq!(TaskSnapshot::decode(&bytes[..bytes.len() / 2]), None, "torn: half of it");
    let mut flipped = bytes.clone();
    flipped[3] ^= 1;
    assert_eq!(TaskSnapshot::decode(&flipped), None, "one bit flipped");
    let metadata = CheckpointMetadata::for_tasks(CheckpointId(2), &first_tasks(3)).encode();
    assert_eq!(CheckpointMetadata::decode(&metadata[..metadata.len() / 2]), None);
}
