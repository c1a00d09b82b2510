//! `snapsim bench`: kernel throughput beside a bare event loop, in the same process and
//! run, and the wall time of a scenario.
//!
//! Each measurement is repeated and the median reported; kernel and bare runs alternate so
//! that machine noise hits both alike. The wall clock is read here and nowhere in a
//! simulation.
#![allow(clippy::disallowed_methods, reason = "bench measures wall time; no simulation reads it")]

use super::{EXIT_PASS, bad_input};
use crate::bench::{ring_bare, ring_kernel};
use crate::explore::run::run_compiled;
use crate::harness::RunOptions;
use crate::kernel::rng::Seed;
use crate::scenario::Scenario;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `snapsim bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Token deliveries per ring run.
    #[arg(long, default_value_t = 1_000_000)]
    deliveries: u64,
    /// Runs per measurement; the median is reported.
    #[arg(long, default_value_t = 5)]
    repeats: u32,
    /// Ring sizes to measure.
    #[arg(long, value_delimiter = ',', default_value = "8,64,256")]
    rings: Vec<u32>,
    /// The scenario whose wall time is measured.
    #[arg(long, default_value = "sims/wordcount.toml")]
    scenario: PathBuf,
    /// The seed of the scenario runs.
    #[arg(long, env = "SNAPSIM_SEED", default_value_t = 1)]
    seed: u64,
    /// The scenario scaled to this many records under every protocol (0 skips).
    #[arg(long, default_value_t = 1_000_000)]
    protocol_records: u64,
    /// Seeds of the scenario swept at 1 and at 2 jobs (0 skips).
    #[arg(long, default_value_t = 2_000)]
    sweep_seeds: u64,
    /// Records of the scale figures' base run: then 10x records, and 10x tasks (0 skips).
    #[arg(long, default_value_t = 100_000)]
    scale_records: u64,
    /// Records of the memory figures' base run: its peak heap, then at 10x the records, then
    /// with facts kept (0 skips).
    #[arg(long, default_value_t = 1_000_000)]
    memory_records: u64,
}

/// Runs the benchmarks and prints the figures.
pub fn bench(args: &BenchArgs) -> u8 {
    if args.repeats == 0 || args.deliveries == 0 || args.rings.contains(&0) {
        return bad_input("--repeats, --deliveries and --rings must be at least 1");
    }
    if cfg!(debug_assertions) {
        println!("note: a debug build; figures mean little (use cargo run --release -- bench)");
    }
    println!(
        "kernel token ring: {} deliveries, 1 ms latency + 0..=100 us seeded jitter, median of {}",
        args.deliveries, args.repeats
    );
    println!("{:>6}  {:>16}  {:>16}  {:>12}", "nodes", "kernel (M/s)", "bare loop (M/s)", "kernel/bare");
    for &nodes in &args.rings {
        let (kernel, bare) = ring_medians(nodes, args);
        let rate = |time: Duration| args.deliveries as f64 / time.as_secs_f64() / 1e6;
        println!(
            "{nodes:>6}  {:>16.2}  {:>16.2}  {:>11.0}%",
            rate(kernel),
            rate(bare),
            100.0 * bare.as_secs_f64() / kernel.as_secs_f64()
        );
    }
    let code = scenario_figures(args);
    if code != EXIT_PASS {
        return code;
    }
    let Ok(scenario) = Scenario::from_path(&args.scenario) else { return code };
    if args.protocol_records > 0 {
        super::bench_work::protocol_figures(&scenario, args.protocol_records, args.seed);
    }
    if args.sweep_seeds > 0 {
        super::bench_work::sweep_figures(&scenario, args.sweep_seeds);
    }
    if args.scale_records > 0 {
        super::bench_work::scale_figures(&scenario, args.scale_records, args.seed);
    }
    if args.memory_records > 0 {
        super::bench_work::memory_figures(&scenario, args.memory_records, args.seed);
    }
    if let Some(peak) = super::bench_work::peak_memory() {
        println!(
            "
peak memory (VmHWM) of this process: {peak}"
        );
    }
    code
}

fn ring_medians(nodes: u32, args: &BenchArgs) -> (Duration, Duration) {
    let seed = Seed(0x5eed);
    assert_eq!(ring_kernel(nodes, 1_000, seed), ring_bare(nodes, 1_000, seed), "kernel and bare rings disagree");
    let mut kernel = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..args.repeats {
        kernel.push(timed(|| ring_kernel(nodes, args.deliveries, seed)));
        bare.push(timed(|| ring_bare(nodes, args.deliveries, seed)));
    }
    (median(kernel), median(bare))
}

fn scenario_figures(args: &BenchArgs) -> u8 {
    let source = args.scenario.display().to_string();
    let compiled = match Scenario::from_path(&args.scenario).and_then(|scenario| scenario.compile()) {
        Ok(compiled) => compiled,
        Err(error) => return bad_input(&error.one_line(&source)),
    };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..args.repeats {
        let start = Instant::now();
        last = Some(run_compiled(&compiled, Seed(args.seed), &RunOptions::default()));
        times.push(start.elapsed());
    }
    let outcome = last.expect("at least one repeat");
    let wall = median(times);
    let per_second = |count: u64| count as f64 / wall.as_secs_f64();
    println!();
    println!("scenario {source} --seed {}: median of {}", args.seed, args.repeats);
    println!("  wall time      {:.3} ms", wall.as_secs_f64() * 1e3);
    println!("  events         {} ({:.2} M/s)", outcome.events, per_second(outcome.events) / 1e6);
    println!(
        "  source records {} read ({:.2} M/s)",
        outcome.stats.source_records_read,
        per_second(outcome.stats.source_records_read) / 1e6
    );
    println!("  facts          {} ({:.2} M/s)", outcome.fact_count, per_second(outcome.fact_count) / 1e6);
    println!(
        "  simulated      {} ({:.0}x wall time)",
        outcome.end_time,
        outcome.end_time.as_nanos() as f64 / wall.as_nanos() as f64
    );
    println!("  trace hash     {} ({})", outcome.trace_hash, if outcome.passed() { "PASS" } else { "FAIL" });
    EXIT_PASS
}

fn timed<T>(work: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    std::hint::black_box(work());
    start.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}
