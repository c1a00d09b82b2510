//! Checkpoint settings end to end: triggers by record count, timeouts, concurrency, and the
//! facts that show what happened.

use crate::support::{compile, load, run};
use snapsim::explore::run::run_compiled;
use snapsim::harness::RunOptions;
use snapsim::kernel::rng::Seed;
use snapsim::kernel::trace::{AbortReason, Fact};

#[test]
fn a_record_count_trigger_checkpoints_without_the_timer() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.checkpoint.interval_ms = 1_000_000;
    scenario.checkpoint.every_source_records = 1_000;
    let outcome = run(&scenario, 1, &[]);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert!(outcome.stats.checkpoints_completed >= 3, "{:?}", outcome.stats);
}

#[test]
fn a_job_whose_checkpoints_all_expire_cannot_take_its_final_checkpoint_and_liveness_says_so() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.checkpoint.timeout_ms = 2;
    scenario.storage.write_latency_us_min = 3_000;
    scenario.storage.write_latency_us_max = 6_000;
    let compiled = compile(&scenario);
    let options = RunOptions { keep_facts: true, ..RunOptions::default() };
    let outcome = run_compiled(&compiled, Seed(1), &options);
    let failure = outcome.verdict.failure_class();
    assert_eq!(failure.as_deref(), Some("liveness"), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.checkpoints_completed, 0, "every write outlasts the timeout");
    let facts = outcome.facts.expect("kept");
    let expired = facts
        .iter()
        .filter(|timed| matches!(timed.fact, Fact::CheckpointAborted { reason: AbortReason::Expired, .. }))
        .count();
    assert!(expired >= 3, "expired {expired}");
    assert!(facts.iter().any(|timed| matches!(timed.fact, Fact::TaskRestored { checkpoint: None, .. })));
    assert!(facts.iter().any(|timed| matches!(timed.fact, Fact::DataEnded { .. })), "the data did end");
    assert!(
        !facts.iter().any(|timed| matches!(timed.fact, Fact::TaskFinished { .. })),
        "no task finishes without a completed checkpoint after its data ended"
    );
}

#[test]
fn several_concurrent_checkpoints_complete_in_order() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.checkpoint.interval_ms = 2;
    scenario.checkpoint.max_concurrent = 3;
    let options = RunOptions { keep_facts: true, ..RunOptions::default() };
    let outcome = run_compiled(&compile(&scenario), Seed(2), &options);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let completed: Vec<u64> = outcome
        .facts
        .expect("kept")
        .iter()
        .filter_map(|timed| match timed.fact {
            Fact::CheckpointCompleted { checkpoint } => Some(checkpoint.0),
            _ => None,
        })
        .collect();
    assert!(completed.len() >= 10, "{completed:?}");
    assert!(completed.windows(2).all(|pair| pair[0] < pair[1]), "completed ids rise: {completed:?}");
}

#[test]
fn alignment_blocks_inputs_and_unblocks_them() {
    let options = RunOptions { keep_facts: true, ..RunOptions::default() };
    let outcome = run_compiled(&compile(&load("sims/wordcount.toml")), Seed(1), &options);
    let facts = outcome.facts.expect("kept");
    let blocked = facts.iter().filter(|timed| matches!(timed.fact, Fact::InputBlocked { .. })).count();
    let unblocked = facts.iter().filter(|timed| matches!(timed.fact, Fact::InputsUnblocked { .. })).count();
    assert!(blocked > 0, "two-input count tasks align");
    assert!(unblocked > 0);
}

#[test]
fn keeping_facts_changes_nothing_but_memory() {
    let compiled = compile(&load("sims/wordcount.toml"));
    let light = run_compiled(&compiled, Seed(4), &RunOptions::default());
    let heavy = run_compiled(&compiled, Seed(4), &RunOptions { keep_facts: true, ..RunOptions::default() });
    assert_eq!(light.trace_hash, heavy.trace_hash);
    assert_eq!(heavy.facts.as_ref().map(Vec::len), Some(heavy.fact_count as usize));
    let mut trace = snapsim::kernel::trace::Trace::new(false);
    for timed in heavy.facts.as_ref().expect("kept") {
        trace.record(timed.time, &timed.fact);
    }
    assert_eq!(trace.hash(), heavy.trace_hash, "the kept facts rehash to the run's hash");
}
