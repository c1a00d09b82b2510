//! Scaled copies of a job scenario for `snapsim bench`: more records, more tasks, another
//! checkpoint interval — so the benchmarks measure how cost grows with the work.

use crate::scenario::Scenario;

/// What to scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    /// Source records in all, spread evenly over the source subtasks.
    pub records_total: u64,
    /// Every vertex's parallelism times this.
    pub task_factor: u32,
    /// The checkpoint interval, if changed.
    pub interval_ms: Option<u64>,
}

/// `scenario` (a job with `source` vertices) scaled: records, tasks, interval; scripted
/// faults move in time with the records, so a crash still lands as far into the run; the
/// budget grows to match. `None` for a scenario without a plain source (a bank, a log).
pub fn scaled(scenario: &Scenario, scale: Scale) -> Option<Scenario> {
    let mut scaled = scenario.clone();
    let sources: u64 = scenario
        .vertices
        .iter()
        .filter(|vertex| vertex.kind == crate::dataflow::graph::VertexKind::Source)
        .map(|vertex| u64::from(vertex.parallelism))
        .sum();
    if sources == 0 || scenario.bank.is_some() || scenario.log.is_some() {
        return None;
    }
    let original_total = scenario.workload.records_per_source_subtask * sources;
    for vertex in &mut scaled.vertices {
        vertex.parallelism *= scale.task_factor.max(1);
    }
    let scaled_sources = sources * u64::from(scale.task_factor.max(1));
    scaled.workload.records_per_source_subtask = (scale.records_total / scaled_sources).max(1);
    if let Some(interval) = scale.interval_ms {
        scaled.checkpoint.interval_ms = interval;
    }
    // A run lasts about as long as its records take: faults keep their place in it.
    let stretch = |value: u64| value.saturating_mul(scale.records_total) / original_total.max(1);
    for fault in &mut scaled.faults {
        fault.at_ms = stretch(fault.at_ms);
    }
    scaled.budget.events_max =
        stretch(scaled.budget.events_max).max(scaled.budget.events_max) * u64::from(scale.task_factor.max(1));
    scaled.budget.time_ms_max = stretch(scaled.budget.time_ms_max).max(scaled.budget.time_ms_max);
    Some(scaled)
}
