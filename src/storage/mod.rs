//! Simulated durable storage: named objects that become durable after a seeded latency.
//!
//! A write is pending until its completion event; only then can it be read. Reads are
//! immediate. Deletion is explicit. Storage knows object names, not what the bytes mean.
//! Faults: while unavailable, a write fails at once; while slow, its latency is multiplied.
//! Unit tests in `storage/tests.rs`.

#[cfg(test)]
mod tests;

use crate::kernel::rng::SimRng;
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::ObjectName;
use std::collections::BTreeMap;

/// Write latency settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageConfig {
    /// The shortest time for a write to become durable.
    pub write_latency_min: SimDuration,
    /// The longest time for a write to become durable.
    pub write_latency_max: SimDuration,
}

/// A handle on a pending write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WriteId(pub u64);

/// The durable store and its pending writes.
pub struct Storage {
    config: StorageConfig,
    durable: BTreeMap<ObjectName, Vec<u8>>,
    pending: BTreeMap<WriteId, (ObjectName, Vec<u8>)>,
    next_write: u64,
    bytes_written: u64,
    /// Writes begun before this time fail.
    unavailable_until: SimTime,
    /// Writes begun before this time take this many times as long.
    slow_until: SimTime,
    slow_factor: u32,
}

/// A write refused because storage is unavailable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteRefused;

impl Storage {
    /// An empty store.
    pub fn new(config: StorageConfig) -> Storage {
        assert!(config.write_latency_min <= config.write_latency_max, "write latency range is empty");
        Storage {
            config,
            durable: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_write: 0,
            bytes_written: 0,
            unavailable_until: SimTime::ZERO,
            slow_until: SimTime::ZERO,
            slow_factor: 1,
        }
    }

    /// Makes every write begun before `until` fail (windows only ever extend).
    pub fn make_unavailable(&mut self, until: SimTime) {
        self.unavailable_until = self.unavailable_until.max(until);
    }

    /// Whether storage is unavailable at `now` (a write begun now would fail).
    pub fn is_unavailable(&self, now: SimTime) -> bool {
        now < self.unavailable_until
    }

    /// Makes writes begun before `until` take `factor` times as long (the latest window's
    /// factor applies).
    pub fn make_slow(&mut self, factor: u32, until: SimTime) {
        self.slow_factor = factor.max(1);
        self.slow_until = self.slow_until.max(until);
    }

    /// Starts writing `bytes` as `name`; returns the write and when it becomes durable, or
    /// refuses it while storage is unavailable (no latency is drawn then).
    pub fn begin_write(
        &mut self,
        name: ObjectName,
        bytes: Vec<u8>,
        now: SimTime,
        latency: &mut SimRng,
    ) -> Result<(WriteId, SimTime), WriteRefused> {
        if now < self.unavailable_until {
            return Err(WriteRefused);
        }
        let mut delay =
            latency.in_range(self.config.write_latency_min.as_nanos(), self.config.write_latency_max.as_nanos());
        if now < self.slow_until {
            delay = delay.saturating_mul(u64::from(self.slow_factor));
        }
        let write = WriteId(self.next_write);
        self.next_write += 1;
        self.pending.insert(write, (name, bytes));
        Ok((write, now.after(SimDuration::from_nanos(delay))))
    }

    /// Completes a pending write: the object is durable from now on. Returns its name and
    /// size, or `None` if the write was torn before it could complete.
    pub fn complete_write(&mut self, write: WriteId) -> Option<(ObjectName, u64)> {
        let (name, bytes) = self.pending.remove(&write)?;
        let size = bytes.len() as u64;
        self.bytes_written += size;
        self.durable.insert(name, bytes);
        Some((name, size))
    }

    /// The writer of every pending write that `doomed` selects crashed mid-write: each
    /// object is left in storage torn — its first half only, which its checksum exposes —
    /// and the write never completes. Returns their names in write order.
    pub fn tear_pending(&mut self, doomed: impl Fn(&ObjectName) -> bool) -> Vec<ObjectName> {
        let writes: Vec<WriteId> =
            self.pending.iter().filter(|(_, (name, _))| doomed(name)).map(|(&id, _)| id).collect();
        writes
            .into_iter()
            .map(|write| {
                let (name, mut bytes) = self.pending.remove(&write).expect("selected above");
                bytes.truncate(bytes.len() / 2);
                self.durable.insert(name, bytes);
                name
            })
            .collect()
    }

    /// The bytes of a durable object.
    pub fn read(&self, name: &ObjectName) -> Option<&[u8]> {
        self.durable.get(name).map(Vec::as_slice)
    }

    /// Deletes every durable object that `doomed` selects; returns their names in order.
    pub fn delete_where(&mut self, doomed: impl Fn(&ObjectName) -> bool) -> Vec<ObjectName> {
        let names: Vec<ObjectName> = self.durable.keys().filter(|name| doomed(name)).copied().collect();
        for name in &names {
            self.durable.remove(name);
        }
        names
    }

    /// Durable objects right now.
    pub fn durable_count(&self) -> usize {
        self.durable.len()
    }

    /// Bytes made durable since the run began.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }
}
