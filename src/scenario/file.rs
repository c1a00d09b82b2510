//! The scenario schema: what a `sims/*.toml` file may say, with defaults.
//!
//! Field names carry their units last (`interval_ms`, `latency_us_min`). Unknown fields are
//! errors, so a typo never silently falls back to a default.

use super::ScenarioError;
use serde::{Deserialize, Serialize};

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name for reports.
    pub name: String,
    /// What the scenario exercises.
    #[serde(default)]
    pub description: String,
    /// What the sources produce (a job's; absent in a bank scenario).
    #[serde(default)]
    pub workload: WorkloadSection,
    /// The operators (a job's; absent in a bank scenario).
    #[serde(default)]
    pub vertices: Vec<VertexSection>,
    /// The data edges (a job's; absent in a bank scenario).
    #[serde(default)]
    pub edges: Vec<EdgeSection>,
    /// Checkpoint settings.
    #[serde(default)]
    pub checkpoint: CheckpointSection,
    /// Channel settings.
    #[serde(default)]
    pub network: NetworkSection,
    /// Storage settings.
    #[serde(default)]
    pub storage: StorageSection,
    /// Restart settings.
    #[serde(default)]
    pub recovery: RecoverySection,
    /// Run limits.
    #[serde(default)]
    pub budget: BudgetSection,
    /// Scripted faults.
    #[serde(default)]
    pub faults: Vec<FaultSection>,
    /// The bank: accounts on a complete graph paying each other, in place of a job's
    /// workload, vertices and edges.
    #[serde(default)]
    pub bank: Option<BankSection>,
    /// The bank's scripted events: timed transfers and snapshot initiations.
    #[serde(default)]
    pub script: Vec<ScriptEventSection>,
    /// Swarm fault plans, drawn per seed.
    #[serde(default)]
    pub swarm: Option<SwarmSection>,
    /// Workers, and which tasks run on each.
    #[serde(default)]
    pub cluster: ClusterSection,
    /// The external system the end-to-end sinks write to.
    #[serde(default)]
    pub external: ExternalSection,
    /// The partitioned log a `log-source` reads.
    #[serde(default)]
    pub log: Option<LogSection>,
    /// Rescales: vertices redeployed with another parallelism while the job runs.
    #[serde(default)]
    pub rescale: Vec<RescaleSection>,
    /// Savepoints the user asks for while the job runs.
    #[serde(default)]
    pub savepoint: Vec<SavepointSection>,
    /// Checkpoint settings drawn per seed (never stored in a run file, which holds the
    /// drawn values themselves: `randomize.rs`).
    #[serde(default, with = "super::randomize::run_file_invisible")]
    pub randomize: Option<super::randomize::RandomizeSection>,
}

/// One `[[savepoint]]` entry: at `at_ms` the user asks for a savepoint — with `stop`, the
/// job stops with it and is started again from it (docs/state.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavepointSection {
    /// When, in milliseconds of simulated time.
    pub at_ms: u64,
    /// Stop with the savepoint (and start again from it).
    #[serde(default)]
    pub stop: bool,
}

/// One `[[rescale]]` entry: at `at_ms` the job stops and is redeployed from its latest
/// completed checkpoint with `vertex` at `parallelism` subtasks (docs/state.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescaleSection {
    /// When, in milliseconds of simulated time.
    pub at_ms: u64,
    /// The vertex to rescale (a keyed one).
    pub vertex: String,
    /// Its new parallelism.
    pub parallelism: u32,
    /// What the new stage starts from: the latest completed checkpoint, or a savepoint the
    /// job stops with at `at_ms`.
    #[serde(default)]
    pub from: RescaleFromName,
}

/// `rescale.from`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RescaleFromName {
    /// Stop the job and redeploy it from its latest completed checkpoint.
    #[default]
    Checkpoint,
    /// Stop the job with a savepoint and start the new stage from it.
    Savepoint,
}

/// `[log]`: the partitioned, replayable log a `log-source` vertex reads (docs/end-to-end.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// Partitions present from the start.
    pub partitions: u32,
    /// Records in every partition.
    pub records_per_partition: u64,
    /// How often, in milliseconds, the split enumerator looks for new partitions.
    #[serde(default = "default_discovery_interval_ms")]
    pub discovery_interval_ms: u64,
    /// A reader emits a watermark each time it crosses a multiple of this much event time
    /// (milliseconds), and at its end.
    #[serde(default = "default_watermark_interval_ms")]
    pub watermark_interval_ms: u64,
    /// Partitions created while the job runs.
    #[serde(default)]
    pub new_partitions: Vec<PartitionGrowthSection>,
}

/// One `[[log.new_partitions]]` entry: partitions that appear in the log at a moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionGrowthSection {
    /// When, in milliseconds of simulated time.
    pub at_ms: u64,
    /// How many partitions appear.
    pub count: u32,
}

fn default_discovery_interval_ms() -> u64 {
    10
}

fn default_watermark_interval_ms() -> u64 {
    10
}

/// `[cluster]`: the simulated workers (Flink's TaskManagers) the tasks are placed on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSection {
    /// How many workers.
    pub workers: u32,
    /// The worker of each task, in task order (vertices in order, subtasks within each);
    /// absent: round robin.
    pub placement: Option<Vec<u32>>,
}

impl Default for ClusterSection {
    fn default() -> Self {
        ClusterSection { workers: 2, placement: None }
    }
}

/// `[external]`: the external system end-to-end sinks write to (docs/end-to-end.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExternalSection {
    /// A transaction still open or prepared this long after it began is aborted (Kafka's
    /// `transaction.timeout.ms`; its default, one minute).
    pub transaction_timeout_ms: u64,
    /// What the downstream reader sees of transactions: `read-committed` or
    /// `read-uncommitted` (Kafka's consumer `isolation.level`).
    pub reader_isolation: crate::external::Isolation,
    /// How often, in microseconds, the reader polls the transactional records (0: never).
    pub reader_poll_us: u64,
}

impl Default for ExternalSection {
    fn default() -> Self {
        ExternalSection {
            transaction_timeout_ms: 60_000,
            reader_isolation: crate::external::Isolation::ReadCommitted,
            reader_poll_us: 1_000,
        }
    }
}

/// `[bank]`: N accounts, each paying a replayable series of random transfers to the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankSection {
    /// How many accounts (tasks `account[0]` ..).
    pub accounts: u32,
    /// Each account's balance at the start (or give `opening_balances`).
    #[serde(default)]
    pub opening_balance: Option<u64>,
    /// Every account's balance at the start, one per account (in place of
    /// `opening_balance`): a single token at one account, say.
    #[serde(default)]
    pub opening_balances: Option<Vec<u64>>,
    /// Random transfers each account pays (0: only scripted ones).
    #[serde(default)]
    pub transfers_per_account: u64,
    /// Amounts are `0..=amount_max`.
    #[serde(default = "default_value_max")]
    pub amount_max: u64,
    /// Microseconds an account takes to pay or be paid one transfer.
    #[serde(default = "default_processing_us")]
    pub processing_us: u64,
}

/// One `[[script]]` entry: a transfer (`from`, `to`, `amount`, optionally `delay_ms`) or a
/// snapshot initiated by `account`. A plain struct, like `FaultSection`, so errors keep
/// their full path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptEventSection {
    /// Simulated milliseconds since the start.
    pub at_ms: u64,
    /// `transfer` or `snapshot`.
    pub kind: ScriptKindName,
    /// A transfer's payer (account index).
    #[serde(default)]
    pub from: Option<u32>,
    /// A transfer's payee (account index).
    #[serde(default)]
    pub to: Option<u32>,
    /// A transfer's amount.
    #[serde(default)]
    pub amount: Option<u64>,
    /// A transfer's delivery delay in milliseconds, replacing the drawn latency.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// The account that initiates a snapshot.
    #[serde(default)]
    pub account: Option<u32>,
}

/// A scripted event's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptKindName {
    /// One account pays another.
    Transfer,
    /// One account initiates a snapshot.
    Snapshot,
}

/// `[workload]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSection {
    /// Records in each `source` subtask's split (a job whose only source is a `log-source`
    /// may leave it out: the log's partitions say how many records there are).
    #[serde(default)]
    pub records_per_source_subtask: u64,
    /// Keys are `0..keys`.
    pub keys: u64,
    /// `uniform` or `hot`.
    #[serde(default)]
    pub key_distribution: KeyDistributionName,
    /// With `hot`: how many keys are hot.
    #[serde(default)]
    pub hot_keys: Option<u64>,
    /// With `hot`: the percentage of records that go to hot keys.
    #[serde(default)]
    pub hot_percent: Option<u64>,
    /// Values are `0..=value_max`.
    #[serde(default = "default_value_max")]
    pub value_max: u64,
}

/// A key distribution's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyDistributionName {
    /// Every key equally likely.
    #[default]
    Uniform,
    /// A share of the records goes to a few hot keys.
    Hot,
}

/// One `[[vertices]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VertexSection {
    /// A unique name, used by edges and faults.
    pub name: String,
    /// `source`, `log-source`, `keyed-count`, `keyed-join`, `tumbling-window`, `sink`,
    /// `two-phase-commit-sink`, `upsert-sink` or `at-least-once-sink`.
    pub kind: crate::dataflow::graph::VertexKind,
    /// Subtasks.
    pub parallelism: u32,
    /// Key groups; Flink's default rule when absent.
    #[serde(default)]
    pub max_parallelism: Option<u32>,
    /// Microseconds to process one record (for a source: between two reads).
    #[serde(default = "default_processing_us")]
    pub processing_us: u64,
    /// A `tumbling-window`'s size in milliseconds of event time.
    #[serde(default)]
    pub window_ms: Option<u64>,
}

/// One `[[edges]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSection {
    /// The producing vertex's name.
    pub from: String,
    /// The consuming vertex's name.
    pub to: String,
    /// `forward`, `hash`, `rebalance` or `broadcast`.
    pub partitioning: crate::dataflow::graph::Partitioning,
}

/// `[checkpoint]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointSection {
    /// `aligned` (Flink's exactly-once barriers) or `chandy-lamport`.
    pub protocol: crate::protocol::ProtocolKind,
    /// Milliseconds between periodic triggers.
    pub interval_ms: u64,
    /// Also trigger every this many source records (0: never).
    pub every_source_records: u64,
    /// Milliseconds before a pending checkpoint expires.
    pub timeout_ms: u64,
    /// Checkpoints pending at once, at most.
    pub max_concurrent: u32,
    /// With `aligned-timeout`: milliseconds of alignment before switching to unaligned.
    pub aligned_timeout_ms: u64,
    /// Milliseconds after a completion before the next trigger.
    pub min_pause_ms: u64,
    /// Consecutive counted failures tolerated before the job fails over (absent: any).
    pub tolerable_failures: Option<u32>,
    /// Completed checkpoints kept.
    pub retained: u32,
    /// Keyed state written incrementally: each checkpoint uploads only the key groups that
    /// changed since the last checkpoint the task heard completed, and references the
    /// files of the others (Flink's `execution.checkpointing.incremental`).
    pub incremental: bool,
}

/// `[network]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSection {
    /// Shortest one-way latency, microseconds.
    pub latency_us_min: u64,
    /// Longest one-way latency, microseconds.
    pub latency_us_max: u64,
    /// Credits per channel (messages in flight plus unconsumed).
    pub buffer_capacity: u32,
}

/// `[storage]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    /// Shortest write latency, microseconds.
    pub write_latency_us_min: u64,
    /// Longest write latency, microseconds.
    pub write_latency_us_max: u64,
}

/// `[recovery]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoverySection {
    /// `fixed-delay`, `exponential-delay`, `failure-rate` or `none`.
    pub strategy: RestartStrategyName,
    /// Milliseconds from a failure to the restart (exponential-delay: the first backoff).
    pub restart_delay_ms: u64,
    /// fixed-delay, exponential-delay: restarts allowed (absent: any number).
    pub max_attempts: Option<u32>,
    /// exponential-delay: the longest backoff.
    pub max_backoff_ms: u64,
    /// exponential-delay: each failure multiplies the backoff by this / 100.
    pub backoff_multiplier_percent: u32,
    /// exponential-delay: each delay varies by up to this percentage either way.
    pub jitter_percent: u32,
    /// exponential-delay: after this long without a failure the backoff starts over.
    pub reset_backoff_after_ms: u64,
    /// failure-rate: more failures than this within the interval fail the job.
    pub max_failures_per_interval: u32,
    /// failure-rate: the interval.
    pub failure_rate_interval_ms: u64,
    /// `region` (only the failed task's pipelined region restarts) or `full`.
    pub failover: FailoverName,
}

/// A failover strategy's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailoverName {
    /// Restart only the failed task's pipelined region.
    #[default]
    Region,
    /// Restart every task.
    Full,
}

/// A restart strategy's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartStrategyName {
    /// Restart after a fixed delay.
    #[default]
    FixedDelay,
    /// Restart after a growing, jittered backoff.
    ExponentialDelay,
    /// Restart unless failures come too often.
    FailureRate,
    /// Never restart.
    None,
}

impl RestartStrategyName {
    /// The name as scenario files spell it.
    pub fn name(self) -> &'static str {
        match self {
            RestartStrategyName::FixedDelay => "fixed-delay",
            RestartStrategyName::ExponentialDelay => "exponential-delay",
            RestartStrategyName::FailureRate => "failure-rate",
            RestartStrategyName::None => "none",
        }
    }
}

/// `[budget]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetSection {
    /// Events a run may handle.
    pub events_max: u64,
    /// Simulated milliseconds a run may last.
    pub time_ms_max: u64,
    /// Once every fault is lifted, a checkpoint must complete (or the job finish) within
    /// this many simulated milliseconds, or the run fails liveness.
    pub heal_checkpoint_ms: u64,
}

/// One `[[faults]]` entry. A plain struct rather than a tagged enum, so that an error in
/// any field keeps its full path (`faults[0].at_ms`); which fields apply depends on `kind`
/// (docs/fault-model.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSection {
    /// What goes wrong.
    pub kind: FaultKindName,
    /// The subtask it strikes (a crash), or a latency spike's sender, as `name[index]` (a
    /// bare name for parallelism 1).
    #[serde(default)]
    pub task: Option<String>,
    /// Simulated milliseconds since the start (with `after`: from when it waits).
    pub at_ms: u64,
    /// A window's length in milliseconds (storage-unavailable, slow-storage, latency-spike).
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// slow-storage: how many times longer writes take.
    #[serde(default)]
    pub factor: Option<u32>,
    /// lose-control-messages: which kind.
    #[serde(default)]
    pub message: Option<crate::faults::ControlMessage>,
    /// lose-control-messages: how many.
    #[serde(default)]
    pub count: Option<u32>,
    /// latency-spike: the receiving task.
    #[serde(default)]
    pub to: Option<String>,
    /// latency-spike: the extra latency in microseconds.
    #[serde(default)]
    pub extra_us: Option<u64>,
    /// The protocol step to wait for (crashes): `state-captured`, `acknowledged`,
    /// `metadata-write-begun` or `completed`.
    #[serde(default)]
    pub after: Option<PhaseName>,
    /// The checkpoint id the step is about.
    #[serde(default)]
    pub checkpoint: Option<u64>,
    /// For `state-captured` and `acknowledged`: the task whose step it is (default: `task`).
    #[serde(default)]
    pub phase_task: Option<String>,
    /// crash-worker: the worker; partition: one side.
    #[serde(default)]
    pub worker: Option<u32>,
    /// partition: the other side.
    #[serde(default)]
    pub to_worker: Option<u32>,
    /// partition: cut only the direction from `worker` to `to_worker`.
    #[serde(default)]
    pub one_way: Option<bool>,
}

/// A fault kind's name: the swarm's kinds.
pub use crate::faults::swarm::FaultKind as FaultKindName;

/// A protocol step's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseName {
    /// `Phase::StateCaptured`.
    StateCaptured,
    /// `Phase::Acknowledged`.
    Acknowledged,
    /// `Phase::MetadataWriteBegun`.
    MetadataWriteBegun,
    /// `Phase::Completed`.
    Completed,
    /// `Phase::InputBlocked`.
    InputBlocked,
    /// `Phase::Restarted`.
    Restarted,
}

impl FaultSection {
    /// A crash of `task` (`name[index]`) at `at_ms`.
    pub fn crash_task(task: &str, at_ms: u64) -> FaultSection {
        FaultSection { kind: FaultKindName::CrashTask, task: Some(task.to_string()), at_ms, ..FaultSection::default() }
    }
}

/// `[swarm]`: every seed draws its own fault plan (added to `[[faults]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SwarmSection {
    /// At most this many drawn faults per seed (a seed draws 0 to this many).
    pub faults_max: u32,
    /// Drawn faults strike within the first this many milliseconds; then the run heals.
    pub fault_phase_ms: u64,
    /// The kinds a seed may enable (each seed enables about half of them).
    pub kinds: Vec<FaultKindName>,
}

impl Default for SwarmSection {
    fn default() -> Self {
        let defaults = crate::faults::swarm::SwarmConfig::default();
        SwarmSection {
            faults_max: defaults.faults_max,
            fault_phase_ms: defaults.fault_phase.as_nanos() / 1_000_000,
            kinds: FaultKindName::ALL.to_vec(),
        }
    }
}

impl Default for WorkloadSection {
    /// No records: what a bank scenario (which has no `[workload]`) holds.
    fn default() -> Self {
        WorkloadSection {
            records_per_source_subtask: 0,
            keys: 0,
            key_distribution: KeyDistributionName::Uniform,
            hot_keys: None,
            hot_percent: None,
            value_max: default_value_max(),
        }
    }
}

fn default_value_max() -> u64 {
    100
}

fn default_processing_us() -> u64 {
    10
}

impl Default for CheckpointSection {
    fn default() -> Self {
        CheckpointSection {
            protocol: crate::protocol::ProtocolKind::Aligned,
            interval_ms: 100,
            every_source_records: 0,
            timeout_ms: 10_000,
            max_concurrent: 1,
            aligned_timeout_ms: 5,
            min_pause_ms: 0,
            tolerable_failures: None,
            retained: 1,
            incremental: false,
        }
    }
}

impl Default for NetworkSection {
    fn default() -> Self {
        NetworkSection { latency_us_min: 100, latency_us_max: 1_000, buffer_capacity: 32 }
    }
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection { write_latency_us_min: 1_000, write_latency_us_max: 10_000 }
    }
}

impl Default for RecoverySection {
    fn default() -> Self {
        RecoverySection {
            strategy: RestartStrategyName::FixedDelay,
            restart_delay_ms: 100,
            max_attempts: None,
            max_backoff_ms: 60_000,
            backoff_multiplier_percent: 150,
            jitter_percent: 10,
            reset_backoff_after_ms: 3_600_000,
            max_failures_per_interval: 1,
            failure_rate_interval_ms: 60_000,
            failover: FailoverName::Region,
        }
    }
}

impl Default for BudgetSection {
    fn default() -> Self {
        BudgetSection { events_max: 100_000_000, time_ms_max: 3_600_000, heal_checkpoint_ms: 2_000 }
    }
}

/// Parses TOML into the schema; the error names the field path and, for syntax errors, the
/// line.
pub(super) fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let deserializer = toml::de::Deserializer::parse(text).map_err(|error| syntax_error(text, &error))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.message().trim().to_string();
        if path.is_empty() || path == "." {
            ScenarioError { field: None, message }
        } else {
            ScenarioError::at(path, message)
        }
    })
}

fn syntax_error(text: &str, error: &toml::de::Error) -> ScenarioError {
    let message = error.message().trim().replace('\n', " ");
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            ScenarioError { field: None, message: format!("line {line}: {message}") }
        }
        None => ScenarioError { field: None, message },
    }
}
