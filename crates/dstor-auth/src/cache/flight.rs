//! The state behind a cache: the current token, and the one request in flight.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use dstor_types::AccessToken;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::clocks::{Clocks, WallClock};
use super::config::{CacheConfig, Schedule};
use super::fresh::FreshWindow;
use super::local;
use crate::time::{far_off, full_jitter, scale};
use crate::{AuthError, TokenProvider};

static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

/// What a flight publishes when it ends; `None` while it runs.
type Outcome = Option<Result<AccessToken, AuthError>>;

/// A caller's place in the queue for the one request in flight.
///
/// Each waiter holds its own receiver of the flight's result, so that no waiter depends on
/// another to be woken (as it would polling a shared future, where the one waker of the
/// task's join handle can be spent on a caller that then gives up). The task that runs the
/// request sends the result; if the task dies first, the channel closes.
pub(super) struct Waiter(watch::Receiver<Outcome>);

impl Waiter {
    /// The flight's result; [`AuthError::Cancelled`] if its task died before sending one.
    pub(super) async fn result(mut self) -> Result<AccessToken, AuthError> {
        match self.0.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or(Err(AuthError::Cancelled)),
            Err(_closed) => Err(AuthError::Cancelled),
        }
    }
}

/// What a cache shares with its refresh tasks.
pub(super) struct Shared<P> {
    /// Tells this cache's per-thread token copies from other caches'.
    pub(super) id: u64,
    pub(super) provider: P,
    pub(super) config: CacheConfig,
    /// Read to notice time the machine spent asleep, which the monotonic clock misses.
    pub(super) wall: WallClock,
    trust_current_thread: bool,
    /// The token callers are served, read without a lock.
    pub(super) current: ArcSwapOption<Entry>,
    /// Whether the current token is in its fresh window; kept by a timer task.
    pub(super) fresh: FreshWindow,
    /// Whether a request is in flight: lets readers in the refresh-ahead window skip the
    /// lock while one runs.
    in_flight: AtomicBool,
    state: Mutex<State>,
    pub(super) fetches: AtomicU64,
    pub(super) failures: AtomicU64,
}

pub(super) struct Entry {
    pub(super) token: AccessToken,
    pub(super) schedule: Schedule,
    pub(super) generation: u64,
}

/// Everything behind the lock, which is never held across an await.
#[derive(Default)]
struct State {
    flight: Option<Flight>,
    flights_started: u64,
    last_error: Option<AuthError>,
    /// No new request before this, after a failure.
    retry_at: Option<Instant>,
    consecutive_failures: u32,
    last_fetch_at: Option<Instant>,
    last_forced_at: Option<Instant>,
    /// Set when the cache is dropped: a fetch that ends after it stores nothing.
    stopped: bool,
}

/// Ends flight `id` when the fetch is dropped, however it ends.
struct FlightEnded<'a, P> {
    shared: &'a Shared<P>,
    id: u64,
}

impl<P> Drop for FlightEnded<'_, P> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        self.shared.end_flight(&mut state, self.id);
    }
}

struct Flight {
    id: u64,
    result: watch::Receiver<Outcome>,
    abort: AbortHandle,
}

impl Flight {
    fn waiter(&self) -> Waiter {
        Waiter(self.result.clone())
    }

    /// Whether its task died without ending it (dropped before it ran, say, when its
    /// runtime shut down): a flight that ends leaves the state before it sends.
    fn is_dead(&self) -> bool {
        self.result.has_changed().is_err()
    }
}

impl<P: TokenProvider + 'static> Shared<P> {
    pub(super) fn new(provider: P, config: CacheConfig, clocks: Clocks) -> Self {
        Self {
            wall: clocks.wall,
            trust_current_thread: clocks.trust_current_thread,
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            provider,
            config,
            current: ArcSwapOption::empty(),
            fresh: FreshWindow::new(),
            in_flight: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// Starts one background refresh, unless one runs or the last failure's backoff has
    /// not passed. Never blocks: if the lock is busy, whoever holds it is seeing to it.
    pub(super) fn refresh_in_background(this: &Arc<Self>, now: Instant) {
        if this.in_flight.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut state) = this.state.try_lock() else {
            return;
        };
        if state.flight.is_some() || state.retry_at.is_some_and(|t| now < t) {
            return;
        }
        // Without a runtime there is no background: the must-refresh window refreshes.
        let _ = Self::start_flight(this, &mut state, now, "ahead");
    }

    /// The slow path: no token, or one in the must-refresh window or expired.
    pub(super) async fn wait_for_token(this: &Arc<Self>) -> Result<AccessToken, AuthError> {
        let waiter = {
            let mut state = this.lock();
            this.reap(&mut state);
            let now = Instant::now();
            let current = this.current.load_full();
            let wall = this.wall_now();
            let valid = current
                .as_ref()
                .filter(|e| e.schedule.now(now, wall) < e.schedule.expires_at);
            if let Some(entry) =
                valid.filter(|e| e.schedule.now(now, wall) < e.schedule.must_refresh_at)
            {
                // Refreshed while this caller waited for the lock.
                return Ok(entry.token.clone());
            }
            if let Some(flight) = &state.flight {
                flight.waiter()
            } else if state.retry_at.is_some_and(|t| now < t) {
                // Backing off after a failure: serve what is still valid, else the error.
                match (valid, &state.last_error) {
                    (Some(entry), _) => return Ok(entry.token.clone()),
                    (None, Some(error)) => return Err(error.clone()),
                    (None, None) => Self::start_flight(this, &mut state, now, "expired")?,
                }
            } else {
                let reason = if current.is_some() { "due" } else { "empty" };
                Self::start_flight(this, &mut state, now, reason)?
            }
        };
        match waiter.result().await {
            Ok(token) => Ok(token),
            // A failed refresh never takes away a token that is still valid.
            Err(error) => this.valid_now().ok_or(error),
        }
    }

    /// Starts a forced refresh, or joins the one in flight; `None` when rate-limited.
    pub(super) fn start_forced(this: &Arc<Self>) -> Option<Result<Waiter, AuthError>> {
        let mut state = this.lock();
        this.reap(&mut state);
        let now = Instant::now();
        if let Some(flight) = &state.flight {
            return Some(Ok(flight.waiter()));
        }
        if this.forced_too_soon(&state, now) {
            return None;
        }
        state.last_forced_at = Some(now);
        Some(Self::start_flight(this, &mut state, now, "forced"))
    }

    pub(super) fn invalidate(&self, token: &AccessToken) -> bool {
        let current = self.current.load_full();
        if !current.as_ref().is_some_and(|e| e.token.same_token(token)) {
            return false;
        }
        let mut state = self.lock();
        let now = Instant::now();
        if self.forced_too_soon(&state, now) {
            return false;
        }
        // Entries are stored under this lock, so the one seen here stays until it is
        // released: a newer token that came meanwhile is neither dropped nor has its
        // clock-free window shut.
        let still = match (&*self.current.load(), &current) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !still {
            return false;
        }
        self.fresh.close();
        self.current.store(None);
        state.last_forced_at = Some(now);
        state.retry_at = None;
        tracing::debug!("cached token invalidated");
        true
    }

    /// Forgets a flight whose task died without ending it, so the next caller starts anew
    /// instead of joining it.
    fn reap(&self, state: &mut State) {
        if state.flight.as_ref().is_some_and(Flight::is_dead) {
            state.flight = None;
            self.in_flight.store(false, Ordering::Release);
        }
    }

    fn forced_too_soon(&self, state: &State, now: Instant) -> bool {
        state
            .last_forced_at
            .is_some_and(|t| now < far_off(t, self.config.min_forced_interval))
    }

    /// Starts the one request, on its own task on the caller's runtime.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRuntime`] outside a Tokio runtime.
    fn start_flight(
        this: &Arc<Self>,
        state: &mut State,
        now: Instant,
        reason: &'static str,
    ) -> Result<Waiter, AuthError> {
        let runtime = Handle::try_current().map_err(|_| AuthError::NoRuntime)?;
        let not_before = state
            .last_fetch_at
            .map(|t| far_off(t, this.config.min_fetch_interval))
            .filter(|t| now < *t);
        state.last_fetch_at = Some(not_before.unwrap_or(now));
        state.flights_started += 1;
        let id = state.flights_started;
        let shared = Arc::clone(this);
        let (sender, result) = watch::channel(None);
        let span = tracing::debug_span!("dstor.refresh", reason, flight = id);
        let work = async move {
            if let Some(at) = not_before {
                tokio::time::sleep_until(at).await;
            }
            let outcome = shared.fetch(id).await;
            sender.send_replace(Some(outcome));
        }
        .instrument(span);
        // The task is dropped at once if the runtime is shutting down; the flight is then
        // dead and the next caller reaps it (dropping it here would need this lock).
        let abort = runtime.spawn(work).abort_handle();
        let flight = Flight { id, result, abort };
        let waiter = flight.waiter();
        state.flight = Some(flight);
        this.in_flight.store(true, Ordering::Release);
        Ok(waiter)
    }

    /// The request itself: ask the provider, cache what it gives, note how it went.
    async fn fetch(self: Arc<Self>, id: u64) -> Result<AccessToken, AuthError> {
        // Should the provider panic, or the task be aborted, the flight still ends: the
        // next caller starts a new one instead of joining a dead one forever.
        let _ended = FlightEnded { shared: &self, id };
        let sent_at = Instant::now();
        let sent_wall = (self.wall)();
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.provider.token().await;
        let now = Instant::now();
        let result = result.and_then(|token| {
            let lifetime = self.config.lifetime(&token, sent_wall);
            let schedule = self.config.schedule(sent_at, sent_wall, lifetime);
            // Counting any time the machine slept while the request was out.
            if schedule.now(now, (self.wall)()) >= schedule.expires_at {
                return Err(AuthError::ExpiredToken);
            }
            tracing::debug!(lifetime_s = lifetime.as_secs(), "token cached");
            Ok((token, schedule))
        });
        let mut state = self.lock();
        if state.stopped {
            // The cache is gone: cache nothing and start no timer.
            return result.map(|(token, _)| token);
        }
        let result = result.map(|(token, schedule)| {
            let generation = self.fresh.next_generation();
            self.current.store(Some(Arc::new(Entry {
                token: token.clone(),
                schedule,
                generation,
            })));
            self.fresh.open(
                generation,
                schedule,
                now,
                Arc::clone(&self.wall),
                self.trust_current_thread,
            );
            token
        });
        self.end_flight(&mut state, id);
        match &result {
            Ok(_) => {
                state.consecutive_failures = 0;
                state.last_error = None;
                state.retry_at = None;
            }
            Err(error) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                let wait = self.failure_backoff(error, state.consecutive_failures);
                state.retry_at = Some(far_off(now, wait));
                state.last_error = Some(error.clone());
                tracing::debug!(error = %error, backoff_ms = wait.as_millis() as u64, "refresh failed");
            }
        }
        result
    }

    /// How long to leave the upstream alone after a failure.
    fn failure_backoff(&self, error: &AuthError, failures: u32) -> Duration {
        let c = &self.config;
        let wait = if error.is_permanent() {
            scale(c.permanent_error_ttl, 1.0 + 0.5 * fastrand::f64())
        } else {
            full_jitter(c.retry_backoff, c.max_retry_backoff, failures)
        };
        let asked = error.retry_after().unwrap_or_default();
        wait.max(asked.min(c.max_retry_backoff))
    }
}

impl<P> Shared<P> {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last error, and whether a request is in flight.
    pub(super) fn flight_status(&self) -> (Option<AuthError>, bool) {
        let state = self.lock();
        (state.last_error.clone(), state.flight.is_some())
    }

    /// Forgets flight `id`, if it is still the one in flight.
    fn end_flight(&self, state: &mut State, id: u64) {
        if state.flight.as_ref().is_some_and(|f| f.id == id) {
            state.flight = None;
            self.in_flight.store(false, Ordering::Release);
        }
    }

    /// Stops the request in flight and the fresh window's timer; a fetch that ends after
    /// this stores nothing.
    pub(super) fn stop(&self) {
        local::forget(self.id);
        let flight = {
            let mut state = self.lock();
            state.stopped = true;
            // Under the lock, so that a fetch ending now cannot open a window after it.
            self.fresh.stop();
            state.flight.take()
        };
        if let Some(flight) = flight {
            flight.abort.abort();
        }
    }
}
