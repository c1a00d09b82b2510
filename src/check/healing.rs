//! Liveness after healing: once every fault of the plan is over (fact `FaultsLifted`), the
//! job must make progress again — a checkpoint completes within the scenario's bound
//! (`checkpoint.timeout_ms` + `budget.heal_checkpoint_ms`), or the job is finishing (a task
//! finished: a dataflow task after its final checkpoint, a bank account when it closed; the
//! end-of-run liveness check takes over). As TigerBeetle's VOPR
//! follows its faulty safety phase with a healed liveness phase.
//!
//! Judged from facts and their times: `FaultsLifted`, `CheckpointCompleted` and
//! `TaskFinished`. A run that keeps going past the deadline without either fails at the
//! first fact after it; one that stalls is caught by the end-of-run liveness check.

use super::Invariant;
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::Fact;

/// The healed-phase checker.
pub struct HealedProgress {
    within: SimDuration,
    /// When the run healed, once it has.
    healed_at: Option<SimTime>,
    progressed: bool,
    /// The last checkpoint completed, and when (for the report).
    last_completed: Option<(CheckpointId, SimTime)>,
}

impl HealedProgress {
    /// Progress is due within `within` of healing.
    pub fn new(within: SimDuration) -> HealedProgress {
        HealedProgress { within, healed_at: None, progressed: false, last_completed: None }
    }

    /// Observes one fact at `time`; returns the violation it reveals, if any.
    pub fn observe(&mut self, time: SimTime, fact: &Fact) -> Option<(Invariant, String)> {
        if self.progressed {
            return None;
        }
        match *fact {
            Fact::FaultsLifted => self.healed_at = Some(time),
            Fact::CheckpointCompleted { checkpoint } => {
                self.last_completed = Some((checkpoint, time));
                self.progressed = self.healed_at.is_some();
            }
            Fact::TaskFinished { .. } => self.progressed = true,
            _ => {}
        }
        self.observe_time(time)
    }

    /// Judges only the time of a fact that cannot mark progress (the data path): is it past
    /// the deadline? One comparison, as a run's every record passes here.
    #[inline]
    pub fn observe_time(&self, time: SimTime) -> Option<(Invariant, String)> {
        match self.healed_at {
            Some(healed_at) if !self.progressed && time > healed_at.after(self.within) => {
                Some((Invariant::Liveness, self.overdue_detail(healed_at)))
            }
            _ => None,
        }
    }

    fn overdue_detail(&self, healed_at: SimTime) -> String {
        let last = match self.last_completed {
            Some((checkpoint, at)) => format!("the last to complete was {checkpoint}, at {at}"),
            None => "none has completed yet".to_string(),
        };
        format!(
            "every fault was over at {healed_at}, but no checkpoint completed within {} ms after ({last}), and the \
             job is not finishing",
            self.within.as_millis()
        )
    }
}
