//! Other graph shapes: the oracle follows records through chains and fan-outs, so exactly-
//! once is judged per keyed vertex, and a job with no keyed state has nothing to lose.

use crate::support::{load, run};
use snapsim::check::Invariant;
use snapsim::explore::run::Verdict;
use snapsim::plant::PlantedBug;
use snapsim::scenario::{EdgeSection, FaultSection, Scenario, VertexSection};

fn vertex(name: &str, kind: &str, parallelism: u32) -> VertexSection {
    let text = format!("name = \"{name}\"\nkind = \"{kind}\"\nparallelism = {parallelism}\nprocessing_us = 10");
    toml::from_str(&text).expect("a valid vertex")
}

fn edge(from: &str, to: &str, partitioning: &str) -> EdgeSection {
    toml::from_str(&format!("from = \"{from}\"\nto = \"{to}\"\npartitioning = \"{partitioning}\""))
        .expect("a valid edge")
}

/// Word count's settings and crashes with another graph.
fn with_graph(vertices: Vec<VertexSection>, edges: Vec<EdgeSection>, crashes: &[(&str, u64)]) -> Scenario {
    let mut scenario = load("sims/wordcount.toml");
    scenario.workload.records_per_source_subtask = 2_000;
    scenario.vertices = vertices;
    scenario.edges = edges;
    scenario.faults = crashes.iter().map(|&(task, at_ms)| FaultSection::crash_task(task, at_ms)).collect();
    scenario
}

fn chain() -> Scenario {
    with_graph(
        vec![
            vertex("source", "source", 2),
            vertex("count", "keyed-count", 3),
            vertex("recount", "keyed-count", 2),
            vertex("sink", "sink", 2),
        ],
        vec![edge("source", "count", "hash"), edge("count", "recount", "hash"), edge("recount", "sink", "forward")],
        &[("recount[1]", 15), ("count[0]", 33)],
    )
}

#[test]
fn a_chain_of_keyed_vertices_keeps_exactly_once_through_crashes() {
    for seed in 1..=4 {
        let outcome = run(&chain(), seed, &[]);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.verdict);
        assert!(outcome.stats.recoveries >= 1, "seed {seed}: the crashes happened");
    }
}

#[test]
fn a_chain_still_catches_a_planted_loss() {
    let outcome = run(&chain(), 1, &[PlantedBug::ForgetSourceRewind]);
    assert!(
        matches!(outcome.verdict, Verdict::Fail(ref violation) if violation.invariant == Invariant::RestoreEquivalence)
    );
}

#[test]
fn a_fan_out_to_two_keyed_vertices_judges_each_on_its_own() {
    let scenario = with_graph(
        vec![
            vertex("source", "source", 2),
            vertex("left", "keyed-count", 2),
            vertex("right", "keyed-count", 3),
            vertex("sink", "sink", 1),
        ],
        vec![
            edge("source", "left", "hash"),
            edge("source", "right", "hash"),
            edge("left", "sink", "rebalance"),
            edge("right", "sink", "rebalance"),
        ],
        &[("right[2]", 20)],
    );
    for seed in 1..=4 {
        let outcome = run(&scenario, seed, &[]);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.verdict);
    }
}

#[test]
fn a_job_without_keyed_state_passes_when_it_finishes() {
    let scenario = with_graph(
        vec![vertex("source", "source", 2), vertex("sink", "sink", 2)],
        vec![edge("source", "sink", "rebalance")],
        &[("sink[0]", 10)],
    );
    let outcome = run(&scenario, 1, &[]);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.records_applied, 0);
}

#[test]
fn a_join_holds_state_for_both_sides_and_restores_both() {
    let scenario = load("sims/join.toml");
    let outcome = crate::support::run_keeping_facts(&scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.recoveries, 2);
    let facts = outcome.facts.as_deref().expect("kept");
    // Tasks 0..3 are the sources; 3..6 the join. Its state keys are 2 × key + side.
    let join_sides: std::collections::BTreeSet<u64> = facts
        .iter()
        .filter_map(|timed| match timed.fact {
            snapsim::kernel::trace::Fact::RecordApplied { task, key, .. } if (3..6).contains(&task.0) => Some(key % 2),
            _ => None,
        })
        .collect();
    assert_eq!(join_sides, [0, 1].into(), "records applied to both the left and the right side");
    // Both sides' state must come back: skipping the restore counts records twice, and a
    // neighbour's state puts keys on the wrong subtask.
    for (plant, unguarded_catch) in [
        (PlantedBug::SkipKeyedStateRestore, Invariant::ExactlyOnceState),
        (PlantedBug::RestoreNeighbourState, Invariant::FinalAggregate),
    ] {
        let broken = run(&scenario, 1, &[plant]);
        assert!(matches!(broken.verdict, Verdict::Fail(ref found) if found.invariant == Invariant::RestoreEquivalence));
        let unguarded = crate::support::run_judged_without(&scenario, 1, &[plant], &[Invariant::RestoreEquivalence]);
        assert!(
            matches!(unguarded.verdict, Verdict::Fail(ref found) if found.invariant == unguarded_catch),
            "{plant}: {:?}",
            unguarded.verdict
        );
    }
}
