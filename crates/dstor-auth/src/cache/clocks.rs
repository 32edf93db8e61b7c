//! Where a cache reads the time.

use std::sync::Arc;
use std::time::SystemTime;

/// The wall clock: `SystemTime::now`, or a test's own.
pub(crate) type WallClock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Where a cache reads the time, and whether it lets reads skip the clock on a
/// current-thread runtime.
#[derive(Clone)]
pub(crate) struct Clocks {
    pub(super) wall: WallClock,
    /// A current-thread runtime drives the timer that closes the clock-free window only
    /// while someone blocks on it, so by default the window opens only on multi-thread
    /// runtimes. The crate's tests, on paused current-thread runtimes that they drive,
    /// open it there too.
    pub(super) trust_current_thread: bool,
}

impl Clocks {
    /// The system's wall clock; the clock-free window only on multi-thread runtimes.
    pub(super) fn system() -> Self {
        Self {
            wall: Arc::new(SystemTime::now),
            trust_current_thread: false,
        }
    }
}
