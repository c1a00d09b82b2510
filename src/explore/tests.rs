//! Exploration unit tests: run files round-trip (format 9, and format 8 still read) and
//! refuse damage; specs validate plans.

use super::run::{RunSpec, Verdict, run_spec};
use super::run_file::{RUN_FILE_VERSION, RunFile, RunFileError};
use crate::dataflow::graph::TaskRef;
use crate::faults::{Fault, FaultPlan, ScheduledFault};
use crate::kernel::ids::TaskId;
use crate::kernel::ids::VertexId;
use crate::kernel::rng::Seed;
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, TimedFact};
use crate::scenario::Scenario;

const WORDCOUNT: &str = include_str!("../../sims/wordcount.toml");

fn sample(keep_facts: bool) -> RunFile {
    let spec = RunSpec::new(Scenario::from_toml(WORDCOUNT).expect("parses"), Seed(3));
    let outcome = run_spec(&spec, keep_facts).expect("valid");
    let spec = RunSpec { fault_plan: Some(spec.materialised_plan().expect("valid")), ..spec };
    RunFile {
        snapsim_version: "test".to_string(),
        spec,
        verdict: outcome.verdict,
        trace_hash: Some(outcome.trace_hash),
        facts: outcome.facts,
        note: "a note".to_string(),
    }
}

#[test]
fn a_run_file_round_trips_with_and_without_facts() {
    for keep_facts in [false, true] {
        let file = sample(keep_facts);
        let bytes = file.encode();
        assert_eq!(bytes[8..12], RUN_FILE_VERSION.to_le_bytes(), "written in the current format");
        assert_eq!(RunFile::decode(&bytes), Ok(file));
    }
}

/// A run file with a few made-up facts: small enough to cut and flip at every byte.
fn small(facts: Option<Vec<TimedFact>>) -> RunFile {
    RunFile { facts, ..sample(false) }
}

fn made_up_facts(count: u32) -> Vec<TimedFact> {
    (0..count)
        .map(|task| TimedFact {
            time: SimTime::from_nanos(u64::from(task) * 1_000_003),
            fact: Fact::TaskCrashed { task: TaskId(task) },
        })
        .collect()
}

#[test]
fn kept_but_empty_facts_and_no_facts_stay_apart() {
    let none = small(None);
    let empty = small(Some(Vec::new()));
    assert_ne!(none.encode(), empty.encode());
    assert_eq!(RunFile::decode(&none.encode()).expect("reads").facts, None);
    assert_eq!(RunFile::decode(&empty.encode()).expect("reads").facts, Some(Vec::new()));
    let some = small(Some(made_up_facts(3)));
    assert_eq!(RunFile::decode(&some.encode()), Ok(some));
}

#[test]
fn a_format_8_regression_still_reads_and_rewrites_as_the_current_format() {
    let bytes = include_bytes!("../../tests/regressions/sink-finished-with-a-commit-to-retry.snaprun");
    assert_eq!(bytes[8..12], 8u32.to_le_bytes(), "the checked-in file is format 8");
    let file = RunFile::decode(bytes).expect("format 8 is still read");
    assert!(file.verdict.failure_class().is_some(), "it records a failure");
    assert!(!file.note.is_empty());
    let rewritten = file.encode();
    assert_eq!(rewritten[8..12], RUN_FILE_VERSION.to_le_bytes());
    assert_eq!(RunFile::decode(&rewritten), Ok(file));
    let mut cut = bytes.to_vec();
    cut.truncate(bytes.len() - 1);
    assert!(matches!(RunFile::decode(&cut), Err(RunFileError::Truncated { .. })));
    let mut older = bytes.to_vec();
    older[8..12].copy_from_slice(&7u32.to_le_bytes());
    assert_eq!(RunFile::decode(&older), Err(RunFileError::OlderVersion { found: 7 }));
}

#[test]
fn every_cut_of_a_file_is_refused_as_truncated() {
    for file in [small(None), small(Some(made_up_facts(5)))] {
        let bytes = file.encode();
        for length in 0..bytes.len() {
            let decoded = RunFile::decode(&bytes[..length]);
            if length < 8 {
                assert_eq!(decoded, Err(RunFileError::NotARunFile), "{length} bytes");
            } else {
                let found = length as u64;
                assert!(
                    matches!(decoded, Err(RunFileError::Truncated { expected, found: reported })
                        if reported == found && expected > found && expected <= bytes.len() as u64),
                    "{length} of {} bytes: {decoded:?}",
                    bytes.len()
                );
            }
        }
    }
}

#[test]
fn every_flipped_byte_of_a_file_is_refused() {
    let bytes = small(Some(made_up_facts(5))).encode();
    for index in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[index] ^= 0x10;
        let decoded = RunFile::decode(&flipped);
        match index {
            0..8 => assert_eq!(decoded, Err(RunFileError::NotARunFile), "byte {index}"),
            8..12 => assert!(decoded.is_err(), "byte {index}: {decoded:?}"),
            _ => assert!(
                matches!(decoded, Err(RunFileError::Corrupted | RunFileError::Truncated { .. })),
                "byte {index}: {decoded:?}"
            ),
        }
    }
    // Past the facts: the payload and the footer are damaged, never cut short.
    let without = small(None).encode();
    for index in 12 + 3 + 8..without.len() {
        let mut flipped = without.clone();
        flipped[index] ^= 0x01;
        assert_eq!(RunFile::decode(&flipped), Err(RunFileError::Corrupted), "byte {index}");
    }
}

#[test]
fn damaged_files_are_refused_with_the_reason() {
    let bytes = sample(false).encode();
    assert_eq!(RunFile::decode(b"hello world, not a run file"), Err(RunFileError::NotARunFile));
    assert_eq!(RunFile::decode(&[]), Err(RunFileError::NotARunFile));
    assert!(matches!(RunFile::decode(&bytes[..bytes.len() - 3]), Err(RunFileError::Truncated { .. })));
    assert!(matches!(RunFile::decode(&bytes[..15]), Err(RunFileError::Truncated { .. })));
    let mut flipped = bytes.clone();
    flipped[40] ^= 0x01;
    assert_eq!(RunFile::decode(&flipped), Err(RunFileError::Corrupted));
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(RunFile::decode(&longer), Err(RunFileError::Corrupted));
    let mut newer = bytes;
    newer[8..12].copy_from_slice(&(RUN_FILE_VERSION + 1).to_le_bytes());
    assert_eq!(RunFile::decode(&newer), Err(RunFileError::NewerVersion { found: RUN_FILE_VERSION + 1 }));
    let with_facts = sample(true).encode();
    let mut fact_flipped = with_facts.clone();
    fact_flipped[100] ^= 0x04;
    assert_eq!(RunFile::decode(&fact_flipped), Err(RunFileError::Corrupted), "a fact's frame damaged");
    let half = &with_facts[..with_facts.len() / 2];
    assert!(matches!(RunFile::decode(half), Err(RunFileError::Truncated { .. })), "cut among the facts");
}

#[test]
fn an_explicit_plan_replaces_the_scenarios_faults_and_is_validated() {
    let scenario = Scenario::from_toml(WORDCOUNT).expect("parses");
    let quiet = RunSpec { fault_plan: Some(FaultPlan::default()), ..RunSpec::new(scenario.clone(), Seed(1)) };
    let outcome = run_spec(&quiet, false).expect("valid");
    assert_eq!(outcome.verdict, Verdict::Pass);
    assert_eq!(outcome.stats.recoveries, 0);
    let missing = TaskRef { vertex: VertexId(1), subtask: 9 };
    let crash = ScheduledFault::at(SimTime::from_nanos(5), Fault::CrashTask { task: missing });
    let broken = RunSpec { fault_plan: Some(FaultPlan::new(vec![crash])), ..RunSpec::new(scenario, Seed(1)) };
    let error = run_spec(&broken, false).expect_err("count[9] does not exist");
    assert_eq!(error.field.as_deref(), Some("fault_plan[0]"));
    assert!(error.message.contains("count[9]"), "{}", error.message);
}

mod divergence {
    use crate::explore::determinism::{Divergence, first_divergence};
    use crate::kernel::ids::TaskId;
    use crate::kernel::time::SimTime;
    use crate::kernel::trace::{Fact, TimedFact};

    fn fact(task: u32) -> TimedFact {
        TimedFact { time: SimTime::from_nanos(u64::from(task)), fact: Fact::TaskCrashed { task: TaskId(task) } }
    }

    #[test]
    fn equal_traces_do_not_diverge() {
        assert_eq!(first_divergence(&[fact(1), fact(2)], &[fact(1), fact(2)]), None);
        assert_eq!(first_divergence(&[], &[]), None);
    }

    #[test]
    fn the_first_differing_fact_is_named_with_both_sides() {
        let found = first_divergence(&[fact(1), fact(2), fact(3)], &[fact(1), fact(9), fact(3)]);
        assert_eq!(found, Some(Divergence { index: 1, first: Some(fact(2)), second: Some(fact(9)) }));
    }

    #[test]
    fn a_trace_that_ends_early_diverges_where_it_ends() {
        let found = first_divergence(&[fact(1)], &[fact(1), fact(2)]);
        assert_eq!(found, Some(Divergence { index: 1, first: None, second: Some(fact(2)) }));
    }
}
