//! The read side of a cache: this thread's copy of the token, the clocks, the status.

use std::sync::atomic::Ordering;

use std::time::SystemTime;

use dstor_types::AccessToken;
use tokio::time::Instant;

use super::flight::{Entry, Shared};
use super::local;
use super::status::{CacheStatus, TokenWindow};

impl<P> Shared<P> {
    /// This thread's copy of the current token, when the token is known to be fresh: no
    /// lock, no clock, no write to memory shared with other threads.
    #[inline]
    pub(super) fn fresh_local(&self) -> Option<AccessToken> {
        local::get_if(self.id, self.fresh.generation()?, |_| true)
    }

    /// This thread's copy of the current token, when the clocks (`mono_now`, `wall_now`)
    /// say it is fresh: no lock, no write to memory shared with other threads.
    #[inline]
    pub(super) fn fresh_by_clock(
        &self,
        mono_now: Instant,
        wall_now: SystemTime,
    ) -> Option<AccessToken> {
        local::get_if(self.id, self.fresh.current(), |schedule| {
            schedule.now(mono_now, wall_now) < schedule.refresh_at
        })
    }

    /// The wall clock's time.
    #[inline]
    pub(super) fn wall_now(&self) -> SystemTime {
        (self.wall)()
    }

    /// Where `entry` stands now: the monotonic `mono_now`, moved on by any time asleep.
    #[inline]
    pub(super) fn entry_now(&self, entry: &Entry, mono_now: Instant) -> Instant {
        entry.schedule.now(mono_now, self.wall_now())
    }

    /// The handle that dies with the fresh window's flag (and so with its timer task).
    #[cfg(test)]
    pub(super) fn fresh_alive(&self) -> std::sync::Weak<dyn std::any::Any + Send + Sync> {
        self.fresh.alive()
    }

    /// Whether reads currently skip the clock.
    #[cfg(test)]
    pub(super) fn is_fresh(&self) -> bool {
        self.fresh.generation().is_some()
    }

    /// Keeps a copy of `entry`, if it is still the current token, for this thread's next
    /// reads.
    pub(super) fn remember_locally(&self, entry: &Entry) {
        if self.fresh.current() == entry.generation {
            let alive = self.fresh.alive();
            local::put(
                self.id,
                entry.generation,
                &entry.token,
                entry.schedule,
                alive,
            );
        }
    }

    pub(super) fn valid_now(&self) -> Option<AccessToken> {
        let now = Instant::now();
        self.current
            .load()
            .as_deref()
            .filter(|e| self.entry_now(e, now) < e.schedule.expires_at)
            .map(|e| e.token.clone())
    }

    pub(super) fn status(&self) -> CacheStatus {
        let now = Instant::now();
        let current = self.current.load_full();
        let (window, expires_in) = match current.as_deref() {
            None => (TokenWindow::Empty, None),
            Some(e) => {
                let s = e.schedule;
                let now = self.entry_now(e, now);
                let window = if now >= s.expires_at {
                    TokenWindow::Expired
                } else if now >= s.must_refresh_at {
                    TokenWindow::MustRefresh
                } else if now >= s.refresh_at {
                    TokenWindow::RefreshAhead
                } else {
                    TokenWindow::Fresh
                };
                let left = s.expires_at.checked_duration_since(now);
                (window, left.filter(|d| !d.is_zero()))
            }
        };
        let (last_error, refreshing) = self.flight_status();
        CacheStatus {
            window,
            expires_in,
            fetches: self.fetches.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            last_error,
            refreshing,
        }
    }
}
