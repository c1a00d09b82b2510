//! The reader of a `log-source` subtask: it reads the log partitions (splits) the split
//! enumerator assigns it, round robin, one record at a time, and keeps each partition's
//! next offset — its whole checkpointed state, as a Kafka source reader's is.
//!
//! It does not know how partitions are assigned: the harness hands it each assignment and,
//! once the enumerator has nothing more for it, `no_more_splits`. Its watermark is the
//! minimum over its partitions of the event time below which nothing more can come from
//! that partition (Flink's per-split watermarks), so no record it emits later is ever late.

use super::operator::{Operator, StateError};
use super::record::Record;
use super::source::{RecordGenerator, WorkloadSpec};
use super::state_codec::{push_row, rows};
use crate::kernel::ids::SplitId;
use crate::kernel::rng::Seed;
use std::rc::Rc;

/// What a reader needs to open any partition of the log: the record functions and lengths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionCatalog {
    /// The run's seed (each partition's records come from its own workload stream).
    pub seed: Seed,
    /// How records are drawn.
    pub workload: WorkloadSpec,
    /// Records in every partition.
    pub records_per_partition: u64,
    /// Per partition: the event time (µs) its records start at.
    pub event_time_bases: Vec<u64>,
}

impl PartitionCatalog {
    /// The record generator of `partition`.
    pub fn generator(&self, partition: u32) -> RecordGenerator {
        let base = self.event_time_bases[partition as usize];
        RecordGenerator::for_split(self.seed, self.workload, SplitId::partition(partition), base)
    }
}

/// One assigned partition and how far it has been read.
#[derive(Clone, Debug)]
struct Cursor {
    partition: u32,
    generator: RecordGenerator,
    next_offset: u64,
    /// The event time of the last record read, if any.
    last_event_time: Option<u64>,
}

/// What one read step found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStep {
    /// A record, read from this partition.
    Record(u32, Record),
    /// Nothing to read now, but more may be assigned.
    Waiting,
    /// Every assigned partition is read to its end and no more will come.
    Finished,
}

/// A log-source subtask's reader.
#[derive(Clone, Debug)]
pub struct SplitReader {
    catalog: Rc<PartitionCatalog>,
    cursors: Vec<Cursor>,
    /// The cursor the next read tries first.
    turn: usize,
    no_more_splits: bool,
    /// The planted bug `restored-source-one-offset-late`.
    restores_one_late: bool,
}

impl SplitReader {
    /// A reader with no partitions yet.
    pub fn new(catalog: Rc<PartitionCatalog>) -> SplitReader {
        SplitReader { catalog, cursors: Vec::new(), turn: 0, no_more_splits: false, restores_one_late: false }
    }

    /// The same reader with the planted bug `restored-source-one-offset-late`.
    pub fn restoring_one_late(self) -> SplitReader {
        SplitReader { restores_one_late: true, ..self }
    }

    /// Takes `partition`, to be read from `offset`.
    pub fn add_split(&mut self, partition: u32, offset: u64) {
        let generator = self.catalog.generator(partition);
        let last_event_time = offset.checked_sub(1).map(|last| generator.clone().record_at(last).event_time);
        self.cursors.push(Cursor { partition, generator, next_offset: offset, last_event_time });
    }

    /// The enumerator will assign nothing more.
    pub fn no_more_splits(&mut self) {
        self.no_more_splits = true;
    }

    /// The partitions held and the next offset of each, in assignment order.
    pub fn partitions(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.cursors.iter().map(|cursor| (cursor.partition, cursor.next_offset))
    }

    /// Reads the next record, round robin over the partitions not yet at their end.
    pub fn read_next(&mut self) -> ReadStep {
        let length = self.catalog.records_per_partition;
        for step in 0..self.cursors.len() {
            let index = (self.turn + step) % self.cursors.len();
            let cursor = &mut self.cursors[index];
            if cursor.next_offset >= length {
                continue;
            }
            let record = cursor.generator.record_at(cursor.next_offset);
            cursor.next_offset += 1;
            cursor.last_event_time = Some(record.event_time);
            self.turn = index + 1;
            return ReadStep::Record(cursor.partition, record);
        }
        if self.no_more_splits { ReadStep::Finished } else { ReadStep::Waiting }
    }

    /// The reader's watermark: every record it reads from now on has a later event time.
    /// `None` while it holds no partition (it then holds every watermark downstream back).
    pub fn watermark(&self) -> Option<u64> {
        let length = self.catalog.records_per_partition;
        self.cursors
            .iter()
            .map(|cursor| {
                if cursor.next_offset >= length {
                    // Read to its end: nothing more from it, but partitions discovered
                    // later start after it.
                    return cursor.last_event_time.unwrap_or(0);
                }
                // The next record lies in its own step (after every earlier record's):
                // nothing before that step can come.
                let base = self.catalog.event_time_bases[cursor.partition as usize];
                (base + cursor.next_offset * super::source::EVENT_TIME_STEP_US).saturating_sub(1)
            })
            .min()
    }
}

impl Operator for SplitReader {
    /// A source has no inputs: the harness calls `read_next` instead.
    fn process(&mut self, _record: &Record, _out: &mut Vec<Record>) {
        unreachable!("a source has no inputs")
    }

    /// Rows of `[partition, next offset]`, in assignment order.
    fn snapshot(&self, out: &mut Vec<u8>) {
        for (partition, offset) in self.partitions() {
            push_row(out, [u64::from(partition), offset]);
        }
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        self.reset();
        let partitions = self.catalog.event_time_bases.len() as u64;
        for [partition, offset] in rows::<2>(state)? {
            if partition >= partitions || offset > self.catalog.records_per_partition {
                return Err(StateError(format!("partition {partition} at offset {offset} is not in the log")));
            }
            let offset =
                if self.restores_one_late { (offset + 1).min(self.catalog.records_per_partition) } else { offset };
            self.add_split(partition as u32, offset);
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.cursors.clear();
        self.turn = 0;
        self.no_more_splits = false;
    }
}
