//! Channel tests: FIFO under random latencies, credits, reset.

use super::*;
use crate::kernel::rng::{Seed, Stream};

fn config(capacity: u32) -> NetworkConfig {
    NetworkConfig {
        latency_min: SimDuration::from_micros(1),
        latency_max: SimDuration::from_micros(900),
        buffer_capacity: capacity,
        fifo: true,
    }
}

#[test]
fn arrivals_never_overtake_each_other() {
    let mut network: Network<u32> = Network::new(1, config(1000));
    let mut rng = SimRng::open(Seed(3), Stream::Network);
    let mut last = SimTime::ZERO;
    for message in 0..500 {
        network.enqueue(0, message);
        let now = SimTime::from_nanos(u64::from(message) * 100);
        let sent = network.transmit_next(0, now, &mut rng).expect("credit available");
        assert_eq!(sent.sequence, u64::from(message));
        assert!(sent.arrival >= last, "arrival went backwards");
        assert!(sent.arrival >= now);
        last = sent.arrival;
    }
}

#[test]
fn a_full_channel_holds_messages_in_the_outbox_until_consumed() {
    let mut network: Network<u32> = Network::new(1, config(2));
    let mut rng = SimRng::open(Seed(1), Stream::Network);
    for message in 0..3 {
        network.enqueue(0, message);
    }
    assert!(network.transmit_next(0, SimTime::ZERO, &mut rng).is_some());
    assert!(network.transmit_next(0, SimTime::ZERO, &mut rng).is_some());
    assert!(network.transmit_next(0, SimTime::ZERO, &mut rng).is_none(), "no third credit");
    assert!(!network.outbox_is_empty(0));
    network.arrive(0, 0);
    assert!(network.transmit_next(0, SimTime::ZERO, &mut rng).is_none(), "arrived still holds a credit");
    assert_eq!(network.consume(0), Some((0, 0)));
    let third = network.transmit_next(0, SimTime::ZERO, &mut rng).expect("credit returned");
    assert_eq!(third.message, 2);
    assert!(network.outbox_is_empty(0));
}

#[test]
fn reset_discards_everything_and_keeps_sequences_rising() {
    let mut network: Network<u32> = Network::new(1, config(1));
    let mut rng = SimRng::open(Seed(1), Stream::Network);
    network.enqueue(0, 7);
    network.enqueue(0, 8);
    network.transmit_next(0, SimTime::ZERO, &mut rng);
    assert_eq!(network.reset(0), 2);
    assert!(network.outbox_is_empty(0));
    assert!(!network.has_arrived(0));
    assert_eq!(network.enqueue(0, 9), 2, "sequence numbers are given on entering the channel");
    assert_eq!(network.transmit_next(0, SimTime::ZERO, &mut rng).map(|sent| sent.sequence), Some(2));
}

#[test]
fn without_fifo_a_later_message_can_arrive_first() {
    let mut network: Network<u32> = Network::new(1, NetworkConfig { fifo: false, ..config(1000) });
    let mut rng = SimRng::open(Seed(3), Stream::Network);
    let sent: Vec<Transmission<u32>> = (0..50)
        .map(|message| {
            network.enqueue(0, message);
            network.transmit_next(0, SimTime::ZERO, &mut rng).expect("credit")
        })
        .collect();
    assert!(sent.windows(2).any(|pair| pair[1].arrival < pair[0].arrival), "some message overtakes another");
    let last = sent[49];
    network.arrive(0, last.sequence);
    assert_eq!(network.consume(0), Some((49, 49)), "it arrives, and is consumed, first");
}

#[test]
fn a_fixed_latency_replaces_the_draw_and_keeps_fifo() {
    let mut network: Network<u32> = Network::new(1, config(10));
    let mut drawing = SimRng::open(Seed(4), Stream::Network);
    let mut untouched = SimRng::open(Seed(4), Stream::Network);
    network.enqueue_with_latency(0, 1, SimDuration::from_nanos(5));
    let first = network.transmit_next(0, SimTime::ZERO, &mut drawing).expect("credit");
    assert_eq!(first.arrival, SimTime::ZERO.after(SimDuration::from_nanos(5)));
    assert_eq!(drawing.next_u64(), untouched.next_u64(), "no draw was spent on the fixed latency");
    network.enqueue(0, 2);
    let second = network.transmit_next(0, SimTime::ZERO, &mut drawing).expect("credit");
    assert!(second.arrival >= first.arrival, "FIFO holds across fixed and drawn latencies");
    network.enqueue_with_latency(0, 3, SimDuration::ZERO);
    let third = network.transmit_next(0, SimTime::ZERO, &mut drawing).expect("credit");
    assert_eq!(third.arrival, second.arrival, "a fixed latency shorter than the one before waits for it");
}
