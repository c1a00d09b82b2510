//! A user's own protocol plugs in: written against the public `TaskProtocol` interface, it
//! runs under every checker and fault plan with no change to snapsim. A naive one is caught;
//! a correct one passes a property test.

use crate::support::load;
use proptest::prelude::*;
use snapsim::check::Invariant;
use snapsim::kernel::ids::CheckpointId;
use snapsim::kernel::time::SimTime;
use snapsim::scenario::Scenario;
use snapsim::testing::{
    Guarantee, ProtocolFactory, TaskCommand, TaskInput, TaskProtocol, TaskSetup, Verdict, check_with_protocol,
    fault_plans, seeds,
};
use std::rc::Rc;

/// Snapshots on the first barrier and forwards it at once, never blocking and recording
/// nothing: what someone might write before reading Chandy and Lamport.
struct SnapshotOnFirstBarrier {
    newest: Option<CheckpointId>,
}

impl TaskProtocol for SnapshotOnFirstBarrier {
    fn handle(&mut self, _now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        match input {
            TaskInput::Trigger { checkpoint } | TaskInput::Barrier { checkpoint, .. }
                if self.newest.is_none_or(|newest| checkpoint > newest) =>
            {
                self.newest = Some(checkpoint);
                out.push(TaskCommand::Snapshot { checkpoint });
                out.push(TaskCommand::Persist { checkpoint });
            }
            TaskInput::StatePersisted { checkpoint } => out.push(TaskCommand::Acknowledge { checkpoint }),
            _ => {}
        }
    }
}

/// A correct one: aligned barriers, written from scratch by the user (one checkpoint at a
/// time; a newer barrier or an ended input abandons the pending alignment; an aborted
/// checkpoint is obsolete).
struct MyAligned {
    input_count: u32,
    arrived: Vec<bool>,
    pending: Option<CheckpointId>,
    newest: Option<CheckpointId>,
}

impl MyAligned {
    fn abandon(&mut self, out: &mut Vec<TaskCommand>) {
        if let Some(checkpoint) = self.pending.take() {
            self.arrived.fill(false);
            out.push(TaskCommand::UnblockAllInputs);
            out.push(TaskCommand::Decline { checkpoint });
        }
    }
}

impl TaskProtocol for MyAligned {
    fn handle(&mut self, _now: SimTime, input: TaskInput, out: &mut Vec<TaskCommand>) {
        match input {
            TaskInput::Trigger { checkpoint } => {
                out.push(TaskCommand::Snapshot { checkpoint });
                out.push(TaskCommand::Persist { checkpoint });
            }
            TaskInput::Barrier { input, checkpoint } => {
                if self.newest.is_some_and(|newest| checkpoint < newest) || self.pending.is_some_and(|p| checkpoint < p)
                {
                    return;
                }
                if self.pending.is_some_and(|pending| checkpoint > pending) {
                    self.abandon(out);
                }
                if self.pending.is_none() && self.newest.is_some_and(|newest| checkpoint <= newest) {
                    return;
                }
                self.pending = Some(checkpoint);
                self.newest = Some(checkpoint);
                self.arrived[input as usize] = true;
                if self.arrived.iter().filter(|&&arrived| arrived).count() as u32 == self.input_count {
                    self.pending = None;
                    self.arrived.fill(false);
                    out.extend([TaskCommand::Snapshot { checkpoint }, TaskCommand::Persist { checkpoint }]);
                    out.push(TaskCommand::UnblockAllInputs);
                } else {
                    out.push(TaskCommand::BlockInput { input, checkpoint });
                }
            }
            TaskInput::InputEnded { .. } => {
                self.input_count -= 1;
                self.abandon(out);
            }
            TaskInput::CheckpointAborted { checkpoint } => {
                if self.pending.is_some_and(|pending| pending <= checkpoint) {
                    self.abandon(out);
                    out.pop(); // The coordinator already knows: no decline needed.
                }
                // Flink's rule: a late barrier of an aborted checkpoint is obsolete. Without
                // it, that barrier starts an alignment that never completes (a liveness
                // failure this property test found, seed 9983328634262105919).
                self.newest = self.newest.max(Some(checkpoint));
            }
            TaskInput::StatePersisted { checkpoint } => out.push(TaskCommand::Acknowledge { checkpoint }),
            _ => {}
        }
    }
}

struct Factory {
    name: &'static str,
    correct: bool,
}

impl ProtocolFactory for Factory {
    fn name(&self) -> &str {
        self.name
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::ExactlyOnce
    }

    fn build(&self, setup: TaskSetup) -> Box<dyn TaskProtocol> {
        if self.correct {
            let arrived = vec![false; setup.input_count as usize];
            Box::new(MyAligned { input_count: setup.input_count, arrived, pending: None, newest: None })
        } else {
            Box::new(SnapshotOnFirstBarrier { newest: None })
        }
    }
}

fn diamond() -> Scenario {
    let mut scenario = load("sims/diamond.toml");
    scenario.workload.records_per_source_subtask = 800;
    scenario
}

#[test]
fn a_naive_user_protocol_is_caught_by_the_same_checkers() {
    let naive = Rc::new(Factory { name: "snapshot-on-first-barrier", correct: false });
    let outcome = check_with_protocol(&diamond(), snapsim::kernel::rng::Seed(1), None, naive).expect("valid");
    assert_eq!(outcome.custom_protocol.as_deref(), Some("snapshot-on-first-barrier"));
    let Verdict::Fail(violation) = outcome.verdict else { panic!("expected a violation: {:?}", outcome.verdict) };
    assert_eq!(violation.invariant, Invariant::ConsistentCut, "{}", violation.detail);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_correct_user_protocol_passes_every_checker_through_any_crashes(
        seed in seeds(),
        plan in fault_plans(&diamond(), 45, 3),
    ) {
        let mine = Rc::new(Factory { name: "my-aligned", correct: true });
        let outcome = check_with_protocol(&diamond(), seed, Some(&plan), mine).expect("valid");
        prop_assert!(outcome.passed(), "seed {}: {:?}", seed.0, outcome.verdict);
    }
}
