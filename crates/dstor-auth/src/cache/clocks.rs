//! Where a cache reads the time.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use super::schedule::Now;

/// The wall clock: `SystemTime::now`, or a test's own.
pub(crate) type WallClock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Where a cache reads the time: Tokio's monotonic clock (which a test may pause), and a
/// wall clock (which a test may move, as a machine's moves while it sleeps).
#[derive(Clone)]
pub(crate) struct Clocks {
    pub(super) wall: WallClock,
}

impl Clocks {
    /// The system's wall clock.
    pub(super) fn system() -> Self {
        Self {
            wall: Arc::new(SystemTime::now),
        }
    }

    /// Both clocks, now.
    #[inline]
    pub(super) fn now(&self) -> Now {
        Now {
            mono: Instant::now(),
            wall: (self.wall)(),
        }
    }
}
