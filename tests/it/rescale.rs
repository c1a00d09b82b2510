//! Rescaling end to end (docs/state.md): the shipped scenario redeploys a keyed count, the
//! log's readers and a window with new parallelism and passes under the aligned and
//! unaligned protocols and swarm faults; every kind of state moves as it should — key
//! groups to their owners, readers' partitions round robin, in-flight records to their
//! key's new owner — including a restore of the old stage's checkpoint after the rescale.
//! (The planted off-by-one routing is in checkers.rs.)

use crate::support::{assert_swarm_passes, load, run, run_keeping_facts};
use snapsim::dataflow::graph::{Partitioning, VertexKind};
use snapsim::explore::run::RunSpec;
use snapsim::explore::run_file::RunFile;
use snapsim::kernel::rng::Seed;
use snapsim::kernel::trace::Fact;
use snapsim::plant::PlantedBug;
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::Scenario;
use snapsim::testing::ScenarioBuilder;

fn rescale() -> Scenario {
    load("sims/rescale.toml")
}

#[test]
fn the_shipped_rescales_move_key_groups_and_partitions_and_keep_exactly_once() {
    let outcome = run_keeping_facts(&rescale(), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.rescales, 4);
    let facts = outcome.facts.expect("kept");
    let count = |wanted: fn(&Fact) -> bool| facts.iter().filter(|timed| wanted(&timed.fact)).count();
    assert_eq!(count(|fact| matches!(fact, Fact::JobRescaled { .. })), 4);
    assert!(count(|fact| matches!(fact, Fact::KeyGroupsRestored { .. })) >= 4 + 3 + 3);
    assert!(count(|fact| matches!(fact, Fact::KeyRestored { .. })) > 100, "keys moved with their groups");
    // Three new readers, at each restore that crosses the readers' rescale.
    let shares = count(|fact| matches!(fact, Fact::SplitsRedistributed { .. }));
    assert!(shares >= 3 && shares % 3 == 0, "{shares}");
}

#[test]
fn a_crash_before_the_new_stage_checkpoints_restores_the_old_stage_again() {
    // count[3] exists only after the first rescale (35 ms); it crashes at 38 ms, before the
    // new stage completes a checkpoint, so the job restores the pre-rescale one once more.
    let outcome = run_keeping_facts(&rescale(), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let facts = outcome.facts.expect("kept");
    let rescaled_at = facts.iter().position(|timed| matches!(timed.fact, Fact::JobRescaled { stage: 1 })).unwrap();
    let restarts: Vec<_> = facts[rescaled_at..]
        .iter()
        .filter_map(|timed| match timed.fact {
            Fact::JobRestarted { checkpoint, .. } => Some(checkpoint),
            _ => None,
        })
        .take(2)
        .collect();
    assert_eq!(restarts.len(), 2);
    assert_eq!(restarts[0], restarts[1], "both restarts load the checkpoint taken before the rescale");
}

#[test]
fn swarm_faults_keep_rescales_exactly_once_under_aligned_and_unaligned_protocols() {
    assert_swarm_passes(&rescale(), &[ProtocolKind::Aligned, ProtocolKind::Unaligned], 0..6);
}

#[test]
fn a_rescale_before_any_checkpoint_deploys_the_new_stage_empty() {
    let scenario = ScenarioBuilder::new("early")
        .records_per_source_subtask(500)
        .keys(32)
        .source("source", 2)
        .keyed_count("count", 2)
        .sink("sink", 2)
        .edge("source", "count", Partitioning::Hash)
        .edge("count", "sink", Partitioning::Hash)
        .checkpoint_interval_ms(20)
        .rescale(1, "count", 5)
        .build();
    let outcome = run(&scenario, 1, &[]);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.rescales, 1);
}

#[test]
fn a_window_fed_by_a_classic_source_fires_on_its_watermarks() {
    // Classic sources sent no watermarks once, so such a window never fired.
    let scenario = ScenarioBuilder::new("window")
        .records_per_source_subtask(300)
        .keys(8)
        .source("source", 2)
        .tumbling_window("window", 2, 20)
        .vertex("sink", VertexKind::TwoPhaseCommitSink, 2)
        .edge("source", "window", Partitioning::Hash)
        .edge("window", "sink", Partitioning::Forward)
        .checkpoint_interval_ms(5)
        .build();
    let outcome = run(&scenario, 1, &[]);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
}

#[test]
fn a_run_file_keeps_a_fault_on_a_subtask_only_a_rescale_deploys() {
    // sims/rescale.toml crashes count[3], which exists only after count is rescaled to 4:
    // the materialised plan must validate against every stage, or no run file is written.
    let spec = RunSpec { plants: vec![PlantedBug::RescaleKeyGroupsOffByOne], ..RunSpec::new(rescale(), Seed(1)) };
    let file = RunFile::record(&spec, "a fault on a rescaled subtask").expect("the plan validates");
    assert_eq!(file.verdict.failure_class().as_deref(), Some("key-ownership"));
    let decoded = RunFile::decode(&file.encode()).expect("it reads back");
    let replayed = snapsim::explore::run::run_spec(&decoded.spec, false).expect("a valid spec");
    assert_eq!(replayed.trace_hash, file.trace_hash.expect("a finished run"));
}
