//! The state behind a cache: its clocks, the current token, and the one request in flight.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use dstor_types::AccessToken;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::clocks::Clocks;
use super::config::CacheConfig;
use super::schedule::{Now, Schedule};
use super::status::{CacheStatus, TokenWindow};
use crate::time::{far_off, full_jitter, scale};
use crate::{AuthError, TokenProvider};

/// What a cache shares with its refresh tasks.
pub(super) struct Shared<P> {
    pub(super) provider: P,
    pub(super) config: CacheConfig,
    clocks: Clocks,
    /// The token callers are served, read without a lock.
    current: ArcSwapOption<Entry>,
    state: Mutex<State>,
    fetches: AtomicU64,
    failures: AtomicU64,
}

/// The cached token and its windows.
struct Entry {
    token: AccessToken,
    schedule: Schedule,
}

/// A caller's place in the queue for the one request in flight.
///
/// Each waiter holds its own receiver of the flight's result, so that no waiter depends on
/// another to be woken (as it would polling a shared future, where the one waker of the
/// task's join handle can be spent on a caller that then gives up). The task that runs the
/// request sends the result; if the task dies first, the channel closes.
pub(super) struct Waiter(watch::Receiver<Outcome>);

/// What a flight publishes when it ends; `None` while it runs.
type Outcome = Option<Result<AccessToken, AuthError>>;

impl Waiter {
    /// The flight's result; [`AuthError::Cancelled`] if its task died before sending one.
    pub(super) async fn result(mut self) -> Result<AccessToken, AuthError> {
        match self.0.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or(Err(AuthError::Cancelled)),
            Err(_closed) => Err(AuthError::Cancelled),
        }
    }
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

impl<P: TokenProvider + 'static> Shared<P> {
    pub(super) fn new(provider: P, config: CacheConfig, clocks: Clocks) -> Self {
        Self {
            provider,
            config,
            clocks,
            current: ArcSwapOption::empty(),
            state: Mutex::new(State::default()),
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// The read path: the cached token in its fresh or refresh-ahead window (starting the
    /// background refresh in the latter); `None` when the caller must wait for a refresh.
    #[inline]
    pub(super) fn read(this: &Arc<Self>) -> Option<AccessToken> {
        let now = this.clocks.coarse_now();
        let token = {
            let guard = this.current.load();
            let entry = guard.as_deref()?;
            match entry.schedule.window(now) {
                TokenWindow::Fresh => return Some(entry.token.clone()),
                TokenWindow::RefreshAhead => entry.token.clone(),
                _ => return None,
            }
        };
        Self::refresh_in_background(this, now.mono);
        Some(token)
    }

    /// Starts one background refresh, unless one runs or the last failure's backoff has
    /// not passed. Never blocks: if the lock is busy, whoever holds it is seeing to it.
    fn refresh_in_background(this: &Arc<Self>, now: Instant) {
        let Ok(mut state) = this.state.try_lock() else {
            return;
        };
        this.reap(&mut state);
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
            let now = this.clocks.now();
            let current = this.current.load_full();
            let window = window_of(current.as_deref(), now);
            let reason = if current.is_some() { "due" } else { "empty" };
            let valid = current.filter(|_| window != TokenWindow::Expired);
            if let Some(entry) = valid
                .as_ref()
                .filter(|_| window != TokenWindow::MustRefresh)
            {
                // Refreshed while this caller waited for the lock.
                return Ok(entry.token.clone());
            }
            if let Some(flight) = &state.flight {
                flight.waiter()
            } else if state.retry_at.is_some_and(|t| now.mono < t) {
                // Backing off after a failure: serve what is still valid, else the error.
                match (valid, &state.last_error) {
                    (Some(entry), _) => return Ok(entry.token.clone()),
                    (None, Some(error)) => return Err(error.clone()),
                    (None, None) => Self::start_flight(this, &mut state, now.mono, "expired")?,
                }
            } else {
                Self::start_flight(this, &mut state, now.mono, reason)?
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
        Ok(waiter)
    }

    /// The request itself: ask the provider, cache what it gives, note how it went.
    async fn fetch(self: Arc<Self>, id: u64) -> Result<AccessToken, AuthError> {
        // Should the provider panic, or the task be aborted, the flight still ends: the
        // next caller starts a new one instead of joining a dead one forever.
        let _ended = FlightEnded { shared: &self, id };
        let sent = self.clocks.now();
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.provider.token().await;
        let now = self.clocks.now();
        let result = result.and_then(|token| {
            let lifetime = self.config.lifetime(&token, sent.wall);
            let schedule = self.config.schedule(sent.mono, sent.wall, lifetime);
            // Counting any time the machine slept while the request was out.
            if schedule.window(now) == TokenWindow::Expired {
                return Err(AuthError::ExpiredToken);
            }
            tracing::debug!(lifetime_s = lifetime.as_secs(), "token cached");
            Ok((token, schedule))
        });
        let mut state = self.lock();
        if state.stopped {
            // The cache is gone: cache nothing.
            return result.map(|(token, _)| token);
        }
        let result = result.map(|(token, schedule)| {
            let entry = Entry {
                token: token.clone(),
                schedule,
            };
            self.current.store(Some(Arc::new(entry)));
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
                state.retry_at = Some(far_off(now.mono, wait));
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
    /// The cached token, if one is valid now. Never waits, never starts a refresh.
    pub(super) fn valid_now(&self) -> Option<AccessToken> {
        let now = self.clocks.now();
        let guard = self.current.load();
        let entry = guard.as_deref()?;
        (entry.schedule.window(now) != TokenWindow::Expired).then(|| entry.token.clone())
    }

    /// Drops the cached token if it is still `token`, unless forced refreshes are
    /// rate-limited; returns whether it was dropped.
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
        // released: a newer token that came meanwhile is never dropped.
        let still = match (&*self.current.load(), &current) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !still {
            return false;
        }
        self.current.store(None);
        state.last_forced_at = Some(now);
        state.retry_at = None;
        tracing::debug!("cached token invalidated");
        true
    }

    pub(super) fn status(&self) -> CacheStatus {
        let now = self.clocks.now();
        let current = self.current.load_full();
        let window = window_of(current.as_deref(), now);
        let expires_in = current.and_then(|e| e.schedule.expires_in(now));
        let state = self.lock();
        CacheStatus {
            window,
            expires_in,
            fetches: self.fetches(),
            failures: self.failures.load(Ordering::Relaxed),
            last_error: state.last_error.clone(),
            refreshing: state.flight.is_some(),
        }
    }

    /// Upstream requests started.
    pub(super) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Whether a token is cached, valid or not.
    pub(super) fn is_cached(&self) -> bool {
        self.current.load().is_some()
    }

    /// Stops the request in flight; a fetch that ends after this stores nothing.
    pub(super) fn stop(&self) {
        let flight = {
            let mut state = self.lock();
            state.stopped = true;
            state.flight.take()
        };
        if let Some(flight) = flight {
            flight.abort.abort();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets a flight whose task died without ending it, so the next caller starts anew
    /// instead of joining it.
    fn reap(&self, state: &mut State) {
        if state.flight.as_ref().is_some_and(Flight::is_dead) {
            state.flight = None;
        }
    }

    /// Forgets flight `id`, if it is still the one in flight.
    fn end_flight(&self, state: &mut State, id: u64) {
        if state.flight.as_ref().is_some_and(|f| f.id == id) {
            state.flight = None;
        }
    }

    fn forced_too_soon(&self, state: &State, now: Instant) -> bool {
        state
            .last_forced_at
            .is_some_and(|t| now < far_off(t, self.config.min_forced_interval))
    }
}

/// The window of `entry` at `now`; [`TokenWindow::Empty`] without one.
fn window_of(entry: Option<&Entry>, now: Now) -> TokenWindow {
    entry.map_or(TokenWindow::Empty, |e| e.schedule.window(now))
}
