//! Rescaling: the stages of a job whose parallelism changes while it runs.
//!
//! A rescale gives one vertex a new parallelism from a point in time on. Each stage is the
//! job graph with the parallelisms in force, expanded into subtasks and channels whose ids
//! are global to the run: a vertex whose parallelism is unchanged keeps its subtasks' ids,
//! a rescaled vertex gets new subtasks numbered after every earlier one, and a channel
//! between two kept subtasks keeps its id. So a `TaskId` or `ChannelId` names one thing for
//! the whole run and facts stay unambiguous across a rescale — as Flink gives the subtasks
//! of a rescaled job new execution attempts rather than reusing the old ones. Stage 0 is
//! exactly `JobGraph::expand`, so a job without rescales is numbered as it always was.

use super::graph::{ChannelSpec, JobGraph, TaskSpec, Topology};
use super::regions::Regions;
use crate::kernel::ids::{ChannelId, TaskId, VertexId};
use crate::kernel::time::SimTime;
use std::collections::BTreeMap;

/// A scenario's rescale: from `at` on, `vertex` runs with `parallelism` subtasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rescale {
    /// When the job is stopped and redeployed with the new parallelism.
    pub at: SimTime,
    /// The vertex rescaled.
    pub vertex: VertexId,
    /// Its new parallelism.
    pub parallelism: u32,
    /// Whether the job stops with a savepoint and the new stage starts from it (else from
    /// the latest completed checkpoint).
    pub from_savepoint: bool,
}

/// One subtask of the run, in whichever stage it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incarnation {
    /// Its vertex.
    pub vertex: VertexId,
    /// Its index among the vertex's subtasks.
    pub subtask: u32,
    /// The vertex's parallelism while this subtask runs (fixed for its life).
    pub parallelism: u32,
}

/// The job between two rescales.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// The graph with this stage's parallelisms.
    pub graph: JobGraph,
    /// Its expansion in run-global ids: every task and channel of the run has a slot, and
    /// those of other stages have no inputs, outputs or ends in use.
    pub topology: Topology,
    /// The tasks that run in this stage, in id order.
    pub active: Vec<TaskId>,
    /// The pipelined regions among the active tasks.
    pub regions: Regions,
}

impl Stage {
    /// Whether `task` runs in this stage.
    pub fn runs(&self, task: TaskId) -> bool {
        self.active.binary_search(&task).is_ok()
    }
}

/// Every stage of a run and every subtask it ever has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staging {
    /// Stage 0 is the job as deployed; stage `i + 1` follows the `i`-th rescale in time order.
    pub stages: Vec<Stage>,
    /// Every subtask of the run, by `TaskId`.
    pub tasks: Vec<Incarnation>,
    /// Every channel of the run, by `ChannelId`: (sender, receiver).
    pub channel_ends: Vec<(TaskId, TaskId)>,
}

impl Staging {
    /// How many tasks each stage runs.
    pub fn stage_sizes(&self) -> Vec<usize> {
        self.stages.iter().map(|stage| stage.active.len()).collect()
    }

    /// The stages of `graph` under `rescales` (each a valid parallelism for its vertex).
    pub fn new(graph: &JobGraph, rescales: &[Rescale]) -> Staging {
        let mut ordered = rescales.to_vec();
        ordered.sort_by_key(|rescale| rescale.at);
        let mut graphs = vec![graph.clone()];
        for rescale in &ordered {
            let mut next = graphs.last().expect("stage 0 exists").clone();
            next.vertices[rescale.vertex.index()].parallelism = rescale.parallelism;
            graphs.push(next);
        }
        let mut builder = Builder::default();
        let built: Vec<StageParts> = graphs.iter().map(|stage_graph| builder.stage(stage_graph)).collect();
        let stages =
            graphs.into_iter().zip(built).map(|(stage_graph, parts)| builder.padded(stage_graph, parts)).collect();
        Staging { stages, tasks: builder.tasks, channel_ends: builder.channel_ends }
    }

    /// Every subtask the run ever has.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Every channel the run ever has.
    pub fn channel_count(&self) -> usize {
        self.channel_ends.len()
    }

    /// The running subtasks of `vertex` in `stage`, by subtask index.
    pub fn subtasks_of(&self, stage: usize, vertex: VertexId) -> Vec<TaskId> {
        self.stages[stage].active.iter().copied().filter(|task| self.tasks[task.index()].vertex == vertex).collect()
    }
}

/// One stage's tasks and channels in run-global ids, before every stage is numbered.
struct StageParts {
    active: Vec<TaskId>,
    tasks: BTreeMap<TaskId, TaskSpec>,
    channels: BTreeMap<ChannelId, ChannelSpec>,
}

/// Numbers tasks and channels across stages.
#[derive(Default)]
struct Builder {
    tasks: Vec<Incarnation>,
    channel_ends: Vec<(TaskId, TaskId)>,
    /// The previous stage's ids per vertex, by subtask.
    previous: Vec<Vec<TaskId>>,
    /// The previous stage's channels by (sender, receiver, rank among channels joining them).
    previous_channels: BTreeMap<(TaskId, TaskId, u32), ChannelId>,
}

impl Builder {
    /// Expands `graph` and renumbers it: the active tasks and their specs and channels.
    fn stage(&mut self, graph: &JobGraph) -> StageParts {
        let local = graph.expand();
        let mut ids: Vec<Vec<TaskId>> = Vec::with_capacity(graph.vertices.len());
        for (index, vertex) in graph.vertices.iter().enumerate() {
            let kept = self.previous.get(index).filter(|previous| previous.len() == vertex.parallelism as usize);
            ids.push(match kept {
                Some(previous) => previous.clone(),
                None => (0..vertex.parallelism)
                    .map(|subtask| {
                        let id = TaskId::from_index(self.tasks.len());
                        let vertex = VertexId::from_index(index);
                        self.tasks.push(Incarnation {
                            vertex,
                            subtask,
                            parallelism: graph.vertices[index].parallelism,
                        });
                        id
                    })
                    .collect(),
            });
        }
        let global_task = |local_task: TaskId| {
            let spec = &local.tasks[local_task.index()];
            ids[spec.vertex.index()][spec.subtask as usize]
        };
        let mut channel_ids = Vec::with_capacity(local.channels.len());
        let mut channels = BTreeMap::new();
        let mut ranks: BTreeMap<(TaskId, TaskId), u32> = BTreeMap::new();
        let mut current_channels = BTreeMap::new();
        for spec in &local.channels {
            let (sender, receiver) = (global_task(spec.sender), global_task(spec.receiver));
            let rank = ranks.entry((sender, receiver)).or_insert(0);
            let pair = (sender, receiver, *rank);
            *rank += 1;
            let id = self.previous_channels.get(&pair).copied().unwrap_or_else(|| {
                self.channel_ends.push((sender, receiver));
                ChannelId::from_index(self.channel_ends.len() - 1)
            });
            current_channels.insert(pair, id);
            channel_ids.push(id);
            channels.insert(id, ChannelSpec { sender, receiver, receiver_input: spec.receiver_input });
        }
        let mut tasks = BTreeMap::new();
        for (index, spec) in local.tasks.iter().enumerate() {
            let mut spec = spec.clone();
            for channel in
                spec.inputs.iter_mut().chain(spec.outputs.iter_mut().flat_map(|gate| gate.channels.iter_mut()))
            {
                *channel = channel_ids[channel.index()];
            }
            tasks.insert(global_task(TaskId::from_index(index)), spec);
        }
        self.previous = ids;
        self.previous_channels = current_channels;
        StageParts { active: tasks.keys().copied().collect(), tasks, channels }
    }

    /// The stage's topology with a slot for every task and channel of the run.
    fn padded(&self, graph: JobGraph, parts: StageParts) -> Stage {
        let StageParts { active, mut tasks, mut channels } = parts;
        let tasks: Vec<TaskSpec> = (0..self.tasks.len())
            .map(|index| {
                tasks.remove(&TaskId::from_index(index)).unwrap_or_else(|| {
                    let incarnation = self.tasks[index];
                    TaskSpec {
                        vertex: incarnation.vertex,
                        subtask: incarnation.subtask,
                        inputs: Vec::new(),
                        outputs: Vec::new(),
                    }
                })
            })
            .collect();
        let channels: Vec<ChannelSpec> = (0..self.channel_ends.len())
            .map(|index| {
                channels.remove(&ChannelId::from_index(index)).unwrap_or_else(|| {
                    // A channel of another stage: never sent on in this one.
                    let (sender, receiver) = self.channel_ends[index];
                    ChannelSpec { sender, receiver, receiver_input: u32::MAX }
                })
            })
            .collect();
        let topology = Topology { tasks, channels };
        let live_ends = topology.channels.iter().filter(|spec| spec.in_use()).map(|spec| (spec.sender, spec.receiver));
        let regions = Regions::among(self.tasks.len(), &active, live_ends);
        Stage { graph, topology, active, regions }
    }
}
