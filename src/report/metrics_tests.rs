//! Metric unit tests over hand-written facts.

use super::metrics::{ProtocolMetrics, protocol_metrics};
use crate::kernel::ids::{Attempt, ChannelId, CheckpointId, TaskId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::{Fact, TimedFact};

fn at(millis: u64, fact: Fact) -> TimedFact {
    TimedFact { time: SimTime::ZERO.after(SimDuration::from_millis(millis)), fact }
}

const ONE: CheckpointId = CheckpointId(1);

#[test]
fn a_checkpoints_duration_blocking_and_bytes_come_from_its_facts() {
    let facts = [
        at(10, Fact::CheckpointTriggered { checkpoint: ONE }),
        at(11, Fact::InputBlocked { task: TaskId(2), channel: ChannelId(0), checkpoint: ONE }),
        at(11, Fact::InputBlocked { task: TaskId(2), channel: ChannelId(1), checkpoint: ONE }),
        at(14, Fact::InputsUnblocked { task: TaskId(2) }),
        at(14, Fact::StateCaptured { task: TaskId(2), checkpoint: ONE, digest: 0, bytes: 100 }),
        at(14, Fact::StateCaptured { task: TaskId(3), checkpoint: ONE, digest: 0, bytes: 20 }),
        at(15, Fact::ChannelStateRecorded { task: TaskId(3), checkpoint: ONE, channel: ChannelId(2), sequence: 7 }),
        at(17, Fact::CheckpointCompleted { checkpoint: ONE }),
    ];
    let metrics = protocol_metrics(&facts);
    assert_eq!(metrics.completed, 1);
    assert_eq!(metrics.durations, [SimDuration::from_millis(7)]);
    assert_eq!(metrics.blocked, [SimDuration::from_millis(3)], "one blocked interval per task, from its first block");
    assert_eq!(metrics.state_bytes, [120]);
    assert_eq!(metrics.channel_records, [1]);
    assert_eq!(ProtocolMetrics::channel_bytes(1), 48);
}

#[test]
fn a_recovery_counts_re_reads_and_ends_when_sources_are_back_where_they_were() {
    let read = |millis, offset| at(millis, Fact::SourceRead { task: TaskId(0), offset });
    let facts = [
        read(1, 0),
        read(2, 1),
        read(3, 2),
        at(4, Fact::TaskCrashed { task: TaskId(1) }),
        at(9, Fact::JobRestarted { attempt: Attempt(1), checkpoint: None }),
        read(10, 0),
        read(11, 1),
        read(12, 2),
        read(13, 3),
    ];
    let metrics = protocol_metrics(&facts);
    assert_eq!(metrics.recoveries, 1);
    assert_eq!(metrics.records_replayed, 3);
    assert_eq!(metrics.recovery_times, [SimDuration::from_millis(8)], "back at offset 2 at 12 ms, crash at 4 ms");
}

#[test]
fn an_aborted_checkpoint_counts_only_as_aborted() {
    let facts = [
        at(1, Fact::CheckpointTriggered { checkpoint: ONE }),
        at(2, Fact::CheckpointAborted { checkpoint: ONE, reason: crate::kernel::trace::AbortReason::Expired }),
    ];
    let metrics = protocol_metrics(&facts);
    assert_eq!((metrics.completed, metrics.aborted), (0, 1));
    assert!(metrics.durations.is_empty());
}
