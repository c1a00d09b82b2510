//! Recovery: what each task restores from after a failover.
//!
//! Given the latest completed checkpoint's metadata (read back from durable storage), it
//! decides, per task, which durable object to load — or a fresh start when no checkpoint
//! has completed. It decides nothing about *when* a failure happened (the harness tells it)
//! and performs no effect. The planted recovery bugs live here. Unit tests in
//! `recovery/tests.rs`.

pub mod incremental;
pub mod list_state;
pub mod restart;
pub mod snapshot_object;

#[cfg(test)]
mod tests;

use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::ObjectName;
use crate::plant::PlantedBug;

/// Restart settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// Whether and when the job restarts after a failure.
    pub strategy: restart::RestartStrategy,
    /// What restarts after a task fails: the whole job, or only its pipelined region.
    pub failover: FailoverStrategy,
}

/// What a task failure restarts, as Flink's `jobmanager.execution.failover-strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailoverStrategy {
    /// Only the failed task's pipelined region restarts; the other regions keep running
    /// (Flink's default). A job that is one region restarts whole, as under `Full`.
    #[default]
    Region,
    /// Every task restarts.
    Full,
}

/// What one task loads at a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreAction {
    /// Load the state in this durable object.
    FromObject(ObjectName),
    /// Start with empty state (no checkpoint has completed).
    Fresh,
    /// Keep whatever state the task held before the failure (only a planted bug does this).
    KeepLive,
    /// The task was deployed by a rescale after the checkpoint: it restores its key groups
    /// from the checkpoint's states of every subtask of its vertex (`harness/rescale.rs`).
    FromKeyGroups,
}

/// The metadata of a completed checkpoint: the state object of every task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointMetadata {
    /// Which checkpoint.
    pub checkpoint: CheckpointId,
    /// The state object of each task, indexed by `TaskId`.
    pub task_states: Vec<ObjectName>,
    /// The coordinator side's own state as the checkpoint was triggered: the log's split
    /// enumerator's (empty without a log).
    pub enumerator_state: Vec<u8>,
}

/// What a task is, as far as recovery cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskRole {
    /// A source: its state is its read offset.
    Source,
    /// A keyed operator.
    Keyed,
    /// A bank account: its state is its balance and the offset of its next transfer.
    Account,
    /// Anything else.
    Other,
}

/// The restore action of every task, indexed by `TaskId`.
pub fn plan_restore(
    latest: Option<&CheckpointMetadata>,
    roles: &[TaskRole],
    plants: &[PlantedBug],
) -> Vec<RestoreAction> {
    let planted = |bug: PlantedBug| plants.contains(&bug);
    let mut plan: Vec<RestoreAction> = roles
        .iter()
        .enumerate()
        .map(|(index, role)| match (latest, role) {
            (_, TaskRole::Source | TaskRole::Account) if planted(PlantedBug::ForgetSourceRewind) => {
                RestoreAction::KeepLive
            }
            (_, TaskRole::Keyed) if planted(PlantedBug::SkipKeyedStateRestore) => RestoreAction::KeepLive,
            (None, _) => RestoreAction::Fresh,
            (Some(metadata), _) => metadata
                .task_states
                .iter()
                .find(|name| matches!(name, ObjectName::TaskState { task, .. } if task.index() == index))
                .map_or(RestoreAction::FromKeyGroups, |&name| RestoreAction::FromObject(name)),
        })
        .collect();
    if planted(PlantedBug::RestoreNeighbourState) {
        rotate_keyed_restores(&mut plan, roles);
    }
    plan
}

/// The planted routing bug: keyed subtask k gets what keyed subtask k+1 should load.
fn rotate_keyed_restores(plan: &mut [RestoreAction], roles: &[TaskRole]) {
    let keyed: Vec<usize> = (0..roles.len()).filter(|&index| roles[index] == TaskRole::Keyed).collect();
    let actions: Vec<RestoreAction> = keyed.iter().map(|&index| plan[index]).collect();
    for (position, &index) in keyed.iter().enumerate() {
        plan[index] = actions[(position + 1) % actions.len()];
    }
}

impl CheckpointMetadata {
    /// The metadata of `checkpoint` taken by `tasks`, each task's state stored under its
    /// own name.
    pub fn for_tasks(checkpoint: CheckpointId, tasks: &[TaskId]) -> CheckpointMetadata {
        let task_states = tasks.iter().map(|&task| ObjectName::TaskState { checkpoint, task }).collect();
        CheckpointMetadata { checkpoint, task_states, enumerator_state: Vec::new() }
    }

    /// Little-endian bytes: the checkpoint id, the task count, then each task's
    /// (checkpoint, task) pair, then the enumerator's state (its length first); sealed with
    /// a checksum.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.task_states.len() * 12 + self.enumerator_state.len());
        out.extend_from_slice(&self.checkpoint.0.to_le_bytes());
        out.extend_from_slice(&(self.task_states.len() as u64).to_le_bytes());
        for name in &self.task_states {
            let ObjectName::TaskState { checkpoint, task } = name else {
                unreachable!("task states are named TaskState");
            };
            out.extend_from_slice(&checkpoint.0.to_le_bytes());
            out.extend_from_slice(&task.0.to_le_bytes());
        }
        out.extend_from_slice(&(self.enumerator_state.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.enumerator_state);
        snapshot_object::seal(out)
    }

    /// Reads back what `encode` wrote; `None` if the bytes are malformed or torn.
    pub fn decode(bytes: &[u8]) -> Option<CheckpointMetadata> {
        let bytes = snapshot_object::unseal(bytes)?;
        let word = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
        let checkpoint = CheckpointId(word(0)?);
        let count = usize::try_from(word(8)?).ok()?;
        let tasks_end = 16usize.checked_add(count.checked_mul(12)?)?;
        let enumerator_length = usize::try_from(word(tasks_end)?).ok()?;
        if bytes.len() != tasks_end.checked_add(8)?.checked_add(enumerator_length)? {
            return None;
        }
        let enumerator_state = bytes[tasks_end + 8..].to_vec();
        let task_states = (0..count)
            .map(|index| {
                let at = 16 + index * 12;
                let task = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().ok()?);
                Some(ObjectName::TaskState { checkpoint: CheckpointId(word(at)?), task: TaskId(task) })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(CheckpointMetadata { checkpoint, task_states, enumerator_state })
    }
}
