//! Unit tests of the partition-ownership checker: facts by hand that keep it, and facts
//! that break each of its rules.

use super::partition_ownership::PartitionOwnership;
use super::{ExpectedTotals, Invariant, JobShape};
use crate::kernel::ids::{Attempt, CheckpointId, SplitId, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::Fact;
use std::rc::Rc;

const READER_A: TaskId = TaskId(0);
const READER_B: TaskId = TaskId(1);
const ONE: CheckpointId = CheckpointId(1);

/// Two readers in one region, a log of two partitions of 10 records.
fn checker() -> PartitionOwnership {
    let expected = ExpectedTotals {
        source_splits: vec![(SplitId::partition(0), 10), (SplitId::partition(1), 10)],
        ..ExpectedTotals::default()
    };
    let shape = JobShape::single_stage(2, Vec::new(), vec![vec![READER_A, READER_B]]);
    PartitionOwnership::new(&expected, Rc::new(shape))
}

fn feed(checker: &mut PartitionOwnership, facts: &[Fact]) -> Option<(Invariant, String)> {
    facts.iter().find_map(|fact| checker.observe(SimTime::ZERO, fact))
}

fn read(task: TaskId, partition: u32, offset: u64) -> Fact {
    Fact::PartitionRead { task, partition, offset }
}

fn assigned_and_read() -> Vec<Fact> {
    vec![
        Fact::PartitionAssigned { task: READER_A, partition: 0 },
        Fact::PartitionAssigned { task: READER_B, partition: 1 },
        read(READER_A, 0, 0),
        read(READER_A, 0, 1),
        read(READER_B, 1, 0),
        Fact::StateCaptured { task: READER_A, checkpoint: ONE, digest: 0, bytes: 16 },
        Fact::StateCaptured { task: READER_B, checkpoint: ONE, digest: 0, bytes: 16 },
        read(READER_A, 0, 2),
        Fact::JobRestarted { attempt: Attempt(1), checkpoint: Some(ONE) },
        Fact::TaskRestored { task: READER_A, checkpoint: Some(ONE), digest: 0 },
        Fact::TaskRestored { task: READER_B, checkpoint: Some(ONE), digest: 0 },
    ]
}

#[test]
fn readers_restored_at_their_checkpointed_offsets_keep_every_partition_owned_once() {
    let mut checker = checker();
    let mut facts = assigned_and_read();
    facts.extend([
        Fact::PartitionRestored { task: READER_A, partition: 0, offset: 2 },
        Fact::PartitionRestored { task: READER_B, partition: 1, offset: 1 },
        read(READER_A, 0, 2),
    ]);
    assert_eq!(feed(&mut checker, &facts), None);
    assert_eq!(checker.finish(), None);
}

#[test]
fn a_partition_restored_past_its_checkpointed_offset_is_caught_with_both_offsets() {
    let mut checker = checker();
    let mut facts = assigned_and_read();
    facts.push(Fact::PartitionRestored { task: READER_A, partition: 0, offset: 3 });
    let (invariant, detail) = feed(&mut checker, &facts).expect("caught");
    assert_eq!(invariant, Invariant::PartitionOwnership);
    assert!(detail.contains("at offset 3, but it had reached offset 2 when it captured checkpoint 1"), "{detail}");
}

#[test]
fn a_second_owner_a_read_out_of_order_and_a_read_of_another_readers_partition_are_caught() {
    let twice = [
        Fact::PartitionAssigned { task: READER_A, partition: 0 },
        Fact::PartitionAssigned { task: READER_B, partition: 0 },
    ];
    let skipped = [Fact::PartitionAssigned { task: READER_A, partition: 0 }, read(READER_A, 0, 1)];
    let foreign = [Fact::PartitionAssigned { task: READER_A, partition: 0 }, read(READER_B, 0, 0)];
    for (facts, wanted) in [
        (&twice[..], "while task#0 still owns it"),
        (&skipped[..], "but its next offset was 0"),
        (&foreign[..], "which it does not own"),
    ] {
        let (invariant, detail) = feed(&mut checker(), facts).expect("caught");
        assert_eq!(invariant, Invariant::PartitionOwnership);
        assert!(detail.contains(wanted), "{detail}");
    }
}

#[test]
fn a_partition_not_restored_or_never_owned_again_is_caught_at_the_end() {
    let mut unrestored = checker();
    let mut facts = assigned_and_read();
    facts.push(Fact::PartitionRestored { task: READER_B, partition: 1, offset: 1 });
    assert_eq!(feed(&mut unrestored, &facts), None);
    let (_, detail) = unrestored.finish().expect("partition 0 was not restored");
    assert!(detail.contains("held partition 0 at offset 2 when it captured checkpoint 1, but did not"), "{detail}");

    let mut orphan = checker();
    let facts = [
        Fact::PartitionAssigned { task: READER_A, partition: 0 },
        Fact::PartitionAssigned { task: READER_B, partition: 1 },
        Fact::JobRestarted { attempt: Attempt(1), checkpoint: None },
        Fact::PartitionAssigned { task: READER_B, partition: 1 },
    ];
    assert_eq!(feed(&mut orphan, &facts), None);
    let (_, detail) = orphan.finish().expect("partition 0 has no owner");
    assert!(detail.contains("partition 0 is owned by no reader at the end of the run: task#0 owned it"), "{detail}");
}

/// The readers of stage 0 (tasks 0 and 1) retired by a rescale to three (tasks 2, 3, 4).
fn rescaled_checker() -> PartitionOwnership {
    let expected = ExpectedTotals {
        source_splits: vec![(SplitId::partition(0), 10), (SplitId::partition(1), 10)],
        ..ExpectedTotals::default()
    };
    let stage = |tasks: Vec<TaskId>| super::StageShape { regions: vec![tasks.clone()], tasks };
    let shape = JobShape {
        task_count: 5,
        channel_ends: Vec::new(),
        stages: vec![stage(vec![READER_A, READER_B]), stage(vec![TaskId(2), TaskId(3), TaskId(4)])],
        key_groups: Vec::new(),
    };
    PartitionOwnership::new(&expected, Rc::new(shape))
}

/// Checkpoint 1 holds partition 0 at offset 2 (reader A) and 1 at offset 1 (reader B); the
/// job is rescaled and restarts from it, and new reader 2 takes its share.
fn rescaled_restore() -> Vec<Fact> {
    let mut facts = assigned_and_read();
    facts.truncate(7);
    facts.extend([
        Fact::JobRescaled { stage: 1 },
        Fact::JobRestarted { attempt: Attempt(1), checkpoint: Some(ONE) },
        Fact::SplitsRedistributed { task: TaskId(2), checkpoint: ONE, splits: 1 },
        Fact::PartitionRestored { task: TaskId(2), partition: 0, offset: 2 },
    ]);
    facts
}

#[test]
fn a_rescale_that_deals_every_partition_out_at_its_offset_keeps_ownership() {
    let mut checker = rescaled_checker();
    let mut facts = rescaled_restore();
    facts.extend([
        Fact::SplitsRedistributed { task: TaskId(3), checkpoint: ONE, splits: 1 },
        Fact::PartitionRestored { task: TaskId(3), partition: 1, offset: 1 },
        read(TaskId(2), 0, 2),
    ]);
    assert_eq!(feed(&mut checker, &facts), None);
    assert_eq!(checker.finish(), None);
}

#[test]
fn a_rescaled_reader_restoring_a_partition_at_another_offset_is_caught() {
    let mut checker = rescaled_checker();
    let mut facts = rescaled_restore();
    facts.push(Fact::PartitionRestored { task: TaskId(2), partition: 1, offset: 2 });
    let (invariant, detail) = feed(&mut checker, &facts).expect("caught");
    assert_eq!(invariant, Invariant::PartitionOwnership);
    assert!(detail.contains("after the rescale") && detail.contains("had reached offset 1"), "{detail}");
}

#[test]
fn a_partition_no_rescaled_reader_restores_is_caught() {
    let mut checker = rescaled_checker();
    assert_eq!(feed(&mut checker, &rescaled_restore()), None);
    let (invariant, detail) = checker.finish().expect("caught");
    assert_eq!(invariant, Invariant::PartitionOwnership);
    assert!(detail.contains("partition 1") && detail.contains("restored by no reader"), "{detail}");
}
