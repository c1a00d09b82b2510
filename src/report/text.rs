//! The run report: one aligned `label  value` line per figure, then the verdict, and for a
//! failure the detection point, the detail and the command that replays it.

use super::facts::describe_fact;
use crate::explore::run::{Outcome, Verdict};
use crate::kernel::rng::Seed;
use std::fmt::Write;

/// What the report needs beyond the outcome.
pub struct ReportContext<'a> {
    /// The scenario's name.
    pub scenario_name: &'a str,
    /// Where it came from (a path), as the user gave it.
    pub scenario_source: &'a str,
    /// Task names by `TaskId`, for readable facts.
    pub task_names: &'a [String],
    /// The one command that replays this run.
    pub replay_command: String,
    /// The command that draws this run's space-time diagram, shown when it failed.
    pub draw_command: Option<String>,
}

/// The report of one run, as text.
pub fn render_report(outcome: &Outcome, context: &ReportContext<'_>) -> String {
    let mut out = String::new();
    let stats = &outcome.stats;
    let replayed = stats.source_records_read.saturating_sub(outcome.source_records);
    let mut line = |label: &str, value: String| {
        writeln!(out, "{label:<13}{value}").expect("writing to a String cannot fail");
    };
    line("scenario", format!("{} ({})", context.scenario_name, context.scenario_source));
    line("seed", outcome.seed.0.to_string());
    let protocol = outcome.custom_protocol.clone().unwrap_or_else(|| outcome.protocol.name().to_string());
    line("protocol", protocol);
    if let Some(drawn) = &outcome.drawn_config {
        line("config", format!("drawn: {drawn}"));
    }
    line("events", outcome.events.to_string());
    line("simulated", outcome.end_time.to_string());
    line("faults", outcome.plan.summary());
    line("checkpoints", format!("{} completed, {} aborted", stats.checkpoints_completed, stats.checkpoints_aborted));
    line("recoveries", stats.recoveries.to_string());
    for (label, value) in redeploy_lines(stats) {
        line(label, value);
    }
    if outcome.bank {
        line(
            "transfers",
            format!(
                "{} in the accounts' series, {} paid ({replayed} replayed), {} received",
                outcome.source_records, stats.source_records_read, stats.records_applied
            ),
        );
    } else {
        line(
            "records",
            format!(
                "{} in the sources, {} read ({replayed} replayed), {} applied to keyed state",
                outcome.source_records, stats.source_records_read, stats.records_applied
            ),
        );
    }
    line("persisted", format!("{} bytes", stats.bytes_persisted));
    if let Some(figures) = stats.incremental_state {
        line("incremental", incremental_line(figures));
    }
    match stats.external_duplicates {
        Some(0) => line("external", "a reader of the external system saw no record twice".to_string()),
        Some(duplicates) => line("external", format!("{duplicates} records a reader saw more than once")),
        None => {}
    }
    if let Some(duplicates) = stats.duplicates {
        line("duplicates", format!("{duplicates} record applications beyond exactly once (allowed: at-least-once)"));
    }
    line("facts", outcome.fact_count.to_string());
    line("trace hash", outcome.trace_hash.to_string());
    if !outcome.liveness_judged {
        line("liveness", format!("not judged (--safety-only): the run stopped {}", stop_words(outcome.stop)));
    }
    for (label, value) in verdict_lines(&outcome.verdict, context) {
        line(label, value);
    }
    out
}

/// How the run loop ended, in words.
fn stop_words(stop: crate::kernel::Stop) -> &'static str {
    match stop {
        crate::kernel::Stop::Finished => "with the job finished",
        crate::kernel::Stop::Quiescent => "with nothing left to happen, the job unfinished",
        crate::kernel::Stop::EventBudget => "at its event budget, the job unfinished",
        crate::kernel::Stop::TimeBudget => "at its time budget, the job unfinished",
    }
}

/// The verdict, and for a failure where and why, and the commands that replay and draw it.
fn verdict_lines(verdict: &Verdict, context: &ReportContext<'_>) -> Vec<(&'static str, String)> {
    match verdict {
        Verdict::Pass => vec![("verdict", "PASS".to_string())],
        Verdict::Fail(violation) => {
            let detected = match (&violation.fact, violation.fact_index) {
                (Some(fact), Some(index)) => {
                    format!("{}, fact #{index}: {}", violation.time, describe_fact(fact, context.task_names))
                }
                _ => format!("{}, by the end-of-run check", violation.time),
            };
            let mut lines = vec![
                ("verdict", format!("FAIL {}", violation.invariant)),
                ("detected", detected),
                ("detail", with_task_names(&violation.detail, context.task_names)),
                ("replay", context.replay_command.clone()),
            ];
            lines.extend(context.draw_command.clone().map(|draw| ("draw", draw)));
            lines
        }
        Verdict::Panicked { message } => vec![
            ("verdict", "FAIL panic".to_string()),
            ("detail", message.clone()),
            ("replay", context.replay_command.clone()),
        ],
    }
}

/// The report of a run that panicked: there are no figures, only the finding.
pub fn render_panic_report(seed: Seed, verdict: &Verdict, context: &ReportContext<'_>) -> String {
    let Verdict::Panicked { message } = verdict else {
        unreachable!("a panic report needs a panic");
    };
    let mut out = String::new();
    let mut line = |label: &str, value: String| {
        writeln!(out, "{label:<13}{value}").expect("writing to a String cannot fail");
    };
    line("scenario", format!("{} ({})", context.scenario_name, context.scenario_source));
    line("seed", seed.0.to_string());
    line("verdict", "FAIL panic".to_string());
    line("detail", with_task_names(message, context.task_names));
    line("replay", context.replay_command.clone());
    out
}

/// Checkers name tasks by id (`task#3`) and vertices too (`vertex#1`); the report names
/// them as the scenario does. Tasks are numbered vertex by vertex (`count[0]`,
/// `count[1]`, ...), so the vertices' names are the task names' distinct stems in order.
/// An id the scenario does not have stays as it is.
pub fn with_task_names(text: &str, task_names: &[String]) -> String {
    let mut vertex_names: Vec<String> = Vec::new();
    for name in task_names {
        let stem = name.split_once('[').map_or(name.as_str(), |(stem, _)| stem);
        if vertex_names.last().map(String::as_str) != Some(stem) {
            vertex_names.push(stem.to_string());
        }
    }
    let vertex_names: Vec<String> = vertex_names.iter().map(|name| format!("`{name}`")).collect();
    replace_ids(&replace_ids(text, "task#", task_names), "vertex#", &vertex_names)
}

/// `text` with every `<prefix><number>` whose number indexes `names` replaced by that name.
fn replace_ids(text: &str, prefix: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match after[..digits].parse::<usize>().ok().and_then(|index| names.get(index)) {
            Some(name) => out.push_str(name),
            None => out.push_str(&rest[at..at + prefix.len() + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// The `rescales` and `savepoints` lines, for runs that had any.
fn redeploy_lines(stats: &crate::harness::RunStats) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    if stats.rescales > 0 {
        lines.push(("rescales", format!("{}: redeployed with new parallelism", stats.rescales)));
    }
    if stats.savepoints_completed > 0 {
        lines
            .push(("savepoints", format!("{} completed, {} stopped the job", stats.savepoints_completed, stats.stops)));
    }
    lines
}

/// The bytes incremental checkpoints wrote per task checkpoint, against a full one's.
fn incremental_line(figures: crate::harness::IncrementalFigures) -> String {
    let per_persist = |bytes: u64| bytes / figures.persists.max(1);
    let share = figures.written * 100 / figures.full.max(1);
    format!(
        "keyed state: {} bytes per task checkpoint written, {} a full checkpoint would write ({share}%)",
        per_persist(figures.written),
        per_persist(figures.full)
    )
}
