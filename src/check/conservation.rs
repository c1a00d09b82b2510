//! Conservation of money in the bank: the invariant Chandy and Lamport's paper motivates
//! snapshots with.
//!
//! For every completed snapshot, the balances the accounts recorded plus the transfers
//! recorded as channel state (in flight across the cut) must equal the money in the bank —
//! a snapshot that misses an in-flight transfer, or counts one twice, shows money vanishing
//! or appearing. At the end of a finished run the balances must add up too, and when every
//! transfer is replayable each account must hold exactly its expected balance (a transfer
//! paid twice or lost after a restore shows there even when the sum is right).
//!
//! Judged from facts: `MessageSent` (a transfer's amount), `BalanceCaptured`,
//! `ChannelStateRecorded`, `CheckpointCompleted` and `FinalBalance`.

use super::per_checkpoint::PerCheckpoint;
use super::{BankExpectation, Invariant};
use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::trace::{Fact, MessageTag};
use std::collections::BTreeMap;

/// What one snapshot has recorded so far.
#[derive(Clone, Copy, Debug, Default)]
struct RecordedMoney {
    balances: i64,
    in_flight: i64,
    accounts: u64,
    transfers: u64,
}

/// The conservation checker.
pub struct Conservation {
    expected: BankExpectation,
    /// Per channel, by sequence number: the amount of each transfer (0 for markers).
    amounts: Vec<Vec<i64>>,
    pending: PerCheckpoint<RecordedMoney>,
    final_balances: BTreeMap<TaskId, i64>,
}

impl Conservation {
    /// A checker for a bank holding `expected`.
    pub fn new(expected: BankExpectation) -> Conservation {
        Conservation { expected, amounts: Vec::new(), pending: PerCheckpoint::new(), final_balances: BTreeMap::new() }
    }

    /// Observes one fact; returns the violation it reveals, if any.
    pub fn observe(&mut self, fact: &Fact) -> Option<(Invariant, String)> {
        match *fact {
            Fact::MessageSent { channel, sequence, message: MessageTag::Transfer { amount, .. } } => {
                if self.amounts.len() <= channel.index() {
                    self.amounts.resize(channel.index() + 1, Vec::new());
                }
                let amounts = &mut self.amounts[channel.index()];
                let index = usize::try_from(sequence).expect("sequence fits usize");
                if amounts.len() <= index {
                    amounts.resize(index + 1, 0);
                }
                amounts[index] = amount;
                None
            }
            Fact::BalanceCaptured { checkpoint, balance, .. } => {
                let recorded = self.pending.entry(checkpoint);
                recorded.balances += balance;
                recorded.accounts += 1;
                None
            }
            Fact::ChannelStateRecorded { checkpoint, channel, sequence, .. } => {
                let amount = self
                    .amounts
                    .get(channel.index())
                    .and_then(|amounts| amounts.get(usize::try_from(sequence).ok()?))
                    .copied()
                    .unwrap_or(0);
                let recorded = self.pending.entry(checkpoint);
                recorded.in_flight += amount;
                recorded.transfers += 1;
                None
            }
            Fact::FinalBalance { task, balance } => {
                self.final_balances.insert(task, balance);
                None
            }
            _ => {
                let (checkpoint, recorded) = self.pending.settle(fact)?;
                self.judge(checkpoint, recorded)
            }
        }
    }

    fn judge(&self, checkpoint: CheckpointId, recorded: RecordedMoney) -> Option<(Invariant, String)> {
        let total = recorded.balances + recorded.in_flight;
        (total != self.expected.total).then(|| {
            let detail = format!(
                "{checkpoint} records {} in {} balances and {} in {} in-flight transfers: {total} in all, but the bank \
                 holds {} ({} {})",
                recorded.balances,
                recorded.accounts,
                recorded.in_flight,
                recorded.transfers,
                self.expected.total,
                (total - self.expected.total).abs(),
                if total < self.expected.total { "vanished" } else { "appeared from nowhere" }
            );
            (Invariant::Conservation, detail)
        })
    }

    /// At the end of a finished run: the balances add up, and each is as expected if known.
    pub fn finish(&self) -> Option<(Invariant, String)> {
        let violation = |detail: String| Some((Invariant::Conservation, detail));
        if self.final_balances.is_empty() {
            return violation("the run finished, but no account reported its final balance".to_string());
        }
        let sum: i64 = self.final_balances.values().sum();
        if sum != self.expected.total {
            return violation(format!(
                "the accounts end with {sum} in all, but the bank holds {}",
                self.expected.total
            ));
        }
        let expected = self.expected.final_balances.as_deref().unwrap_or_default();
        for (&task, &balance) in &self.final_balances {
            if let Some(&want) = expected.get(task.index())
                && want != balance
            {
                return violation(format!(
                    "{task} ends with balance {balance}, but paying and being paid every transfer exactly once leaves \
                     {want}"
                ));
            }
        }
        None
    }
}
