//! The library API for property tests, used as a user would: the example to copy (it is
//! the one in docs/guide.md), generated scenarios, what a failure prints and leaves behind,
//! sweeps, and the `SNAPSIM_SEED` / `SNAPSIM_SEEDS` variables (through pure functions, so
//! no test changes the environment other tests run in).

use snapsim::explore::run_file::RunFile;
use snapsim::testing::proptest::prelude::*;
use snapsim::testing::{
    DEFAULT_SEED_COUNT, Fault, FaultPlan, PlantedBug, RunSpec, ScenarioBuilder, ScheduledFault, Seed, TaskRef,
    VertexId, assert_exactly_once, assert_exactly_once_with_plan, assert_passes_in, check, check_with_plan,
    failure_dir_under, fault_plans, parse_seed, parse_seed_count, scenarios, scenarios_with_fault_plans, seeds,
    seeds_to_run_from, sweep_in_test,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The word count keeps exactly-once through up to three crashes of any subtask at
    /// any time in its first 50 ms, whatever the seed.
    #[test]
    fn word_count_is_exactly_once_through_any_crashes(
        seed in seeds(),
        plan in fault_plans(&ScenarioBuilder::wordcount(), 50, 3),
    ) {
        assert_exactly_once_with_plan(&ScenarioBuilder::wordcount().build(), seed, &plan);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_generated_scenario_compiles(scenario in scenarios()) {
        if let Err(error) = scenario.compile() {
            prop_assert!(false, "{}\n{scenario:#?}", error);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn generated_scenarios_are_exactly_once_through_generated_crashes(
        (scenario, plan) in scenarios_with_fault_plans(40, 2),
        seed in seeds(),
    ) {
        assert_exactly_once_with_plan(&scenario, seed, &plan);
    }
}

/// Runs `assert` and returns its panic message; fails if it did not panic.
fn panic_message(assert: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(assert)).expect_err("the assertion should have failed");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload.downcast_ref::<&str>().map(|text| (*text).to_string()).unwrap_or_default(),
    }
}

/// The run file a failure message names.
fn replay_path(message: &str) -> PathBuf {
    let line = message.lines().find_map(|line| line.strip_prefix("replay: snapsim replay "));
    PathBuf::from(line.unwrap_or_else(|| panic!("no replay line in:\n{message}")))
}

fn read_run_file(path: &Path) -> RunFile {
    RunFile::decode(&std::fs::read(path).expect("the run file exists")).expect("the run file decodes")
}

fn planted_spec() -> RunSpec {
    let scenario = ScenarioBuilder::wordcount().crash("count[1]", 30).build();
    RunSpec { plants: vec![PlantedBug::ForgetSourceRewind], ..RunSpec::new(scenario, Seed(1)) }
}

#[test]
fn a_failure_prints_the_replay_command_and_leaves_a_run_file_that_decodes() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let spec = planted_spec();
    let message = panic_message(|| {
        assert_passes_in(&spec, dir.path());
    });
    assert!(message.contains("FAIL restore-equivalence"), "{message}");
    assert!(
        message.lines().any(|line| line.starts_with("detail: ") && line.contains("without restoring")),
        "{message}"
    );
    let path = replay_path(&message);
    assert!(path.is_absolute() && path.ends_with("wordcount-seed-1.snaprun"), "{}", path.display());
    let file = read_run_file(&path);
    assert_eq!(file.spec.plants, spec.plants);
    assert_eq!(file.spec.seed, Seed(1));
    assert_eq!(file.spec.fault_plan.as_ref().map(|plan| plan.faults.len()), Some(1), "the plan is materialised");
    assert_eq!(file.verdict.failure_class().as_deref(), Some("restore-equivalence"));
    assert!(file.facts.is_some_and(|facts| !facts.is_empty()), "facts are kept for the replay");
    assert_eq!(file.snapsim_version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn a_failure_never_overwrites_a_run_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let taken = dir.path().join("wordcount-seed-1.snaprun");
    std::fs::write(&taken, b"someone else's file").expect("written");
    let spec = planted_spec();
    let message = panic_message(|| {
        assert_passes_in(&spec, dir.path());
    });
    let path = replay_path(&message);
    assert!(path.ends_with("wordcount-seed-1-2.snaprun"), "{}", path.display());
    assert_eq!(std::fs::read(&taken).expect("still there"), b"someone else's file");
    assert_eq!(read_run_file(&path).spec.plants, spec.plants);
    // The same failure again names the same file rather than piling up copies.
    let again = panic_message(|| {
        assert_passes_in(&spec, dir.path());
    });
    assert_eq!(replay_path(&again), path);
}

#[test]
fn a_panic_inside_the_simulation_is_a_finding_with_a_run_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let spec = RunSpec {
        plants: vec![PlantedBug::AcknowledgeTwice],
        ..RunSpec::new(ScenarioBuilder::wordcount().build(), Seed(3))
    };
    let message = panic_message(|| {
        assert_passes_in(&spec, dir.path());
    });
    assert!(message.contains("FAIL panic"), "{message}");
    let file = read_run_file(&replay_path(&message));
    assert_eq!(file.verdict.failure_class().as_deref(), Some("panic"));
}

#[test]
fn invalid_input_panics_with_the_one_line_scenario_error() {
    let scenario = ScenarioBuilder::wordcount().checkpoint_interval_ms(0).build();
    let message = panic_message(|| {
        assert_exactly_once(&scenario, Seed(1));
    });
    assert_eq!(message, "scenario `wordcount`: checkpoint.interval_ms: must be at least 1");
    let builder = ScenarioBuilder::wordcount().processing_us("counter", 5);
    let message = panic_message(|| {
        builder.build();
    });
    assert!(message.starts_with("scenario `wordcount`: ScenarioBuilder::processing_us: no vertex named `counter`"));
}

#[test]
fn check_runs_a_scenario_and_refuses_a_plan_for_tasks_the_job_lacks() {
    let scenario = ScenarioBuilder::wordcount().crash("count[2]", 20).build();
    let outcome = check(&scenario, Seed(5)).expect("valid");
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.recoveries, 1);
    let stray = TaskRef { vertex: VertexId::from_index(1), subtask: 3 };
    let plan = FaultPlan::new(vec![ScheduledFault::at(outcome.end_time, Fault::CrashTask { task: stray })]);
    let error = check_with_plan(&scenario, Seed(5), &plan).expect_err("count has 3 subtasks");
    assert_eq!(error.field.as_deref(), Some("fault_plan[0]"));
}

#[test]
fn a_sweep_in_a_test_runs_every_seed_and_passes() {
    let outcomes = sweep_in_test(&ScenarioBuilder::wordcount().crash("count[1]", 25).build());
    assert!(!outcomes.is_empty());
    assert!(outcomes.iter().all(|outcome| outcome.passed() && outcome.stats.recoveries == 1));
}

#[test]
fn the_seed_variables_parse_and_refuse_with_one_line() {
    assert_eq!(parse_seed(None), Ok(None));
    assert_eq!(parse_seed(Some("")), Ok(None), "an empty value counts as unset");
    assert_eq!(parse_seed(Some(" 7 ")), Ok(Some(Seed(7))));
    assert_eq!(parse_seed(Some("18446744073709551615")), Ok(Some(Seed(u64::MAX))));
    let error = parse_seed(Some("-1")).expect_err("not a u64");
    assert!(error.starts_with("SNAPSIM_SEED=`-1` is not a seed") && !error.contains('\n'), "{error}");
    assert_eq!(parse_seed_count(None), Ok(DEFAULT_SEED_COUNT));
    assert_eq!(parse_seed_count(Some("64")), Ok(64));
    assert!(parse_seed_count(Some("0")).expect_err("no seeds").contains("at least 1"));
    assert!(parse_seed_count(Some("many")).expect_err("not a count").starts_with("SNAPSIM_SEEDS=`many`"));
}

#[test]
fn a_replayed_seed_replaces_the_sweep() {
    assert_eq!(seeds_to_run_from(None, Some("3")), Ok(vec![Seed(0), Seed(1), Seed(2)]));
    assert_eq!(seeds_to_run_from(Some("9"), Some("3")), Ok(vec![Seed(9)]));
    assert_eq!(seeds_to_run_from(None, None).map(|seeds| seeds.len() as u64), Ok(DEFAULT_SEED_COUNT));
    assert!(seeds_to_run_from(Some("9"), Some("x")).is_err(), "a malformed count is refused even when replaying");
}

#[test]
fn run_files_go_under_the_target_directory() {
    assert_eq!(failure_dir_under(None), Path::new("target/snapsim-failures"));
    assert_eq!(failure_dir_under(Some(Path::new(""))), Path::new("target/snapsim-failures"));
    assert_eq!(failure_dir_under(Some(Path::new("/tmp/build"))), Path::new("/tmp/build/snapsim-failures"));
}
