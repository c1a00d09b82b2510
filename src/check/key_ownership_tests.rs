//! Unit tests of the key-ownership checker: a keyed vertex of two subtasks rescaled to three,
//! fed facts by hand — a correct rescaled restore, and restores that break each of its rules
//! (a key on a subtask not owning its key group, with the wrong records, twice, nowhere, or
//! one no checkpointed state held).

use super::key_ownership::KeyOwnership;
use super::{ExpectedTotals, Invariant, JobShape, OwnedKeyGroups, StageShape};
use crate::dataflow::keyed::{key_group_of, subtask_of_key_group};
use crate::dataflow::keyed_state::KeyGroupRange;
use crate::kernel::ids::{Attempt, CheckpointId, RecordId, SplitId, TaskId};
use crate::kernel::trace::Fact;
use std::rc::Rc;

const MAX_PARALLELISM: u32 = 8;
/// The vertex's subtasks before the rescale (parallelism 2)…
const OLD: [TaskId; 2] = [TaskId(0), TaskId(1)];
/// …and after it (parallelism 3).
const NEW: [TaskId; 3] = [TaskId(2), TaskId(3), TaskId(4)];
const ONE: CheckpointId = CheckpointId(1);
/// Keys `0..KEYS` have records; key `k` has `k % 3 + 1` of them.
const KEYS: u64 = 12;

/// What a subtask holds for one key: (key, count, fingerprint).
type Held = (u64, u64, u64);

/// A new subtask's rescaled restore: the subtask, the key groups it restored, its keys.
type Restore = (TaskId, KeyGroupRange, Vec<Held>);

fn owned(subtask: u32, parallelism: u32) -> Option<OwnedKeyGroups> {
    let range = KeyGroupRange::of_subtask(subtask, parallelism, MAX_PARALLELISM);
    Some(OwnedKeyGroups { range, max_parallelism: MAX_PARALLELISM, state_keys_per_key: 1 })
}

/// Stage 0 runs tasks 0 and 1, stage 1 tasks 2, 3 and 4: one keyed vertex at parallelism 2,
/// then 3. `stages` keeps only the first so many stages.
fn shape(stages: usize) -> JobShape {
    let all = vec![
        StageShape { tasks: OLD.to_vec(), regions: vec![OLD.to_vec()] },
        StageShape { tasks: NEW.to_vec(), regions: vec![NEW.to_vec()] },
    ];
    JobShape {
        task_count: 5,
        channel_ends: Vec::new(),
        stages: all.into_iter().take(stages).collect(),
        key_groups: vec![owned(0, 2), owned(1, 2), owned(0, 3), owned(1, 3), owned(2, 3)],
    }
}

fn checker(stages: usize) -> KeyOwnership {
    KeyOwnership::new(Rc::new(ExpectedTotals::single_group(Vec::new(), 5)), Rc::new(shape(stages)))
}

fn feed(checker: &mut KeyOwnership, facts: &[Fact]) -> Option<(Invariant, String)> {
    facts.iter().find_map(|fact| checker.observe(fact))
}

/// Record `n` of `key`, from one source split.
fn record(key: u64, n: u64) -> RecordId {
    RecordId { split: SplitId::of_task(TaskId(9)), offset: key * 100 + n }
}

/// The records of `key` applied before the checkpoint.
fn records_of(key: u64) -> Vec<RecordId> {
    (0..key % 3 + 1).map(|n| record(key, n)).collect()
}

/// What the checkpoint holds for `key`.
fn held(key: u64) -> Held {
    let records = records_of(key);
    let fingerprint = records.iter().fold(0u64, |sum, record| sum.wrapping_add(record.fingerprint()));
    (key, records.len() as u64, fingerprint)
}

/// The subtask of `parallelism` that owns `key`.
fn owner(key: u64, parallelism: u32) -> usize {
    subtask_of_key_group(key_group_of(key, MAX_PARALLELISM), MAX_PARALLELISM, parallelism) as usize
}

/// Every key's records applied on its old owner, checkpoint 1 captured, one more record of
/// key 0 applied after it (which the restore must not hold), then the rescale's restart.
fn before_the_restore() -> Vec<Fact> {
    let mut facts: Vec<Fact> = (0..KEYS)
        .flat_map(|key| {
            let task = OLD[owner(key, 2)];
            records_of(key).into_iter().map(move |record| Fact::RecordApplied { task, record, key })
        })
        .collect();
    facts.extend(OLD.map(|task| Fact::StateCaptured { task, checkpoint: ONE, digest: 0, bytes: 64 }));
    facts.push(Fact::RecordApplied { task: OLD[owner(0, 2)], record: record(0, 99), key: 0 });
    facts.push(Fact::JobRescaled { stage: 1 });
    facts.push(Fact::JobRestarted { attempt: Attempt(1), checkpoint: Some(ONE) });
    facts
}

/// Each new subtask restores its own key groups and holds exactly the checkpoint's records
/// for the keys in them.
fn correct_restores() -> Vec<Restore> {
    NEW.iter()
        .enumerate()
        .map(|(subtask, &task)| {
            let range = KeyGroupRange::of_subtask(subtask as u32, 3, MAX_PARALLELISM);
            let keys = (0..KEYS).filter(|&key| owner(key, 3) == subtask).map(held).collect();
            (task, range, keys)
        })
        .collect()
}

fn restore_facts(restores: &[Restore]) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (task, range, keys) in restores {
        let (task, first, last) = (*task, range.first, range.last);
        facts.push(Fact::KeyGroupsRestored { task, checkpoint: ONE, first, last, keys: keys.len() as u64 });
        facts.extend(keys.iter().map(|&(key, count, fingerprint)| Fact::KeyRestored { task, key, count, fingerprint }));
    }
    facts
}

/// Runs the history and `restores` through a checker of the rescaled job.
fn judge(restores: &[Restore]) -> Option<(Invariant, String)> {
    let mut checker = checker(2);
    let mut facts = before_the_restore();
    facts.extend(restore_facts(restores));
    feed(&mut checker, &facts)
}

fn caught(restores: &[Restore]) -> String {
    let (invariant, detail) = judge(restores).expect("the checker catches it");
    assert_eq!(invariant, Invariant::KeyOwnership);
    detail
}

#[test]
fn a_correct_rescaled_restore_keeps_every_key_on_its_owner_and_passes() {
    let restores = correct_restores();
    assert!(restores.iter().all(|(_, _, keys)| !keys.is_empty()), "test bug: every new subtask should hold a key");
    assert_eq!(restores.iter().map(|(_, _, keys)| keys.len() as u64).sum::<u64>(), KEYS);
    assert_eq!(judge(&restores), None);
}

#[test]
fn a_key_restored_on_a_subtask_that_does_not_own_its_key_group_is_caught() {
    let mut restores = correct_restores();
    let moved = restores[0].2.remove(0);
    restores[1].2.push(moved);
    let detail = caught(&restores);
    let group = key_group_of(moved.0, MAX_PARALLELISM);
    assert!(detail.contains(&format!("key {} (key group {group}) was restored on task#3", moved.0)), "{detail}");
    assert!(detail.contains("which owns key groups 3..=5"), "{detail}");
    assert!(detail.contains(&format!("key group {group} belongs to task#2")), "{detail}");
}

#[test]
fn a_key_restored_with_a_wrong_count_or_fingerprint_is_caught() {
    let mut more = correct_restores();
    more[2].2[0].1 += 1;
    let key = more[2].2[0].0;
    let detail = caught(&more);
    let wanted = format!("task#4 holds key {key} with {} records", held(key).1 + 1);
    assert!(detail.contains(&wanted) && detail.contains(&format!("held {} ", held(key).1)), "{detail}");
    let mut other_records = correct_restores();
    other_records[1].2[0].2 ^= 1;
    let detail = caught(&other_records);
    assert!(detail.contains("fingerprint") && detail.contains("in checkpoint 1"), "{detail}");
}

#[test]
fn a_key_restored_with_records_applied_after_the_checkpoint_is_caught() {
    let mut restores = correct_restores();
    let subtask = owner(0, 3);
    let slot = restores[subtask].2.iter_mut().find(|(key, _, _)| *key == 0).expect("key 0 is restored");
    slot.1 += 1;
    slot.2 = slot.2.wrapping_add(record(0, 99).fingerprint());
    let detail = caught(&restores);
    assert!(detail.contains(&format!("holds key 0 with {} records", held(0).1 + 1)), "{detail}");
}

#[test]
fn a_key_restored_on_two_subtasks_is_caught() {
    let mut twice = correct_restores();
    let copy = twice[0].2[0];
    twice[1].2.push(copy);
    let detail = caught(&twice);
    assert!(detail.contains(&format!("key {} (key group", copy.0)) && detail.contains("which owns key groups"));
    // Reported twice by the same subtask, which owns it: caught as a second restore.
    let mut repeated = correct_restores();
    let copy = repeated[0].2[0];
    repeated[0].2.push(copy);
    let detail = caught(&repeated);
    assert!(detail.contains(&format!("key {} was restored on both task#2 and task#2", copy.0)), "{detail}");
}

#[test]
fn a_key_restored_on_no_subtask_is_caught_once_every_new_subtask_has_reported() {
    let mut restores = correct_restores();
    let (lost, count, _) = restores[1].2.remove(0);
    let mut checker = checker(2);
    assert_eq!(feed(&mut checker, &before_the_restore()), None);
    assert_eq!(feed(&mut checker, &restore_facts(&restores[..2])), None, "task#4 has not reported yet");
    let (invariant, detail) = feed(&mut checker, &restore_facts(&restores[2..])).expect("caught");
    assert_eq!(invariant, Invariant::KeyOwnership);
    let group = key_group_of(lost, MAX_PARALLELISM);
    let old = OLD[owner(lost, 2)];
    let wanted = format!("key {lost} (key group {group}; {count} records on {old} in checkpoint 1) was restored on no");
    assert!(detail.contains(&wanted), "{detail}");
    assert!(detail.contains(&format!("key group {group} belongs to task#3")), "{detail}");
}

#[test]
fn a_key_that_no_checkpointed_state_held_is_caught() {
    let mut restores = correct_restores();
    let stranger = (KEYS..).find(|&key| owner(key, 3) == 0).expect("some key lands on subtask 0");
    restores[0].2.push((stranger, 1, 7));
    let detail = caught(&restores);
    assert!(detail.contains(&format!("task#2 holds key {stranger} (1 records), but no state of checkpoint 1")));
}

#[test]
fn a_restart_midway_through_a_rescaled_restore_starts_the_judgement_over() {
    let restores = correct_restores();
    let mut facts = before_the_restore();
    facts.extend(restore_facts(&restores[..1]));
    facts.push(Fact::JobRestarted { attempt: Attempt(2), checkpoint: Some(ONE) });
    facts.extend(restore_facts(&restores));
    assert_eq!(feed(&mut checker(2), &facts), None, "the first attempt's keys are not counted twice");
}

#[test]
fn a_job_with_one_stage_is_not_judged() {
    let mut wrong = correct_restores();
    let moved = wrong[0].2.remove(0);
    wrong[1].2.push(moved);
    wrong[2].2.clear();
    let mut facts = before_the_restore();
    facts.extend(restore_facts(&wrong));
    assert_eq!(feed(&mut checker(1), &facts), None);
    assert!(feed(&mut checker(2), &facts).is_some(), "the same facts break a rescaled job");
}
