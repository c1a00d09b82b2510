//! Shrinking: a failing run file in, the smallest case found that still fails the same way
//! out.
//!
//! A case "fails the same way" when a guarded run of it has the same failure class
//! (`Verdict::failure_class`: the invariant's name, or `panic`). Greedy passes, in a fixed
//! order, propose smaller candidates and keep those that still fail: drop faults, move them
//! earlier, fewer records and keys (by bisection), drop vertices nothing reads from, fewer
//! subtasks, fewer checkpoints, simpler settings, and last a record-count checkpoint trigger
//! in place of the clock's. Rounds of passes repeat until a whole round keeps nothing or
//! the budget of candidate runs is spent. There is no randomness and every iteration order
//! is fixed, so the same input always shrinks to the same output. No file I/O: the command
//! line (`cli/shrink.rs`) reads and writes the files.

mod passes;

use super::guarded::{GuardedRun, run_guarded};
use super::run::RunSpec;
use super::run_file::RunFile;
use crate::dataflow::graph::VertexKind;
use crate::scenario::ScenarioError;
use passes::Shrinker;
use std::fmt;

/// Candidate runs a shrink tries when not told otherwise.
pub const DEFAULT_SHRINK_ATTEMPTS: u32 = 500;

/// How much work a shrink may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShrinkBudget {
    /// Candidate runs at most. Candidates that do not validate, or that repeat one already
    /// run, are skipped without a run and do not count.
    pub attempts: u32,
}

impl Default for ShrinkBudget {
    fn default() -> Self {
        ShrinkBudget { attempts: DEFAULT_SHRINK_ATTEMPTS }
    }
}

/// How big a case is, in the dimensions shrinking reduces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseSize {
    /// Scheduled faults.
    pub faults: u64,
    /// Records all the sources hold (per subtask × source subtasks).
    pub source_records: u64,
    /// Distinct keys.
    pub keys: u64,
    /// Subtasks of every vertex.
    pub tasks: u64,
    /// Checkpoints completed; `None` when the run panicked (no outcome to count from).
    pub checkpoints: Option<u64>,
    /// Events the kernel handled; `None` when the run panicked.
    pub events: Option<u64>,
}

impl CaseSize {
    /// The size of `spec`, with the figures only a run knows taken from `run`.
    pub fn of(spec: &RunSpec, run: &GuardedRun) -> CaseSize {
        let scenario = &spec.scenario;
        let source_subtasks: u64 = scenario
            .vertices
            .iter()
            .filter(|vertex| vertex.kind == VertexKind::Source)
            .map(|vertex| u64::from(vertex.parallelism))
            .sum();
        let faults = match &spec.fault_plan {
            Some(plan) => plan.faults.len(),
            None => scenario.faults.len(),
        };
        let (source_records, tasks) = match &scenario.bank {
            // A bank's records are its transfers: every account's series and the script's.
            Some(bank) => (
                bank.transfers_per_account.saturating_mul(u64::from(bank.accounts)) + scenario.script.len() as u64,
                u64::from(bank.accounts),
            ),
            None => (
                scenario.workload.records_per_source_subtask.saturating_mul(source_subtasks)
                    + scenario.log.as_ref().map_or(0, |log| {
                        let partitions =
                            log.partitions + log.new_partitions.iter().map(|batch| batch.count).sum::<u32>();
                        log.records_per_partition.saturating_mul(u64::from(partitions))
                    }),
                scenario.vertices.iter().map(|vertex| u64::from(vertex.parallelism)).sum(),
            ),
        };
        CaseSize {
            faults: faults as u64,
            source_records,
            keys: scenario.workload.keys,
            tasks,
            checkpoints: run.outcome.as_ref().map(|outcome| outcome.stats.checkpoints_completed),
            events: run.outcome.as_ref().map(|outcome| outcome.events),
        }
    }

    /// Each dimension as (label, value), in a fixed order, for tables.
    pub fn rows(&self) -> [(&'static str, Option<u64>); 6] {
        [
            ("faults", Some(self.faults)),
            ("records", Some(self.source_records)),
            ("keys", Some(self.keys)),
            ("tasks", Some(self.tasks)),
            ("checkpoints", self.checkpoints),
            ("events", self.events),
        ]
    }
}

/// What a shrink found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShrinkResult {
    /// The minimal case as a run file: its spec (fault plan materialised), and the verdict,
    /// trace hash and facts of a run of it made with facts kept.
    pub file: RunFile,
    /// The case's size before.
    pub before: CaseSize,
    /// The case's size after.
    pub after: CaseSize,
    /// Candidate runs made.
    pub attempts: u32,
    /// Candidates kept (each one smaller than the one before).
    pub accepted: u32,
}

/// Why a run file could not be shrunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShrinkError {
    /// The run file records a pass: there is no failure to keep.
    Passing,
    /// The run file's spec does not validate.
    Invalid(ScenarioError),
    /// Re-running the spec does not fail the way the file says it did.
    DoesNotReproduce {
        /// The class the file records.
        expected: String,
        /// The class the re-run gave (`None`: it passed).
        found: Option<String>,
    },
    /// The minimal case failed differently when re-run with its facts kept: a run is not
    /// a function of its spec alone, which is a bug in the simulator.
    Unstable {
        /// The class every candidate was kept for.
        expected: String,
        /// The class the final run gave.
        found: Option<String>,
    },
}

impl fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class =
            |found: &Option<String>| found.clone().map_or("a pass".to_string(), |class| format!("FAIL {class}"));
        match self {
            ShrinkError::Passing => write!(f, "the run passed, so there is no failure to shrink"),
            ShrinkError::Invalid(error) => write!(f, "the stored spec is invalid: {error}"),
            ShrinkError::DoesNotReproduce { expected, found } => write!(
                f,
                "does not reproduce: the file records FAIL {expected}, this build's run gives {}",
                class(found)
            ),
            ShrinkError::Unstable { expected, found } => write!(
                f,
                "the minimal case failed with {expected} but gave {} when re-run with facts kept",
                class(found)
            ),
        }
    }
}

impl std::error::Error for ShrinkError {}

/// Shrinks `file`'s failing case within `budget`; see the module doc.
pub fn shrink(file: &RunFile, budget: ShrinkBudget) -> Result<ShrinkResult, ShrinkError> {
    let target = file.verdict.failure_class().ok_or(ShrinkError::Passing)?;
    let start = normalise(&file.spec).map_err(ShrinkError::Invalid)?;
    let baseline = run_guarded(&start, false).map_err(ShrinkError::Invalid)?;
    let found = baseline.verdict.failure_class();
    if found.as_deref() != Some(target.as_str()) {
        return Err(ShrinkError::DoesNotReproduce { expected: target, found });
    }
    let before = CaseSize::of(&start, &baseline);
    let mut shrinker = Shrinker {
        target,
        checkpoints: before.checkpoints,
        current: start,
        budget: budget.attempts,
        attempts: 0,
        accepted: 0,
        rejected: Vec::new(),
    };
    shrinker.run_rounds();
    let Shrinker { target, current, attempts, accepted, .. } = shrinker;
    let last = run_guarded(&current, true).map_err(ShrinkError::Invalid)?;
    let found = last.verdict.failure_class();
    if found.as_deref() != Some(target.as_str()) {
        return Err(ShrinkError::Unstable { expected: target, found });
    }
    let after = CaseSize::of(&current, &last);
    let note = match file.note.as_str() {
        "" => format!("shrunk in {attempts} attempts ({accepted} kept)"),
        earlier => format!("shrunk in {attempts} attempts ({accepted} kept); before: {earlier}"),
    };
    let file = RunFile::from_run(current, last, &note);
    Ok(ShrinkResult { file, before, after, attempts, accepted })
}

/// The same run with its fault plan materialised and the scenario's own fault list emptied:
/// the plan is what every candidate edits, and a stale list would only mislead a reader of
/// the shrunk file.
fn normalise(spec: &RunSpec) -> Result<RunSpec, ScenarioError> {
    let mut normal = spec.clone();
    normal.fault_plan = Some(spec.materialised_plan()?);
    normal.scenario.faults.clear();
    Ok(normal)
}
