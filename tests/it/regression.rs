//! Regressions: every run file in tests/regressions/ is a failure a sweep once found (shrunk,
//! with a one-line postmortem in its note). Each must pass now; a file that stops decoding
//! or validating fails here with its name.

use crate::support::repo_root;
use snapsim::explore::guarded::run_guarded;
use snapsim::explore::run::Verdict;
use snapsim::explore::run_file::RunFile;

#[test]
fn every_recorded_regression_passes_now() {
    let folder = repo_root().join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("tests/regressions exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "snaprun"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus holds at least one regression");
    for path in files {
        let name = path.display().to_string();
        let file =
            RunFile::decode(&std::fs::read(&path).expect("readable")).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(file.verdict.failure_class().is_some(), "{name} records a failure");
        assert!(!file.note.is_empty(), "{name} carries its postmortem");
        let replayed = run_guarded(&file.spec, false).unwrap_or_else(|error| panic!("{}", error.one_line(&name)));
        assert_eq!(replayed.verdict, Verdict::Pass, "{name} fails again ({}): {:?}", file.note, replayed.verdict);
    }
}
