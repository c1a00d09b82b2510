//! Staging unit tests: the stages of a rescaled job number their subtasks and channels in
//! run-global ids (kept subtasks and channels keep theirs, new ones come after every earlier
//! one), pad every stage's topology to the whole run, and give each stage regions over
//! exactly its running subtasks.

use super::graph::{JobGraph, Partitioning, Topology, VertexKind, VertexSpec};
use super::staging::{Incarnation, Rescale, Staging};
use super::tests::edge;
use crate::kernel::ids::{ChannelId, TaskId, VertexId};
use crate::kernel::time::{SimDuration, SimTime};

/// The shared test vertex, with room for 8 subtasks (rescales here stay within it).
fn vertex(name: &str, kind: VertexKind, parallelism: u32) -> VertexSpec {
    VertexSpec { max_parallelism: 8, ..super::tests::vertex(name, kind, parallelism) }
}

fn tasks(ids: &[u32]) -> Vec<TaskId> {
    ids.iter().copied().map(TaskId).collect()
}

fn rescale(at_ms: u64, vertex: usize, parallelism: u32) -> Rescale {
    Rescale {
        at: SimTime::ZERO.after(SimDuration::from_millis(at_ms)),
        vertex: VertexId::from_index(vertex),
        parallelism,
        from_savepoint: false,
    }
}

/// source(2) -hash-> count(2) -hash-> sink(2), and source -rebalance-> sink: the last
/// edge's channels join subtasks a rescale of `count` keeps.
///
/// Stage 0 numbers tasks source 0, 1; count 2, 3; sink 4, 5 and channels source→count
/// 0..=3, count→sink 4..=7, source→sink 8..=11.
fn bypass_graph() -> JobGraph {
    let graph = JobGraph {
        vertices: vec![
            vertex("source", VertexKind::Source, 2),
            vertex("count", VertexKind::KeyedCount, 2),
            vertex("sink", VertexKind::Sink, 2),
        ],
        edges: vec![
            edge(0, 1, Partitioning::Hash),
            edge(1, 2, Partitioning::Hash),
            edge(0, 2, Partitioning::Rebalance),
        ],
    };
    graph.validate().expect("the bypass graph is valid");
    graph
}

/// Two independent pipelines, so a stage has two regions: source(2) -hash-> count(2)
/// -hash-> sink(2) (tasks 0..=5) and other(1) -hash-> tally(1) -hash-> out(1) (tasks 6..=8).
fn two_pipelines() -> JobGraph {
    let graph = JobGraph {
        vertices: vec![
            vertex("source", VertexKind::Source, 2),
            vertex("count", VertexKind::KeyedCount, 2),
            vertex("sink", VertexKind::Sink, 2),
            vertex("other", VertexKind::Source, 1),
            vertex("tally", VertexKind::KeyedCount, 1),
            vertex("out", VertexKind::Sink, 1),
        ],
        edges: vec![
            edge(0, 1, Partitioning::Hash),
            edge(1, 2, Partitioning::Hash),
            edge(3, 4, Partitioning::Hash),
            edge(4, 5, Partitioning::Hash),
        ],
    };
    graph.validate().expect("two pipelines are valid");
    graph
}

/// Every channel a stage uses is wired consistently: the receiver lists it at its
/// `receiver_input`, the sender has it in one of its gates, and both ends run.
fn assert_wired_consistently(staging: &Staging, stage: usize) {
    let Topology { tasks, channels } = &staging.stages[stage].topology;
    for (index, channel) in channels.iter().enumerate().filter(|(_, channel)| channel.in_use()) {
        let id = ChannelId::from_index(index);
        assert_eq!(tasks[channel.receiver.index()].inputs[channel.receiver_input as usize], id, "stage {stage}");
        let sent = tasks[channel.sender.index()].outputs.iter().any(|gate| gate.channels.contains(&id));
        assert!(sent, "stage {stage}: {id} is not in any gate of its sender {}", channel.sender);
        assert!(staging.stages[stage].runs(channel.sender) && staging.stages[stage].runs(channel.receiver));
        assert_eq!(staging.channel_ends[index], (channel.sender, channel.receiver), "stage {stage}: {id}'s ends");
    }
}

#[test]
fn without_rescales_stage_zero_is_exactly_the_expansion_and_every_task_runs() {
    let graph = JobGraph {
        vertices: vec![
            vertex("source", VertexKind::Source, 2),
            vertex("count", VertexKind::KeyedCount, 3),
            vertex("sink", VertexKind::Sink, 3),
        ],
        edges: vec![edge(0, 1, Partitioning::Hash), edge(1, 2, Partitioning::Forward)],
    };
    graph.validate().expect("valid");
    let staging = Staging::new(&graph, &[]);
    let expanded = graph.expand();
    assert_eq!(staging.stages.len(), 1);
    let stage = &staging.stages[0];
    assert_eq!(stage.topology, expanded);
    assert_eq!(stage.graph, graph);
    assert_eq!(stage.active, tasks(&[0, 1, 2, 3, 4, 5, 6, 7]));
    assert!(stage.active.iter().all(|&task| stage.runs(task)));
    assert!(stage.topology.channels.iter().all(|channel| channel.in_use()));
    assert_eq!(stage.regions, expanded.regions(), "regions are those of the plain expansion");
    assert_eq!((staging.task_count(), staging.channel_count()), (8, expanded.channels.len()));
    let incarnations: Vec<Incarnation> = expanded
        .tasks
        .iter()
        .map(|spec| Incarnation {
            vertex: spec.vertex,
            subtask: spec.subtask,
            parallelism: graph.vertices[spec.vertex.index()].parallelism,
        })
        .collect();
    assert_eq!(staging.tasks, incarnations);
    let ends: Vec<(TaskId, TaskId)> =
        expanded.channels.iter().map(|channel| (channel.sender, channel.receiver)).collect();
    assert_eq!(staging.channel_ends, ends);
}

#[test]
fn a_rescale_keeps_other_vertices_ids_and_numbers_the_new_subtasks_after_every_earlier_task() {
    let graph = bypass_graph();
    let staging = Staging::new(&graph, &[rescale(10, 1, 3)]);
    assert_eq!(staging.stages.len(), 2);
    let (first, expanded) = (&staging.stages[0].topology, graph.expand());
    assert_eq!(first.tasks[..6], expanded.tasks[..], "stage 0 begins with the plain expansion");
    assert_eq!(first.channels[..12], expanded.channels[..]);
    assert!(first.channels[12..].iter().all(|channel| !channel.in_use()), "later stages' channels are padding");
    assert!(first.tasks[6..].iter().all(|spec| spec.inputs.is_empty() && spec.outputs.is_empty()));
    assert_eq!(staging.task_count(), 9, "six tasks of stage 0 and three new count subtasks");
    let stage = &staging.stages[1];
    assert_eq!(stage.graph.vertices[1].parallelism, 3);
    assert_eq!(stage.active, tasks(&[0, 1, 4, 5, 6, 7, 8]));
    assert!(!stage.runs(TaskId(2)) && !stage.runs(TaskId(3)), "the old count subtasks do not run in stage 1");
    for (id, subtask) in [(6, 0), (7, 1), (8, 2)] {
        let count = VertexId::from_index(1);
        assert_eq!(staging.tasks[id], Incarnation { vertex: count, subtask, parallelism: 3 }, "task {id}");
    }
    assert_eq!(staging.tasks[3], Incarnation { vertex: VertexId::from_index(1), subtask: 1, parallelism: 2 });
    for (id, vertex, subtask) in [(0, 0, 0), (1, 0, 1), (4, 2, 0), (5, 2, 1)] {
        assert_eq!(
            staging.tasks[id],
            Incarnation { vertex: VertexId::from_index(vertex), subtask, parallelism: 2 },
            "kept task {id}"
        );
        let spec = &stage.topology.tasks[id];
        assert_eq!((spec.vertex.index(), spec.subtask), (vertex, subtask), "task {id}'s slot in stage 1");
    }
}

#[test]
fn a_rescale_keeps_the_channels_between_kept_subtasks_and_makes_new_ones_for_the_rest() {
    let graph = bypass_graph();
    let staging = Staging::new(&graph, &[rescale(10, 1, 3)]);
    // Stage 1 adds source→count (2 × 3) and count→sink (3 × 2) channels; source→sink stays.
    assert_eq!(staging.channel_count(), 12 + 6 + 6);
    let stage = &staging.stages[1];
    assert_eq!(stage.topology.tasks.len(), staging.task_count(), "a slot for every task of the run");
    assert_eq!(stage.topology.channels.len(), staging.channel_count(), "a slot for every channel of the run");
    let in_use: Vec<usize> =
        (0..staging.channel_count()).filter(|&index| stage.topology.channels[index].in_use()).collect();
    let expected: Vec<usize> = (8..=11).chain(12..24).collect();
    assert_eq!(in_use, expected, "the bypass channels 8..=11 are kept, channels 0..=7 retired");
    for index in 8..=11 {
        let (old, new) = (staging.stages[0].topology.channels[index], stage.topology.channels[index]);
        assert_eq!((old.sender, old.receiver), (new.sender, new.receiver), "channel {index} joins the same tasks");
    }
    let new_senders: Vec<(TaskId, TaskId)> = staging.channel_ends[12..].to_vec();
    let source_to_count: Vec<(u32, u32)> = vec![(0, 6), (0, 7), (0, 8), (1, 6), (1, 7), (1, 8)];
    let count_to_sink: Vec<(u32, u32)> = vec![(6, 4), (6, 5), (7, 4), (7, 5), (8, 4), (8, 5)];
    let wanted: Vec<(TaskId, TaskId)> =
        source_to_count.into_iter().chain(count_to_sink).map(|(from, to)| (TaskId(from), TaskId(to))).collect();
    assert_eq!(new_senders, wanted);
    // The sink's inputs in stage 1: from the new count subtasks, then the kept bypass.
    assert_eq!(stage.topology.tasks[4].inputs, [18, 20, 22, 8, 10].map(ChannelId));
    for old in [2, 3] {
        let spec = &stage.topology.tasks[old];
        assert!(spec.inputs.is_empty() && spec.outputs.is_empty(), "retired task {old} is wired to nothing");
    }
    assert_wired_consistently(&staging, 0);
    assert_wired_consistently(&staging, 1);
}

#[test]
fn rescales_given_out_of_order_are_staged_in_time_order_and_never_reuse_retired_ids() {
    let graph = bypass_graph();
    // Listed late first: count goes 2 -> 3 at 10 ms, then 3 -> 1 at 20 ms.
    let staging = Staging::new(&graph, &[rescale(20, 1, 1), rescale(10, 1, 3)]);
    assert_eq!(staging.stages.len(), 3);
    let parallelisms: Vec<u32> = staging.stages.iter().map(|stage| stage.graph.vertices[1].parallelism).collect();
    assert_eq!(parallelisms, [2, 3, 1]);
    let count = VertexId::from_index(1);
    assert_eq!(staging.subtasks_of(2, count), tasks(&[9]), "numbered after the six first and three second");
    assert_eq!(staging.stages[2].active, tasks(&[0, 1, 4, 5, 9]));
    let bypass_in_use = (8..=11).all(|index| staging.stages[2].topology.channels[index].in_use());
    assert!(bypass_in_use, "the bypass keeps its channels through every stage");
    for stage in 0..3 {
        assert_wired_consistently(&staging, stage);
    }
}

#[test]
fn a_rescale_to_the_same_parallelism_keeps_every_id() {
    let graph = bypass_graph();
    let staging = Staging::new(&graph, &[rescale(10, 1, 2)]);
    assert_eq!(staging.stages.len(), 2);
    assert_eq!((staging.task_count(), staging.channel_count()), (6, 12));
    assert_eq!(staging.stages[1].topology, staging.stages[0].topology);
    assert_eq!(staging.stages[1].active, staging.stages[0].active);
}

#[test]
fn subtasks_of_lists_the_running_subtasks_of_a_vertex_in_subtask_order() {
    let graph = bypass_graph();
    let staging = Staging::new(&graph, &[rescale(10, 1, 3)]);
    let [source, count, sink] = [0, 1, 2].map(VertexId::from_index);
    assert_eq!(staging.subtasks_of(0, count), tasks(&[2, 3]));
    assert_eq!(staging.subtasks_of(1, count), tasks(&[6, 7, 8]));
    assert_eq!(staging.subtasks_of(1, source), tasks(&[0, 1]));
    assert_eq!(staging.subtasks_of(1, sink), tasks(&[4, 5]));
    for stage in 0..staging.stages.len() {
        for vertex in [source, count, sink] {
            let subtasks: Vec<u32> =
                staging.subtasks_of(stage, vertex).iter().map(|task| staging.tasks[task.index()].subtask).collect();
            let parallelism = staging.stages[stage].graph.vertices[vertex.index()].parallelism;
            assert_eq!(subtasks, (0..parallelism).collect::<Vec<u32>>(), "stage {stage}, {vertex}");
        }
    }
}

#[test]
fn the_regions_of_each_stage_cover_exactly_its_running_tasks() {
    let graph = two_pipelines();
    let staging = Staging::new(&graph, &[rescale(10, 1, 3)]);
    let unrescaled = graph.expand().regions();
    let first = &staging.stages[0].regions;
    assert_eq!(first.count(), unrescaled.count());
    assert!((0..2).all(|region| first.members(region) == unrescaled.members(region)), "stage 0's regions as planned");
    let stage = &staging.stages[1];
    assert_eq!(stage.active, tasks(&[0, 1, 4, 5, 6, 7, 8, 9, 10, 11]));
    assert_eq!(stage.regions.count(), 2);
    assert_eq!(stage.regions.members(0), tasks(&[0, 1, 4, 5, 9, 10, 11]), "the rescaled pipeline");
    assert_eq!(stage.regions.members(1), tasks(&[6, 7, 8]), "the untouched pipeline");
    for stage in &staging.stages {
        let mut covered: Vec<TaskId> =
            (0..stage.regions.count()).flat_map(|region| stage.regions.members(region as u32).to_vec()).collect();
        covered.sort_unstable();
        assert_eq!(covered, stage.active, "each running task in exactly one region, and no other task");
        for region in 0..stage.regions.count() {
            let region = region as u32;
            assert!(stage.regions.members(region).iter().all(|&task| stage.regions.of_task(task) == region));
        }
    }
}
