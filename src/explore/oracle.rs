//! The oracle: what every keyed vertex must hold at the end, computed straight from the
//! source records and the static graph — never from anything the job did.
//!
//! Walking the graph in topological order, each vertex's emissions per key are derived from
//! its inputs by the built-in operators' reference semantics: a source emits its splits (a
//! subtask's own, or every partition of the log); a tumbling window emits, per key and
//! window with records, one result summing them (under the result's own id); a
//! keyed count holds the records it receives (count, sum of values, fingerprint) and emits,
//! per key, the running counts 1..n under the input records' ids; a join holds each input
//! edge's records as the state of its side (keys `2 × key + side`) and forwards them all; a
//! sink emits nothing. A record that reaches a vertex along two paths is expected there
//! twice.

use crate::check::{BankExpectation, ExpectedTotals, ExternalSinkMode, KeyExpectation, SinkExpectation};
use crate::dataflow::graph::{TaskRef, VertexKind};
use crate::dataflow::source::RecordGenerator;
use crate::dataflow::window::window_result_id;
use crate::harness::WorldConfig;
use crate::harness::bank::payee_of;
use crate::kernel::ids::{SplitId, SplitKind, TaskId, VertexId};
use crate::kernel::rng::Seed;
use std::collections::BTreeMap;

/// The oracle of a run and the number of records its sources hold.
pub struct Oracle {
    /// Per keyed vertex, per key.
    pub expected: ExpectedTotals,
    /// Records in all source splits together (for a bank: transfers in all accounts' series).
    pub source_records: u64,
}

/// Computes the oracle for `world` run with `seed`.
pub fn compute_oracle(world: &WorldConfig, seed: Seed) -> Oracle {
    let graph = &world.graph;
    let key_count = usize::try_from(world.workload.key_count).expect("key count fits usize");
    let order = graph.topological_order().expect("a validated graph is acyclic");
    let mut emitted: Vec<Vec<KeyExpectation>> = vec![Vec::new(); graph.vertices.len()];
    let mut held: Vec<Option<Vec<KeyExpectation>>> = vec![None; graph.vertices.len()];
    let mut source_records = 0;
    let mut window_results = BTreeMap::new();
    for vertex in order {
        let spec = &graph.vertices[vertex.index()];
        match spec.kind {
            VertexKind::Source | VertexKind::LogSource => {
                let splits = splits_of(world, vertex);
                emitted[vertex.index()] = source_totals(world, seed, &splits, key_count);
                source_records += splits.iter().map(|split| split.length).sum::<u64>();
            }
            VertexKind::TumblingWindow => {
                let results = window_totals(world, seed, vertex, key_count);
                emitted[vertex.index()] = results.per_key;
                window_results.insert(SplitId::window_results(vertex), results.offsets);
            }
            VertexKind::KeyedJoin => {
                // Each side's state holds what that input edge delivers; it forwards both.
                let mut sides =
                    graph.edges.iter().filter(|edge| edge.to == vertex).map(|edge| &emitted[edge.from.index()]);
                let (left, right) =
                    (sides.next().expect("a join has a left input"), sides.next().expect("and a right"));
                held[vertex.index()] = Some(left.iter().zip(right).flat_map(|(left, right)| [*left, *right]).collect());
                emitted[vertex.index()] = left.iter().zip(right).map(|(left, right)| add(*left, *right)).collect();
            }
            VertexKind::KeyedCount => {
                let received = received_totals(world, vertex.index(), &emitted, key_count);
                emitted[vertex.index()] = received.iter().map(|input| running_count_emissions(*input)).collect();
                held[vertex.index()] = Some(received);
            }
            // Accounts pay each other only: nothing of theirs reaches a keyed vertex.
            VertexKind::Sink
            | VertexKind::TwoPhaseCommitSink
            | VertexKind::UpsertSink
            | VertexKind::AtLeastOnceSink
            | VertexKind::Account => {
                emitted[vertex.index()] = vec![KeyExpectation::default(); key_count];
                if spec.kind == VertexKind::Account {
                    source_records += u64::from(spec.parallelism) * world.workload.records_per_source_subtask;
                }
            }
        }
    }
    let flows = Flows { emitted, held, key_count };
    Oracle { expected: expected_totals(world, seed, flows, window_results), source_records }
}

/// What each vertex emits and holds per key in a fault-free run.
struct Flows {
    emitted: Vec<Vec<KeyExpectation>>,
    held: Vec<Option<Vec<KeyExpectation>>>,
    key_count: usize,
}

/// The oracle's expectations from the per-vertex flows: a group per keyed vertex, an
/// expectation per external sink, with the multiplicity of every split at each.
fn expected_totals(
    world: &WorldConfig,
    seed: Seed,
    flows: Flows,
    window_results: BTreeMap<SplitId, Vec<(u64, i64)>>,
) -> ExpectedTotals {
    let Flows { emitted, held, key_count } = flows;
    let graph = &world.graph;
    let paths = path_counts(world);
    let (source_splits, split_vertices) = source_splits(world, &window_results);
    let mut expected = ExpectedTotals {
        task_groups: Vec::new(),
        groups: Vec::new(),
        source_splits,
        window_results,
        multiplicity: Vec::new(),
        bank: bank_expectation(world, seed),
        sink_tasks: Vec::new(),
        sinks: Vec::new(),
    };
    let (mut vertex_groups, mut vertex_sinks) = (Vec::new(), Vec::new());
    for (index, (spec, held)) in graph.vertices.iter().zip(held).enumerate() {
        let group = held.map(|per_key| {
            expected.groups.push(per_key);
            expected.multiplicity.push(split_vertices.iter().map(|&source| paths[index][source]).collect());
            expected.groups.len() - 1
        });
        vertex_groups.push(group);
        let sink = spec.kind.writes_externally().then(|| {
            let per_key = received_totals(world, index, &emitted, key_count);
            let multiplicity = split_vertices.iter().map(|&source| paths[index][source]).collect();
            expected.sinks.push(SinkExpectation { mode: sink_mode(spec.kind), per_key, multiplicity });
            expected.sinks.len() - 1
        });
        vertex_sinks.push(sink);
    }
    // Every subtask of the run, a rescale's too, judged with its vertex.
    let staging = crate::dataflow::staging::Staging::new(graph, &world.rescales);
    expected.task_groups = staging.tasks.iter().map(|task| vertex_groups[task.vertex.index()]).collect();
    expected.sink_tasks = staging.tasks.iter().map(|task| vertex_sinks[task.vertex.index()]).collect();
    expected
}

/// How an external sink of `kind` writes.
fn sink_mode(kind: VertexKind) -> ExternalSinkMode {
    match kind {
        VertexKind::UpsertSink => ExternalSinkMode::Upsert,
        VertexKind::AtLeastOnceSink => ExternalSinkMode::AtLeastOnce,
        _ => ExternalSinkMode::Transactional,
    }
}

/// One split a source vertex reads: its id, its length, where its event times start.
#[derive(Clone, Copy, Debug)]
struct SplitOfVertex {
    split: SplitId,
    length: u64,
    event_time_base: u64,
}

/// The splits source `vertex` reads: one per subtask, or every partition of the log.
fn splits_of(world: &WorldConfig, vertex: VertexId) -> Vec<SplitOfVertex> {
    let spec = &world.graph.vertices[vertex.index()];
    if spec.kind == VertexKind::LogSource {
        let log = world.log.as_ref().expect("a validated log-source has a log");
        return (0..log.partition_count())
            .map(|partition| SplitOfVertex {
                split: SplitId::partition(partition),
                length: log.records_per_partition,
                event_time_base: log.event_time_base(partition),
            })
            .collect();
    }
    (0..spec.parallelism)
        .map(|subtask| SplitOfVertex {
            split: SplitId::of_task(task_of(world, vertex, subtask)),
            length: world.workload.records_per_source_subtask,
            event_time_base: 0,
        })
        .collect()
}

/// Every source split (its id and length) and then every window's results (their count),
/// with the vertex of each.
fn source_splits(
    world: &WorldConfig,
    window_results: &BTreeMap<SplitId, Vec<(u64, i64)>>,
) -> (Vec<(SplitId, u64)>, Vec<usize>) {
    let mut splits = Vec::new();
    let mut vertices = Vec::new();
    for (index, vertex) in world.graph.vertices.iter().enumerate() {
        if vertex.kind.is_source() {
            for split in splits_of(world, VertexId::from_index(index)) {
                splits.push((split.split, split.length));
                vertices.push(index);
            }
        }
    }
    for (&split, offsets) in window_results {
        let SplitKind::WindowResults(vertex) = split.kind() else { unreachable!("window results only") };
        splits.push((split, offsets.len() as u64));
        vertices.push(vertex.index());
    }
    (splits, vertices)
}

/// What a tumbling window emits in a fault-free run: per key, and the offsets of its
/// results (ascending).
struct WindowTotals {
    per_key: Vec<KeyExpectation>,
    /// Each result's offset and value, by offset.
    offsets: Vec<(u64, i64)>,
}

/// The results of tumbling window `vertex`: every record of every source feeding it (a
/// validated window reads straight from sources), summed per key and window.
fn window_totals(world: &WorldConfig, seed: Seed, vertex: VertexId, key_count: usize) -> WindowTotals {
    let size = world.graph.vertices[vertex.index()].window_us;
    let mut windows: BTreeMap<(u64, u64), i64> = BTreeMap::new();
    for edge in world.graph.edges.iter().filter(|edge| edge.to == vertex) {
        for split in splits_of(world, edge.from) {
            let mut generator = RecordGenerator::for_split(seed, world.workload, split.split, split.event_time_base);
            for offset in 0..split.length {
                let record = generator.record_at(offset);
                let sum = windows.entry((record.event_time / size, record.key)).or_default();
                *sum = sum.checked_add(record.value).expect("a window's sum fits i64");
            }
        }
    }
    let mut per_key = vec![KeyExpectation::default(); key_count];
    let mut offsets = Vec::with_capacity(windows.len());
    for (&(window, key), &sum) in &windows {
        let id = window_result_id(vertex, window, key);
        offsets.push((id.offset, sum));
        let entry = &mut per_key[key as usize];
        *entry = add(*entry, KeyExpectation { count: 1, sum, fingerprint: id.fingerprint() });
    }
    offsets.sort_unstable();
    WindowTotals { per_key, offsets }
}

/// A bank's money: the total, and — when every transfer is from the replayable series, so
/// that a restore replays exactly the same ones — each account's final balance.
fn bank_expectation(world: &WorldConfig, seed: Seed) -> Option<BankExpectation> {
    let bank = world.bank.as_ref()?;
    let accounts = world.graph.vertices.iter().map(|vertex| vertex.parallelism).sum::<u32>();
    let total = bank.opening_balances.iter().sum();
    let final_balances = (!bank.scripts_transfers()).then(|| {
        let mut balances = bank.opening_balances.clone();
        for payer in 0..accounts {
            let mut generator = RecordGenerator::for_source_task(seed, world.workload, TaskId(payer));
            for offset in 0..world.workload.records_per_source_subtask {
                let transfer = generator.record_at(offset);
                balances[payer as usize] -= transfer.value;
                balances[payee_of(payer, transfer.key) as usize] += transfer.value;
            }
        }
        balances
    });
    Some(BankExpectation { total, final_balances })
}

/// `paths[v][s]`: how many paths lead from source vertex `s` to vertex `v` through vertices
/// that emit (a sink emits nothing), i.e. how many times each record of `s` reaches `v`.
fn path_counts(world: &WorldConfig) -> Vec<Vec<u64>> {
    let graph = &world.graph;
    let count = graph.vertices.len();
    let mut paths = vec![vec![0u64; count]; count];
    for vertex in graph.topological_order().expect("a validated graph is acyclic") {
        let index = vertex.index();
        // A source's records start here; a window's results too (its inputs end in it).
        if graph.vertices[index].kind.is_source() || graph.vertices[index].kind == VertexKind::TumblingWindow {
            paths[index] = vec![0; count];
            paths[index][index] = 1;
        }
        if graph.vertices[index].kind.is_sink() {
            continue;
        }
        for edge in graph.edges.iter().filter(|edge| edge.from.index() == index) {
            let from = paths[index].clone();
            for (into, routed) in paths[edge.to.index()].iter_mut().zip(from) {
                *into += routed;
            }
        }
    }
    paths
}

/// The task of `vertex[subtask]`.
fn task_of(world: &WorldConfig, vertex: VertexId, subtask: u32) -> TaskId {
    world.graph.task_id(TaskRef { vertex, subtask }).expect("a subtask of a vertex of the graph")
}

/// Per key, the records of the given splits.
fn source_totals(world: &WorldConfig, seed: Seed, splits: &[SplitOfVertex], key_count: usize) -> Vec<KeyExpectation> {
    let mut per_key = vec![KeyExpectation::default(); key_count];
    for split in splits {
        let mut generator = RecordGenerator::for_split(seed, world.workload, split.split, split.event_time_base);
        for offset in 0..split.length {
            let record = generator.record_at(offset);
            let entry = &mut per_key[record.key as usize];
            *entry = add(*entry, KeyExpectation { count: 1, sum: record.value, fingerprint: record.id.fingerprint() });
        }
    }
    per_key
}

/// Per key, everything the vertex receives: the sum of its producers' emissions over every
/// incoming edge.
fn received_totals(
    world: &WorldConfig,
    vertex: usize,
    emitted: &[Vec<KeyExpectation>],
    key_count: usize,
) -> Vec<KeyExpectation> {
    let mut per_key = vec![KeyExpectation::default(); key_count];
    for edge in world.graph.edges.iter().filter(|edge| edge.to.index() == vertex) {
        for (total, from) in per_key.iter_mut().zip(&emitted[edge.from.index()]) {
            *total = add(*total, *from);
        }
    }
    per_key
}

/// A keyed count that received `input` for a key emits one record per input record, with
/// the input's id and the running count as its value: values 1..=n.
fn running_count_emissions(input: KeyExpectation) -> KeyExpectation {
    let n = i64::try_from(input.count).expect("count fits i64");
    let sum = n.checked_mul(n + 1).map(|product| product / 2).expect("running-count sum fits i64");
    KeyExpectation { count: input.count, sum, fingerprint: input.fingerprint }
}

fn add(left: KeyExpectation, right: KeyExpectation) -> KeyExpectation {
    KeyExpectation {
        count: left.count + right.count,
        sum: left.sum.checked_add(right.sum).expect("sum fits i64"),
        fingerprint: left.fingerprint.wrapping_add(right.fingerprint),
    }
}
