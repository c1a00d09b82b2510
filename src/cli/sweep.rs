//! `snapsim sweep` (being written).

use clap::Args;

/// Arguments of `snapsim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {}

/// Runs the subcommand; returns the exit code.
pub fn sweep(_args: &SweepArgs) -> u8 {
    super::bad_input("sweep is not written yet")
}
