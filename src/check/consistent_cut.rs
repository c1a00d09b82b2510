//! Consistent cuts, judged from channel sequence numbers alone.
//!
//! For every completed checkpoint and every channel p→q, with M the first sequence number p
//! sent after its snapshot and K the first sequence number q had not consumed at its own:
//!
//! 1. q's recorded state received nothing p's recorded state had not sent: every data
//!    message q consumed before its snapshot has a sequence number below M (no orphans);
//! 2. the recorded channel state is exactly the data messages numbered in `K..M` — sent
//!    before p's snapshot and received after q's (empty for aligned barriers, which block) —
//!    each recorded once, whether by the sender (output state) or the receiver (input state).
//!
//! Snapshots are located by `StateCaptured`, messages by `MessageSent` and
//! `MessageConsumed`, recorded channel state by `ChannelStateRecorded`. Nothing a protocol
//! says about itself is consulted. A violation names the checkpoint, the channel and the
//! message.

use super::per_checkpoint::PerCheckpoint;
use super::{Invariant, JobShape};
use crate::kernel::ids::{ChannelId, CheckpointId, TaskId};
use crate::kernel::trace::Fact;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

/// Per channel: what has been sent and consumed so far.
#[derive(Clone, Debug, Default)]
struct ChannelLedger {
    /// Whether each message sent is data (not a barrier or end marker), from the oldest one
    /// a cut may still need on.
    is_data: DataFlags,
    /// Every sequence number below this one has been consumed (or discarded at a reset).
    consumed_below: u64,
    /// Consumed sequence numbers at or above `consumed_below` (only when out of order).
    consumed_ahead: BTreeSet<u64>,
    /// The highest data sequence number consumed so far.
    highest_data_consumed: Option<u64>,
}

/// What the snapshots of one checkpoint recorded about the channels.
#[derive(Clone, Debug, Default)]
struct CutCapture {
    /// Per channel, M: the first sequence number its sender sent after snapshotting.
    sent_before: BTreeMap<ChannelId, u64>,
    /// Per channel, K and the highest data consumed when its receiver snapshotted.
    consumed_at: BTreeMap<ChannelId, (u64, Option<u64>)>,
    /// Per channel, the sequence numbers recorded as channel state.
    recorded: BTreeMap<ChannelId, BTreeSet<u64>>,
    /// Tasks that captured state for this checkpoint.
    captured: BTreeSet<TaskId>,
}

/// The consistent-cut checker.
pub struct ConsistentCut {
    shape: Rc<JobShape>,
    /// The stage of the job running now (`JobRescaled`): its tasks take the checkpoints.
    stage: usize,
    /// The newest checkpoint triggered.
    last_triggered: Option<CheckpointId>,
    /// At-least-once snapshots may hold orphans by design: skip that half of the check.
    orphans_allowed: bool,
    channels: Vec<ChannelLedger>,
    /// Per task: the channels it sends on and receives from (so a snapshot costs its own
    /// channels, not every channel of the job).
    outputs_of: Vec<Vec<ChannelId>>,
    inputs_of: Vec<Vec<ChannelId>>,
    pending: PerCheckpoint<CutCapture>,
}

impl ConsistentCut {
    /// A checker for a job of this shape.
    pub fn new(shape: Rc<JobShape>, orphans_allowed: bool) -> ConsistentCut {
        let channels = vec![ChannelLedger::default(); shape.channel_ends.len()];
        let mut outputs_of = vec![Vec::new(); shape.task_count];
        let mut inputs_of = vec![Vec::new(); shape.task_count];
        for (index, &(sender, receiver)) in shape.channel_ends.iter().enumerate() {
            outputs_of[sender.index()].push(ChannelId::from_index(index));
            inputs_of[receiver.index()].push(ChannelId::from_index(index));
        }
        ConsistentCut {
            shape,
            stage: 0,
            last_triggered: None,
            orphans_allowed,
            channels,
            outputs_of,
            inputs_of,
            pending: PerCheckpoint::new(),
        }
    }

    /// Observes one fact; returns the violation it reveals, if any.
    #[inline]
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        match *fact {
            Fact::CheckpointTriggered { checkpoint } => {
                // A cut is named by its id: one used twice mixes two cuts' barriers and state.
                let last = self.last_triggered.replace(checkpoint);
                let reused = last.filter(|&last| checkpoint <= last)?;
                let detail = format!(
                    "{checkpoint} was triggered after {reused}: checkpoint ids must rise for the whole run, \
                     coordinator failovers included, or barriers and state of two cuts mix"
                );
                Some((Invariant::ConsistentCut, detail))
            }
            Fact::MessageSent { channel, sequence, message } => {
                self.channels[channel.index()].is_data.set(sequence, message.is_data());
                None
            }
            Fact::MessageConsumed { channel, sequence } => {
                self.channels[channel.index()].consume(sequence);
                None
            }
            Fact::ChannelReset { channel, .. } => {
                self.channels[channel.index()].reset();
                None
            }
            Fact::StateCaptured { task, checkpoint, .. } => {
                self.capture(task, checkpoint);
                None
            }
            Fact::ChannelStateRecorded { checkpoint, channel, sequence, .. } => {
                let capture = self.pending.entry(checkpoint);
                // Recorded twice (say by sender and receiver), it would be replayed twice.
                let fresh = capture.recorded.entry(channel).or_default().insert(sequence);
                (!fresh).then(|| {
                    let detail = format!(
                        "{checkpoint}, {channel}: message #{sequence} was recorded as channel state twice, so \
                         recovery would deliver it twice"
                    );
                    (Invariant::ConsistentCut, detail)
                })
            }
            Fact::JobRescaled { stage } => {
                self.stage = stage as usize;
                None
            }
            _ => {
                let (checkpoint, capture) = self.pending.settle(fact)?;
                let found = self.judge(checkpoint, &capture).map(|detail| (Invariant::ConsistentCut, detail));
                self.forget_settled_messages();
                found
            }
        }
    }

    /// Drops the flags of messages no cut can ask about any more: below what each channel's
    /// receiver had consumed, at the oldest pending snapshot and now. Without this the checker
    /// would hold a byte per message sent, growing with the run.
    fn forget_settled_messages(&mut self) {
        for (index, ledger) in self.channels.iter_mut().enumerate() {
            let channel = ChannelId::from_index(index);
            let pending_low =
                self.pending.values().filter_map(|capture| capture.consumed_at.get(&channel)).map(|at| at.0).min();
            ledger
                .is_data
                .forget_below(pending_low.map_or(ledger.consumed_below, |low| low.min(ledger.consumed_below)));
        }
    }

    fn capture(&mut self, task: TaskId, checkpoint: CheckpointId) {
        let capture = self.pending.entry(checkpoint);
        capture.captured.insert(task);
        let no_channels = Vec::new();
        for &channel in self.outputs_of.get(task.index()).unwrap_or(&no_channels) {
            capture.sent_before.insert(channel, self.channels[channel.index()].is_data.sent());
        }
        for &channel in self.inputs_of.get(task.index()).unwrap_or(&no_channels) {
            let ledger = &self.channels[channel.index()];
            capture.consumed_at.insert(channel, (ledger.consumed_below, ledger.highest_data_consumed));
        }
    }

    fn judge(&self, checkpoint: CheckpointId, capture: &CutCapture) -> Option<String> {
        let running = self.shape.running(self.stage);
        let missing = running.iter().find(|task| !capture.captured.contains(task));
        if let Some(task) = missing {
            return Some(format!("{checkpoint} completed, but {task} never captured its state for it"));
        }
        for (index, &(sender, receiver)) in self.shape.channel_ends.iter().enumerate() {
            if running.binary_search(&sender).is_err() || running.binary_search(&receiver).is_err() {
                continue; // A channel of another stage of the job.
            }
            let channel = ChannelId::from_index(index);
            let sent_before = capture.sent_before[&channel];
            let (consumed_below, highest_data) = capture.consumed_at[&channel];
            if let Some(orphan) = highest_data.filter(|&sequence| sequence >= sent_before && !self.orphans_allowed) {
                return Some(format!(
                    "{checkpoint}, {channel} ({sender} to {receiver}): {receiver} consumed message #{orphan} before its \
                     snapshot, but {sender} sent it after its own (it sent #0..#{sent_before} before): an orphan message"
                ));
            }
            let is_data = &self.channels[index].is_data;
            let expected: BTreeSet<u64> =
                (consumed_below..sent_before).filter(|&sequence| is_data.get(sequence) == Some(true)).collect();
            let recorded = capture.recorded.get(&channel).cloned().unwrap_or_default();
            if let Some(&lost) = expected.difference(&recorded).next() {
                return Some(format!(
                    "{checkpoint}, {channel} ({sender} to {receiver}): message #{lost} was in flight across the cut (sent \
                     before {sender}'s snapshot, consumed after {receiver}'s) but is missing from the recorded channel state"
                ));
            }
            if let Some(&extra) = recorded.difference(&expected).next() {
                return Some(format!(
                    "{checkpoint}, {channel} ({sender} to {receiver}): the recorded channel state holds message #{extra}, \
                     which was not in flight across the cut (in flight: #{consumed_below}..#{sent_before})"
                ));
            }
        }
        None
    }
}

impl ChannelLedger {
    fn consume(&mut self, sequence: u64) {
        if self.is_data.get(sequence) == Some(true) {
            self.highest_data_consumed = self.highest_data_consumed.max(Some(sequence));
        }
        if sequence == self.consumed_below && self.consumed_ahead.is_empty() {
            self.consumed_below += 1;
            return;
        }
        self.consumed_ahead.insert(sequence);
        while self.consumed_ahead.remove(&self.consumed_below) {
            self.consumed_below += 1;
        }
    }

    /// A restart discarded everything in flight: nothing older will ever be consumed.
    fn reset(&mut self) {
        self.consumed_below = self.is_data.sent();
        self.consumed_ahead.clear();
    }
}

/// Per channel, whether each message sent is data, by sequence number, from `first` on:
/// older flags are dropped once no cut can need them (`forget_below`).
#[derive(Clone, Debug, Default)]
struct DataFlags {
    /// The sequence number of `flags[0]`.
    first: u64,
    flags: VecDeque<bool>,
}

impl DataFlags {
    /// Records message `sequence`'s kind (sequence numbers rise; a gap counts as not data).
    fn set(&mut self, sequence: u64, is_data: bool) {
        let Some(index) = sequence.checked_sub(self.first) else { return };
        let index = usize::try_from(index).expect("sequence fits usize");
        if index >= self.flags.len() {
            self.flags.resize(index + 1, false);
        }
        self.flags[index] = is_data;
    }

    /// How many messages have been sent: the next sequence number.
    fn sent(&self) -> u64 {
        self.first + self.flags.len() as u64
    }

    /// Whether message `sequence` was data; `None` if it was not sent or is forgotten.
    fn get(&self, sequence: u64) -> Option<bool> {
        let index = usize::try_from(sequence.checked_sub(self.first)?).ok()?;
        self.flags.get(index).copied()
    }

    /// Forgets the flags of messages below `sequence`.
    fn forget_below(&mut self, sequence: u64) {
        let drop = usize::try_from(sequence.saturating_sub(self.first)).unwrap_or(usize::MAX).min(self.flags.len());
        self.flags.drain(..drop);
        self.first += drop as u64;
    }
}

#[cfg(test)]
mod data_flags_tests {
    use super::DataFlags;

    #[test]
    fn forgotten_flags_are_gone_and_the_sent_count_stays() {
        let mut flags = DataFlags::default();
        for sequence in 0..10 {
            flags.set(sequence, sequence % 3 != 0);
        }
        assert_eq!(flags.sent(), 10);
        flags.forget_below(6);
        assert_eq!((flags.sent(), flags.flags.len()), (10, 4), "only #6..#10 are held");
        assert_eq!(flags.get(5), None);
        assert_eq!(flags.get(6), Some(false));
        assert_eq!(flags.get(7), Some(true));
        assert_eq!(flags.get(10), None, "not sent yet");
        flags.set(3, true); // Below what is held: ignored, nothing panics.
        flags.set(12, true); // A gap counts as not data.
        assert_eq!((flags.sent(), flags.get(11), flags.get(12)), (13, Some(false), Some(true)));
        flags.forget_below(100);
        assert_eq!((flags.sent(), flags.flags.len()), (13, 0));
    }
}
