//! The token ring, twice: once through the kernel's run loop and once as a bare loop over a
//! `BinaryHeap`, both doing exactly the same deliveries in the same order.
//!
//! `nodes` nodes stand in a ring and each starts holding one token, all due at time zero.
//! Delivering a token at node `i` forwards it to node `(i + 1) % nodes` after `HOP_LATENCY`
//! plus a jitter in `0..=JITTER_MAX`, drawn with `SimRng::below` from the run's
//! `Stream::Network` stream, one draw per delivery. Ties in time go to the earlier-scheduled
//! token, as in the kernel's queue. Both versions fold every delivery, in order, into a
//! checksum, so the optimiser cannot drop the work and the two can be checked against each
//! other: any difference between them is kernel overhead.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::kernel::rng::{Seed, SimRng, Stream};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::{self, Budget, Scheduler, Stop, World};

/// The simulated latency of one hop, before jitter.
pub const HOP_LATENCY: SimDuration = SimDuration::from_millis(1);

/// The largest jitter added to one hop (inclusive).
pub const JITTER_MAX: SimDuration = SimDuration::from_micros(100);

/// The checksum of a run with no deliveries.
const CHECKSUM_START: u64 = 0xcbf2_9ce4_8422_2325;

/// What one run of the ring did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingResult {
    /// Deliveries handled: always the number asked for.
    pub deliveries: u64,
    /// Simulated time of the last delivery (zero when there was none).
    pub end_time: SimTime,
    /// An order-sensitive fold of every `(node, time)` delivered.
    pub checksum: u64,
}

/// Runs the ring through `kernel::run` until exactly `deliveries` tokens have been
/// delivered; panics if `nodes` is 0.
pub fn ring_kernel(nodes: u32, deliveries: u64, seed: Seed) -> RingResult {
    assert!(nodes > 0, "a ring needs at least one node");
    let mut world = RingWorld { nodes, jitter: SimRng::open(seed, Stream::Network), checksum: CHECKSUM_START };
    let mut scheduler = Scheduler::new(nodes as usize);
    for node in 0..nodes {
        scheduler.at(SimTime::ZERO, Delivery { node });
    }
    let budget = Budget { events_max: deliveries, time_max: SimTime::from_nanos(u64::MAX) };
    let end = kernel::run(&mut world, &mut scheduler, budget);
    assert_eq!(end.stop, Stop::EventBudget, "the ring only stops at its event budget");
    RingResult { deliveries: end.events, end_time: end.now, checksum: world.checksum }
}

/// Runs the same ring as `ring_kernel` without the kernel: a `BinaryHeap` of
/// `Reverse((time, sequence, node))` and the same jitter draws in the same order, so it
/// returns the same `RingResult`. Panics if `nodes` is 0.
pub fn ring_bare(nodes: u32, deliveries: u64, seed: Seed) -> RingResult {
    assert!(nodes > 0, "a ring needs at least one node");
    let mut jitter = SimRng::open(seed, Stream::Network);
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::with_capacity(nodes as usize);
    let mut sequence = 0u64;
    for node in 0..nodes {
        heap.push(Reverse((0, sequence, node)));
        sequence += 1;
    }
    let mut checksum = CHECKSUM_START;
    let mut now = 0u64;
    let mut delivered = 0u64;
    while delivered < deliveries {
        let Some(Reverse((time, _, node))) = heap.pop() else {
            break;
        };
        now = time;
        delivered += 1;
        checksum = fold(checksum, node, time);
        let due = time + hop_delay(&mut jitter).as_nanos();
        heap.push(Reverse((due, sequence, next_node(node, nodes))));
        sequence += 1;
    }
    RingResult { deliveries: delivered, end_time: SimTime::from_nanos(now), checksum }
}

/// The token arriving at one node of the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Delivery {
    /// The node receiving the token.
    node: u32,
}

/// The ring as a kernel world: it forwards every token it receives and never finishes on
/// its own, so the event budget ends the run.
struct RingWorld {
    /// Number of nodes in the ring.
    nodes: u32,
    /// The `Stream::Network` stream the hop jitter is drawn from.
    jitter: SimRng,
    /// The running fold of every delivery.
    checksum: u64,
}

impl World for RingWorld {
    type Event = Delivery;

    #[inline]
    fn handle(&mut self, now: SimTime, event: Delivery, scheduler: &mut Scheduler<Delivery>) {
        self.checksum = fold(self.checksum, event.node, now.as_nanos());
        let delay = hop_delay(&mut self.jitter);
        scheduler.after(delay, Delivery { node: next_node(event.node, self.nodes) });
    }

    #[inline]
    fn is_finished(&self) -> bool {
        false
    }
}

/// The delay of one hop: the fixed latency plus one jitter draw.
#[inline]
fn hop_delay(jitter: &mut SimRng) -> SimDuration {
    SimDuration::from_nanos(HOP_LATENCY.as_nanos() + jitter.below(JITTER_MAX.as_nanos() + 1))
}

/// The node after `node` in a ring of `nodes`: `(node + 1) % nodes`, without the division.
#[inline]
fn next_node(node: u32, nodes: u32) -> u32 {
    if node + 1 == nodes { 0 } else { node + 1 }
}

/// Folds one delivery into the checksum; the result depends on the order of deliveries.
#[inline]
fn fold(checksum: u64, node: u32, time: u64) -> u64 {
    (checksum.rotate_left(23) ^ time ^ (u64::from(node) << 44)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}
