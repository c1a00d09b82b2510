//! `snapsim bench`'s job figures: a scenario scaled to many records under each protocol,
//! a sweep's seeds per second at 1 and 2 jobs, how cost grows with 10× records and 10×
//! tasks, a run's peak heap at 1× and 10× the records (facts off, then kept), and the
//! process's peak memory.
#![allow(clippy::disallowed_methods, reason = "bench measures wall time; no simulation reads it")]

use crate::bench::heap_peak;
use crate::bench::scaling::{Scale, scaled};
use crate::explore::run::{RunSpec, run_compiled};
use crate::explore::sweep::{SeedRange, SweepPlan, sweep};
use crate::harness::RunOptions;
use crate::kernel::rng::Seed;
use crate::protocol::ProtocolKind;
use crate::scenario::Scenario;
use std::time::Instant;

/// One timed run of `scenario`: (wall seconds, source records read, events, passed).
fn timed_run(scenario: &Scenario, seed: u64) -> Option<(f64, u64, u64, bool)> {
    let compiled = scenario.compile().ok()?;
    let start = Instant::now();
    let outcome = run_compiled(&compiled, Seed(seed), &RunOptions::default());
    let wall = start.elapsed().as_secs_f64();
    Some((wall, outcome.stats.source_records_read, outcome.events, outcome.passed()))
}

/// The scenario scaled to `records` under every protocol, checkpoints every 100 ms.
pub fn protocol_figures(scenario: &Scenario, records: u64, seed: u64) {
    let scale = Scale { records_total: records, task_factor: 1, interval_ms: Some(100) };
    let Some(base) = scaled(scenario, scale) else {
        println!("\nprotocols: the scenario has no plain source to scale");
        return;
    };
    println!("\n{} scaled to {records} records, checkpoints every 100 ms, its crashes, one run each:", scenario.name);
    println!("{:>16}  {:>10}  {:>14}  {:>14}  verdict", "protocol", "wall (s)", "records/s", "events/s");
    for protocol in ProtocolKind::ALL {
        let mut run = base.clone();
        run.checkpoint.protocol = protocol;
        match timed_run(&run, seed) {
            Some((wall, records, events, passed)) => println!(
                "{:>16}  {wall:>10.3}  {:>12.2} M  {:>12.2} M  {}",
                protocol.name(),
                records as f64 / wall / 1e6,
                events as f64 / wall / 1e6,
                if passed { "PASS" } else { "FAIL" }
            ),
            None => println!("{:>16}  (not valid for this scenario)", protocol.name()),
        }
    }
}

/// Seeds per second sweeping `scenario` (as it is) at 1 and at 2 jobs.
pub fn sweep_figures(scenario: &Scenario, seeds: u64) {
    println!("\nsweep of {} ({seeds} seeds, swarm off):", scenario.name);
    let mut rates = Vec::new();
    for jobs in [1usize, 2] {
        let plan = SweepPlan {
            template: RunSpec::new(scenario.clone(), Seed(0)),
            seeds: SeedRange { start: 0, end: seeds },
            shard: None,
            stop_on_failure: false,
            check_determinism: false,
            guided: false,
        };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("a thread pool");
        let start = Instant::now();
        let reports = pool.install(|| sweep(&plan, &|_| {})).unwrap_or_default();
        let rate = reports.len() as f64 / start.elapsed().as_secs_f64();
        println!("  {jobs} job{}: {rate:>9.1} seeds/s", if jobs == 1 { " " } else { "s" });
        rates.push(rate);
    }
    println!("  scaling 1 -> 2 jobs: {:.2}x", rates[1] / rates[0]);
}

/// How time grows with 10× records, and with 10× tasks at the same records.
pub fn scale_figures(scenario: &Scenario, records: u64, seed: u64) {
    let run = |records_total: u64, task_factor: u32| {
        let scale = Scale { records_total, task_factor, interval_ms: Some(100) };
        scaled(scenario, scale).and_then(|scaled| timed_run(&scaled, seed))
    };
    let (Some(base), Some(more_records), Some(more_tasks)) = (run(records, 1), run(records * 10, 1), run(records, 10))
    else {
        println!("\nscale: the scenario has no plain source to scale");
        return;
    };
    println!("\nscale of {} (checkpoints every 100 ms):", scenario.name);
    println!("  {records} records, its tasks:        {:>8.3} s", base.0);
    println!(
        "  {} records (10x):              {:>8.3} s  ({:.2}x the time)",
        records * 10,
        more_records.0,
        more_records.0 / base.0
    );
    println!("  {records} records, 10x the tasks:   {:>8.3} s  ({:.2}x the time)", more_tasks.0, more_tasks.0 / base.0);
}

/// A run's peak heap bytes at `records` and at 10× (facts off: they must be about equal),
/// and at `records` with every fact kept in memory (the bytes each fact costs).
pub fn memory_figures(scenario: &Scenario, records: u64, seed: u64) {
    let peak_of = |records_total: u64, keep_facts: bool| {
        let scale = Scale { records_total, task_factor: 1, interval_ms: Some(100) };
        let compiled = scaled(scenario, scale)?.compile().ok()?;
        let options = RunOptions { keep_facts, ..RunOptions::default() };
        let (outcome, peak) = heap_peak::measure(|| run_compiled(&compiled, Seed(seed), &options));
        Some((peak?, outcome.fact_count))
    };
    println!("\npeak heap of one run of {} (checkpoints every 100 ms):", scenario.name);
    let (Some(base), Some(longer)) = (peak_of(records, false), peak_of(records * 10, false)) else {
        println!("  not measured: the scenario has no plain source, or the counting allocator is not installed");
        return;
    };
    let mb = |bytes: usize| bytes as f64 / 1e6;
    println!("  {records} records, facts off:      {:>9.2} MB", mb(base.0));
    println!(
        "  {} records (10x), facts off: {:>9.2} MB  ({:+.1}%)",
        records * 10,
        mb(longer.0),
        100.0 * (longer.0 as f64 / base.0 as f64 - 1.0)
    );
    if let Some((kept, facts)) = peak_of(records, true) {
        let per_fact = kept.saturating_sub(base.0) as f64 / facts.max(1) as f64;
        println!(
            "  {records} records, facts kept:     {:>9.2} MB  ({facts} facts, {per_fact:.1} bytes each)",
            mb(kept)
        );
    }
}

/// The process's peak resident memory, from `/proc/self/status` (Linux).
pub fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .map(|line| line.trim_start_matches("VmHWM:").trim().to_string())
}
