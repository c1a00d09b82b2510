//! Validation of `[[savepoint]]` entries: errors name the entry and field.

use super::ScenarioError;
use super::compile::millis;
use super::file::Scenario;
use crate::harness::SavepointRequest;
use crate::kernel::time::SimTime;

impl Scenario {
    /// The savepoints asked for, in time order; `bank`: the job is a bank of accounts.
    pub(super) fn compile_savepoints(&self, bank: bool) -> Result<Vec<SavepointRequest>, ScenarioError> {
        if bank && !self.savepoint.is_empty() {
            let message = "a savepoint is always aligned, and aligned barriers would wait on the accounts' cycle for \
                           themselves";
            return Err(ScenarioError::at("savepoint", message));
        }
        let mut requests: Vec<SavepointRequest> = Vec::with_capacity(self.savepoint.len());
        for (index, section) in self.savepoint.iter().enumerate() {
            let field = format!("savepoint[{index}].at_ms");
            let at = SimTime::ZERO.after(millis(&field, section.at_ms)?);
            if at == SimTime::ZERO || requests.last().is_some_and(|last| last.at >= at) {
                return Err(ScenarioError::at(field, "must be after 0 and after the entry before"));
            }
            requests.push(SavepointRequest { at, stop: section.stop });
        }
        Ok(requests)
    }
}
