//! Dataflow unit tests: operators round-trip their state, sources replay, graphs validate.
