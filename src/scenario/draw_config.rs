//! A seed's checkpoint configuration: `[randomize]` validated, drawn from the run's own
//! `Stream::Config`, and written into the scenario's fields before it is compiled.
//!
//! Every setting takes exactly one word of the stream, in a fixed order, whether or not
//! the section lists it: adding a setting to `[randomize]` never changes what the others
//! draw, and the stream is separate from every other, so the network, storage and fault
//! draws of a seed stay what they were.

use super::ScenarioError;
use super::compile::millis;
use super::file::{RestartStrategyName, Scenario};
use super::randomize::RandomizeSection;
use crate::kernel::rng::{Seed, SimRng, Stream, scale_below};
use crate::protocol::ProtocolKind;
use std::fmt;

/// What one seed drew: `Some` for each setting the section lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrawnConfig {
    /// `checkpoint.protocol`.
    pub protocol: Option<ProtocolKind>,
    /// `checkpoint.interval_ms`.
    pub interval_ms: Option<u64>,
    /// `checkpoint.timeout_ms`.
    pub timeout_ms: Option<u64>,
    /// `checkpoint.max_concurrent`.
    pub max_concurrent: Option<u32>,
    /// `checkpoint.min_pause_ms`.
    pub min_pause_ms: Option<u64>,
    /// `checkpoint.aligned_timeout_ms` (only when the protocol is `aligned-timeout`).
    pub aligned_timeout_ms: Option<u64>,
    /// `network.buffer_capacity`.
    pub buffer_capacity: Option<u32>,
    /// `recovery.strategy`.
    pub restart_strategy: Option<RestartStrategyName>,
}

impl Scenario {
    /// This scenario as `seed` runs it: with `[randomize]`, the seed's draw written into
    /// its fields and the section removed (so it is never drawn twice), and what was drawn.
    pub fn with_drawn_config(&self, seed: Seed) -> Result<(Scenario, Option<DrawnConfig>), ScenarioError> {
        let Some(section) = &self.randomize else { return Ok((self.clone(), None)) };
        self.validate_randomize(section)?;
        let drawn = draw_config(seed, section, self.checkpoint.protocol);
        let mut scenario = Scenario { randomize: None, ..self.clone() };
        drawn.apply(&mut scenario);
        Ok((scenario, Some(drawn)))
    }

    /// Checks every range and choice of `[randomize]`: one error naming the field.
    pub(super) fn validate_randomize(&self, section: &RandomizeSection) -> Result<(), ScenarioError> {
        if let Some(protocols) = &section.protocols {
            self.validate_protocols(protocols)?;
        }
        check_range("interval_ms", section.interval_ms, 1)?;
        check_range("timeout_ms", section.timeout_ms, 1)?;
        check_range("max_concurrent", section.max_concurrent.map(widen), 1)?;
        check_range("min_pause_ms", section.min_pause_ms, 0)?;
        check_range("aligned_timeout_ms", section.aligned_timeout_ms, 0)?;
        check_range("buffer_capacity", section.buffer_capacity.map(widen), 1)?;
        for (field, range) in [
            ("interval_ms", section.interval_ms),
            ("timeout_ms", section.timeout_ms),
            ("min_pause_ms", section.min_pause_ms),
            ("aligned_timeout_ms", section.aligned_timeout_ms),
        ] {
            if let Some([_, high]) = range {
                millis(&format!("randomize.{field}"), high)?;
            }
        }
        if let Some(strategies) = &section.restart_strategies {
            self.validate_restart_strategies(strategies)?;
        }
        Ok(())
    }

    fn validate_protocols(&self, protocols: &[ProtocolKind]) -> Result<(), ScenarioError> {
        if protocols.is_empty() {
            return Err(ScenarioError::at("randomize.protocols", "lists no protocol to choose from"));
        }
        if self.bank.is_some()
            && let Some(index) = protocols.iter().position(|&protocol| protocol != ProtocolKind::ChandyLamport)
        {
            let message = format!(
                "`{}` cannot run on the bank's complete graph of accounts; a [bank] runs only chandy-lamport",
                protocols[index].name()
            );
            return Err(ScenarioError::at(format!("randomize.protocols[{index}]"), message));
        }
        Ok(())
    }

    /// Each strategy must compile with the scenario's `[recovery]` settings.
    fn validate_restart_strategies(&self, strategies: &[RestartStrategyName]) -> Result<(), ScenarioError> {
        if strategies.is_empty() {
            return Err(ScenarioError::at("randomize.restart_strategies", "lists no strategy to choose from"));
        }
        for (index, &strategy) in strategies.iter().enumerate() {
            let mut scenario = self.clone();
            scenario.recovery.strategy = strategy;
            if let Err(error) = scenario.compile_recovery() {
                let message = format!("{} with this scenario's [recovery]: {error}", strategy.name());
                return Err(ScenarioError::at(format!("randomize.restart_strategies[{index}]"), message));
            }
        }
        Ok(())
    }
}

fn widen(range: [u32; 2]) -> [u64; 2] {
    range.map(u64::from)
}

/// A `[low, high]` range: low at least `least`, and not above high.
fn check_range(field: &str, range: Option<[u64; 2]>, least: u64) -> Result<(), ScenarioError> {
    let Some([low, high]) = range else { return Ok(()) };
    let field = format!("randomize.{field}");
    if low > high {
        return Err(ScenarioError::at(field, format!("[{low}, {high}]: the low bound exceeds the high bound")));
    }
    if low < least {
        return Err(ScenarioError::at(field, format!("[{low}, {high}]: the low bound must be at least {least}")));
    }
    Ok(())
}

/// The seed's draw: one word of `Stream::Config` per setting, in a fixed order. `base` is
/// the scenario's protocol, which decides whether `aligned_timeout_ms` applies when the
/// protocol is not drawn.
pub fn draw_config(seed: Seed, section: &RandomizeSection, base: ProtocolKind) -> DrawnConfig {
    let mut rng = SimRng::open(seed, Stream::Config);
    let words: [u64; 8] = std::array::from_fn(|_| rng.next_u64());
    let range = |word: u64, [low, high]: [u64; 2]| low + scale_below(word, high - low + 1);
    let protocol = section.protocols.as_ref().map(|choices| pick(words[0], choices));
    let aligned_timeout_applies = protocol.unwrap_or(base) == ProtocolKind::AlignedTimeout;
    DrawnConfig {
        protocol,
        interval_ms: section.interval_ms.map(|bounds| range(words[1], bounds)),
        timeout_ms: section.timeout_ms.map(|bounds| range(words[2], bounds)),
        max_concurrent: section.max_concurrent.map(|bounds| range(words[3], widen(bounds)) as u32),
        min_pause_ms: section.min_pause_ms.map(|bounds| range(words[4], bounds)),
        aligned_timeout_ms: section
            .aligned_timeout_ms
            .filter(|_| aligned_timeout_applies)
            .map(|bounds| range(words[5], bounds)),
        buffer_capacity: section.buffer_capacity.map(|bounds| range(words[6], widen(bounds)) as u32),
        restart_strategy: section.restart_strategies.as_ref().map(|choices| pick(words[7], choices)),
    }
}

impl DrawnConfig {
    /// Writes the drawn values into the scenario's own fields.
    pub fn apply(&self, scenario: &mut Scenario) {
        let checkpoint = &mut scenario.checkpoint;
        checkpoint.protocol = self.protocol.unwrap_or(checkpoint.protocol);
        checkpoint.interval_ms = self.interval_ms.unwrap_or(checkpoint.interval_ms);
        checkpoint.timeout_ms = self.timeout_ms.unwrap_or(checkpoint.timeout_ms);
        checkpoint.max_concurrent = self.max_concurrent.unwrap_or(checkpoint.max_concurrent);
        checkpoint.min_pause_ms = self.min_pause_ms.unwrap_or(checkpoint.min_pause_ms);
        checkpoint.aligned_timeout_ms = self.aligned_timeout_ms.unwrap_or(checkpoint.aligned_timeout_ms);
        scenario.network.buffer_capacity = self.buffer_capacity.unwrap_or(scenario.network.buffer_capacity);
        scenario.recovery.strategy = self.restart_strategy.unwrap_or(scenario.recovery.strategy);
    }
}

/// One of `choices`, from one word.
fn pick<T: Copy>(word: u64, choices: &[T]) -> T {
    choices[scale_below(word, choices.len() as u64) as usize]
}

impl fmt::Display for DrawnConfig {
    /// `unaligned, interval 37 ms, timeout 400 ms, max concurrent 2, ...`: the drawn
    /// settings only, in the order they are drawn.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            self.protocol.map(|protocol| protocol.name().to_string()),
            self.interval_ms.map(|value| format!("interval {value} ms")),
            self.timeout_ms.map(|value| format!("timeout {value} ms")),
            self.max_concurrent.map(|value| format!("max concurrent {value}")),
            self.min_pause_ms.map(|value| format!("min pause {value} ms")),
            self.aligned_timeout_ms.map(|value| format!("aligned timeout {value} ms")),
            self.buffer_capacity.map(|value| format!("buffers {value}")),
            self.restart_strategy.map(|strategy| format!("restart {}", strategy.name())),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() { f.write_str("nothing (an empty [randomize])") } else { f.write_str(&parts.join(", ")) }
    }
}
