//! Unit tests of keyed state by key group: ranges that cover every group once and agree
//! with routing, the key-grouped snapshot encoding, and the rescale mechanics it exists for.

use super::keyed::{KeyedCount, key_group_of, subtask_of_key_group};
use super::keyed_state::{KeyGroupRange, KeyGroupedBytes};
use super::operator::Operator;
use super::record::Record;
use crate::kernel::ids::{RecordId, SplitId};

#[test]
fn subtask_ranges_cover_every_key_group_once_and_agree_with_routing() {
    for max_parallelism in [7, 128, 130] {
        for parallelism in (1..=10).filter(|&parallelism| parallelism <= max_parallelism) {
            let mut next = 0;
            for subtask in 0..parallelism {
                let range = KeyGroupRange::of_subtask(subtask, parallelism, max_parallelism);
                assert_eq!(range.first, next, "contiguous: {max_parallelism}/{parallelism}/{subtask}");
                let routed = (range.first..=range.last)
                    .all(|group| subtask_of_key_group(group, max_parallelism, parallelism) == subtask);
                assert!(routed, "{range:?} routes to subtask {subtask}");
                next = range.last + 1;
            }
            assert_eq!(next, max_parallelism, "every group once: {max_parallelism}/{parallelism}");
        }
    }
    assert_eq!(subtask_of_key_group(127, 128, 3), 2);
}

#[test]
fn key_grouped_bytes_round_trip_restrict_and_merge() {
    let mut grouped = KeyGroupedBytes::new();
    grouped.section_mut(3).extend_from_slice(&[1, 2, 3]);
    grouped.section_mut(40).extend_from_slice(&[4]);
    grouped.section_mut(9).extend_from_slice(&[5, 6]);
    let mut bytes = Vec::new();
    grouped.encode(&mut bytes);
    let decoded = KeyGroupedBytes::decode(&bytes).expect("decodes");
    assert_eq!(decoded, grouped);
    assert_eq!(decoded.sections().map(|(group, _)| group).collect::<Vec<_>>(), [3, 9, 40]);
    let low = decoded.restricted_to(KeyGroupRange { first: 0, last: 9 });
    let high = decoded.restricted_to(KeyGroupRange { first: 10, last: 127 });
    assert_eq!(KeyGroupedBytes::merged([low.clone(), high]).expect("disjoint"), grouped);
    assert!(KeyGroupedBytes::merged([low.clone(), low]).is_err(), "a group in two parts is refused");
    assert_eq!(KeyGroupedBytes::decode(&[]).expect("empty"), KeyGroupedBytes::new());
    for bad in [&bytes[..bytes.len() - 1], &[9, 0, 0, 0, 0, 0, 0, 0][..], &[1, 2, 3][..]] {
        assert!(KeyGroupedBytes::decode(bad).is_err(), "{bad:?} is refused");
    }
}

fn record(key: u64, offset: u64) -> Record {
    Record { id: RecordId { split: SplitId::partition(0), offset }, key, value: 1, event_time: 0 }
}

/// The state of each of `parallelism` keyed counts after the records of keys 0..40 were
/// routed to them by key group.
fn counts(parallelism: u32, max_parallelism: u32) -> Vec<KeyedCount> {
    let mut counts: Vec<KeyedCount> = (0..parallelism).map(|_| KeyedCount::new(max_parallelism)).collect();
    for offset in 0..400 {
        let key = offset % 40;
        let owner = subtask_of_key_group(key_group_of(key, max_parallelism), max_parallelism, parallelism);
        counts[owner as usize].process(&record(key, offset), &mut Vec::new());
    }
    counts
}

#[test]
fn a_rescale_restores_each_new_subtask_from_its_key_groups_of_every_old_snapshot() {
    let max_parallelism = 16;
    let old = counts(2, max_parallelism);
    let snapshots: Vec<KeyGroupedBytes> = old
        .iter()
        .map(|count| {
            let mut bytes = Vec::new();
            count.snapshot(&mut bytes);
            KeyGroupedBytes::decode(&bytes).expect("decodes")
        })
        .collect();
    let fresh = counts(3, max_parallelism);
    for (subtask, expected) in fresh.iter().enumerate() {
        let range = KeyGroupRange::of_subtask(subtask as u32, 3, max_parallelism);
        let parts = snapshots.iter().map(|snapshot| snapshot.restricted_to(range));
        let mut bytes = Vec::new();
        KeyGroupedBytes::merged(parts).expect("old subtasks own disjoint groups").encode(&mut bytes);
        let mut restored = KeyedCount::new(max_parallelism);
        restored.restore(&bytes).expect("restores");
        let restored: Vec<_> = restored.nonzero_totals().collect();
        assert_eq!(restored, expected.nonzero_totals().collect::<Vec<_>>(), "subtask {subtask} of 3");
    }
}

#[test]
fn a_key_in_another_groups_section_is_refused() {
    let mut grouped = KeyGroupedBytes::new();
    let wrong_group = (key_group_of(5, 16) + 1) % 16;
    super::state_codec::push_row(grouped.section_mut(wrong_group), [5, 1, 1, 0]);
    let mut bytes = Vec::new();
    grouped.encode(&mut bytes);
    let error = KeyedCount::new(16).restore(&bytes).expect_err("misfiled key");
    assert!(error.0.contains("key 5 is in key group"), "{error}");
}
