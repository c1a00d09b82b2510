//! The library API for property tests: build a scenario in Rust, run it with a seed (and,
//! if you like, an explicit fault plan), draw seeds, fault plans and scenarios with
//! proptest, and assert that every invariant held.
//!
//! ```
//! use snapsim::testing::proptest::prelude::*;
//! use snapsim::testing::{ScenarioBuilder, assert_exactly_once_with_plan, fault_plans, seeds};
//!
//! proptest! {
//!     #![proptest_config(ProptestConfig::with_cases(4))]
//!     // In a test file, `#[test]` goes here; this example calls the property itself.
//!     fn word_count_is_exactly_once(seed in seeds(), plan in fault_plans(&ScenarioBuilder::wordcount(), 50, 3)) {
//!         assert_exactly_once_with_plan(&ScenarioBuilder::wordcount().build(), seed, &plan);
//!     }
//! }
//! # fn main() { word_count_is_exactly_once(); }
//! ```
//!
//! - `ScenarioBuilder` fills in the same `Scenario` a `sims/*.toml` file parses into;
//!   `ScenarioBuilder::wordcount()` is a small job to start from.
//! - `check` and `check_with_plan` run once and return the `Outcome`.
//! - `seeds`, `fault_plans` and `scenarios` are proptest strategies. The crate re-exports
//!   `proptest`, so a test can use the very version the strategies are built with.
//! - `assert_passes`, `assert_exactly_once`, `assert_exactly_once_with_plan` and
//!   `sweep_in_test` run guarded (a panic inside the simulation is a finding, not a crash of
//!   the test) and panic with the invariant, its detail and `replay: snapsim replay <path>`.
//! - `SNAPSIM_SEED=N` makes `seeds` and `seeds_to_run` use only seed N; `SNAPSIM_SEEDS=K`
//!   makes `seeds_to_run` (and so `sweep_in_test`) run seeds `0..K` (16 when unset), as
//!   madsim's test seed variables do. An empty value counts as unset.
//!
//! Unlike the simulation, this module touches the outside world: it reads those variables
//! and, when an assertion fails, writes a run file under
//! `<CARGO_TARGET_DIR or target>/snapsim-failures/`. A failing property test must leave its
//! reproduction behind: proptest prints the inputs of the case, but the run file holds the
//! whole run (scenario, seed, fault plan, plants, facts), independent of the test's code, so
//! it can be replayed, shrunk and kept as a regression after the test has changed. Existing
//! files are never overwritten: a new failure with the same name gets `-2`, `-3`, …, and a
//! failure identical to one already written reuses that file.

pub mod builder;
pub mod corpus;
pub mod strategies;

pub use self::builder::ScenarioBuilder;
pub use self::corpus::{CorpusEntry, CorpusVerdict, assert_corpus_fixed, replay_corpus};
pub use self::strategies::{JobShape, fault_plans, scenarios, scenarios_with_fault_plans, seeds, seeds_or_only};
pub use crate::dataflow::graph::{Partitioning, TaskRef, VertexKind};
pub use crate::dataflow::record::Record;
pub use crate::dataflow::two_phase_sink::{SinkCommand, SinkFactory, TransactionalSink};
pub use crate::explore::run::{
    Outcome, RunSpec, Verdict, check, check_with_plan, check_with_protocol, check_with_sink,
};
pub use crate::faults::{Fault, FaultPlan, ScheduledFault};
pub use crate::kernel::ids::VertexId;
pub use crate::kernel::rng::Seed;
pub use crate::plant::PlantedBug;
pub use crate::protocol::{Guarantee, ProtocolFactory, TaskCommand, TaskInput, TaskProtocol, TaskSetup};
pub use crate::scenario::{CompiledScenario, Scenario, ScenarioError};
pub use proptest;

use crate::explore::guarded::{GuardedRun, run_guarded};
use crate::explore::run_file::{RUN_FILE_EXTENSION, RunFile};
use crate::files::{SameBytes, write_new_file};
use crate::report::describe_fact;
use crate::report::with_task_names;
use std::path::{Path, PathBuf};

/// The variable that replays one seed.
pub const SEED_VAR: &str = "SNAPSIM_SEED";

/// The variable that sets how many seeds `seeds_to_run` gives.
pub const SEEDS_VAR: &str = "SNAPSIM_SEEDS";

/// Seeds `seeds_to_run` gives when `SNAPSIM_SEEDS` is unset.
pub const DEFAULT_SEED_COUNT: u64 = 16;

/// The folder, under the target directory, that failing assertions write run files to.
pub const FAILURE_DIR_NAME: &str = "snapsim-failures";

/// Parses a `SNAPSIM_SEED` value: `None` (or empty) means no seed is being replayed.
pub fn parse_seed(value: Option<&str>) -> Result<Option<Seed>, String> {
    match value.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse::<u64>().map(|seed| Some(Seed(seed))).map_err(|_| {
            format!("{SEED_VAR}=`{text}` is not a seed: give an unsigned 64-bit integer, as in {SEED_VAR}=7")
        }),
    }
}

/// Parses a `SNAPSIM_SEEDS` value: `None` (or empty) means `DEFAULT_SEED_COUNT`. Zero is
/// refused, because a sweep of no seeds would pass without testing anything.
pub fn parse_seed_count(value: Option<&str>) -> Result<u64, String> {
    match value.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(DEFAULT_SEED_COUNT),
        Some(text) => match text.parse::<u64>() {
            Ok(0) => Err(format!("{SEEDS_VAR}=0 would run no seeds: give at least 1")),
            Ok(count) => Ok(count),
            Err(_) => {
                Err(format!("{SEEDS_VAR}=`{text}` is not a count: give a positive integer, as in {SEEDS_VAR}=64"))
            }
        },
    }
}

/// The seeds a sweep runs, given the two variables' values: only the replayed seed when
/// `seed` is set, else `0..count`. Both values are checked either way.
pub fn seeds_to_run_from(seed: Option<&str>, seeds: Option<&str>) -> Result<Vec<Seed>, String> {
    let count = parse_seed_count(seeds)?;
    Ok(match parse_seed(seed)? {
        Some(seed) => vec![seed],
        None => (0..count).map(Seed).collect(),
    })
}

/// The seed `SNAPSIM_SEED` replays, if set.
///
/// # Panics
///
/// If the variable holds something other than a `u64`, with a one-line message.
pub fn replay_seed() -> Option<Seed> {
    parse_seed(env_value(SEED_VAR).as_deref()).unwrap_or_else(|message| panic!("{message}"))
}

/// How many seeds a sweep runs: `SNAPSIM_SEEDS`, or `DEFAULT_SEED_COUNT`.
///
/// # Panics
///
/// If the variable holds something other than a positive integer, with a one-line message.
pub fn seed_count() -> u64 {
    parse_seed_count(env_value(SEEDS_VAR).as_deref()).unwrap_or_else(|message| panic!("{message}"))
}

/// The seeds a sweep runs: `[SNAPSIM_SEED]` when set, else `0..seed_count()`.
///
/// # Panics
///
/// If either variable is malformed, with a one-line message.
pub fn seeds_to_run() -> Vec<Seed> {
    seeds_to_run_from(env_value(SEED_VAR).as_deref(), env_value(SEEDS_VAR).as_deref())
        .unwrap_or_else(|message| panic!("{message}"))
}

/// A variable's value; one that is not Unicode is passed on lossily, so that parsing
/// refuses it with a message showing what was there.
fn env_value(name: &str) -> Option<String> {
    std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
}

/// Where failing assertions write run files: `<CARGO_TARGET_DIR or target>/snapsim-failures`.
/// A relative `target` is relative to the test's working directory, which `cargo test`
/// sets to the package's root.
pub fn failure_dir() -> PathBuf {
    failure_dir_under(std::env::var_os("CARGO_TARGET_DIR").as_deref().map(Path::new))
}

/// `failure_dir` for a given target directory (`None` or empty: `target`).
pub fn failure_dir_under(target_dir: Option<&Path>) -> PathBuf {
    let target = target_dir.filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("target"));
    target.join(FAILURE_DIR_NAME)
}

/// Runs `spec` and returns its outcome if every invariant held.
///
/// # Panics
///
/// If an invariant failed or the simulation panicked: writes a run file to `failure_dir()`
/// and panics with the invariant, the detail and `replay: snapsim replay <path>`. If the
/// spec is invalid, panics with its one-line `ScenarioError`.
#[track_caller]
pub fn assert_passes(spec: &RunSpec) -> Outcome {
    assert_passes_in(spec, &failure_dir())
}

/// `assert_passes`, writing any run file to `dir` instead of `failure_dir()`.
///
/// # Panics
///
/// As `assert_passes`.
#[track_caller]
pub fn assert_passes_in(spec: &RunSpec, dir: &Path) -> Outcome {
    let guarded = match run_guarded(spec, false) {
        Ok(guarded) => guarded,
        Err(error) => panic!("{}", error.one_line(&format!("scenario `{}`", spec.scenario.name))),
    };
    match guarded.outcome {
        Some(outcome) if outcome.passed() => outcome,
        _ => panic!("{}", failure_report(spec, &guarded.verdict, dir)),
    }
}

/// Runs `scenario` with `seed` and its own faults, and asserts that every invariant held
/// (every invariant of the scenario's protocol: exactly-once state and final aggregates for
/// exactly-once protocols, no loss for at-least-once ones; the cut, restores, liveness).
///
/// # Panics
///
/// As `assert_passes`.
#[track_caller]
pub fn assert_exactly_once(scenario: &Scenario, seed: Seed) -> Outcome {
    assert_passes(&RunSpec::new(scenario.clone(), seed))
}

/// `assert_exactly_once` with `plan` in place of the scenario's own faults.
///
/// # Panics
///
/// As `assert_passes`; a plan naming a task the job lacks is an invalid spec.
#[track_caller]
pub fn assert_exactly_once_with_plan(scenario: &Scenario, seed: Seed, plan: &FaultPlan) -> Outcome {
    assert_passes(&RunSpec { fault_plan: Some(plan.clone()), ..RunSpec::new(scenario.clone(), seed) })
}

/// Runs `scenario` with every seed of `seeds_to_run()` and asserts that each passes; stops
/// at the first failure, which writes its run file and panics as `assert_passes` does.
///
/// # Panics
///
/// As `assert_passes`, and if `SNAPSIM_SEED` or `SNAPSIM_SEEDS` is malformed.
#[track_caller]
pub fn sweep_in_test(scenario: &Scenario) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    // A loop rather than a closure, so that `track_caller` points a failure at the test.
    for seed in seeds_to_run() {
        outcomes.push(assert_exactly_once(scenario, seed));
    }
    outcomes
}

/// Writes the failing run's file and says what failed and how to replay it.
fn failure_report(spec: &RunSpec, verdict: &Verdict, dir: &Path) -> String {
    let compiled = spec.compile().unwrap_or_else(|error| panic!("{error}"));
    // The first run kept no facts (passing runs need none); run again to store them, so
    // that a replay can name the first fact that diverges.
    let rerun = run_guarded(spec, true).unwrap_or_else(|error| panic!("{error}"));
    let mut lines = vec![format!(
        "snapsim: scenario `{}`, seed {}: FAIL {}",
        spec.scenario.name,
        spec.seed.0,
        verdict.failure_class().unwrap_or_default()
    )];
    lines.extend(describe_verdict(verdict, &compiled.task_names));
    if !spec.plants.is_empty() {
        let names: Vec<&str> = spec.plants.iter().map(|plant| plant.name()).collect();
        lines.push(format!("plants: {}", names.join(", ")));
    }
    if rerun.verdict != *verdict {
        let second = rerun.verdict.failure_class().unwrap_or_else(|| "a pass".to_string());
        lines.push(format!("note: a second run of the same spec gave {second}: the run is not deterministic"));
    }
    let run_file = run_file_of(spec, compiled.world.faults.clone(), rerun);
    let stem = format!("{}-seed-{}", file_name_safe(&spec.scenario.name), spec.seed.0);
    match write_new_run_file(dir, &stem, &run_file.encode()) {
        Ok(path) => {
            // Absolute, so the command works from wherever the user runs it.
            let shown = std::fs::canonicalize(&path).unwrap_or(path);
            lines.push(format!("replay: snapsim replay {}", shown.display()));
        }
        Err(error) => lines.push(format!("replay: the run file could not be written to {}: {error}", dir.display())),
    }
    // A final newline keeps the path alone on its line when proptest appends a full stop
    // to the message ("Test failed: …."), so it can be copied as it stands.
    lines.push(String::new());
    lines.join("\n")
}

/// The detection point and the detail of a failed verdict, as lines.
fn describe_verdict(verdict: &Verdict, task_names: &[String]) -> Vec<String> {
    match verdict {
        Verdict::Pass => Vec::new(),
        Verdict::Fail(violation) => {
            let detected = match (&violation.fact, violation.fact_index) {
                (Some(fact), Some(index)) => {
                    format!("{}, fact #{index}: {}", violation.time, describe_fact(fact, task_names))
                }
                _ => format!("{}, by the end-of-run check", violation.time),
            };
            vec![format!("detected: {detected}"), format!("detail: {}", with_task_names(&violation.detail, task_names))]
        }
        Verdict::Panicked { message } => vec![format!("detail: {}", with_task_names(message, task_names))],
    }
}

/// The run file of a failing run: its spec with the fault plan materialised, so that the
/// file still means the same run after the scenario's faults are edited.
fn run_file_of(spec: &RunSpec, plan: FaultPlan, rerun: GuardedRun) -> RunFile {
    let spec = RunSpec { fault_plan: Some(plan), ..spec.clone() };
    RunFile::from_run(spec, rerun, "written by a failing snapsim::testing assertion")
}

/// A scenario name made safe as part of a file name.
fn file_name_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    if safe.is_empty() || safe.starts_with('.') { format!("scenario{safe}") } else { safe }
}

/// Writes `bytes` to `dir/stem.snaprun`, or to the first free `stem-2.snaprun`, …, never
/// over an existing file. A file that already holds exactly these bytes is the same failure
/// written before (the test was run again), so its path is returned instead of a new copy.
fn write_new_run_file(dir: &Path, stem: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    write_new_file(&dir.join(format!("{stem}.{RUN_FILE_EXTENSION}")), bytes, SameBytes::Reuse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_never_hidden() {
        assert_eq!(file_name_safe("word count/v2"), "word_count_v2");
        assert_eq!(file_name_safe(""), "scenario");
        assert_eq!(file_name_safe(".x"), "scenario.x");
    }

    #[test]
    fn run_files_never_overwrite_and_the_same_failure_is_written_once() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let first = write_new_run_file(dir.path(), "job-seed-1", b"one").expect("written");
        let again = write_new_run_file(dir.path(), "job-seed-1", b"one").expect("written");
        let other = write_new_run_file(dir.path(), "job-seed-1", b"two").expect("written");
        assert_eq!(first, again);
        assert_eq!(other, dir.path().join("job-seed-1-2.snaprun"));
        assert_eq!(std::fs::read(&first).expect("readable"), b"one");
        assert_eq!(std::fs::read(&other).expect("readable"), b"two");
    }

    #[test]
    fn task_ids_become_names_without_eating_longer_ids() {
        let names: Vec<String> = (0..13).map(|index| format!("t[{index}]")).collect();
        assert_eq!(with_task_names("task#1 and task#12", &names), "t[1] and t[12]");
    }
}
