//! Run files written as the run goes: `RunFileWriter` takes each fact as the trace records
//! it (it is a `FactSink`) and writes it to the file at once, so a long run keeps none of its
//! facts in memory; `finish` adds the verdict, spec and footer. `record_to` runs a spec into
//! a run file either way — facts streamed, or kept in memory and written after the run —
//! and both give the same bytes.
//!
//! The file is written beside its target under a temporary name and put in place only when
//! whole (`files::PendingFile`): never over an existing file (a taken name gets `-2`), and
//! never half a file at the user's path. The format itself (and bincode) stays in
//! `run_file.rs`.

use super::guarded::{GuardedRun, run_guarded, run_guarded_with};
use super::run::{RunSpec, Verdict};
use super::run_file::{RunFile, RunFileEncoder};
use crate::files::PendingFile;
use crate::harness::{FactStream, RunOptions};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, FactSink, SharedFactSink, TraceHash};
use crate::scenario::ScenarioError;
use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A run file being written fact by fact.
pub struct RunFileWriter {
    pending: PendingFile,
    encoder: RunFileEncoder<File>,
    /// The first write that failed; later facts are dropped and `finish` reports it.
    error: Option<std::io::Error>,
}

impl RunFileWriter {
    /// Starts a run file for `path` (written beside it until `finish`); `facts_kept` says
    /// whether facts will follow.
    pub fn create(path: &Path, facts_kept: bool) -> std::io::Result<RunFileWriter> {
        let (pending, file) = PendingFile::create(path)?;
        RunFileWriter::start(pending, file, facts_kept)
    }

    fn start(pending: PendingFile, file: File, facts_kept: bool) -> std::io::Result<RunFileWriter> {
        let encoder = RunFileEncoder::new(file, facts_kept)?;
        Ok(RunFileWriter { pending, encoder, error: None })
    }

    /// Writes the fact recorded at `time`; a failure is kept for `finish` to report.
    pub fn fact(&mut self, time: SimTime, fact: &Fact) {
        if self.error.is_none()
            && let Err(error) = self.encoder.fact(time, fact)
        {
            self.error = Some(error);
        }
    }

    /// The facts written so far.
    pub fn facts_written(&self) -> u64 {
        self.encoder.facts_written()
    }

    /// Writes the rest of the run file and puts it in place; returns where it went (the
    /// target, or the first free numbered name beside it).
    pub fn finish(
        self,
        spec: &RunSpec,
        verdict: &Verdict,
        trace_hash: Option<TraceHash>,
        note: &str,
    ) -> std::io::Result<PathBuf> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let file = RunFile {
            snapsim_version: env!("CARGO_PKG_VERSION").to_string(),
            spec: spec.clone(),
            verdict: verdict.clone(),
            trace_hash,
            facts: None,
            note: note.to_string(),
        };
        drop(self.encoder.finish(&file)?);
        self.pending.place()
    }
}

impl FactSink for RunFileWriter {
    fn fact(&mut self, time: SimTime, fact: &Fact) {
        RunFileWriter::fact(self, time, fact);
    }
}

/// Where a recorded run keeps its facts until they are in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactsHeld {
    /// Kept in memory for the whole run, written after it (as `RunFile::record` keeps them).
    InMemory,
    /// Written to the file as they are recorded; none kept.
    Streamed,
}

/// A run recorded into a run file.
#[derive(Debug)]
pub struct Recorded {
    /// The run (its outcome holds the facts only when they were kept in memory).
    pub run: GuardedRun,
    /// Where the file went.
    pub path: PathBuf,
    /// Facts written to it.
    pub facts: u64,
}

/// Why a run could not be recorded.
#[derive(Debug)]
pub enum RecordError {
    /// The spec does not validate.
    Scenario(ScenarioError),
    /// The file could not be written.
    Io(std::io::Error),
}

impl From<std::io::Error> for RecordError {
    fn from(error: std::io::Error) -> RecordError {
        RecordError::Io(error)
    }
}

/// Runs `spec` with its fault plan materialised and writes its run file for `path` (a
/// taken name gets `-2`), its facts held as `held` says. The file is opened before the run,
/// so an unwritable path is refused before any time is spent. The same spec gives the same
/// bytes either way; a run that panics keeps the facts streamed before the panic (kept in
/// memory, they are lost with the run).
pub fn record_to(spec: &RunSpec, path: &Path, note: &str, held: FactsHeld) -> Result<Recorded, RecordError> {
    let spec = spec.materialised().map_err(RecordError::Scenario)?;
    let (pending, file) = PendingFile::create(path)?;
    let (writer, run) = match held {
        FactsHeld::Streamed => {
            let writer = Rc::new(RefCell::new(RunFileWriter::start(pending, file, true)?));
            let stream = FactStream(writer.clone() as SharedFactSink);
            let run = run_guarded_with(&spec, RunOptions { fact_stream: Some(stream), ..RunOptions::default() })
                .map_err(RecordError::Scenario)?;
            let Ok(writer) = Rc::try_unwrap(writer) else {
                unreachable!("the run is over: no one else holds the writer")
            };
            (writer.into_inner(), run)
        }
        FactsHeld::InMemory => {
            let run = run_guarded(&spec, true).map_err(RecordError::Scenario)?;
            let facts = run.outcome.as_ref().and_then(|outcome| outcome.facts.as_deref());
            let mut writer = RunFileWriter::start(pending, file, facts.is_some())?;
            for timed in facts.into_iter().flatten() {
                writer.fact(timed.time, &timed.fact);
            }
            (writer, run)
        }
    };
    let facts = writer.facts_written();
    let trace_hash = run.outcome.as_ref().map(|outcome| outcome.trace_hash);
    let path = writer.finish(&spec, &run.verdict, trace_hash, note)?;
    Ok(Recorded { run, path, facts })
}
