//! The side-by-side table of `snapsim compare`: one column per protocol, the same workload
//! and the same fault plan in each.

use super::metrics::ProtocolMetrics;
use crate::explore::run::{Outcome, Verdict};
use crate::kernel::time::SimDuration;
use crate::protocol::ProtocolKind;
use std::fmt::Write;

/// One protocol's run, for the table.
pub struct ComparedRun<'a> {
    /// The protocol.
    pub protocol: ProtocolKind,
    /// Its verdict.
    pub verdict: &'a Verdict,
    /// Its outcome, unless it panicked.
    pub outcome: Option<&'a Outcome>,
    /// Its metrics.
    pub metrics: ProtocolMetrics,
}

/// The comparison table as text.
pub fn render_comparison(header: &str, runs: &[ComparedRun<'_>]) -> String {
    let mut out = format!("{header}\n");
    let cell = |run: &ComparedRun<'_>, value: &dyn Fn(&ComparedRun<'_>) -> String| value(run);
    let mut row = |label: &str, value: &dyn Fn(&ComparedRun<'_>) -> String| {
        let cells: String = runs.iter().map(|run| format!("{:>18}", cell(run, value))).collect();
        writeln!(out, "{label:<28}{cells}").expect("writing to a String cannot fail");
    };
    row("", &|run| run.protocol.name().to_string());
    row("verdict", &|run| run.verdict.failure_class().map_or("PASS".to_string(), |class| format!("FAIL {class}")));
    row("checkpoints completed", &|run| run.metrics.completed.to_string());
    row("checkpoints aborted", &|run| run.metrics.aborted.to_string());
    row("checkpoint duration, mean", &|run| millis(ProtocolMetrics::mean_duration(&run.metrics.durations)));
    row("checkpoint duration, max", &|run| millis(ProtocolMetrics::max_duration(&run.metrics.durations)));
    row("blocked aligning, mean", &|run| millis(ProtocolMetrics::mean_duration(&run.metrics.blocked)));
    row("operator state, mean", &|run| format!("{} B", ProtocolMetrics::mean(&run.metrics.state_bytes)));
    row("channel state, mean", &|run| {
        let records = ProtocolMetrics::mean(&run.metrics.channel_records);
        format!("{records} rec, {} B", ProtocolMetrics::channel_bytes(records))
    });
    row("recoveries", &|run| run.metrics.recoveries.to_string());
    row("records replayed", &|run| run.metrics.records_replayed.to_string());
    row("duplicates in final state", &|run| {
        run.outcome
            .and_then(|outcome| outcome.stats.duplicates)
            .map_or("none (exact)".to_string(), |count| count.to_string())
    });
    row("time to recover, mean", &|run| millis(ProtocolMetrics::mean_duration(&run.metrics.recovery_times)));
    row("events", &|run| run.outcome.map_or("-".to_string(), |outcome| outcome.events.to_string()));
    row("trace hash", &|run| run.outcome.map_or("-".to_string(), |outcome| outcome.trace_hash.to_string()));
    out
}

fn millis(duration: SimDuration) -> String {
    format!("{:.3} ms", duration.as_nanos() as f64 / 1e6)
}
