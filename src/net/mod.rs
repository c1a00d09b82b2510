//! Channels: reliable FIFO point-to-point links with seeded latency and credit-based flow
//! control.
//!
//! Each channel holds, in order, the sender's output buffer (messages waiting for credit),
//! the messages in flight, and the messages arrived at the receiver but not yet consumed.
//! A message is on the channel — and gets its sequence number — the moment it enters the
//! output buffer: a snapshot taken then counts it as sent, as Flink's output buffers do.
//! A channel has `capacity` credits: in flight plus arrived never exceeds it, so a slow or
//! blocked receiver back-pressures its sender, as Flink's credit-based flow control does.
//! Latencies come from the network stream; an arrival is never earlier than the previous
//! arrival on the same channel, so FIFO holds whatever the draws. Generic over the message;
//! it knows nothing of what messages mean. Unit tests in `net/tests.rs`.

#[cfg(test)]
mod tests;

use crate::kernel::rng::SimRng;
use crate::kernel::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Latency and capacity settings shared by every channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkConfig {
    /// The shortest one-way latency.
    pub latency_min: SimDuration,
    /// The longest one-way latency.
    pub latency_max: SimDuration,
    /// Credits per channel: messages in flight plus arrived-but-unconsumed.
    pub buffer_capacity: u32,
    /// Whether arrivals keep FIFO order. Only the planted bug `break-fifo` turns it off,
    /// letting a message with a short latency draw overtake earlier ones.
    pub fifo: bool,
}

/// One channel's queues.
#[derive(Clone, Debug)]
struct Channel<M> {
    outbox: VecDeque<(u64, M)>,
    in_flight: VecDeque<(u64, M)>,
    arrived: VecDeque<(u64, M)>,
    next_sequence: u64,
    last_arrival: SimTime,
    /// Messages given an explicit latency (scripted events), by sequence number, in order.
    fixed_latency: VecDeque<(u64, SimDuration)>,
    /// A latency spike: messages put in flight before this time take `spike_extra` longer.
    spike_until: SimTime,
    spike_extra: SimDuration,
}

/// A message handed to the network: its sequence number on the channel and when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmission<M> {
    /// Position on the channel, from 0, never reused within a run.
    pub sequence: u64,
    /// The message.
    pub message: M,
    /// When it reaches the receiver's input buffer.
    pub arrival: SimTime,
}

/// Every channel of the job, indexed by `ChannelId`.
pub struct Network<M> {
    channels: Vec<Channel<M>>,
    config: NetworkConfig,
}

impl<M: Copy> Network<M> {
    /// `channel_count` empty channels.
    pub fn new(channel_count: usize, config: NetworkConfig) -> Network<M> {
        assert!(config.buffer_capacity > 0, "a channel needs at least one credit");
        assert!(config.latency_min <= config.latency_max, "latency range is empty");
        let channel = Channel {
            outbox: VecDeque::new(),
            in_flight: VecDeque::new(),
            arrived: VecDeque::new(),
            next_sequence: 0,
            last_arrival: SimTime::ZERO,
            fixed_latency: VecDeque::new(),
            spike_until: SimTime::ZERO,
            spike_extra: SimDuration::ZERO,
        };
        Network { channels: vec![channel; channel_count], config }
    }

    /// Appends `message` to the sender's output buffer of `channel`; returns its sequence
    /// number on the channel.
    #[inline]
    pub fn enqueue(&mut self, channel: usize, message: M) -> u64 {
        let state = &mut self.channels[channel];
        let sequence = state.next_sequence;
        state.next_sequence += 1;
        state.outbox.push_back((sequence, message));
        sequence
    }

    /// Like `enqueue`, but the message's latency is `latency` instead of a draw (a
    /// scripted event replaying a textbook example or a bug report). FIFO still holds.
    pub fn enqueue_with_latency(&mut self, channel: usize, message: M, latency: SimDuration) -> u64 {
        let sequence = self.enqueue(channel, message);
        self.channels[channel].fixed_latency.push_back((sequence, latency));
        sequence
    }

    /// Moves the next buffered message into flight if the channel has a credit.
    #[inline]
    pub fn transmit_next(&mut self, channel: usize, now: SimTime, latency: &mut SimRng) -> Option<Transmission<M>> {
        let capacity = self.config.buffer_capacity as usize;
        let state = &mut self.channels[channel];
        if state.in_flight.len() + state.arrived.len() >= capacity {
            return None;
        }
        let (sequence, message) = state.outbox.pop_front()?;
        let delay = match state.fixed_latency.front() {
            Some(&(fixed, delay)) if fixed == sequence => {
                state.fixed_latency.pop_front();
                delay.as_nanos()
            }
            _ => latency.in_range(self.config.latency_min.as_nanos(), self.config.latency_max.as_nanos()),
        };
        let delay = if now < state.spike_until { delay.saturating_add(state.spike_extra.as_nanos()) } else { delay };
        let drawn = now.after(SimDuration::from_nanos(delay));
        let arrival = if self.config.fifo { drawn.max(state.last_arrival) } else { drawn };
        state.last_arrival = state.last_arrival.max(arrival);
        state.in_flight.push_back((sequence, message));
        Some(Transmission { sequence, message, arrival })
    }

    /// Puts `message` on `channel` ahead of everything in the sender's output buffer and
    /// straight into flight, without waiting for a credit (an unaligned barrier, a
    /// priority event). Returns its sequence number and, in order, the buffered messages it
    /// overtook (they stay buffered and follow it).
    pub fn send_priority(
        &mut self,
        channel: usize,
        message: M,
        now: SimTime,
        latency: &mut SimRng,
    ) -> (Transmission<M>, Vec<(u64, M)>) {
        let overtaken: Vec<(u64, M)> = self.channels[channel].outbox.iter().copied().collect();
        let sequence = self.enqueue(channel, message);
        let state = &mut self.channels[channel];
        let entry = state.outbox.pop_back().expect("just enqueued");
        let mut delay = latency.in_range(self.config.latency_min.as_nanos(), self.config.latency_max.as_nanos());
        if now < state.spike_until {
            delay = delay.saturating_add(state.spike_extra.as_nanos());
        }
        let arrival = now.after(SimDuration::from_nanos(delay)).max(state.last_arrival);
        state.last_arrival = arrival;
        state.in_flight.push_back(entry);
        (Transmission { sequence, message, arrival }, overtaken)
    }

    /// Removes the arrived message `sequence` (a priority event handled on arrival) and
    /// returns it.
    pub fn take_arrived(&mut self, channel: usize, sequence: u64) -> M {
        let state = &mut self.channels[channel];
        let position = state.arrived.iter().rposition(|&(id, _)| id == sequence).expect("the message has arrived");
        state.arrived.remove(position).expect("position is in range").1
    }

    /// The arrived, unconsumed messages of `channel`, oldest first.
    pub fn arrived(&self, channel: usize) -> impl Iterator<Item = &(u64, M)> {
        self.channels[channel].arrived.iter()
    }

    /// The in-flight message `sequence` reaches the receiver's input buffer; returns it.
    #[inline]
    pub fn arrive(&mut self, channel: usize, sequence: u64) -> M {
        let state = &mut self.channels[channel];
        // In order (the FIFO case, nearly every arrival): the head of the flight queue.
        let entry = if state.in_flight.front().is_some_and(|&(head, _)| head == sequence) {
            state.in_flight.pop_front()
        } else {
            let position = state
                .in_flight
                .iter()
                .position(|&(id, _)| id == sequence)
                .expect("an arrival needs its message in flight");
            state.in_flight.remove(position)
        };
        let entry = entry.expect("the message is in flight");
        state.arrived.push_back(entry);
        entry.1
    }

    /// The receiver takes the oldest arrived message, returning its credit to the sender.
    #[inline]
    pub fn consume(&mut self, channel: usize) -> Option<(u64, M)> {
        self.channels[channel].arrived.pop_front()
    }

    /// Whether the receiver has an arrived, unconsumed message on `channel`.
    #[inline]
    pub fn has_arrived(&self, channel: usize) -> bool {
        !self.channels[channel].arrived.is_empty()
    }

    /// Whether the sender's output buffer for `channel` is empty.
    #[inline]
    pub fn outbox_is_empty(&self, channel: usize) -> bool {
        self.channels[channel].outbox.is_empty()
    }

    /// Adds `extra` latency to every message `channel` puts in flight before `until` (the
    /// latest spike's extra applies). FIFO still holds.
    pub fn spike(&mut self, channel: usize, extra: SimDuration, until: SimTime) {
        let state = &mut self.channels[channel];
        state.spike_until = state.spike_until.max(until);
        state.spike_extra = extra;
    }

    /// Empties `channel` (a restart discards the failed attempt's data); returns how many
    /// messages were dropped. Sequence numbers keep counting.
    pub fn reset(&mut self, channel: usize) -> u64 {
        let state = &mut self.channels[channel];
        let discarded = state.outbox.len() + state.in_flight.len() + state.arrived.len();
        state.outbox.clear();
        state.in_flight.clear();
        state.arrived.clear();
        state.fixed_latency.clear();
        discarded as u64
    }

    /// The number of channels.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}
