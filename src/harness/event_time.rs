//! Event time in the data path: watermarks flow from the log's readers through every task,
//! each task's watermark the minimum over its inputs (Flink's rule), and a window fires
//! the windows the watermark has passed. Only a job with a tumbling window sends
//! watermarks at all, so the others' traces are untouched by them.

use super::{Event, SimWorld};
use crate::dataflow::operator::TaskLogic;
use crate::dataflow::record::Message;
use crate::kernel::Scheduler;
use crate::kernel::ids::TaskId;

impl SimWorld {
    /// Sends `watermark` on every output of `task`, if it is higher than what it sent last.
    pub(super) fn forward_watermark(&mut self, task: TaskId, watermark: u64, scheduler: &mut Scheduler<Event>) {
        let runtime = &mut self.tasks[task.index()];
        if runtime.watermark_out.is_some_and(|last| last >= watermark) {
            return;
        }
        runtime.watermark_out = Some(watermark);
        self.broadcast(task, Message::Watermark(watermark), scheduler);
    }

    /// A watermark arrived on `input` of `task`: when the minimum over its inputs rises, a
    /// window fires what it passed, and the task forwards it.
    pub(super) fn on_input_watermark(
        &mut self,
        task: TaskId,
        input: u32,
        watermark: u64,
        scheduler: &mut Scheduler<Event>,
    ) {
        let runtime = &mut self.tasks[task.index()];
        let slot = &mut runtime.inputs[input as usize];
        slot.watermark = slot.watermark.max(Some(watermark));
        let Some(combined) = runtime.inputs.iter().map(|slot| slot.watermark).min().flatten() else {
            return;
        };
        if runtime.watermark_out.is_some_and(|last| last >= combined) {
            return;
        }
        if let TaskLogic::Window(window) = &mut runtime.logic {
            let mut fired = std::mem::take(&mut self.scratch.records);
            window.advance_watermark(combined, &mut fired);
            for result in fired.drain(..) {
                self.emit(task, result, scheduler);
            }
            self.scratch.records = fired;
        }
        self.forward_watermark(task, combined, scheduler);
    }
}
