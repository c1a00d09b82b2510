//! Exploration unit tests: run files round-trip and refuse damage; specs validate plans.

use super::run::{RunSpec, Verdict, run_spec};
use super::run_file::{RUN_FILE_VERSION, RunFile, RunFileError};
use crate::dataflow::graph::TaskRef;
use crate::faults::{Fault, FaultPlan, ScheduledFault};
use crate::kernel::ids::VertexId;
use crate::kernel::rng::Seed;
use crate::kernel::time::SimTime;
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
        assert_eq!(RunFile::decode(&file.encode()), Ok(file));
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
