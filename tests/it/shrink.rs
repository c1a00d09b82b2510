//! Shrinking: a failing case gets smaller while the same invariant still fails, the same
//! input always shrinks the same way within its budget, and `snapsim shrink` writes the
//! minimal run file beside the input without touching anything that exists.

use assert_cmd::Command;
use snapsim::explore::guarded::run_guarded;
use snapsim::explore::run::{RunSpec, Verdict};
use snapsim::explore::run_file::RunFile;
use snapsim::explore::shrink::{ShrinkBudget, ShrinkError, ShrinkResult, shrink};
use snapsim::kernel::rng::Seed;
use snapsim::plant::PlantedBug;
use std::path::Path;
use std::sync::OnceLock;

/// Wordcount with seed 1, a smaller workload (the plants still fail with it: checked where
/// the files are built) and `plant`, as a run file with a materialised plan.
fn failing_file(plant: PlantedBug) -> RunFile {
    let mut scenario = crate::support::load("sims/wordcount.toml");
    scenario.workload.records_per_source_subtask = 1500;
    let spec = RunSpec { plants: vec![plant], ..RunSpec::new(scenario, Seed(1)) };
    let run = run_guarded(&spec, true).expect("wordcount is valid");
    assert!(run.verdict.failure_class().is_some(), "test bug: {plant} no longer fails with 1500 records");
    let spec = RunSpec { fault_plan: Some(spec.materialised_plan().expect("valid")), ..spec };
    RunFile::from_run(spec, run, &format!("wordcount, seed 1, {plant}"))
}

/// The forget-source-rewind case and its shrink, computed once for the tests that read it.
fn rewind_case() -> &'static (RunFile, ShrinkResult) {
    static CASE: OnceLock<(RunFile, ShrinkResult)> = OnceLock::new();
    CASE.get_or_init(|| {
        let file = failing_file(PlantedBug::ForgetSourceRewind);
        let result = shrink(&file, ShrinkBudget::default()).expect("the case fails and reproduces");
        (file, result)
    })
}

#[test]
fn shrinking_keeps_the_invariant_and_makes_the_case_smaller() {
    let (file, result) = rewind_case();
    assert_eq!(file.verdict.failure_class().as_deref(), Some("restore-equivalence"));
    assert_eq!(result.file.verdict.failure_class(), file.verdict.failure_class());
    let (before, after) = (&result.before, &result.after);
    assert_eq!(before.faults, 2);
    assert_eq!(before.source_records, 3000);
    assert!(after.faults <= before.faults, "{before:?} -> {after:?}");
    assert!(after.source_records < before.source_records, "{before:?} -> {after:?}");
    assert!(after.keys <= before.keys, "{before:?} -> {after:?}");
    assert!(after.tasks < before.tasks, "{before:?} -> {after:?}");
    assert!(after.checkpoints <= before.checkpoints, "{before:?} -> {after:?}");
    assert!(after.events < before.events, "{before:?} -> {after:?}");
    assert!(result.accepted >= 1 && result.accepted <= result.attempts);
    assert!(result.attempts <= ShrinkBudget::default().attempts);
    assert!(result.file.facts.is_some(), "the minimal case carries its facts for replay");
    assert!(result.file.note.contains("attempts"), "{}", result.file.note);
    assert!(result.file.spec.scenario.faults.is_empty(), "the materialised plan is the only fault list");
}

#[test]
fn the_minimal_case_reproduces_exactly() {
    let (_, result) = rewind_case();
    let again = run_guarded(&result.file.spec, false).expect("the minimal spec is valid");
    assert_eq!(again.verdict, result.file.verdict);
    assert_eq!(again.outcome.map(|outcome| outcome.trace_hash), result.file.trace_hash);
    let decoded = RunFile::decode(&result.file.encode()).expect("the minimal file round-trips");
    assert_eq!(&decoded, &result.file);
}

#[test]
fn shrinking_is_deterministic() {
    let (file, result) = rewind_case();
    let second = shrink(file, ShrinkBudget::default()).expect("shrinks again");
    assert_eq!(&second, result);
}

#[test]
fn a_small_budget_is_respected() {
    let file = failing_file(PlantedBug::ForgetSourceRewind);
    let result = shrink(&file, ShrinkBudget { attempts: 5 }).expect("shrinks");
    assert!(result.attempts <= 5, "{} attempts", result.attempts);
    assert_eq!(result.file.verdict.failure_class(), file.verdict.failure_class());
    assert!(result.after.source_records <= result.before.source_records);
}

#[test]
fn a_passing_run_file_is_refused() {
    let scenario = crate::support::load("sims/wordcount.toml");
    let spec = RunSpec::new(scenario, Seed(1));
    let file = RunFile {
        snapsim_version: "test".to_string(),
        spec,
        verdict: Verdict::Pass,
        trace_hash: None,
        facts: None,
        note: String::new(),
    };
    assert_eq!(shrink(&file, ShrinkBudget::default()), Err(ShrinkError::Passing));
}

#[test]
fn a_failure_that_does_not_reproduce_is_refused() {
    let mut file = failing_file(PlantedBug::ForgetSourceRewind);
    // The same recorded verdict, but the bug is no longer planted: the run passes.
    file.spec.plants.clear();
    let error = shrink(&file, ShrinkBudget::default()).expect_err("nothing to shrink");
    assert_eq!(error, ShrinkError::DoesNotReproduce { expected: "restore-equivalence".to_string(), found: None });
    assert!(error.to_string().starts_with("does not reproduce"), "{error}");
}

#[test]
fn a_panic_shrinks_as_a_panic() {
    let file = failing_file(PlantedBug::AcknowledgeTwice);
    assert_eq!(file.verdict.failure_class().as_deref(), Some("panic"));
    let result = shrink(&file, ShrinkBudget::default()).expect("the panic reproduces");
    assert!(matches!(result.file.verdict, Verdict::Panicked { .. }), "{:?}", result.file.verdict);
    assert_eq!(result.after.events, None, "a panicked run has no outcome to count");
    assert!(result.after.source_records < result.before.source_records, "{:?}", result.after);
    assert!(result.after.tasks < result.before.tasks, "{:?}", result.after);
}

/// `snapsim shrink <args>`: exit code, stdout, stderr.
fn snapsim_shrink(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("snapsim")
        .expect("the snapsim binary is built")
        .arg("shrink")
        .args(args)
        .output()
        .expect("snapsim runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
    (output.status.code().expect("an exit code"), text(output.stdout), text(output.stderr))
}

fn decode_at(path: &Path) -> RunFile {
    RunFile::decode(&std::fs::read(path).expect("written")).expect("a valid run file")
}

#[test]
fn the_command_writes_the_minimal_file_beside_the_input_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let input = dir.path().join("case.snaprun");
    let bytes = failing_file(PlantedBug::ForgetSourceRewind).encode();
    std::fs::write(&input, &bytes).expect("writing the case");
    let shown = input.display().to_string();
    let (code, stdout, stderr) = snapsim_shrink(&[&shown]);
    assert_eq!(code, 1, "the minimal case still fails; stderr: {stderr}");
    let first = dir.path().join("case.shrunk.snaprun");
    for part in ["before", "after", "records", "tasks", "attempts", "FAIL restore-equivalence"] {
        assert!(stdout.contains(part), "stdout lacks `{part}`:\n{stdout}");
    }
    assert!(stdout.contains(&format!("snapsim replay {}", first.display())), "{stdout}");
    let shrunk = decode_at(&first);
    assert_eq!(shrunk.verdict.failure_class().as_deref(), Some("restore-equivalence"));
    assert_eq!(std::fs::read(&input).expect("still there"), bytes, "the input is untouched");

    let (code, stdout, _) = snapsim_shrink(&[&shown, "--budget", "3"]);
    assert_eq!(code, 1);
    let second = dir.path().join("case.shrunk-2.snaprun");
    assert!(stdout.contains(&format!("snapsim replay {}", second.display())), "{stdout}");
    assert_eq!(decode_at(&first), shrunk, "the first result is not overwritten");
    decode_at(&second);
}

#[test]
fn a_damaged_or_missing_run_file_is_one_line_of_bad_input() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let input = dir.path().join("damaged.snaprun");
    let mut bytes = failing_file(PlantedBug::ForgetSourceRewind).encode();
    bytes[40] ^= 0x01;
    std::fs::write(&input, &bytes).expect("writing the case");
    let shown = input.display().to_string();
    for path in [shown.clone(), dir.path().join("absent.snaprun").display().to_string()] {
        let (code, stdout, stderr) = snapsim_shrink(&[&path]);
        assert_eq!(code, 2, "stderr: {stderr}");
        assert_eq!(stdout, "");
        assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
        assert!(stderr.starts_with(&format!("snapsim: {path}: ")), "{stderr}");
    }
    let entries = std::fs::read_dir(dir.path()).expect("readable").count();
    assert_eq!(entries, 1, "nothing is written for bad input");
}

#[test]
fn a_bank_failure_shrinks_to_fewer_accounts_and_transfers() {
    let scenario = crate::support::load("sims/bank.toml");
    let spec = RunSpec { plants: vec![PlantedBug::SkipChannelState], ..RunSpec::new(scenario, Seed(1)) };
    let run = run_guarded(&spec, true).expect("the bank is valid");
    let spec = RunSpec { fault_plan: Some(spec.materialised_plan().expect("valid")), ..spec };
    let file = RunFile::from_run(spec, run, "bank, seed 1, skip-channel-state");
    let result = shrink(&file, ShrinkBudget::default()).expect("the case fails and reproduces");
    assert_eq!(result.file.verdict.failure_class().as_deref(), Some("consistent-cut"));
    assert_eq!((result.before.tasks, result.after.tasks), (5, 2), "down to two accounts");
    assert!(result.after.source_records < result.before.source_records / 10, "{:?}", result.after);
    assert_eq!(result.after.faults, 0);
}

#[test]
fn a_bug_that_needs_a_checkpoint_while_data_flows_shrinks_to_a_record_count_trigger() {
    // Consuming a blocked input only shows while records are in flight at a checkpoint: the
    // clock's first trigger keeps hundreds of records, a trigger every few records does not.
    let file = failing_file(PlantedBug::SnapshotBeforeAlignmentCompletes);
    let result = shrink(&file, ShrinkBudget { attempts: 150 }).expect("it fails and reproduces");
    assert_eq!(result.file.verdict.failure_class().as_deref(), Some("consistent-cut"));
    let checkpoint = &result.file.spec.scenario.checkpoint;
    assert!(checkpoint.every_source_records > 0, "a record-count trigger replaced the clock's");
    assert!(result.after.source_records <= 60, "{:?}", result.after);
}
