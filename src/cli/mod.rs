//! The command line: subcommands, validated arguments, output and exit codes.
//!
//! Exit codes: 0 every invariant held, 1 an invariant failed, 2 bad input (a flag, a
//! missing or invalid scenario file) — always one line on stderr naming the file and the
//! field, never a panic. The only module that touches real files, stdout and (for `bench`)
//! the wall clock.

mod bench;
mod bench_work;
mod compare;
mod completions;
mod draw;
mod loaded;
mod merge;
mod plot;
mod replay;
mod run;
mod shrink;
mod sweep;
mod trace;
mod zoo;

use crate::plant::{ALL_PLANTS, PlantedBug};
use crate::scenario::{CompiledScenario, Scenario};
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
    /// Run many seeds of a scenario in parallel; write every failure as a run file.
    Sweep(sweep::SweepArgs),
    /// Re-run a run file, verify its trace hash, and show the facts around a violation.
    Replay(replay::ReplayArgs),
    /// Minimise a failing run file while the same invariant still fails.
    Shrink(shrink::ShrinkArgs),
    /// Join the JSON summaries of sweep shards into one.
    Merge(merge::MergeArgs),
    /// Run a scenario under every protocol, same workload and faults, side by side.
    Compare(compare::CompareArgs),
    /// Measure kernel throughput against a bare event loop, and a scenario's wall time.
    Bench(bench::BenchArgs),
    /// List the planted bugs, or measure how many seeds each takes to find.
    Zoo(zoo::ZooArgs),
    /// Draw a run's space-time diagram (lanes, messages, barriers, cuts) as SVG or HTML.
    Draw(draw::DrawArgs),
    /// Export a run's facts: Chrome trace events (Perfetto) or JSON lines.
    Trace(trace::TraceArgs),
    /// Plot checkpoint figures of a run (or every protocol's), or a sweep summary, as SVG.
    Plot(plot::PlotArgs),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
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
    if let Err(message) = install_logging(std::env::var("SNAPSIM_LOG").ok(), std::env::var("RUST_LOG").ok()) {
        return ExitCode::from(bad_input(&message));
    }
    let code = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Draw(args) => draw::draw(&args),
        Command::Trace(args) => trace::trace(&args),
        Command::Plot(args) => plot::plot(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Zoo(args) => zoo::zoo(&args),
        Command::Replay(args) => replay::replay(&args),
        Command::Shrink(args) => shrink::shrink(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Bench(args) => bench::bench(&args),
        Command::Completions(args) => completions::completions(&args),
    };
    ExitCode::from(code)
}

/// Logs on simulated time (`harness::logging`) to stderr, filtered as `SNAPSIM_LOG` says
/// (`RUST_LOG`'s syntax; `RUST_LOG` itself when `SNAPSIM_LOG` is unset). No filter, no
/// subscriber: nothing is logged. Log lines carry no wall-clock time, only `sim_time`.
fn install_logging(snapsim_log: Option<String>, rust_log: Option<String>) -> Result<(), String> {
    let Some((name, filter)) = [("SNAPSIM_LOG", snapsim_log), ("RUST_LOG", rust_log)]
        .into_iter()
        .find_map(|(name, value)| value.filter(|value| !value.trim().is_empty()).map(|value| (name, value)))
    else {
        return Ok(());
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .map_err(|error| format!("{name}=`{filter}` is not a log filter: {error}"))?;
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

/// Prints a bad-input line and returns exit code 2.
fn bad_input(line: &str) -> u8 {
    eprintln!("snapsim: {line}");
    EXIT_BAD_INPUT
}

/// Reads and validates a scenario file; a bad one is reported (exit code in `Err`).
fn load_scenario(path: &std::path::Path) -> Result<(Scenario, CompiledScenario), u8> {
    let source = path.display().to_string();
    let scenario = Scenario::from_path(path).map_err(|error| bad_input(&error.one_line(&source)))?;
    let compiled = scenario.compile().map_err(|error| bad_input(&error.one_line(&source)))?;
    Ok((scenario, compiled))
}

/// Parses `--plant` names, then reads and validates the scenario: the start of every
/// command that runs a scenario file (exit code in `Err`).
/// What `run` and `sweep` share about how each seed runs.
#[derive(Debug, clap::Args)]
pub struct RunChoices {
    /// Plant a deliberate bug, to see the checkers catch it (repeatable).
    #[arg(long = "plant", value_name = "NAME")]
    pub plants: Vec<String>,
    /// Run each seed twice and fail one whose runs differ, naming the first diverging fact.
    #[arg(long, env = "SNAPSIM_CHECK_DETERMINISM")]
    pub check_determinism: bool,
    /// Draw a swarm fault plan for every seed (as a `[swarm]` section with its defaults
    /// would, unless the scenario has one).
    #[arg(long, env = "SNAPSIM_SWARM")]
    pub swarm: bool,
    /// Judge safety only: skip the liveness phase (no progress demanded after the faults
    /// heal, and a run that does not finish within its budget is not a failure) — for
    /// protocols under development. The report says liveness was not judged.
    #[arg(long, env = "SNAPSIM_SAFETY_ONLY")]
    pub safety_only: bool,
    /// Draw every seed's checkpoint configuration (protocol, interval, timeout, buffers,
    /// restart strategy...) from default ranges, as a `[randomize]` section would, unless
    /// the scenario has one.
    #[arg(long, env = "SNAPSIM_RANDOMIZE_CONFIG")]
    pub randomize_config: bool,
}

impl RunChoices {
    /// `scenario` with the sections these choices add: `--swarm` and `--randomize-config`.
    fn apply(&self, scenario: crate::scenario::Scenario) -> crate::scenario::Scenario {
        let mut scenario = with_swarm(scenario, self.swarm);
        if self.randomize_config && scenario.randomize.is_none() {
            scenario.randomize = Some(crate::scenario::RandomizeSection::defaults(scenario.bank.is_some()));
        }
        scenario
    }
}

/// The scenario with a default `[swarm]` section if `swarm` is asked for and it has none.
fn with_swarm(mut scenario: crate::scenario::Scenario, swarm: bool) -> crate::scenario::Scenario {
    if swarm && scenario.swarm.is_none() {
        scenario.swarm = Some(crate::scenario::SwarmSection::default());
    }
    scenario
}

fn load_spec(
    path: &std::path::Path,
    plant_names: &[String],
) -> Result<(Scenario, CompiledScenario, Vec<PlantedBug>), u8> {
    let plants = parse_plants(plant_names)?;
    let (scenario, compiled) = load_scenario(path)?;
    Ok((scenario, compiled, plants))
}

/// Reads and decodes a run file; a missing or damaged one is reported (exit code in `Err`).
fn read_run_file(path: &std::path::Path) -> Result<crate::explore::run_file::RunFile, u8> {
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| bad_input(&format!("{source}: cannot read the file: {error}")))?;
    crate::explore::run_file::RunFile::decode(&bytes).map_err(|error| bad_input(&format!("{source}: {error}")))
}

/// Parses `--plant` names; an unknown one is reported (exit code in `Err`).
fn parse_plants(names: &[String]) -> Result<Vec<PlantedBug>, u8> {
    names
        .iter()
        .map(|name| {
            PlantedBug::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = ALL_PLANTS.iter().map(|plant| plant.name()).collect();
                bad_input(&format!("--plant: no planted bug named `{name}` (known: {})", known.join(", ")))
            })
        })
        .collect()
}
