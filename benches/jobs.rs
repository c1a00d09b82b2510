//! Job throughput under criterion, beside `snapsim bench`'s whole-process figures (issue
//! #10): `sims/wordcount.toml` scaled to 100,000 records with checkpoints every 100 ms and
//! its crashes, under every protocol (records per second); how the time grows with 10× the
//! records and 10× the tasks; and a sweep of 200 seeds of the shipped scenario at 1 and 2
//! jobs (seeds per second).
//!
//! Run with `cargo bench --bench jobs` (from the repository root).

// criterion_group! defines an undocumented `pub fn benches` (it passes no doc comment through).
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use snapsim::bench::scaling::{Scale, scaled};
use snapsim::explore::run::{RunSpec, run_compiled};
use snapsim::explore::sweep::{SeedRange, SweepPlan, sweep};
use snapsim::harness::RunOptions;
use snapsim::kernel::rng::Seed;
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::{CompiledScenario, Scenario};
use std::hint::black_box;

/// Records of the protocol and scale runs.
const RECORDS: u64 = 100_000;

/// Seeds per swept iteration.
const SWEEP_SEEDS: u64 = 200;

fn wordcount() -> Scenario {
    Scenario::from_path(std::path::Path::new("sims/wordcount.toml")).expect("run from the repository root")
}

/// Wordcount scaled to `records` and `task_factor`× the tasks, checkpoints every 100 ms.
fn compiled(protocol: ProtocolKind, records: u64, task_factor: u32) -> CompiledScenario {
    let scale = Scale { records_total: records, task_factor, interval_ms: Some(100) };
    let mut scenario = scaled(&wordcount(), scale).expect("wordcount has plain sources");
    scenario.checkpoint.protocol = protocol;
    scenario.compile().expect("a valid scaled scenario")
}

/// Runs `compiled` once; the verdict must be a pass (a benchmark of a failing run measures
/// the wrong thing).
fn run_once(compiled: &CompiledScenario) -> u64 {
    let outcome = run_compiled(compiled, Seed(1), &RunOptions::default());
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    outcome.events
}

fn protocols(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("wordcount_{RECORDS}_records"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS));
    for protocol in ProtocolKind::ALL {
        let job = compiled(protocol, RECORDS, 1);
        group.bench_function(BenchmarkId::new(protocol.name(), RECORDS), |b| b.iter(|| run_once(black_box(&job))));
    }
    group.finish();
}

fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("wordcount_scale");
    group.sample_size(10);
    for (name, records, tasks) in [("base", RECORDS, 1), ("10x_records", RECORDS * 10, 1), ("10x_tasks", RECORDS, 10)] {
        let job = compiled(ProtocolKind::Aligned, records, tasks);
        group.throughput(Throughput::Elements(records));
        group.bench_function(name, |b| b.iter(|| run_once(black_box(&job))));
    }
    group.finish();
}

fn sweeps(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("sweep_wordcount_{SWEEP_SEEDS}_seeds"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(SWEEP_SEEDS));
    let plan = SweepPlan {
        template: RunSpec::new(wordcount(), Seed(0)),
        seeds: SeedRange { start: 0, end: SWEEP_SEEDS },
        shard: None,
        stop_on_failure: false,
        check_determinism: false,
        guided: false,
    };
    for jobs in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("a thread pool");
        group.bench_function(BenchmarkId::new("jobs", jobs), |b| {
            b.iter(|| {
                let reports = pool.install(|| sweep(black_box(&plan), &|_| {})).expect("a valid plan");
                assert!(
                    reports.iter().all(|report| report.verdict == snapsim::explore::run::Verdict::Pass),
                    "every seed passes"
                );
                reports.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, protocols, scale, sweeps);
criterion_main!(benches);
