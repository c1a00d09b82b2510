//! Unit tests of the partitioned log's reader side, the split enumerator and the event-time
//! window: each as a pure state machine, fed inputs by hand.

use super::enumerator::{EnumeratorCommand, EnumeratorInput, SplitEnumerator};
use super::operator::Operator;
use super::record::Record;
use super::source::{EVENT_TIME_STEP_US, KeyDistribution, WorkloadSpec};
use super::split_reader::{PartitionCatalog, ReadStep, SplitReader};
use super::window::{TumblingWindow, window_result_id};
use crate::kernel::ids::{CheckpointId, RecordId, SplitId, VertexId};
use crate::kernel::rng::Seed;
use std::rc::Rc;

fn workload() -> WorkloadSpec {
    WorkloadSpec {
        records_per_source_subtask: 0,
        key_count: 4,
        key_distribution: KeyDistribution::Uniform,
        value_max: 9,
    }
}

fn catalog(partitions: u32, length: u64) -> Rc<PartitionCatalog> {
    let bases = (0..partitions).map(|partition| u64::from(partition / 2) * length * EVENT_TIME_STEP_US).collect();
    Rc::new(PartitionCatalog {
        seed: Seed(7),
        workload: workload(),
        records_per_partition: length,
        event_time_bases: bases,
    })
}

fn handle(enumerator: &mut SplitEnumerator, input: EnumeratorInput) -> Vec<EnumeratorCommand> {
    let mut out = Vec::new();
    enumerator.handle(input, &mut out);
    out
}

const fn assign(subtask: u32, partition: u32) -> EnumeratorCommand {
    EnumeratorCommand::Assign { subtask, partition }
}

#[test]
fn the_enumerator_assigns_each_partition_to_its_registered_reader_and_then_says_no_more() {
    let mut enumerator = SplitEnumerator::new(2);
    assert_eq!(handle(&mut enumerator, EnumeratorInput::ReaderRegistered { subtask: 0 }), []);
    let discovered = handle(&mut enumerator, EnumeratorInput::Discovered { partitions: 3, complete: false });
    assert_eq!(discovered, [assign(0, 0), assign(0, 2)], "reader 1 is not registered yet");
    let registered = handle(&mut enumerator, EnumeratorInput::ReaderRegistered { subtask: 1 });
    assert_eq!(registered, [assign(1, 1)]);
    let grown = handle(&mut enumerator, EnumeratorInput::Discovered { partitions: 4, complete: true });
    let no_more =
        [assign(1, 3), EnumeratorCommand::NoMoreSplits { subtask: 0 }, EnumeratorCommand::NoMoreSplits { subtask: 1 }];
    assert_eq!(grown, no_more);
    assert_eq!(handle(&mut enumerator, EnumeratorInput::Discovered { partitions: 4, complete: true }), []);
}

#[test]
fn a_reader_reset_gets_back_exactly_what_it_was_given_after_the_restored_checkpoint() {
    let mut enumerator = SplitEnumerator::new(2);
    handle(&mut enumerator, EnumeratorInput::ReaderRegistered { subtask: 0 });
    handle(&mut enumerator, EnumeratorInput::ReaderRegistered { subtask: 1 });
    handle(&mut enumerator, EnumeratorInput::Discovered { partitions: 2, complete: false });
    handle(&mut enumerator, EnumeratorInput::CheckpointTriggered { checkpoint: CheckpointId(1) });
    handle(&mut enumerator, EnumeratorInput::Discovered { partitions: 4, complete: true });
    handle(&mut enumerator, EnumeratorInput::ReaderFailed { subtask: 0 });
    // Restored from checkpoint 1: partition 0 is in the reader's state, partition 2 came later.
    handle(&mut enumerator, EnumeratorInput::ReaderReset { subtask: 0, checkpoint: Some(CheckpointId(1)) });
    let back = handle(&mut enumerator, EnumeratorInput::ReaderRegistered { subtask: 0 });
    assert_eq!(back, [assign(0, 2), EnumeratorCommand::NoMoreSplits { subtask: 0 }]);
}

#[test]
fn from_scratch_a_reset_reader_gets_everything_back_unless_the_flink_20396_bug_is_planted() {
    for (planted, expected) in [(false, vec![assign(0, 0), assign(0, 2)]), (true, vec![])] {
        let mut enumerator = SplitEnumerator::new(2);
        if planted {
            enumerator = enumerator.forgetting_assignments_before_first_checkpoint();
        }
        handle(&mut enumerator, EnumeratorInput::ReaderRegistered { subtask: 0 });
        handle(&mut enumerator, EnumeratorInput::Discovered { partitions: 4, complete: false });
        handle(&mut enumerator, EnumeratorInput::ReaderFailed { subtask: 0 });
        handle(&mut enumerator, EnumeratorInput::ReaderReset { subtask: 0, checkpoint: None });
        assert_eq!(handle(&mut enumerator, EnumeratorInput::ReaderRegistered { subtask: 0 }), expected, "{planted}");
    }
}

#[test]
fn the_enumerator_snapshot_restores_its_assignments_and_what_it_had_not_assigned() {
    let mut enumerator = SplitEnumerator::new(2);
    handle(&mut enumerator, EnumeratorInput::ReaderRegistered { subtask: 0 });
    handle(&mut enumerator, EnumeratorInput::Discovered { partitions: 2, complete: true });
    let snapshot = enumerator.snapshot();
    let mut restored = SplitEnumerator::new(2);
    restored.restore(CheckpointId(3), &snapshot).expect("decodes");
    assert_eq!(restored.snapshot(), snapshot);
    // Partition 1 was never assigned: the restored enumerator assigns it once reader 1 comes.
    assert_eq!(
        handle(&mut restored, EnumeratorInput::ReaderRegistered { subtask: 0 }),
        [EnumeratorCommand::NoMoreSplits { subtask: 0 }]
    );
    assert_eq!(
        handle(&mut restored, EnumeratorInput::ReaderRegistered { subtask: 1 }),
        [assign(1, 1), EnumeratorCommand::NoMoreSplits { subtask: 1 }]
    );
    assert!(restored.restore(CheckpointId(3), &[1, 2, 3]).is_err(), "bytes that are not rows are refused");
}

fn drain(reader: &mut SplitReader) -> Vec<(u32, u64)> {
    let mut read = Vec::new();
    while let ReadStep::Record(partition, record) = reader.read_next() {
        read.push((partition, record.id.offset));
    }
    read
}

#[test]
fn a_reader_reads_its_partitions_round_robin_waits_then_finishes() {
    let mut reader = SplitReader::new(catalog(4, 2));
    assert_eq!(reader.read_next(), ReadStep::Waiting);
    assert_eq!(reader.watermark(), None, "no partition: no watermark");
    reader.add_split(0, 0);
    reader.add_split(2, 1);
    assert_eq!(drain(&mut reader), [(0, 0), (2, 1), (0, 1)]);
    assert_eq!(reader.read_next(), ReadStep::Waiting, "more may be assigned");
    reader.no_more_splits();
    assert_eq!(reader.read_next(), ReadStep::Finished);
}

#[test]
fn a_reader_state_restores_partitions_and_offsets_and_records_are_the_same_again() {
    let mut reader = SplitReader::new(catalog(4, 5));
    reader.add_split(1, 0);
    reader.add_split(3, 2);
    let first: Vec<Record> = (0..3).filter_map(|_| step_record(&mut reader)).collect();
    let mut state = Vec::new();
    reader.snapshot(&mut state);
    let mut later: Vec<RecordId> = (0..4).filter_map(|_| step_record(&mut reader)).map(|record| record.id).collect();
    let mut restored = SplitReader::new(catalog(4, 5));
    restored.restore(&state).expect("decodes");
    let mut replayed: Vec<RecordId> =
        (0..4).filter_map(|_| step_record(&mut restored)).map(|record| record.id).collect();
    // The round-robin turn is not state: the same records come, perhaps interleaved anew.
    later.sort();
    replayed.sort();
    assert_eq!(replayed, later, "a restore replays exactly what followed the snapshot");
    assert_eq!(first[0].id, RecordId { split: SplitId::partition(1), offset: 0 });
    assert!(restored.restore(&[0; 16]).is_ok() && restored.partitions().eq([(0, 0)]));
    let mut beyond = Vec::new();
    super::state_codec::push_row(&mut beyond, [9, 0]);
    assert!(restored.restore(&beyond).is_err(), "a partition the log does not have is refused");
}

fn step_record(reader: &mut SplitReader) -> Option<Record> {
    match reader.read_next() {
        ReadStep::Record(_, record) => Some(record),
        _ => None,
    }
}

#[test]
fn a_readers_watermark_never_passes_a_record_it_has_still_to_read() {
    let mut reader = SplitReader::new(catalog(4, 50));
    reader.add_split(0, 0);
    reader.add_split(3, 0);
    let mut watermark = 0;
    while let Some(record) = step_record(&mut reader) {
        assert!(record.event_time > watermark, "{record:?} is late against {watermark}");
        let now = reader.watermark().expect("it holds partitions");
        assert!(now >= watermark, "watermarks never go back");
        watermark = now;
    }
    assert!(watermark >= 49 * EVENT_TIME_STEP_US, "read to the end, the watermark is the last record's: {watermark}");
}

fn record(key: u64, event_time: u64, value: i64) -> Record {
    Record { id: RecordId { split: SplitId::partition(0), offset: event_time }, key, value, event_time }
}

#[test]
fn a_window_fires_each_key_and_window_once_the_watermark_passes_its_end() {
    let mut window = TumblingWindow::new(VertexId(1), 100, 128);
    let mut out = Vec::new();
    for (key, time, value) in [(1, 5, 2), (1, 99, 3), (2, 50, 7), (1, 100, 11)] {
        window.process(&record(key, time, value), &mut out);
    }
    assert!(out.is_empty(), "a window emits only on the watermark");
    window.advance_watermark(98, &mut out);
    assert!(out.is_empty(), "window 0 ends at 99");
    window.advance_watermark(99, &mut out);
    let fired: Vec<(RecordId, u64, i64)> = out.iter().map(|result| (result.id, result.key, result.value)).collect();
    assert_eq!(fired, [(window_result_id(VertexId(1), 0, 1), 1, 5), (window_result_id(VertexId(1), 0, 2), 2, 7)]);
    out.clear();
    window.process(&record(3, 60, 1), &mut out);
    assert_eq!(window.late_records(), 1, "a record for a fired window is late and dropped");
    window.advance_watermark(u64::MAX, &mut out);
    assert_eq!(out.len(), 1, "the end of data fires the rest: {out:?}");
    assert_eq!((out[0].key, out[0].value, out[0].event_time), (1, 11, 199));
}

#[test]
fn a_window_snapshot_keeps_contents_and_timers_and_a_restore_fires_the_same() {
    let mut window = TumblingWindow::new(VertexId(0), 10, 128);
    let mut out = Vec::new();
    for (key, time, value) in [(0, 1, 4), (0, 12, 5), (3, 15, 6)] {
        window.process(&record(key, time, value), &mut out);
    }
    let mut state = Vec::new();
    window.snapshot(&mut state);
    let mut restored = TumblingWindow::new(VertexId(0), 10, 128);
    restored.restore(&state).expect("decodes");
    let (mut live, mut again) = (Vec::new(), Vec::new());
    window.advance_watermark(u64::MAX, &mut live);
    restored.advance_watermark(u64::MAX, &mut again);
    assert_eq!(live, again);
    assert_eq!(live.len(), 3);
    let mut grouped = super::keyed_state::KeyGroupedBytes::new();
    super::state_codec::push_row(grouped.section_mut(super::keyed::key_group_of(0, 128)), [7, 0, 0, 0, 0, 0]);
    let mut bad = Vec::new();
    grouped.encode(&mut bad);
    let error = restored.restore(&bad).expect_err("an unknown row tag is refused");
    assert!(error.0.contains("tag 0 or 1, not 7"), "{error}");
}
