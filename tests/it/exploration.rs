//! Exploration: sweeps (seed order, shards, stop-on-failure, panics as findings), run files
//! that replay to the same hash, merged shard summaries, and the commands around them.

use crate::support::{load, repo_root};
use assert_cmd::Command;
use snapsim::explore::run::{RunSpec, Verdict};
use snapsim::explore::run_file::RunFile;
use snapsim::explore::summary::{SweepIdentity, SweepSummary, SweepTiming, merge};
use snapsim::explore::sweep::{SeedRange, SeedReport, Shard, SweepPlan, sweep};
use snapsim::kernel::rng::Seed;
use snapsim::plant::PlantedBug;
use snapsim::scenario::Scenario;
use std::path::Path;

/// Word count, smaller, so that sweeps of a few dozen seeds run quickly.
fn small_wordcount() -> Scenario {
    let mut scenario = load("sims/wordcount.toml");
    scenario.workload.records_per_source_subtask = 600;
    for fault in &mut scenario.faults {
        fault.at_ms /= 4;
    }
    scenario
}

fn plan(plants: Vec<PlantedBug>, seeds: SeedRange, shard: Option<Shard>) -> SweepPlan {
    SweepPlan {
        template: RunSpec { plants, ..RunSpec::new(small_wordcount(), Seed(0)) },
        seeds,
        shard,
        stop_on_failure: false,
        check_determinism: false,
        guided: false,
    }
}

fn run_plan(plan: &SweepPlan) -> Vec<SeedReport> {
    sweep(plan, &|_| {}).expect("a valid plan")
}

#[test]
fn a_sweep_reports_every_seed_in_order_and_passes_an_honest_job() {
    let reports = run_plan(&plan(Vec::new(), SeedRange { start: 5, end: 25 }, None));
    let seeds: Vec<u64> = reports.iter().map(|report| report.seed.0).collect();
    assert_eq!(seeds, (5..25).collect::<Vec<_>>());
    assert!(reports.iter().all(|report| report.failure_class().is_none()), "{reports:?}");
}

#[test]
fn shards_cover_the_range_exactly_once() {
    let range = SeedRange { start: 0, end: 23 };
    let mut seen: Vec<u64> = (1..=3)
        .flat_map(|index| plan(Vec::new(), range, Some(Shard { index, count: 3 })).seeds_in_shard().collect::<Vec<_>>())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..23).collect::<Vec<_>>());
}

#[test]
fn a_planted_bug_is_found_by_the_sweep_and_its_seeds_are_named() {
    let reports = run_plan(&plan(vec![PlantedBug::ForgetSourceRewind], SeedRange { start: 0, end: 8 }, None));
    assert!(reports.iter().all(|report| report.failure_class().as_deref() == Some("restore-equivalence")));
}

#[test]
fn a_panic_is_a_finding_of_its_seed_and_the_sweep_goes_on() {
    let reports = run_plan(&plan(vec![PlantedBug::AcknowledgeTwice], SeedRange { start: 0, end: 6 }, None));
    assert_eq!(reports.len(), 6, "every seed ran");
    for report in &reports {
        let Verdict::Panicked { message } = &report.verdict else {
            panic!("seed {}: {:?}", report.seed.0, report.verdict)
        };
        assert!(message.contains("acknowledged"), "{message}");
    }
}

#[test]
fn stop_on_failure_skips_seeds_after_the_first_failure() {
    let mut stopping = plan(vec![PlantedBug::ForgetSourceRewind], SeedRange { start: 0, end: 200 }, None);
    stopping.stop_on_failure = true;
    let reports = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool").install(|| run_plan(&stopping));
    assert!(reports.len() < 200, "ran {} seeds", reports.len());
    assert!(!reports.is_empty());
}

#[test]
fn the_determinism_check_passes_for_an_honest_simulator() {
    let mut checking = plan(Vec::new(), SeedRange { start: 0, end: 4 }, None);
    checking.check_determinism = true;
    assert!(run_plan(&checking).iter().all(|report| report.nondeterminism.is_none()));
}

fn summary_of(range: SeedRange, shard: Option<Shard>) -> SweepSummary {
    let plan = plan(vec![PlantedBug::ForgetSourceRewind], range, shard);
    let reports = run_plan(&plan);
    let failures = reports
        .iter()
        .map(|report| snapsim::explore::summary::FailureEntry {
            seed: report.seed.0,
            class: report.failure_class().expect("fails"),
            detail: String::new(),
            run_file: None,
            replay: String::new(),
        })
        .collect();
    let identity = SweepIdentity {
        scenario: "wordcount".to_string(),
        seeds: range,
        shard,
        plants: Vec::new(),
        check_determinism: false,
        guided: false,
    };
    SweepSummary::new(&identity, &reports, failures, SweepTiming { jobs: 1, wall_seconds: 1.0 })
}

#[test]
fn merged_shard_summaries_equal_the_whole_sweep() {
    let range = SeedRange { start: 0, end: 9 };
    let whole = summary_of(range, None);
    let parts: Vec<SweepSummary> = (1..=3).map(|index| summary_of(range, Some(Shard { index, count: 3 }))).collect();
    let merged = merge(&parts).expect("one sweep's shards");
    assert_eq!(merged.shards, ["1/3", "2/3", "3/3"]);
    assert_eq!((merged.seeds_run, merged.failed, merged.events), (whole.seeds_run, whole.failed, whole.events));
    assert_eq!(merged.failures, whole.failures);
    assert_eq!(SweepSummary::from_json(&merged.to_json()), Ok(merged));
    assert!(merge(&[parts[0].clone(), parts[0].clone()]).is_err(), "a shard twice");
    let mut newer = whole;
    newer.version += 1;
    assert!(SweepSummary::from_json(&newer.to_json()).is_err(), "a newer summary version");
}

fn snapsim(directory: &Path, arguments: &[&str]) -> (i32, String, String) {
    let output =
        Command::cargo_bin("snapsim").expect("built").current_dir(directory).args(arguments).output().expect("ran");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("utf-8");
    (output.status.code().expect("exited"), text(output.stdout), text(output.stderr))
}

#[test]
fn a_sweep_writes_run_files_that_replay_to_the_same_hash_and_never_overwrites() {
    let directory = tempfile::tempdir().expect("temp dir");
    let scenario = repo_root().join("sims/wordcount.toml");
    let scenario = scenario.to_str().expect("utf-8 path");
    let arguments =
        ["sweep", scenario, "--seeds", "0..3", "--jobs", "2", "--plant", "forget-source-rewind", "--json", "s.json"];
    let (code, stdout, _) = snapsim(directory.path(), &arguments);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("3 run, 0 passed, 3 failed"), "{stdout}");
    let run_file = directory.path().join("snapsim-failures/wordcount-seed-1.snaprun");
    let before = std::fs::read(&run_file).expect("a run file per failing seed");
    let recorded = RunFile::decode(&before).expect("decodes");
    let (code, replayed, _) = snapsim(directory.path(), &["replay", "snapsim-failures/wordcount-seed-1.snaprun"]);
    assert_eq!(code, 1);
    let hash = recorded.trace_hash.expect("a finished run has a hash");
    assert!(replayed.contains(&format!("trace hash {hash}: reproduced exactly")), "{replayed}");
    let (code, _, stderr) = snapsim(directory.path(), &arguments);
    assert_eq!(code, 2, "the JSON summary exists: refused before running");
    assert!(stderr.contains("never overwrites"), "{stderr}");
    let again = ["sweep", scenario, "--seeds", "1..2", "--plant", "forget-source-rewind"];
    snapsim(directory.path(), &again);
    assert_eq!(std::fs::read(&run_file).expect("still there"), before, "the first run file is untouched");
    assert!(directory.path().join("snapsim-failures/wordcount-seed-1-2.snaprun").exists());
}

#[test]
fn damaged_run_files_are_refused_with_one_line() {
    let directory = tempfile::tempdir().expect("temp dir");
    let spec = RunSpec { plants: vec![PlantedBug::ForgetSourceRewind], ..RunSpec::new(small_wordcount(), Seed(2)) };
    let bytes = RunFile::record(&spec, "test").expect("records").encode();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("truncated.snaprun", bytes[..bytes.len() / 2].to_vec(), "truncated"),
        (
            "flipped.snaprun",
            {
                let mut b = bytes.clone();
                b[100] ^= 4;
                b
            },
            "corrupted",
        ),
        (
            "newer.snaprun",
            {
                let mut b = bytes.clone();
                b[8] = 99;
                b
            },
            "newer snapsim",
        ),
    ];
    for (name, content, expected) in cases {
        std::fs::write(directory.path().join(name), content).expect("written");
        let (code, stdout, stderr) = snapsim(directory.path(), &["replay", name]);
        assert_eq!(code, 2, "{name}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(name) && stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn replay_names_the_first_diverging_fact_when_the_code_changed() {
    let directory = tempfile::tempdir().expect("temp dir");
    let spec = RunSpec::new(small_wordcount(), Seed(4));
    let mut file = RunFile::record(&spec, "test").expect("records");
    // Pretend an older build recorded a different trace: alter one kept fact and the hash.
    let facts = file.facts.as_mut().expect("kept");
    facts[40].time = snapsim::kernel::time::SimTime::from_nanos(facts[40].time.as_nanos() + 1);
    file.trace_hash = Some(snapsim::kernel::trace::TraceHash(7));
    std::fs::write(directory.path().join("old.snaprun"), file.encode()).expect("written");
    let (code, stdout, _) = snapsim(directory.path(), &["replay", "old.snaprun"]);
    assert_eq!(code, 0, "the run itself passes");
    assert!(stdout.contains("DIVERGED") && stdout.contains("fact #40"), "{stdout}");
}

#[test]
fn run_check_determinism_reports_the_same_hash_twice() {
    let scenario = repo_root().join("sims/wordcount.toml");
    let (code, stdout, _) = snapsim(&repo_root(), &["run", scenario.to_str().expect("utf-8"), "--check-determinism"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("the same seed ran twice with the same trace hash"), "{stdout}");
}

/// Writes a shrunk failure into the regression corpus without its facts (kept small).
#[test]
fn the_regression_corpus_files_are_small_and_carry_no_facts() {
    for entry in std::fs::read_dir(repo_root().join("tests/regressions")).expect("exists") {
        let path = entry.expect("readable").path();
        let bytes = std::fs::read(&path).expect("readable");
        assert!(bytes.len() < 16 * 1024, "{} is {} bytes", path.display(), bytes.len());
        assert!(RunFile::decode(&bytes).expect("decodes").facts.is_none(), "{}", path.display());
    }
}

#[test]
fn the_determinism_self_check_catches_state_leaking_between_runs() {
    let spec = RunSpec { plants: vec![PlantedBug::LeakProcessState], ..RunSpec::new(small_wordcount(), Seed(3)) };
    let divergence = snapsim::explore::determinism::check_determinism(&spec).expect("valid");
    assert!(divergence.is_some(), "two runs of one seed differed, and the check must say so");
    let mut checking = plan(vec![PlantedBug::LeakProcessState], SeedRange { start: 0, end: 2 }, None);
    checking.check_determinism = true;
    for report in run_plan(&checking) {
        assert_eq!(report.failure_class().as_deref(), Some("nondeterminism"), "seed {}", report.seed.0);
    }
    let scenario = repo_root().join("sims/wordcount.toml");
    let arguments = ["run", scenario.to_str().expect("utf-8"), "--check-determinism", "--plant", "leak-process-state"];
    let (code, stdout, _) = snapsim(&repo_root(), &arguments);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("determinism  FAIL the traces part at fact #"), "{stdout}");
}
