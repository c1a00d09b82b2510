//! Dataflow unit tests: operators round-trip their state, sources replay, graphs validate
//! and expand, routing follows the partitioning.

use super::graph::{EdgeSpec, GraphPart, JobGraph, Partitioning, VertexKind, VertexSpec};
use super::join::{KeyedJoin, side_key};
use super::keyed::{KeyedCount, default_max_parallelism, key_group_of, subtask_of_key_group};
use super::operator::Operator;
use super::record::Record;
use super::sink::RecordingSink;
use super::source::{KeyDistribution, RecordGenerator, ReplayableSource, WorkloadSpec};
use crate::kernel::ids::{RecordId, TaskId, VertexId};
use crate::kernel::rng::Seed;
use crate::kernel::time::SimDuration;

const SPEC: WorkloadSpec = WorkloadSpec {
    records_per_source_subtask: 50,
    key_count: 10,
    key_distribution: KeyDistribution::Hot { hot_keys: 2, hot_percent: 60 },
    value_max: 9,
};

fn source(task: u32) -> ReplayableSource {
    ReplayableSource::new(
        RecordGenerator::for_source_task(Seed(4), SPEC, TaskId(task)),
        SPEC.records_per_source_subtask,
    )
}

#[test]
fn a_rewound_source_reads_exactly_the_same_records() {
    let mut first = source(0);
    let records: Vec<Record> = std::iter::from_fn(|| first.read_next()).collect();
    assert_eq!(records.len(), 50);
    assert!(first.is_exhausted());
    let mut state = Vec::new();
    let mut rewound = source(0);
    rewound.read_next();
    rewound.read_next();
    rewound.snapshot(&mut state);
    rewound.restore(&state).expect("a source's own state restores");
    for _ in 0..20 {
        rewound.read_next();
    }
    let mut at_twenty = Vec::new();
    rewound.snapshot(&mut at_twenty);
    let mut again = source(0);
    again.restore(&at_twenty).expect("restores");
    let replayed: Vec<Record> = std::iter::from_fn(|| again.read_next()).collect();
    assert_eq!(replayed, records[22..]);
}

#[test]
fn source_records_respect_the_workload_and_differ_by_subtask() {
    let mut zero = source(0);
    let mut one = source(1);
    let from_zero: Vec<Record> = std::iter::from_fn(|| zero.read_next()).collect();
    let from_one: Vec<Record> = std::iter::from_fn(|| one.read_next()).collect();
    assert!(from_zero.iter().all(|record| record.key < 10 && (0..=9).contains(&record.value)));
    let hot = from_zero.iter().filter(|record| record.key < 2).count();
    assert!(hot >= 20, "60% hot traffic should put well over 20 of 50 records on keys 0..2, got {hot}");
    assert_ne!(from_zero.iter().map(|r| r.key).collect::<Vec<_>>(), from_one.iter().map(|r| r.key).collect::<Vec<_>>());
    assert_eq!(from_one[3].id, RecordId { split: crate::kernel::ids::SplitId::of_task(TaskId(1)), offset: 3 });
}

#[test]
fn a_source_refuses_state_it_did_not_write() {
    let mut source = source(0);
    assert!(source.restore(&[1, 2, 3]).is_err(), "not a whole word");
    assert!(source.restore(&51u64.to_le_bytes()).is_err(), "beyond the split");
    assert!(source.restore(&[0; 16]).is_err(), "two words");
}

fn record(offset: u64, key: u64, value: i64) -> Record {
    Record {
        id: RecordId { split: crate::kernel::ids::SplitId::of_task(TaskId(0)), offset },
        key,
        value,
        event_time: 0,
    }
}

#[test]
fn keyed_count_counts_emits_and_round_trips_its_state() {
    let mut count = KeyedCount::new(128);
    let mut out = Vec::new();
    for (offset, key) in [(0, 3), (1, 3), (2, 0)] {
        count.process(&record(offset, key, 5), &mut out);
    }
    assert_eq!(out.iter().map(|r| (r.key, r.value)).collect::<Vec<_>>(), [(3, 1), (3, 2), (0, 1)]);
    let mut state = Vec::new();
    count.snapshot(&mut state);
    let mut restored = KeyedCount::new(128);
    restored.restore(&state).expect("round trip");
    assert_eq!(restored.nonzero_totals().collect::<Vec<_>>(), count.nonzero_totals().collect::<Vec<_>>());
    let totals: Vec<_> = restored.nonzero_totals().collect();
    assert_eq!(totals[1].1.count, 2);
    assert_eq!(totals[1].1.sum, 10);
    restored.reset();
    assert_eq!(restored.nonzero_totals().count(), 0);
    assert!(restored.restore(&state[..state.len() - 1]).is_err());
}

#[test]
fn the_sink_keeps_the_latest_value_and_round_trips() {
    let mut sink = RecordingSink::new();
    let mut out = Vec::new();
    sink.process(&record(0, 7, 1), &mut out);
    sink.process(&record(1, 7, 2), &mut out);
    assert!(out.is_empty(), "a sink emits nothing");
    let mut state = Vec::new();
    sink.snapshot(&mut state);
    let mut restored = RecordingSink::new();
    restored.restore(&state).expect("round trip");
    assert_eq!(restored.latest(7), Some(2));
    assert_eq!(restored.received(), 2);
    assert!(restored.restore(&[]).is_err(), "a sink state has a header row");
}

#[test]
fn key_groups_follow_flinks_rules() {
    assert_eq!(default_max_parallelism(1), 128);
    assert_eq!(default_max_parallelism(100), 256);
    assert_eq!(default_max_parallelism(30_000), 32_768);
    for key in 0..1_000 {
        let group = key_group_of(key, 128);
        assert!(group < 128);
        assert!(subtask_of_key_group(group, 128, 3) < 3);
    }
    assert_eq!(subtask_of_key_group(0, 128, 3), 0);
    assert_eq!(subtask_of_key_group(127, 128, 3), 2);
}

pub(super) fn vertex(name: &str, kind: VertexKind, parallelism: u32) -> VertexSpec {
    VertexSpec {
        name: name.to_string(),
        kind,
        parallelism,
        max_parallelism: 128,
        processing: SimDuration::from_micros(1),
        window_us: 0,
    }
}

pub(super) fn edge(from: usize, to: usize, partitioning: Partitioning) -> EdgeSpec {
    EdgeSpec { from: VertexId::from_index(from), to: VertexId::from_index(to), partitioning }
}

fn wordcount_graph() -> JobGraph {
    JobGraph {
        vertices: vec![
            vertex("source", VertexKind::Source, 2),
            vertex("count", VertexKind::KeyedCount, 3),
            vertex("sink", VertexKind::Sink, 3),
        ],
        edges: vec![edge(0, 1, Partitioning::Hash), edge(1, 2, Partitioning::Forward)],
    }
}

#[test]
fn expansion_makes_all_to_all_and_one_to_one_channels() {
    let graph = wordcount_graph();
    graph.validate().expect("valid");
    let topology = graph.expand();
    assert_eq!(topology.tasks.len(), 8);
    assert_eq!(topology.channels.len(), 2 * 3 + 3);
    assert_eq!(topology.tasks[2].inputs.len(), 2, "each count subtask hears both sources");
    assert_eq!(topology.tasks[5].inputs.len(), 1, "each sink hears its own count subtask");
    for (index, channel) in topology.channels.iter().enumerate() {
        let receiver = &topology.tasks[channel.receiver.index()];
        assert_eq!(receiver.inputs[channel.receiver_input as usize].index(), index);
    }
}

#[test]
fn routing_follows_the_partitioning() {
    let mut graph = wordcount_graph();
    graph.vertices.push(vertex("audit", VertexKind::Sink, 2));
    graph.edges.push(edge(1, 3, Partitioning::Rebalance));
    graph.edges.push(edge(0, 3, Partitioning::Broadcast));
    let topology = graph.expand();
    let targets = |task: usize, gate: usize, key: u64, cursor: &mut u32| {
        let mut sent = Vec::new();
        topology.tasks[task].outputs[gate].route(key, cursor, |channel| sent.push(channel));
        sent
    };
    let mut cursor = 0;
    assert_eq!(
        targets(0, 0, 42, &mut cursor),
        targets(1, 0, 42, &mut cursor).iter().map(|c| c.0 - 3).map(crate::kernel::ids::ChannelId).collect::<Vec<_>>()
    );
    assert_eq!(targets(2, 0, 9, &mut cursor).len(), 1, "forward sends to one channel");
    let first = targets(2, 1, 9, &mut cursor);
    let second = targets(2, 1, 9, &mut cursor);
    assert_ne!(first, second, "rebalance moves on");
    assert_eq!(targets(0, 1, 9, &mut cursor).len(), 2, "broadcast reaches every audit subtask");
}

#[test]
fn validation_names_the_broken_part() {
    let mut zero = wordcount_graph();
    zero.vertices[1].parallelism = 0;
    assert_eq!(zero.validate().map_err(|error| error.part), Err(GraphPart::Vertex(1)));
    let mut cycle = wordcount_graph();
    cycle.edges.push(edge(2, 1, Partitioning::Hash));
    assert_eq!(cycle.validate().map_err(|error| error.part), Err(GraphPart::Edge(2)), "the back edge");
    let mut forward = wordcount_graph();
    forward.vertices[2].parallelism = 2;
    let error = forward.validate().expect_err("forward needs equal parallelism");
    assert_eq!(error.part, GraphPart::Edge(1));
    assert!(error.message.contains("forward"), "{}", error.message);
    let mut unkeyed = wordcount_graph();
    unkeyed.edges[0].partitioning = Partitioning::Rebalance;
    assert_eq!(unkeyed.validate().map_err(|error| error.part), Err(GraphPart::Edge(0)));
}

#[test]
fn a_join_keeps_each_side_apart_forwards_everything_and_round_trips() {
    let mut join = KeyedJoin::new(128);
    let mut out = Vec::new();
    join.process_side(0, &record(0, 3, 5), &mut out);
    join.process_side(1, &record(1, 3, 7), &mut out);
    join.process_side(1, &record(2, 3, 1), &mut out);
    assert_eq!(out, [record(0, 3, 5), record(1, 3, 7), record(2, 3, 1)], "forwarded unchanged");
    let sides: Vec<(u64, u64, i64)> = join.nonzero_totals().map(|(key, held)| (key, held.count, held.sum)).collect();
    assert_eq!(sides, [(side_key(3, 0), 1, 5), (side_key(3, 1), 2, 8)]);
    let mut state = Vec::new();
    join.snapshot(&mut state);
    let mut restored = KeyedJoin::new(128);
    restored.restore(&state).expect("round trip");
    assert_eq!(restored.nonzero_totals().collect::<Vec<_>>(), join.nonzero_totals().collect::<Vec<_>>());
}

#[test]
fn a_join_needs_two_hash_inputs_from_two_vertices() {
    let join_graph = |inputs: Vec<EdgeSpec>| JobGraph {
        vertices: vec![
            vertex("left", VertexKind::Source, 2),
            vertex("right", VertexKind::Source, 1),
            vertex("join", VertexKind::KeyedJoin, 3),
        ],
        edges: inputs,
    };
    let valid = join_graph(vec![edge(0, 2, Partitioning::Hash), edge(1, 2, Partitioning::Hash)]);
    valid.validate().expect("two hash inputs from two vertices");
    assert_eq!(valid.expand().tasks[3].inputs.len(), 3, "left's two subtasks, then right's one");
    let one = join_graph(vec![edge(0, 2, Partitioning::Hash)]);
    assert!(one.validate().expect_err("one input").message.contains("exactly two input edges"));
    let same = join_graph(vec![edge(0, 2, Partitioning::Hash), edge(0, 2, Partitioning::Hash)]);
    assert!(same.validate().expect_err("one vertex twice").message.contains("two different vertices"));
    let rebalanced = join_graph(vec![edge(0, 2, Partitioning::Hash), edge(1, 2, Partitioning::Rebalance)]);
    assert_eq!(rebalanced.validate().map_err(|error| error.part), Err(GraphPart::Edge(1)));
}

mod regions {
    use crate::dataflow::regions::Regions;
    use crate::kernel::ids::TaskId;

    fn task(index: usize) -> TaskId {
        TaskId::from_index(index)
    }

    #[test]
    fn subtasks_joined_by_channels_share_a_region_numbered_by_its_lowest_task() {
        // 0→3, 1→4 (two forward chains), 2 alone, 5→1 joins 5 to the second chain.
        let regions = Regions::of(6, [(task(0), task(3)), (task(1), task(4)), (task(5), task(1))]);
        assert_eq!(regions.count(), 3);
        assert_eq!(regions.members(0), &[task(0), task(3)]);
        assert_eq!(regions.members(1), &[task(1), task(4), task(5)]);
        assert_eq!(regions.members(2), &[task(2)]);
        assert_eq!(regions.of_task(task(5)), 1);
    }

    #[test]
    fn an_all_to_all_exchange_makes_one_region() {
        let ends = (0..2).flat_map(|sender| (2..5).map(move |receiver| (task(sender), task(receiver))));
        let regions = Regions::of(5, ends);
        assert_eq!(regions.count(), 1);
        assert_eq!(regions.members(0).len(), 5);
    }
}
