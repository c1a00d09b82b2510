//! The replayable source: a finite split of deterministic records, re-readable from any
//! offset.
//!
//! Record `n` of a source subtask is a pure function of the run seed, the subtask and `n`:
//! it is the `n`-th word of the subtask's own workload stream. So a rewind to offset `k`
//! re-reads exactly the records it read before — the property that makes replay after
//! recovery meaningful. The read offset is the source's whole checkpointed state.

use super::operator::{Operator, StateError};
use super::record::Record;
use super::state_codec::{push_row, rows};
use crate::kernel::ids::{RecordId, SplitId, TaskId};
use crate::kernel::rng::{Seed, SimRng, Stream, scale_below};
use serde::{Deserialize, Serialize};

/// How keys are drawn for source records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// `hot_percent` of the records go to the first `hot_keys` keys; the rest are uniform.
    Hot {
        /// How many keys are hot.
        hot_keys: u64,
        /// The percentage (0..=100) of records that go to hot keys.
        hot_percent: u64,
    },
}

/// What the sources of a job produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkloadSpec {
    /// Records in each source subtask's split.
    pub records_per_source_subtask: u64,
    /// Keys are `0..key_count`.
    pub key_count: u64,
    /// How keys are drawn.
    pub key_distribution: KeyDistribution,
    /// Values are `0..=value_max`.
    pub value_max: u64,
}

/// Event time between two records of one split: each record's event time lies in its own
/// step, `base + offset × step + jitter` with `jitter < step`, so a split's event times
/// strictly increase — no record of a split is ever late against the split's own past.
pub const EVENT_TIME_STEP_US: u64 = 1_000;

/// The record function of one split: record `n` is drawn from word `n` of the split's own
/// stream, exactly one word per record, so any offset can be reached by seeking.
#[derive(Clone, Debug)]
pub struct RecordGenerator {
    stream: SimRng,
    /// The offset of the record the next draw produces.
    position: u64,
    spec: WorkloadSpec,
    split: SplitId,
    /// The event time (µs) the split's first record's step starts at.
    event_time_base: u64,
}

impl RecordGenerator {
    /// The generator of `split`, drawing from `stream` (its own workload sub-stream).
    pub fn new(stream: SimRng, spec: WorkloadSpec, split: SplitId, event_time_base: u64) -> RecordGenerator {
        RecordGenerator { stream, position: 0, spec, split, event_time_base }
    }

    /// The generator of `split` in the run with `seed`: its own workload sub-stream (named
    /// by the split's number, so a subtask's split draws as it always has). The harness and
    /// the oracle both build generators here, so they see the same records.
    pub fn for_split(seed: Seed, spec: WorkloadSpec, split: SplitId, event_time_base: u64) -> RecordGenerator {
        RecordGenerator::new(SimRng::open_entity(seed, Stream::Workload, split.0), spec, split, event_time_base)
    }

    /// The generator of source subtask `task`'s own split, whose event time starts at 0.
    pub fn for_source_task(seed: Seed, spec: WorkloadSpec, task: TaskId) -> RecordGenerator {
        RecordGenerator::for_split(seed, spec, SplitId::of_task(task), 0)
    }

    /// The record at `offset`.
    pub fn record_at(&mut self, offset: u64) -> Record {
        if offset != self.position {
            self.stream.seek_to_draw(offset);
        }
        let word = self.stream.next_u64();
        self.position = offset + 1;
        let event_time = self.event_time_base + offset * EVENT_TIME_STEP_US + ((word >> 24) % EVENT_TIME_STEP_US);
        record_from_word(word, &self.spec, RecordId { split: self.split, offset }, event_time)
    }
}

/// Turns one uniform word into a record: the high bits choose the key, the low bits the value.
fn record_from_word(word: u64, spec: &WorkloadSpec, id: RecordId, event_time: u64) -> Record {
    let key = match spec.key_distribution {
        KeyDistribution::Uniform => scale_below(word, spec.key_count),
        KeyDistribution::Hot { hot_keys, hot_percent } => {
            let is_hot = (word & 0xff) % 100 < hot_percent;
            let key_word = word.rotate_left(17);
            if is_hot { scale_below(key_word, hot_keys) } else { scale_below(key_word, spec.key_count) }
        }
    };
    let value = ((word >> 8) & 0xffff) % (spec.value_max + 1);
    Record { id, key, value: i64::try_from(value).expect("value_max fits i64"), event_time }
}

/// A finite, replayable source subtask.
#[derive(Clone, Debug)]
pub struct ReplayableSource {
    generator: RecordGenerator,
    next_offset: u64,
    length: u64,
    /// The planted bug `restored-source-one-offset-late`: a restore starts one record past
    /// the checkpointed offset.
    restores_one_late: bool,
}

impl ReplayableSource {
    /// A source at offset 0 of a split of `length` records.
    pub fn new(generator: RecordGenerator, length: u64) -> ReplayableSource {
        ReplayableSource { generator, next_offset: 0, length, restores_one_late: false }
    }

    /// The same source with the planted bug `restored-source-one-offset-late`.
    pub fn restoring_one_late(self) -> ReplayableSource {
        ReplayableSource { restores_one_late: true, ..self }
    }

    /// Reads the next record, or `None` at the end of the split.
    pub fn read_next(&mut self) -> Option<Record> {
        if self.next_offset >= self.length {
            return None;
        }
        let record = self.generator.record_at(self.next_offset);
        self.next_offset += 1;
        Some(record)
    }

    /// The offset of the next record to read.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// Whether the whole split has been read.
    pub fn is_exhausted(&self) -> bool {
        self.next_offset >= self.length
    }
}

impl Operator for ReplayableSource {
    /// A source has no inputs: the harness calls `read_next` instead.
    fn process(&mut self, _record: &Record, _out: &mut Vec<Record>) {
        unreachable!("a source has no inputs")
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        push_row(out, [self.next_offset]);
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        let [[offset]] = rows::<1>(state)?[..] else {
            return Err(StateError(format!("a source state is one word, got {} bytes", state.len())));
        };
        if offset > self.length {
            return Err(StateError(format!("offset {offset} beyond the split of {}", self.length)));
        }
        self.next_offset = if self.restores_one_late { (offset + 1).min(self.length) } else { offset };
        Ok(())
    }

    fn reset(&mut self) {
        self.next_offset = 0;
    }
}
