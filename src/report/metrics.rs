//! Protocol metrics, computed from a run's facts alone: per checkpoint, how long it took,
//! how long tasks were blocked aligning, and how many bytes of operator and channel state it
//! persisted; per recovery, how many records were read again and how long the job took to get
//! back to where it was when it crashed.

use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::{Fact, TimedFact};
use crate::recovery::snapshot_object::ROW_BYTES;
use std::collections::BTreeMap;

/// What a run's facts say about its protocol's costs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtocolMetrics {
    /// Checkpoints completed.
    pub completed: u64,
    /// Checkpoints aborted.
    pub aborted: u64,
    /// Per completed checkpoint: trigger to completion.
    pub durations: Vec<SimDuration>,
    /// Per completed checkpoint: time tasks spent with an input blocked, summed over tasks.
    pub blocked: Vec<SimDuration>,
    /// Per completed checkpoint: operator-state bytes captured, summed over tasks.
    pub state_bytes: Vec<u64>,
    /// Per completed checkpoint: records recorded as channel state.
    pub channel_records: Vec<u64>,
    /// Failovers.
    pub recoveries: u64,
    /// Source records read again after a failover.
    pub records_replayed: u64,
    /// Per recovery that completed: from the crash until every source had read again as far
    /// as it had before.
    pub recovery_times: Vec<SimDuration>,
}

#[derive(Default)]
struct CheckpointFacts {
    triggered: Option<SimTime>,
    blocked: SimDuration,
    state_bytes: u64,
    channel_records: u64,
}

#[derive(Default)]
struct Tally {
    checkpoints: BTreeMap<CheckpointId, CheckpointFacts>,
    blocked_since: BTreeMap<TaskId, (CheckpointId, SimTime)>,
    read_highest: BTreeMap<TaskId, u64>,
    /// The crash being recovered from and the offsets each source must read again.
    recovering: Option<(SimTime, BTreeMap<TaskId, u64>)>,
}

/// The metrics of the run whose facts are `facts`.
pub fn protocol_metrics(facts: &[TimedFact]) -> ProtocolMetrics {
    let mut metrics = ProtocolMetrics::default();
    let mut tally = Tally::default();
    for timed in facts {
        tally.observe(timed.time, &timed.fact, &mut metrics);
    }
    metrics
}

impl Tally {
    fn observe(&mut self, time: SimTime, fact: &Fact, metrics: &mut ProtocolMetrics) {
        match *fact {
            Fact::CheckpointTriggered { checkpoint } => {
                self.checkpoints.entry(checkpoint).or_default().triggered = Some(time);
            }
            Fact::InputBlocked { task, checkpoint, .. } => {
                self.blocked_since.entry(task).or_insert((checkpoint, time));
            }
            Fact::InputsUnblocked { task } => {
                if let Some((checkpoint, since)) = self.blocked_since.remove(&task) {
                    let entry = self.checkpoints.entry(checkpoint).or_default();
                    entry.blocked = entry.blocked.plus(time.since(since));
                }
            }
            Fact::StateCaptured { checkpoint, bytes, .. } => {
                self.checkpoints.entry(checkpoint).or_default().state_bytes += bytes
            }
            Fact::ChannelStateRecorded { checkpoint, .. } => {
                self.checkpoints.entry(checkpoint).or_default().channel_records += 1;
            }
            Fact::CheckpointCompleted { checkpoint } => self.complete(checkpoint, time, metrics),
            Fact::CheckpointAborted { checkpoint, .. } => {
                metrics.aborted += 1;
                self.checkpoints.remove(&checkpoint);
            }
            Fact::TaskCrashed { .. } => {
                metrics.recoveries += 1;
                self.blocked_since.clear();
                self.recovering = Some((time, self.read_highest.clone()));
            }
            Fact::SourceRead { task, offset } => self.on_read(task, offset, time, metrics),
            // A source at the end of its split has caught up, whatever its offset.
            Fact::TaskFinished { task } | Fact::DataEnded { task } if self.read_highest.contains_key(&task) => {
                self.on_read(task, u64::MAX, time, metrics);
            }
            _ => {}
        }
    }

    fn complete(&mut self, checkpoint: CheckpointId, time: SimTime, metrics: &mut ProtocolMetrics) {
        metrics.completed += 1;
        let entry = self.checkpoints.remove(&checkpoint).unwrap_or_default();
        if let Some(triggered) = entry.triggered {
            metrics.durations.push(time.since(triggered));
        }
        metrics.blocked.push(entry.blocked);
        metrics.state_bytes.push(entry.state_bytes);
        metrics.channel_records.push(entry.channel_records);
    }

    /// A source read `offset` (or finished, as `u64::MAX`): count re-reads, and end the
    /// recovery once every source is back where it was.
    fn on_read(&mut self, task: TaskId, offset: u64, time: SimTime, metrics: &mut ProtocolMetrics) {
        let highest = self.read_highest.entry(task).or_insert(0);
        if offset != u64::MAX && offset < *highest {
            metrics.records_replayed += 1;
        }
        *highest = (*highest).max(offset.saturating_add(1));
        if let Some((crashed, targets)) = &mut self.recovering {
            if targets.get(&task).is_some_and(|&target| offset.saturating_add(1) >= target) {
                targets.remove(&task);
            }
            if targets.is_empty() {
                metrics.recovery_times.push(time.since(*crashed));
                self.recovering = None;
            }
        }
    }
}

impl ProtocolMetrics {
    /// The mean of `values`, or zero.
    pub fn mean(values: &[u64]) -> u64 {
        if values.is_empty() { 0 } else { values.iter().sum::<u64>() / values.len() as u64 }
    }

    /// The mean of `durations`, or zero.
    pub fn mean_duration(durations: &[SimDuration]) -> SimDuration {
        let nanos: Vec<u64> = durations.iter().map(|duration| duration.as_nanos()).collect();
        SimDuration::from_nanos(ProtocolMetrics::mean(&nanos))
    }

    /// The longest of `durations`, or zero.
    pub fn max_duration(durations: &[SimDuration]) -> SimDuration {
        durations.iter().copied().max().unwrap_or(SimDuration::ZERO)
    }

    /// Channel-state bytes of one checkpoint, from its record count.
    pub fn channel_bytes(records: u64) -> u64 {
        records * ROW_BYTES as u64
    }
}
