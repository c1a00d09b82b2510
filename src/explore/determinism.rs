//! The determinism self-check: run a spec twice and compare; when the runs differ, name the
//! first fact at which they part.
//!
//! Two runs of one spec in one process must agree fact for fact. The cheap comparison is the
//! verdict and the trace hash; only when those differ are both runs repeated with their
//! facts kept, to find the first divergence (madsim's "run it twice" check, with the answer
//! a person needs).

use super::guarded::{GuardedRun, run_guarded};
use super::run::RunSpec;
use crate::kernel::trace::TimedFact;
use crate::scenario::ScenarioError;

/// Where two traces part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The index of the first fact that differs.
    pub index: u64,
    /// That fact in the first trace (`None`: the first trace had ended).
    pub first: Option<TimedFact>,
    /// That fact in the second trace (`None`: the second trace had ended).
    pub second: Option<TimedFact>,
}

/// The first index at which `first` and `second` differ, if they do.
pub fn first_divergence(first: &[TimedFact], second: &[TimedFact]) -> Option<Divergence> {
    let index = first.iter().zip(second).position(|(left, right)| left != right);
    let index = match index {
        Some(index) => index,
        None if first.len() == second.len() => return None,
        None => first.len().min(second.len()),
    };
    Some(Divergence { index: index as u64, first: first.get(index).cloned(), second: second.get(index).cloned() })
}

/// Runs `spec` twice; `None` if both runs agree, else where they part.
pub fn check_determinism(spec: &RunSpec) -> Result<Option<Divergence>, ScenarioError> {
    let first = run_guarded(spec, false)?;
    let second = run_guarded(spec, false)?;
    if agree(&first, &second) {
        return Ok(None);
    }
    let first = run_guarded(spec, true)?;
    let second = run_guarded(spec, true)?;
    let facts = |run: &GuardedRun| run.outcome.as_ref().and_then(|outcome| outcome.facts.clone()).unwrap_or_default();
    let divergence = first_divergence(&facts(&first), &facts(&second));
    // Runs that differ only in a panic message (or that diverge only once facts are kept)
    // still differ: report the end of the shorter trace.
    Ok(Some(divergence.unwrap_or(Divergence { index: facts(&first).len() as u64, first: None, second: None })))
}

fn agree(first: &GuardedRun, second: &GuardedRun) -> bool {
    let hash = |run: &GuardedRun| run.outcome.as_ref().map(|outcome| outcome.trace_hash);
    first.verdict == second.verdict && hash(first) == hash(second)
}
