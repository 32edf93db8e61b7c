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
    pub(super) fn now(&self) -> Now {
        Now {
            mono: Instant::now(),
            wall: match &self.wall {
                None => SystemTime::now(),
                Some(wall) => wall(),
            },
        }
    }

    /// Both clocks, the system's wall clock to within a scheduler tick (a few
    /// milliseconds), where that reads in a fraction of the time: enough to tell which
    /// window a token is in, since the monotonic clock, exact, decides while the machine
    /// is awake, and the wall clock only after it slept.
    #[inline]
    pub(super) fn coarse_now(&self) -> Now {
        Now {
            mono: Instant::now(),
            wall: match &self.wall {
                None => coarse_wall(),
                Some(wall) => wall(),
            },
        }
    }
}

/// Linux's coarse wall clock: the time of the last tick, read without the hardware
/// counter that `SystemTime::now` reads.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
fn coarse_wall() -> SystemTime {
    use rustix::time::{ClockId, clock_gettime};
    use std::time::Duration;

    let now = clock_gettime(ClockId::RealtimeCoarse);
    // Before 1970 (a clock set that far back) reads as 1970: a wall clock set back counts
    // for nothing anyway.
    let (Ok(secs), Ok(nanos)) = (u64::try_from(now.tv_sec), u32::try_from(now.tv_nsec)) else {
        return SystemTime::UNIX_EPOCH;
    };
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::new(secs, nanos.min(999_999_999)))
        .unwrap_or_else(SystemTime::now)
}

/// Elsewhere, the wall clock.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn coarse_wall() -> SystemTime {
    SystemTime::now()
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::time::Duration;

    use rustix::time::{ClockId, clock_getres};

    use super::*;

    #[test]
    fn the_coarse_wall_clock_is_the_wall_clock_to_within_a_tick() {
        let res = clock_getres(ClockId::RealtimeCoarse);
        let tick = Duration::new(
            res.tv_sec.try_into().unwrap(),
            res.tv_nsec.try_into().unwrap(),
        );
        for _ in 0..100 {
            let before = SystemTime::now();
            let coarse = coarse_wall();
            let after = SystemTime::now();
            assert!(coarse <= after, "{coarse:?} after {after:?}");
            // The last tick, or the one before if this one is being handled.
            let behind = before.duration_since(coarse).unwrap_or_default();
            assert!(behind <= 2 * tick, "{behind:?} behind, the tick {tick:?}");
        }
    }
}
