//! Caching tokens: lock-free reads, one upstream request, refresh ahead of expiry.

mod clocks;
mod config;
mod flight;
mod fresh;
mod local;
mod read;
mod status;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use dstor_types::AccessToken;
use tokio::time::Instant;

pub(crate) use clocks::Clocks;
pub use config::CacheConfig;
use flight::Shared;
pub use status::{CacheStatus, TokenWindow};

use crate::{AuthError, TokenProvider};

/// A [`TokenProvider`] that caches the tokens of another and refreshes them ahead of
/// expiry.
///
/// - **Reads take no lock.** While the token is fresh, a read takes this thread's own copy
///   of it (no lock, no clock, no write to memory another core reads; a timer task ends the
///   fresh window); otherwise the token is read through an [`arc_swap::ArcSwapOption`] and
///   the clock. Either way it is handed out as a cheap clone and the call never waits.
/// - **One upstream request at a time**, however many callers: they share its result.
/// - **Refresh off the request path.** In the refresh-ahead window callers are served and
///   one background refresh starts; only in the short must-refresh window before expiry
///   do callers wait for it. See [`CacheConfig`] for the windows and their jitter.
/// - **Failures hurt no one who has a token.** A failed refresh leaves a still-valid token
///   in place and is retried with backoff; only callers with no valid token see the error.
///   A permanent error (400, 401, 403, 404, a redirect; see [`AuthError::is_permanent`]) is kept for a few seconds, not retried in a loop.
/// - **Cancellation-safe.** The refresh runs on its own task, on the runtime of the caller
///   that started it, and each waiter holds its own receiver of the result: a caller that
///   gives up neither cancels, poisons nor strands it. A flight whose task died (its
///   runtime shut down) is forgotten by the next caller. Dropping the provider aborts its
///   tasks and stores nothing more. (A thread's own copy of the token, wiped when dropped,
///   lives until that thread stores a copy for any cache, or ends.)
///
/// - **Time asleep counts.** A token's age is the greater of the monotonic and the wall
///   clock's count since its request was sent, so a token that expired while the machine
///   slept is not served after it wakes (the clock-free window closes within a second).
///
/// Construction needs no runtime; calls must run inside a Tokio runtime.
///
/// ```
/// use dstor_auth::{CachedTokenProvider, StaticTokenProvider};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let cache = CachedTokenProvider::new(StaticTokenProvider::new("opaque").unwrap());
/// assert!(cache.try_cached().is_none());
/// let token = cache.token().await.unwrap();
/// assert_eq!(cache.try_cached(), Some(token));
/// assert_eq!(cache.status().fetches, 1);
/// # });
/// ```
pub struct CachedTokenProvider<P> {
    shared: Arc<Shared<P>>,
}

impl<P: TokenProvider + 'static> CachedTokenProvider<P> {
    /// Caches the tokens of `provider` with the default [`CacheConfig`].
    pub fn new(provider: P) -> Self {
        Self::with_config(provider, CacheConfig::default())
    }

    /// Caches the tokens of `provider` with `config`.
    pub fn with_config(provider: P, config: CacheConfig) -> Self {
        Self::with_clocks(provider, config, Clocks::system())
    }

    /// As [`CachedTokenProvider::with_config`], with the clocks a test controls.
    pub(crate) fn with_clocks(provider: P, config: CacheConfig, clocks: Clocks) -> Self {
        Self {
            shared: Arc::new(Shared::new(provider, config, clocks)),
        }
    }

    /// A valid token: the cached one when it is fresh (no lock, no wait), else the result
    /// of the one refresh in flight.
    ///
    /// The cache is read when the future is first polled, not when it is made. The future
    /// is small and, on a cache hit, ready at that first poll; the refresh path is boxed
    /// only when it is taken.
    ///
    /// # Errors
    ///
    /// The refresh's [`AuthError`], only when no valid token is cached;
    /// [`AuthError::NoRuntime`] when a refresh is due outside a Tokio runtime.
    #[inline]
    pub fn token(&self) -> impl Future<Output = Result<AccessToken, AuthError>> + Send + '_ {
        TokenFuture::Start(self)
    }

    /// The read path: this thread's copy while the token is fresh; else, by the clock, the
    /// cached token in its fresh or refresh-ahead window (starting the background refresh in
    /// the latter); `None` when the caller must wait for a refresh.
    #[inline]
    fn cached_or_refreshing(&self) -> Option<AccessToken> {
        if let Some(token) = self.shared.fresh_local() {
            return Some(token);
        }
        let (mono, wall) = (Instant::now(), self.shared.wall_now());
        if let Some(token) = self.shared.fresh_by_clock(mono, wall) {
            return Some(token);
        }
        let guard = self.shared.current.load();
        let entry = guard.as_deref()?;
        let now = entry.schedule.now(mono, wall);
        if now < entry.schedule.refresh_at {
            self.shared.remember_locally(entry);
            return Some(entry.token.clone());
        }
        if now < entry.schedule.must_refresh_at {
            Shared::refresh_in_background(&self.shared, mono);
            return Some(entry.token.clone());
        }
        None
    }

    /// The cached token, if one is valid now. Never waits, never starts a refresh.
    pub fn try_cached(&self) -> Option<AccessToken> {
        if let Some(token) = self.shared.fresh_local() {
            return Some(token);
        }
        self.shared.valid_now()
    }

    /// Drops the cached token if it is still `token` (say, after the API answered 401 to a
    /// request that carried it), so that the next call fetches a new one. A newer token is
    /// never dropped for an old one's rejection, and forced refreshes are rate-limited by
    /// [`CacheConfig::min_forced_interval`]. Returns whether the token was dropped.
    pub fn invalidate(&self, token: &AccessToken) -> bool {
        self.shared.invalidate(token)
    }

    /// Fetches a new token now, ignoring the cached one, or joins the fetch in flight. Within
    /// [`CacheConfig::min_forced_interval`] of the last forced refresh this is
    /// [`CachedTokenProvider::token`].
    ///
    /// # Errors
    ///
    /// The fetch's [`AuthError`]; the cached token, if still valid, stays in place.
    pub async fn force_refresh(&self) -> Result<AccessToken, AuthError> {
        match Shared::start_forced(&self.shared) {
            Some(waiter) => waiter?.result().await,
            None => self.token().await,
        }
    }

    /// A snapshot of the cache: its window, expiry, counters and last error.
    pub fn status(&self) -> CacheStatus {
        self.shared.status()
    }

    /// The provider whose tokens are cached.
    pub fn inner(&self) -> &P {
        &self.shared.provider
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.shared.config
    }
}

/// The future of [`CachedTokenProvider::token`]: reads the cache at its first poll, and
/// waits, boxed, only when it must.
enum TokenFuture<'a, P> {
    Start(&'a CachedTokenProvider<P>),
    Wait(Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + 'a>>),
    Done,
}

impl<P: TokenProvider + 'static> Future for TokenFuture<'_, P> {
    type Output = Result<AccessToken, AuthError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every variant is `Unpin`.
        let this = self.get_mut();
        let mut wait = match std::mem::replace(this, Self::Done) {
            Self::Start(cache) => match cache.cached_or_refreshing() {
                Some(token) => return Poll::Ready(Ok(token)),
                None => Box::pin(Shared::wait_for_token(&cache.shared)),
            },
            Self::Wait(wait) => wait,
            // Polled after it completed: a caller's bug, answered without a panic.
            Self::Done => return Poll::Ready(Err(AuthError::Cancelled)),
        };
        match wait.as_mut().poll(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => {
                *this = Self::Wait(wait);
                Poll::Pending
            }
        }
    }
}

#[async_trait]
impl<P: TokenProvider + 'static> TokenProvider for CachedTokenProvider<P> {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        CachedTokenProvider::token(self).await
    }

    fn invalidate(&self, token: &AccessToken) {
        CachedTokenProvider::invalidate(self, token);
    }
}

impl<P> Drop for CachedTokenProvider<P> {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

impl<P: fmt::Debug> fmt::Debug for CachedTokenProvider<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedTokenProvider")
            .field("provider", &self.shared.provider)
            .field("fetches", &self.shared.fetches.load(Ordering::Relaxed))
            .field("cached", &self.shared.current.load().is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod race_tests;
#[cfg(test)]
mod tests;
