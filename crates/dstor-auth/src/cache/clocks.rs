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
    /// `None`: the system's.
    pub(super) wall: Option<WallClock>,
}

impl Clocks {
    /// The system's wall clock.
    pub(super) fn system() -> Self {
        Self { wall: None }
    }

    /// Both clocks, now.
    #[inline]
    pub(super) fn now(&self) -> Now {
        Now {
            mono: Instant::now(),
            wall: match &self.wall {
                None => SystemTime::now(),
                Some(wall) => wall(),
            },
        }
    }
}
