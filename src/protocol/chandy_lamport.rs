//! Chandy-Lamport (1985) snapshots over FIFO channels: record, send markers, never block.
//!
//! On the first marker of snapshot `n` a task records its state and sends a marker on every
//! output; from then on it records every message arriving on each other input as that
//! channel's state, until that input's marker arrives. When every open input has delivered
//! its marker, the state and the recorded channel state are persisted together; recovery
//! replays the channel state before any new input. Several snapshots may be in progress at
//! once, told apart by id, whoever initiated them; the graph may have cycles (the bank's
//! accounts form a complete graph). Correct only if channels are FIFO: the marker must not overtake
//! the messages sent before it (the consistent-cut checker shows what happens otherwise).

use super::{Recording, TaskCommand, TaskInput, TaskProtocol, recording_commands};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};

/// The Chandy-Lamport state machine of one task.
#[derive(Clone, Debug)]
pub struct ChandyLamport {
    ended: Vec<bool>,
    /// Snapshots in progress: which inputs have delivered their marker.
    in_progress: BTreeMap<CheckpointId, Vec<bool>>,
    /// Snapshots this task has started and not yet seen aborted: a marker of one of them
    /// that is no longer in progress is late, not new; a trigger older than the newest is
    /// stale.
    started: BTreeSet<CheckpointId>,
    /// Every snapshot up to this one was abandoned.
    aborted_up_to: Option<CheckpointId>,
    /// Record channel state (false only in a planted bug).
    records_channels: bool,
}

impl ChandyLamport {
    /// The protocol of a task with `input_count` inputs (0 for a source).
    pub fn new(input_count: u32) -> ChandyLamport {
        ChandyLamport {
            ended: vec![false; input_count as usize],
            in_progress: BTreeMap::new(),
            started: BTreeSet::new(),
            aborted_up_to: None,
            records_channels: true,
        }
    }

    /// The planted bug `skip-channel-state`: snapshots that never record channel state.
    pub fn without_channel_state(input_count: u32) -> ChandyLamport {
        ChandyLamport { records_channels: false, ..ChandyLamport::new(input_count) }
    }

    fn on_marker(&mut self, input: u32, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        if !self.in_progress.contains_key(&checkpoint) {
            if self.is_obsolete(checkpoint) {
                return; // Finished here already, or aborted.
            }
            // A snapshot with an older id than one already started is still its own
            // snapshot: with several initiators, markers of different ids race.
            self.start(checkpoint, Some(input), out);
        } else if self.records_channels {
            out.push(TaskCommand::StopRecording { input, checkpoint });
        }
        let arrived = self.in_progress.get_mut(&checkpoint).expect("started above");
        assert!(!arrived[input as usize], "two markers of {checkpoint} on input {input}");
        arrived[input as usize] = true;
        self.persist_if_complete(checkpoint, out);
    }

    fn is_obsolete(&self, checkpoint: CheckpointId) -> bool {
        self.started.contains(&checkpoint) || self.aborted_up_to.is_some_and(|aborted| checkpoint <= aborted)
    }

    /// Records state, sends markers, and starts recording every other open input.
    fn start(&mut self, checkpoint: CheckpointId, first_input: Option<u32>, out: &mut Vec<TaskCommand>) {
        self.started.insert(checkpoint);
        out.push(TaskCommand::Snapshot { checkpoint });
        let arrived: Vec<bool> = self.ended.clone();
        if self.records_channels {
            let mut skip = arrived.clone();
            if let Some(first) = first_input {
                skip[first as usize] = true;
            }
            recording_commands(checkpoint, &skip, Recording::Start, out);
        }
        self.in_progress.insert(checkpoint, arrived);
    }

    fn persist_if_complete(&mut self, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        if self.in_progress[&checkpoint].iter().all(|&arrived| arrived) {
            self.in_progress.remove(&checkpoint);
            out.push(TaskCommand::Persist { checkpoint });
        }
    }

    fn abandon(&mut self, checkpoint: CheckpointId, out: &mut Vec<TaskCommand>) {
        if let Some(arrived) = self.in_progress.remove(&checkpoint)
            && self.records_channels
        {
            recording_commands(checkpoint, &arrived, Recording::Stop, out);
        }
    }
}

impl TaskProtocol for ChandyLamport {
    fn handle(&mut self, _now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        match input {
            TaskInput::Trigger { checkpoint } => {
                // Any task may initiate (a source of a job, any account of the bank). A
                // trigger older than a snapshot already started here is stale.
                if !self.is_obsolete(checkpoint) && self.started.last().is_none_or(|&newest| checkpoint > newest) {
                    self.start(checkpoint, None, out);
                    self.persist_if_complete(checkpoint, out);
                }
            }
            TaskInput::Barrier { input, checkpoint } => self.on_marker(input, checkpoint, out),
            TaskInput::InputEnded { input } => {
                self.ended[input as usize] = true;
                // An input that ends before its marker can never complete the snapshot.
                let waiting: Vec<CheckpointId> = self
                    .in_progress
                    .iter()
                    .filter(|(_, arrived)| !arrived[input as usize])
                    .map(|(&checkpoint, _)| checkpoint)
                    .collect();
                for checkpoint in waiting {
                    self.abandon(checkpoint, out);
                    out.push(TaskCommand::Decline { checkpoint });
                }
            }
            TaskInput::StatePersisted { checkpoint } => out.push(TaskCommand::Acknowledge { checkpoint }),
            TaskInput::Timer => {}
            TaskInput::CheckpointAborted { checkpoint } => {
                let doomed: Vec<CheckpointId> = self.in_progress.range(..=checkpoint).map(|(&id, _)| id).collect();
                for checkpoint in doomed {
                    self.abandon(checkpoint, out);
                }
                self.aborted_up_to = self.aborted_up_to.max(Some(checkpoint));
                self.started = self.started.split_off(&CheckpointId(checkpoint.0 + 1));
            }
        }
    }
}
