//! The regression corpus: a checked-in folder of run files, each a failure a sweep once
//! found (shrunk, with a one-line postmortem as its note), replayed by `cargo test` through
//! one helper — as proptest replays its regressions files before new cases, and Hydro its
//! minimized failures.
//!
//! A run file stores the materialised fault plan in protocol vocabulary, not only a seed, so
//! it keeps its meaning after the code changes. Replayed on new code, each file comes out as
//! one of three, never as a confusing crash: the failure is **fixed** (the run passes), it
//! **reproduces** (an invariant fails again, or the simulation panics), or the file **no
//! longer applies** (it does not decode, its scenario no longer validates, or it records no
//! failure to begin with) — with the reason.

use crate::explore::guarded::run_guarded;
use crate::explore::run_file::{RUN_FILE_EXTENSION, RunFile};
use std::fmt;
use std::path::{Path, PathBuf};

/// What replaying one corpus file on this code found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorpusVerdict {
    /// The run passes now: the bug it recorded is fixed.
    Fixed,
    /// It fails again: `class` is the failing invariant (or `panic`), `was` the class the
    /// file recorded.
    Reproduces {
        /// The class it fails with now.
        class: String,
        /// The class the file recorded.
        was: String,
        /// The failure's detail.
        detail: String,
    },
    /// It cannot be replayed on this code, and why.
    NoLongerApplies {
        /// Why, in one line.
        reason: String,
    },
}

/// One corpus file and what its replay found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusEntry {
    /// The file.
    pub path: PathBuf,
    /// Its postmortem (empty if it could not be read).
    pub note: String,
    /// What the replay found.
    pub verdict: CorpusVerdict,
}

impl fmt::Display for CorpusEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.verdict {
            CorpusVerdict::Fixed => write!(f, "{path}: fixed ({})", self.note),
            CorpusVerdict::Reproduces { class, was, detail } => write!(
                f,
                "{path}: fails again with {class} (recorded {was}; {}): {detail} — replay: snapsim replay {path}",
                self.note
            ),
            CorpusVerdict::NoLongerApplies { reason } => write!(f, "{path}: no longer applies: {reason}"),
        }
    }
}

/// Replays every run file (`*.snaprun`) in `dir`, in name order. `Err` only when the folder
/// itself cannot be read.
pub fn replay_corpus(dir: &Path) -> Result<Vec<CorpusEntry>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|error| format!("{}: cannot read the corpus: {error}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == RUN_FILE_EXTENSION))
        .collect();
    files.sort();
    Ok(files.into_iter().map(replay_one).collect())
}

fn replay_one(path: PathBuf) -> CorpusEntry {
    let gone = |path: PathBuf, note: String, reason: String| CorpusEntry {
        path,
        note,
        verdict: CorpusVerdict::NoLongerApplies { reason },
    };
    let file = match std::fs::read(&path)
        .map_err(|error| error.to_string())
        .and_then(|bytes| RunFile::decode(&bytes).map_err(|error| error.to_string()))
    {
        Ok(file) => file,
        Err(reason) => return gone(path, String::new(), reason),
    };
    let Some(was) = file.verdict.failure_class() else {
        return gone(path, file.note, "it records a passing run, not a failure".to_string());
    };
    let verdict = match run_guarded(&file.spec, false) {
        Err(error) => CorpusVerdict::NoLongerApplies { reason: error.one_line("its scenario") },
        Ok(run) => match run.verdict.failure_class() {
            None => CorpusVerdict::Fixed,
            Some(class) => {
                let detail = match &run.verdict {
                    crate::explore::run::Verdict::Fail(violation) => violation.detail.clone(),
                    crate::explore::run::Verdict::Panicked { message } => message.clone(),
                    crate::explore::run::Verdict::Pass => String::new(),
                };
                CorpusVerdict::Reproduces { class, was, detail }
            }
        },
    };
    CorpusEntry { path, note: file.note, verdict }
}

/// Replays the corpus in `dir` and asserts every recorded failure is fixed: the helper a
/// test calls first, before drawing new cases. Returns the entries (all fixed).
///
/// # Panics
///
/// If the folder cannot be read or holds no run file, or any file reproduces its failure
/// or no longer applies — listing each such file with its reason and replay command.
pub fn assert_corpus_fixed(dir: &Path) -> Vec<CorpusEntry> {
    let entries = replay_corpus(dir).unwrap_or_else(|message| panic!("{message}"));
    assert!(!entries.is_empty(), "{}: the corpus holds no run file", dir.display());
    let open: Vec<String> =
        entries.iter().filter(|entry| entry.verdict != CorpusVerdict::Fixed).map(ToString::to_string).collect();
    assert!(open.is_empty(), "{} of {} corpus files are not fixed:\n{}", open.len(), entries.len(), open.join("\n"));
    entries
}
