//! The `snapsim` binary end to end: reports and exit codes (0 pass, 1 fail, 2 bad input),
//! one stderr line naming the file and field for bad input, and user files left untouched.

use crate::support::{BinaryRun, report_value, snapsim_in};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The shipped scenario, as the user would name it from the repository root.
const WORDCOUNT: &str = "sims/wordcount.toml";
/// Its text, for making bad copies.
const WORDCOUNT_TEXT: &str = include_str!("../../sims/wordcount.toml");

/// What one run of the binary did.
type Run = BinaryRun;

/// `snapsim <args>` from the repository root, with no seed in the environment.
fn snapsim(args: &[&str]) -> Run {
    snapsim_with_env(args, &[])
}

fn snapsim_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    snapsim_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, env)
}

/// A temp dir holding `scenario.toml`: the text `edit` makes of the wordcount scenario.
fn bad_copy(edit: impl FnOnce(&str) -> String) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, edit(WORDCOUNT_TEXT)).expect("writing the scenario");
    (dir, path)
}

/// Replaces the one occurrence of `from`.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "test bug: `{from}` must occur once in wordcount.toml");
    text.replacen(from, to, 1)
}

/// Checks a bad-input run: exit 2, nothing on stdout, and exactly one stderr line that
/// starts `snapsim: ` and contains each of `parts` (the file, the field, the problem).
fn assert_bad_input(run: &Run, parts: &[&str]) {
    assert_eq!(run.code, 2, "exit code; stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "nothing on stdout for bad input");
    assert_eq!(run.stderr.lines().count(), 1, "exactly one stderr line, got:\n{}", run.stderr);
    assert!(run.stderr.ends_with('\n'), "the line ends with a newline: {:?}", run.stderr);
    assert!(run.stderr.starts_with("snapsim: "), "stderr: {}", run.stderr);
    for part in parts {
        assert!(run.stderr.contains(part), "stderr lacks `{part}`: {}", run.stderr);
    }
}

/// Runs a bad copy of wordcount and checks the error names the file, then `field: `, then
/// contains `message_part`.
fn check_bad_scenario(edit: impl FnOnce(&str) -> String, field: &str, message_part: &str) {
    let (_dir, path) = bad_copy(edit);
    let shown = path.display().to_string();
    let run = snapsim(&["run", &shown, "--seed", "1"]);
    assert_bad_input(&run, &[&format!("snapsim: {shown}: {field}: "), message_part]);
}

#[test]
fn wordcount_passes_with_a_trace_hash() {
    let run = snapsim(&["run", WORDCOUNT, "--seed", "1"]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, "");
    assert!(run.stdout.contains("verdict      PASS\n"), "{}", run.stdout);
    assert_eq!(report_value(&run.stdout, "scenario"), "wordcount (sims/wordcount.toml)");
    assert_eq!(report_value(&run.stdout, "seed"), "1");
    let hash = report_value(&run.stdout, "trace hash");
    assert_eq!(hash.len(), 16, "the trace hash is 16 hex digits: {hash}");
    assert!(hash.bytes().all(|byte| byte.is_ascii_hexdigit()), "{hash}");
    assert!(!run.stdout.lines().any(|line| line.starts_with("replay ")), "a pass prints no replay line");
}

#[test]
fn the_same_seed_prints_the_same_report() {
    let first = snapsim(&["run", WORDCOUNT, "--seed", "1"]);
    let second = snapsim(&["run", WORDCOUNT, "--seed", "1"]);
    assert_eq!(first.code, 0);
    assert_eq!(first.stdout, second.stdout);
    let other = snapsim(&["run", WORDCOUNT, "--seed", "2"]);
    assert_ne!(
        report_value(&first.stdout, "trace hash"),
        report_value(&other.stdout, "trace hash"),
        "another seed, another run"
    );
}

#[test]
fn a_planted_bug_fails_with_a_replay_command() {
    let run = snapsim(&["run", WORDCOUNT, "--seed", "1", "--plant", "forget-source-rewind"]);
    assert_eq!(run.code, 1, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, "");
    assert!(run.stdout.contains("verdict      FAIL restore-equivalence\n"), "{}", run.stdout);
    assert!(report_value(&run.stdout, "detail").contains("without restoring"), "{}", run.stdout);
    let replay = report_value(&run.stdout, "replay");
    assert!(
        replay.contains("snapsim run sims/wordcount.toml --seed 1 --plant forget-source-rewind"),
        "replay line: {replay}"
    );
}

#[test]
fn the_replay_command_reproduces_the_failure() {
    let run = snapsim(&["run", WORDCOUNT, "--seed", "3", "--plant", "skip-keyed-state-restore"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let replay = report_value(&run.stdout, "replay").strip_prefix("snapsim ").expect("a snapsim command");
    let again = snapsim(&replay.split(' ').collect::<Vec<_>>());
    assert_eq!((again.code, &again.stdout), (1, &run.stdout));
}

#[test]
fn the_seed_comes_from_snapsim_seed_unless_given() {
    let from_env = snapsim_with_env(&["run", WORDCOUNT], &[("SNAPSIM_SEED", "2")]);
    assert_eq!(from_env.code, 0, "{}", from_env.stderr);
    assert_eq!(report_value(&from_env.stdout, "seed"), "2");
    assert_eq!(from_env.stdout, snapsim(&["run", WORDCOUNT, "--seed", "2"]).stdout);
    let flag_wins = snapsim_with_env(&["run", WORDCOUNT, "--seed", "3"], &[("SNAPSIM_SEED", "2")]);
    assert_eq!(report_value(&flag_wins.stdout, "seed"), "3");
    let default = snapsim(&["run", WORDCOUNT]);
    assert_eq!(report_value(&default.stdout, "seed"), "1");
}

#[test]
fn a_missing_file_is_bad_input_naming_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("absent.toml");
    let shown = path.display().to_string();
    let run = snapsim(&["run", &shown, "--seed", "1"]);
    assert_bad_input(&run, &[&format!("snapsim: {shown}: "), "cannot read the file"]);
    assert!(!path.exists(), "the missing file is not created");
}

#[test]
fn a_directory_or_a_binary_file_is_bad_input() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let shown = dir.path().display().to_string();
    assert_bad_input(&snapsim(&["run", &shown]), &[&format!("snapsim: {shown}: "), "cannot read the file"]);
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).expect("writing");
    let shown = binary.display().to_string();
    assert_bad_input(&snapsim(&["run", &shown]), &[&format!("snapsim: {shown}: "), "cannot read the file"]);
}

#[test]
fn an_unknown_field_is_bad_input() {
    check_bad_scenario(|text| format!("colour = \"blue\"\n{text}"), "colour", "unknown field `colour`");
    check_bad_scenario(
        |text| replace_once(text, "interval_ms = 20", "intervl_ms = 20"),
        "checkpoint.intervl_ms",
        "unknown field",
    );
}

#[test]
fn an_edge_to_a_vertex_that_does_not_exist_is_bad_input() {
    check_bad_scenario(
        |text| replace_once(text, "to = \"sink\"", "to = \"snk\""),
        "edges[1].to",
        "no vertex named `snk`",
    );
}

#[test]
fn a_cycle_is_bad_input() {
    let back_edge = "\n[[edges]]\nfrom = \"sink\"\nto = \"count\"\npartitioning = \"hash\"\n";
    check_bad_scenario(|text| format!("{text}{back_edge}"), "edges[2]", "cycle");
}

#[test]
fn zero_parallelism_is_bad_input() {
    check_bad_scenario(
        |text| replace_once(text, "parallelism = 3\nprocessing_us = 15", "parallelism = 0\nprocessing_us = 15"),
        "vertices[1].parallelism",
        "must lie in 1..=32768",
    );
}

#[test]
fn a_fault_naming_a_task_that_does_not_exist_is_bad_input() {
    check_bad_scenario(
        |text| replace_once(text, "count[1]", "counter[1]"),
        "faults[0].task",
        "no vertex named `counter`",
    );
    check_bad_scenario(|text| replace_once(text, "count[1]", "count[3]"), "faults[0].task", "[3] does not exist");
}

#[test]
fn a_parallelism_past_the_key_group_limit_is_bad_input_not_a_panic() {
    let (_dir, path) = bad_copy(|text| {
        replace_once(text, "parallelism = 3\nprocessing_us = 15", "parallelism = 4294967295\nprocessing_us = 15")
    });
    let shown = path.display().to_string();
    assert_bad_input(&snapsim(&["run", &shown]), &[&format!("snapsim: {shown}: vertices[1].")]);
}

/// A job that validates but holds no keyed state: source -> sink.
const NO_KEYED_STATE: &str = include_str!("../data/minimal.toml");

#[test]
fn a_valid_job_without_keyed_state_is_refused_or_passes() {
    // Either validation refuses it (exit 2) or it runs clean (exit 0); reporting records
    // "lost" from keyed state the job never had (exit 1) is a false alarm.
    let (_dir, path) = bad_copy(|_| NO_KEYED_STATE.to_string());
    let run = snapsim(&["run", &path.display().to_string()]);
    assert!(run.code == 0 || run.code == 2, "exit {}:\n{}{}", run.code, run.stdout, run.stderr);
}

#[test]
fn a_toml_syntax_error_is_bad_input_naming_the_line() {
    let (_dir, path) = bad_copy(|text| replace_once(text, "keys = 64", "keys = = 64"));
    let shown = path.display().to_string();
    assert_bad_input(&snapsim(&["run", &shown]), &[&format!("snapsim: {shown}: line 8: ")]);
}

#[test]
fn an_unknown_plant_is_bad_input_naming_the_flag() {
    let run = snapsim(&["run", WORDCOUNT, "--seed", "1", "--plant", "no-such-bug"]);
    assert_bad_input(&run, &["snapsim: --plant: ", "`no-such-bug`", "forget-source-rewind"]);
}

#[test]
fn a_malformed_flag_is_a_usage_error() {
    for args in
        [&["run", WORDCOUNT, "--seed", "notanumber"][..], &["run", WORDCOUNT, "--seed", "-1"], &["run"], &["walk"]]
    {
        let run = snapsim(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.trim().is_empty(), "{args:?} explains itself on stderr");
        assert_eq!(run.stdout, "", "{args:?}");
    }
    let from_env = snapsim_with_env(&["run", WORDCOUNT], &[("SNAPSIM_SEED", "two")]);
    assert_eq!(from_env.code, 2, "{}", from_env.stderr);
    assert!(!from_env.stderr.trim().is_empty());
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("listing the temp dir")
        .map(|entry| {
            let path = entry.expect("a dir entry").path();
            let bytes = std::fs::read(&path).expect("reading a file");
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn nothing_the_user_wrote_is_overwritten() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let good = dir.path().join("good.toml");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&good, WORDCOUNT_TEXT).expect("writing");
    std::fs::write(&bad, replace_once(WORDCOUNT_TEXT, "to = \"sink\"", "to = \"snk\"")).expect("writing");
    let before = snapshot(dir.path());

    assert_eq!(snapsim(&["run", &bad.display().to_string(), "--seed", "1"]).code, 2);
    assert_eq!(snapsim(&["run", &good.display().to_string(), "--seed", "1"]).code, 0);
    let plant = ["--plant", "forget-source-rewind"];
    assert_eq!(snapsim(&[&["run", &good.display().to_string(), "--seed", "1"][..], &plant].concat()).code, 1);

    assert_eq!(snapshot(dir.path()), before, "the files and their bytes are unchanged, and nothing was added");
}

#[test]
fn zoo_lists_every_planted_bug_with_the_failure_it_models_and_its_scenario() {
    let run = snapsim(&["zoo", "--list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for plant in snapsim::plant::ALL_PLANTS {
        let line = run.stdout.lines().position(|line| line.starts_with(plant.name())).expect("listed");
        let detail = run.stdout.lines().nth(line + 1).expect("a second line");
        assert!(detail.contains(plant.models()) && detail.contains(plant.scenario()), "{detail}");
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(plant.scenario()).exists(),
            "{}",
            plant.scenario()
        );
    }
    let bad = snapsim(&["zoo", "--budget", "0"]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.trim(), "snapsim: --budget: must be at least 1");
    let bad = snapsim(&["zoo", "--ranges", "0"]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.trim(), "snapsim: --ranges: must be at least 1");
}

#[test]
fn zoo_finds_every_planted_bug_within_its_seed_budget() {
    // The budget is a count of seeds: the first chunk of 16 finds every bug of the zoo.
    let run = snapsim(&["zoo", "--budget", "16", "--shrink-attempts", "0"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let found = run.stdout.lines().filter(|line| line.contains(" seed ")).count();
    assert_eq!(found, snapsim::plant::ALL_PLANTS.len(), "{}", run.stdout);
}

#[test]
fn zoo_shrinks_a_first_detection_to_a_handful_of_faults() {
    let run = snapsim(&["zoo", "--plant", "forget-source-rewind", "--budget", "16", "--shrink-attempts", "60"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let row = run.stdout.lines().find(|line| line.starts_with("forget-source-rewind")).expect("its row");
    let shrunk = row.split_whitespace().find(|field| field.matches('/').count() == 2).expect("faults/records/events");
    let faults: u64 = shrunk.split('/').next().and_then(|faults| faults.parse().ok()).expect("a fault count");
    assert!((1..=2).contains(&faults), "one crash is all it needs: {row}");
}

#[test]
fn a_bad_aim_is_bad_input_naming_the_flag() {
    assert_bad_input(&snapsim(&["run", WORDCOUNT, "--aim", "sleeping/crash-task"]), &["--aim", "not a phase"]);
    assert_bad_input(&snapsim(&["run", WORDCOUNT, "--aim", "aligning"]), &["--aim", "PHASE/STRIKE"]);
}

#[test]
fn a_guided_sweep_reports_its_coverage_matrix_and_the_cells_never_hit() {
    let dir = TempDir::new().expect("a temporary directory");
    let failures = dir.path().join("failures");
    let failures = failures.to_str().expect("a UTF-8 path");
    let args = ["sweep", "tests/data/minimal.toml", "--seeds", "0..8", "--swarm", "--guided", "--coverage"];
    let run = snapsim(&[&args[..], &["--no-progress", "--failures", failures]].concat());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(report_value(&run.stdout, "coverage").contains("reachable phase x fault cells hit, guided"));
    assert!(run.stdout.contains("fault \\ phase") && run.stdout.contains("crash-task"), "{}", run.stdout);
    let aimed =
        snapsim(&["run", "tests/data/minimal.toml", "--seed", "3", "--swarm", "--aim", "recovering/crash-task"]);
    assert_eq!(aimed.code, 0, "{}{}", aimed.stdout, aimed.stderr);
    let plain = snapsim(&["run", "tests/data/minimal.toml", "--seed", "3", "--swarm"]);
    let faults = |run: &Run| report_value(&run.stdout, "faults").split(' ').next().unwrap_or_default().to_string();
    let count = |run: &Run| faults(run).parse::<u32>().expect("a fault count");
    assert_eq!(count(&aimed), count(&plain) + 2, "the aim adds a crash and the strike after its restart");
}

/// `snapsim bench` states a run's peak heap, from the counting allocator the binary installs:
/// at 1× and 10× the records with facts off, and the bytes each kept fact costs.
#[test]
fn bench_states_peak_heap_and_bytes_per_fact() {
    let run = snapsim(&[
        "bench",
        "--deliveries",
        "1000",
        "--repeats",
        "1",
        "--rings",
        "8",
        "--scenario",
        WORDCOUNT,
        "--protocol-records",
        "0",
        "--sweep-seeds",
        "0",
        "--scale-records",
        "0",
        "--memory-records",
        "2000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = |label: &str| run.stdout.lines().find(|line| line.contains(label)).map(str::to_string);
    let off = line("2000 records, facts off").unwrap_or_else(|| panic!("{}", run.stdout));
    let megabytes: f64 = off.split_whitespace().rev().nth(1).and_then(|value| value.parse().ok()).expect("a figure");
    assert!(megabytes > 0.0, "{off}");
    assert!(line("20000 records (10x), facts off").is_some(), "{}", run.stdout);
    let kept = line("facts kept").unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(kept.contains("bytes each"), "{kept}");
}

/// `--safety-only` (or `SNAPSIM_SAFETY_ONLY`) says in the report that liveness was not
/// judged: a job stopped by its budget passes, where without the flag it fails liveness.
#[test]
fn safety_only_is_stated_and_skips_liveness() {
    let dir = TempDir::new().expect("a temporary folder");
    let path = dir.path().join("tight.toml");
    std::fs::write(&path, WORDCOUNT_TEXT.replace("events_max = 10_000_000", "events_max = 1_000")).expect("written");
    let path = path.display().to_string();
    let judged = snapsim(&["run", &path]);
    assert_eq!(judged.code, 1, "{}", judged.stdout);
    assert!(judged.stdout.contains("FAIL liveness"), "{}", judged.stdout);
    for run in [
        snapsim(&["run", &path, "--safety-only"]),
        snapsim_with_env(&["run", &path], &[("SNAPSIM_SAFETY_ONLY", "true")]),
    ] {
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert!(report_value(&run.stdout, "liveness").starts_with("not judged (--safety-only)"), "{}", run.stdout);
    }
    let swept = snapsim(&[
        "sweep",
        &path,
        "--seeds",
        "0..2",
        "--safety-only",
        "--failures",
        &dir.path().join("f").display().to_string(),
    ]);
    assert_eq!(swept.code, 0, "{}", swept.stdout);
    assert!(swept.stdout.contains("not judged (--safety-only)"), "{}", swept.stdout);
}

/// `snapsim completions <SHELL>` prints a completion script that knows the subcommands and
/// their flags; an unknown shell is bad input.
#[test]
fn completions_know_the_subcommands_and_flags() {
    let bash = snapsim(&["completions", "bash"]);
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    for word in ["sweep", "replay", "--safety-only", "--seeds", "--stream-facts"] {
        assert!(bash.stdout.contains(word), "bash completions lack {word}");
    }
    let zsh = snapsim(&["completions", "zsh"]);
    assert!(zsh.code == 0 && zsh.stdout.contains("#compdef snapsim"), "{}", zsh.stderr);
    let unknown = snapsim(&["completions", "tcsh"]);
    assert_eq!(unknown.code, 2);
}

/// Logs on simulated time: `SNAPSIM_LOG` filters them as `RUST_LOG` would; each line carries
/// `sim_time`, none a wall-clock stamp; the data path shows only at `trace`; logging never
/// changes the trace hash; a bad filter is bad input.
#[test]
fn logs_carry_simulated_time_and_leave_the_trace_hash_alone() {
    let quiet = snapsim(&["run", WORDCOUNT]);
    assert!(quiet.stderr.is_empty(), "no filter, no logs: {}", quiet.stderr);
    let debug = snapsim_with_env(&["run", WORDCOUNT], &[("SNAPSIM_LOG", "debug")]);
    assert_eq!(debug.code, 0, "{}", debug.stderr);
    assert_eq!(report_value(&debug.stdout, "trace hash"), report_value(&quiet.stdout, "trace hash"));
    let lines: Vec<&str> = debug.stderr.lines().filter(|line| line.contains("snapsim::facts")).collect();
    assert!(lines.len() > 100, "{} fact lines", lines.len());
    assert!(
        lines.iter().all(|line| line.contains("sim_time=") && line.starts_with(" DEBUG") || line.starts_with("DEBUG"))
    );
    assert!(lines.iter().any(|line| line.contains("CheckpointCompleted")), "lifecycle facts at debug");
    assert!(!debug.stderr.contains("MessageSent"), "the data path is at trace level");
    let traced = snapsim_with_env(&["run", WORDCOUNT], &[("RUST_LOG", "snapsim::facts=trace")]);
    assert!(traced.stderr.contains("MessageSent"), "RUST_LOG works when SNAPSIM_LOG is unset");
    let bad = snapsim_with_env(&["run", WORDCOUNT], &[("SNAPSIM_LOG", "[")]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.starts_with("snapsim: SNAPSIM_LOG=") && bad.stderr.lines().count() == 1, "{}", bad.stderr);
}

/// Every sweep flag that picks seeds or output has an environment mirror: `SNAPSIM_SEEDS`
/// (a count K is `0..K`, as in the property tests) and `SNAPSIM_MAX_RUN_FILES`, say.
#[test]
fn sweep_seeds_and_run_file_limit_come_from_the_environment() {
    let dir = TempDir::new().expect("a temporary folder");
    let failures = dir.path().join("failures").display().to_string();
    let env = [("SNAPSIM_SEEDS", "3"), ("SNAPSIM_MAX_RUN_FILES", "1"), ("SNAPSIM_FAILURES", failures.as_str())];
    let run = snapsim_with_env(&["sweep", WORDCOUNT, "--plant", "forget-source-rewind", "--no-progress"], &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("seeds 0..3"), "{}", run.stdout);
    assert!(run.stdout.contains("3 run"), "{}", run.stdout);
    let written = std::fs::read_dir(dir.path().join("failures")).expect("run files written").count();
    assert_eq!(written, 1, "SNAPSIM_MAX_RUN_FILES=1");
    let counted = snapsim(&["sweep", WORDCOUNT, "--seeds", "2", "--no-progress"]);
    assert!(counted.stdout.contains("seeds 0..2"), "{}", counted.stdout);
}
