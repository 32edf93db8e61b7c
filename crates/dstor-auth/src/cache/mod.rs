//! Caching tokens: served at once while fresh, one upstream request per refresh, refreshed
//! ahead of expiry, failures kept from callers who have a valid token.

mod clocks;
mod config;
mod schedule;
mod shared;
mod status;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use dstor_types::AccessToken;

pub(crate) use clocks::Clocks;
pub use config::CacheConfig;
use shared::Shared;
pub use status::{CacheStatus, TokenWindow};

use crate::{AuthError, TokenProvider};

/// A [`TokenProvider`] that caches the tokens of another and refreshes them ahead of
/// expiry.
///
/// A cached token passes through four windows, measured from when its request was sent
/// (see [`CacheConfig`] for where each starts, and [`TokenWindow`]):
///
/// - **Fresh:** callers are served the cached token at once. No call waits for another
///   caller, a lock holder or the network.
/// - **Refresh-ahead:** callers are still served at once, and one background refresh
///   starts. Its start is jittered, so that a fleet started together does not refresh in
///   lockstep.
/// - **Must-refresh:** callers wait for the refresh in flight; if it fails, they are served
///   the still-valid token.
/// - **Expired:** the token is never served.
///
/// The other promises:
///
/// - **One upstream request at a time**, however many callers: they all get its result.
/// - **Failures hurt no one who has a token.** A failed refresh never replaces a valid
///   token; it is retried with backoff. Only callers with no valid token see the error. A
///   permanent error (400, 401, 403, 404, a redirect; see [`AuthError::is_permanent`]) is
///   kept and handed out for a few seconds, not retried in a loop.
/// - **Cancellation-safe.** The refresh runs on its own task, on the runtime of the caller
///   that started it: a caller that gives up neither cancels nor poisons it, nor strands
///   the others waiting for it. A refresh whose runtime shut down is forgotten by the next
///   caller, who starts another. Dropping the provider stops its refresh, which then stores
///   nothing.
/// - **Idle costs nothing.** While it holds a fresh token and nobody calls it, the cache
///   runs no task and no timer.
/// - **Lifetimes follow the issuer's clock** (see [`CacheConfig`]), and **time asleep
///   counts:** a token's age is the greater of the monotonic and the wall clock's count
///   since its request was sent, so a token that expired while the machine slept is not
///   served after it wakes.
/// - **Forced refreshes are rate-limited** ([`CachedTokenProvider::invalidate`],
///   [`CachedTokenProvider::force_refresh`]).
/// - The token is held once in memory, however many callers hold it, and wiped when the
///   last of them drops it.
///
/// Construction needs no runtime; a call that must refresh needs a Tokio runtime.
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

    /// A valid token: the cached one in its fresh or refresh-ahead window, at once; else
    /// the result of the one refresh in flight.
    ///
    /// The cache is read when the future is first polled, not when it is made; on a cache
    /// hit that first poll is ready.
    ///
    /// # Errors
    ///
    /// The refresh's [`AuthError`], only when no valid token is cached;
    /// [`AuthError::NoRuntime`] when a refresh is due outside a Tokio runtime.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        match Shared::read(&self.shared) {
            Some(token) => Ok(token),
            None => Shared::wait_for_token(&self.shared).await,
        }
    }

    /// The cached token, if one is valid now. Never waits, never starts a refresh.
    pub fn try_cached(&self) -> Option<AccessToken> {
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
            .field("fetches", &self.shared.fetches())
            .field("cached", &self.shared.is_cached())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod race_tests;
#[cfg(test)]
mod tests;
