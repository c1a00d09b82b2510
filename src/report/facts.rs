//! One fact as a short sentence, with tasks by name.

use crate::explore::determinism::Divergence;
use crate::kernel::ids::{RecordId, SplitKind, TaskId, TransactionId};
use crate::kernel::trace::{Fact, MessageTag, ObjectName, TimedFact};

/// `fact` in words; tasks are named from `task_names` (by `TaskId`) when known.
pub fn describe_fact(fact: &Fact, task_names: &[String]) -> String {
    let name = |task: TaskId| task_names.get(task.index()).cloned().unwrap_or_else(|| task.to_string());
    match *fact {
        Fact::RecordApplied { task, record, key } => {
            format!("{} applied record {} to key {key}", name(task), record_place(&name, record))
        }
        Fact::MessageSent { channel, sequence, message } => {
            let what = match message {
                MessageTag::Record { record, key } => {
                    format!("record {} (key {key})", record_place(&name, record))
                }
                MessageTag::Barrier { checkpoint } => format!("barrier of {checkpoint}"),
                MessageTag::EndOfInput => "end-of-input".to_string(),
                MessageTag::Watermark { event_time } => format!("watermark {event_time} µs"),
                MessageTag::Transfer { record, amount } => {
                    format!("transfer {} of {amount}", record_place(&name, record))
                }
            };
            format!("{what} sent on {channel} as #{sequence}")
        }
        Fact::MessageArrived { channel, sequence } => format!("message #{sequence} arrived on {channel}"),
        Fact::MessageConsumed { channel, sequence } => format!("message #{sequence} consumed from {channel}"),
        Fact::SourceRead { task, offset } => format!("{} read offset {offset}", name(task)),
        Fact::StateCaptured { task, checkpoint, bytes, .. } => {
            format!("{} captured {bytes} bytes of state for {checkpoint}", name(task))
        }
        Fact::TaskRestored { task, checkpoint: Some(checkpoint), .. } => {
            format!("{} restored from {checkpoint}", name(task))
        }
        Fact::TaskRestored { task, checkpoint: None, .. } => format!("{} started fresh", name(task)),
        Fact::TaskCrashed { task } => format!("{} crashed", name(task)),
        Fact::InputBlocked { task, channel, checkpoint } => {
            format!("{} blocked {channel} aligning {checkpoint}", name(task))
        }
        Fact::InputsUnblocked { task } => format!("{} unblocked its inputs", name(task)),
        Fact::ChannelStateRecorded { task, checkpoint, channel, sequence } => {
            format!("{} kept message #{sequence} of {channel} as channel state of {checkpoint}", name(task))
        }
        Fact::AcknowledgementReceived { task, checkpoint } => {
            format!("the coordinator received {}'s acknowledgement of {checkpoint}", name(task))
        }
        Fact::TaskFinished { task } => format!("{} finished", name(task)),
        Fact::DataEnded { task } => format!("{} reached the end of its data", name(task)),
        Fact::CompletionNotified { task, checkpoint } => format!("{} heard that {checkpoint} completed", name(task)),
        Fact::ObjectDurable { object, bytes } => format!("{} ({bytes} bytes) is durable", object_name(object, &name)),
        Fact::ObjectDeleted { object } => format!("{} was deleted", object_name(object, &name)),
        Fact::ChannelReset { channel, discarded } => {
            format!("{channel} was emptied at the restart ({discarded} messages discarded)")
        }
        Fact::CheckpointCompleted { checkpoint } => format!("{checkpoint} completed"),
        Fact::CheckpointAborted { checkpoint, reason } => format!("{checkpoint} aborted ({reason:?})"),
        Fact::CheckpointTriggered { checkpoint } => format!("{checkpoint} triggered"),
        Fact::KeyTotal { task, key, count, sum, .. } => {
            format!("{} ends with key {key}: count {count}, sum {sum}", name(task))
        }
        Fact::BalanceCaptured { task, checkpoint, balance } => {
            format!("{} recorded balance {balance} for {checkpoint}", name(task))
        }
        Fact::FinalBalance { task, balance } => format!("{} ends with balance {balance}", name(task)),
        Fact::RecoveredStateCarried { task, checkpoint, records } => format!(
            "{} captured {checkpoint} with {records} restored records not yet replayed: kept as its channel state",
            name(task)
        ),
        _ => describe_restart_fact(fact, &name),
    }
}

/// Restarts of the job or of a region, in words.
fn describe_restart_fact(fact: &Fact, name: &dyn Fn(TaskId) -> String) -> String {
    match *fact {
        Fact::JobRestarted { attempt, checkpoint: Some(checkpoint) } => {
            format!("the job restarted as attempt {} from {checkpoint}", attempt.0)
        }
        Fact::JobRestarted { attempt, checkpoint: None } => {
            format!("the job restarted as attempt {} from scratch", attempt.0)
        }
        Fact::RegionFailedOver { region, attempt } => {
            format!("pipelined region {region} failed over: its tasks are down until attempt {}", attempt.0)
        }
        Fact::RegionRestarted { region, attempt, checkpoint: Some(checkpoint) } => {
            format!("pipelined region {region} restarted as attempt {} from {checkpoint}", attempt.0)
        }
        Fact::RegionRestarted { region, attempt, checkpoint: None } => {
            format!("pipelined region {region} restarted as attempt {} from scratch", attempt.0)
        }
        _ => describe_fault_fact(fact, name),
    }
}

/// The facts of injected faults and their direct consequences, in words.
fn describe_fault_fact(fact: &Fact, name: &dyn Fn(TaskId) -> String) -> String {
    match *fact {
        Fact::FaultInjected { index } => format!("fault #{index} of the plan struck"),
        Fact::CoordinatorCrashed => "the coordinator crashed".to_string(),
        Fact::FaultsLifted => "every fault of the plan is over: the run is healed".to_string(),
        Fact::JobFailed { failures } => {
            format!("the restart strategy gave up after {failures} failovers: the job failed for good")
        }
        Fact::CheckpointFailuresExceeded { failures } => {
            format!("{failures} checkpoints failed in a row, more than tolerated: the job fails over")
        }
        Fact::WriteFailed { object } => format!("writing {} failed", object_name(object, name)),
        Fact::WorkerCrashed { worker } => format!("worker {worker} crashed"),
        Fact::ObjectTorn { object } => format!("{} was left torn by its writer's crash", object_name(object, name)),
        Fact::ChannelBroken { channel } => format!("a partition broke {channel}: the tasks on both ends fail"),
        Fact::ControlMessageDelayed { kind, task, checkpoint } => {
            let kind = crate::faults::ControlMessage::ALL.get(usize::from(kind)).map_or("control", |kind| kind.name());
            format!("the {kind} message of {checkpoint} to or from {} was delayed", name(task))
        }
        Fact::ControlMessageLost { kind, task, checkpoint } => {
            let kind = crate::faults::ControlMessage::ALL.get(usize::from(kind)).map_or("control", |kind| kind.name());
            format!("the {kind} message of {checkpoint} to or from {} was lost", name(task))
        }
        _ => describe_external_fact(fact, name),
    }
}

/// The external system's facts, in words.
fn describe_external_fact(fact: &Fact, name: &dyn Fn(TaskId) -> String) -> String {
    let txn_name = |txn: TransactionId| format!("transaction {}#{}", name(txn.sink), txn.sequence);
    match *fact {
        Fact::TransactionBegun { txn, epoch } => format!("{} began (epoch {epoch})", txn_name(txn)),
        Fact::TransactionWrite { txn, record, key, value } => {
            format!("record {} (key {key}, value {value}) written into {}", record_place(&name, record), txn_name(txn))
        }
        Fact::TransactionPrepared { txn, checkpoint } => format!("{} pre-committed for {checkpoint}", txn_name(txn)),
        Fact::TransactionCommitted { txn, epoch, records } => {
            format!("{} (epoch {epoch}) committed: {records} records visible to readers", txn_name(txn))
        }
        Fact::TransactionAborted { txn, epoch, cause } => {
            format!("{} (epoch {epoch}) aborted: {cause:?}", txn_name(txn))
        }
        Fact::ExternalCallFailed { task, call, txn: Some(txn), error } => {
            format!("{}'s {call:?} call for {} failed: {error:?}", name(task), txn_name(txn))
        }
        Fact::ExternalCallFailed { task, call, txn: None, error } => {
            format!("{}'s {call:?} call failed: {error:?}", name(task))
        }
        Fact::ReaderSaw { records, .. } => format!("a reader polled the external system and saw {records} records"),
        Fact::ExternalUpsert { task, record, key, value } => {
            format!("{} set key {key} to {value} (record {})", name(task), record_place(&name, record))
        }
        Fact::ExternalAppend { task, record, key, value } => {
            format!("{} appended record {} (key {key}, value {value})", name(task), record_place(&name, record))
        }
        Fact::PartitionAssigned { task, partition } => {
            format!("the split enumerator assigned partition {partition} to {}", name(task))
        }
        Fact::PartitionRead { task, partition, offset } => {
            format!("{} read offset {offset} of partition {partition}", name(task))
        }
        Fact::PartitionRestored { task, partition, offset } => {
            format!("{} restored partition {partition} at offset {offset}", name(task))
        }
        Fact::StateFileReferenced { task, checkpoint, file, bytes, reused } => format!(
            "{}'s state for {checkpoint} {} {} ({bytes} bytes)",
            name(task),
            if reused { "references" } else { "writes" },
            object_name(file, name)
        ),
        Fact::StateFileMissing { task, file } => {
            format!("{} could not restore: {} is missing from storage", name(task), object_name(file, name))
        }
        Fact::JobRescaled { stage } => format!("the job was stopped to be redeployed rescaled (stage {stage})"),
        Fact::KeyGroupsRestored { task, checkpoint, first, last, keys } => format!(
            "{} restored key groups {first}..={last} from every state of {checkpoint} ({keys} keys)",
            name(task)
        ),
        Fact::SplitsRedistributed { task, checkpoint, splits } => format!(
            "{} restored its round-robin share of the readers' state of {checkpoint}: {splits} partitions",
            name(task)
        ),
        Fact::SavepointTriggered { checkpoint, stop } => {
            format!("{checkpoint} is a {}savepoint", if stop { "stop-with-" } else { "" })
        }
        Fact::KeyRestored { task, key, count, fingerprint } => {
            format!("{} restored key {key}: {count} records (fingerprint {fingerprint:016x})", name(task))
        }
        _ => unreachable!("describe_fact covers every other fact"),
    }
}

fn object_name(object: ObjectName, name: &dyn Fn(TaskId) -> String) -> String {
    match object {
        ObjectName::TaskState { checkpoint, task } => format!("the state of {} for {checkpoint}", name(task)),
        ObjectName::Metadata { checkpoint } => format!("the metadata of {checkpoint}"),
        ObjectName::SharedFile { task, checkpoint, key_group } => {
            format!("the shared file of key group {key_group} that {} wrote for {checkpoint}", name(task))
        }
    }
}

/// Where two traces part, in words, calling the two traces by `labels`.
pub fn describe_divergence(divergence: &Divergence, task_names: &[String], labels: [&str; 2]) -> String {
    let [first, second] = labels;
    let side = |fact: &Option<TimedFact>| match fact {
        Some(timed) => format!("{} at {}", describe_fact(&timed.fact, task_names), timed.time),
        None => "the trace had ended".to_string(),
    };
    format!(
        "the traces part at fact #{}: {first}: {}; {second}: {}",
        divergence.index,
        side(&divergence.first),
        side(&divergence.second)
    )
}

/// Where `record` comes from, with a task split by its task's name: `source[1]@7`.
fn record_place(name: &dyn Fn(TaskId) -> String, record: RecordId) -> String {
    match record.split.kind() {
        SplitKind::Task(task) => format!("{}@{}", name(task), record.offset),
        SplitKind::Partition(_) => format!("{}@{}", record.split, record.offset),
        SplitKind::WindowResults(_) => record.to_string(),
    }
}
