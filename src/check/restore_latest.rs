//! Restore from the latest: every job or region restart loads the latest checkpoint whose
//! metadata is durable — the catalog's oracle "restored id = highest completed id"
//! (flink-checkpointing.md §5, FLINK-7783). A restart from an older checkpoint, or from
//! scratch while a completed one is still in storage, silently loses or replays state.
//!
//! Judged from facts: `CheckpointCompleted` (its metadata durable) adds a checkpoint,
//! `ObjectDeleted` of its metadata (retention subsumed it) takes it away, and
//! `SavepointTriggered` marks savepoints — an intermediate one is never restored from, a
//! stopping one is what the job starts from next. `JobRestarted` and `RegionRestarted` name
//! the checkpoint restored (restore-equivalence holds every task to it). A rescale restores
//! the latest too; a checkpoint whose shared files went missing is still the latest (its
//! restore finding them missing is `shared-state`'s business).

use super::Invariant;
use crate::kernel::ids::CheckpointId;
use crate::kernel::trace::{Fact, ObjectName};
use std::collections::BTreeSet;

/// The restore-latest checker.
#[derive(Debug, Default)]
pub struct RestoreLatest {
    /// Intermediate savepoints: never restored from.
    intermediate_savepoints: BTreeSet<CheckpointId>,
    /// Completed checkpoints (and stopping savepoints) whose metadata is still durable.
    restorable: BTreeSet<CheckpointId>,
}

impl RestoreLatest {
    /// A checker with nothing completed yet.
    pub fn new() -> RestoreLatest {
        RestoreLatest::default()
    }

    /// Observes one fact; returns the violation it reveals, if any.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        let found = match *fact {
            Fact::SavepointTriggered { checkpoint, stop: false } => {
                self.intermediate_savepoints.insert(checkpoint);
                None
            }
            Fact::CheckpointCompleted { checkpoint } if !self.intermediate_savepoints.contains(&checkpoint) => {
                self.restorable.insert(checkpoint);
                None
            }
            Fact::ObjectDeleted { object: ObjectName::Metadata { checkpoint } } => {
                self.restorable.remove(&checkpoint);
                None
            }
            Fact::JobRestarted { checkpoint, .. } => self.judge("the job", checkpoint),
            Fact::RegionRestarted { region, checkpoint, .. } => self.judge(&format!("region {region}"), checkpoint),
            _ => None,
        };
        found.map(|detail| (Invariant::RestoreLatest, detail))
    }

    /// `who` restarted from `restored`: it must be the latest restorable checkpoint.
    fn judge(&self, who: &str, restored: Option<CheckpointId>) -> Option<String> {
        let latest = self.restorable.last().copied();
        if restored == latest {
            return None;
        }
        let restored = restored.map_or_else(|| "from scratch".to_string(), |id| format!("from {id}"));
        Some(match latest {
            Some(latest) => format!(
                "{who} restarted {restored}, but {latest} is the latest checkpoint whose metadata is durable: \
                 state it held is lost or replayed"
            ),
            None => format!("{who} restarted {restored}, but no completed checkpoint's metadata is durable"),
        })
    }
}
