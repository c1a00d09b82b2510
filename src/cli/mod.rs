//! The command line: subcommands, validated arguments, output and exit codes.
//!
//! Exit codes: 0 every invariant held, 1 an invariant failed, 2 bad input (a flag, a
//! missing or invalid scenario file) — always one line on stderr naming the file and the
//! field, never a panic. The only module that touches real files, stdout and (for `bench`)
//! the wall clock.

mod bench;
mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Deterministic simulation testing for streaming checkpoint-and-recovery protocols.
#[derive(Debug, Parser)]
#[command(name = "snapsim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one seeded simulation of a scenario and print its report.
    Run(run::RunArgs),
    /// Measure kernel throughput against a bare event loop, and a scenario's wall time.
    Bench(bench::BenchArgs),
}

/// Exit code: every invariant held.
pub const EXIT_PASS: u8 = 0;
/// Exit code: an invariant failed.
pub const EXIT_FAIL: u8 = 1;
/// Exit code: bad input.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Parses the process arguments and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Bench(args) => bench::bench(&args),
    };
    ExitCode::from(code)
}

/// Prints a bad-input line and returns exit code 2.
fn bad_input(line: &str) -> u8 {
    eprintln!("snapsim: {line}");
    EXIT_BAD_INPUT
}
