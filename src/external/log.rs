//! The partitioned log a `log-source` reads, as a Kafka topic is to Flink's Kafka source:
//! partitions of replayable records with offsets and event timestamps, some present from
//! the start and some created while the job runs (the enumerator discovers them).
//!
//! Record `n` of partition `p` is a pure function of the run seed, `p` and `n` (the
//! partition's own workload stream), so re-reading from an offset yields the same records.
//! Event times strictly increase within a partition, and every partition created in a later
//! batch starts after every earlier batch's last record: a watermark that is the minimum
//! over the partitions a reader holds can never pass a record still to come, even from a
//! partition not yet discovered. The log records no facts and knows nothing of the job.

use crate::dataflow::source::{EVENT_TIME_STEP_US, RecordGenerator, WorkloadSpec};
use crate::kernel::ids::SplitId;
use crate::kernel::rng::Seed;
use crate::kernel::time::{SimDuration, SimTime};

/// Partitions created at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionGrowth {
    /// When they appear in the log.
    pub at: SimTime,
    /// How many.
    pub count: u32,
}

/// The log's shape: which partitions exist when, and how long each is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSpec {
    /// Partitions `0..initial_partitions` exist from the start.
    pub initial_partitions: u32,
    /// Records in every partition.
    pub records_per_partition: u64,
    /// Partitions created later, in time order; each batch numbers on from the last.
    pub growth: Vec<PartitionGrowth>,
    /// How often the enumerator looks for new partitions.
    pub discovery_interval: SimDuration,
    /// A reader emits a watermark each time its watermark crosses a multiple of this much
    /// event time (µs), and at its end.
    pub watermark_interval_us: u64,
}

impl LogSpec {
    /// Every partition the log will ever have.
    pub fn partition_count(&self) -> u32 {
        self.initial_partitions + self.growth.iter().map(|batch| batch.count).sum::<u32>()
    }

    /// The partitions that exist at `time`: `0..n`.
    pub fn partitions_at(&self, time: SimTime) -> u32 {
        self.initial_partitions
            + self.growth.iter().filter(|batch| batch.at <= time).map(|batch| batch.count).sum::<u32>()
    }

    /// Whether no partition will be created after `time`.
    pub fn is_complete_at(&self, time: SimTime) -> bool {
        self.growth.iter().all(|batch| batch.at <= time)
    }

    /// The batch `partition` was created in: 0 for the initial partitions.
    pub fn batch_of(&self, partition: u32) -> u32 {
        let mut end = self.initial_partitions;
        if partition < end {
            return 0;
        }
        for (index, batch) in self.growth.iter().enumerate() {
            end += batch.count;
            if partition < end {
                return u32::try_from(index + 1).expect("batch count fits u32");
            }
        }
        panic!("partition {partition} beyond the log's {end}")
    }

    /// The event time (µs) where `partition`'s records start: each batch after the last
    /// record of the one before.
    pub fn event_time_base(&self, partition: u32) -> u64 {
        u64::from(self.batch_of(partition)) * self.records_per_partition * EVENT_TIME_STEP_US
    }

    /// The record generator of `partition` in the run with `seed`.
    pub fn generator(&self, seed: Seed, workload: WorkloadSpec, partition: u32) -> RecordGenerator {
        RecordGenerator::for_split(seed, workload, SplitId::partition(partition), self.event_time_base(partition))
    }
}
