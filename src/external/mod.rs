//! The external system a job's sinks write to: a transactional store with a read-committed
//! view, as Kafka is to Flink's two-phase-commit sink; it also takes direct writes (upserts
//! and appends), visible at once.
//!
//! A transaction is named by a deterministic `TransactionId` (sink subtask, running number)
//! and goes Open → Prepared → Committed, or is Aborted: fenced when its id is opened again,
//! by its restarted sink as a leftover (`abort_lingering`), when it outlives the transaction
//! timeout (Kafka's `transaction.timeout.ms`: a real data-loss path when a prepared
//! transaction waits too long for its commit), or by a fault. Committing a committed
//! transaction is a no-op success, as Flink's recovery relies on. The store can be
//! unavailable for a window: every call then fails.
//!
//! It performs calls and says what happened; it records no facts and knows nothing of
//! checkpoints — the harness records the facts and decides what a failure means.

pub mod log;
#[cfg(test)]
mod tests;

use crate::dataflow::record::Record;
use crate::kernel::ids::{TaskId, TransactionId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::{ExternalError, TransactionAbort};
use std::collections::BTreeMap;

/// The external system's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExternalConfig {
    /// A transaction still open or prepared this long after it began is aborted.
    pub transaction_timeout: SimDuration,
    /// What the job's downstream reader sees of transactions.
    pub reader_isolation: Isolation,
    /// How often the reader polls (zero: never).
    pub reader_poll: SimDuration,
}

/// A reader's isolation level, as a Kafka consumer's `isolation.level`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// Only committed transactions' records (what end-to-end exactly-once needs).
    #[default]
    ReadCommitted,
    /// Records of open and pre-committed transactions too (Kafka's consumer default).
    ReadUncommitted,
}

/// What a reader of the transactional records sees: how many, and the wrapping sum of
/// their fingerprints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReaderView {
    /// Records seen.
    pub records: u64,
    /// The wrapping sum of their fingerprints.
    pub fingerprint: u64,
}

impl ReaderView {
    fn with(self, record: &Record) -> ReaderView {
        ReaderView { records: self.records + 1, fingerprint: self.fingerprint.wrapping_add(record.id.fingerprint()) }
    }
}

/// Where a transaction is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionState {
    /// Taking writes.
    Open,
    /// Pre-committed: flushed, waiting for its commit.
    Prepared,
    /// Committed: its records are visible to readers.
    Committed,
    /// Aborted: its records are gone.
    Aborted(TransactionAbort),
}

#[derive(Clone, Debug)]
struct Transaction {
    state: TransactionState,
    epoch: u32,
    records: Vec<Record>,
}

/// What a commit found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Incarnation `epoch` committed now: these records became visible.
    Committed {
        /// The incarnation of the transaction that committed.
        epoch: u32,
        /// The records that became visible, in write order.
        records: Vec<Record>,
    },
    /// It had been committed before: nothing changes.
    AlreadyCommitted,
}

/// One incarnation of a transaction id: an id opened again is a new transaction (a new
/// epoch), as Kafka fences a transactional id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incarnation {
    /// The transaction id.
    pub txn: TransactionId,
    /// Which incarnation of it.
    pub epoch: u32,
}

/// The external system of one run.
#[derive(Clone, Debug)]
pub struct ExternalStore {
    config: ExternalConfig,
    /// The planted bug `recommit-republishes`: committing a committed transaction
    /// publishes its records again.
    recommit_republishes: bool,
    /// The planted bug `upsert-insert-ignore`: the keys already in the table.
    upserted_keys: Option<std::collections::BTreeSet<(TaskId, u64)>>,
    transactions: BTreeMap<TransactionId, Transaction>,
    unavailable_until: Option<SimTime>,
    /// Everything commits have published so far.
    published: ReaderView,
}

impl ExternalStore {
    /// An empty store.
    pub fn new(config: ExternalConfig) -> ExternalStore {
        ExternalStore {
            config,
            recommit_republishes: false,
            upserted_keys: None,
            transactions: BTreeMap::new(),
            unavailable_until: None,
            published: ReaderView::default(),
        }
    }

    /// The same store with the planted bug `upsert-insert-ignore`.
    pub fn ignoring_upserts_of_known_keys(self) -> ExternalStore {
        ExternalStore { upserted_keys: Some(std::collections::BTreeSet::new()), ..self }
    }

    /// The same store with the planted bug `recommit-republishes`.
    pub fn republishing_on_recommit(self) -> ExternalStore {
        ExternalStore { recommit_republishes: true, ..self }
    }

    /// Every call fails until `until` (a later window extends an earlier one).
    pub fn make_unavailable(&mut self, until: SimTime) {
        self.unavailable_until = self.unavailable_until.max(Some(until));
    }

    fn check_available(&self, now: SimTime) -> Result<(), ExternalError> {
        match self.unavailable_until {
            Some(until) if now < until => Err(ExternalError::Unavailable),
            _ => Ok(()),
        }
    }

    /// A write outside any transaction, visible at once: an upsert of `upsert_key` (the
    /// sink subtask and the key), or an append (`None`). Returns whether it took effect —
    /// always, but for the planted `upsert-insert-ignore`, which keeps a key's first value.
    /// The store keeps no values: what a reader sees is the facts' business.
    pub fn write_direct(&mut self, upsert_key: Option<(TaskId, u64)>, now: SimTime) -> Result<bool, ExternalError> {
        self.check_available(now)?;
        Ok(match (upsert_key, &mut self.upserted_keys) {
            (Some(key), Some(seen)) => seen.insert(key),
            _ => true,
        })
    }

    /// When `txn`, begun at `began`, times out.
    pub fn timeout_of(&self, began: SimTime) -> SimTime {
        began.after(self.config.transaction_timeout)
    }

    /// Opens `txn`. An earlier incarnation still open or prepared is fenced (aborted and
    /// returned); a new incarnation gets the next epoch.
    pub fn begin(&mut self, txn: TransactionId, now: SimTime) -> Result<(u32, Option<Incarnation>), ExternalError> {
        self.check_available(now)?;
        let (epoch, fenced) = match self.transactions.get(&txn) {
            Some(old) => {
                let live = matches!(old.state, TransactionState::Open | TransactionState::Prepared);
                (old.epoch + 1, live.then_some(Incarnation { txn, epoch: old.epoch }))
            }
            None => (0, None),
        };
        let fresh = Transaction { state: TransactionState::Open, epoch, records: Vec::new() };
        self.transactions.insert(txn, fresh);
        Ok((epoch, fenced))
    }

    /// Writes `record` into the open `txn`.
    pub fn write(&mut self, txn: TransactionId, record: Record, now: SimTime) -> Result<(), ExternalError> {
        self.check_available(now)?;
        let transaction = self.live(txn)?;
        transaction.records.push(record);
        Ok(())
    }

    /// Pre-commits `txn`: from now on it can only be committed or aborted.
    pub fn prepare(&mut self, txn: TransactionId, now: SimTime) -> Result<(), ExternalError> {
        self.check_available(now)?;
        let transaction = self.live(txn)?;
        transaction.state = TransactionState::Prepared;
        Ok(())
    }

    /// Commits `txn`; a committed one is a no-op success. An open transaction commits too
    /// (Kafka's commit flushes first); an aborted one fails.
    pub fn commit(&mut self, txn: TransactionId, now: SimTime) -> Result<CommitOutcome, ExternalError> {
        self.check_available(now)?;
        let Some(transaction) = self.transactions.get_mut(&txn) else {
            return Err(ExternalError::Aborted); // Never begun: nothing to commit.
        };
        let epoch = transaction.epoch;
        let publishes = match transaction.state {
            TransactionState::Committed => self.recommit_republishes,
            TransactionState::Aborted(_) => false,
            TransactionState::Open | TransactionState::Prepared => true,
        };
        if publishes {
            self.published = transaction.records.iter().fold(self.published, ReaderView::with);
        }
        match transaction.state {
            TransactionState::Committed if self.recommit_republishes => {
                Ok(CommitOutcome::Committed { epoch, records: transaction.records.clone() })
            }
            TransactionState::Committed => Ok(CommitOutcome::AlreadyCommitted),
            TransactionState::Aborted(_) => Err(ExternalError::Aborted),
            TransactionState::Open | TransactionState::Prepared => {
                transaction.state = TransactionState::Committed;
                Ok(CommitOutcome::Committed { epoch, records: transaction.records.clone() })
            }
        }
    }

    /// Aborts every transaction of `sink` numbered `from` or later that is not committed:
    /// what a restarted sink leaves behind it. Returns those it aborted.
    pub fn abort_lingering(
        &mut self,
        sink: TaskId,
        from: u64,
        now: SimTime,
    ) -> Result<Vec<Incarnation>, ExternalError> {
        self.check_available(now)?;
        let range = TransactionId { sink, sequence: from }..=TransactionId { sink, sequence: u64::MAX };
        let mut aborted = Vec::new();
        for (&txn, transaction) in self.transactions.range_mut(range) {
            if matches!(transaction.state, TransactionState::Open | TransactionState::Prepared) {
                transaction.state = TransactionState::Aborted(TransactionAbort::Lingering);
                transaction.records.clear();
                aborted.push(Incarnation { txn, epoch: transaction.epoch });
            }
        }
        Ok(aborted)
    }

    /// Aborts `incarnation` for `cause` if it is still the live one, open or prepared;
    /// whether it did.
    pub fn abort(&mut self, incarnation: Incarnation, cause: TransactionAbort) -> bool {
        let Some(transaction) = self.transactions.get_mut(&incarnation.txn) else { return false };
        let live = matches!(transaction.state, TransactionState::Open | TransactionState::Prepared);
        if !live || transaction.epoch != incarnation.epoch {
            return false;
        }
        transaction.state = TransactionState::Aborted(cause);
        transaction.records.clear();
        true
    }

    /// Every transaction still open (not prepared), for a fault that aborts them.
    pub fn open_transactions(&self) -> Vec<Incarnation> {
        self.transactions
            .iter()
            .filter(|(_, transaction)| transaction.state == TransactionState::Open)
            .map(|(&txn, transaction)| Incarnation { txn, epoch: transaction.epoch })
            .collect()
    }

    /// What the reader sees now: every published record, and — reading uncommitted — the
    /// records of open and pre-committed transactions too.
    pub fn reader_view(&self) -> ReaderView {
        if self.config.reader_isolation == Isolation::ReadCommitted {
            return self.published;
        }
        self.transactions
            .values()
            .filter(|transaction| matches!(transaction.state, TransactionState::Open | TransactionState::Prepared))
            .flat_map(|transaction| &transaction.records)
            .fold(self.published, ReaderView::with)
    }

    /// The state of `txn`, if it was ever begun.
    pub fn state(&self, txn: TransactionId) -> Option<TransactionState> {
        self.transactions.get(&txn).map(|transaction| transaction.state)
    }

    fn live(&mut self, txn: TransactionId) -> Result<&mut Transaction, ExternalError> {
        match self.transactions.get_mut(&txn) {
            Some(transaction) if transaction.state == TransactionState::Open => Ok(transaction),
            _ => Err(ExternalError::Aborted),
        }
    }
}
