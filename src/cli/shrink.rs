//! `snapsim shrink` (being written).

use clap::Args;

/// Arguments of `snapsim shrink`.
#[derive(Debug, Args)]
pub struct ShrinkArgs {}

/// Runs the subcommand; returns the exit code.
pub fn shrink(_args: &ShrinkArgs) -> u8 {
    super::bad_input("shrink is not written yet")
}
