//! Kernel throughput: the token ring through `kernel::run` against the same ring as a bare
//! `BinaryHeap` loop, at 1,000,000 deliveries per iteration for rings of 8, 64 and 256
//! nodes. Reported as deliveries per second; the ratio of the two is the kernel's overhead.
//!
//! Run with `cargo bench --bench kernel`.

// criterion_group! defines an undocumented `pub fn benches` (it passes no doc comment through).
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use snapsim::bench::{ring_bare, ring_kernel};
use snapsim::kernel::rng::Seed;
use std::hint::black_box;

/// Deliveries per measured iteration.
const DELIVERIES: u64 = 1_000_000;

/// Ring sizes measured, one criterion group each.
const RING_SIZES: [u32; 3] = [8, 64, 256];

/// The seed of every run: the work is the same in every iteration.
const SEED: Seed = Seed(0x5eed);

/// One group per ring size, measuring the kernel ring and the bare ring.
fn ring_throughput(c: &mut Criterion) {
    for nodes in RING_SIZES {
        assert_eq!(
            ring_kernel(nodes, DELIVERIES, SEED),
            ring_bare(nodes, DELIVERIES, SEED),
            "the kernel and bare rings disagree at {nodes} nodes"
        );
        let mut group = c.benchmark_group(format!("ring_{nodes}_nodes"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(DELIVERIES));
        group.bench_function(BenchmarkId::new("kernel", DELIVERIES), |b| {
            b.iter(|| ring_kernel(black_box(nodes), black_box(DELIVERIES), black_box(SEED)))
        });
        group.bench_function(BenchmarkId::new("bare", DELIVERIES), |b| {
            b.iter(|| ring_bare(black_box(nodes), black_box(DELIVERIES), black_box(SEED)))
        });
        group.finish();
    }
}

criterion_group!(benches, ring_throughput);
criterion_main!(benches);
