//! Run files: one run, stored so that it can be replayed, shrunk and kept as a regression.
//!
//! Layout of format 9, written front to back without seeking, so that a run can stream its
//! facts into the file as they are recorded (`run_file_stream.rs`) without holding them or
//! knowing their count in advance (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `SNAPRUN\0` |
//! | 4 | format version (`RUN_FILE_VERSION`) |
//! | 1 | facts kept: 1, or 0 (the run kept none; no frames follow) |
//! | 2 + n, repeated | one frame per fact, in trace order: its length n (u16, 1..=1,024), then the `TimedFact`, bincode 2 (standard configuration) through serde |
//! | 2 | end of the facts: a frame length of 0 |
//! | 8 | payload length |
//! | n | payload: a `RunFile` with `facts: None`, bincode 2 (standard configuration) through serde |
//! | 8 | footer: the number of fact frames |
//! | 8 | footer: the payload length again |
//! | 8 | footer: checksum, XXH3-64 of every byte after the version up to here |
//!
//! The reader fills `facts` from the frames when the file says facts were kept (possibly
//! none), and leaves it `None` otherwise. Format 8 files (the checked-in regressions) are
//! still read: magic, version, payload length, the payload (a `RunFile` holding its facts
//! itself) and XXH3-64 of the payload.
//!
//! bincode is used only here, behind our own framing and checksum: it is pinned at 2.0.1
//! and flagged unmaintained (RUSTSEC-2025-0141), so the day it is replaced, only this file
//! changes and the version number says which files the new reader can take. A corrupted,
//! truncated or newer-version file is refused with one line saying which.

use super::guarded::{GuardedRun, run_guarded};
use super::run::{RunSpec, Verdict};
use crate::kernel::time::SimTime;
use crate::kernel::trace::Fact;
use crate::kernel::trace::{TimedFact, TraceHash};
use crate::scenario::ScenarioError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

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
/// `rescale.from`, and facts `SavepointTriggered`. 9: facts moved out of the payload into
/// length-prefixed frames ahead of it, so that a run can stream them to the file; a footer
/// counts them and checksums everything after the version; the spec gained
/// `safety_only` (format 8 is still read, as judging liveness).
pub const RUN_FILE_VERSION: u32 = 9;

/// The oldest format this build still reads: the last one that kept facts in the payload.
const OLDEST_READ_VERSION: u32 = 8;

/// The usual file name ending.
pub const RUN_FILE_EXTENSION: &str = "snaprun";

/// Format 8: magic, version and payload length.
const V8_HEADER_BYTES: usize = 8 + 4 + 8;
const CHECKSUM_BYTES: usize = 8;
/// Format 9: magic and version.
const HEADER_BYTES: usize = 8 + 4;
/// Format 9: fact count, payload length and checksum.
const FOOTER_BYTES: usize = 8 + 8 + CHECKSUM_BYTES;
/// Format 9: the facts-kept flag and the end frame of an empty facts section, the payload
/// length and the footer: the least that follows the header.
const LEAST_AFTER_HEADER: usize = 1 + 2 + 8 + FOOTER_BYTES;
/// A fact's frame is far shorter (the longest fact encodes to under 64 bytes); a longer
/// length is damage, not a fact.
const FRAME_BYTES_MAX: usize = 1024;

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
    Truncated {
        /// The least length, in bytes, it must have (as its header gives it, once there is one).
        expected: u64,
        /// Its length, in bytes.
        found: u64,
    },
    /// It was written by a newer format than this build reads.
    NewerVersion {
        /// The format version the file declares.
        found: u32,
    },
    /// It was written by an older format, which this build no longer reads.
    OlderVersion {
        /// The format version the file declares.
        found: u32,
    },
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
                write!(f, "truncated: {found} bytes, its framing needs at least {expected}")
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

/// The payload as written: a `RunFile` without its facts (they are in the frames), borrowed
/// so that nothing is cloned; it encodes exactly as a `RunFile` with `facts: None`.
#[derive(Serialize)]
struct Payload<'a> {
    snapsim_version: &'a str,
    spec: &'a RunSpec,
    verdict: &'a Verdict,
    trace_hash: Option<TraceHash>,
    facts: Option<&'a [TimedFact]>,
    note: &'a str,
}

/// A fact as a frame holds it: encodes exactly as a `TimedFact`, without cloning the fact.
#[derive(Serialize)]
struct FrameFact<'a> {
    time: SimTime,
    fact: &'a Fact,
}

/// Writes a format-9 run file front to back into `out`: the header, then each fact as it
/// comes, then the rest of the run file and the footer. Bytes are gathered in a buffer of
/// `ENCODER_BUFFER_BYTES` and hashed and written a buffer at a time (so `out` needs no
/// buffering of its own); nothing is read back, seeked or counted in advance.
pub struct RunFileEncoder<W: Write> {
    out: W,
    hasher: Xxh3,
    facts_kept: bool,
    facts: u64,
    /// Bytes after the header not yet hashed and written.
    buffer: Vec<u8>,
}

/// How much the encoder gathers before it hashes and writes.
const ENCODER_BUFFER_BYTES: usize = 64 * 1024;

impl<W: Write> RunFileEncoder<W> {
    /// Writes the header into `out`; `facts_kept` says whether facts will follow (a run
    /// that keeps none writes none, and reads back with `facts: None`).
    pub fn new(mut out: W, facts_kept: bool) -> std::io::Result<RunFileEncoder<W>> {
        out.write_all(&RUN_FILE_MAGIC)?;
        out.write_all(&RUN_FILE_VERSION.to_le_bytes())?;
        let mut buffer = Vec::with_capacity(ENCODER_BUFFER_BYTES + FRAME_BYTES_MAX + 2);
        buffer.push(u8::from(facts_kept));
        Ok(RunFileEncoder { out, hasher: Xxh3::new(), facts_kept, facts: 0, buffer })
    }

    /// Hashes and writes what the buffer holds.
    fn drain(&mut self) -> std::io::Result<()> {
        self.hasher.update(&self.buffer);
        self.out.write_all(&self.buffer)?;
        self.buffer.clear();
        Ok(())
    }

    /// Writes the fact recorded at `time` as the next frame.
    pub fn fact(&mut self, time: SimTime, fact: &Fact) -> std::io::Result<()> {
        if !self.facts_kept {
            return Err(std::io::Error::other("a fact for a run file that keeps none"));
        }
        let start = self.buffer.len();
        self.buffer.extend_from_slice(&[0, 0]);
        let encoded = bincode::serde::encode_into_std_write(
            FrameFact { time, fact },
            &mut self.buffer,
            bincode::config::standard(),
        );
        let length = encoded.ok().filter(|&length| (1..=FRAME_BYTES_MAX).contains(&length));
        let Some(length) = length.and_then(|length| u16::try_from(length).ok()) else {
            self.buffer.truncate(start);
            return Err(std::io::Error::other("a fact that does not fit a frame"));
        };
        self.buffer[start..start + 2].copy_from_slice(&length.to_le_bytes());
        self.facts += 1;
        if self.buffer.len() >= ENCODER_BUFFER_BYTES {
            self.drain()?;
        }
        Ok(())
    }

    /// The frames written so far.
    pub fn facts_written(&self) -> u64 {
        self.facts
    }

    /// Ends the facts and writes `file`'s other fields (its `facts` are ignored: they are
    /// the frames written so far) and the footer; hands back `out`, flushed.
    pub fn finish(mut self, file: &RunFile) -> std::io::Result<W> {
        self.buffer.extend_from_slice(&[0, 0]);
        let payload = Payload {
            snapsim_version: &file.snapsim_version,
            spec: &file.spec,
            verdict: &file.verdict,
            trace_hash: file.trace_hash,
            facts: None,
            note: &file.note,
        };
        let payload = bincode::serde::encode_to_vec(payload, bincode::config::standard())
            .expect("a run file always encodes: every field is plain data");
        let length = (payload.len() as u64).to_le_bytes();
        self.buffer.extend_from_slice(&length);
        self.buffer.extend_from_slice(&payload);
        self.buffer.extend_from_slice(&self.facts.to_le_bytes());
        self.buffer.extend_from_slice(&length);
        self.drain()?;
        self.out.write_all(&self.hasher.digest().to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl RunFile {
    /// Runs `spec` again with its facts kept and captures it as a run file, with the fault
    /// plan and any drawn configuration materialised so the file means the same thing
    /// after the code changes.
    pub fn record(spec: &RunSpec, note: &str) -> Result<RunFile, ScenarioError> {
        let spec = spec.materialised()?;
        let guarded = run_guarded(&spec, true)?;
        Ok(RunFile::from_run(spec, guarded, note))
    }

    /// The run file of `spec` (whose plan should be materialised) as `run` ran it. A
    /// configuration drawn by `[randomize]` is written into the stored scenario (the file
    /// never stores the section itself).
    pub fn from_run(spec: RunSpec, run: GuardedRun, note: &str) -> RunFile {
        let outcome = run.outcome;
        let spec = match spec.scenario.with_drawn_config(spec.seed) {
            Ok((scenario, _)) => RunSpec { scenario, ..spec },
            Err(_) => spec,
        };
        RunFile {
            snapsim_version: env!("CARGO_PKG_VERSION").to_string(),
            spec,
            verdict: run.verdict,
            trace_hash: outcome.as_ref().map(|outcome| outcome.trace_hash),
            facts: outcome.and_then(|outcome| outcome.facts),
            note: note.to_string(),
        }
    }

    /// The file's bytes, in the current format.
    pub fn encode(&self) -> Vec<u8> {
        let mut encoder = RunFileEncoder::new(Vec::new(), self.facts.is_some()).expect("writing to memory");
        for timed in self.facts.iter().flatten() {
            encoder.fact(timed.time, &timed.fact).expect("every fact fits a frame");
        }
        encoder.finish(self).expect("writing to memory")
    }

    /// Reads a run file's bytes (the current format or format 8), refusing anything
    /// damaged or too new.
    pub fn decode(bytes: &[u8]) -> Result<RunFile, RunFileError> {
        if bytes.len() < RUN_FILE_MAGIC.len() || bytes[..8] != RUN_FILE_MAGIC {
            return Err(RunFileError::NotARunFile);
        }
        let found = bytes.len() as u64;
        if bytes.len() < HEADER_BYTES {
            return Err(RunFileError::Truncated { expected: (HEADER_BYTES + LEAST_AFTER_HEADER) as u64, found });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version > RUN_FILE_VERSION {
            return Err(RunFileError::NewerVersion { found: version });
        }
        match version {
            RUN_FILE_VERSION => decode_v9(bytes),
            OLDEST_READ_VERSION => decode_v8(bytes),
            _ => Err(RunFileError::OlderVersion { found: version }),
        }
    }
}

/// bincode's reading of `bytes` as one whole `T`.
fn decode_whole<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, bincode::config::standard()).map_err(|error| error.to_string())?;
    if used != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - used));
    }
    Ok(value)
}

/// Format 8: the facts are in the payload, whose length the header gives.
fn decode_v8(bytes: &[u8]) -> Result<RunFile, RunFileError> {
    let found = bytes.len() as u64;
    if bytes.len() < V8_HEADER_BYTES {
        return Err(RunFileError::Truncated { expected: (V8_HEADER_BYTES + CHECKSUM_BYTES) as u64, found });
    }
    let payload_length = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let expected = payload_length.saturating_add((V8_HEADER_BYTES + CHECKSUM_BYTES) as u64);
    if found < expected {
        return Err(RunFileError::Truncated { expected, found });
    }
    if found > expected {
        return Err(RunFileError::Corrupted);
    }
    let payload = &bytes[V8_HEADER_BYTES..bytes.len() - CHECKSUM_BYTES];
    let checksum = u64::from_le_bytes(bytes[bytes.len() - CHECKSUM_BYTES..].try_into().expect("8 bytes"));
    if xxh3_64(payload) != checksum {
        return Err(RunFileError::Corrupted);
    }
    decode_whole::<RunFileV8>(payload).map(RunFileV8::into_current).map_err(RunFileError::Undecodable)
}

/// Format 8's payload, whose spec had no `safety_only` (every run judged liveness).
#[derive(Deserialize)]
struct RunFileV8 {
    snapsim_version: String,
    spec: RunSpecV8,
    verdict: Verdict,
    trace_hash: Option<TraceHash>,
    facts: Option<Vec<TimedFact>>,
    note: String,
}

/// Format 8's `RunSpec`.
#[derive(Deserialize)]
struct RunSpecV8 {
    scenario: crate::scenario::Scenario,
    seed: crate::kernel::rng::Seed,
    fault_plan: Option<crate::faults::FaultPlan>,
    plants: Vec<crate::plant::PlantedBug>,
}

impl RunFileV8 {
    fn into_current(self) -> RunFile {
        let RunSpecV8 { scenario, seed, fault_plan, plants } = self.spec;
        RunFile {
            snapsim_version: self.snapsim_version,
            spec: RunSpec { scenario, seed, fault_plan, plants, safety_only: false },
            verdict: self.verdict,
            trace_hash: self.trace_hash,
            facts: self.facts,
            note: self.note,
        }
    }
}

/// Whether a format-9 file's last 8 bytes are the checksum of what lies between header and
/// them: if so, the file is whole, and a part that does not decode was written that way.
fn intact_v9(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_BYTES + CHECKSUM_BYTES && {
        let (body, checksum) = bytes[HEADER_BYTES..].split_at(bytes.len() - HEADER_BYTES - CHECKSUM_BYTES);
        xxh3_64(body).to_le_bytes() == checksum
    }
}

/// Format 9: read front to back, as written.
fn decode_v9(bytes: &[u8]) -> Result<RunFile, RunFileError> {
    let mut reader = Reader { bytes, at: HEADER_BYTES };
    let facts_kept = match reader.take(1, LEAST_AFTER_HEADER)?[0] {
        0 => false,
        1 => true,
        _ => return Err(reader.damaged("the facts-kept flag is neither 0 nor 1")),
    };
    let facts = reader.frames(facts_kept)?;
    let payload_length = reader.take_u64(8 + FOOTER_BYTES)?;
    let payload_length = usize::try_from(payload_length).map_err(|_| reader.truncated(usize::MAX))?;
    let payload = reader.take(payload_length, FOOTER_BYTES)?;
    let fact_count = reader.take_u64(FOOTER_BYTES - 8)?;
    let footer_payload_length = reader.take_u64(CHECKSUM_BYTES)?;
    reader.take(CHECKSUM_BYTES, 0)?;
    if reader.at != bytes.len() || !intact_v9(bytes) {
        return Err(RunFileError::Corrupted);
    }
    if fact_count != facts.len() as u64 || footer_payload_length != payload_length as u64 {
        return Err(RunFileError::Undecodable("the footer does not match the contents".to_string()));
    }
    let mut file: RunFile = decode_whole(payload).map_err(RunFileError::Undecodable)?;
    if file.facts.is_some() {
        return Err(RunFileError::Undecodable("facts inside the payload".to_string()));
    }
    file.facts = facts_kept.then_some(facts);
    Ok(file)
}

/// A format-9 file read front to back.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// The next `length` bytes; when the file ends first, `Truncated`, counting `after`
    /// bytes the format needs at least beyond them.
    fn take(&mut self, length: usize, after: usize) -> Result<&'a [u8], RunFileError> {
        let end = self.at.saturating_add(length);
        if end > self.bytes.len() {
            return Err(self.truncated(end.saturating_add(after)));
        }
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn take_u64(&mut self, after: usize) -> Result<u64, RunFileError> {
        Ok(u64::from_le_bytes(self.take(8, after)?.try_into().expect("8 bytes")))
    }

    fn truncated(&self, expected: usize) -> RunFileError {
        RunFileError::Truncated { expected: expected as u64, found: self.bytes.len() as u64 }
    }

    /// A part that does not make sense: written so if the file is whole, damage otherwise.
    fn damaged(&self, reason: &str) -> RunFileError {
        if intact_v9(self.bytes) { RunFileError::Undecodable(reason.to_string()) } else { RunFileError::Corrupted }
    }

    /// The fact frames up to the end frame (none may come when facts were not kept).
    fn frames(&mut self, facts_kept: bool) -> Result<Vec<TimedFact>, RunFileError> {
        let mut facts = Vec::new();
        loop {
            let length = self.take(2, LEAST_AFTER_HEADER - 1 - 2)?;
            let length = usize::from(u16::from_le_bytes(length.try_into().expect("2 bytes")));
            if length == 0 {
                return Ok(facts);
            }
            if !facts_kept || length > FRAME_BYTES_MAX {
                return Err(self.damaged("a fact frame where none can be"));
            }
            let frame = self.take(length, LEAST_AFTER_HEADER - 1)?;
            match decode_whole(frame) {
                Ok(fact) => facts.push(fact),
                Err(reason) => return Err(self.damaged(&format!("fact {}: {reason}", facts.len()))),
            }
        }
    }
}
