//! A counting global allocator, so `snapsim bench` can state a run's peak heap bytes — per
//! run, unlike the process-wide `VmHWM` — and show that memory does not grow with run
//! length. The binary installs it; counting is off (one relaxed load per allocation) until
//! `measure` turns it on, so sweeps and runs pay next to nothing for it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live and peak bytes while `measure` runs.
pub struct PeakHeap;

// SAFETY: every call is forwarded unchanged to the system allocator; only counters change.
unsafe impl GlobalAlloc for PeakHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_up(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        count_down(layout.size());
        // SAFETY: `pointer` was allocated by `System` with `layout` (every allocation is).
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_up(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_down(layout.size());
        count_up(new_size);
        // SAFETY: the caller upholds `realloc`'s contract, which `System` shares.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[inline]
fn count_up(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

#[inline]
fn count_down(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        // Memory allocated before counting began may be freed during it: never below zero.
        let _ = LIVE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| Some(live.saturating_sub(bytes)));
    }
}

/// Runs `work` and returns its result with the peak heap bytes allocated during it (above
/// what was live before). `None` for the bytes when `PeakHeap` is not the global allocator
/// (a test binary, a library user), as then nothing is counted.
pub fn measure<T>(work: impl FnOnce() -> T) -> (T, Option<usize>) {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let probe = std::hint::black_box(Vec::<u8>::with_capacity(1));
    let counted = PEAK.load(Ordering::Relaxed) > 0;
    drop(probe);
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    let result = work();
    COUNTING.store(false, Ordering::Relaxed);
    (result, counted.then(|| PEAK.load(Ordering::Relaxed)))
}
