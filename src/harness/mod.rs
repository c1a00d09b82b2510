//! The simulated world: tasks, channels, storage and the coordinator, driven event by event.
//!
//! The harness is the one seam where effects happen. It routes each event to its owner,
//! runs operators and protocols (which only return commands), executes those commands
//! against `net/` and `storage/`, applies faults, and records every fact in the trace —
//! showing each to the checkers as it is recorded. It holds no invariant logic and no
//! protocol logic, and never prints. Files: `tasks.rs` (the data path), `checkpoints.rs`
//! (protocol and coordinator commands), `sending.rs` (routing and credit-based sending),
//! `failover.rs` (crash and restart: full, or by pipelined region), `faults.rs` (applying
//! the fault plan), `bank.rs` (the bank's accounts and script), `external.rs` (the sinks'
//! calls to the external system).

pub mod bank;
mod checkpoints;
mod event_time;
mod external;
mod failover;
mod faults;
mod incremental;
mod log;
pub mod logging;
mod rescale;
mod savepoint;
mod sending;
mod tasks;

use crate::check::{Checks, ExpectedTotals, Invariant, JobShape, RunEnd, Violation};
use crate::coverage::{CoverageCounts, CoverageTracker};
use crate::dataflow::graph::{JobGraph, Topology, VertexKind};
use crate::dataflow::record::{Message, Record};
use crate::dataflow::regions::Regions;
use crate::dataflow::source::WorkloadSpec;
use crate::dataflow::staging::Staging;
use crate::dataflow::two_phase_sink::SinkCommand;
use crate::external::{ExternalConfig, ExternalStore};
use crate::faults::FaultPlan;
use crate::kernel::ids::{Attempt, ChannelId, CheckpointId, TaskId};
use crate::kernel::rng::{Seed, SimRng, Stream};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::{Fact, TimedFact, Trace, TraceHash};
use crate::kernel::{LoopEnd, Scheduler, World};
use crate::net::{Network, NetworkConfig};
use crate::plant::PlantedBug;
use crate::protocol::coordinator::{CheckpointConfig, Coordinator, CoordinatorCommand, CoordinatorFlaws};
use crate::protocol::{Guarantee, ProtocolFactory, ProtocolKind, TaskCommand};
use crate::recovery::{RecoveryConfig, TaskRole};
use crate::storage::{Storage, StorageConfig, WriteId};
use std::collections::VecDeque;
use tasks::TaskRuntime;

/// Everything that defines a simulated job, in lower-layer types.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// The job graph (validated).
    pub graph: JobGraph,
    /// What the sources produce.
    pub workload: WorkloadSpec,
    /// Checkpoint settings.
    pub checkpoint: CheckpointConfig,
    /// Channel latency and capacity.
    pub network: NetworkConfig,
    /// Storage latency.
    pub storage: StorageConfig,
    /// Restart settings.
    pub recovery: RecoveryConfig,
    /// The faults to apply.
    pub faults: FaultPlan,
    /// The checkpoint protocol every task runs.
    pub protocol: ProtocolKind,
    /// The bank's settings, when the job is a bank of accounts.
    pub bank: Option<bank::BankConfig>,
    /// Swarm settings: with them, `explore::run` draws each seed's fault plan.
    pub swarm: Option<crate::faults::swarm::SwarmConfig>,
    /// Once every fault is lifted, a checkpoint must complete within this (zero: not
    /// checked).
    pub heal_checkpoint_within: SimDuration,
    /// The worker each task runs on (by `TaskId`), and how many workers there are.
    pub placement: Vec<u32>,
    /// Workers `0..workers`.
    pub workers: u32,
    /// The external system the sinks write to.
    pub external: ExternalConfig,
    /// The partitioned log a `log-source` reads, when the job has one.
    pub log: Option<crate::external::log::LogSpec>,
    /// Whether keyed state is checkpointed incrementally (shared files per key group).
    pub incremental: bool,
    /// Vertices redeployed with another parallelism while the job runs, in time order.
    pub rescales: Vec<crate::dataflow::staging::Rescale>,
    /// Savepoints the user asks for, in time order.
    pub savepoints: Vec<SavepointRequest>,
}

pub use savepoint::SavepointRequest;

/// A user's protocol factory, shared by every task of a run.
#[derive(Clone)]
pub struct CustomProtocol(pub std::rc::Rc<dyn ProtocolFactory>);

impl std::fmt::Debug for CustomProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CustomProtocol({})", self.0.name())
    }
}

impl PartialEq for CustomProtocol {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CustomProtocol {}

/// A user's transactional sink factory, shared by every sink task of a run.
#[derive(Clone)]
pub struct CustomSink(pub std::rc::Rc<dyn crate::dataflow::two_phase_sink::SinkFactory>);

impl std::fmt::Debug for CustomSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CustomSink({})", self.0.name())
    }
}

impl PartialEq for CustomSink {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CustomSink {}

/// Where a run streams its facts as they are recorded (see `kernel::trace::FactSink`): the
/// caller keeps its own handle on the sink to finish it after the run.
#[derive(Clone)]
pub struct FactStream(pub crate::kernel::trace::SharedFactSink);

impl std::fmt::Debug for FactStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FactStream")
    }
}

impl PartialEq for FactStream {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for FactStream {}

/// Switches that change what a run records or breaks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Keep every fact in memory (for replay and reports), not only their hash.
    pub keep_facts: bool,
    /// Hand every fact to this sink as it is recorded (kept in memory as well only if
    /// `keep_facts` says so). The trace hash is the same with or without it.
    pub fact_stream: Option<FactStream>,
    /// Deliberate bugs to plant (tests and `--plant` only).
    pub plants: Vec<PlantedBug>,
    /// Invariants not judged (tests use it to show what each checker catches on its own).
    pub disabled_checks: Vec<Invariant>,
    /// A user's own protocol, run in place of the scenario's.
    pub custom_protocol: Option<CustomProtocol>,
    /// A user's own transactional sink, run in place of the built-in two-phase-commit sink.
    pub custom_sink: Option<CustomSink>,
    /// Every checker sees every fact (`Checks::without_routing`): for the test that routing
    /// data-path facts changes no verdict.
    #[doc(hidden)]
    pub unrouted_checks: bool,
    /// Judge safety only: no progress is demanded after healing, and a run that does not
    /// finish is not judged for liveness (`RunSpec::safety_only`).
    pub safety_only: bool,
}

/// Figures about a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Checkpoints that completed.
    pub checkpoints_completed: u64,
    /// Checkpoints that were aborted.
    pub checkpoints_aborted: u64,
    /// Failovers (crashes that restarted the job).
    pub recoveries: u64,
    /// Rescales that redeployed the job (a rescale due after the job ended does nothing).
    pub rescales: u64,
    /// Savepoints that completed.
    pub savepoints_completed: u64,
    /// Stops with a savepoint (each followed by a start from it).
    pub stops: u64,
    /// Records read by sources, replays included.
    pub source_records_read: u64,
    /// Records applied to keyed state, replays included.
    pub records_applied: u64,
    /// Bytes made durable in storage.
    pub bytes_persisted: u64,
    /// At-least-once protocols: record applications in the final state beyond the expected.
    pub duplicates: Option<u64>,
    /// Jobs with an external sink: records a reader saw beyond the expected ones (allowed
    /// for an at-least-once sink or protocol; a violation otherwise).
    pub external_duplicates: Option<u64>,
    /// Incremental checkpoints: the keyed state's bytes the checkpoints wrote as new shared
    /// files, and the bytes all their key groups hold together (what full checkpoints
    /// would have written).
    pub incremental_state: Option<IncrementalFigures>,
}

/// Keyed-state bytes of incremental checkpoints against full ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncrementalFigures {
    /// Bytes written as new shared files.
    pub written: u64,
    /// Bytes of every key group referenced, new or reused: a full checkpoint's writes.
    pub full: u64,
    /// Task states persisted incrementally (one per keyed task per checkpoint).
    pub persists: u64,
}

/// What a finished world hands back.
pub struct WorldOutcome {
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// Figures.
    pub stats: RunStats,
    /// The trace hash.
    pub trace_hash: TraceHash,
    /// The number of facts recorded.
    pub fact_count: u64,
    /// The facts, if kept.
    pub facts: Option<Vec<TimedFact>>,
    /// Which fault struck in which protocol phase.
    pub coverage: CoverageCounts,
}

/// An event of the simulated world. Events of an earlier attempt are dropped on arrival.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A task's processing of its last element is over.
    TaskReady {
        /// The task that is ready for its next element.
        task: TaskId,
        /// The attempt that scheduled the event (dropped if the job has restarted since).
        attempt: Attempt,
    },
    /// Message `sequence` of `channel` reaches the receiver.
    Arrival {
        /// The channel the message travels on.
        channel: ChannelId,
        /// The message's number on its channel.
        sequence: u64,
        /// The attempt that scheduled the event (dropped if the job has restarted since).
        attempt: Attempt,
    },
    /// The coordinator's periodic trigger timer.
    TriggerTimer {
        /// The timer's generation; a timer of an older generation is ignored.
        generation: u64,
    },
    /// A checkpoint trigger reaches a source task.
    TriggerReceived {
        /// The source task the trigger reaches.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// The attempt that scheduled the event (dropped if the job has restarted since).
        attempt: Attempt,
    },
    /// An abort notice reaches a task.
    AbortReceived {
        /// The task the notice reaches.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// The attempt that scheduled the event (dropped if the job has restarted since).
        attempt: Attempt,
    },
    /// A completion notice reaches a task.
    CompletionReceived {
        /// The task the notice reaches.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// The attempt that scheduled the event (dropped if the job has restarted since).
        attempt: Attempt,
    },
    /// An acknowledgement reaches the coordinator.
    AcknowledgeReceived {
        /// The acknowledging task.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// A decline reaches the coordinator.
    DeclineReceived {
        /// The declining task.
        task: TaskId,
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// Whether the decline counts towards the tolerated consecutive checkpoint failures.
        counted: bool,
    },
    /// A storage write becomes durable.
    WriteDone {
        /// The storage write.
        write: WriteId,
        /// The attempt that scheduled the event (dropped if the job has restarted since).
        attempt: Attempt,
    },
    /// A checkpoint's timeout elapses.
    CheckpointTimeout {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// The fault at this index of the plan strikes.
    Fault {
        /// The fault's index in the plan.
        index: u32,
    },
    /// The phase-triggered fault at this index of the plan starts waiting for its step.
    ArmFault {
        /// The fault's index in the plan.
        index: u32,
    },
    /// A fault's window closes.
    FaultLifted,
    /// The job restarts as `attempt`.
    Restart {
        /// The attempt number the job restarts as.
        attempt: Attempt,
    },
    /// A timer a task's protocol set fires.
    ProtocolTimer {
        /// The task whose protocol set the timer.
        task: TaskId,
        /// The attempt that scheduled the event (dropped if the job has restarted since).
        attempt: Attempt,
    },
    /// The bank's scripted event at this index happens.
    Script {
        /// The index in the bank's script.
        index: u32,
    },
    /// The bank's script is over: accounts may close their outputs.
    ScriptEnded,
    /// Pipelined `region` restarts as `attempt` (region failover), unless it failed again.
    RegionRestart {
        /// The pipelined region's index.
        region: u32,
        /// The attempt number the region restarts as.
        attempt: Attempt,
    },
    /// A sink's call to the external system failed: its task fails.
    SinkFailed {
        /// The sink's task.
        task: TaskId,
        /// The attempt that scheduled the event (dropped if the job has restarted since).
        attempt: Attempt,
    },
    /// The downstream reader polls the external system.
    ReaderPoll,
    /// Incarnation `epoch` of `txn` reaches the external system's transaction timeout.
    TransactionTimeout {
        /// The transaction that timed out.
        txn: crate::kernel::ids::TransactionId,
        /// The incarnation of `txn` the timeout was set for.
        epoch: u32,
    },
    /// The split enumerator looks for new partitions of the log (unless a restart has
    /// started a new `generation` of discovery since).
    PartitionDiscovery {
        /// The discovery generation that scheduled the event; an older one is ignored.
        generation: u64,
    },
    /// The job is stopped and redeployed as `stage` (a scenario's rescale).
    Rescale {
        /// The deployment stage to redeploy (each rescale adds one).
        stage: u32,
    },
    /// The user asks for a savepoint (`stop`: and for the job to stop with it).
    SavepointRequested {
        /// Whether the job stops with the savepoint.
        stop: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobStatus {
    Running,
    Restarting,
    Finished,
    /// The restart strategy gave up: the job failed for good.
    Failed,
}

/// Which protocol every task runs: a built-in one, or a user's.
#[derive(Clone, Debug)]
pub(crate) struct ProtocolChoice {
    pub(crate) kind: ProtocolKind,
    pub(crate) checkpoint: CheckpointConfig,
    pub(crate) custom: Option<CustomProtocol>,
}

impl ProtocolChoice {
    fn guarantee(&self) -> Guarantee {
        self.custom.as_ref().map_or(self.kind.guarantee(), |custom| custom.0.guarantee())
    }
}

/// How a barrier reached its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BarrierTaken {
    /// On arrival, as a priority event: every record queued on its input is ahead of it.
    OnArrival,
    /// Consumed in order: nothing queued on its input is ahead of it.
    InOrder,
}

/// Reused buffers, so the hot path does not allocate per record.
#[derive(Default)]
struct Scratch {
    records: Vec<Record>,
    channels: Vec<ChannelId>,
    task_commands: Vec<TaskCommand>,
    coordinator_commands: Vec<CoordinatorCommand>,
    sink_commands: Vec<SinkCommand>,
}

/// The simulated world of one run.
pub struct SimWorld {
    config: WorldConfig,
    /// Every stage of the job (one more per rescale) in run-global task and channel ids.
    staging: Staging,
    /// The stage running now, and the one the next restart deploys (a rescale asks for it).
    stage: usize,
    stage_wanted: usize,
    /// The first checkpoint triggered in each stage (`note_checkpoint_stage`): a restore
    /// into another stage redistributes its state (`rescale.rs`).
    checkpoint_stages: std::collections::BTreeMap<CheckpointId, usize>,
    /// Every savepoint triggered, and whether the job stops with it.
    savepoints: std::collections::BTreeMap<CheckpointId, bool>,
    /// The stage a stop-with-savepoint asked for by a rescale deploys, once it completes.
    rescale_on_stop: Option<usize>,
    /// The savepoints that completed: their objects are kept for good.
    completed_savepoints: std::collections::BTreeSet<CheckpointId>,
    /// A completed stop-with-savepoint and the completion notices still on their way: the
    /// job stops when none is.
    stopping: Option<(CheckpointId, usize)>,
    /// The running stage's topology.
    topology: Topology,
    /// The pipelined regions, which region failover restarts one by one.
    regions: Regions,
    roles: Vec<TaskRole>,
    tasks: Vec<TaskRuntime>,
    network: Network<Message>,
    storage: Storage,
    /// The external system the sinks write to.
    external: ExternalStore,
    /// The partitioned log and its split enumerator, when a `log-source` reads one.
    log: Option<log::LogRuntime>,
    /// Whether watermarks flow (the job has an event-time window).
    watermarks: bool,
    /// The incremental state backend's files and their registry.
    incremental: incremental::IncrementalState,
    coordinator: Coordinator,
    network_stream: SimRng,
    storage_stream: SimRng,
    trace: Trace,
    checks: Checks,
    /// Which fault struck in which protocol phase (never part of the trace hash).
    coverage: CoverageTracker,
    now: SimTime,
    attempt: Attempt,
    job: JobStatus,
    source_records_since_milestone: u64,
    plants: Vec<PlantedBug>,
    protocol_choice: ProtocolChoice,
    /// How the barrier a protocol is handling right now was taken, if any.
    barrier_in_hand: Option<BarrierTaken>,
    /// The account a scripted initiation names, while the coordinator is asked to trigger.
    next_initiator: Option<TaskId>,
    /// Draws which account initiates each periodic snapshot of a bank.
    initiator_stream: SimRng,
    /// Phase-triggered faults armed and waiting for their step (plan indexes).
    armed_faults: Vec<u32>,
    /// The control-message faults in force: messages still to lose or delay, per kind.
    control_faults: faults::ControlFaults,
    /// Faults of the plan not yet over (struck, and their window closed).
    faults_outstanding: usize,
    /// Network partitions in force (expired ones are dropped when next looked at).
    partitions: Vec<faults::Cut>,
    /// The restart strategy and the failures it has seen.
    restarts: crate::recovery::restart::Restarts,
    /// Draws restart-delay jitter.
    restart_stream: SimRng,
    stats: RunStats,
    scratch: Scratch,
}

impl SimWorld {
    /// A world for `config` in the run with `seed`, judged against `expected`.
    pub fn new(config: WorldConfig, seed: Seed, expected: ExpectedTotals, options: RunOptions) -> SimWorld {
        let staging = Staging::new(&config.graph, &config.rescales);
        let topology = staging.stages[0].topology.clone();
        let regions = staging.stages[0].regions.clone();
        let roles = task_roles(&config.graph, &topology);
        let choice = ProtocolChoice {
            kind: config.protocol,
            checkpoint: config.checkpoint,
            custom: options.custom_protocol.clone(),
        };
        let tasks = deploy_tasks(&config, &staging, seed, &choice, &options);
        let guarantee = choice.guarantee();
        SimWorld {
            network: Network::new(
                topology.channels.len(),
                NetworkConfig { fifo: !options.plants.contains(&PlantedBug::BreakFifo), ..config.network },
            ),
            storage: Storage::new(config.storage),
            external: external_store(&config, &options.plants),
            log: log::LogRuntime::of(&config, &options.plants),
            incremental: incremental::IncrementalState::new(&options.plants),
            watermarks: config.graph.vertices.iter().any(|vertex| vertex.kind == VertexKind::TumblingWindow),
            coordinator: coordinator(&config, &staging, &options.plants),
            network_stream: network_stream(seed, &options.plants),
            storage_stream: SimRng::open(seed, Stream::Storage),
            trace: match &options.fact_stream {
                Some(stream) => Trace::new(options.keep_facts).streaming_to(stream.0.clone()),
                None => Trace::new(options.keep_facts),
            },
            checks: checks(&config, expected, job_shape(&staging), guarantee, &options),
            coverage: CoverageTracker::new(&config.faults.faults, staging.stage_sizes()),
            protocol_choice: choice,
            now: SimTime::ZERO,
            attempt: Attempt(0),
            job: JobStatus::Running,
            source_records_since_milestone: 0,
            plants: options.plants,
            barrier_in_hand: None,
            next_initiator: None,
            initiator_stream: SimRng::open(seed, Stream::Initiators),
            armed_faults: Vec::new(),
            control_faults: faults::ControlFaults::default(),
            faults_outstanding: config.faults.faults.len(),
            partitions: Vec::new(),
            restarts: crate::recovery::restart::Restarts::new(config.recovery.strategy),
            restart_stream: SimRng::open(seed, Stream::Restarts),
            stats: RunStats::default(),
            scratch: Scratch::default(),
            config,
            staging,
            stage: 0,
            stage_wanted: 0,
            checkpoint_stages: std::collections::BTreeMap::new(),
            savepoints: std::collections::BTreeMap::new(),
            completed_savepoints: std::collections::BTreeSet::new(),
            rescale_on_stop: None,
            stopping: None,
            topology,
            regions,
            roles,
            tasks,
        }
    }

    /// Schedules the start of the job and every fault of the plan.
    pub fn start(&mut self, scheduler: &mut Scheduler<Event>) {
        self.schedule_faults(scheduler);
        self.schedule_rescales(scheduler);
        self.schedule_savepoints(scheduler);
        self.start_script(scheduler);
        self.tell_coordinator(crate::protocol::coordinator::CoordinatorInput::JobStarted, scheduler);
        let every_task = self.running_tasks();
        self.start_sinks(&every_task, scheduler);
        self.start_reader(scheduler);
        self.start_log(scheduler);
        for task in every_task {
            self.try_work(task, scheduler);
        }
    }

    /// The tasks of the running stage, in id order.
    fn running_tasks(&self) -> Vec<TaskId> {
        self.staging.stages[self.stage].active.clone()
    }

    /// Runs the end-of-run checks and hands back the outcome.
    pub fn finish(mut self, end: LoopEnd) -> WorldOutcome {
        self.checks.finish(RunEnd { stop: end.stop, time: end.now });
        self.stats.duplicates = self.checks.duplicates();
        self.stats.external_duplicates = self.checks.external_duplicates();
        self.stats.bytes_persisted = self.storage.bytes_written();
        WorldOutcome {
            violation: self.checks.take_violation(),
            stats: self.stats,
            trace_hash: self.trace.hash(),
            fact_count: self.trace.fact_count(),
            facts: self.trace.take_kept_facts(),
            coverage: self.coverage.into_counts(),
        }
    }

    /// Records a fact at the current time and shows it to the checkers.
    #[inline]
    fn record(&mut self, fact: Fact) {
        let index = self.trace.record(self.now, &fact);
        self.checks.observe(self.now, index, &fact);
        self.coverage.observe(&fact);
        logging::log_fact(self.now, index, &fact);
    }

    /// A control-message (RPC) latency, drawn from the network stream.
    fn control_latency(&mut self) -> SimDuration {
        let network = self.config.network;
        let nanos = self.network_stream.in_range(network.latency_min.as_nanos(), network.latency_max.as_nanos());
        SimDuration::from_nanos(nanos)
    }

    /// The task at the receiving end of `channel`.
    fn receiver_of(&self, channel: ChannelId) -> TaskId {
        self.topology.channels[channel.index()].receiver
    }

    /// Whether an event scheduled for `task` in `attempt` still stands: the job runs and the
    /// task has neither failed since nor is down.
    fn is_live(&self, task: TaskId, attempt: Attempt) -> bool {
        let runtime = &self.tasks[task.index()];
        self.job == JobStatus::Running
            && runtime.attempt == attempt
            && !matches!(runtime.status, tasks::TaskStatus::Down | tasks::TaskStatus::Inactive)
    }
}

impl World for SimWorld {
    type Event = Event;

    fn handle(&mut self, now: SimTime, event: Event, scheduler: &mut Scheduler<Event>) {
        self.now = now;
        match event {
            Event::TaskReady { task, attempt } if self.is_live(task, attempt) => self.on_task_ready(task, scheduler),
            Event::Arrival { channel, sequence, attempt } if self.is_live(self.receiver_of(channel), attempt) => {
                self.on_arrival(channel, sequence, scheduler);
            }
            Event::TriggerTimer { generation } => self.on_trigger_timer(generation, scheduler),
            Event::TriggerReceived { task, checkpoint, attempt } if self.is_live(task, attempt) => {
                self.on_trigger_received(task, checkpoint, scheduler);
            }
            Event::AbortReceived { task, checkpoint, attempt } if self.is_live(task, attempt) => {
                self.on_abort_received(task, checkpoint, scheduler);
            }
            Event::CompletionReceived { task, checkpoint, attempt } if self.is_live(task, attempt) => {
                self.on_completion_received(task, checkpoint, scheduler);
            }
            Event::AcknowledgeReceived { task, checkpoint } => {
                self.on_acknowledge_received(task, checkpoint, scheduler)
            }
            Event::DeclineReceived { task, checkpoint, counted } => {
                self.on_decline_received(task, checkpoint, counted, scheduler);
            }
            Event::WriteDone { write, attempt } => self.on_write_done(write, attempt, scheduler),
            Event::CheckpointTimeout { checkpoint } => self.on_checkpoint_timeout(checkpoint, scheduler),
            Event::Fault { index } => self.on_fault(index, scheduler),
            Event::ArmFault { index } => self.on_arm_fault(index),
            Event::FaultLifted => self.fault_lifted(),
            Event::Restart { attempt } if attempt == self.attempt => self.on_restart(scheduler),
            Event::ProtocolTimer { task, attempt } if self.is_live(task, attempt) => {
                self.run_protocol(task, crate::protocol::TaskInput::Timer, scheduler);
                self.try_work(task, scheduler);
            }
            Event::RegionRestart { region, attempt } => self.on_region_restart(region, attempt, scheduler),
            Event::SinkFailed { task, attempt } if self.is_live(task, attempt) => self.on_sink_failed(task, scheduler),
            Event::TransactionTimeout { txn, epoch } => self.on_transaction_timeout(txn, epoch),
            Event::ReaderPoll => self.on_reader_poll(scheduler),
            Event::PartitionDiscovery { generation } => self.on_partition_discovery(generation, scheduler),
            Event::Script { index } => self.on_script(index, scheduler),
            Event::Rescale { stage } => self.on_rescale(stage as usize, scheduler),
            Event::SavepointRequested { stop } => self.on_savepoint_requested(stop, scheduler),
            Event::ScriptEnded => self.close_bank_if_done(scheduler),
            // An event of an attempt that failed: what it stood for died with that attempt.
            Event::TaskReady { .. }
            | Event::Arrival { .. }
            | Event::TriggerReceived { .. }
            | Event::AbortReceived { .. }
            | Event::CompletionReceived { .. }
            | Event::SinkFailed { .. }
            | Event::ProtocolTimer { .. }
            | Event::Restart { .. } => {}
        }
    }

    fn is_finished(&self) -> bool {
        matches!(self.job, JobStatus::Finished | JobStatus::Failed) || self.checks.violation().is_some()
    }
}

/// A runtime for every task of the run; those of later stages wait, inactive, for the
/// rescale that deploys them.
fn deploy_tasks(
    config: &WorldConfig,
    staging: &Staging,
    seed: Seed,
    choice: &ProtocolChoice,
    options: &RunOptions,
) -> Vec<TaskRuntime> {
    let first = &staging.stages[0];
    (0..staging.task_count())
        .map(|index| {
            let mut runtime = TaskRuntime::new(config, &first.topology, index, seed, choice, options);
            if !first.runs(TaskId::from_index(index)) {
                runtime.status = tasks::TaskStatus::Inactive;
            }
            runtime
        })
        .collect()
}

/// The network stream of a run. Under the planted bug `leak-process-state` a counter that
/// outlives runs shifts it by one more draw each run — deliberately the kind of hidden
/// state the determinism rules forbid, so that the self-check has something to catch.
fn network_stream(seed: Seed, plants: &[PlantedBug]) -> SimRng {
    let mut stream = SimRng::open(seed, Stream::Network);
    if plants.contains(&PlantedBug::LeakProcessState) {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let leaked = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for _ in 0..=leaked {
            stream.next_u64();
        }
    }
    stream
}

/// The job's coordinator, with its planted bugs among `plants`.
fn coordinator(config: &WorldConfig, staging: &Staging, plants: &[PlantedBug]) -> Coordinator {
    let flaws = CoordinatorFlaws {
        count_stale_failures: plants.contains(&PlantedBug::CountStaleCheckpointFailures),
        trigger_stuck_after_expiry: plants.contains(&PlantedBug::CheckpointTriggerStuckAfterExpiry),
    };
    Coordinator::new(config.checkpoint, staging.stages[0].active.len()).with_flaws(flaws)
}

/// The external system of a run, with its planted bug if asked for.
fn external_store(config: &WorldConfig, plants: &[PlantedBug]) -> ExternalStore {
    let mut store = ExternalStore::new(config.external);
    if plants.contains(&PlantedBug::RecommitRepublishes) {
        store = store.republishing_on_recommit();
    }
    if plants.contains(&PlantedBug::UpsertInsertIgnore) {
        store = store.ignoring_upserts_of_known_keys();
    }
    store
}

/// The checkers of a run; with faults in the plan, progress after healing too.
/// What each task of `topology` does in a restore.
fn task_roles(graph: &JobGraph, topology: &Topology) -> Vec<TaskRole> {
    topology
        .tasks
        .iter()
        .map(|task| match graph.vertices[task.vertex.index()].kind {
            VertexKind::Source | VertexKind::LogSource => TaskRole::Source,
            VertexKind::KeyedCount | VertexKind::KeyedJoin => TaskRole::Keyed,
            VertexKind::Sink
            | VertexKind::TwoPhaseCommitSink
            | VertexKind::UpsertSink
            | VertexKind::AtLeastOnceSink
            | VertexKind::TumblingWindow => TaskRole::Other,
            VertexKind::Account => TaskRole::Account,
        })
        .collect()
}

fn checks(
    config: &WorldConfig,
    expected: ExpectedTotals,
    shape: JobShape,
    guarantee: Guarantee,
    options: &RunOptions,
) -> Checks {
    let mut disabled = options.disabled_checks.clone();
    if options.safety_only {
        disabled.push(Invariant::Liveness);
    }
    let mut checks =
        Checks::new(expected, shape, guarantee, disabled).with_tolerable_failures(config.checkpoint.tolerable_failures);
    if options.unrouted_checks {
        checks = checks.without_routing();
    }
    if config.heal_checkpoint_within == SimDuration::ZERO || options.safety_only {
        return checks;
    }
    // A checkpoint pending at healing may have been poisoned by a fault (a lost
    // acknowledgement) and is only abandoned at its timeout: progress is due after that.
    checks.with_healing(config.checkpoint.timeout.plus(config.heal_checkpoint_within))
}

/// The static shape the checkers need: every stage's tasks and regions.
fn job_shape(staging: &Staging) -> JobShape {
    let stages = staging
        .stages
        .iter()
        .map(|stage| crate::check::StageShape {
            tasks: stage.active.clone(),
            regions: (0..stage.regions.count()).map(|region| stage.regions.members(region as u32).to_vec()).collect(),
        })
        .collect();
    let key_groups = staging
        .tasks
        .iter()
        .map(|incarnation| {
            let vertex = &staging.stages[0].graph.vertices[incarnation.vertex.index()];
            let state_keys_per_key = match vertex.kind {
                VertexKind::KeyedCount => 1,
                VertexKind::KeyedJoin => 2,
                _ => return None,
            };
            let range = crate::dataflow::keyed_state::KeyGroupRange::of_subtask(
                incarnation.subtask,
                incarnation.parallelism,
                vertex.max_parallelism,
            );
            Some(crate::check::OwnedKeyGroups { range, max_parallelism: vertex.max_parallelism, state_keys_per_key })
        })
        .collect();
    JobShape { task_count: staging.task_count(), channel_ends: staging.channel_ends.clone(), stages, key_groups }
}

/// The queue of a task's inputs that have data and may be consumed, in arrival order.
pub(crate) type ReadyInputs = VecDeque<u32>;
