//! Run files: one run, stored so that it can be replayed, shrunk and kept as a regression.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `SNAPRUN\0` |
//! | 4 | format version (`RUN_FILE_VERSION`) |
//! | 8 | payload length |
//! | n | payload: a `RunFile`, bincode 2 (standard configuration) through serde |
//! | 8 | checksum: XXH3-64 of the payload |
//!
//! bincode is used only here, behind our own header and checksum: it is pinned at 2.0.1 and
//! flagged unmaintained (RUSTSEC-2025-0141), so the day it is replaced, only this file
//! changes and the version number says which files the new reader can take. A corrupted,
//! truncated or newer-version file is refused with one line saying which.

use super::guarded::{GuardedRun, run_guarded};
use super::run::{RunSpec, Verdict};
use crate::kernel::trace::{TimedFact, TraceHash};
use crate::scenario::ScenarioError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The first bytes of every run file.
pub const RUN_FILE_MAGIC: [u8; 8] = *b"SNAPRUN\0";

/// The format version this build writes and reads. 2: scenarios gained `bank` and
/// `script` (the bank scenario), and facts the bank's kinds. 3: `[recovery]` gained
/// `failover`, and facts the region failover kinds. 4: the final checkpoint — runs end
/// differently (same spec, new trace), control messages gained `completion-notice` and
/// facts `DataEnded` and `CompletionNotified`. 5: scenarios gained `[log]` and vertices
/// `window_ms` (the partitioned log and event-time windows), records an event time, and
/// facts the log's kinds. 6: `[checkpoint]` gained `incremental`, storage objects shared
/// files, and facts the shared files' kinds. 7: scenarios gained `[[rescale]]`, facts the
/// rescale's kinds, and invariants `key-ownership`. 8: scenarios gained `[[savepoint]]` and
/// `rescale.from`, and facts `SavepointTriggered`.
pub const RUN_FILE_VERSION: u32 = 8;

/// The usual file name ending.
pub const RUN_FILE_EXTENSION: &str = "snaprun";

const HEADER_BYTES: usize = 8 + 4 + 8;
const CHECKSUM_BYTES: usize = 8;

/// What a run file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFile {
    /// The snapsim version that wrote it.
    pub snapsim_version: String,
    /// Everything the run depends on; its fault plan is always materialised.
    pub spec: RunSpec,
    /// The verdict when it was written.
    pub verdict: Verdict,
    /// The trace hash when it was written; `None` when the run panicked (no finished trace).
    pub trace_hash: Option<TraceHash>,
    /// The facts, when kept: they let a replay name the first fact that diverges.
    pub facts: Option<Vec<TimedFact>>,
    /// A one-line note (for regressions: the postmortem).
    pub note: String,
}

/// Why a run file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunFileError {
    /// It does not start with the magic bytes.
    NotARunFile,
    /// It is shorter than its header says.
    Truncated { expected: u64, found: u64 },
    /// It was written by a newer format than this build reads.
    NewerVersion { found: u32 },
    /// It was written by an older format, which this build no longer reads.
    OlderVersion { found: u32 },
    /// Its checksum does not match its payload.
    Corrupted,
    /// The payload does not decode.
    Undecodable(String),
}

impl fmt::Display for RunFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFileError::NotARunFile => write!(f, "not a snapsim run file (no SNAPRUN header)"),
            RunFileError::Truncated { expected, found } => {
                write!(f, "truncated: {found} bytes, the header promises {expected}")
            }
            RunFileError::NewerVersion { found } => write!(
                f,
                "written by a newer snapsim (run file format {found}; this build reads up to {RUN_FILE_VERSION})"
            ),
            RunFileError::OlderVersion { found } => write!(
                f,
                "written by an older snapsim (run file format {found}; this build reads {RUN_FILE_VERSION}): record \
                 the run again from its scenario and seed"
            ),
            RunFileError::Corrupted => write!(f, "corrupted: the checksum does not match the contents"),
            RunFileError::Undecodable(reason) => write!(f, "the contents do not decode: {reason}"),
        }
    }
}

impl RunFile {
    /// Runs `spec` again with its facts kept and captures it as a run file, with the fault
    /// plan materialised so the file means the same thing after the code changes.
    pub fn record(spec: &RunSpec, note: &str) -> Result<RunFile, ScenarioError> {
        let spec = RunSpec { fault_plan: Some(spec.materialised_plan()?), ..spec.clone() };
        let guarded = run_guarded(&spec, true)?;
        Ok(RunFile::from_run(spec, guarded, note))
    }

    /// The run file of `spec` (whose plan should be materialised) as `run` ran it.
    pub fn from_run(spec: RunSpec, run: GuardedRun, note: &str) -> RunFile {
        let outcome = run.outcome;
        RunFile {
            snapsim_version: env!("CARGO_PKG_VERSION").to_string(),
            spec,
            verdict: run.verdict,
            trace_hash: outcome.as_ref().map(|outcome| outcome.trace_hash),
            facts: outcome.and_then(|outcome| outcome.facts),
            note: note.to_string(),
        }
    }

    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let payload = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .expect("a run file always encodes: every field is plain data");
        let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len() + CHECKSUM_BYTES);
        bytes.extend_from_slice(&RUN_FILE_MAGIC);
        bytes.extend_from_slice(&RUN_FILE_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&payload);
        bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes());
        bytes
    }

    /// Reads a run file's bytes, refusing anything damaged or too new.
    pub fn decode(bytes: &[u8]) -> Result<RunFile, RunFileError> {
        if bytes.len() < RUN_FILE_MAGIC.len() || bytes[..8] != RUN_FILE_MAGIC {
            return Err(RunFileError::NotARunFile);
        }
        let found = bytes.len() as u64;
        if bytes.len() < HEADER_BYTES {
            return Err(RunFileError::Truncated { expected: (HEADER_BYTES + CHECKSUM_BYTES) as u64, found });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version > RUN_FILE_VERSION {
            return Err(RunFileError::NewerVersion { found: version });
        }
        if version < RUN_FILE_VERSION {
            return Err(RunFileError::OlderVersion { found: version });
        }
        let payload_length = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let expected = payload_length.saturating_add((HEADER_BYTES + CHECKSUM_BYTES) as u64);
        if found < expected {
            return Err(RunFileError::Truncated { expected, found });
        }
        if found > expected {
            return Err(RunFileError::Corrupted);
        }
        let payload = &bytes[HEADER_BYTES..bytes.len() - CHECKSUM_BYTES];
        let checksum = u64::from_le_bytes(bytes[bytes.len() - CHECKSUM_BYTES..].try_into().expect("8 bytes"));
        if xxhash_rust::xxh3::xxh3_64(payload) != checksum {
            return Err(RunFileError::Corrupted);
        }
        let (file, used) = bincode::serde::decode_from_slice(payload, bincode::config::standard())
            .map_err(|error| RunFileError::Undecodable(error.to_string()))?;
        if used != payload.len() {
            return Err(RunFileError::Undecodable(format!("{} trailing bytes", payload.len() - used)));
        }
        Ok(file)
    }
}
