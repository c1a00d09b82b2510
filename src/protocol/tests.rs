//! Protocol unit tests: aligned barriers and the coordinator, input by input.

use super::test_support::script as steps;

mod aligned {
    use super::super::aligned::AlignedBarriers;
    use super::super::test_support::{barrier, persist, snapshot};
    use super::super::{TaskCommand, TaskInput, TaskProtocol};
    use super::steps;
    use crate::kernel::ids::CheckpointId;
    use crate::kernel::time::SimTime;

    const NONE: Vec<TaskCommand> = Vec::new();
    const UNBLOCK: TaskCommand = TaskCommand::UnblockAllInputs;

    fn run(protocol: &mut AlignedBarriers, inputs: &[TaskInput]) -> Vec<Vec<TaskCommand>> {
        steps(inputs, |input, out| protocol.handle(SimTime::ZERO, input, out))
    }

    fn trigger(checkpoint: u64) -> TaskInput {
        TaskInput::Trigger { checkpoint: CheckpointId(checkpoint) }
    }

    fn ended(input: u32) -> TaskInput {
        TaskInput::InputEnded { input }
    }

    fn aborted(checkpoint: u64) -> TaskInput {
        TaskInput::CheckpointAborted { checkpoint: CheckpointId(checkpoint) }
    }

    fn persisted(checkpoint: u64) -> TaskInput {
        TaskInput::StatePersisted { checkpoint: CheckpointId(checkpoint) }
    }

    fn block(input: u32, checkpoint: u64) -> TaskCommand {
        TaskCommand::BlockInput { input, checkpoint: CheckpointId(checkpoint) }
    }

    fn decline(checkpoint: u64) -> TaskCommand {
        TaskCommand::Decline { checkpoint: CheckpointId(checkpoint) }
    }

    fn acknowledge(checkpoint: u64) -> TaskCommand {
        TaskCommand::Acknowledge { checkpoint: CheckpointId(checkpoint) }
    }

    #[test]
    fn a_source_snapshots_on_its_trigger() {
        let mut source = AlignedBarriers::new(0);
        let script = run(&mut source, &[trigger(1), persisted(1), trigger(2)]);
        assert_eq!(script, [vec![snapshot(1), persist(1)], vec![acknowledge(1)], vec![snapshot(2), persist(2)]]);
        assert_eq!(source.aligning(), None);
    }

    #[test]
    fn a_source_ignores_an_obsolete_trigger() {
        let mut source = AlignedBarriers::new(0);
        let script = run(&mut source, &[trigger(2), trigger(1), trigger(2), aborted(3), trigger(3), trigger(4)]);
        assert_eq!(script, [vec![snapshot(2), persist(2)], NONE, NONE, NONE, NONE, vec![snapshot(4), persist(4)]]);
    }

    #[test]
    fn a_one_input_task_snapshots_on_its_barrier_without_blocking() {
        let mut task = AlignedBarriers::new(1);
        let script = run(&mut task, &[barrier(0, 1), barrier(0, 2)]);
        assert_eq!(script, [vec![snapshot(1), persist(1)], vec![snapshot(2), persist(2)]]);
        assert_eq!(task.aligning(), None);
    }

    #[test]
    fn a_two_input_task_blocks_the_first_input_then_snapshots_and_unblocks() {
        let mut task = AlignedBarriers::new(2);
        assert_eq!(run(&mut task, &[barrier(1, 1)]), [vec![block(1, 1)]]);
        assert_eq!(task.aligning(), Some(CheckpointId(1)));
        assert_eq!(run(&mut task, &[barrier(0, 1)]), [vec![snapshot(1), persist(1), UNBLOCK]]);
        assert_eq!(task.aligning(), None);
    }

    #[test]
    fn a_barrier_older_than_the_pending_one_is_ignored() {
        let mut task = AlignedBarriers::new(2);
        let script = run(&mut task, &[barrier(0, 2), barrier(1, 1), barrier(1, 2), barrier(0, 1), barrier(0, 2)]);
        // After checkpoint 2 completed here, a barrier of 1 or 2 is obsolete too.
        assert_eq!(script, [vec![block(0, 2)], NONE, vec![snapshot(2), persist(2), UNBLOCK], NONE, NONE]);
    }

    #[test]
    fn a_newer_barrier_during_alignment_declines_the_pending_one_and_aligns_the_new() {
        let mut task = AlignedBarriers::new(3);
        let script = run(&mut task, &[barrier(0, 1), barrier(1, 1), barrier(2, 2)]);
        // The order matters: unblock, decline the old one, then block for the new one.
        assert_eq!(script, [vec![block(0, 1)], vec![block(1, 1)], vec![UNBLOCK, decline(1), block(2, 2)]]);
        assert_eq!(task.aligning(), Some(CheckpointId(2)));
        let script = run(&mut task, &[barrier(2, 1), barrier(0, 2), barrier(1, 2)]);
        assert_eq!(script, [NONE, vec![block(0, 2)], vec![snapshot(2), persist(2), UNBLOCK]]);
    }

    #[test]
    fn an_abort_during_alignment_unblocks_and_makes_the_checkpoint_obsolete() {
        let mut task = AlignedBarriers::new(2);
        let script = run(&mut task, &[barrier(0, 1), aborted(1), barrier(1, 1), barrier(0, 2), barrier(1, 2)]);
        assert_eq!(
            script,
            [vec![block(0, 1)], vec![UNBLOCK], NONE, vec![block(0, 2)], vec![snapshot(2), persist(2), UNBLOCK]]
        );
    }

    #[test]
    fn an_abort_of_a_newer_checkpoint_abandons_the_alignment_and_both_become_obsolete() {
        let mut task = AlignedBarriers::new(2);
        let script = run(&mut task, &[barrier(0, 1), aborted(2), barrier(1, 1), barrier(0, 2), barrier(1, 3)]);
        assert_eq!(script, [vec![block(0, 1)], vec![UNBLOCK], NONE, NONE, vec![block(1, 3)]]);
    }

    #[test]
    fn an_abort_of_an_older_checkpoint_leaves_the_alignment_alone() {
        let mut task = AlignedBarriers::new(2);
        let script = run(&mut task, &[barrier(0, 2), aborted(1), barrier(1, 2)]);
        assert_eq!(script, [vec![block(0, 2)], NONE, vec![snapshot(2), persist(2), UNBLOCK]]);
    }

    #[test]
    fn an_input_ending_during_alignment_unblocks_and_declines() {
        let mut task = AlignedBarriers::new(2);
        let script = run(&mut task, &[barrier(0, 1), ended(1), barrier(0, 2)]);
        // With one open input left, checkpoint 2 needs no block.
        assert_eq!(script, [vec![block(0, 1)], vec![UNBLOCK, decline(1)], vec![snapshot(2), persist(2)]]);
        assert_eq!(task.aligning(), None);
    }

    #[test]
    fn after_an_input_ended_alignment_waits_for_the_open_inputs_only() {
        let mut task = AlignedBarriers::new(3);
        let script = run(&mut task, &[ended(2), barrier(1, 1), barrier(0, 1)]);
        assert_eq!(script, [NONE, vec![block(1, 1)], vec![snapshot(1), persist(1), UNBLOCK]]);
    }

    #[test]
    fn persisted_state_is_acknowledged() {
        let mut task = AlignedBarriers::new(2);
        let script = run(&mut task, &[barrier(0, 1), barrier(1, 1), persisted(1)]);
        assert_eq!(script, [vec![block(0, 1)], vec![snapshot(1), persist(1), UNBLOCK], vec![acknowledge(1)]]);
    }

    #[test]
    #[should_panic(expected = "two barriers of checkpoint 1 on input 0")]
    fn a_second_barrier_of_the_same_checkpoint_on_the_same_input_panics() {
        let mut task = AlignedBarriers::new(2);
        run(&mut task, &[barrier(0, 1), barrier(0, 1)]);
    }
}

mod coordinator {
    use super::super::coordinator::{CheckpointConfig, Coordinator, CoordinatorCommand, CoordinatorInput};
    use super::steps;
    use crate::kernel::ids::{CheckpointId, TaskId};
    use crate::kernel::time::{NANOS_PER_MILLI, SimDuration, SimTime};
    use crate::kernel::trace::AbortReason;
    use CoordinatorInput::{JobFailed, JobRestarted, JobStarted, SourceRecordsMilestone};

    const NONE: Vec<CoordinatorCommand> = Vec::new();

    /// Interval 10 ms, timeout 100 ms, 3 tasks.
    fn coordinator(max_concurrent: u32) -> Coordinator {
        Coordinator::new(config(max_concurrent), 3)
    }

    fn config(max_concurrent: u32) -> CheckpointConfig {
        CheckpointConfig {
            interval: SimDuration::from_millis(10),
            every_source_records: Some(1_000),
            timeout: SimDuration::from_millis(100),
            max_concurrent,
            aligned_timeout: SimDuration::from_millis(5),
            min_pause: SimDuration::ZERO,
            tolerable_failures: None,
            retained: 1,
        }
    }

    /// Each input comes with the simulated time, in milliseconds, at which it happens.
    fn run(coordinator: &mut Coordinator, inputs: &[(u64, CoordinatorInput)]) -> Vec<Vec<CoordinatorCommand>> {
        steps(inputs, |(at, input), out| coordinator.handle(ms(at), input, out))
    }

    fn ms(millis: u64) -> SimTime {
        SimTime::from_nanos(millis * NANOS_PER_MILLI)
    }

    fn fired(generation: u64) -> CoordinatorInput {
        CoordinatorInput::TriggerTimer { generation }
    }

    fn ack(task: u32, checkpoint: u64) -> CoordinatorInput {
        CoordinatorInput::Acknowledge { task: TaskId(task), checkpoint: CheckpointId(checkpoint) }
    }

    fn declined(task: u32, checkpoint: u64) -> CoordinatorInput {
        CoordinatorInput::Decline { task: TaskId(task), checkpoint: CheckpointId(checkpoint), counted: true }
    }

    fn timed_out(checkpoint: u64) -> CoordinatorInput {
        CoordinatorInput::Timeout { checkpoint: CheckpointId(checkpoint) }
    }

    fn durable(checkpoint: u64) -> CoordinatorInput {
        CoordinatorInput::MetadataDurable { checkpoint: CheckpointId(checkpoint) }
    }

    fn task_closed(task: u32) -> CoordinatorInput {
        CoordinatorInput::TaskClosed { task: TaskId(task) }
    }

    fn timer(at_ms: u64, generation: u64) -> CoordinatorCommand {
        CoordinatorCommand::ArmTriggerTimer { at: ms(at_ms), generation }
    }

    fn sources(checkpoint: u64) -> CoordinatorCommand {
        CoordinatorCommand::TriggerSources { checkpoint: CheckpointId(checkpoint) }
    }

    fn timeout_at(checkpoint: u64, at_ms: u64) -> CoordinatorCommand {
        CoordinatorCommand::ArmTimeout { checkpoint: CheckpointId(checkpoint), at: ms(at_ms) }
    }

    fn write(checkpoint: u64) -> CoordinatorCommand {
        CoordinatorCommand::WriteMetadata { checkpoint: CheckpointId(checkpoint) }
    }

    fn completed(checkpoint: u64) -> CoordinatorCommand {
        CoordinatorCommand::Completed {
            checkpoint: CheckpointId(checkpoint),
            oldest_retained: CheckpointId(checkpoint),
        }
    }

    fn abort(checkpoint: u64, reason: AbortReason) -> CoordinatorCommand {
        CoordinatorCommand::Aborted { checkpoint: CheckpointId(checkpoint), reason }
    }

    /// A coordinator (max-concurrent 1) that started at 0 ms and triggered checkpoint 1 at
    /// 10 ms; its live timer is generation 2, due at 20 ms.
    fn with_checkpoint_1_pending() -> Coordinator {
        let mut coordinator = coordinator(1);
        run(&mut coordinator, &[(0, JobStarted), (10, fired(1))]);
        assert!(coordinator.is_pending(CheckpointId(1)));
        coordinator
    }

    #[test]
    fn job_start_arms_the_trigger_timer() {
        let mut coordinator = coordinator(1);
        assert_eq!(run(&mut coordinator, &[(0, JobStarted)]), [vec![timer(10, 1)]]);
    }

    #[test]
    fn the_current_timer_triggers_checkpoint_1_and_rearms() {
        let mut coordinator = coordinator(1);
        let script = run(&mut coordinator, &[(0, JobStarted), (10, fired(1))]);
        assert_eq!(script, [vec![timer(10, 1)], vec![sources(1), timeout_at(1, 110), timer(20, 2)]]);
        assert!(coordinator.is_pending(CheckpointId(1)));
    }

    #[test]
    fn a_stale_timer_generation_does_nothing() {
        let mut coordinator = with_checkpoint_1_pending();
        assert_eq!(run(&mut coordinator, &[(12, fired(1)), (13, fired(0))]), [NONE, NONE]);
    }

    #[test]
    fn max_concurrent_skips_a_trigger_while_one_is_pending() {
        let mut coordinator = with_checkpoint_1_pending();
        let script = run(&mut coordinator, &[(20, fired(2)), (25, SourceRecordsMilestone)]);
        assert_eq!(script, [vec![timer(30, 3)], NONE]);
        assert!(!coordinator.is_pending(CheckpointId(2)));
    }

    #[test]
    fn acks_from_every_task_write_the_metadata_once_and_durable_metadata_completes() {
        let mut coordinator = with_checkpoint_1_pending();
        let script = run(&mut coordinator, &[(11, ack(2, 1)), (12, ack(0, 1)), (13, ack(1, 1)), (14, durable(1))]);
        assert_eq!(script, [NONE, NONE, vec![write(1)], vec![completed(1)]]);
        assert_eq!(coordinator.latest_completed(), Some(CheckpointId(1)));
        assert!(!coordinator.is_pending(CheckpointId(1)));
        // Late messages about a completed checkpoint change nothing.
        let late =
            run(&mut coordinator, &[(15, ack(0, 1)), (16, durable(1)), (17, declined(1, 1)), (110, timed_out(1))]);
        assert_eq!(late, [NONE, NONE, NONE, NONE]);
        assert_eq!(coordinator.latest_completed(), Some(CheckpointId(1)));
        // With room again, the next timer triggers checkpoint 2.
        assert_eq!(run(&mut coordinator, &[(20, fired(2))]), [vec![sources(2), timeout_at(2, 120), timer(30, 3)]]);
    }

    #[test]
    fn a_timeout_aborts_as_expired_and_later_acks_are_ignored() {
        let mut coordinator = with_checkpoint_1_pending();
        let script = run(&mut coordinator, &[(11, ack(0, 1)), (110, timed_out(1)), (111, ack(1, 1)), (112, ack(2, 1))]);
        assert_eq!(script, [NONE, vec![abort(1, AbortReason::Expired)], NONE, NONE]);
        assert_eq!(coordinator.latest_completed(), None);
    }

    #[test]
    fn a_decline_aborts_as_declined_once() {
        let mut coordinator = with_checkpoint_1_pending();
        let script = run(&mut coordinator, &[(11, declined(1, 1)), (12, declined(2, 1)), (110, timed_out(1))]);
        assert_eq!(script, [vec![abort(1, AbortReason::Declined)], NONE, NONE]);
        assert!(!coordinator.is_pending(CheckpointId(1)));
    }

    #[test]
    fn metadata_durable_after_an_abort_never_completes() {
        let mut coordinator = with_checkpoint_1_pending();
        let inputs = [(11, ack(0, 1)), (12, ack(1, 1)), (13, ack(2, 1)), (110, timed_out(1)), (111, durable(1))];
        let script = run(&mut coordinator, &inputs);
        assert_eq!(script, [NONE, NONE, vec![write(1)], vec![abort(1, AbortReason::Expired)], NONE]);
        assert_eq!(coordinator.latest_completed(), None);
    }

    #[test]
    fn job_failure_aborts_every_pending_checkpoint_and_kills_the_timer() {
        let mut coordinator = coordinator(2);
        run(&mut coordinator, &[(0, JobStarted), (10, fired(1)), (20, fired(2))]);
        let inputs = [(25, JobFailed), (30, fired(3)), (31, SourceRecordsMilestone), (32, ack(0, 1))];
        let script = run(&mut coordinator, &inputs);
        let failover = vec![abort(1, AbortReason::JobFailover), abort(2, AbortReason::JobFailover)];
        assert_eq!(script, [failover, NONE, NONE, NONE]);
    }

    #[test]
    fn checkpoint_ids_keep_rising_across_a_failover() {
        let mut coordinator = with_checkpoint_1_pending();
        run(&mut coordinator, &[(11, ack(0, 1)), (11, ack(1, 1)), (11, ack(2, 1)), (12, durable(1)), (20, fired(2))]);
        assert!(coordinator.is_pending(CheckpointId(2)));
        let script = run(&mut coordinator, &[(25, JobFailed), (50, JobRestarted), (60, fired(4))]);
        // Generations: 1 at start, 2 and 3 at the re-arms, 4 by the failure (it kills 3 and
        // arms nothing), 5 at the restart.
        assert_eq!(script, [vec![abort(2, AbortReason::JobFailover)], vec![timer(60, 5)], NONE]);
        let retrigger = vec![sources(3), timeout_at(3, 160), timer(70, 6)];
        assert_eq!(run(&mut coordinator, &[(60, fired(5))]), [retrigger]);
        assert_eq!(coordinator.latest_completed(), Some(CheckpointId(1)));
    }

    #[test]
    fn a_finished_task_stops_triggering_until_the_restart() {
        let mut coordinator = coordinator(1);
        let inputs = [(0, JobStarted), (5, task_closed(0)), (10, fired(1)), (15, SourceRecordsMilestone)];
        let script = run(&mut coordinator, &inputs);
        assert_eq!(script, [vec![timer(10, 1)], NONE, vec![timer(20, 2)], NONE]);
        let script = run(&mut coordinator, &[(16, JobFailed), (20, JobRestarted), (30, fired(4))]);
        assert_eq!(script, [NONE, vec![timer(30, 4)], vec![sources(1), timeout_at(1, 130), timer(40, 5)]]);
    }

    #[test]
    fn a_region_failover_aborts_pending_checkpoints_and_skips_triggers_until_every_region_runs() {
        let mut coordinator = with_checkpoint_1_pending();
        let down = CoordinatorInput::RegionRestarted { all_running: false, closed_tasks: 0 };
        let up = CoordinatorInput::RegionRestarted { all_running: true, closed_tasks: 0 };
        let inputs = [(12, CoordinatorInput::RegionFailed), (20, fired(2)), (25, down), (30, fired(3)), (35, up)];
        let script = run(&mut coordinator, &inputs);
        // The periodic trigger keeps running (the job is still RUNNING), but skips while a
        // region is down; ids are not consumed by skipped triggers.
        let failover = vec![abort(1, AbortReason::RegionFailover)];
        assert_eq!(script, [failover, vec![timer(30, 3)], NONE, vec![timer(40, 4)], NONE]);
        assert_eq!(run(&mut coordinator, &[(40, fired(4))]), [vec![sources(2), timeout_at(2, 140), timer(50, 5)]]);
    }

    #[test]
    fn completing_a_newer_checkpoint_subsumes_the_older_pending_one() {
        let mut coordinator = coordinator(2);
        let script = run(&mut coordinator, &[(0, JobStarted), (10, fired(1)), (20, fired(2)), (30, fired(3))]);
        assert_eq!(script[2], [sources(2), timeout_at(2, 120), timer(30, 3)]);
        assert_eq!(script[3], [timer(40, 4)], "two pending: max-concurrent 2 skips the third");
        let inputs = [(31, ack(0, 2)), (31, ack(1, 2)), (31, ack(2, 2)), (32, durable(2)), (33, ack(0, 1))];
        let script = run(&mut coordinator, &inputs);
        let completion = vec![completed(2), abort(1, AbortReason::Subsumed)];
        assert_eq!(script, [NONE, NONE, vec![write(2)], completion, NONE]);
        assert!(!coordinator.is_pending(CheckpointId(1)));
        assert_eq!(coordinator.latest_completed(), Some(CheckpointId(2)));
    }

    #[test]
    fn a_source_records_milestone_triggers_a_checkpoint() {
        let mut coordinator = coordinator(1);
        let inputs =
            [(0, SourceRecordsMilestone), (0, JobStarted), (5, SourceRecordsMilestone), (6, SourceRecordsMilestone)];
        let script = run(&mut coordinator, &inputs);
        // Before the job runs a milestone does nothing; max-concurrent 1 skips the second.
        assert_eq!(script, [NONE, vec![timer(10, 1)], vec![sources(1), timeout_at(1, 105)], NONE]);
    }

    /// Completes `checkpoint` (3 tasks) at `at_ms`.
    fn complete(coordinator: &mut Coordinator, checkpoint: u64, at_ms: u64) -> Vec<Vec<CoordinatorCommand>> {
        let inputs = [(at_ms, ack(0, checkpoint)), (at_ms, ack(1, checkpoint)), (at_ms, ack(2, checkpoint))];
        run(coordinator, &inputs);
        run(coordinator, &[(at_ms, durable(checkpoint))])
    }

    #[test]
    fn no_trigger_within_the_min_pause_after_a_completion() {
        let mut coordinator =
            Coordinator::new(CheckpointConfig { min_pause: SimDuration::from_millis(15), ..config(1) }, 3);
        run(&mut coordinator, &[(0, JobStarted), (10, fired(1))]);
        complete(&mut coordinator, 1, 12);
        let script = run(&mut coordinator, &[(20, fired(2)), (30, fired(3))]);
        assert_eq!(script[0], [timer(30, 3)], "20 ms is within 15 ms of the completion at 12 ms: skipped");
        assert_eq!(script[1], [sources(2), timeout_at(2, 130), timer(40, 4)]);
    }

    #[test]
    fn counted_failures_past_the_tolerance_fail_the_job_and_others_do_not_count() {
        let tolerant = CheckpointConfig { tolerable_failures: Some(1), ..config(1) };
        let mut coordinator = Coordinator::new(tolerant, 3);
        run(&mut coordinator, &[(0, JobStarted), (10, fired(1))]);
        let uncounted = CoordinatorInput::Decline { task: TaskId(0), checkpoint: CheckpointId(1), counted: false };
        let script = run(&mut coordinator, &[(11, uncounted), (20, fired(2)), (21, timed_out(2))]);
        assert_eq!(script[0], [abort(1, AbortReason::Declined)], "an input that ended is not counted");
        assert_eq!(script[2], [abort(2, AbortReason::Expired)], "one counted failure is tolerated");
        let script = run(&mut coordinator, &[(30, fired(3)), (31, declined(1, 3))]);
        let fail = CoordinatorCommand::FailJob { failures: 2 };
        assert_eq!(script[1], [abort(3, AbortReason::Declined), fail], "the second in a row is not");
        run(&mut coordinator, &[(40, fired(4)), (41, timed_out(4))]);
        run(&mut coordinator, &[(50, fired(5))]);
        complete(&mut coordinator, 5, 52);
        let script = run(&mut coordinator, &[(60, fired(6)), (61, timed_out(6))]);
        assert_eq!(script[1], [abort(6, AbortReason::Expired)], "a completion reset the count");
    }

    #[test]
    fn the_last_k_completed_checkpoints_are_retained() {
        let mut coordinator = Coordinator::new(CheckpointConfig { retained: 2, ..config(1) }, 3);
        run(&mut coordinator, &[(0, JobStarted)]);
        let mut oldest = Vec::new();
        for checkpoint in 1..=4 {
            run(&mut coordinator, &[(checkpoint * 10, fired(checkpoint))]);
            let script = complete(&mut coordinator, checkpoint, checkpoint * 10 + 1);
            let [CoordinatorCommand::Completed { oldest_retained, .. }] = script[0][..] else {
                panic!("{script:?}");
            };
            oldest.push(oldest_retained.0);
        }
        assert_eq!(oldest, [1, 1, 2, 3]);
        let recovered = coordinator.recovered();
        assert_eq!(recovered.latest_completed(), Some(CheckpointId(4)), "the store survives a coordinator crash");
    }
}
