//! `[randomize]`: which checkpoint settings a seed draws, and from which ranges — the
//! schema, and how it is (not) stored in run files.
//!
//! A run file stores a materialised scenario: the drawn values written into
//! `[checkpoint]`, `[network]` and `[recovery]`, and no `[randomize]` section, so a replay
//! never draws again. The section therefore takes no bytes in the run file's binary
//! encoding (`run_file_invisible`): run files keep their format, and older ones still read.

use super::file::RestartStrategyName;
use crate::protocol::ProtocolKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `[randomize]`: each listed setting is drawn per seed from its choices or its inclusive
/// `[low, high]` range (docs/scenarios.md); a setting left out keeps the scenario's value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RandomizeSection {
    /// `checkpoint.protocol`: the protocols to choose from.
    pub protocols: Option<Vec<ProtocolKind>>,
    /// `checkpoint.interval_ms`: `[low, high]`.
    pub interval_ms: Option<[u64; 2]>,
    /// `checkpoint.timeout_ms`: `[low, high]`.
    pub timeout_ms: Option<[u64; 2]>,
    /// `checkpoint.max_concurrent`: `[low, high]`.
    pub max_concurrent: Option<[u32; 2]>,
    /// `checkpoint.min_pause_ms`: `[low, high]`.
    pub min_pause_ms: Option<[u64; 2]>,
    /// `checkpoint.aligned_timeout_ms`: `[low, high]` (applied only when the protocol is
    /// `aligned-timeout`, the one that reads it).
    pub aligned_timeout_ms: Option<[u64; 2]>,
    /// `network.buffer_capacity`: `[low, high]`.
    pub buffer_capacity: Option<[u32; 2]>,
    /// `recovery.strategy`: the restart strategies to choose from.
    pub restart_strategies: Option<Vec<RestartStrategyName>>,
}

impl RandomizeSection {
    /// The ranges `--randomize-config` draws from when a scenario has no `[randomize]`:
    /// every protocol the job can run, and settings around Flink's usual ones.
    pub fn defaults(bank: bool) -> RandomizeSection {
        let protocols = if bank { vec![ProtocolKind::ChandyLamport] } else { ProtocolKind::ALL.to_vec() };
        RandomizeSection {
            protocols: Some(protocols),
            // A bank's interval of 0 (scripted snapshots only) is its own choice: kept.
            interval_ms: (!bank).then_some([10, 200]),
            timeout_ms: Some([2_000, 20_000]),
            max_concurrent: Some([1, 3]),
            min_pause_ms: Some([0, 50]),
            aligned_timeout_ms: Some([1, 50]),
            buffer_capacity: Some([2, 64]),
            restart_strategies: Some(vec![RestartStrategyName::FixedDelay, RestartStrategyName::ExponentialDelay]),
        }
    }
}

/// Serde for `Scenario::randomize`: the section itself in TOML (and any human-readable
/// format), nothing at all in the run file's binary encoding (a unit, zero bytes).
pub(super) mod run_file_invisible {
    use super::*;

    /// Writes the section, or a unit in a binary format.
    pub fn serialize<S: Serializer>(section: &Option<RandomizeSection>, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() { section.serialize(serializer) } else { serializer.serialize_unit() }
    }

    /// Reads the section, or a unit (no section) in a binary format.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<RandomizeSection>, D::Error> {
        if deserializer.is_human_readable() {
            Option::<RandomizeSection>::deserialize(deserializer)
        } else {
            <()>::deserialize(deserializer).map(|()| None)
        }
    }
}
