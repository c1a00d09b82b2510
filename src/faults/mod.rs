//! Faults as data: the materialised, time-ordered plan a run applies.
//!
//! A plan is a list of faults at simulated times. The harness turns each into an event and
//! applies it; protocols and operators never see a fault, only its consequences (a restart,
//! a restored state). The fault kinds, swarm profiles and plan generation grow with the
//! faults issue (#5); the plan is stored whole in run files so a failure still means
//! something after the code changes.

use crate::dataflow::graph::TaskRef;
use crate::kernel::time::SimTime;
use serde::{Deserialize, Serialize};

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// The task's process dies; the job fails over and restarts from the latest completed
    /// checkpoint.
    CrashTask { task: TaskRef },
}

/// A fault and when it strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledFault {
    /// When.
    pub at: SimTime,
    /// What.
    pub fault: Fault,
}

/// Every fault of a run, in time order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// The faults, sorted by time (ties keep their order).
    pub faults: Vec<ScheduledFault>,
}

impl FaultPlan {
    /// A plan of `faults`, sorted stably by time.
    pub fn new(mut faults: Vec<ScheduledFault>) -> FaultPlan {
        faults.sort_by_key(|fault| fault.at);
        FaultPlan { faults }
    }
}
