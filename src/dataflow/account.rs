//! A bank account: the operator of the bank scenario (sims/bank.toml).
//!
//! Each account pays a finite, replayable series of transfers to the other accounts —
//! transfer `n` is record `n` of its own workload stream, whose key names the payee (an
//! index among the other accounts) and whose value is the amount — and is paid by theirs.
//! Its checkpointed state is its balance and how many of its transfers it has paid, so a
//! restore rewinds both together and the replayed transfers are the same ones.

use super::operator::{Operator, StateError};
use super::record::Record;
use super::source::RecordGenerator;
use super::state_codec::{push_row, rows};

/// One account.
#[derive(Clone, Debug)]
pub struct Account {
    generator: RecordGenerator,
    opening_balance: i64,
    balance: i64,
    /// Transfers paid so far: the offset of the next one in the series.
    next_transfer: u64,
    /// How many transfers the series holds.
    transfers: u64,
}

impl Account {
    /// An account opening with `opening_balance` that will pay `transfers` transfers drawn
    /// by `generator`.
    pub fn new(generator: RecordGenerator, opening_balance: i64, transfers: u64) -> Account {
        Account { generator, opening_balance, balance: opening_balance, next_transfer: 0, transfers }
    }

    /// Pays the next transfer of the series (the balance goes down by its amount), or
    /// `None` when the series is done.
    pub fn pay_next(&mut self) -> Option<Record> {
        if self.next_transfer >= self.transfers {
            return None;
        }
        let transfer = self.generator.record_at(self.next_transfer);
        self.next_transfer += 1;
        self.balance -= transfer.value;
        Some(transfer)
    }

    /// Pays a transfer from outside the series (a scripted event).
    pub fn pay(&mut self, amount: i64) {
        self.balance -= amount;
    }

    /// The balance now.
    pub fn balance(&self) -> i64 {
        self.balance
    }

    /// Whether every transfer of the series has been paid.
    pub fn is_done_paying(&self) -> bool {
        self.next_transfer >= self.transfers
    }
}

impl Operator for Account {
    /// Being paid: the balance goes up by the transfer's amount.
    fn process(&mut self, record: &Record, _out: &mut Vec<Record>) {
        self.balance += record.value;
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        push_row(out, [self.balance as u64, self.next_transfer]);
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        let [[balance, next_transfer]] = rows::<2>(state)?[..] else {
            return Err(StateError(format!("an account's state is two words, got {} bytes", state.len())));
        };
        if next_transfer > self.transfers {
            return Err(StateError(format!("transfer offset {next_transfer} beyond the {} transfers", self.transfers)));
        }
        self.balance = balance as i64;
        self.next_transfer = next_transfer;
        Ok(())
    }

    fn reset(&mut self) {
        self.balance = self.opening_balance;
        self.next_transfer = 0;
    }
}
