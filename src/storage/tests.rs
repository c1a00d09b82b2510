//! Storage tests: pending writes are invisible until complete; deletion.

use super::*;
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::rng::{Seed, Stream};

fn store() -> Storage {
    Storage::new(StorageConfig {
        write_latency_min: SimDuration::from_millis(1),
        write_latency_max: SimDuration::from_millis(3),
    })
}

#[test]
fn a_write_is_readable_only_after_it_completes() {
    let mut storage = store();
    let mut rng = SimRng::open(Seed(9), Stream::Storage);
    let name = ObjectName::TaskState { checkpoint: CheckpointId(1), task: TaskId(0) };
    let (write, durable_at) = storage.begin_write(name, vec![1, 2, 3], SimTime::ZERO, &mut rng).expect("available");
    assert!(durable_at >= SimTime::ZERO.after(SimDuration::from_millis(1)));
    assert!(durable_at <= SimTime::ZERO.after(SimDuration::from_millis(3)));
    assert_eq!(storage.read(&name), None);
    assert_eq!(storage.complete_write(write), Some((name, 3)));
    assert_eq!(storage.read(&name), Some(&[1u8, 2, 3][..]));
    assert_eq!(storage.bytes_written(), 3);
}

#[test]
fn delete_where_removes_only_the_selected_objects() {
    let mut storage = store();
    let mut rng = SimRng::open(Seed(9), Stream::Storage);
    for checkpoint in 1..=3 {
        let name = ObjectName::Metadata { checkpoint: CheckpointId(checkpoint) };
        let (write, _) = storage.begin_write(name, vec![0], SimTime::ZERO, &mut rng).expect("available");
        storage.complete_write(write).expect("pending");
    }
    let removed = storage.delete_where(|name| matches!(name, ObjectName::Metadata { checkpoint } if checkpoint.0 < 3));
    assert_eq!(removed.len(), 2);
    assert_eq!(removed[0], ObjectName::Metadata { checkpoint: CheckpointId(1) });
    assert_eq!(storage.durable_count(), 1);
}

#[test]
fn writes_fail_while_unavailable_and_take_longer_while_slow() {
    let mut storage = store();
    let mut rng = SimRng::open(Seed(9), Stream::Storage);
    let name = ObjectName::Metadata { checkpoint: CheckpointId(1) };
    let at = |millis| SimTime::ZERO.after(SimDuration::from_millis(millis));
    storage.make_unavailable(at(10));
    assert_eq!(storage.begin_write(name, vec![0], at(9), &mut rng), Err(WriteRefused));
    let (_, durable_at) = storage.begin_write(name, vec![0], at(10), &mut rng).expect("available again at 10 ms");
    assert!(durable_at <= at(13));
    storage.make_slow(100, at(20));
    let (_, slow) = storage.begin_write(name, vec![0], at(10), &mut rng).expect("slow, not refused");
    assert!(slow >= at(110), "at least 100 x 1 ms: {slow}");
    let (_, normal) = storage.begin_write(name, vec![0], at(20), &mut rng).expect("the window is over");
    assert!(normal <= at(23));
}

#[test]
fn a_torn_write_leaves_half_an_object_and_never_completes() {
    let mut storage = store();
    let mut rng = SimRng::open(Seed(9), Stream::Storage);
    let torn = ObjectName::TaskState { checkpoint: CheckpointId(2), task: TaskId(1) };
    let kept = ObjectName::TaskState { checkpoint: CheckpointId(2), task: TaskId(0) };
    let (torn_write, _) = storage.begin_write(torn, vec![7; 10], SimTime::ZERO, &mut rng).expect("available");
    let (kept_write, _) = storage.begin_write(kept, vec![7; 10], SimTime::ZERO, &mut rng).expect("available");
    assert_eq!(storage.tear_pending(|name| *name == torn), [torn]);
    assert_eq!(storage.read(&torn), Some(&[7u8; 5][..]), "half of it");
    assert_eq!(storage.complete_write(torn_write), None, "its completion never comes");
    assert_eq!(storage.complete_write(kept_write), Some((kept, 10)));
}
