//! `snapsim run <scenario> --seed N`: one run and its report.

use super::{EXIT_FAIL, EXIT_PASS, bad_input};
use crate::explore::run::run_compiled;
use crate::harness::RunOptions;
use crate::kernel::rng::Seed;
use crate::plant::{ALL_PLANTS, PlantedBug};
use crate::report::{ReportContext, render_report};
use crate::scenario::Scenario;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `snapsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML), e.g. sims/wordcount.toml.
    scenario: PathBuf,
    /// The run's root seed; every random draw derives from it.
    #[arg(long, env = "SNAPSIM_SEED", default_value_t = 1)]
    seed: u64,
    /// Plant a deliberate bug, to see the checkers catch it (repeatable).
    #[arg(long = "plant", value_name = "NAME")]
    plants: Vec<String>,
}

/// Runs the scenario once and prints the report; returns the exit code.
pub fn run(args: &RunArgs) -> u8 {
    let source = args.scenario.display().to_string();
    let mut plants = Vec::new();
    for name in &args.plants {
        match PlantedBug::from_name(name) {
            Some(plant) => plants.push(plant),
            None => {
                let known: Vec<&str> = ALL_PLANTS.iter().map(|plant| plant.name()).collect();
                return bad_input(&format!("--plant: no planted bug named `{name}` (known: {})", known.join(", ")));
            }
        }
    }
    let scenario = match Scenario::from_path(&args.scenario) {
        Ok(scenario) => scenario,
        Err(error) => return bad_input(&error.one_line(&source)),
    };
    let compiled = match scenario.compile() {
        Ok(compiled) => compiled,
        Err(error) => return bad_input(&error.one_line(&source)),
    };
    let options = RunOptions { keep_facts: false, plants: plants.clone() };
    let outcome = run_compiled(&compiled, Seed(args.seed), &options);
    let context = ReportContext {
        scenario_name: &scenario.name,
        scenario_source: &source,
        task_names: &compiled.task_names,
        replay_command: replay_command(&source, args.seed, &plants),
    };
    print!("{}", render_report(&outcome, &context));
    if outcome.passed() { EXIT_PASS } else { EXIT_FAIL }
}

/// The one command that reproduces a run exactly.
pub fn replay_command(source: &str, seed: u64, plants: &[PlantedBug]) -> String {
    let mut command = format!("snapsim run {source} --seed {seed}");
    for plant in plants {
        command.push_str(&format!(" --plant {plant}"));
    }
    command
}
