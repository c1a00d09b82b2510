//! Facts streamed to a run file as they are recorded: the same trace, facts and verdict as
//! facts kept in memory (or dropped), the same file bytes, and `snapsim run --save FILE
//! --stream-facts` replaying exactly; bad flags and paths are one line of bad input.

use crate::support::{load, repo_root, report_value, snapsim_in};
use snapsim::explore::run::{RunSpec, run_compiled};
use snapsim::explore::run_file::RunFile;
use snapsim::explore::run_file_stream::{FactsHeld, record_to};
use snapsim::harness::{FactStream, RunOptions};
use snapsim::kernel::rng::Seed;
use snapsim::kernel::time::SimTime;
use snapsim::kernel::trace::{Fact, FactSink, TimedFact};
use snapsim::plant::PlantedBug;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// A sink that collects what it is handed.
#[derive(Default)]
struct Collect(Vec<TimedFact>);

impl FactSink for Collect {
    fn fact(&mut self, time: SimTime, fact: &Fact) {
        self.0.push(TimedFact { time, fact: fact.clone() });
    }
}

/// Word count seed 1 (passes) and seed 2 with a planted bug (fails).
fn specs() -> [RunSpec; 2] {
    let scenario = load("sims/wordcount.toml");
    [
        RunSpec::new(scenario.clone(), Seed(1)),
        RunSpec { plants: vec![PlantedBug::ForgetSourceRewind], ..RunSpec::new(scenario, Seed(2)) },
    ]
}

#[test]
fn a_streamed_trace_hands_over_every_fact_keeps_none_and_hashes_the_same() {
    for spec in specs() {
        let compiled = spec.compile().expect("valid");
        let plants = spec.plants.clone();
        let kept = run_compiled(
            &compiled,
            spec.seed,
            &RunOptions { keep_facts: true, plants: plants.clone(), ..RunOptions::default() },
        );
        let dropped =
            run_compiled(&compiled, spec.seed, &RunOptions { plants: plants.clone(), ..RunOptions::default() });
        let sink = Rc::new(RefCell::new(Collect::default()));
        let stream = FactStream(sink.clone());
        let options = RunOptions { fact_stream: Some(stream), plants, ..RunOptions::default() };
        let streamed = run_compiled(&compiled, spec.seed, &options);
        drop(options);
        let kept_facts = kept.facts.expect("kept");
        assert_eq!(sink.borrow().0, kept_facts, "the sink saw every fact, in order");
        assert_eq!(streamed.facts, None, "a streamed run keeps no facts");
        assert_eq!(streamed.fact_count, kept_facts.len() as u64);
        assert_eq!(streamed.trace_hash, kept.trace_hash);
        assert_eq!(streamed.trace_hash, dropped.trace_hash);
        assert_eq!(streamed.verdict, kept.verdict);
        assert_eq!(streamed.verdict, dropped.verdict);
    }
}

#[test]
fn streamed_and_kept_runs_write_the_same_run_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (index, spec) in specs().into_iter().enumerate() {
        let kept = record_to(&spec, &dir.path().join(format!("kept-{index}.snaprun")), "n", FactsHeld::InMemory)
            .expect("recorded");
        let streamed =
            record_to(&spec, &dir.path().join(format!("streamed-{index}.snaprun")), "n", FactsHeld::Streamed)
                .expect("recorded");
        let kept_bytes = std::fs::read(&kept.path).expect("written");
        let streamed_bytes = std::fs::read(&streamed.path).expect("written");
        assert_eq!(streamed_bytes, kept_bytes, "the same bytes either way");
        assert_eq!(kept_bytes, RunFile::record(&spec, "n").expect("records").encode(), "as RunFile::record writes");
        let outcome = streamed.run.outcome.as_ref().expect("no panic");
        assert_eq!(outcome.facts, None, "the streamed run held no facts");
        let file = RunFile::decode(&streamed_bytes).expect("reads back");
        let kept_outcome = kept.run.outcome.as_ref().expect("no panic");
        assert_eq!(file.facts.as_ref(), kept_outcome.facts.as_ref());
        assert_eq!(streamed.facts, outcome.fact_count);
        assert_eq!(file.trace_hash, Some(outcome.trace_hash));
        assert_eq!(file.verdict, streamed.run.verdict);
        assert_eq!(file.verdict.failure_class().is_some(), index == 1, "{:?}", file.verdict);
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("listing")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "four run files and no temporary left behind: {names:?}");
}

/// `snapsim <args>` from `dir`: (exit code, stdout, stderr).
fn snapsim(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let run = snapsim_in(dir, args, &[]);
    (run.code, run.stdout, run.stderr)
}

#[test]
fn run_save_stream_facts_then_replay_reproduces() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let scenario = repo_root().join("sims/wordcount.toml");
    let scenario = scenario.to_str().expect("UTF-8");
    for (seed, plant, code) in [("1", None, 0), ("2", Some("forget-source-rewind"), 1)] {
        let name = format!("seed-{seed}.snaprun");
        let mut args = vec!["run", scenario, "--seed", seed, "--save", &name, "--stream-facts"];
        args.extend(plant.iter().flat_map(|plant| ["--plant", *plant]));
        let (run_code, run_out, run_err) = snapsim(dir.path(), &args);
        assert_eq!(run_code, code, "{run_out}{run_err}");
        assert!(report_value(&run_out, "saved").starts_with(&format!("{name} (")), "{run_out}");
        assert!(report_value(&run_out, "saved").contains("streamed"), "{run_out}");
        let file = RunFile::decode(&std::fs::read(dir.path().join(&name)).expect("saved")).expect("reads");
        let facts: u64 = report_value(&run_out, "facts").parse().expect("a count");
        assert_eq!(file.facts.as_ref().map(Vec::len), Some(facts as usize), "every fact is in the file");
        let (replay_code, replay_out, _) = snapsim(dir.path(), &["replay", &name]);
        assert_eq!(replay_code, code, "{replay_out}");
        assert!(report_value(&replay_out, "recorded").ends_with("reproduced exactly"), "{replay_out}");
        assert_eq!(report_value(&replay_out, "trace hash"), report_value(&run_out, "trace hash"));
        assert_eq!(report_value(&replay_out, "verdict"), report_value(&run_out, "verdict"));
    }
}

#[test]
fn run_save_never_overwrites_and_a_format_8_file_still_replays() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let scenario = repo_root().join("sims/wordcount.toml");
    let scenario = scenario.to_str().expect("UTF-8");
    std::fs::write(dir.path().join("mine.snaprun"), b"the user's own").expect("written");
    let (code, stdout, _) = snapsim(dir.path(), &["run", scenario, "--save", "mine.snaprun"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(report_value(&stdout, "saved").starts_with("mine-2.snaprun ("), "{stdout}");
    assert_eq!(std::fs::read(dir.path().join("mine.snaprun")).expect("kept"), b"the user's own");
    RunFile::decode(&std::fs::read(dir.path().join("mine-2.snaprun")).expect("saved")).expect("reads");
    let old = repo_root().join("tests/regressions/aligned-timeout-double-channel-state.snaprun");
    let (code, stdout, stderr) = snapsim(dir.path(), &["replay", old.to_str().expect("UTF-8")]);
    assert_eq!((code, stderr.as_str()), (0, ""), "the regression passes now: {stdout}");
    assert!(report_value(&stdout, "recorded").contains("trace hash"), "{stdout}");
}

#[test]
fn bad_save_flags_are_one_line_of_bad_input() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let scenario = repo_root().join("sims/wordcount.toml");
    let scenario = scenario.to_str().expect("UTF-8");
    std::fs::write(dir.path().join("a-file"), b"x").expect("written");
    let cases: [(&[&str], &str); 3] = [
        (&["run", scenario, "--stream-facts"], "--stream-facts: needs --save"),
        (
            &["run", scenario, "--save", "a-file/run.snaprun", "--stream-facts"],
            "--save a-file/run.snaprun: cannot write",
        ),
        (&["run", scenario, "--save", "."], "--save .: is a folder"),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = snapsim(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}: no run before the refusal");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with(&format!("snapsim: {expected}")), "{args:?}: {stderr}");
    }
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).expect("listing").map(|entry| entry.expect("entry").file_name()).collect();
    assert_eq!(names, ["a-file"], "nothing written");
}

#[test]
fn a_kept_fact_costs_the_bytes_docs_performance_states() {
    // docs/performance.md states this figure ("Facts: bytes per fact and streaming").
    assert_eq!(std::mem::size_of::<TimedFact>(), 64, "in-memory bytes per kept fact");
}

#[test]
fn a_run_file_appears_at_its_path_only_when_whole() {
    use snapsim::explore::run::Verdict;
    use snapsim::explore::run_file_stream::RunFileWriter;
    use snapsim::kernel::ids::TaskId;
    let dir = tempfile::tempdir().expect("a temp dir");
    let target = dir.path().join("run.snaprun");
    let entries = || std::fs::read_dir(dir.path()).expect("listing").count();
    let crash = Fact::TaskCrashed { task: TaskId(1) };
    let mut abandoned = RunFileWriter::create(&target, true).expect("created");
    abandoned.fact(SimTime::from_nanos(5), &crash);
    assert!(!target.exists(), "nothing at the path while the run goes on");
    assert_eq!(entries(), 1, "only the temporary beside it");
    drop(abandoned);
    assert_eq!(entries(), 0, "an unfinished file is removed");

    let mut writer = RunFileWriter::create(&target, true).expect("created");
    for nanos in 0..1000 {
        writer.fact(SimTime::from_nanos(nanos), &crash);
    }
    assert!(!target.exists());
    let spec = specs()[0].clone();
    let path = writer.finish(&spec, &Verdict::Pass, None, "a note").expect("finished");
    assert_eq!(path, target);
    assert_eq!(entries(), 1, "the file, and no temporary");
    let file = RunFile::decode(&std::fs::read(&target).expect("written")).expect("reads");
    let facts = file.facts.expect("kept");
    assert_eq!(facts.len(), 1000);
    assert_eq!(facts[999], TimedFact { time: SimTime::from_nanos(999), fact: crash });
    assert_eq!((file.spec, file.note.as_str()), (spec, "a note"));
}

#[test]
fn a_run_that_panics_is_saved_streamed_with_its_facts_so_far_or_kept_without() {
    use snapsim::explore::run::Verdict;
    let dir = tempfile::tempdir().expect("a temp dir");
    let spec = RunSpec { plants: vec![PlantedBug::AcknowledgeTwice], ..specs()[0].clone() };
    let streamed = record_to(&spec, &dir.path().join("streamed.snaprun"), "n", FactsHeld::Streamed).expect("saved");
    let kept = record_to(&spec, &dir.path().join("kept.snaprun"), "n", FactsHeld::InMemory).expect("saved");
    for recorded in [&streamed, &kept] {
        assert!(matches!(recorded.run.verdict, Verdict::Panicked { .. }), "{:?}", recorded.run.verdict);
        let file = RunFile::decode(&std::fs::read(&recorded.path).expect("written")).expect("reads");
        assert_eq!((&file.verdict, file.trace_hash), (&recorded.run.verdict, None));
        assert_eq!(file.facts.as_ref().map_or(0, Vec::len) as u64, recorded.facts);
    }
    assert!(streamed.facts > 0, "the facts recorded before the panic are in the streamed file");
    let kept_file = RunFile::decode(&std::fs::read(&kept.path).expect("written")).expect("reads");
    assert_eq!(kept_file.facts, None, "kept in memory, they went down with the run");
}
