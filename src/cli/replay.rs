//! `snapsim replay` (being written).

use clap::Args;

/// Arguments of `snapsim replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {}

/// Runs the subcommand; returns the exit code.
pub fn replay(_args: &ReplayArgs) -> u8 {
    super::bad_input("replay is not written yet")
}
