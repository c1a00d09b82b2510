//! Unit tests of the direct sinks: what they ask to write, and when.

use super::direct_sinks::{AT_LEAST_ONCE_BATCH, AtLeastOnceSink, DirectWrite, UpsertSink};
use super::operator::Operator;
use super::record::Record;
use crate::kernel::ids::{RecordId, TaskId};

fn record(offset: u64) -> Record {
    Record {
        id: RecordId { split: crate::kernel::ids::SplitId::of_task(TaskId(0)), offset },
        key: offset % 3,
        value: 1,
        event_time: 0,
    }
}

#[test]
fn an_upsert_sink_writes_every_record_at_once() {
    let mut out = Vec::new();
    UpsertSink.write(record(4), &mut out);
    assert_eq!(out, [DirectWrite::Upsert(record(4))]);
}

#[test]
fn an_at_least_once_sink_appends_a_full_batch_and_everything_at_a_snapshot() {
    let mut sink = AtLeastOnceSink::default();
    let mut out = Vec::new();
    for offset in 0..AT_LEAST_ONCE_BATCH as u64 - 1 {
        sink.write(record(offset), &mut out);
    }
    assert!(out.is_empty(), "buffered until the batch is full");
    sink.write(record(99), &mut out);
    assert_eq!(out.len(), AT_LEAST_ONCE_BATCH, "a full batch is appended");
    out.clear();
    sink.write(record(100), &mut out);
    sink.on_snapshot(&mut out);
    assert_eq!(out, [DirectWrite::Append(record(100))], "the snapshot flushes the rest");
    let mut state = Vec::new();
    sink.snapshot(&mut state);
    assert!(state.is_empty(), "nothing is left to checkpoint");
}

#[test]
fn the_planted_sink_skips_its_snapshot_flush_and_a_restore_drops_the_buffer() {
    let mut sink = AtLeastOnceSink::default().skipping_flush_on_snapshot();
    let mut out = Vec::new();
    sink.write(record(1), &mut out);
    sink.on_snapshot(&mut out);
    assert!(out.is_empty(), "the planted bug keeps the record in its buffer");
    sink.restore(&[]).expect("empty state");
    sink.on_snapshot(&mut out);
    assert!(out.is_empty());
    let mut honest = AtLeastOnceSink::default();
    honest.write(record(2), &mut out);
    honest.restore(&[]).expect("empty state");
    honest.on_snapshot(&mut out);
    assert!(out.is_empty(), "a restore starts from an empty buffer: the replay brings the record back");
    assert!(honest.restore(&[1]).is_err(), "a direct sink keeps no state");
}
