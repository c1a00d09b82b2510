//! Planted bugs: deliberate, switchable deviations that prove the checkers bite.
//!
//! A normal run plants nothing. Tests (and `snapsim run --plant NAME`) switch one on to see
//! the right invariant fail. Each bug lives in the code it breaks, behind a check of this
//! set; this file only names and describes them. The bug zoo (#8) grows this list.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A deliberately wrong behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PlantedBug {
    /// Recovery restores operator state but leaves each source at its live read position
    /// instead of rewinding it to the checkpointed offset: records between the checkpoint
    /// and the crash are lost.
    ForgetSourceRewind,
    /// Recovery rewinds the sources but leaves keyed operators with their live state instead
    /// of the checkpointed one: replayed records are counted twice.
    SkipKeyedStateRestore,
    /// Recovery hands each keyed subtask the checkpointed state of the next keyed subtask:
    /// state routed to the wrong owner, which only the final aggregates reveal.
    RestoreNeighbourState,
    /// Every task acknowledges each checkpoint twice; the coordinator's assertion fires, and
    /// the run ends in a panic, which a sweep reports as a finding.
    AcknowledgeTwice,
    /// Aligned barriers that never block an input: records behind a barrier are processed
    /// before the snapshot, so the snapshot holds effects the sources' offsets do not (an
    /// orphan message across the cut).
    ConsumeBlockedInput,
    /// Chandy-Lamport snapshots that never record channel state: messages in flight across
    /// the cut are lost from the snapshot.
    SkipChannelState,
    /// Channels that do not keep FIFO order: a message can overtake earlier ones, breaking
    /// the assumption Chandy-Lamport and barrier alignment rest on.
    BreakFifo,
    /// State that outlives a run leaks into it (a process-wide counter shifts the network
    /// draws), so the same seed runs differently twice: what the determinism self-check
    /// exists to catch.
    LeakProcessState,
    /// Region failover redeploys the failed region with empty state instead of restoring
    /// the latest checkpoint (FLINK-10712): sources start over from offset 0 and keyed
    /// state is lost, inside that region only.
    RegionRestartWithoutState,
    /// The two-phase-commit sink commits each transaction at its pre-commit instead of when
    /// the checkpoint completes: a failover replays records already committed.
    CommitOnPreCommit,
    /// A restored two-phase-commit sink drops the pre-committed transactions of its
    /// checkpoint instead of committing them: whatever the lost completion notice would
    /// have committed never is.
    SkipRecommitAfterRecovery,
    /// The external system publishes a committed transaction's records again when it is
    /// committed again (a commit that is not idempotent), as a restored sink's re-commit
    /// does: the transaction is committed twice.
    RecommitRepublishes,
    /// A restored source starts reading one record past its checkpointed offset: that
    /// record is never replayed.
    RestoredSourceOneOffsetLate,
    /// The at-least-once sink does not flush at its snapshot: a checkpoint completes with
    /// records only in its buffer, and a failover (or the job's end) loses them.
    SkipFlushOnSnapshot,
    /// The external table keeps a key's first value (insert-or-ignore instead of upsert).
    UpsertInsertIgnore,
    /// The split enumerator does not take back the partitions it assigned to a reader that
    /// restarts with no checkpoint to restore (FLINK-20396): nobody reads them again.
    ForgetAssignmentsBeforeFirstCheckpoint,
    /// The shared-state registry deletes every file a subsumed checkpoint referenced,
    /// without counting the later checkpoints that reference the same files.
    DeleteSharedFilesOnSubsumption,
    /// A rescaled restore gives each new subtask the key groups one past its own range
    /// (`first + 1 ..= last + 1`): a group lands on its neighbour, and the first on nobody.
    RescaleKeyGroupsOffByOne,
    /// An intermediate savepoint sends completion notices though a restore never loads it
    /// (FLINK-10354): sinks commit what a failover then replays.
    SavepointNotifiesCompletion,
    /// The coordinator notifies completion as soon as every task acknowledged, before the
    /// checkpoint's metadata is durable: a checkpoint that then never completes had its side
    /// effects committed.
    NotifyBeforeMetadataDurable,
    /// An unaligned snapshot forgets the output records its barriers overtook: they are in
    /// no channel state, and a restore loses them.
    ForgetOvertakenOutput,
    /// A coordinator that takes over numbers checkpoints from the latest completed one
    /// again, reusing the ids of checkpoints its predecessor had pending.
    ReuseCheckpointIdsAfterFailover,
    /// An aligned task captures its state at the first barrier of a checkpoint, not once the
    /// last input's barrier arrived (it still blocks inputs): what the other inputs deliver
    /// before their barriers is in neither its state nor any channel state.
    SnapshotBeforeAlignmentCompletes,
    /// The coordinator's failure manager drops its guards (FLINK-18336): a failure of a
    /// checkpoint no longer pending (a late decline, the timeout of one that completed) or
    /// older than the last success is counted again, and the job is failed over early.
    CountStaleCheckpointFailures,
    /// After a pending checkpoint expires, the coordinator's "triggering" state is never reset
    /// (FLINK-26394): no checkpoint is triggered again, and a finite job, which needs a final
    /// checkpoint to finish (FLIP-147), never does.
    CheckpointTriggerStuckAfterExpiry,
    /// A coordinator that takes over while storage is unavailable drops the completed
    /// checkpoints it cannot read from its store (FLINK-7783) instead of retrying: the job
    /// restarts from scratch though a completed checkpoint is durable.
    DropCheckpointsUnreadableAtRecovery,
    /// The at-least-once sink swallows a failed append of its flush at a snapshot
    /// (FLINK-31305 / FLINK-35749) instead of failing its task: the checkpoint completes and
    /// the records of that flush are lost.
    SwallowAsyncSinkError,
    /// Under unaligned checkpoints, a task stops recording an input's channel state on any
    /// barrier arriving on it, even the obsolete barrier of an older, abandoned checkpoint
    /// (FLINK-20654 / FLINK-21104): what that input delivers until the barrier of the checkpoint
    /// being taken is in no channel state.
    StaleBarrierStopsChannelRecording,
}

/// Every planted bug, for listings.
pub const ALL_PLANTS: [PlantedBug; 28] = [
    PlantedBug::ForgetSourceRewind,
    PlantedBug::SkipKeyedStateRestore,
    PlantedBug::RestoreNeighbourState,
    PlantedBug::AcknowledgeTwice,
    PlantedBug::ConsumeBlockedInput,
    PlantedBug::SkipChannelState,
    PlantedBug::BreakFifo,
    PlantedBug::LeakProcessState,
    PlantedBug::RegionRestartWithoutState,
    PlantedBug::CommitOnPreCommit,
    PlantedBug::SkipRecommitAfterRecovery,
    PlantedBug::RecommitRepublishes,
    PlantedBug::RestoredSourceOneOffsetLate,
    PlantedBug::SkipFlushOnSnapshot,
    PlantedBug::UpsertInsertIgnore,
    PlantedBug::ForgetAssignmentsBeforeFirstCheckpoint,
    PlantedBug::DeleteSharedFilesOnSubsumption,
    PlantedBug::RescaleKeyGroupsOffByOne,
    PlantedBug::SavepointNotifiesCompletion,
    PlantedBug::NotifyBeforeMetadataDurable,
    PlantedBug::ForgetOvertakenOutput,
    PlantedBug::ReuseCheckpointIdsAfterFailover,
    PlantedBug::SnapshotBeforeAlignmentCompletes,
    PlantedBug::CountStaleCheckpointFailures,
    PlantedBug::CheckpointTriggerStuckAfterExpiry,
    PlantedBug::DropCheckpointsUnreadableAtRecovery,
    PlantedBug::SwallowAsyncSinkError,
    PlantedBug::StaleBarrierStopsChannelRecording,
];

impl PlantedBug {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::ForgetSourceRewind => "forget-source-rewind",
            PlantedBug::SkipKeyedStateRestore => "skip-keyed-state-restore",
            PlantedBug::RestoreNeighbourState => "restore-neighbour-state",
            PlantedBug::AcknowledgeTwice => "acknowledge-twice",
            PlantedBug::ConsumeBlockedInput => "consume-blocked-input",
            PlantedBug::SkipChannelState => "skip-channel-state",
            PlantedBug::BreakFifo => "break-fifo",
            PlantedBug::LeakProcessState => "leak-process-state",
            PlantedBug::RegionRestartWithoutState => "region-restart-without-state",
            PlantedBug::CommitOnPreCommit => "commit-on-pre-commit",
            PlantedBug::SkipRecommitAfterRecovery => "skip-recommit-after-recovery",
            PlantedBug::RecommitRepublishes => "recommit-republishes",
            PlantedBug::RestoredSourceOneOffsetLate => "restored-source-one-offset-late",
            PlantedBug::SkipFlushOnSnapshot => "skip-flush-on-snapshot",
            PlantedBug::UpsertInsertIgnore => "upsert-insert-ignore",
            PlantedBug::ForgetAssignmentsBeforeFirstCheckpoint => "forget-assignments-before-first-checkpoint",
            PlantedBug::DeleteSharedFilesOnSubsumption => "delete-shared-files-on-subsumption",
            PlantedBug::RescaleKeyGroupsOffByOne => "rescale-key-groups-off-by-one",
            PlantedBug::SavepointNotifiesCompletion => "savepoint-notifies-completion",
            PlantedBug::NotifyBeforeMetadataDurable => "notify-before-metadata-durable",
            PlantedBug::ForgetOvertakenOutput => "forget-overtaken-output",
            PlantedBug::ReuseCheckpointIdsAfterFailover => "reuse-checkpoint-ids-after-failover",
            PlantedBug::SnapshotBeforeAlignmentCompletes => "snapshot-before-alignment-completes",
            PlantedBug::CountStaleCheckpointFailures => "count-stale-checkpoint-failures",
            PlantedBug::CheckpointTriggerStuckAfterExpiry => "checkpoint-trigger-stuck-after-expiry",
            PlantedBug::DropCheckpointsUnreadableAtRecovery => "drop-checkpoints-unreadable-at-recovery",
            PlantedBug::SwallowAsyncSinkError => "swallow-async-sink-error",
            PlantedBug::StaleBarrierStopsChannelRecording => "stale-barrier-stops-channel-recording",
        }
    }

    /// What the bug does, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            PlantedBug::ForgetSourceRewind => "recovery leaves sources at their live offsets instead of rewinding",
            PlantedBug::SkipKeyedStateRestore => "recovery leaves keyed operators with their live state",
            PlantedBug::RestoreNeighbourState => "recovery gives each keyed subtask its neighbour's state",
            PlantedBug::AcknowledgeTwice => "tasks acknowledge every checkpoint twice",
            PlantedBug::ConsumeBlockedInput => "aligned barriers never block an input during alignment",
            PlantedBug::SkipChannelState => "Chandy-Lamport snapshots record no channel state",
            PlantedBug::BreakFifo => "channels may deliver a message before earlier ones",
            PlantedBug::LeakProcessState => "a process-wide counter leaks into every run",
            PlantedBug::RegionRestartWithoutState => {
                "region failover redeploys the failed region with empty state (FLINK-10712)"
            }
            PlantedBug::CommitOnPreCommit => "the two-phase-commit sink commits at pre-commit, not on completion",
            PlantedBug::SkipRecommitAfterRecovery => {
                "a restored two-phase-commit sink does not commit its restored pending transactions"
            }
            PlantedBug::RecommitRepublishes => {
                "the external system publishes a transaction again when it is re-committed"
            }
            PlantedBug::RestoredSourceOneOffsetLate => {
                "a restored source starts one record past its checkpointed offset"
            }
            PlantedBug::SkipFlushOnSnapshot => "the at-least-once sink does not flush its buffer at a snapshot",
            PlantedBug::UpsertInsertIgnore => "the external table keeps a key's first value instead of upserting",
            PlantedBug::ForgetAssignmentsBeforeFirstCheckpoint => {
                "the split enumerator loses the partitions of a reader that restarts before any checkpoint \
                 (FLINK-20396)"
            }
            PlantedBug::DeleteSharedFilesOnSubsumption => {
                "the shared-state registry deletes a subsumed checkpoint's files without counting later references"
            }
            PlantedBug::RescaleKeyGroupsOffByOne => {
                "a rescaled restore routes each new subtask the key groups one past its own range"
            }
            PlantedBug::SavepointNotifiesCompletion => {
                "an intermediate savepoint notifies completion though recovery never restores it (FLINK-10354)"
            }
            PlantedBug::NotifyBeforeMetadataDurable => {
                "completion is notified when every task acknowledged, before the metadata is durable"
            }
            PlantedBug::ForgetOvertakenOutput => "an unaligned snapshot keeps no output records its barriers overtook",
            PlantedBug::ReuseCheckpointIdsAfterFailover => {
                "a new coordinator numbers checkpoints from the latest completed one, reusing pending ids"
            }
            PlantedBug::SnapshotBeforeAlignmentCompletes => {
                "an aligned task snapshots at the first barrier instead of when alignment completes"
            }
            PlantedBug::CountStaleCheckpointFailures => {
                "the failure manager counts failures of checkpoints no longer pending or older than the last success"
            }
            PlantedBug::CheckpointTriggerStuckAfterExpiry => {
                "after a checkpoint expires, the coordinator never triggers one again"
            }
            PlantedBug::DropCheckpointsUnreadableAtRecovery => {
                "a coordinator taking over during a storage outage drops the completed checkpoints it cannot read"
            }
            PlantedBug::SwallowAsyncSinkError => {
                "the at-least-once sink swallows a failed flush at a snapshot and acknowledges the checkpoint anyway"
            }
            PlantedBug::StaleBarrierStopsChannelRecording => {
                "an unaligned task stops recording a channel on an obsolete barrier of an older checkpoint"
            }
        }
    }

    /// The real failure class the bug is modelled on: a Flink issue, or a classic mistake.
    pub fn models(self) -> &'static str {
        match self {
            PlantedBug::ForgetSourceRewind => "classic: replay from the live position, not the checkpointed one",
            PlantedBug::SkipKeyedStateRestore => "classic: state backend not reloaded on failover",
            PlantedBug::RestoreNeighbourState => "classic: state handles assigned to the wrong subtask",
            PlantedBug::AcknowledgeTwice => "classic: a duplicate acknowledgement counted twice",
            PlantedBug::ConsumeBlockedInput => "classic: consuming a blocked input during alignment",
            PlantedBug::SkipChannelState => "classic: in-flight data left out of the snapshot (FLINK-20645 class)",
            PlantedBug::BreakFifo => "classic: a transport that reorders a channel",
            PlantedBug::LeakProcessState => "classic: hidden state shared between simulation runs",
            PlantedBug::RegionRestartWithoutState => "FLINK-10712",
            PlantedBug::CommitOnPreCommit => "classic: two-phase commit collapsed to one phase",
            PlantedBug::SkipRecommitAfterRecovery => "classic: pending transactions not recommitted after restore",
            PlantedBug::RecommitRepublishes => "classic: a non-idempotent commit",
            PlantedBug::RestoredSourceOneOffsetLate => "FLINK-4618 (offset off by one)",
            PlantedBug::SkipFlushOnSnapshot => "FLINK-6996",
            PlantedBug::UpsertInsertIgnore => "classic: insert-or-ignore where an upsert is needed",
            PlantedBug::ForgetAssignmentsBeforeFirstCheckpoint => "FLINK-20396 / FLINK-20222",
            PlantedBug::DeleteSharedFilesOnSubsumption => "FLINK-29913 class (shared state deleted while referenced)",
            PlantedBug::RescaleKeyGroupsOffByOne => "classic: key-group range computed off by one on rescale",
            PlantedBug::SavepointNotifiesCompletion => "FLINK-10354 (fixed for good by FLINK-25191)",
            PlantedBug::NotifyBeforeMetadataDurable => "classic: completion notified before the checkpoint is durable",
            PlantedBug::ForgetOvertakenOutput => {
                "classic: overtaken output buffers left out of an unaligned checkpoint"
            }
            PlantedBug::ReuseCheckpointIdsAfterFailover => {
                "classic: checkpoint ids reused after a coordinator failover (the id counter must never go back)"
            }
            PlantedBug::SnapshotBeforeAlignmentCompletes => {
                "classic: snapshot taken before barrier alignment completes"
            }
            PlantedBug::CountStaleCheckpointFailures => "FLINK-18336",
            PlantedBug::CheckpointTriggerStuckAfterExpiry => "FLINK-26394 (+FLINK-27148)",
            PlantedBug::DropCheckpointsUnreadableAtRecovery => "FLINK-7783 / FLINK-8487",
            PlantedBug::SwallowAsyncSinkError => "FLINK-31305 / FLINK-35749 (also FLINK-5701)",
            PlantedBug::StaleBarrierStopsChannelRecording => "FLINK-20654 / FLINK-21104",
        }
    }

    /// The shipped scenario (or test data) whose workload and faults expose the bug.
    pub fn scenario(self) -> &'static str {
        match self {
            PlantedBug::RegionRestartWithoutState => "sims/pipelines.toml",
            PlantedBug::CommitOnPreCommit
            | PlantedBug::SkipRecommitAfterRecovery
            | PlantedBug::RecommitRepublishes
            | PlantedBug::RestoredSourceOneOffsetLate
            | PlantedBug::NotifyBeforeMetadataDurable => "sims/kafka-2pc.toml",
            PlantedBug::SkipFlushOnSnapshot | PlantedBug::UpsertInsertIgnore => "sims/upsert.toml",
            PlantedBug::ForgetAssignmentsBeforeFirstCheckpoint => "tests/data/log-regions.toml",
            PlantedBug::DeleteSharedFilesOnSubsumption => "sims/incremental.toml",
            PlantedBug::RescaleKeyGroupsOffByOne => "sims/rescale.toml",
            PlantedBug::SavepointNotifiesCompletion => "tests/data/savepoints.toml",
            PlantedBug::ForgetSourceRewind
            | PlantedBug::SkipKeyedStateRestore
            | PlantedBug::RestoreNeighbourState
            | PlantedBug::AcknowledgeTwice
            | PlantedBug::ConsumeBlockedInput
            | PlantedBug::BreakFifo
            | PlantedBug::LeakProcessState => "sims/wordcount.toml",
            PlantedBug::SkipChannelState => "sims/bank.toml",
            PlantedBug::ForgetOvertakenOutput => "tests/data/unaligned-backpressure.toml",
            PlantedBug::ReuseCheckpointIdsAfterFailover => "tests/data/coordinator-failover.toml",
            PlantedBug::SnapshotBeforeAlignmentCompletes => "sims/wordcount.toml",
            PlantedBug::CountStaleCheckpointFailures => "tests/data/failure-accounting.toml",
            PlantedBug::CheckpointTriggerStuckAfterExpiry => "tests/data/checkpoint-expiry.toml",
            PlantedBug::DropCheckpointsUnreadableAtRecovery => "tests/data/coordinator-outage.toml",
            PlantedBug::SwallowAsyncSinkError => "tests/data/at-least-once-outage.toml",
            PlantedBug::StaleBarrierStopsChannelRecording => "tests/data/unaligned-stale-barriers.toml",
        }
    }

    /// Whether the bug lives in recovery, and so does nothing unless something fails.
    pub fn needs_a_failure(self) -> bool {
        match self {
            PlantedBug::ForgetSourceRewind
            | PlantedBug::SkipKeyedStateRestore
            | PlantedBug::RestoreNeighbourState
            | PlantedBug::RegionRestartWithoutState
            | PlantedBug::CommitOnPreCommit
            | PlantedBug::SkipRecommitAfterRecovery
            | PlantedBug::RecommitRepublishes
            | PlantedBug::RestoredSourceOneOffsetLate
            | PlantedBug::ForgetAssignmentsBeforeFirstCheckpoint
            | PlantedBug::RescaleKeyGroupsOffByOne
            | PlantedBug::SavepointNotifiesCompletion
            | PlantedBug::NotifyBeforeMetadataDurable
            | PlantedBug::ReuseCheckpointIdsAfterFailover
            | PlantedBug::DropCheckpointsUnreadableAtRecovery => true,
            PlantedBug::AcknowledgeTwice
            | PlantedBug::ConsumeBlockedInput
            | PlantedBug::SkipChannelState
            | PlantedBug::BreakFifo
            | PlantedBug::LeakProcessState
            | PlantedBug::SkipFlushOnSnapshot
            | PlantedBug::UpsertInsertIgnore
            | PlantedBug::DeleteSharedFilesOnSubsumption
            | PlantedBug::ForgetOvertakenOutput
            | PlantedBug::SnapshotBeforeAlignmentCompletes
            | PlantedBug::CountStaleCheckpointFailures
            | PlantedBug::CheckpointTriggerStuckAfterExpiry
            | PlantedBug::SwallowAsyncSinkError
            | PlantedBug::StaleBarrierStopsChannelRecording => false,
        }
    }

    /// The bug whose command-line name is `name`.
    pub fn from_name(name: &str) -> Option<PlantedBug> {
        ALL_PLANTS.into_iter().find(|plant| plant.name() == name)
    }
}

impl fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
