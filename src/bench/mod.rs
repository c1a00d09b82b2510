//! Benchmark workloads: the token ring that measures the kernel's event throughput against a
//! bare priority-queue loop doing the same work, and scaled copies of a job scenario
//! (`scaling.rs`) for the protocol and scale figures, and a counting allocator
//! (`heap_peak.rs`) for a run's peak heap bytes.
//!
//! Everything here is deterministic and untimed: each workload runs to an exact event count
//! and returns a checksum of what it did. Timing is the caller's job (`benches/kernel.rs`
//! drives these functions through criterion), so this module reads no clock and starts no
//! thread. The ring itself is in `ring.rs`; unit tests in `bench/tests.rs`.

pub mod heap_peak;
pub mod ring;
pub mod scaling;

#[cfg(test)]
mod tests;

pub use ring::{HOP_LATENCY, JITTER_MAX, RingResult, ring_bare, ring_kernel};
