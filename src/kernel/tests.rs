//! Kernel unit tests: queue order, time arithmetic, pinned stream draws, trace hash.
