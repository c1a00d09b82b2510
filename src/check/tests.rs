//! Checker unit tests: each invariant fed facts that break it, and facts that keep it.
