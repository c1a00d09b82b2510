//! Unit tests of the token ring: the kernel and bare versions agree, stop at exactly the
//! asked number of deliveries, and depend on the seed and only on it.

use super::{HOP_LATENCY, JITTER_MAX, RingResult, ring_bare, ring_kernel};
use crate::kernel::rng::Seed;
use crate::kernel::time::SimTime;

#[test]
fn kernel_and_bare_agree() {
    for nodes in [1, 2, 3, 8, 64, 256] {
        for deliveries in [0, 1, 7, 1_000, 20_000] {
            let kernel = ring_kernel(nodes, deliveries, Seed(42));
            let bare = ring_bare(nodes, deliveries, Seed(42));
            assert_eq!(kernel, bare, "nodes {nodes}, deliveries {deliveries}");
        }
    }
}

#[test]
fn delivery_count_is_exact() {
    for deliveries in [0, 1, 255, 256, 257, 12_345] {
        assert_eq!(ring_kernel(256, deliveries, Seed(7)).deliveries, deliveries);
        assert_eq!(ring_bare(256, deliveries, Seed(7)).deliveries, deliveries);
    }
}

#[test]
fn no_delivery_means_time_zero() {
    let result = ring_kernel(8, 0, Seed(1));
    assert_eq!(result.end_time, SimTime::ZERO);
    assert_eq!(result, ring_bare(8, 0, Seed(1)));
}

#[test]
fn same_seed_same_result() {
    let first = ring_kernel(64, 10_000, Seed(3));
    let second = ring_kernel(64, 10_000, Seed(3));
    assert_eq!(first, second);
    assert_eq!(ring_bare(64, 10_000, Seed(3)), ring_bare(64, 10_000, Seed(3)));
}

#[test]
fn different_seeds_different_checksums() {
    let checksums: Vec<u64> = (0..8).map(|seed| ring_kernel(8, 5_000, Seed(seed)).checksum).collect();
    for (i, a) in checksums.iter().enumerate() {
        for b in &checksums[i + 1..] {
            assert_ne!(a, b, "two seeds gave the same checksum");
        }
    }
}

#[test]
fn one_node_end_time_is_within_the_jitter_bounds() {
    let deliveries = 1_000u64;
    let RingResult { end_time, .. } = ring_kernel(1, deliveries, Seed(9));
    let hops = deliveries - 1;
    let low = hops * HOP_LATENCY.as_nanos();
    let high = hops * (HOP_LATENCY.as_nanos() + JITTER_MAX.as_nanos());
    assert!((low..=high).contains(&end_time.as_nanos()), "end time {end_time}");
    assert!(end_time.as_nanos() > low, "no jitter was drawn");
}

#[test]
#[should_panic(expected = "at least one node")]
fn kernel_ring_refuses_zero_nodes() {
    ring_kernel(0, 1, Seed(0));
}

#[test]
#[should_panic(expected = "at least one node")]
fn bare_ring_refuses_zero_nodes() {
    ring_bare(0, 1, Seed(0));
}

/// The shipped word count, parsed.
fn wordcount() -> crate::scenario::Scenario {
    let text = include_str!("../../sims/wordcount.toml");
    crate::scenario::Scenario::from_toml(text).expect("the shipped scenario parses")
}

#[test]
fn a_scaled_scenario_spreads_its_records_multiplies_its_tasks_and_stretches_its_faults() {
    use super::scaling::{Scale, scaled};
    let base = wordcount();
    let scale = Scale { records_total: 100_000, task_factor: 10, interval_ms: Some(100) };
    let big = scaled(&base, scale).expect("wordcount has plain sources");
    let parallelism: Vec<u32> = big.vertices.iter().map(|vertex| vertex.parallelism).collect();
    assert_eq!(parallelism, vec![20, 30, 30]);
    assert_eq!(big.workload.records_per_source_subtask, 5_000, "100,000 over 20 source subtasks");
    assert_eq!(big.checkpoint.interval_ms, 100);
    assert_eq!(big.faults[0].at_ms, base.faults[0].at_ms * 10, "10x the records, 10x later");
    assert!(big.compile().is_ok(), "still a valid job");
    let mut bank = base.clone();
    bank.vertices.retain(|vertex| vertex.kind != crate::dataflow::graph::VertexKind::Source);
    assert_eq!(scaled(&bank, scale), None, "nothing to scale without a plain source");
}

#[test]
fn heap_peak_says_nothing_where_its_allocator_is_not_installed() {
    // Test binaries use the system allocator: nothing is counted, so no figure is claimed.
    let (bytes, peak) = super::heap_peak::measure(|| vec![0u8; 4096].len());
    assert_eq!((bytes, peak), (4096, None));
}
