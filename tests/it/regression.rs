//! Regressions: every run file in tests/regressions/ is a failure a sweep once found (shrunk,
//! with a one-line postmortem in its note), replayed through `snapsim::testing`'s one corpus
//! helper. Each must be fixed now. The helper's three answers — fixed, fails again, no longer
//! applies — are each shown on files made to give them.

use crate::support::{load, repo_root};
use snapsim::explore::run::RunSpec;
use snapsim::explore::run_file::RunFile;
use snapsim::kernel::rng::Seed;
use snapsim::plant::PlantedBug;
use snapsim::testing::{CorpusVerdict, assert_corpus_fixed, replay_corpus};
use tempfile::TempDir;

#[test]
fn every_recorded_regression_is_fixed_now() {
    let entries = assert_corpus_fixed(&repo_root().join("tests/regressions"));
    assert!(entries.iter().all(|entry| !entry.note.is_empty()), "every file carries its postmortem");
}

#[test]
fn the_corpus_helper_tells_fixed_from_reproduced_from_no_longer_applicable() {
    let dir = TempDir::new().expect("a temporary folder");
    let planted =
        RunSpec { plants: vec![PlantedBug::ForgetSourceRewind], ..RunSpec::new(load("sims/wordcount.toml"), Seed(1)) };
    let failing = RunFile::record(&planted, "forgets to rewind its source").expect("valid");
    std::fs::write(dir.path().join("a-reproduces.snaprun"), failing.encode()).expect("written");
    // The same failure recorded, then the bug "fixed": the plant is gone from the spec.
    let fixed = RunFile { spec: RunSpec { plants: Vec::new(), ..failing.spec.clone() }, ..failing.clone() };
    std::fs::write(dir.path().join("b-fixed.snaprun"), fixed.encode()).expect("written");
    // A scenario the current code refuses: it no longer applies.
    let mut invalid = failing.clone();
    invalid.spec.scenario.vertices[0].parallelism = 0;
    std::fs::write(dir.path().join("c-invalid.snaprun"), invalid.encode()).expect("written");
    std::fs::write(dir.path().join("d-damaged.snaprun"), b"SNAPRUN\0 not a run file").expect("written");
    std::fs::write(dir.path().join("ignored.txt"), b"not a run file").expect("written");
    let entries = replay_corpus(dir.path()).expect("a readable folder");
    let names: Vec<String> =
        entries.iter().map(|entry| entry.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["a-reproduces.snaprun", "b-fixed.snaprun", "c-invalid.snaprun", "d-damaged.snaprun"]);
    assert!(
        matches!(&entries[0].verdict, CorpusVerdict::Reproduces { class, was, .. } if class == "restore-equivalence" && was == class),
        "{:?}",
        entries[0].verdict
    );
    assert_eq!(entries[1].verdict, CorpusVerdict::Fixed);
    for entry in &entries[2..] {
        assert!(matches!(entry.verdict, CorpusVerdict::NoLongerApplies { .. }), "{entry}");
    }
    assert!(entries[2].to_string().contains("parallelism"), "{}", entries[2]);
    assert!(entries[0].to_string().contains("snapsim replay"), "{}", entries[0]);
    let refused = std::panic::catch_unwind(|| assert_corpus_fixed(dir.path())).expect_err("not all fixed");
    let message = refused.downcast_ref::<String>().expect("a formatted message");
    assert!(message.starts_with("3 of 4 corpus files are not fixed"), "{message}");
}
