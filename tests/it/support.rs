//! Shared helpers: the shipped scenarios, one-call runs, and the binary run as a user would.

use snapsim::check::Invariant;
use snapsim::explore::run::{Outcome, RunSpec, run_compiled};
use snapsim::harness::RunOptions;
use snapsim::kernel::rng::Seed;
use snapsim::plant::PlantedBug;
use snapsim::scenario::{CompiledScenario, Scenario};
use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every shipped scenario file, sorted by path.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo_root().join("sims"))
        .expect("sims/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    paths.sort();
    paths
}

/// A shipped scenario, parsed.
pub fn load(relative: &str) -> Scenario {
    load_path(&repo_root().join(relative))
}

/// A scenario file, parsed.
pub fn load_path(path: &Path) -> Scenario {
    Scenario::from_path(path).unwrap_or_else(|error| panic!("{}", error.one_line(&path.display().to_string())))
}

/// A scenario, validated.
pub fn compile(scenario: &Scenario) -> CompiledScenario {
    scenario.compile().unwrap_or_else(|error| panic!("{error}"))
}

/// `scenario` validated for a run with `seed`: with `[swarm]`, the seed's plan drawn.
fn compile_for(scenario: &Scenario, seed: u64) -> CompiledScenario {
    RunSpec::new(scenario.clone(), Seed(seed)).compile().unwrap_or_else(|error| panic!("{error}"))
}

/// Runs `scenario` with `seed`, keeping every fact.
pub fn run_keeping_facts(scenario: &Scenario, seed: u64) -> Outcome {
    run_compiled(&compile_for(scenario, seed), Seed(seed), &RunOptions { keep_facts: true, ..RunOptions::default() })
}

/// Runs `scenario` with `seed` and `plants`, keeping every fact.
pub fn run_planted_keeping_facts(scenario: &Scenario, seed: u64, plants: &[PlantedBug]) -> Outcome {
    let options = RunOptions { plants: plants.to_vec(), keep_facts: true, ..RunOptions::default() };
    run_compiled(&compile_for(scenario, seed), Seed(seed), &options)
}

/// Runs `scenario` with `seed` and `plants`.
pub fn run(scenario: &Scenario, seed: u64, plants: &[PlantedBug]) -> Outcome {
    run_judged_without(scenario, seed, plants, &[])
}

/// Runs `scenario` with `seed` and `plants`, with the `disabled` invariants not judged.
pub fn run_judged_without(scenario: &Scenario, seed: u64, plants: &[PlantedBug], disabled: &[Invariant]) -> Outcome {
    let options = RunOptions { plants: plants.to_vec(), disabled_checks: disabled.to_vec(), ..RunOptions::default() };
    run_compiled(&compile_for(scenario, seed), Seed(seed), &options)
}

/// Runs `scenario` with `seed` and `plants`, every checker shown every fact (no routing),
/// the `disabled` invariants not judged.
pub fn run_unrouted(scenario: &Scenario, seed: u64, plants: &[PlantedBug], disabled: &[Invariant]) -> Outcome {
    let options = RunOptions {
        plants: plants.to_vec(),
        disabled_checks: disabled.to_vec(),
        unrouted_checks: true,
        ..RunOptions::default()
    };
    run_compiled(&compile_for(scenario, seed), Seed(seed), &options)
}

/// Asserts `scenario` passes under each of `protocols` with swarm fault plans, for `seeds`.
pub fn assert_swarm_passes(
    scenario: &Scenario,
    protocols: &[snapsim::protocol::ProtocolKind],
    seeds: std::ops::Range<u64>,
) {
    for &protocol in protocols {
        let mut scenario = scenario.clone();
        scenario.checkpoint.protocol = protocol;
        scenario.swarm = Some(snapsim::scenario::SwarmSection::default());
        for seed in seeds.clone() {
            let outcome = run(&scenario, seed, &[]);
            assert!(outcome.passed(), "{protocol:?} seed {seed}: {:?}", outcome.verdict);
        }
    }
}

/// What one run of the `snapsim` binary did.
pub struct BinaryRun {
    /// Its exit code.
    pub code: i32,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// `snapsim <args>` from `dir`, with `env` set and none of the developer's own `SNAPSIM_*`
/// variables or log filters, which would change what it does or prints.
pub fn snapsim_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> BinaryRun {
    let mut command = assert_cmd::Command::cargo_bin("snapsim").expect("the snapsim binary is built");
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SNAPSIM_") || name == "RUST_LOG") {
        command.env_remove(name);
    }
    command.current_dir(dir).args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("snapsim runs");
    BinaryRun {
        code: output.status.code().expect("snapsim exits rather than being killed"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// The value on the report line labelled `label` (labels are padded to 13 columns).
pub fn report_value<'a>(stdout: &'a str, label: &str) -> &'a str {
    let prefix = format!("{label:<13}");
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no `{label}` line in the report:\n{stdout}"))
}
