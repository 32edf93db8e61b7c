//! The ready-made client.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use dstor_auth::{ApiKeyProvider, AuthError, CachedTokenProvider, RetryingProvider, TokenProvider};
use dstor_types::{AccessToken, Environment};

use crate::{ConfigError, DstorClientBuilder, ReqwestTransport};

/// The provider stack a [`DstorClient`] hands out: the API-key exchange over
/// [`ReqwestTransport`], retried by [`RetryingProvider`], cached by [`CachedTokenProvider`].
pub type DstorTokenProvider =
    CachedTokenProvider<RetryingProvider<ApiKeyProvider<ReqwestTransport>>>;

/// A dStor client: hands out access tokens, fetched with the API key, cached and refreshed
/// ahead of expiry.
///
/// Cloning is cheap (a reference count); every clone shares one cache, so however many tasks
/// ask at once, one request is made. Construction needs no Tokio runtime; calls must run
/// inside one. `Debug` shows no secret.
///
/// See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct DstorClient {
    inner: Arc<Inner>,
}

struct Inner {
    tokens: DstorTokenProvider,
    environment: Environment,
}

impl DstorClient {
    /// A builder with every default. See [`DstorClientBuilder`].
    pub fn builder() -> DstorClientBuilder {
        DstorClientBuilder::new()
    }

    /// A client configured by the environment variables `DSTOR_API_KEY` (required),
    /// `DSTOR_ENV` and `DSTOR_ENDPOINT`, with every other setting at its default. See
    /// [`DstorClientBuilder::from_env_vars`].
    ///
    /// # Errors
    ///
    /// [`ConfigError`], naming a variable at fault but never its value.
    pub fn from_env() -> Result<DstorClient, ConfigError> {
        Self::builder().from_env()?.build()
    }

    pub(crate) fn from_parts(tokens: DstorTokenProvider, environment: Environment) -> Self {
        Self {
            inner: Arc::new(Inner {
                tokens,
                environment,
            }),
        }
    }

    /// A valid access token: the cached one, or the result of the one request in flight.
    ///
    /// # Errors
    ///
    /// [`AuthError`], only when no valid token is cached.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        self.inner.tokens.token().await
    }

    /// The token cache, for [`status`](CachedTokenProvider::status),
    /// [`invalidate`](CachedTokenProvider::invalidate),
    /// [`force_refresh`](CachedTokenProvider::force_refresh) and
    /// [`try_cached`](CachedTokenProvider::try_cached).
    pub fn tokens(&self) -> &DstorTokenProvider {
        &self.inner.tokens
    }

    /// The deployment tokens come from (a custom one for an endpoint).
    pub fn environment(&self) -> &Environment {
        &self.inner.environment
    }
}

#[async_trait]
impl TokenProvider for DstorClient {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        self.inner.tokens.token().await
    }

    fn invalidate(&self, token: &AccessToken) {
        self.inner.tokens.invalidate(token);
    }
}

impl fmt::Debug for DstorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exchange = self.inner.tokens.inner().inner();
        f.debug_struct("DstorClient")
            .field("environment", &self.inner.environment)
            .field("transport", exchange.transport())
            .field("retry_policy", self.inner.tokens.inner().policy())
            .field("status", &self.inner.tokens.status())
            .finish_non_exhaustive()
    }
}
