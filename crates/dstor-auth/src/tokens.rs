//! The token handle: the cached, retrying key exchange behind one cloneable type.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use dstor_types::{AccessToken, Environment};

use crate::{
    AuthError, CacheConfig, CacheStatus, CachedTokenProvider, RetryPolicy, TokenProvider,
    TokensBuilder,
};

/// Access tokens for one API key: fetched over a transport, retried, cached and refreshed
/// ahead of expiry.
///
/// Built by [`Tokens::builder`]. Whatever the transport, the type is `Tokens`, so a
/// handle built on a closure is stored and passed like any other. Cloning is cheap (a
/// reference count) and every clone shares one cache: however many tasks ask at once, one
/// request is made. It keeps every promise of [`CachedTokenProvider`] (reads that never
/// wait on a fresh token, one refresh at a time, a still-valid token never replaced by an
/// error) and retries as [`RetryPolicy`] says. `Debug` shows no secret.
///
/// ```
/// use dstor_auth::{Tokens, transport_fn};
/// use dstor_types::ApiKey;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let transport = transport_fn(|_request: http::Request<Vec<u8>>| async {
///     Ok(http::Response::new(br#"{"access_token":"opaque"}"#.to_vec()))
/// });
/// let tokens = Tokens::builder(transport)
///     .endpoint("http://127.0.0.1:8080")
///     .api_key(ApiKey::new("k".repeat(64)).unwrap())
///     .build()
///     .unwrap();
///
/// let token = tokens.token().await.unwrap();
/// assert_eq!(tokens.try_cached(), Some(token));
/// tokens.clone().token().await.unwrap(); // a clone shares the cache
/// assert_eq!(tokens.status().fetches, 1);
/// # });
/// ```
#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Inner>,
}

struct Inner {
    cache: CachedTokenProvider<Box<dyn TokenProvider>>,
    environment: Environment,
    retry_policy: RetryPolicy,
}

impl Tokens {
    /// A builder over `transport`, with every default. See [`TokensBuilder`].
    pub fn builder<T>(transport: T) -> TokensBuilder<T> {
        TokensBuilder::new(transport)
    }

    pub(crate) fn from_parts(
        cache: CachedTokenProvider<Box<dyn TokenProvider>>,
        environment: Environment,
        retry_policy: RetryPolicy,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                cache,
                environment,
                retry_policy,
            }),
        }
    }

    /// A valid token: the cached one, or the result of the one request in flight.
    ///
    /// # Errors
    ///
    /// [`AuthError`], only when no valid token is cached; [`AuthError::NoRuntime`] when a
    /// request is due outside a Tokio runtime.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        self.inner.cache.token().await
    }

    /// The cached token, if one is valid now. Never waits, never sends a request.
    pub fn try_cached(&self) -> Option<AccessToken> {
        self.inner.cache.try_cached()
    }

    /// Drops the cached token if it is still `token` (say, after the API answered 401 to a
    /// request that carried it), so that the next call fetches a new one. A newer token is
    /// never dropped for an old one's rejection, and forced refreshes are rate-limited by
    /// [`CacheConfig::min_forced_interval`]. Returns whether the token was dropped.
    pub fn invalidate(&self, token: &AccessToken) -> bool {
        self.inner.cache.invalidate(token)
    }

    /// Fetches a new token now, ignoring the cached one, or joins the fetch in flight.
    /// Within [`CacheConfig::min_forced_interval`] of the last forced refresh this is
    /// [`Tokens::token`].
    ///
    /// # Errors
    ///
    /// The fetch's [`AuthError`]; the cached token, if still valid, stays in place.
    pub async fn force_refresh(&self) -> Result<AccessToken, AuthError> {
        self.inner.cache.force_refresh().await
    }

    /// A snapshot of the cache: its window, expiry, counters and last error.
    pub fn status(&self) -> CacheStatus {
        self.inner.cache.status()
    }

    /// The deployment tokens come from (a custom one for an endpoint).
    pub fn environment(&self) -> &Environment {
        &self.inner.environment
    }

    /// When tokens are refreshed.
    pub fn cache_config(&self) -> &CacheConfig {
        self.inner.cache.config()
    }

    /// How failed requests are retried.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry_policy
    }
}

#[async_trait]
impl TokenProvider for Tokens {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        Tokens::token(self).await
    }

    fn invalidate(&self, token: &AccessToken) {
        Tokens::invalidate(self, token);
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("environment", &self.inner.environment)
            .field("retry_policy", &self.inner.retry_policy)
            .field("status", &self.inner.cache.status())
            .finish_non_exhaustive()
    }
}
