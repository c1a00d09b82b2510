//! What a checker gathers about each pending checkpoint, with the lifecycle every such
//! checker shares: a completion hands the gathered value over to be judged; an abort drops
//! it; a restart drops them all (the failed attempt's checkpoints never complete).

use crate::kernel::ids::CheckpointId;
use crate::kernel::trace::Fact;
use std::collections::BTreeMap;

/// Per pending checkpoint, a `T` being gathered.
#[derive(Clone, Debug)]
pub struct PerCheckpoint<T> {
    pending: BTreeMap<CheckpointId, T>,
}

impl<T: Default> PerCheckpoint<T> {
    /// Nothing gathered yet.
    pub fn new() -> PerCheckpoint<T> {
        PerCheckpoint { pending: BTreeMap::new() }
    }

    /// What has been gathered for `checkpoint` so far.
    pub fn entry(&mut self, checkpoint: CheckpointId) -> &mut T {
        self.pending.entry(checkpoint).or_default()
    }

    /// Everything gathered for the pending checkpoints.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.pending.values()
    }

    /// Follows the lifecycle facts; returns a completed checkpoint and what was gathered
    /// for it (the default if nothing was).
    pub fn settle(&mut self, fact: &Fact) -> Option<(CheckpointId, T)> {
        match *fact {
            Fact::CheckpointCompleted { checkpoint } => {
                Some((checkpoint, self.pending.remove(&checkpoint).unwrap_or_default()))
            }
            Fact::CheckpointAborted { checkpoint, .. } => {
                self.pending.remove(&checkpoint);
                None
            }
            Fact::JobRestarted { .. } => {
                self.pending.clear();
                None
            }
            _ => None,
        }
    }
}

impl<T: Default> Default for PerCheckpoint<T> {
    fn default() -> Self {
        PerCheckpoint::new()
    }
}
