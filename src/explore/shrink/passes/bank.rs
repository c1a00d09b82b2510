//! The bank's shrinking passes: fewer transfers per account, fewer accounts, fewer scripted
//! events. Each does nothing for a scenario without a `[bank]`.

use super::Shrinker;

impl Shrinker {
    /// Fewer transfers in each account's series (down to none: the script alone).
    pub(super) fn fewer_transfers(&mut self) -> bool {
        let Some(bank) = &self.current.scenario.bank else { return false };
        self.bisect(bank.transfers_per_account, 0, |candidate, value| {
            if let Some(bank) = candidate.scenario.bank.as_mut() {
                bank.transfers_per_account = value;
            }
        })
    }

    /// Fewer accounts (down to two). A candidate whose faults or script name an account
    /// that no longer exists does not validate and is skipped.
    pub(super) fn fewer_accounts(&mut self) -> bool {
        let Some(bank) = &self.current.scenario.bank else { return false };
        self.bisect(u64::from(bank.accounts), 2, |candidate, value| {
            if let Some(bank) = candidate.scenario.bank.as_mut() {
                bank.accounts = u32::try_from(value).expect("below a u32 account count");
            }
        })
    }

    /// Each scripted event dropped, the last first.
    pub(super) fn drop_script_events(&mut self) -> bool {
        let mut progress = false;
        for index in (0..self.current.scenario.script.len()).rev() {
            if index < self.current.scenario.script.len() {
                let mut candidate = self.current.clone();
                candidate.scenario.script.remove(index);
                progress |= self.attempt(candidate);
            }
        }
        progress
    }
}
