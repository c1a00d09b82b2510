//! The send path: routing a record through a task's output gates, queueing messages on
//! channels, and moving them into flight as credits allow — waking a back-pressured sender
//! whose buffers drained.

use super::tasks::TaskStatus;
use super::{Event, SimWorld};
use crate::dataflow::record::{Message, Record};
use crate::kernel::Scheduler;
use crate::kernel::ids::{ChannelId, TaskId};
use crate::kernel::time::SimDuration;
use crate::kernel::trace::{Fact, MessageTag};
use crate::recovery::TaskRole;

impl SimWorld {
    /// Routes a record through every output gate of `task`.
    pub(super) fn emit(&mut self, task: TaskId, record: Record, scheduler: &mut Scheduler<Event>) {
        let mut targets = std::mem::take(&mut self.scratch.channels);
        let runtime = &mut self.tasks[task.index()];
        for (gate, cursor) in self.topology.tasks[task.index()].outputs.iter().zip(&mut runtime.rebalance_cursors) {
            gate.route(record.key, cursor, |channel| targets.push(channel));
        }
        for channel in targets.drain(..) {
            self.send(task, channel, Message::Record(record), scheduler);
        }
        self.scratch.channels = targets;
    }

    /// Sends `message` on every output channel of `task` (barriers, end-of-input).
    pub(super) fn broadcast(&mut self, task: TaskId, message: Message, scheduler: &mut Scheduler<Event>) {
        let mut targets = std::mem::take(&mut self.scratch.channels);
        targets.extend(self.topology.tasks[task.index()].outputs.iter().flat_map(|gate| gate.channels.iter().copied()));
        for channel in targets.drain(..) {
            self.send(task, channel, message, scheduler);
        }
        self.scratch.channels = targets;
    }

    pub(super) fn send(
        &mut self,
        task: TaskId,
        channel: ChannelId,
        message: Message,
        scheduler: &mut Scheduler<Event>,
    ) {
        self.send_with_latency(task, channel, message, None, scheduler);
    }

    /// `send`, with `latency` (if given) replacing the drawn one: a scripted event.
    pub(super) fn send_with_latency(
        &mut self,
        task: TaskId,
        channel: ChannelId,
        message: Message,
        latency: Option<SimDuration>,
        scheduler: &mut Scheduler<Event>,
    ) {
        let sequence = match latency {
            Some(latency) => self.network.enqueue_with_latency(channel.index(), message, latency),
            None => self.network.enqueue(channel.index(), message),
        };
        let tag = match message {
            Message::Record(record) if self.roles[task.index()] == TaskRole::Account => {
                MessageTag::Transfer { record: record.id, amount: record.value }
            }
            Message::Record(record) => MessageTag::Record { record: record.id, key: record.key },
            Message::Barrier(checkpoint) => MessageTag::Barrier { checkpoint },
            Message::Watermark(event_time) => MessageTag::Watermark { event_time },
            // The trace does not tell the two ends apart: what follows shows which it was.
            Message::EndOfData | Message::EndOfInput => MessageTag::EndOfInput,
        };
        self.record(Fact::MessageSent { channel, sequence, message: tag });
        self.tasks[task.index()].outbox_len += 1;
        self.pump(channel, scheduler);
    }

    /// Moves as many buffered messages of `channel` into flight as credits allow, and wakes
    /// a back-pressured sender whose buffers drained.
    pub(super) fn pump(&mut self, channel: ChannelId, scheduler: &mut Scheduler<Event>) {
        let sender = self.topology.channels[channel.index()].sender;
        let mut moved = false;
        while let Some(sent) = self.network.transmit_next(channel.index(), self.now, &mut self.network_stream) {
            moved = true;
            self.tasks[sender.index()].outbox_len -= 1;
            let attempt = self.tasks[self.receiver_of(channel).index()].attempt;
            scheduler.at(sent.arrival, Event::Arrival { channel, sequence: sent.sequence, attempt });
        }
        let runtime = &mut self.tasks[sender.index()];
        if moved && runtime.status == TaskStatus::Backpressured && runtime.outbox_len == 0 {
            runtime.status = TaskStatus::Idle;
            self.try_work(sender, scheduler);
        }
    }
}
