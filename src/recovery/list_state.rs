//! Operator (non-keyed) list state across a rescale, as Flink redistributes it: the lists
//! of every old subtask, concatenated in subtask order, are dealt out round robin to the
//! new subtasks (`ListState`), or handed whole to each of them (`UnionListState`, whose
//! owners then keep what is theirs — the legacy Kafka consumer's offsets).

/// How list state is redistributed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redistribution {
    /// Element `i` of the concatenated lists goes to new subtask `i mod parallelism`.
    RoundRobin,
    /// Every new subtask gets every element.
    Union,
}

/// The lists of `parallelism` new subtasks from the lists of the old ones (by subtask).
pub fn redistribute<T: Clone>(old: &[Vec<T>], parallelism: usize, how: Redistribution) -> Vec<Vec<T>> {
    assert!(parallelism > 0, "a vertex has at least one subtask");
    let every: Vec<T> = old.iter().flatten().cloned().collect();
    match how {
        Redistribution::Union => vec![every; parallelism],
        Redistribution::RoundRobin => {
            let mut new = vec![Vec::new(); parallelism];
            for (index, element) in every.into_iter().enumerate() {
                new[index % parallelism].push(element);
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    //! The two redistributions on small lists.
    use super::*;

    #[test]
    fn round_robin_deals_the_concatenated_lists_out_in_order() {
        let old = vec![vec![1, 2, 3], vec![4], vec![5, 6]];
        assert_eq!(redistribute(&old, 2, Redistribution::RoundRobin), vec![vec![1, 3, 5], vec![2, 4, 6]]);
        assert_eq!(redistribute(&old, 4, Redistribution::RoundRobin), vec![vec![1, 5], vec![2, 6], vec![3], vec![4]]);
    }

    #[test]
    fn round_robin_keeps_every_element_exactly_once() {
        let old: Vec<Vec<u32>> = (0..5).map(|subtask| (0..subtask * 3).map(|i| subtask * 100 + i).collect()).collect();
        for parallelism in 1..8 {
            let mut all: Vec<u32> = redistribute(&old, parallelism, Redistribution::RoundRobin).concat();
            all.sort_unstable();
            let mut expected = old.concat();
            expected.sort_unstable();
            assert_eq!(all, expected, "parallelism {parallelism}");
        }
    }

    #[test]
    fn union_gives_every_new_subtask_everything() {
        let old = vec![vec!['a'], vec!['b', 'c']];
        assert_eq!(redistribute(&old, 3, Redistribution::Union), vec![vec!['a', 'b', 'c']; 3]);
    }
}
