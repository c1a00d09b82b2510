//! Guarded runs: a panic inside a simulated run is caught and reported as a finding of that
//! seed, so a sweep goes on.
//!
//! `install_quiet_panic_hook` (called once by the command line before a sweep) keeps panics
//! from printing over the progress display and remembers the last panic's message and
//! location per thread, which `run_guarded` then reports. Without the hook, the message
//! still comes from the panic payload.

use super::run::{Outcome, RunSpec, Verdict, run_compiled};
use crate::harness::RunOptions;
use crate::scenario::ScenarioError;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A run that may have panicked.
#[derive(Debug)]
pub struct GuardedRun {
    /// Pass, a violation, or the panic.
    pub verdict: Verdict,
    /// The full outcome, unless the run panicked.
    pub outcome: Option<Outcome>,
}

/// Replaces the process's panic hook with one that records the message and location of
/// each panic for `run_guarded` instead of printing it.
pub fn install_quiet_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|at| format!(" at {}:{}", at.file(), at.line())).unwrap_or_default();
        let message = payload_message(info.payload());
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(format!("{message}{location}")));
    }));
}

/// Runs `spec`, turning a panic into `Verdict::Panicked`. A spec that does not validate is
/// an error, not a finding.
pub fn run_guarded(spec: &RunSpec, keep_facts: bool) -> Result<GuardedRun, ScenarioError> {
    run_guarded_with(spec, RunOptions { keep_facts, ..RunOptions::default() })
}

/// Like `run_guarded`, under `options` (facts kept or streamed to a sink); the plants are
/// always the spec's.
pub fn run_guarded_with(spec: &RunSpec, options: RunOptions) -> Result<GuardedRun, ScenarioError> {
    let compiled = spec.compile()?;
    let options = RunOptions { plants: spec.plants.clone(), safety_only: spec.safety_only, ..options };
    LAST_PANIC.with(|last| last.borrow_mut().take());
    match catch_unwind(AssertUnwindSafe(|| run_compiled(&compiled, spec.seed, &options))) {
        Ok(outcome) => Ok(GuardedRun { verdict: outcome.verdict.clone(), outcome: Some(outcome) }),
        Err(payload) => {
            let recorded = LAST_PANIC.with(|last| last.borrow_mut().take());
            let message = recorded.unwrap_or_else(|| payload_message(payload.as_ref()));
            Ok(GuardedRun { verdict: Verdict::Panicked { message }, outcome: None })
        }
    }
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}
