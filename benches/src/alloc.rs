//! A counting global allocator, for allocations per record and heap per
//! group. The `nvm-bench` binary installs it; it counts only while switched
//! on, so that timed passes pay one relaxed load per allocation and nothing
//! else.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

/// The system allocator, counting while [`Counting::start`] is in force.
pub struct CountingAlloc;

static ON: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static PEAK_LIVE_BYTES: AtomicI64 = AtomicI64::new(0);

fn grow(bytes: usize) {
    let now = LIVE_BYTES.fetch_add(bytes as i64, Relaxed) + bytes as i64;
    PEAK_LIVE_BYTES.fetch_max(now, Relaxed);
}

fn shrink(bytes: usize) {
    LIVE_BYTES.fetch_sub(bytes as i64, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only
// observe sizes.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if ON.load(Relaxed) && !ptr.is_null() {
            ALLOCATIONS.fetch_add(1, Relaxed);
            ALLOCATED_BYTES.fetch_add(layout.size() as u64, Relaxed);
            grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if ON.load(Relaxed) && !ptr.is_null() {
            ALLOCATIONS.fetch_add(1, Relaxed);
            ALLOCATED_BYTES.fetch_add(layout.size() as u64, Relaxed);
            grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Relaxed) {
            shrink(layout.size());
        }
        System.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if ON.load(Relaxed) && !new.is_null() {
            // A reallocation is one more allocation of the new size.
            ALLOCATIONS.fetch_add(1, Relaxed);
            ALLOCATED_BYTES.fetch_add(new_size as u64, Relaxed);
            shrink(layout.size());
            grow(new_size);
        }
        new
    }
}

/// What the allocator counted between [`Counting::start`] and
/// [`Counting::stop`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub allocations: u64,
    pub allocated_bytes: u64,
    /// Heap in use at the end minus at the start (frees of blocks allocated
    /// before the start count too, so it can be negative).
    pub live_bytes: i64,
    /// Highest heap in use above the start.
    pub peak_live_bytes: i64,
}

/// A counting window. Counts are process-wide: only one at a time.
pub struct Counting(());

impl Counting {
    /// Resets the counters and switches counting on.
    pub fn start() -> Counting {
        ALLOCATIONS.store(0, Relaxed);
        ALLOCATED_BYTES.store(0, Relaxed);
        LIVE_BYTES.store(0, Relaxed);
        PEAK_LIVE_BYTES.store(0, Relaxed);
        ON.store(true, Relaxed);
        Counting(())
    }

    /// The counts so far, counting on.
    pub fn read(&self) -> Counted {
        Counted {
            allocations: ALLOCATIONS.load(Relaxed),
            allocated_bytes: ALLOCATED_BYTES.load(Relaxed),
            live_bytes: LIVE_BYTES.load(Relaxed),
            peak_live_bytes: PEAK_LIVE_BYTES.load(Relaxed),
        }
    }

    /// Switches counting off and returns the counts.
    pub fn stop(self) -> Counted {
        ON.store(false, Relaxed);
        self.read()
    }

    /// Whether the running binary installed [`CountingAlloc`]: a count
    /// window around one allocation sees it.
    pub fn installed() -> bool {
        let counting = Counting::start();
        let probe = std::hint::black_box(Box::new(0u64));
        drop(probe);
        counting.stop().allocations > 0
    }
}
