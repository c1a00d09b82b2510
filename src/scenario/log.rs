//! Validation of the `[log]` section (the partitioned log a `log-source` reads) and of the
//! event-time settings that go with it: errors name the field.

use super::ScenarioError;
use super::compile::{RECORDS_PER_SPLIT_MAX, SOURCE_RECORDS_MAX, millis};
use super::file::Scenario;
use crate::dataflow::graph::{JobGraph, VertexKind};
use crate::dataflow::source::EVENT_TIME_STEP_US;
use crate::external::log::{LogSpec, PartitionGrowth};
use crate::kernel::ids::WINDOW_KEY_BITS;
use crate::kernel::time::SimTime;

/// Partitions a log may have in all (they are numbered below `SplitId::PARTITION_BASE`).
const PARTITIONS_MAX: u32 = 65_536;

impl Scenario {
    /// The log of a job whose graph is `graph`: present exactly when a `log-source` reads it;
    /// and every window's count of windows within what a result's id can number.
    pub(super) fn compile_log(&self, graph: &JobGraph) -> Result<Option<LogSpec>, ScenarioError> {
        let log = self.compile_log_section(graph)?;
        self.check_window_counts(graph, log.as_ref())?;
        Ok(log)
    }

    /// A window result's offset is `(window << WINDOW_KEY_BITS) | key`, and a record id keeps
    /// 40 bits of offset: a window may span at most `2^(40 - WINDOW_KEY_BITS)` windows of the
    /// sources' event time, or two results would share an id.
    fn check_window_counts(&self, graph: &JobGraph, log: Option<&LogSpec>) -> Result<(), ScenarioError> {
        let log_end = log.map_or(0, |log| {
            let last = log.partition_count().saturating_sub(1);
            log.event_time_base(last) + log.records_per_partition * EVENT_TIME_STEP_US
        });
        let event_time_end = log_end.max(self.workload.records_per_source_subtask.saturating_mul(EVENT_TIME_STEP_US));
        let windows_max = 1u64 << (40 - WINDOW_KEY_BITS);
        for (index, vertex) in graph.vertices.iter().enumerate() {
            if vertex.kind == VertexKind::TumblingWindow && event_time_end / vertex.window_us >= windows_max {
                let message = format!(
                    "the sources' event time spans {} windows of this size; at most {windows_max}",
                    event_time_end / vertex.window_us + 1
                );
                return Err(ScenarioError::at(format!("vertices[{index}].window_ms"), message));
            }
        }
        Ok(())
    }

    fn compile_log_section(&self, graph: &JobGraph) -> Result<Option<LogSpec>, ScenarioError> {
        let readers = graph.vertices.iter().filter(|vertex| vertex.kind == VertexKind::LogSource).count();
        if readers > 1 {
            return Err(ScenarioError::at("vertices", "at most one log-source reads the log"));
        }
        if graph.vertices.iter().any(|vertex| vertex.kind == VertexKind::TumblingWindow)
            && self.workload.keys > 1 << WINDOW_KEY_BITS
        {
            let message = format!("a job with a tumbling-window has at most {} keys", 1u64 << WINDOW_KEY_BITS);
            return Err(ScenarioError::at("workload.keys", message));
        }
        let Some(log) = &self.log else {
            return match readers {
                0 => Ok(None),
                _ => Err(ScenarioError::at("log", "a log-source needs a [log] section to read")),
            };
        };
        if readers == 0 {
            return Err(ScenarioError::at("log", "no log-source vertex reads this log"));
        }
        if log.partitions == 0 {
            return Err(ScenarioError::at("log.partitions", "must be at least 1"));
        }
        if !(1..=RECORDS_PER_SPLIT_MAX).contains(&log.records_per_partition) {
            let message = format!("must lie in 1..={RECORDS_PER_SPLIT_MAX}");
            return Err(ScenarioError::at("log.records_per_partition", message));
        }
        for (field, value) in [
            ("log.discovery_interval_ms", log.discovery_interval_ms),
            ("log.watermark_interval_ms", log.watermark_interval_ms),
        ] {
            if value == 0 {
                return Err(ScenarioError::at(field, "must be at least 1"));
            }
        }
        let growth = self.compile_growth()?;
        let spec = LogSpec {
            initial_partitions: log.partitions,
            records_per_partition: log.records_per_partition,
            growth,
            discovery_interval: millis("log.discovery_interval_ms", log.discovery_interval_ms)?,
            watermark_interval_us: millis("log.watermark_interval_ms", log.watermark_interval_ms)?.as_nanos() / 1_000,
        };
        let partitions =
            u64::from(log.partitions) + spec.growth.iter().map(|batch| u64::from(batch.count)).sum::<u64>();
        if partitions > u64::from(PARTITIONS_MAX) {
            let message = format!("the log would have {partitions} partitions; at most {PARTITIONS_MAX}");
            return Err(ScenarioError::at("log.partitions", message));
        }
        if partitions.saturating_mul(log.records_per_partition) > SOURCE_RECORDS_MAX {
            let message = format!("the log would hold more than {SOURCE_RECORDS_MAX} records");
            return Err(ScenarioError::at("log.records_per_partition", message));
        }
        Ok(Some(spec))
    }

    fn compile_growth(&self) -> Result<Vec<PartitionGrowth>, ScenarioError> {
        let log = self.log.as_ref().expect("called with a log");
        let mut growth: Vec<PartitionGrowth> = Vec::with_capacity(log.new_partitions.len());
        for (index, batch) in log.new_partitions.iter().enumerate() {
            let field = |name: &str| format!("log.new_partitions[{index}].{name}");
            if batch.count == 0 {
                return Err(ScenarioError::at(field("count"), "must be at least 1"));
            }
            let at = SimTime::ZERO.after(millis(&field("at_ms"), batch.at_ms)?);
            if growth.last().is_some_and(|last| last.at >= at) || at == SimTime::ZERO {
                return Err(ScenarioError::at(field("at_ms"), "must be after 0 and after the entry before"));
            }
            growth.push(PartitionGrowth { at, count: batch.count });
        }
        Ok(growth)
    }
}
