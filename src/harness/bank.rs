//! The bank's accounts in the simulated world: paying and being paid, scripted events, and
//! who initiates each snapshot.
//!
//! An account both produces (its transfers) and consumes (the others'), on a complete
//! graph. Two rules keep that cycle live under credit-based flow control: an account takes
//! in arriving transfers even while its own output buffers wait for credit (being paid
//! sends nothing, so it can only free credits), and it pays its next transfer only when its
//! output buffers are empty. When every account has paid its series, the script is over
//! and no snapshot is pending, every account closes its outputs (end-of-input on every
//! channel); each finishes once all the others have closed too. A closed output carries no
//! more markers: its receiver already treats that input as ended.

use super::tasks::TaskStatus;
use super::{Event, JobStatus, SimWorld};
use crate::dataflow::operator::TaskLogic;
use crate::dataflow::record::{Message, Record};
use crate::kernel::Scheduler;
use crate::kernel::ids::{RecordId, TaskId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::Fact;
use crate::protocol::coordinator::CoordinatorInput;

/// A bank scenario's settings beyond the job graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankConfig {
    /// Each account's balance at the start, by `TaskId`.
    pub opening_balances: Vec<i64>,
    /// Timed transfers and snapshot initiations.
    pub script: Vec<ScriptedEvent>,
}

/// One scripted event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptedEvent {
    /// When it happens.
    pub at: SimTime,
    /// What happens.
    pub action: ScriptedAction,
}

/// What a scripted event does. Accounts are named by index (`account[i]` is task `i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptedAction {
    /// `from` pays `to` `amount`; `latency`, if given, replaces the drawn channel latency.
    Transfer {
        /// The paying account's index.
        from: u32,
        /// The receiving account's index.
        to: u32,
        /// The amount paid.
        amount: i64,
        /// The channel latency to use; `None`: drawn as usual.
        latency: Option<SimDuration>,
    },
    /// `account` initiates a snapshot (if the coordinator's checks allow one now).
    Snapshot {
        /// The initiating account's index.
        account: u32,
    },
}

impl BankConfig {
    /// The time of the last scripted event: no account closes its outputs before it.
    pub fn script_end(&self) -> SimTime {
        self.script.iter().map(|event| event.at).max().unwrap_or(SimTime::ZERO)
    }

    /// Whether the script pays any transfer (its transfers are one-shot, not replayed after
    /// a restore, so only conservation, not each account's final balance, is then known).
    pub fn scripts_transfers(&self) -> bool {
        self.script.iter().any(|event| matches!(event.action, ScriptedAction::Transfer { .. }))
    }
}

/// The channel index among `from`'s outputs that leads to `to` (there is none to itself).
pub fn payee_index(from: u32, to: u32) -> u64 {
    u64::from(if to < from { to } else { to - 1 })
}

/// The account a payee index of `from` names.
pub fn payee_of(from: u32, index: u64) -> u32 {
    let index = u32::try_from(index).expect("a payee index fits u32");
    if index < from { index } else { index + 1 }
}

impl SimWorld {
    /// Schedules the script's events and the wake-up at its end.
    pub(super) fn start_script(&mut self, scheduler: &mut Scheduler<Event>) {
        let Some(bank) = &self.config.bank else { return };
        for (index, event) in bank.script.iter().enumerate() {
            scheduler.at(event.at, Event::Script { index: u32::try_from(index).expect("script fits u32") });
        }
        scheduler.at(bank.script_end(), Event::ScriptEnded);
    }

    /// An account's next step; see the module comment for the order of things.
    pub(super) fn account_step(&mut self, task: TaskId, scheduler: &mut Scheduler<Event>) {
        if self.consume_step(task, false, scheduler) {
            return;
        }
        let runtime = &mut self.tasks[task.index()];
        if runtime.outbox_len > 0 {
            runtime.status = TaskStatus::Backpressured;
            return;
        }
        let TaskLogic::Account(account) = &mut runtime.logic else { unreachable!("an account task runs an account") };
        if let Some(transfer) = account.pay_next() {
            self.stats.source_records_read += 1;
            self.record(Fact::SourceRead { task, offset: transfer.id.offset });
            self.emit(task, transfer, scheduler);
            self.become_busy(task, scheduler);
            return;
        }
        if !runtime.outputs_closed {
            self.close_bank_if_done(scheduler);
        }
        let runtime = &self.tasks[task.index()];
        if runtime.outputs_closed && runtime.inputs.iter().all(|slot| slot.ended) && runtime.outbox_len == 0 {
            self.finish_account(task, scheduler);
        }
    }

    /// Winds the bank down once its work is done — every account has paid its series and
    /// the script is over: no new snapshots, and once none is pending, every account closes
    /// its outputs (closing earlier would make a snapshot in progress lose an input before
    /// its marker, and be declined).
    pub(super) fn close_bank_if_done(&mut self, scheduler: &mut Scheduler<Event>) {
        let Some(bank) = &self.config.bank else { return };
        let work_done = self.job == JobStatus::Running
            && self.now >= bank.script_end()
            && self.tasks.iter().all(|runtime| match &runtime.logic {
                TaskLogic::Account(account) => account.is_done_paying(),
                _ => true,
            });
        if !work_done || self.tasks.iter().all(|runtime| runtime.outputs_closed) {
            return;
        }
        if !self.coordinator.is_winding_down() {
            self.tell_coordinator(CoordinatorInput::WindDown, scheduler);
        }
        if self.coordinator.has_pending() {
            return;
        }
        for index in 0..self.tasks.len() {
            if !self.tasks[index].outputs_closed {
                self.tasks[index].outputs_closed = true;
                self.broadcast(TaskId::from_index(index), Message::EndOfInput, scheduler);
            }
        }
    }

    pub(super) fn on_script(&mut self, index: u32, scheduler: &mut Scheduler<Event>) {
        let bank = self.config.bank.as_ref().expect("only a bank has a script");
        let event = bank.script[index as usize];
        if self.job != JobStatus::Running {
            return; // The job is down: a scripted event at that moment finds no account.
        }
        match event.action {
            ScriptedAction::Transfer { from, to, amount, latency } => {
                self.scripted_transfer(index, from, to, amount, latency, scheduler);
            }
            ScriptedAction::Snapshot { account } => {
                self.next_initiator = Some(TaskId(account));
                self.tell_coordinator(CoordinatorInput::TriggerRequest, scheduler);
                self.next_initiator = None;
            }
        }
    }

    fn scripted_transfer(
        &mut self,
        index: u32,
        from: u32,
        to: u32,
        amount: i64,
        latency: Option<SimDuration>,
        scheduler: &mut Scheduler<Event>,
    ) {
        let task = TaskId(from);
        let runtime = &mut self.tasks[task.index()];
        let TaskLogic::Account(account) = &mut runtime.logic else { unreachable!("an account task runs an account") };
        account.pay(amount);
        // Scripted transfers are numbered after the account's series, so ids never collide.
        let offset = self.config.workload.records_per_source_subtask + u64::from(index);
        let transfer = Record {
            id: RecordId { split: crate::kernel::ids::SplitId::of_task(task), offset },
            key: payee_index(from, to),
            value: amount,
            event_time: 0,
        };
        let gate = &self.topology.tasks[task.index()].outputs[0];
        let channel = gate.channels[usize::try_from(transfer.key).expect("fits usize")];
        self.send_with_latency(task, channel, Message::Record(transfer), latency, scheduler);
    }

    /// The account that initiates the snapshot being triggered: the scripted one, or one
    /// drawn from the initiators stream.
    pub(super) fn initiator(&mut self) -> TaskId {
        match self.next_initiator {
            Some(task) => task,
            None => {
                let accounts = self.tasks.len() as u64;
                TaskId::from_index(usize::try_from(self.initiator_stream.below(accounts)).expect("fits usize"))
            }
        }
    }

    /// At the natural end of a bank run, records every account's balance.
    pub(super) fn record_final_balances(&mut self) {
        let balances: Vec<(TaskId, i64)> = self
            .tasks
            .iter()
            .enumerate()
            .filter_map(|(index, runtime)| match &runtime.logic {
                TaskLogic::Account(account) => Some((TaskId::from_index(index), account.balance())),
                _ => None,
            })
            .collect();
        for (task, balance) in balances {
            self.record(Fact::FinalBalance { task, balance });
        }
    }
}
