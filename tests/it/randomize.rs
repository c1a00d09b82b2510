//! `[randomize]` end to end: a seed's drawn checkpoint configuration is the same on every
//! run, differs across seeds, is stored in run files as plain values (a replay runs it
//! without drawing again), shows in the report, and bad ranges are bad input.

use crate::support::{load, repo_root};
use snapsim::explore::run::{RunSpec, run_spec};
use snapsim::explore::run_file::RunFile;
use snapsim::kernel::rng::Seed;
use snapsim::protocol::ProtocolKind;
use snapsim::report::{ReportContext, render_report};
use snapsim::scenario::{DrawnConfig, Scenario};

const RANDOM: &str = "sims/wordcount-random.toml";

fn spec(seed: u64) -> RunSpec {
    RunSpec::new(load(RANDOM), Seed(seed))
}

fn drawn(seed: u64) -> DrawnConfig {
    spec(seed).drawn_config().expect("valid").expect("the scenario has [randomize]")
}

#[test]
fn the_same_seed_draws_the_same_configuration_and_runs_the_same_trace() {
    let (first, second) = (run_spec(&spec(3), false).expect("valid"), run_spec(&spec(3), false).expect("valid"));
    assert_eq!(first.drawn_config, Some(drawn(3)));
    assert_eq!(first.drawn_config, second.drawn_config);
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(Some(first.protocol), drawn(3).protocol, "the run ran the drawn protocol");
    assert!(first.passed(), "{:?}", first.verdict);
}

#[test]
fn different_seeds_draw_different_configurations_within_their_ranges() {
    let configs: Vec<DrawnConfig> = (0..40).map(drawn).collect();
    let mut distinct = configs.clone();
    distinct.sort_by_key(|config| format!("{config}"));
    distinct.dedup();
    assert!(distinct.len() >= 35, "only {} distinct configurations in 40 seeds", distinct.len());
    let protocols: Vec<ProtocolKind> = configs.iter().filter_map(|config| config.protocol).collect();
    for protocol in ProtocolKind::ALL {
        assert!(protocols.contains(&protocol), "{} never drawn in 40 seeds", protocol.name());
    }
    for config in &configs {
        assert!((5..=100).contains(&config.interval_ms.expect("drawn")), "{config}");
        assert!((50..=2_000).contains(&config.timeout_ms.expect("drawn")), "{config}");
        assert!((2..=32).contains(&config.buffer_capacity.expect("drawn")), "{config}");
    }
}

#[test]
fn the_run_file_holds_the_drawn_values_and_replays_to_the_same_trace() {
    let spec = spec(5);
    let live = run_spec(&spec, false).expect("valid");
    let file = RunFile::record(&spec, "test").expect("records");
    let config = drawn(5);
    let stored = &file.spec.scenario;
    assert_eq!(stored.randomize, None, "the file stores values, not ranges");
    assert_eq!(Some(stored.checkpoint.protocol), config.protocol);
    assert_eq!(Some(stored.checkpoint.timeout_ms), config.timeout_ms);
    assert_eq!(Some(stored.network.buffer_capacity), config.buffer_capacity);
    let decoded = RunFile::decode(&file.encode()).expect("decodes");
    assert_eq!(decoded.spec, file.spec);
    let replayed = run_spec(&decoded.spec, false).expect("valid");
    assert_eq!(Some(replayed.trace_hash), file.trace_hash);
    assert_eq!(replayed.trace_hash, live.trace_hash, "the drawn configuration ran again");
}

#[test]
fn the_configuration_changes_the_run_and_without_the_section_nothing_is_drawn() {
    let plain = load("sims/wordcount.toml");
    let randomized = load(RANDOM);
    assert_eq!(
        Scenario { randomize: None, name: plain.name.clone(), description: plain.description.clone(), ..randomized },
        plain
    );
    let plain_run = run_spec(&RunSpec::new(plain, Seed(5)), false).expect("valid");
    assert_eq!(plain_run.drawn_config, None);
    assert_ne!(run_spec(&spec(5), false).expect("valid").trace_hash, plain_run.trace_hash);
}

#[test]
fn the_report_shows_the_drawn_configuration() {
    let spec = spec(1);
    let compiled = spec.compile().expect("valid");
    let outcome = run_spec(&spec, false).expect("valid");
    let context = ReportContext {
        draw_command: None,
        scenario_name: &spec.scenario.name,
        scenario_source: RANDOM,
        task_names: &compiled.task_names,
        replay_command: format!("snapsim run {RANDOM} --seed 1"),
    };
    let report = render_report(&outcome, &context);
    assert!(report.contains(&format!("config       drawn: {}\n", drawn(1))), "{report}");
    insta::assert_snapshot!("wordcount_random_seed_1_report", report);
}

fn snapsim(args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("snapsim")
        .expect("built")
        .current_dir(repo_root())
        .env_remove("SNAPSIM_SEED")
        .args(args)
        .output()
        .expect("ran")
}

#[test]
fn a_bad_range_or_protocol_is_bad_input_naming_file_and_field() {
    let text = std::fs::read_to_string(repo_root().join(RANDOM)).expect("readable");
    for (from, to, field) in [
        ("interval_ms = [5, 100]", "interval_ms = [100, 5]", "randomize.interval_ms"),
        ("\"chandy-lamport\",", "\"chandy-lamport\", \"two-phase\",", "randomize.protocols"),
    ] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("bad.toml");
        assert_eq!(text.matches(from).count(), 1, "test bug: `{from}`");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("written");
        let shown = path.display().to_string();
        let output = snapsim(&["sweep", &shown, "--seeds", "0..2"]);
        let stderr = String::from_utf8(output.stderr).expect("utf-8");
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("snapsim: {shown}: {field}")), "{stderr}");
    }
}

#[test]
fn the_cli_shows_the_draw_and_randomize_config_draws_for_a_plain_scenario() {
    let output = snapsim(&["run", RANDOM, "--seed", "2"]);
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(&format!("config       drawn: {}\n", drawn(2))), "{stdout}");
    let output = snapsim(&["run", "sims/wordcount.toml", "--seed", "2", "--randomize-config"]);
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("config       drawn: "), "{stdout}");
    let plain = String::from_utf8(snapsim(&["run", "sims/wordcount.toml", "--seed", "2"]).stdout).expect("utf-8");
    assert!(!plain.contains("config "), "{plain}");
}

#[test]
fn a_sweeps_failure_file_stores_and_names_the_drawn_configuration() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let failures = dir.path().display().to_string();
    let args = ["sweep", RANDOM, "--seeds", "0..3", "--plant", "forget-source-rewind", "--failures", &failures];
    let output = snapsim(&[&args[..], &["--jobs", "1", "--no-progress"]].concat());
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let line = stdout.lines().find(|line| line.starts_with("seed 0: FAIL")).expect("seed 0 fails");
    assert!(line.contains(&format!("(config drawn: {}) -> ", drawn(0))), "{line}");
    let path = dir.path().join("wordcount-random-seed-0.snaprun");
    let file = RunFile::decode(&std::fs::read(&path).expect("written")).expect("decodes");
    assert!(file.note.ends_with(&format!("; config drawn: {}", drawn(0))), "{}", file.note);
    assert_eq!(file.spec.scenario.randomize, None);
    assert_eq!(Some(file.spec.scenario.checkpoint.protocol), drawn(0).protocol);
    assert_eq!(Some(file.spec.scenario.checkpoint.interval_ms), drawn(0).interval_ms);
    let replayed = run_spec(&file.spec, false).expect("valid");
    assert_eq!(Some(replayed.trace_hash), file.trace_hash);
    assert!(!replayed.passed(), "the replay fails as the sweep's seed did");
}
