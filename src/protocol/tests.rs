//! Protocol unit tests: aligned barriers and the coordinator, input by input.
