//! Validation of a bank scenario: the `[bank]` section and its `[[script]]` become a
//! `WorldConfig` whose graph is one vertex of accounts with a direct edge to itself.
//!
//! Only Chandy-Lamport runs on it: the accounts form a complete graph, so every barrier
//! protocol that waits for all of a task's barriers before forwarding its own would wait on
//! a cycle for itself.

use super::ScenarioError;
use super::compile::{CompiledScenario, RECORDS_PER_SPLIT_MAX, SOURCE_RECORDS_MAX, micros, millis};
use super::file::{BankSection, Scenario, ScriptKindName, WorkloadSection};
use crate::dataflow::graph::{EdgeSpec, JobGraph, Partitioning, VertexKind, VertexSpec};
use crate::dataflow::source::{KeyDistribution, WorkloadSpec};
use crate::harness::bank::{BankConfig, ScriptedAction, ScriptedEvent};
use crate::kernel::ids::VertexId;
use crate::kernel::time::SimTime;
use crate::protocol::ProtocolKind;

/// The most accounts a bank may have (it has accounts × (accounts − 1) channels).
const ACCOUNTS_MAX: u32 = 1_000;

/// The largest opening balance or scripted amount, so that no sum overflows.
const MONEY_MAX: u64 = 1_000_000_000_000;

/// The vertex name of the accounts: tasks are `account[0]`, `account[1]`, ...
pub const ACCOUNT_VERTEX: &str = "account";

impl Scenario {
    /// Validates a scenario with a `[bank]` section.
    pub(super) fn compile_bank(&self, bank: &BankSection) -> Result<CompiledScenario, ScenarioError> {
        if self.workload != WorkloadSection::default() {
            return Err(ScenarioError::at("workload", "a bank's transfers are set in [bank]; remove [workload]"));
        }
        if !self.vertices.is_empty() || !self.edges.is_empty() {
            let field = if self.vertices.is_empty() { "edges" } else { "vertices" };
            return Err(ScenarioError::at(field, "a bank's accounts form their own graph; remove vertices and edges"));
        }
        if self.checkpoint.protocol != ProtocolKind::ChandyLamport {
            let message = format!(
                "`{}` cannot run on the bank's complete graph of accounts: its barriers would wait on a cycle for \
                 themselves; use chandy-lamport, which never blocks",
                self.checkpoint.protocol.name()
            );
            return Err(ScenarioError::at("checkpoint.protocol", message));
        }
        if !(2..=ACCOUNTS_MAX).contains(&bank.accounts) {
            return Err(ScenarioError::at("bank.accounts", format!("must lie in 2..={ACCOUNTS_MAX}")));
        }
        let opening_balances = opening_balances(bank)?;
        if bank.transfers_per_account > RECORDS_PER_SPLIT_MAX
            || bank.transfers_per_account.saturating_mul(u64::from(bank.accounts)) > SOURCE_RECORDS_MAX
        {
            let message = format!("at most {RECORDS_PER_SPLIT_MAX} per account and {SOURCE_RECORDS_MAX} in all");
            return Err(ScenarioError::at("bank.transfers_per_account", message));
        }
        if bank.amount_max > 0xffff {
            return Err(ScenarioError::at("bank.amount_max", "must be at most 65535"));
        }
        let graph = JobGraph {
            vertices: vec![VertexSpec {
                name: ACCOUNT_VERTEX.to_string(),
                kind: VertexKind::Account,
                parallelism: bank.accounts,
                max_parallelism: bank.accounts,
                processing: micros("bank.processing_us", bank.processing_us)?,
                window_us: 0,
            }],
            edges: vec![EdgeSpec { from: VertexId(0), to: VertexId(0), partitioning: Partitioning::Direct }],
        };
        graph.validate().map_err(|error| ScenarioError::at("bank", error.message))?;
        let workload = WorkloadSpec {
            records_per_source_subtask: bank.transfers_per_account,
            // A transfer's key is its payee among the other accounts.
            key_count: u64::from(bank.accounts - 1),
            key_distribution: KeyDistribution::Uniform,
            value_max: bank.amount_max,
        };
        let config = BankConfig { opening_balances, script: self.compile_script(bank.accounts)? };
        let world =
            self.assemble_world(graph, workload, self.compile_checkpoint_allowing_no_interval()?, Some(config))?;
        let task_names = (0..bank.accounts).map(|index| format!("{ACCOUNT_VERTEX}[{index}]")).collect();
        Ok(CompiledScenario { world, budget: self.compile_budget()?, task_names, drawn: None })
    }

    fn compile_script(&self, accounts: u32) -> Result<Vec<ScriptedEvent>, ScenarioError> {
        let mut script = Vec::with_capacity(self.script.len());
        for (index, event) in self.script.iter().enumerate() {
            let field = |name: &str| format!("script[{index}].{name}");
            let account = |name: &str, value: Option<u32>| match value {
                Some(account) if account < accounts => Ok(account),
                Some(_) => Err(ScenarioError::at(field(name), format!("must name an account in 0..{accounts}"))),
                None => Err(ScenarioError::at(field(name), format!("a {:?} event needs it", event.kind))),
            };
            let stray = |name: &str, present: bool| {
                if present {
                    Err(ScenarioError::at(field(name), format!("does not apply to a {:?} event", event.kind)))
                } else {
                    Ok(())
                }
            };
            let at = SimTime::ZERO.after(millis(&field("at_ms"), event.at_ms)?);
            let action = match event.kind {
                ScriptKindName::Transfer => {
                    stray("account", event.account.is_some())?;
                    let (from, to) = (account("from", event.from)?, account("to", event.to)?);
                    if from == to {
                        return Err(ScenarioError::at(field("to"), "an account cannot pay itself"));
                    }
                    let amount =
                        event.amount.ok_or_else(|| ScenarioError::at(field("amount"), "a transfer needs it"))?;
                    money(&field("amount"), amount)?;
                    let latency = event.delay_ms.map(|delay| millis(&field("delay_ms"), delay)).transpose()?;
                    let amount = i64::try_from(amount).expect("checked against MONEY_MAX");
                    ScriptedAction::Transfer { from, to, amount, latency }
                }
                ScriptKindName::Snapshot => {
                    for (name, present) in [
                        ("from", event.from.is_some()),
                        ("to", event.to.is_some()),
                        ("amount", event.amount.is_some()),
                        ("delay_ms", event.delay_ms.is_some()),
                    ] {
                        stray(name, present)?;
                    }
                    ScriptedAction::Snapshot { account: account("account", event.account)? }
                }
            };
            script.push(ScriptedEvent { at, action });
        }
        Ok(script)
    }
}

/// Each account's opening balance, from exactly one of `opening_balance` (all alike) and
/// `opening_balances` (one each).
fn opening_balances(bank: &BankSection) -> Result<Vec<i64>, ScenarioError> {
    let balances = match (bank.opening_balance, &bank.opening_balances) {
        (Some(_), Some(_)) => {
            return Err(ScenarioError::at(
                "bank.opening_balances",
                "give opening_balance or opening_balances, not both",
            ));
        }
        (None, None) => return Err(ScenarioError::at("bank", "needs opening_balance (or opening_balances)")),
        (Some(balance), None) => {
            money("bank.opening_balance", balance)?;
            vec![balance; bank.accounts as usize]
        }
        (None, Some(balances)) => {
            if balances.len() != bank.accounts as usize {
                let message = format!("has {} balances for {} accounts", balances.len(), bank.accounts);
                return Err(ScenarioError::at("bank.opening_balances", message));
            }
            for (index, &balance) in balances.iter().enumerate() {
                money(&format!("bank.opening_balances[{index}]"), balance)?;
            }
            balances.clone()
        }
    };
    Ok(balances.into_iter().map(|balance| i64::try_from(balance).expect("checked against MONEY_MAX")).collect())
}

fn money(field: &str, value: u64) -> Result<(), ScenarioError> {
    if value > MONEY_MAX {
        return Err(ScenarioError::at(field, format!("{value} is too large (at most {MONEY_MAX})")));
    }
    Ok(())
}
