//! The deterministic kernel: virtual time, the event queue, seeded streams, the trace, and
//! the bounded run loop.
//!
//! The kernel knows nothing of tasks, checkpoints or faults. A `World` (the harness)
//! receives one event at a time and schedules more through a `Scheduler`; the loop stops
//! when the world says it is done, the queue runs dry, or a budget is hit — a budget is a
//! reported outcome, never a hang. Unit tests in `kernel/tests.rs`.

pub mod ids;
pub mod queue;
pub mod rng;
pub mod time;
pub mod trace;

#[cfg(test)]
mod tests;

use queue::EventQueue;
use serde::{Deserialize, Serialize};
use time::{SimDuration, SimTime};

/// What a simulated world does with events. Implemented by the harness; statically
/// dispatched, so the kernel costs no virtual call per event.
pub trait World {
    /// The world's event payload.
    type Event;

    /// Handles one event at `now`; new events go through `scheduler`.
    fn handle(&mut self, now: SimTime, event: Self::Event, scheduler: &mut Scheduler<Self::Event>);

    /// Whether the world has reached its natural end (a finite job finished).
    fn is_finished(&self) -> bool;
}

/// The limits of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// The most events the run may handle.
    pub events_max: u64,
    /// The latest simulated time an event may happen at.
    pub time_max: SimTime,
}

/// Why the loop stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stop {
    /// The world reported its natural end.
    Finished,
    /// No event was pending and the world had not finished.
    Quiescent,
    /// `events_max` events were handled.
    EventBudget,
    /// The next event lay after `time_max`.
    TimeBudget,
}

/// How a run of the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopEnd {
    /// Why it stopped.
    pub stop: Stop,
    /// Events handled.
    pub events: u64,
    /// Simulated time of the last event handled.
    pub now: SimTime,
}

/// The handle through which a world schedules events; it refuses to schedule in the past.
pub struct Scheduler<E> {
    queue: EventQueue<E>,
    now: SimTime,
}

impl<E> Scheduler<E> {
    /// A scheduler with an empty queue at time zero.
    pub fn new(capacity: usize) -> Self {
        Scheduler { queue: EventQueue::with_capacity(capacity), now: SimTime::ZERO }
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`, which must not be in the past.
    #[inline]
    pub fn at(&mut self, time: SimTime, event: E) {
        assert!(time >= self.now, "event scheduled in the past: {time} < {}", self.now);
        self.queue.push(time, event);
    }

    /// Schedules `event` after `delay` from now.
    #[inline]
    pub fn after(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now.after(delay), event);
    }

    /// The number of pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// Runs `world` until it finishes, the queue runs dry, or `budget` is reached.
pub fn run<W: World>(world: &mut W, scheduler: &mut Scheduler<W::Event>, budget: Budget) -> LoopEnd {
    let mut events = 0u64;
    loop {
        if world.is_finished() {
            return LoopEnd { stop: Stop::Finished, events, now: scheduler.now };
        }
        if events >= budget.events_max {
            return LoopEnd { stop: Stop::EventBudget, events, now: scheduler.now };
        }
        let Some((time, event)) = scheduler.queue.pop() else {
            return LoopEnd { stop: Stop::Quiescent, events, now: scheduler.now };
        };
        if time > budget.time_max {
            return LoopEnd { stop: Stop::TimeBudget, events, now: scheduler.now };
        }
        debug_assert!(time >= scheduler.now);
        scheduler.now = time;
        events += 1;
        world.handle(time, event, scheduler);
    }
}
