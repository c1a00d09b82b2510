//! Seeded randomness: one ChaCha8 stream per concern, derived from the run's root seed.
//!
//! Every draw in a run comes from a `SimRng` opened here. Streams are independent: the key
//! is the root seed, the ChaCha nonce names the concern (and, within it, an entity such as
//! one source subtask), so drawing more fault decisions never shifts the network's draws.
//! Range and probability helpers are our own integer functions that consume exactly one
//! 64-bit word per call, so their values do not depend on `rand`'s distribution code, which
//! may change between minor releases. The first draws of every stream are pinned by a test
//! (`kernel/tests.rs`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The root seed of a run: one `u64` explains everything the run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Seed(pub u64);

/// The concerns that each own one random stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum Stream {
    /// Source records: keys and values (one sub-stream per source subtask).
    Workload = 1,
    /// Channel and control-message latencies.
    Network = 2,
    /// Storage write latencies.
    Storage = 3,
    /// Drawing fault plans.
    Faults = 4,
    /// Choices of the task scheduler, such as per-record processing jitter.
    Scheduling = 5,
    /// Which bank account initiates each periodic snapshot.
    Initiators = 6,
    /// The jitter of restart delays.
    Restarts = 7,
    /// Drawing a seed's checkpoint configuration (`[randomize]`).
    Config = 8,
}

/// Every stream of a run, in a fixed order, for the golden test.
pub const ALL_STREAMS: [Stream; 8] = [
    Stream::Workload,
    Stream::Network,
    Stream::Storage,
    Stream::Faults,
    Stream::Scheduling,
    Stream::Initiators,
    Stream::Restarts,
    Stream::Config,
];

/// A seeded random stream; it hands out integers only.
#[derive(Clone, Debug)]
pub struct SimRng {
    chacha: ChaCha8Rng,
}

/// Filler for the key bytes after the seed: fixed forever, so seeds mean the same thing.
const KEY_TAG: [u8; 24] = *b"snapsim trace streams v1";

impl SimRng {
    /// The stream for `concern` of the run with `seed`.
    pub fn open(seed: Seed, concern: Stream) -> SimRng {
        SimRng::open_entity(seed, concern, 0)
    }

    /// The stream for `concern` and one entity of it (for example one source subtask), so
    /// that each entity's draws are independent of every other entity's.
    pub fn open_entity(seed: Seed, concern: Stream, entity: u32) -> SimRng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.0.to_le_bytes());
        key[8..].copy_from_slice(&KEY_TAG);
        let mut chacha = ChaCha8Rng::from_seed(key);
        chacha.set_stream((u64::from(concern as u32) << 32) | u64::from(entity));
        SimRng { chacha }
    }

    /// Moves the stream so that the next draw is the `draw_index`-th `u64` since it opened.
    /// Lets a replayable source re-read record `n` without replaying draws `0..n`.
    pub fn seek_to_draw(&mut self, draw_index: u64) {
        self.chacha.set_word_pos(u128::from(draw_index) * 2);
    }

    /// The next raw 64-bit word.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.chacha.next_u64()
    }

    /// A value in `0..bound` from one word; panics when `bound` is 0.
    ///
    /// Multiply-high (Lemire) without rejection: the bias is below `bound / 2^64`, far under
    /// anything a simulation can observe, and every call consumes exactly one word.
    #[inline]
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "below(0) has no values");
        scale_below(self.next_u64(), bound)
    }

    /// A value in `low..=high` from one word.
    #[inline]
    pub fn in_range(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "empty range {low}..={high}");
        match (high - low).checked_add(1) {
            Some(span) => low + self.below(span),
            None => self.next_u64(),
        }
    }

    /// True with probability `numerator / denominator`, from one word.
    #[inline]
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        assert!(numerator <= denominator, "probability {numerator}/{denominator} above 1");
        self.below(denominator) < numerator
    }
}

/// Maps a uniform word into `0..bound` by taking the high half of a 128-bit product.
#[inline]
pub fn scale_below(word: u64, bound: u64) -> u64 {
    ((u128::from(word) * u128::from(bound)) >> 64) as u64
}
