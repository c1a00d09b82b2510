//! Pipelined regions: the sets of subtasks that must fail over together.
//!
//! Every exchange in a streaming job is pipelined, so two subtasks joined by a channel share
//! a region: the connected components of the subtask graph. A job whose vertices are all
//! joined by hash or rebalance edges is one region; independent pipelines, and chains of
//! forward edges, split into several. Flink's `region` failover strategy restarts only the
//! failed subtask's region (`jobmanager.execution.failover-strategy`); see
//! `harness/failover.rs`.

use crate::kernel::ids::TaskId;

/// The pipelined regions of a job, numbered by their lowest subtask, so numbering is stable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Regions {
    /// Per task (by `TaskId`): its region.
    of_task: Vec<u32>,
    /// Per region: its tasks, in id order.
    members: Vec<Vec<TaskId>>,
}

impl Regions {
    /// The regions of `task_count` subtasks joined by channels between `channel_ends`.
    pub fn of(task_count: usize, channel_ends: impl IntoIterator<Item = (TaskId, TaskId)>) -> Regions {
        let every_task: Vec<TaskId> = (0..task_count).map(TaskId::from_index).collect();
        Regions::among(task_count, &every_task, channel_ends)
    }

    /// The regions of the `active` subtasks (in id order, out of `task_count`) joined by
    /// channels between `channel_ends`; a task not active is in no region.
    pub fn among(
        task_count: usize,
        active: &[TaskId],
        channel_ends: impl IntoIterator<Item = (TaskId, TaskId)>,
    ) -> Regions {
        let mut parent: Vec<usize> = (0..task_count).collect();
        for (sender, receiver) in channel_ends {
            let (a, b) = (root(&mut parent, sender.index()), root(&mut parent, receiver.index()));
            // The lower index becomes the root, so each region's root is its lowest task.
            parent[a.max(b)] = a.min(b);
        }
        let mut of_task = vec![u32::MAX; task_count];
        let mut members: Vec<Vec<TaskId>> = Vec::new();
        let mut region_of_root = vec![u32::MAX; task_count];
        for &task in active {
            let (task, region) = (task.index(), &mut of_task[task.index()]);
            let top = root(&mut parent, task);
            if region_of_root[top] == u32::MAX {
                region_of_root[top] = u32::try_from(members.len()).expect("region count fits u32");
                members.push(Vec::new());
            }
            *region = region_of_root[top];
            members[*region as usize].push(TaskId::from_index(task));
        }
        Regions { of_task, members }
    }

    /// How many regions there are.
    pub fn count(&self) -> usize {
        self.members.len()
    }

    /// The region of `task`.
    pub fn of_task(&self, task: TaskId) -> u32 {
        self.of_task[task.index()]
    }

    /// The tasks of `region`, in id order.
    pub fn members(&self, region: u32) -> &[TaskId] {
        &self.members[region as usize]
    }
}

/// The root of `node`'s tree, halving the path on the way.
fn root(parent: &mut [usize], mut node: usize) -> usize {
    while parent[node] != node {
        parent[node] = parent[parent[node]];
        node = parent[node];
    }
    node
}
