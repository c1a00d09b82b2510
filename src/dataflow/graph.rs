//! The job graph (vertices with parallelism, edges with a partitioning) and its expansion
//! into subtasks and point-to-point channels.
//!
//! Validation here is structural and speaks in vertex and edge indexes; `scenario/` turns
//! those into file field names.

use super::keyed::{key_group_of, subtask_of_key_group};
use crate::kernel::ids::{ChannelId, TaskId, VertexId};
use crate::kernel::time::SimDuration;
use serde::{Deserialize, Serialize};

/// What a vertex runs. New kinds go last: run files store the variant's index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VertexKind {
    /// A replayable source; no inputs.
    Source,
    /// A keyed count-and-sum aggregation; its inputs must be hash-partitioned.
    KeyedCount,
    /// A sink that records what it receives.
    Sink,
    /// A bank account: pays transfers to the other accounts and is paid by them. Its one
    /// edge is a `direct` edge to its own vertex, so the accounts form a complete graph.
    /// Built from a scenario's `[bank]` section, never written as a vertex.
    Account,
    /// A two-input keyed operator (the shape of a join): exactly two hash-partitioned input
    /// edges from two different vertices, keyed state for each side.
    KeyedJoin,
    /// A sink that writes to the external system in one transaction per checkpoint,
    /// committed when the checkpoint completes (two-phase commit; docs/end-to-end.md).
    TwoPhaseCommitSink,
    /// A sink that upserts `key → value` into an external table at once (idempotent; its
    /// inputs must come from keyed counts, so the last value of a key is its count).
    UpsertSink,
    /// A sink that appends to an external log, flushing at every snapshot: at least once.
    AtLeastOnceSink,
    /// A source that reads the partitioned log (`[log]`): its subtasks read the partitions
    /// the split enumerator assigns them; no inputs. At most one per job.
    LogSource,
    /// A keyed event-time tumbling window: per key and window, the count and sum of the
    /// records whose event time falls in it, emitted when the watermark passes the window's
    /// end. Its inputs must be hash-partitioned.
    TumblingWindow,
}

impl VertexKind {
    /// Whether the vertex is a source of either kind: it reads, and has no inputs.
    pub fn is_source(self) -> bool {
        matches!(self, VertexKind::Source | VertexKind::LogSource)
    }

    /// Whether the vertex is a sink of any kind: it emits nothing into the job.
    pub fn is_sink(self) -> bool {
        matches!(
            self,
            VertexKind::Sink | VertexKind::TwoPhaseCommitSink | VertexKind::UpsertSink | VertexKind::AtLeastOnceSink
        )
    }

    /// Whether the vertex writes what it receives to the external system, where the
    /// end-to-end checks judge it.
    pub fn writes_externally(self) -> bool {
        matches!(self, VertexKind::TwoPhaseCommitSink | VertexKind::UpsertSink | VertexKind::AtLeastOnceSink)
    }
}

/// How an edge spreads records over the receiving subtasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Partitioning {
    /// Subtask i sends to subtask i; both sides need equal parallelism.
    Forward,
    /// By key group of the record's key.
    Hash,
    /// Round-robin over every receiving subtask.
    Rebalance,
    /// Every record to every receiving subtask.
    Broadcast,
    /// To the channel whose index is the record's key: the bank's transfers name their
    /// payee. Only on an account vertex's edge to itself, which has no channel from a
    /// subtask to itself.
    Direct,
}

/// One operator of the job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VertexSpec {
    /// Its unique name.
    pub name: String,
    /// What it runs.
    pub kind: VertexKind,
    /// How many subtasks run it.
    pub parallelism: u32,
    /// How many key groups its keyed state is split into.
    pub max_parallelism: u32,
    /// Simulated time to process one record (for a source: to read one).
    pub processing: SimDuration,
    /// A tumbling window's size in event time (µs); 0 for every other kind.
    pub window_us: u64,
}

/// A data edge between two vertices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeSpec {
    /// The producing vertex.
    pub from: VertexId,
    /// The consuming vertex.
    pub to: VertexId,
    /// How records spread over the consumer's subtasks.
    pub partitioning: Partitioning,
}

/// One subtask named by its vertex and index: stable when other vertices change their
/// parallelism, which is what fault plans in run files need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaskRef {
    /// The vertex.
    pub vertex: VertexId,
    /// The subtask's index within the vertex.
    pub subtask: u32,
}

/// A validated job graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobGraph {
    /// The vertices, indexed by `VertexId`.
    pub vertices: Vec<VertexSpec>,
    /// The edges, in declaration order.
    pub edges: Vec<EdgeSpec>,
}

/// Which part of the graph a structural error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphPart {
    /// The vertex at this index.
    Vertex(usize),
    /// The edge at this index.
    Edge(usize),
}

/// A structural error in a job graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    /// Where it is.
    pub part: GraphPart,
    /// What is wrong, as one sentence.
    pub message: String,
}

/// One subtask of the expanded job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskSpec {
    /// The vertex it is an instance of.
    pub vertex: VertexId,
    /// Its index among the vertex's subtasks.
    pub subtask: u32,
    /// Its input channels: by edge order, then by sending subtask.
    pub inputs: Vec<ChannelId>,
    /// One gate per outgoing edge.
    pub outputs: Vec<OutputGate>,
}

/// The channels of one outgoing edge of a subtask, indexed by receiving subtask (forward
/// edges hold one channel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputGate {
    /// How records choose a channel.
    pub partitioning: Partitioning,
    /// The channels, by receiving subtask.
    pub channels: Vec<ChannelId>,
    /// The receiver's key-group count, for hash routing.
    pub max_parallelism: u32,
}

/// One FIFO channel between two subtasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelSpec {
    /// The sending subtask.
    pub sender: TaskId,
    /// The receiving subtask.
    pub receiver: TaskId,
    /// The channel's index among the receiver's inputs.
    pub receiver_input: u32,
}

/// The job expanded into subtasks and channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Every subtask, vertices in order, subtasks in order within each.
    pub tasks: Vec<TaskSpec>,
    /// Every channel.
    pub channels: Vec<ChannelSpec>,
}

impl ChannelSpec {
    /// Whether the channel joins two subtasks of this topology's stage; a channel of
    /// another stage of a rescaled job has no receiver input here (`dataflow/staging.rs`).
    pub fn in_use(&self) -> bool {
        self.receiver_input != u32::MAX
    }
}

impl Topology {
    /// The pipelined regions: subtasks joined by channels fail over together.
    pub fn regions(&self) -> super::regions::Regions {
        let ends = self.channels.iter().map(|channel| (channel.sender, channel.receiver));
        super::regions::Regions::of(self.tasks.len(), ends)
    }
}

impl JobGraph {
    /// Whether any vertex writes to the external system (its faults apply only then).
    pub fn has_external_sink(&self) -> bool {
        self.vertices.iter().any(|vertex| vertex.kind.writes_externally())
    }

    /// The task `reference` names, if the vertex exists and has that subtask.
    pub fn task_id(&self, reference: TaskRef) -> Option<TaskId> {
        let vertex = self.vertices.get(reference.vertex.index())?;
        if reference.subtask >= vertex.parallelism {
            return None;
        }
        let before: usize = self.vertices[..reference.vertex.index()].iter().map(|v| v.parallelism as usize).sum();
        Some(TaskId::from_index(before + reference.subtask as usize))
    }

    /// `vertex[subtask]`, as scenarios and reports name tasks.
    pub fn task_name(&self, reference: TaskRef) -> String {
        match self.vertices.get(reference.vertex.index()) {
            Some(vertex) => format!("{}[{}]", vertex.name, reference.subtask),
            None => format!("{}[{}]", reference.vertex, reference.subtask),
        }
    }

    /// Checks the structure: parallelism, edge ends, partitioning rules, no cycles.
    pub fn validate(&self) -> Result<(), GraphError> {
        for (index, vertex) in self.vertices.iter().enumerate() {
            let error = |message: String| GraphError { part: GraphPart::Vertex(index), message };
            if vertex.parallelism == 0 {
                return Err(error("parallelism must be at least 1".to_string()));
            }
            if vertex.max_parallelism < vertex.parallelism {
                return Err(error(format!(
                    "max parallelism {} is below parallelism {}",
                    vertex.max_parallelism, vertex.parallelism
                )));
            }
            self.validate_vertex_edges(index).map_err(error)?;
        }
        for (index, edge) in self.edges.iter().enumerate() {
            self.validate_edge(edge).map_err(|message| GraphError { part: GraphPart::Edge(index), message })?;
        }
        match self.topological_order() {
            Ok(_) => Ok(()),
            Err(edge) => Err(GraphError {
                part: GraphPart::Edge(edge),
                message: "closes a cycle; this protocol needs an acyclic graph".to_string(),
            }),
        }
    }

    fn validate_vertex_edges(&self, index: usize) -> Result<(), String> {
        let vertex = &self.vertices[index];
        let has_inputs = self.edges.iter().any(|edge| edge.to.index() == index);
        if vertex.kind == VertexKind::Account {
            let touching = self.edges.iter().filter(|edge| edge.from.index() == index || edge.to.index() == index);
            let only_self_edge = touching.clone().count() == 1
                && touching.clone().all(|edge| edge.from == edge.to && edge.partitioning == Partitioning::Direct);
            return if only_self_edge {
                Ok(())
            } else {
                Err("an account vertex has exactly one edge: a direct edge to itself".to_string())
            };
        }
        if vertex.kind == VertexKind::UpsertSink
            && self
                .edges
                .iter()
                .any(|edge| edge.to.index() == index && self.vertices[edge.from.index()].kind != VertexKind::KeyedCount)
        {
            return Err("an upsert sink's inputs must come from keyed counts (a key's last value is then its count)"
                .to_string());
        }
        if vertex.kind == VertexKind::TumblingWindow
            && self
                .edges
                .iter()
                .any(|edge| edge.to.index() == index && !self.vertices[edge.from.index()].kind.is_source())
        {
            return Err("a tumbling-window reads straight from sources (a keyed count's running values depend on \
                        arrival order, so their window sums would too)"
                .to_string());
        }
        if vertex.kind == VertexKind::KeyedJoin {
            let inputs: Vec<&EdgeSpec> = self.edges.iter().filter(|edge| edge.to.index() == index).collect();
            return match inputs[..] {
                [left, right] if left.from != right.from => Ok(()),
                [_, _] => Err("a join's two input edges must come from two different vertices".to_string()),
                _ => Err(format!("a join has exactly two input edges (left, right), not {}", inputs.len())),
            };
        }
        match (vertex.kind, has_inputs) {
            (kind, true) if kind.is_source() => Err("a source cannot have input edges".to_string()),
            (kind, false) if kind.is_source() => Ok(()),
            (_, false) => Err("has no input edge; only sources may".to_string()),
            (_, true) => Ok(()),
        }
    }

    fn validate_edge(&self, edge: &EdgeSpec) -> Result<(), String> {
        let sender = &self.vertices[edge.from.index()];
        let receiver = &self.vertices[edge.to.index()];
        if edge.partitioning == Partitioning::Forward && sender.parallelism != receiver.parallelism {
            return Err(format!(
                "forward needs equal parallelism, but {} has {} and {} has {}",
                sender.name, sender.parallelism, receiver.name, receiver.parallelism
            ));
        }
        if edge.from == edge.to && sender.kind != VertexKind::Account {
            return Err(format!("{} is connected to itself; only bank accounts may be", sender.name));
        }
        if edge.partitioning == Partitioning::Direct && (edge.from != edge.to || sender.kind != VertexKind::Account) {
            return Err("direct partitioning connects bank accounts to each other only".to_string());
        }
        if matches!(receiver.kind, VertexKind::KeyedCount | VertexKind::KeyedJoin | VertexKind::TumblingWindow)
            && edge.partitioning != Partitioning::Hash
        {
            return Err(format!("{} is keyed, so its input edges must be hash-partitioned", receiver.name));
        }
        Ok(())
    }

    /// Vertices in an order where every edge goes forward, or the index of an edge that
    /// closes a cycle (Kahn's algorithm; ties by vertex index, so the order is stable).
    /// An edge from a vertex to itself (the bank's accounts) is not counted: its cycle
    /// runs between subtasks, which only protocols that never block can take.
    pub fn topological_order(&self) -> Result<Vec<VertexId>, usize> {
        let mut indegree = vec![0usize; self.vertices.len()];
        for edge in self.edges.iter().filter(|edge| edge.from != edge.to) {
            indegree[edge.to.index()] += 1;
        }
        let mut ready: Vec<usize> = (0..self.vertices.len()).filter(|&v| indegree[v] == 0).rev().collect();
        let mut order = Vec::with_capacity(self.vertices.len());
        while let Some(vertex) = ready.pop() {
            order.push(VertexId::from_index(vertex));
            for edge in self.edges.iter().filter(|edge| edge.from.index() == vertex && edge.to.index() != vertex) {
                indegree[edge.to.index()] -= 1;
                if indegree[edge.to.index()] == 0 {
                    ready.push(edge.to.index());
                }
            }
        }
        if order.len() == self.vertices.len() {
            return Ok(order);
        }
        // Blame the last-declared edge between two vertices left over: it lies on or
        // inside a cycle, and the back edge of a loop is usually written last.
        let ordered: Vec<bool> = (0..self.vertices.len()).map(|v| order.iter().any(|id| id.index() == v)).collect();
        let inside = self.edges.iter().rposition(|edge| !ordered[edge.from.index()] && !ordered[edge.to.index()]);
        Err(inside.expect("vertices left over by Kahn's algorithm lie on a cycle"))
    }

    /// Expands the graph into subtasks and channels. The graph must be valid.
    pub fn expand(&self) -> Topology {
        let first_task: Vec<usize> = self
            .vertices
            .iter()
            .scan(0usize, |next, vertex| {
                let first = *next;
                *next += vertex.parallelism as usize;
                Some(first)
            })
            .collect();
        let mut tasks: Vec<TaskSpec> = Vec::new();
        for (vertex_index, vertex) in self.vertices.iter().enumerate() {
            for subtask in 0..vertex.parallelism {
                tasks.push(TaskSpec {
                    vertex: VertexId::from_index(vertex_index),
                    subtask,
                    inputs: Vec::new(),
                    outputs: Vec::new(),
                });
            }
        }
        let mut channels = Vec::new();
        for edge in &self.edges {
            self.expand_edge(edge, &first_task, &mut tasks, &mut channels);
        }
        Topology { tasks, channels }
    }

    fn expand_edge(
        &self,
        edge: &EdgeSpec,
        first_task: &[usize],
        tasks: &mut [TaskSpec],
        channels: &mut Vec<ChannelSpec>,
    ) {
        let sender = &self.vertices[edge.from.index()];
        let receiver = &self.vertices[edge.to.index()];
        for sender_subtask in 0..sender.parallelism {
            let sender_task = first_task[edge.from.index()] + sender_subtask as usize;
            let receivers: Vec<u32> = match edge.partitioning {
                Partitioning::Forward => vec![sender_subtask],
                Partitioning::Direct => (0..receiver.parallelism).filter(|&other| other != sender_subtask).collect(),
                _ => (0..receiver.parallelism).collect(),
            };
            let mut gate = OutputGate {
                partitioning: edge.partitioning,
                channels: Vec::with_capacity(receivers.len()),
                max_parallelism: receiver.max_parallelism,
            };
            for receiver_subtask in receivers {
                let receiver_task = first_task[edge.to.index()] + receiver_subtask as usize;
                let channel = ChannelId::from_index(channels.len());
                let receiver_input = u32::try_from(tasks[receiver_task].inputs.len()).expect("inputs fit u32");
                tasks[receiver_task].inputs.push(channel);
                channels.push(ChannelSpec {
                    sender: TaskId::from_index(sender_task),
                    receiver: TaskId::from_index(receiver_task),
                    receiver_input,
                });
                gate.channels.push(channel);
            }
            tasks[sender_task].outputs.push(gate);
        }
    }
}

impl OutputGate {
    /// Calls `send` for each channel a record with `key` goes to; `rebalance_cursor` is the
    /// sender's round-robin position for this gate.
    #[inline]
    pub fn route(&self, key: u64, rebalance_cursor: &mut u32, mut send: impl FnMut(ChannelId)) {
        match self.partitioning {
            Partitioning::Forward => send(self.channels[0]),
            Partitioning::Hash => {
                let parallelism = u32::try_from(self.channels.len()).expect("fits u32");
                let group = key_group_of(key, self.max_parallelism);
                send(self.channels[subtask_of_key_group(group, self.max_parallelism, parallelism) as usize]);
            }
            Partitioning::Rebalance => {
                let index = *rebalance_cursor as usize % self.channels.len();
                *rebalance_cursor = rebalance_cursor.wrapping_add(1);
                send(self.channels[index]);
            }
            Partitioning::Broadcast => self.channels.iter().copied().for_each(send),
            Partitioning::Direct => send(self.channels[usize::try_from(key).expect("a payee index fits usize")]),
        }
    }
}
