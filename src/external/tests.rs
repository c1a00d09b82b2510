//! Unit tests of the external system: transactions, fencing, leftovers, timeouts, outages.

use super::{CommitOutcome, ExternalConfig, ExternalStore, Incarnation, Isolation, ReaderView, TransactionState};
use crate::dataflow::record::Record;
use crate::kernel::ids::{RecordId, TaskId, TransactionId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::{ExternalError, TransactionAbort};

fn store() -> ExternalStore {
    ExternalStore::new(ExternalConfig {
        transaction_timeout: SimDuration::from_millis(100),
        reader_isolation: Isolation::ReadCommitted,
        reader_poll: SimDuration::ZERO,
    })
}

fn txn(sink: u32, sequence: u64) -> TransactionId {
    TransactionId { sink: TaskId(sink), sequence }
}

fn record(offset: u64) -> Record {
    Record {
        id: RecordId { split: crate::kernel::ids::SplitId::of_task(TaskId(0)), offset },
        key: 1,
        value: 1,
        event_time: 0,
    }
}

const NOW: SimTime = SimTime::from_nanos(1_000);

#[test]
fn a_transaction_commits_its_writes_once_and_a_second_commit_is_a_no_op() {
    let mut store = store();
    assert_eq!(store.begin(txn(3, 0), NOW), Ok((0, None)));
    store.write(txn(3, 0), record(0), NOW).expect("open");
    store.write(txn(3, 0), record(1), NOW).expect("open");
    store.prepare(txn(3, 0), NOW).expect("open");
    assert_eq!(store.write(txn(3, 0), record(2), NOW), Err(ExternalError::Aborted), "prepared takes no writes");
    let both = vec![record(0), record(1)];
    assert_eq!(store.commit(txn(3, 0), NOW), Ok(CommitOutcome::Committed { epoch: 0, records: both.clone() }));
    assert_eq!(store.commit(txn(3, 0), NOW), Ok(CommitOutcome::AlreadyCommitted));
    let mut planted = self::store().republishing_on_recommit();
    planted.begin(txn(3, 0), NOW).expect("available");
    planted.write(txn(3, 0), record(0), NOW).expect("open");
    planted.commit(txn(3, 0), NOW).expect("open");
    let again = planted.commit(txn(3, 0), NOW);
    assert_eq!(again, Ok(CommitOutcome::Committed { epoch: 0, records: vec![record(0)] }), "the planted bug");
}

#[test]
fn opening_an_id_again_fences_its_earlier_incarnation() {
    let mut store = store();
    store.begin(txn(3, 1), NOW).expect("available");
    store.write(txn(3, 1), record(0), NOW).expect("open");
    assert_eq!(store.begin(txn(3, 1), NOW), Ok((1, Some(Incarnation { txn: txn(3, 1), epoch: 0 }))));
    let fresh = CommitOutcome::Committed { epoch: 1, records: Vec::new() };
    assert_eq!(store.commit(txn(3, 1), NOW), Ok(fresh), "the old writes are gone");
}

#[test]
fn a_restarted_sink_aborts_its_leftovers_from_its_restored_number_on() {
    let mut store = store();
    for sequence in 0..4 {
        store.begin(txn(3, sequence), NOW).expect("available");
        store.prepare(txn(3, sequence), NOW).expect("open");
    }
    store.commit(txn(3, 0), NOW).expect("prepared");
    store.begin(txn(4, 2), NOW).expect("another sink's");
    let aborted = store.abort_lingering(TaskId(3), 2, NOW).expect("available");
    assert_eq!(aborted, [Incarnation { txn: txn(3, 2), epoch: 0 }, Incarnation { txn: txn(3, 3), epoch: 0 }]);
    assert_eq!(store.state(txn(3, 0)), Some(TransactionState::Committed));
    assert_eq!(store.state(txn(3, 1)), Some(TransactionState::Prepared), "before the restored number: kept");
    assert_eq!(store.state(txn(4, 2)), Some(TransactionState::Open), "another sink's is not touched");
    assert_eq!(store.commit(txn(3, 2), NOW), Err(ExternalError::Aborted));
}

#[test]
fn a_timed_out_transaction_is_aborted_and_its_commit_fails() {
    let mut store = store();
    store.begin(txn(3, 0), NOW).expect("available");
    store.prepare(txn(3, 0), NOW).expect("open");
    assert_eq!(store.timeout_of(NOW), SimTime::from_nanos(100_001_000));
    let first = Incarnation { txn: txn(3, 0), epoch: 0 };
    assert!(store.abort(first, TransactionAbort::TimedOut));
    assert_eq!(store.commit(txn(3, 0), NOW), Err(ExternalError::Aborted));
    assert!(!store.abort(first, TransactionAbort::TimedOut), "once");
}

#[test]
fn the_timeout_of_an_earlier_incarnation_spares_the_new_one() {
    let mut store = store();
    store.begin(txn(3, 0), NOW).expect("available");
    store.begin(txn(3, 0), NOW).expect("available");
    assert!(!store.abort(Incarnation { txn: txn(3, 0), epoch: 0 }, TransactionAbort::TimedOut));
    assert_eq!(store.state(txn(3, 0)), Some(TransactionState::Open));
}

#[test]
fn while_unavailable_every_call_fails() {
    let mut store = store();
    store.begin(txn(3, 0), NOW).expect("available");
    store.make_unavailable(SimTime::from_nanos(5_000));
    let during = SimTime::from_nanos(4_999);
    assert_eq!(store.write(txn(3, 0), record(0), during), Err(ExternalError::Unavailable));
    assert_eq!(store.prepare(txn(3, 0), during), Err(ExternalError::Unavailable));
    assert_eq!(store.commit(txn(3, 0), during), Err(ExternalError::Unavailable));
    assert_eq!(store.begin(txn(3, 1), during), Err(ExternalError::Unavailable));
    assert_eq!(store.abort_lingering(TaskId(3), 0, during), Err(ExternalError::Unavailable));
    assert_eq!(store.write(txn(3, 0), record(0), SimTime::from_nanos(5_000)), Ok(()), "the window is over");
    assert_eq!(store.open_transactions(), [Incarnation { txn: txn(3, 0), epoch: 0 }]);
}

#[test]
fn a_read_committed_reader_sees_only_published_records_and_an_uncommitted_one_sees_more() {
    let mut committed = store();
    let mut uncommitted = ExternalStore::new(ExternalConfig {
        transaction_timeout: SimDuration::from_millis(100),
        reader_isolation: Isolation::ReadUncommitted,
        reader_poll: SimDuration::ZERO,
    });
    for store in [&mut committed, &mut uncommitted] {
        store.begin(txn(3, 0), NOW).expect("available");
        store.write(txn(3, 0), record(0), NOW).expect("open");
        store.begin(txn(3, 1), NOW).expect("available");
        store.write(txn(3, 1), record(1), NOW).expect("open");
        store.commit(txn(3, 0), NOW).expect("open");
    }
    let first = ReaderView { records: 1, fingerprint: record(0).id.fingerprint() };
    assert_eq!(committed.reader_view(), first);
    let both = first.fingerprint.wrapping_add(record(1).id.fingerprint());
    assert_eq!(uncommitted.reader_view(), ReaderView { records: 2, fingerprint: both }, "the open one's too");
}

#[test]
fn the_log_grows_in_batches_whose_event_times_start_after_every_earlier_batch() {
    use crate::dataflow::source::{KeyDistribution, WorkloadSpec};
    use crate::external::log::{LogSpec, PartitionGrowth};
    let workload = || WorkloadSpec {
        records_per_source_subtask: 0,
        key_count: 4,
        key_distribution: KeyDistribution::Uniform,
        value_max: 9,
    };
    let at = |millis| SimTime::ZERO.after(SimDuration::from_millis(millis));
    let log = LogSpec {
        initial_partitions: 2,
        records_per_partition: 100,
        growth: vec![PartitionGrowth { at: at(10), count: 1 }, PartitionGrowth { at: at(20), count: 2 }],
        discovery_interval: SimDuration::from_millis(5),
        watermark_interval_us: 1_000,
    };
    assert_eq!(log.partition_count(), 5);
    assert_eq!([log.partitions_at(at(0)), log.partitions_at(at(10)), log.partitions_at(at(25))], [2, 3, 5]);
    assert!(!log.is_complete_at(at(19)) && log.is_complete_at(at(20)));
    assert_eq!((0..5).map(|partition| log.batch_of(partition)).collect::<Vec<_>>(), [0, 0, 1, 2, 2]);
    let last_of_batch_0 = log.generator(crate::kernel::rng::Seed(3), workload(), 1).record_at(99).event_time;
    let first_of_batch_1 = log.generator(crate::kernel::rng::Seed(3), workload(), 2).record_at(0).event_time;
    assert!(first_of_batch_1 > last_of_batch_0, "{first_of_batch_1} after {last_of_batch_0}");
}
