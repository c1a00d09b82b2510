//! `snapsim merge` (being written).

use clap::Args;

/// Arguments of `snapsim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {}

/// Runs the subcommand; returns the exit code.
pub fn merge(_args: &MergeArgs) -> u8 {
    super::bad_input("merge is not written yet")
}
