//! Scenarios: the TOML files users write, parsed strictly and validated into the typed
//! configuration the harness runs.
//!
//! `file.rs` is the schema (serde, unknown fields refused) — the same model the Rust builder
//! fills in and run files store whole. `compile.rs` checks meaning (names, ranges, graph
//! structure) and produces a `WorldConfig`. Every error is one line naming the file and the
//! field. Reads only the file it is given. Unit tests in `scenario/tests.rs`; CLI-level
//! bad-input tests in tests/it/cli.rs.

mod bank;
mod compile;
mod draw_config;
mod faults;
mod file;
mod log;
mod randomize;
mod rescale;
mod savepoint;

#[cfg(test)]
mod bank_tests;
#[cfg(test)]
mod log_tests;
#[cfg(test)]
mod randomize_tests;
#[cfg(test)]
mod rescale_tests;
#[cfg(test)]
mod tests;

pub use compile::{CompiledScenario, widest};
pub use draw_config::{DrawnConfig, draw_config};
pub use file::{
    BankSection, BudgetSection, CheckpointSection, ClusterSection, EdgeSection, ExternalSection, FailoverName,
    FaultKindName, FaultSection, KeyDistributionName, LogSection, NetworkSection, PartitionGrowthSection, PhaseName,
    RecoverySection, RescaleFromName, RescaleSection, RestartStrategyName, SavepointSection, Scenario,
    ScriptEventSection, ScriptKindName, StorageSection, SwarmSection, VertexSection, WorkloadSection,
};
pub use randomize::RandomizeSection;

use std::fmt;
use std::path::Path;

/// A scenario that could not be read or is invalid: one line, naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The field's path (`checkpoint.interval_ms`, `edges[1].to`), or `None` for the file
    /// as a whole.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ScenarioError {
    pub(crate) fn at(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError { field: Some(field.into()), message: message.into() }
    }

    /// The error as one line, prefixed with `source` (a file path or a label).
    pub fn one_line(&self, source: &str) -> String {
        match &self.field {
            Some(field) => format!("{source}: {field}: {}", self.message),
            None => format!("{source}: {}", self.message),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line("scenario"))
    }
}

impl Scenario {
    /// Reads and parses a scenario file (without validating its meaning).
    pub fn from_path(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ScenarioError { field: None, message: format!("cannot read the file: {error}") })?;
        Scenario::from_toml(&text)
    }

    /// Parses scenario TOML (without validating its meaning).
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        file::parse(text)
    }
}
