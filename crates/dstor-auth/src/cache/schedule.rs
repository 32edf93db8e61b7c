//! A cached token's windows, and which one it is in now.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::status::TokenWindow;
use crate::time::far_off;

/// One reading of both clocks: the monotonic one, and the wall clock that keeps counting
/// while the machine sleeps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Now {
    pub(crate) mono: Instant,
    pub(crate) wall: SystemTime,
}

/// When a cached token moves from one window to the next, on the monotonic clock from
/// the moment its request was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub(crate) sent_at: Instant,
    pub(crate) sent_wall: SystemTime,
    pub(crate) refresh_at: Instant,
    pub(crate) must_refresh_at: Instant,
    pub(crate) expires_at: Instant,
}

impl Schedule {
    /// The window the token is in at `now`. Never [`TokenWindow::Empty`].
    #[inline]
    pub(crate) fn window(&self, now: Now) -> TokenWindow {
        let at = self.at(now);
        if at >= self.expires_at {
            TokenWindow::Expired
        } else if at >= self.must_refresh_at {
            TokenWindow::MustRefresh
        } else if at >= self.refresh_at {
            TokenWindow::RefreshAhead
        } else {
            TokenWindow::Fresh
        }
    }

    /// How long the token has left at `now`; `None` once it has expired.
    pub(crate) fn expires_in(&self, now: Now) -> Option<Duration> {
        self.expires_at
            .checked_duration_since(self.at(now))
            .filter(|left| !left.is_zero())
    }

    /// `now.mono` moved on by any time the machine slept since the request was sent. The
    /// monotonic clock stands still while a machine sleeps and the wall clock does not, so
    /// the token's age is the greater of the two clocks' counts. (A wall clock set back
    /// counts for nothing; one set forward only brings the refresh sooner.)
    #[inline]
    fn at(&self, now: Now) -> Instant {
        let mono = now.mono.saturating_duration_since(self.sent_at);
        match now.wall.duration_since(self.sent_wall) {
            Ok(wall) if wall > mono => far_off(self.sent_at, wall),
            _ => now.mono,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CacheConfig;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_age_counts_time_asleep() {
        let config = CacheConfig::default();
        let (t0, w0) = (Instant::now(), SystemTime::now());
        let s = config.schedule(t0, w0, HOUR);
        let ten = Duration::from_secs(10);
        let at = |mono, wall| s.at(Now { mono, wall });
        // Awake: both clocks agree.
        assert_eq!(at(t0 + ten, w0 + ten), t0 + ten);
        // Slept two hours: the wall clock moved, the monotonic one did not.
        assert_eq!(at(t0 + ten, w0 + 2 * HOUR), t0 + 2 * HOUR);
        assert_eq!(
            s.window(Now {
                mono: t0 + ten,
                wall: w0 + 2 * HOUR
            }),
            TokenWindow::Expired
        );
        // The wall clock set back an hour: the monotonic count stands.
        assert_eq!(at(t0 + ten, w0 - HOUR), t0 + ten);
    }

    #[test]
    fn each_instant_falls_in_one_window() {
        let config = CacheConfig::default().with_refresh_ahead(0.75, 0.0);
        let (t0, w0) = (Instant::now(), SystemTime::now());
        let s = config.schedule(t0, w0, HOUR);
        let window = |after: Duration| {
            s.window(Now {
                mono: t0 + after,
                wall: w0 + after,
            })
        };
        let secs = Duration::from_secs;
        assert_eq!(window(secs(0)), TokenWindow::Fresh);
        assert_eq!(window(secs(2699)), TokenWindow::Fresh);
        assert_eq!(window(secs(2700)), TokenWindow::RefreshAhead);
        assert_eq!(window(secs(3299)), TokenWindow::RefreshAhead);
        assert_eq!(window(secs(3300)), TokenWindow::MustRefresh);
        assert_eq!(window(secs(3599)), TokenWindow::MustRefresh);
        assert_eq!(window(secs(3600)), TokenWindow::Expired);
        let left = |after: Duration| {
            s.expires_in(Now {
                mono: t0 + after,
                wall: w0 + after,
            })
        };
        assert_eq!(left(secs(3599)), Some(secs(1)));
        assert_eq!(left(secs(3600)), None);
    }
}
