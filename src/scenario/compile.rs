//! Validation: from the schema to the typed configuration the harness runs.
//!
//! Checks every name, range and structural rule, and reports the first problem as one
//! `ScenarioError` naming the field (`edges[1].to`, `faults[0].task`).

use super::ScenarioError;
use super::file::{FailoverName, KeyDistributionName, RestartStrategyName, Scenario};
use crate::dataflow::graph::{EdgeSpec, GraphPart, JobGraph, Partitioning, TaskRef, VertexKind, VertexSpec};
use crate::dataflow::keyed::default_max_parallelism;
use crate::dataflow::source::{KeyDistribution, WorkloadSpec};
use crate::dataflow::staging::{Rescale, Staging};
use crate::external::ExternalConfig;
use crate::harness::WorldConfig;
use crate::kernel::Budget;
use crate::kernel::ids::VertexId;
use crate::kernel::time::{NANOS_PER_MICRO, NANOS_PER_MILLI, SimDuration, SimTime};
use crate::net::NetworkConfig;
use crate::protocol::coordinator::CheckpointConfig;
use crate::recovery::restart::RestartStrategy;
use crate::recovery::{FailoverStrategy, RecoveryConfig};
use crate::storage::StorageConfig;

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct CompiledScenario {
    /// What the harness runs.
    pub world: WorldConfig,
    /// The run's limits.
    pub budget: Budget,
    /// Each task's name, `vertex[subtask]`, indexed by `TaskId`.
    pub task_names: Vec<String>,
    /// The checkpoint configuration the run's seed drew (`[randomize]`), if any: set by
    /// `RunSpec::compile`, which draws it.
    pub drawn: Option<super::DrawnConfig>,
}

/// Limits that keep a run's memory and set-up time finite (a bigger job is refused with one
/// line, never an allocation failure): records per source split, records in all splits,
/// keys, and channels once the graph is expanded.
pub(super) const RECORDS_PER_SPLIT_MAX: u64 = 100_000_000;
pub(super) const SOURCE_RECORDS_MAX: u64 = 1_000_000_000;
const KEYS_MAX: u64 = 1 << 24;
pub(super) const CHANNELS_MAX: u64 = 1_000_000;

/// Flink's upper bound on (max) parallelism: key groups are numbered below it.
const MAX_PARALLELISM_LIMIT: u32 = 32_768;

/// The largest value a duration field may hold, so that nanoseconds never overflow.
const DURATION_UNITS_MAX: u64 = 1_000_000_000_000;

impl Scenario {
    /// Validates the scenario and builds its configuration.
    pub fn compile(&self) -> Result<CompiledScenario, ScenarioError> {
        if let Some(section) = &self.randomize {
            self.validate_randomize(section)?;
        }
        if let Some(bank) = &self.bank {
            return self.compile_bank(bank);
        }
        if !self.script.is_empty() {
            return Err(ScenarioError::at("script", "scripted events drive a [bank]; this scenario has none"));
        }
        let graph = self.compile_graph()?;
        let world = self.assemble_world(graph, self.compile_workload()?, self.compile_checkpoint()?, None)?;
        let task_names = task_names(&world.graph, &world.rescales);
        Ok(CompiledScenario { world, budget: self.compile_budget()?, task_names, drawn: None })
    }

    /// The configuration around a validated graph, workload and checkpoint settings: the
    /// sections a job and a bank share.
    pub(super) fn assemble_world(
        &self,
        graph: JobGraph,
        workload: WorkloadSpec,
        checkpoint: CheckpointConfig,
        bank: Option<crate::harness::bank::BankConfig>,
    ) -> Result<WorldConfig, ScenarioError> {
        let task_count = graph.vertices.iter().map(|vertex| vertex.parallelism as usize).sum();
        let rescales = self.compile_rescales(&graph)?;
        let savepoints = self.compile_savepoints(bank.is_some())?;
        Ok(WorldConfig {
            workload,
            checkpoint,
            network: self.compile_network()?,
            storage: self.compile_storage()?,
            recovery: self.compile_recovery()?,
            faults: self.compile_faults(&widest(&graph, &rescales))?,
            protocol: self.checkpoint.protocol,
            bank,
            swarm: self.compile_swarm()?,
            heal_checkpoint_within: millis("budget.heal_checkpoint_ms", self.budget.heal_checkpoint_ms)?,
            placement: self.compile_placement(task_count)?,
            workers: self.cluster.workers,
            external: self.compile_external()?,
            log: self.compile_log(&graph)?,
            incremental: self.checkpoint.incremental,
            rescales,
            savepoints,
            graph,
        })
    }

    fn compile_graph(&self) -> Result<JobGraph, ScenarioError> {
        if self.vertices.is_empty() {
            return Err(ScenarioError::at("vertices", "a job needs at least one vertex"));
        }
        let vertices =
            (0..self.vertices.len()).map(|index| self.compile_vertex(index)).collect::<Result<Vec<_>, _>>()?;
        let edges = self.compile_edges()?;
        let graph = JobGraph { vertices, edges };
        graph.validate().map_err(|error| {
            let field = match error.part {
                GraphPart::Vertex(index) => format!("vertices[{index}]"),
                GraphPart::Edge(index) => format!("edges[{index}]"),
            };
            ScenarioError::at(field, error.message)
        })?;
        let channels = channel_count(&graph);
        if channels > CHANNELS_MAX {
            return Err(ScenarioError::at(
                "edges",
                format!("the job expands to {channels} channels; at most {CHANNELS_MAX}"),
            ));
        }
        let source_records: u64 = graph
            .vertices
            .iter()
            .filter(|vertex| vertex.kind == VertexKind::Source)
            .map(|vertex| u64::from(vertex.parallelism).saturating_mul(self.workload.records_per_source_subtask))
            .sum();
        if source_records > SOURCE_RECORDS_MAX {
            let message = format!("the sources would hold {source_records} records; at most {SOURCE_RECORDS_MAX}");
            return Err(ScenarioError::at("workload.records_per_source_subtask", message));
        }
        Ok(graph)
    }

    /// One vertex of the graph, checked on its own (the graph's structure is checked after).
    fn compile_vertex(&self, index: usize) -> Result<VertexSpec, ScenarioError> {
        let vertex = &self.vertices[index];
        let field = |name: &str| format!("vertices[{index}].{name}");
        if vertex.name.is_empty() || self.vertices[..index].iter().any(|earlier| earlier.name == vertex.name) {
            return Err(ScenarioError::at(field("name"), format!("`{}` is empty or not unique", vertex.name)));
        }
        if !(1..=MAX_PARALLELISM_LIMIT).contains(&vertex.parallelism) {
            return Err(ScenarioError::at(field("parallelism"), format!("must lie in 1..={MAX_PARALLELISM_LIMIT}")));
        }
        if vertex.kind == VertexKind::Account {
            return Err(ScenarioError::at(field("kind"), "accounts come from a [bank] section, not vertices"));
        }
        let max_parallelism = vertex.max_parallelism.unwrap_or_else(|| default_max_parallelism(vertex.parallelism));
        if !(vertex.parallelism..=MAX_PARALLELISM_LIMIT).contains(&max_parallelism) {
            return Err(ScenarioError::at(
                field("max_parallelism"),
                format!("must lie between parallelism and {MAX_PARALLELISM_LIMIT}"),
            ));
        }
        Ok(VertexSpec {
            name: vertex.name.clone(),
            kind: vertex.kind,
            parallelism: vertex.parallelism,
            max_parallelism,
            processing: micros(&field("processing_us"), vertex.processing_us)?,
            window_us: compile_window(vertex, &field("window_ms"))?,
        })
    }

    fn compile_edges(&self) -> Result<Vec<EdgeSpec>, ScenarioError> {
        let vertex_named = |field: String, name: &str| {
            self.vertices.iter().position(|vertex| vertex.name == name).map(VertexId::from_index).ok_or_else(|| {
                ScenarioError::at(field, format!("no vertex named `{name}` (vertices: {})", self.vertex_names()))
            })
        };
        self.edges
            .iter()
            .enumerate()
            .map(|(index, edge)| {
                if edge.partitioning == Partitioning::Direct {
                    let message = "direct connects the accounts of a [bank] section only";
                    return Err(ScenarioError::at(format!("edges[{index}].partitioning"), message));
                }
                Ok(EdgeSpec {
                    from: vertex_named(format!("edges[{index}].from"), &edge.from)?,
                    to: vertex_named(format!("edges[{index}].to"), &edge.to)?,
                    partitioning: edge.partitioning,
                })
            })
            .collect()
    }

    fn vertex_names(&self) -> String {
        self.vertices.iter().map(|vertex| vertex.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    fn compile_workload(&self) -> Result<WorkloadSpec, ScenarioError> {
        let workload = &self.workload;
        if *workload == super::file::WorkloadSection::default() {
            return Err(ScenarioError::at("workload", "a job needs a [workload] section (or a [bank] section)"));
        }
        let reads_splits = self.vertices.iter().any(|vertex| vertex.kind == VertexKind::Source);
        if (reads_splits || workload.records_per_source_subtask != 0)
            && !(1..=RECORDS_PER_SPLIT_MAX).contains(&workload.records_per_source_subtask)
        {
            let message = format!("must lie in 1..={RECORDS_PER_SPLIT_MAX}");
            return Err(ScenarioError::at("workload.records_per_source_subtask", message));
        }
        if workload.keys == 0 {
            return Err(ScenarioError::at("workload.keys", "must be at least 1"));
        }
        if workload.keys > KEYS_MAX {
            return Err(ScenarioError::at("workload.keys", format!("must be at most {KEYS_MAX}")));
        }
        if workload.value_max > 0xffff {
            return Err(ScenarioError::at("workload.value_max", "must be at most 65535"));
        }
        let key_distribution = match workload.key_distribution {
            KeyDistributionName::Uniform => {
                let stray = match (workload.hot_keys, workload.hot_percent) {
                    (Some(_), _) => Some("workload.hot_keys"),
                    (None, Some(_)) => Some("workload.hot_percent"),
                    (None, None) => None,
                };
                if let Some(field) = stray {
                    return Err(ScenarioError::at(
                        field,
                        "hot_keys and hot_percent apply only with key_distribution = \"hot\"",
                    ));
                }
                KeyDistribution::Uniform
            }
            KeyDistributionName::Hot => {
                let hot_keys = workload.hot_keys.unwrap_or(1);
                let hot_percent = workload.hot_percent.unwrap_or(50);
                if hot_keys == 0 || hot_keys > workload.keys {
                    return Err(ScenarioError::at("workload.hot_keys", "must lie in 1..=keys"));
                }
                if hot_percent > 100 {
                    return Err(ScenarioError::at("workload.hot_percent", "must be at most 100"));
                }
                KeyDistribution::Hot { hot_keys, hot_percent }
            }
        };
        Ok(WorkloadSpec {
            records_per_source_subtask: workload.records_per_source_subtask,
            key_count: workload.keys,
            key_distribution,
            value_max: workload.value_max,
        })
    }

    fn compile_checkpoint(&self) -> Result<CheckpointConfig, ScenarioError> {
        if self.checkpoint.interval_ms == 0 {
            return Err(ScenarioError::at("checkpoint.interval_ms", "must be at least 1"));
        }
        self.compile_checkpoint_allowing_no_interval()
    }

    /// The checkpoint settings; an interval of 0 means no periodic trigger (a bank scenario
    /// whose snapshots are all scripted).
    pub(super) fn compile_checkpoint_allowing_no_interval(&self) -> Result<CheckpointConfig, ScenarioError> {
        let checkpoint = &self.checkpoint;
        if checkpoint.timeout_ms == 0 {
            return Err(ScenarioError::at("checkpoint.timeout_ms", "must be at least 1"));
        }
        if !(1..=1_000).contains(&checkpoint.retained) {
            return Err(ScenarioError::at("checkpoint.retained", "must lie in 1..=1000"));
        }
        if checkpoint.max_concurrent == 0 {
            return Err(ScenarioError::at("checkpoint.max_concurrent", "must be at least 1"));
        }
        Ok(CheckpointConfig {
            interval: millis("checkpoint.interval_ms", checkpoint.interval_ms)?,
            every_source_records: (checkpoint.every_source_records > 0).then_some(checkpoint.every_source_records),
            timeout: millis("checkpoint.timeout_ms", checkpoint.timeout_ms)?,
            max_concurrent: checkpoint.max_concurrent,
            aligned_timeout: millis("checkpoint.aligned_timeout_ms", checkpoint.aligned_timeout_ms)?,
            min_pause: millis("checkpoint.min_pause_ms", checkpoint.min_pause_ms)?,
            tolerable_failures: checkpoint.tolerable_failures,
            retained: checkpoint.retained,
        })
    }

    pub(super) fn compile_network(&self) -> Result<NetworkConfig, ScenarioError> {
        let network = &self.network;
        if network.latency_us_min > network.latency_us_max {
            return Err(ScenarioError::at("network.latency_us_min", "must not exceed network.latency_us_max"));
        }
        if network.buffer_capacity == 0 {
            return Err(ScenarioError::at("network.buffer_capacity", "must be at least 1"));
        }
        Ok(NetworkConfig {
            latency_min: micros("network.latency_us_min", network.latency_us_min)?,
            latency_max: micros("network.latency_us_max", network.latency_us_max)?,
            buffer_capacity: network.buffer_capacity,
            fifo: true,
        })
    }

    fn compile_external(&self) -> Result<ExternalConfig, ScenarioError> {
        let timeout = self.external.transaction_timeout_ms;
        if timeout == 0 {
            return Err(ScenarioError::at("external.transaction_timeout_ms", "must be at least 1"));
        }
        Ok(ExternalConfig {
            transaction_timeout: millis("external.transaction_timeout_ms", timeout)?,
            reader_isolation: self.external.reader_isolation,
            reader_poll: micros("external.reader_poll_us", self.external.reader_poll_us)?,
        })
    }

    pub(super) fn compile_storage(&self) -> Result<StorageConfig, ScenarioError> {
        let storage = &self.storage;
        if storage.write_latency_us_min > storage.write_latency_us_max {
            return Err(ScenarioError::at(
                "storage.write_latency_us_min",
                "must not exceed storage.write_latency_us_max",
            ));
        }
        Ok(StorageConfig {
            write_latency_min: micros("storage.write_latency_us_min", storage.write_latency_us_min)?,
            write_latency_max: micros("storage.write_latency_us_max", storage.write_latency_us_max)?,
        })
    }

    pub(super) fn compile_recovery(&self) -> Result<RecoveryConfig, ScenarioError> {
        let recovery = &self.recovery;
        let delay = millis("recovery.restart_delay_ms", recovery.restart_delay_ms)?;
        let strategy = match recovery.strategy {
            RestartStrategyName::None => RestartStrategy::None,
            RestartStrategyName::FixedDelay => {
                RestartStrategy::FixedDelay { delay, max_attempts: recovery.max_attempts }
            }
            RestartStrategyName::ExponentialDelay => {
                if !(100..=10_000).contains(&recovery.backoff_multiplier_percent) {
                    let message = "must lie in 100..=10000 (1x to 100x)";
                    return Err(ScenarioError::at("recovery.backoff_multiplier_percent", message));
                }
                if recovery.jitter_percent > 100 {
                    return Err(ScenarioError::at("recovery.jitter_percent", "must be at most 100"));
                }
                let max = millis("recovery.max_backoff_ms", recovery.max_backoff_ms)?;
                if max < delay {
                    return Err(ScenarioError::at("recovery.max_backoff_ms", "must be at least restart_delay_ms"));
                }
                RestartStrategy::ExponentialDelay {
                    initial: delay,
                    max,
                    multiplier_percent: recovery.backoff_multiplier_percent,
                    jitter_percent: recovery.jitter_percent,
                    reset_after: millis("recovery.reset_backoff_after_ms", recovery.reset_backoff_after_ms)?,
                    max_attempts: recovery.max_attempts,
                }
            }
            RestartStrategyName::FailureRate => RestartStrategy::FailureRate {
                max_failures: recovery.max_failures_per_interval,
                interval: millis("recovery.failure_rate_interval_ms", recovery.failure_rate_interval_ms)?,
                delay,
            },
        };
        let failover = match recovery.failover {
            FailoverName::Region => FailoverStrategy::Region,
            FailoverName::Full => FailoverStrategy::Full,
        };
        Ok(RecoveryConfig { strategy, failover })
    }

    pub(super) fn compile_budget(&self) -> Result<Budget, ScenarioError> {
        if self.budget.events_max == 0 {
            return Err(ScenarioError::at("budget.events_max", "must be at least 1"));
        }
        let time_max = millis("budget.time_ms_max", self.budget.time_ms_max)?;
        Ok(Budget { events_max: self.budget.events_max, time_max: SimTime::ZERO.after(time_max) })
    }
}

/// Resolves `name[subtask]` (or a bare `name` for a vertex of parallelism 1) to a task.
pub(super) fn resolve_task(graph: &JobGraph, reference: &str) -> Result<TaskRef, String> {
    let (name, subtask) = match reference.split_once('[') {
        Some((name, rest)) => {
            let index = rest.strip_suffix(']').and_then(|digits| digits.parse::<u32>().ok());
            let index = index.ok_or_else(|| format!("`{reference}` is not of the form name[subtask]"))?;
            (name, index)
        }
        None => (reference, u32::MAX),
    };
    if let Some(index) = graph.vertices.iter().position(|vertex| vertex.name == name) {
        let vertex = &graph.vertices[index];
        let subtask = match subtask {
            u32::MAX if vertex.parallelism > 1 => {
                return Err(format!("`{name}` has {} subtasks: name one, as {name}[0]", vertex.parallelism));
            }
            u32::MAX => 0,
            _ if subtask >= vertex.parallelism => {
                return Err(format!("`{name}` has {} subtasks, so [{subtask}] does not exist", vertex.parallelism));
            }
            _ => subtask,
        };
        return Ok(TaskRef { vertex: VertexId::from_index(index), subtask });
    }
    let names: Vec<&str> = graph.vertices.iter().map(|vertex| vertex.name.as_str()).collect();
    Err(format!("no vertex named `{name}` (vertices: {})", names.join(", ")))
}

/// The channels `graph` expands to.
pub(super) fn channel_count(graph: &JobGraph) -> u64 {
    graph
        .edges
        .iter()
        .map(|edge| {
            let (from, to) = (&graph.vertices[edge.from.index()], &graph.vertices[edge.to.index()]);
            match edge.partitioning {
                Partitioning::Forward => u64::from(from.parallelism),
                _ => u64::from(from.parallelism) * u64::from(to.parallelism),
            }
        })
        .sum()
}

/// Every task's name, by `TaskId`: `vertex[subtask]`, or `vertex[subtask/parallelism]` for a
/// vertex that is rescaled, whose subtasks of different stages would otherwise share names.
fn task_names(graph: &JobGraph, rescales: &[Rescale]) -> Vec<String> {
    let staging = Staging::new(graph, rescales);
    staging
        .tasks
        .iter()
        .map(|task| {
            let name = &graph.vertices[task.vertex.index()].name;
            if rescales.iter().any(|rescale| rescale.vertex == task.vertex) {
                format!("{name}[{}/{}]", task.subtask, task.parallelism)
            } else {
                format!("{name}[{}]", task.subtask)
            }
        })
        .collect()
}

/// `graph` with each vertex at the largest parallelism it has in any stage: a fault may
/// name any subtask the job ever has (it strikes whichever runs under that name then).
pub fn widest(graph: &JobGraph, rescales: &[Rescale]) -> JobGraph {
    let mut widest = graph.clone();
    for rescale in rescales {
        let vertex = &mut widest.vertices[rescale.vertex.index()];
        vertex.parallelism = vertex.parallelism.max(rescale.parallelism);
    }
    widest
}

pub(super) fn millis(field: &str, value: u64) -> Result<SimDuration, ScenarioError> {
    duration(field, value, NANOS_PER_MILLI)
}

pub(super) fn micros(field: &str, value: u64) -> Result<SimDuration, ScenarioError> {
    duration(field, value, NANOS_PER_MICRO)
}

fn duration(field: &str, value: u64, unit_nanos: u64) -> Result<SimDuration, ScenarioError> {
    if value > DURATION_UNITS_MAX {
        return Err(ScenarioError::at(field, format!("{value} is too large (at most {DURATION_UNITS_MAX})")));
    }
    Ok(SimDuration::from_nanos(value * unit_nanos))
}

/// A vertex's window size in event-time microseconds: required for a `tumbling-window`,
/// refused for every other kind.
fn compile_window(vertex: &super::file::VertexSection, field: &str) -> Result<u64, ScenarioError> {
    match (vertex.kind, vertex.window_ms) {
        (VertexKind::TumblingWindow, Some(0)) => Err(ScenarioError::at(field, "must be at least 1")),
        (VertexKind::TumblingWindow, Some(window)) => Ok(millis(field, window)?.as_nanos() / 1_000),
        (VertexKind::TumblingWindow, None) => Err(ScenarioError::at(field, "a tumbling-window needs its size")),
        (_, Some(_)) => Err(ScenarioError::at(field, "only a tumbling-window has a window size")),
        (_, None) => Ok(0),
    }
}
