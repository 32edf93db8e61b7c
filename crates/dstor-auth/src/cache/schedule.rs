//! A cached token's windows, and which one it is in now.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::status::TokenWindow;

/// One reading of both clocks: the monotonic one, and the wall clock that keeps counting
/// while the machine sleeps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Now {
    pub(crate) mono: Instant,
    pub(crate) wall: SystemTime,
}

/// When a cached token moves from one window to the next: on the monotonic clock, from the
/// moment its request was sent, and on the wall clock, which keeps counting while the
/// machine sleeps. A token's age is the greater of the two clocks' counts, so it enters a
/// window when either clock reaches that window's start. (A wall clock set back counts for
/// nothing; one set forward only brings the refresh sooner.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub(crate) refresh_at: Instant,
    pub(crate) must_refresh_at: Instant,
    pub(crate) expires_at: Instant,
    /// The same moments by the wall clock; `None` where it never gets there.
    refresh_wall: Option<SystemTime>,
    must_refresh_wall: Option<SystemTime>,
    expires_wall: Option<SystemTime>,
}

impl Schedule {
    /// The windows of a token whose request was sent at `sent`.
    pub(crate) fn new(
        sent: Now,
        refresh_at: Instant,
        must_refresh_at: Instant,
        expires_at: Instant,
    ) -> Self {
        let wall = |at: Instant| {
            sent.wall
                .checked_add(at.saturating_duration_since(sent.mono))
        };
        Self {
            refresh_at,
            must_refresh_at,
            expires_at,
            refresh_wall: wall(refresh_at),
            must_refresh_wall: wall(must_refresh_at),
            expires_wall: wall(expires_at),
        }
    }

    /// The window the token is in at `now`. Never [`TokenWindow::Empty`].
    #[inline]
    pub(crate) fn window(&self, now: Now) -> TokenWindow {
        let reached = |mono: Instant, wall: Option<SystemTime>| {
            now.mono >= mono || wall.is_some_and(|wall| now.wall >= wall)
        };
        if !reached(self.refresh_at, self.refresh_wall) {
            TokenWindow::Fresh
        } else if !reached(self.must_refresh_at, self.must_refresh_wall) {
            TokenWindow::RefreshAhead
        } else if !reached(self.expires_at, self.expires_wall) {
            TokenWindow::MustRefresh
        } else {
            TokenWindow::Expired
        }
    }

    /// How long the token has left at `now`, by the clock that has counted more; `None`
    /// once it has expired.
    pub(crate) fn expires_in(&self, now: Now) -> Option<Duration> {
        let mono = self.expires_at.saturating_duration_since(now.mono);
        let wall = self.expires_wall.map_or(Duration::MAX, |expires| {
            expires.duration_since(now.wall).unwrap_or(Duration::ZERO)
        });
        Some(mono.min(wall)).filter(|left| !left.is_zero())
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
        let left = |mono, wall| s.expires_in(Now { mono, wall });
        // Awake: both clocks agree.
        assert_eq!(left(t0 + ten, w0 + ten), Some(HOUR - ten));
        // Slept two hours: the wall clock moved, the monotonic one did not.
        assert_eq!(left(t0 + ten, w0 + 2 * HOUR), None);
        let asleep = Now {
            mono: t0 + ten,
            wall: w0 + 2 * HOUR,
        };
        assert_eq!(s.window(asleep), TokenWindow::Expired);
        // The wall clock set back an hour: the monotonic count stands.
        assert_eq!(left(t0 + ten, w0 - HOUR), Some(HOUR - ten));
        let set_back = Now {
            mono: t0 + ten,
            wall: w0 - HOUR,
        };
        assert_eq!(s.window(set_back), TokenWindow::Fresh);
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
