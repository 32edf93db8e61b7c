//! The fresh window: while it is open, reads skip the clock.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::clocks::WallClock;
use super::config::Schedule;
use crate::time::far_off;

/// The least time between the start of the refresh-ahead window and expiry for which reads
/// skip the clock: the timer that closes the fresh window may run this late without any
/// caller being served an expired token.
const FRESH_MARGIN: Duration = Duration::from_secs(10);

/// How often the timer of an open window looks at the wall clock; so, how long after the
/// machine wakes from sleep the window may stay open.
const WAKE: Duration = Duration::from_secs(1);

/// Whether the cached token, number `generation`, is in its fresh window.
///
/// The window is open only while a timer task is armed to close it when the window ends, or
/// when the task is dropped (its runtime shut down). Readers that find it open take their
/// thread's copy of the token without reading the clock.
pub(super) struct FreshWindow {
    flag: Arc<Flag>,
    timer: Mutex<Option<AbortHandle>>,
}

struct Flag {
    open: AtomicBool,
    generation: AtomicU64,
}

/// Closes the window when the timer fires or is dropped, unless a newer token has come.
struct Closer {
    flag: Arc<Flag>,
    generation: u64,
}

impl Drop for Closer {
    fn drop(&mut self) {
        if self.flag.generation.load(Ordering::Acquire) == self.generation {
            self.flag.open.store(false, Ordering::Release);
        }
    }
}

impl FreshWindow {
    pub(super) fn new() -> Self {
        Self {
            flag: Arc::new(Flag {
                open: AtomicBool::new(false),
                generation: AtomicU64::new(0),
            }),
            timer: Mutex::new(None),
        }
    }

    /// The generation of the cached token when its fresh window is open.
    #[inline]
    pub(super) fn generation(&self) -> Option<u64> {
        if !self.flag.open.load(Ordering::Acquire) {
            return None;
        }
        Some(self.flag.generation.load(Ordering::Acquire))
    }

    /// The number of the cached token, whether or not its window is open.
    #[inline]
    pub(super) fn current(&self) -> u64 {
        self.flag.generation.load(Ordering::Acquire)
    }

    /// Numbers a new token (before it is stored), closing the window of the last one.
    pub(super) fn next_generation(&self) -> u64 {
        self.flag.generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Closes the window now (the token was invalidated).
    pub(super) fn close(&self) {
        self.next_generation();
        self.flag.open.store(false, Ordering::Release);
    }

    /// Opens the window of token `generation` until its refresh-ahead window starts, with a
    /// timer on this runtime to close it. Without a multi-thread runtime, or for a token
    /// whose windows are too close together, the window stays shut and readers keep
    /// checking the clock.
    pub(super) fn open(
        &self,
        generation: u64,
        schedule: Schedule,
        now: Instant,
        wall: WallClock,
        trust_current_thread: bool,
    ) {
        let mut timer = self.timer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = timer.take() {
            old.abort();
        }
        // The last token's window closes here, whether or not this one's opens: the old
        // timer, aborted, no longer closes anything (its generation is past).
        self.flag.open.store(false, Ordering::Release);
        let margin = schedule
            .expires_at
            .saturating_duration_since(schedule.refresh_at);
        if margin < FRESH_MARGIN || now >= schedule.refresh_at {
            return;
        }
        // A multi-thread runtime drives its timers for as long as it exists (and dropping
        // it drops the timer, which closes the window); a current-thread runtime drives them
        // only while someone blocks on it, which readers on another runtime cannot count on.
        // (See `Clocks::trust_current_thread`.)
        let Some(runtime) = Handle::try_current()
            .ok()
            .filter(|h| trust_current_thread || h.runtime_flavor() != RuntimeFlavor::CurrentThread)
        else {
            return;
        };
        // Opened before the timer exists, so that the timer's end always closes it.
        self.flag.open.store(true, Ordering::Release);
        let closer = Closer {
            flag: Arc::clone(&self.flag),
            generation,
        };
        let task = runtime.spawn(async move {
            let _closer = closer;
            loop {
                let mono = Instant::now();
                if schedule.now(mono, wall()) >= schedule.refresh_at {
                    break;
                }
                // Wakes at least every few seconds: after a sleep of the machine the
                // monotonic deadline lies far ahead, and only the wall clock tells.
                tokio::time::sleep_until(schedule.refresh_at.min(far_off(mono, WAKE))).await;
            }
        });
        *timer = Some(task.abort_handle());
    }

    /// Closes the window and stops its timer: the cache is going away.
    pub(super) fn stop(&self) {
        self.flag.open.store(false, Ordering::Release);
        let mut timer = self.timer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(timer) = timer.take() {
            timer.abort();
        }
    }

    /// A handle that dies with the cache, for the per-thread copies.
    pub(super) fn alive(&self) -> Weak<dyn Any + Send + Sync> {
        let weak: Weak<Flag> = Arc::downgrade(&self.flag);
        weak
    }
}
