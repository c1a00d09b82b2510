//! `ScenarioBuilder`: scenarios written in Rust, producing exactly the `Scenario` structs a
//! `sims/*.toml` file parses into.
//!
//! The builder fills in the schema and nothing more: `build` gives an unvalidated
//! `Scenario`, just as a parsed file is, and `compile` runs the same validation a file goes
//! through, so an invalid builder fails with the same one-line, field-named `ScenarioError`.
//! Optional fields start at the file format's defaults (docs/scenarios.md), so a builder
//! that sets what a file sets equals that file.

use crate::dataflow::graph::{Partitioning, VertexKind};
use crate::scenario::{
    BudgetSection, CheckpointSection, CompiledScenario, EdgeSection, FaultSection, KeyDistributionName, NetworkSection,
    RecoverySection, Scenario, ScenarioError, StorageSection, VertexSection, WorkloadSection,
};

/// Records per source subtask when the builder is not told: a file must state it, a
/// builder starts from a small workload that runs in milliseconds.
pub const DEFAULT_RECORDS_PER_SOURCE_SUBTASK: u64 = 1_000;

/// Keys when the builder is not told (a file must state it).
pub const DEFAULT_KEYS: u64 = 16;

/// Builds a `Scenario` call by call; see the module doc.
///
/// ```
/// use snapsim::testing::{Partitioning, ScenarioBuilder};
///
/// let scenario = ScenarioBuilder::new("pipeline")
///     .records_per_source_subtask(500)
///     .keys(8)
///     .source("source", 2)
///     .keyed_count("count", 2)
///     .sink("sink", 2)
///     .edge("source", "count", Partitioning::Hash)
///     .edge("count", "sink", Partitioning::Forward)
///     .crash("count[1]", 5)
///     .build();
/// assert!(scenario.compile().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioBuilder {
    scenario: Scenario,
    /// The first call that named something that does not exist (a vertex not added yet).
    /// Kept rather than panicking at once so that `compile` and `try_build` can return it
    /// as the same kind of error a bad file gives.
    error: Option<ScenarioError>,
}

impl From<Scenario> for ScenarioBuilder {
    /// Starts from an existing scenario (for instance one read from a file) to vary it.
    fn from(scenario: Scenario) -> ScenarioBuilder {
        ScenarioBuilder { scenario, error: None }
    }
}

impl ScenarioBuilder {
    /// An empty job named `name`: no vertices or edges yet, every optional field at the file
    /// format's default, and `DEFAULT_RECORDS_PER_SOURCE_SUBTASK` records over
    /// `DEFAULT_KEYS` uniform keys.
    pub fn new(name: impl Into<String>) -> ScenarioBuilder {
        ScenarioBuilder::from(Scenario {
            name: name.into(),
            description: String::new(),
            workload: WorkloadSection {
                records_per_source_subtask: DEFAULT_RECORDS_PER_SOURCE_SUBTASK,
                keys: DEFAULT_KEYS,
                key_distribution: KeyDistributionName::Uniform,
                hot_keys: None,
                hot_percent: None,
                value_max: 100,
            },
            vertices: Vec::new(),
            edges: Vec::new(),
            checkpoint: CheckpointSection::default(),
            network: NetworkSection::default(),
            storage: StorageSection::default(),
            recovery: RecoverySection::default(),
            budget: BudgetSection::default(),
            faults: Vec::new(),
            bank: None,
            script: Vec::new(),
            swarm: None,
            cluster: crate::scenario::ClusterSection::default(),
            external: crate::scenario::ExternalSection::default(),
            log: None,
            rescale: Vec::new(),
            savepoint: Vec::new(),
            randomize: None,
        })
    }

    /// A small word count to start from: 2 sources → 3 keyed counts (hash) → 3 sinks
    /// (forward), 2000 records per source subtask over 32 uniform keys, checkpoints every
    /// 20 ms, and no faults. Vertices are named `source`, `count` and `sink` (as in
    /// sims/wordcount.toml), so `crash("count[1]", 10)` works. A run takes about 50 ms of
    /// simulated time.
    pub fn wordcount() -> ScenarioBuilder {
        ScenarioBuilder::new("wordcount")
            .description("sources -> keyed count -> sink, built by ScenarioBuilder::wordcount")
            .records_per_source_subtask(2_000)
            .keys(32)
            .source("source", 2)
            .keyed_count("count", 3)
            .sink("sink", 3)
            .processing_us("source", 20)
            .processing_us("count", 15)
            .processing_us("sink", 5)
            .edge("source", "count", Partitioning::Hash)
            .edge("count", "sink", Partitioning::Forward)
            .checkpoint_interval_ms(20)
            .checkpoint_timeout_ms(500)
            .latency_us(50, 800)
            .buffer_capacity(16)
            .write_latency_us(500, 4_000)
            .restart_delay_ms(10)
            .budget(10_000_000, 60_000)
    }

    /// Free text describing the scenario.
    pub fn description(mut self, text: impl Into<String>) -> ScenarioBuilder {
        self.scenario.description = text.into();
        self
    }

    /// `workload.records_per_source_subtask`.
    pub fn records_per_source_subtask(mut self, records: u64) -> ScenarioBuilder {
        self.scenario.workload.records_per_source_subtask = records;
        self
    }

    /// `workload.keys`: keys are `0..keys`.
    pub fn keys(mut self, keys: u64) -> ScenarioBuilder {
        self.scenario.workload.keys = keys;
        self
    }

    /// A hot key distribution: `hot_percent` percent of the records go to the first
    /// `hot_keys` keys.
    pub fn hot_keys(mut self, hot_keys: u64, hot_percent: u64) -> ScenarioBuilder {
        let workload = &mut self.scenario.workload;
        workload.key_distribution = KeyDistributionName::Hot;
        workload.hot_keys = Some(hot_keys);
        workload.hot_percent = Some(hot_percent);
        self
    }

    /// `workload.value_max`: values are `0..=value_max`.
    pub fn value_max(mut self, value_max: u64) -> ScenarioBuilder {
        self.scenario.workload.value_max = value_max;
        self
    }

    /// Adds a vertex of any kind, with the default processing time and max parallelism.
    pub fn vertex(mut self, name: impl Into<String>, kind: VertexKind, parallelism: u32) -> ScenarioBuilder {
        self.scenario.vertices.push(VertexSection {
            name: name.into(),
            kind,
            parallelism,
            max_parallelism: None,
            processing_us: 10,
            window_ms: None,
        });
        self
    }

    /// Adds a replayable source vertex.
    pub fn source(self, name: impl Into<String>, parallelism: u32) -> ScenarioBuilder {
        self.vertex(name, VertexKind::Source, parallelism)
    }

    /// Adds a keyed count-and-sum vertex (its inputs must be hash-partitioned).
    pub fn keyed_count(self, name: impl Into<String>, parallelism: u32) -> ScenarioBuilder {
        self.vertex(name, VertexKind::KeyedCount, parallelism)
    }

    /// Adds a two-input keyed join vertex: give it exactly two hash-partitioned input edges
    /// from two different vertices; the first is its left side.
    pub fn keyed_join(self, name: impl Into<String>, parallelism: u32) -> ScenarioBuilder {
        self.vertex(name, VertexKind::KeyedJoin, parallelism)
    }

    /// Adds a sink vertex.
    pub fn sink(self, name: impl Into<String>, parallelism: u32) -> ScenarioBuilder {
        self.vertex(name, VertexKind::Sink, parallelism)
    }

    /// Adds a `log-source` vertex: its subtasks read the partitions of the log (`log`)
    /// that the split enumerator assigns them.
    pub fn log_source(self, name: impl Into<String>, parallelism: u32) -> ScenarioBuilder {
        self.vertex(name, VertexKind::LogSource, parallelism)
    }

    /// The partitioned log (`[log]`): `partitions` from the start, `records` in each.
    pub fn log(mut self, partitions: u32, records: u64) -> ScenarioBuilder {
        let log = crate::scenario::LogSection {
            partitions,
            records_per_partition: records,
            discovery_interval_ms: 10,
            watermark_interval_ms: 10,
            new_partitions: Vec::new(),
        };
        self.scenario.log = Some(log);
        self
    }

    /// `count` more partitions appear in the log at `at_ms` (after `log`).
    pub fn new_partitions(mut self, at_ms: u64, count: u32) -> ScenarioBuilder {
        if let Some(log) = &mut self.scenario.log {
            log.new_partitions.push(crate::scenario::PartitionGrowthSection { at_ms, count });
        }
        self
    }

    /// A `[[rescale]]`: at `at_ms`, the job is redeployed with `vertex` at `parallelism`.
    pub fn rescale(mut self, at_ms: u64, vertex: impl Into<String>, parallelism: u32) -> ScenarioBuilder {
        let vertex = vertex.into();
        let from = crate::scenario::RescaleFromName::Checkpoint;
        self.scenario.rescale.push(crate::scenario::RescaleSection { at_ms, vertex, parallelism, from });
        self
    }

    /// A `[[savepoint]]`: at `at_ms`, the user asks for a savepoint (`stop`: and for the job
    /// to stop with it and start again from it).
    pub fn savepoint(mut self, at_ms: u64, stop: bool) -> ScenarioBuilder {
        self.scenario.savepoint.push(crate::scenario::SavepointSection { at_ms, stop });
        self
    }

    /// Adds a keyed event-time `tumbling-window` vertex of `window_ms` milliseconds.
    pub fn tumbling_window(self, name: impl Into<String>, parallelism: u32, window_ms: u64) -> ScenarioBuilder {
        let name = name.into();
        self.vertex(name.clone(), VertexKind::TumblingWindow, parallelism)
            .with_vertex("window_ms", &name, |section| section.window_ms = Some(window_ms))
    }

    /// Sets a vertex's `processing_us` (for a source: the time between two reads). The
    /// vertex must have been added already.
    pub fn processing_us(self, vertex: &str, micros: u64) -> ScenarioBuilder {
        self.with_vertex("processing_us", vertex, |section| section.processing_us = micros)
    }

    /// Sets a vertex's `max_parallelism` (its key-group count). The vertex must have been
    /// added already.
    pub fn max_parallelism(self, vertex: &str, max_parallelism: u32) -> ScenarioBuilder {
        self.with_vertex("max_parallelism", vertex, |section| section.max_parallelism = Some(max_parallelism))
    }

    /// Adds a data edge. Names are checked by `compile`, as a file's are.
    pub fn edge(mut self, from: &str, to: &str, partitioning: Partitioning) -> ScenarioBuilder {
        self.scenario.edges.push(EdgeSection { from: from.to_string(), to: to.to_string(), partitioning });
        self
    }

    /// `checkpoint.interval_ms`: the periodic trigger.
    pub fn checkpoint_interval_ms(mut self, millis: u64) -> ScenarioBuilder {
        self.scenario.checkpoint.interval_ms = millis;
        self
    }

    /// `checkpoint.timeout_ms`: a pending checkpoint expires after this.
    pub fn checkpoint_timeout_ms(mut self, millis: u64) -> ScenarioBuilder {
        self.scenario.checkpoint.timeout_ms = millis;
        self
    }

    /// `checkpoint.max_concurrent`: checkpoints pending at once.
    pub fn max_concurrent_checkpoints(mut self, max_concurrent: u32) -> ScenarioBuilder {
        self.scenario.checkpoint.max_concurrent = max_concurrent;
        self
    }

    /// `checkpoint.every_source_records`: also trigger after this many source records
    /// (0: never).
    pub fn every_source_records(mut self, records: u64) -> ScenarioBuilder {
        self.scenario.checkpoint.every_source_records = records;
        self
    }

    /// `network.latency_us_min` and `latency_us_max`: the one-way latency range.
    pub fn latency_us(mut self, min: u64, max: u64) -> ScenarioBuilder {
        self.scenario.network.latency_us_min = min;
        self.scenario.network.latency_us_max = max;
        self
    }

    /// `network.buffer_capacity`: credits per channel.
    pub fn buffer_capacity(mut self, capacity: u32) -> ScenarioBuilder {
        self.scenario.network.buffer_capacity = capacity;
        self
    }

    /// `storage.write_latency_us_min` and `write_latency_us_max`.
    pub fn write_latency_us(mut self, min: u64, max: u64) -> ScenarioBuilder {
        self.scenario.storage.write_latency_us_min = min;
        self.scenario.storage.write_latency_us_max = max;
        self
    }

    /// `recovery.restart_delay_ms`: from a failure to the restart.
    pub fn restart_delay_ms(mut self, millis: u64) -> ScenarioBuilder {
        self.scenario.recovery.restart_delay_ms = millis;
        self
    }

    /// `budget.events_max` and `budget.time_ms_max`: hitting either before the job
    /// finishes is a `liveness` failure.
    pub fn budget(mut self, events_max: u64, time_ms_max: u64) -> ScenarioBuilder {
        self.scenario.budget = BudgetSection { events_max, time_ms_max, ..self.scenario.budget.clone() };
        self
    }

    /// A scripted crash of `task` (`"count[1]"`, or a bare name for parallelism 1) at
    /// `at_ms` simulated milliseconds. The task is resolved by `compile`.
    pub fn crash(mut self, task: &str, at_ms: u64) -> ScenarioBuilder {
        self.scenario.faults.push(FaultSection::crash_task(task, at_ms));
        self
    }

    /// The scenario, unvalidated (as a parsed file is).
    ///
    /// # Panics
    ///
    /// If a call named a vertex that had not been added, with that one-line error; use
    /// `try_build` or `compile` to get it as a `ScenarioError` instead.
    pub fn build(&self) -> Scenario {
        self.try_build().unwrap_or_else(|error| panic!("{}", error.one_line(&self.label())))
    }

    /// The scenario, unvalidated, or the first call that named a vertex not added yet.
    pub fn try_build(&self) -> Result<Scenario, ScenarioError> {
        match &self.error {
            Some(error) => Err(error.clone()),
            None => Ok(self.scenario.clone()),
        }
    }

    /// Validates the scenario exactly as a file is validated.
    pub fn compile(&self) -> Result<CompiledScenario, ScenarioError> {
        self.try_build()?.compile()
    }

    /// How errors name this builder.
    fn label(&self) -> String {
        format!("scenario `{}`", self.scenario.name)
    }

    /// Applies `change` to the vertex named `vertex` (the latest one of that name), or
    /// remembers that `method` named a vertex that does not exist.
    fn with_vertex(mut self, method: &str, vertex: &str, change: impl FnOnce(&mut VertexSection)) -> ScenarioBuilder {
        match self.scenario.vertices.iter_mut().rev().find(|section| section.name == vertex) {
            Some(section) => change(section),
            None if self.error.is_none() => {
                let names: Vec<&str> = self.scenario.vertices.iter().map(|section| section.name.as_str()).collect();
                let message = format!("no vertex named `{vertex}` yet (vertices: {}); add it first", names.join(", "));
                self.error = Some(ScenarioError::at(format!("ScenarioBuilder::{method}"), message));
            }
            None => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_word_count_starting_point_compiles() {
        let compiled = ScenarioBuilder::wordcount().compile().expect("the word count is valid");
        assert_eq!(compiled.task_names.len(), 8);
        assert!(compiled.world.faults.faults.is_empty());
    }

    #[test]
    fn a_builder_reproduces_the_shipped_word_count_field_by_field() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sims/wordcount.toml");
        let from_file = Scenario::from_path(&path).expect("the shipped word count parses");
        let built = ScenarioBuilder::new("wordcount")
            .description("sources -> keyed count -> sink, parallelism > 1, with crashes")
            .records_per_source_subtask(5_000)
            .keys(64)
            .hot_keys(4, 30)
            .value_max(100)
            .source("source", 2)
            .processing_us("source", 20)
            .keyed_count("count", 3)
            .processing_us("count", 15)
            .sink("sink", 3)
            .processing_us("sink", 5)
            .edge("source", "count", Partitioning::Hash)
            .edge("count", "sink", Partitioning::Forward)
            .checkpoint_interval_ms(20)
            .checkpoint_timeout_ms(500)
            .max_concurrent_checkpoints(1)
            .latency_us(50, 800)
            .buffer_capacity(16)
            .write_latency_us(500, 4_000)
            .restart_delay_ms(10)
            .budget(10_000_000, 60_000)
            .crash("count[1]", 37)
            .crash("source[0]", 81)
            .build();
        assert_eq!(built, from_file);
    }

    #[test]
    fn a_log_job_with_a_window_builds_and_passes() {
        let scenario = ScenarioBuilder::new("log")
            .keys(8)
            .log(3, 200)
            .new_partitions(4, 1)
            .log_source("source", 2)
            .tumbling_window("window", 2, 20)
            .vertex("sink", VertexKind::TwoPhaseCommitSink, 2)
            .edge("source", "window", Partitioning::Hash)
            .edge("window", "sink", Partitioning::Forward)
            .crash("window[1]", 3)
            .build();
        let outcome = crate::testing::check(&scenario, crate::kernel::rng::Seed(2)).expect("valid");
        assert!(outcome.passed(), "{:?}", outcome.verdict);
        assert!(outcome.stats.source_records_read >= 800, "every partition read: {:?}", outcome.stats);
    }

    #[test]
    fn naming_a_missing_vertex_is_a_scenario_error_not_a_panic() {
        let builder = ScenarioBuilder::new("typo").source("source", 1).processing_us("sourc", 5);
        let error = builder.compile().expect_err("the vertex does not exist");
        assert_eq!(error.field.as_deref(), Some("ScenarioBuilder::processing_us"));
        assert!(error.message.contains("`sourc`") && error.message.contains("vertices: source"), "{error}");
        assert_eq!(builder.try_build(), Err(error));
    }

    #[test]
    fn an_invalid_builder_fails_to_compile_naming_the_field_as_a_file_would() {
        let error = ScenarioBuilder::wordcount().edge("count", "snk", Partitioning::Forward).compile().unwrap_err();
        assert_eq!(error.field.as_deref(), Some("edges[2].to"));
        let error = ScenarioBuilder::wordcount().crash("count[7]", 5).compile().unwrap_err();
        assert_eq!(error.field.as_deref(), Some("faults[0].task"));
    }

    #[test]
    fn a_builder_can_start_from_an_existing_scenario() {
        let scenario = ScenarioBuilder::wordcount().build();
        let varied = ScenarioBuilder::from(scenario.clone()).keys(5).build();
        assert_eq!(varied.workload.keys, 5);
        assert_eq!(varied.vertices, scenario.vertices);
    }
}
