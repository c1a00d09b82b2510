//! Sweep summaries: what a sweep (or a shard of one) found, as versioned JSON, and the merge
//! of shard summaries into one.
//!
//! The JSON shape is documented in docs/guide.md and versioned by `format` and `version`;
//! a reader refuses a version newer than it knows. Wall-clock figures are filled in by the
//! command line, which is the only place that reads the clock.

use super::sweep::{SeedRange, SeedReport, Shard};
use crate::coverage::summary::CoverageSummary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `format` field of every summary.
pub const SUMMARY_FORMAT: &str = "snapsim-sweep-summary";
/// The summary version this build writes and the newest it reads.
/// Version 2 added `guided` and `coverage`; a version-1 summary reads with them empty.
///
/// The promise (docs/guide.md, "The JSON summary"): within a version, fields are only
/// added, each with a `#[serde(default)]` so earlier files of that version still read
/// (readers ignore fields they do not know); a field that changes type or meaning, or goes
/// away, bumps the version.
pub const SUMMARY_VERSION: u32 = 2;

/// What a sweep found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// Always `SUMMARY_FORMAT`.
    pub format: String,
    /// The summary version.
    pub version: u32,
    /// The snapsim version that ran the sweep.
    pub snapsim_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// The whole seed range, `A..B`.
    pub seeds: String,
    /// The shards this summary covers (`K/N`); empty for an unsharded sweep.
    pub shards: Vec<String>,
    /// The planted bugs, by name.
    pub plants: Vec<String>,
    /// Whether each seed was also checked for determinism.
    pub check_determinism: bool,
    /// Seeds that ran.
    pub seeds_run: u64,
    /// Seeds that passed.
    pub passed: u64,
    /// Seeds that failed.
    pub failed: u64,
    /// Failed seeds per class (invariant name, `panic`, `nondeterminism`).
    pub failures_by_class: BTreeMap<String, u64>,
    /// Every failed seed, in seed order.
    pub failures: Vec<FailureEntry>,
    /// Events handled over all seeds.
    pub events: u64,
    /// Worker threads (summed over merged shards).
    pub jobs: u32,
    /// Wall time (the longest of merged shards, which ran side by side).
    pub wall_seconds: f64,
    /// Seeds per wall second (summed over merged shards).
    pub seeds_per_second: f64,
    /// Events per wall second (summed over merged shards).
    pub events_per_second: f64,
    /// Whether `--stop-on-failure` skipped seeds.
    pub stopped_early: bool,
    /// Whether the sweep aimed each seed's extra fault at an unhit coverage cell.
    #[serde(default)]
    pub guided: bool,
    /// Which fault struck in which protocol phase, over every seed.
    #[serde(default)]
    pub coverage: CoverageSummary,
}

/// One failed seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureEntry {
    /// The seed.
    pub seed: u64,
    /// Its failure class.
    pub class: String,
    /// What went wrong, in one line.
    pub detail: String,
    /// The run file written for it, if any.
    pub run_file: Option<String>,
    /// The command that reproduces it.
    pub replay: String,
}

/// Which sweep a summary is of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepIdentity {
    /// The scenario's name.
    pub scenario: String,
    /// The whole seed range.
    pub seeds: SeedRange,
    /// The shard, if the sweep is one.
    pub shard: Option<Shard>,
    /// Planted bugs, by name.
    pub plants: Vec<String>,
    /// Whether each seed was run twice.
    pub check_determinism: bool,
    /// Whether the sweep was guided.
    pub guided: bool,
}

/// The figures the command line measures around a sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepTiming {
    /// Worker threads.
    pub jobs: u32,
    /// Wall time of the sweep.
    pub wall_seconds: f64,
}

impl SweepSummary {
    /// The summary of `reports`; `failures` are the entries the caller built for the failed
    /// seeds (with their run files and replay commands).
    pub fn new(
        identity: &SweepIdentity,
        reports: &[SeedReport],
        failures: Vec<FailureEntry>,
        timing: SweepTiming,
    ) -> SweepSummary {
        let SweepIdentity { seeds, shard, .. } = *identity;
        let seeds_run = reports.len() as u64;
        let events: u64 = reports.iter().map(|report| report.events).sum();
        let mut failures_by_class = BTreeMap::new();
        for entry in &failures {
            *failures_by_class.entry(entry.class.clone()).or_insert(0) += 1;
        }
        let planned = seeds.end - seeds.start;
        let in_shard =
            shard.map_or(planned, |shard| (0..planned).filter(|&position| shard.holds(position)).count() as u64);
        let rate = |count: u64| if timing.wall_seconds > 0.0 { count as f64 / timing.wall_seconds } else { 0.0 };
        SweepSummary {
            format: SUMMARY_FORMAT.to_string(),
            version: SUMMARY_VERSION,
            snapsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: identity.scenario.clone(),
            seeds: seeds.to_string(),
            shards: shard.map(|shard| vec![shard.to_string()]).unwrap_or_default(),
            plants: identity.plants.clone(),
            check_determinism: identity.check_determinism,
            seeds_run,
            passed: seeds_run - failures.len() as u64,
            failed: failures.len() as u64,
            failures_by_class,
            failures,
            events,
            jobs: timing.jobs,
            wall_seconds: timing.wall_seconds,
            seeds_per_second: rate(seeds_run),
            events_per_second: rate(events),
            stopped_early: seeds_run < in_shard,
            guided: identity.guided,
            coverage: CoverageSummary::of(reports.iter().filter_map(|report| report.coverage.as_ref())),
        }
    }

    /// Reads a summary from JSON, refusing other formats and newer versions.
    pub fn from_json(text: &str) -> Result<SweepSummary, String> {
        let summary: SweepSummary =
            serde_json::from_str(text).map_err(|error| format!("not a sweep summary: {error}"))?;
        if summary.format != SUMMARY_FORMAT {
            return Err(format!("format is `{}`, not `{SUMMARY_FORMAT}`", summary.format));
        }
        if summary.version > SUMMARY_VERSION {
            return Err(format!(
                "summary version {} is newer than this build reads ({SUMMARY_VERSION})",
                summary.version
            ));
        }
        Ok(summary)
    }

    /// The summary as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a summary is plain data")
    }
}

/// Joins shard summaries of one sweep into one: same scenario, seeds and plants; no shard
/// twice. Counts add up; shards ran side by side, so the wall time is the longest and the
/// rates add up.
pub fn merge(parts: &[SweepSummary]) -> Result<SweepSummary, String> {
    let (first, rest) = parts.split_first().ok_or("nothing to merge")?;
    let mut merged = first.clone();
    for part in rest {
        let identity = |summary: &SweepSummary| {
            let SweepSummary { scenario, seeds, plants, check_determinism, guided, .. } = summary;
            (scenario.clone(), seeds.clone(), plants.clone(), *check_determinism, *guided)
        };
        if identity(part) != identity(first) {
            return Err(format!(
                "summaries of different sweeps: {} {} and {} {}",
                first.scenario, first.seeds, part.scenario, part.seeds
            ));
        }
        if let Some(shard) = part.shards.iter().find(|shard| merged.shards.contains(shard)) {
            return Err(format!("shard {shard} appears twice"));
        }
        merged.shards.extend(part.shards.iter().cloned());
        merged.seeds_run += part.seeds_run;
        merged.passed += part.passed;
        merged.failed += part.failed;
        for (class, count) in &part.failures_by_class {
            *merged.failures_by_class.entry(class.clone()).or_insert(0) += count;
        }
        merged.failures.extend(part.failures.iter().cloned());
        merged.events += part.events;
        merged.jobs += part.jobs;
        merged.wall_seconds = merged.wall_seconds.max(part.wall_seconds);
        merged.seeds_per_second += part.seeds_per_second;
        merged.events_per_second += part.events_per_second;
        merged.stopped_early |= part.stopped_early;
        merged.coverage.merge(&part.coverage);
    }
    merged.shards.sort();
    merged.failures.sort_by_key(|entry| entry.seed);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> SweepSummary {
        let identity = SweepIdentity {
            scenario: "wordcount".to_string(),
            seeds: SeedRange { start: 0, end: 4 },
            shard: None,
            plants: vec![],
            check_determinism: false,
            guided: true,
        };
        SweepSummary::new(&identity, &[], vec![], SweepTiming { jobs: 1, wall_seconds: 1.0 })
    }

    /// The version promise: a field added within a version is ignored by a reader that does
    /// not know it.
    #[test]
    fn a_reader_ignores_a_field_it_does_not_know() {
        let mut json: serde_json::Value = serde_json::from_str(&empty().to_json()).expect("JSON");
        json["added_later"] = serde_json::json!([1, 2]);
        assert_eq!(SweepSummary::from_json(&json.to_string()), Ok(empty()));
    }

    /// A version-1 summary, without `guided` and `coverage`, reads with them empty.
    #[test]
    fn a_version_1_summary_reads_with_the_version_2_fields_empty() {
        let mut json: serde_json::Value = serde_json::from_str(&empty().to_json()).expect("JSON");
        let object = json.as_object_mut().expect("an object");
        object.remove("guided");
        object.remove("coverage");
        object.insert("version".to_string(), 1.into());
        let read = SweepSummary::from_json(&json.to_string()).expect("version 1 reads");
        assert_eq!((read.version, read.guided, read.coverage), (1, false, CoverageSummary::default()));
    }
}
