//! Validation of `[[rescale]]` entries: errors name the entry and field.
//!
//! Keyed vertices rescale (their state moves by key group; docs/state.md), and log-sources
//! (their partitions are dealt out again). Every stage must still be a valid job graph (a
//! forward edge needs equal parallelism on both ends) within the channel limit — counted
//! over all stages, which share one numbering — and no broadcast edge may touch a rescaled
//! vertex: a record in flight on one is a copy for one particular subtask, which a rescale
//! would leave without an owner.

use super::ScenarioError;
use super::compile::{CHANNELS_MAX, channel_count, millis};
use super::file::Scenario;
use crate::dataflow::graph::{JobGraph, Partitioning, VertexKind};
use crate::dataflow::staging::Rescale;
use crate::kernel::ids::VertexId;
use crate::kernel::time::SimTime;

/// Rescales a scenario may have: each adds a stage, and each stage a slot for every
/// channel of the run.
const RESCALES_MAX: usize = 8;

impl Scenario {
    /// The rescales of a job whose graph is `graph`, in time order.
    pub(super) fn compile_rescales(&self, graph: &JobGraph) -> Result<Vec<Rescale>, ScenarioError> {
        if self.rescale.len() > RESCALES_MAX {
            return Err(ScenarioError::at(
                "rescale",
                format!("{} entries; at most {RESCALES_MAX}", self.rescale.len()),
            ));
        }
        let mut rescales: Vec<Rescale> = Vec::with_capacity(self.rescale.len());
        let mut stage = graph.clone();
        // Every stage's channels get run-global ids, and every stage a slot for each.
        let mut channels_of_the_run = channel_count(graph);
        for (index, section) in self.rescale.iter().enumerate() {
            let field = |name: &str| format!("rescale[{index}].{name}");
            let at = SimTime::ZERO.after(millis(&field("at_ms"), section.at_ms)?);
            if at == SimTime::ZERO || rescales.last().is_some_and(|last| last.at >= at) {
                return Err(ScenarioError::at(field("at_ms"), "must be after 0 and after the entry before"));
            }
            let Some(position) = graph.vertices.iter().position(|vertex| vertex.name == section.vertex) else {
                return Err(ScenarioError::at(field("vertex"), format!("names no vertex: `{}`", section.vertex)));
            };
            let vertex = &graph.vertices[position];
            let rescalable = matches!(
                vertex.kind,
                VertexKind::KeyedCount | VertexKind::KeyedJoin | VertexKind::TumblingWindow | VertexKind::LogSource
            );
            if !rescalable {
                let message = "only keyed vertices (keyed-count, keyed-join, tumbling-window), whose state moves by key \
                               group, and log-sources, whose partitions are redistributed, rescale";
                return Err(ScenarioError::at(field("vertex"), message));
            }
            let broadcast = graph.edges.iter().any(|edge| {
                (edge.from.index() == position || edge.to.index() == position)
                    && edge.partitioning == Partitioning::Broadcast
            });
            if broadcast {
                let message = "a broadcast edge touches this vertex: its records in flight are copies for one \
                               subtask each, which a rescale cannot re-route";
                return Err(ScenarioError::at(field("vertex"), message));
            }
            if section.parallelism == 0 || section.parallelism > vertex.max_parallelism {
                let message = format!("must be between 1 and the vertex's max parallelism, {}", vertex.max_parallelism);
                return Err(ScenarioError::at(field("parallelism"), message));
            }
            stage.vertices[position].parallelism = section.parallelism;
            stage.validate().map_err(|error| ScenarioError::at(field("parallelism"), error.message))?;
            channels_of_the_run += channel_count(&stage);
            if channels_of_the_run > CHANNELS_MAX {
                let message = format!(
                    "the job's stages up to this one expand to {channels_of_the_run} channels in all; at most \
                     {CHANNELS_MAX}"
                );
                return Err(ScenarioError::at(field("parallelism"), message));
            }
            let from_savepoint = section.from == super::file::RescaleFromName::Savepoint;
            let vertex = VertexId::from_index(position);
            rescales.push(Rescale { at, vertex, parallelism: section.parallelism, from_savepoint });
        }
        Ok(rescales)
    }
}
