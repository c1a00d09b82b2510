//! Seed sweeps: many seeds of one spec, in parallel across seeds — each run stays
//! single-threaded, so every seed's result is the same whatever the thread count.
//!
//! Runs in the caller's rayon pool (the command line sizes it with `--jobs`); results come
//! back in seed order. A panic in a run is that seed's finding and the sweep goes on. With
//! `stop_on_failure`, seeds not yet started when a failure is seen are skipped. Shards
//! split a range by position (`(seed - start) % count == index - 1`, 1-based like
//! nextest's `--partition`), so N shards cover the range exactly once.

use super::determinism::{Divergence, check_determinism};
use super::guarded::run_guarded;
use super::run::{RunSpec, Verdict};
use crate::coverage::CoverageCounts;
use crate::coverage::aim::Aim;
use crate::kernel::rng::Seed;
use crate::kernel::time::SimTime;
use crate::kernel::trace::TraceHash;
use crate::scenario::ScenarioError;
use rayon::prelude::*;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

/// A half-open range of seeds, `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

/// One shard of a sweep: the `index`-th (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

/// What to sweep.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// The spec every seed runs (its own seed is ignored).
    pub template: RunSpec,
    /// The seeds.
    pub seeds: SeedRange,
    /// Only this shard's share of the seeds, if set.
    pub shard: Option<Shard>,
    /// Skip seeds not yet started once one fails.
    pub stop_on_failure: bool,
    /// Run every seed twice and report a difference as a failure.
    pub check_determinism: bool,
    /// Aim each seed's extra fault at a coverage cell earlier seeds left unhit
    /// (`guided.rs`).
    pub guided: bool,
}

/// What one seed did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedReport {
    /// The seed.
    pub seed: Seed,
    /// Pass, a violation, or a panic.
    pub verdict: Verdict,
    /// With the determinism check: where two runs of this seed parted.
    pub nondeterminism: Option<Divergence>,
    /// Events handled (0 after a panic).
    pub events: u64,
    /// Simulated time at the end, unless it panicked.
    pub end_time: Option<SimTime>,
    /// The trace hash, unless it panicked.
    pub trace_hash: Option<TraceHash>,
    /// Which fault struck in which protocol phase, unless it panicked.
    pub coverage: Option<CoverageCounts>,
    /// In a guided sweep, the cell this seed's extra fault aimed at.
    pub aim: Option<Aim>,
}

impl SeedReport {
    /// `None` for a pass, else the failure's class: an invariant's name, `panic`, or
    /// `nondeterminism`.
    pub fn failure_class(&self) -> Option<String> {
        if self.nondeterminism.is_some() {
            return Some("nondeterminism".to_string());
        }
        self.verdict.failure_class()
    }
}

impl SweepPlan {
    /// The seeds this plan (and shard) runs, in order.
    pub fn seeds_in_shard(&self) -> impl Iterator<Item = u64> + '_ {
        (self.seeds.start..self.seeds.end)
            .filter(|seed| self.shard.is_none_or(|shard| shard.holds(seed - self.seeds.start)))
    }

    /// The spec `seed` runs: the template's, with `aim`'s faults in its plan if aimed.
    pub fn spec_for(&self, seed: Seed, aim: Option<Aim>) -> Result<RunSpec, ScenarioError> {
        self.template.for_seed(seed, aim)
    }
}

/// Runs every seed of `plan` in the current rayon pool; calls `on_done` as each finishes
/// (from worker threads, in completion order); returns the reports in seed order.
pub fn sweep(plan: &SweepPlan, on_done: &(dyn Fn(&SeedReport) + Sync)) -> Result<Vec<SeedReport>, ScenarioError> {
    let compiled = plan.template.compile()?;
    if plan.guided {
        return Ok(super::guided::sweep_guided(plan, &compiled, on_done));
    }
    let failed = AtomicBool::new(false);
    let seeds: Vec<u64> = plan.seeds_in_shard().collect();
    let reports: Vec<Option<SeedReport>> = seeds
        .par_iter()
        .map(|&seed| {
            if plan.stop_on_failure && failed.load(Ordering::Relaxed) {
                return None;
            }
            let report = run_seed(plan, Seed(seed), None);
            if report.failure_class().is_some() {
                failed.store(true, Ordering::Relaxed);
            }
            on_done(&report);
            Some(report)
        })
        .collect();
    Ok(reports.into_iter().flatten().collect())
}

/// Runs one seed of `plan`, its extra fault aimed at `aim` if set.
pub(super) fn run_seed(plan: &SweepPlan, seed: Seed, aim: Option<Aim>) -> SeedReport {
    let spec = plan.spec_for(seed, aim).expect("the template was validated");
    let guarded = run_guarded(&spec, false).expect("the template was validated");
    let nondeterminism =
        if plan.check_determinism { check_determinism(&spec).expect("the template was validated") } else { None };
    let outcome = guarded.outcome.as_ref();
    SeedReport {
        seed,
        verdict: guarded.verdict,
        nondeterminism,
        events: outcome.map_or(0, |outcome| outcome.events),
        end_time: outcome.map(|outcome| outcome.end_time),
        trace_hash: outcome.map(|outcome| outcome.trace_hash),
        coverage: outcome.map(|outcome| outcome.coverage.clone()),
        aim,
    }
}

impl Shard {
    /// Whether the seed at `position` in the range belongs to this shard.
    pub fn holds(self, position: u64) -> bool {
        position % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl FromStr for SeedRange {
    type Err = String;

    /// `A..B` (half-open), `A..=B` (inclusive), or a count `K`, meaning `0..K` — as
    /// `SNAPSIM_SEEDS` counts seeds for property tests.
    fn from_str(text: &str) -> Result<SeedRange, String> {
        let parse = |part: &str| part.trim().parse::<u64>().map_err(|_| format!("`{part}` is not a seed (a u64)"));
        let (start, end) = if !text.contains("..") && text.trim().parse::<u64>().is_ok() {
            (0, parse(text)?)
        } else if let Some((start, end)) = text.split_once("..=") {
            (parse(start)?, parse(end)?.checked_add(1).ok_or("the range ends past u64::MAX")?)
        } else if let Some((start, end)) = text.split_once("..") {
            (parse(start)?, parse(end)?)
        } else {
            return Err(format!("`{text}` is not a range: write A..B (B excluded), A..=B, or a count K for 0..K"));
        };
        if start >= end {
            return Err(format!("`{text}` holds no seeds"));
        }
        Ok(SeedRange { start, end })
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl Shard {
    /// Parses `K/N` (1 ≤ K ≤ N), or `auto/N`, where K comes from `completion_index` — the
    /// 0-based index a Kubernetes Indexed Job sets in `JOB_COMPLETION_INDEX`.
    pub fn parse(text: &str, completion_index: Option<&str>) -> Result<Shard, String> {
        let (index, count) = text.split_once('/').ok_or_else(|| format!("`{text}` is not K/N"))?;
        let count: u32 = count.parse().map_err(|_| format!("`{count}` is not a shard count"))?;
        let index: u32 = if index == "auto" {
            let raw = completion_index.ok_or("auto/N needs JOB_COMPLETION_INDEX (set by Kubernetes Indexed Jobs)")?;
            let zero_based: u32 = raw.parse().map_err(|_| format!("JOB_COMPLETION_INDEX `{raw}` is not a number"))?;
            zero_based + 1
        } else {
            index.parse().map_err(|_| format!("`{index}` is not a shard index"))?
        };
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {index}/{count} does not exist: K runs from 1 to N"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}
