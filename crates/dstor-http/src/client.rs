//! The ready-made client.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use dstor_auth::{
    ApiKeyProvider, AuthError, AuthorizedTransport, Body, CachedTokenProvider, HttpTransport as _,
    RetryingProvider, TokenProvider, TransportError, TransportErrorKind,
};
use dstor_types::{AccessToken, Environment};
use http::{Request, Response};

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

    /// Sends any request to the dStor API, authorized with this client's access token, as
    /// [`AuthorizedTransport`] describes: `Authorization: Bearer …` (sensitive), one retry
    /// with a fresh token after a 401, nothing sent to another origin than the
    /// environment's, no redirect followed. The response body is read whole, within the
    /// client's body limit; use [`DstorClient::send_streaming`] for large bodies.
    ///
    /// # Errors
    ///
    /// [`TransportError`]; [`TransportErrorKind::NoToken`] when no token could be had.
    pub async fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        self.authorized()?.send(request).await
    }

    /// As [`DstorClient::send`], with streamed bodies: the request body is sent as it is
    /// produced (and again after a 401 only if it is replayable), and the response comes back
    /// once its head has arrived.
    ///
    /// # Errors
    ///
    /// As [`DstorClient::send`].
    pub async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        self.authorized()?.send_streaming(request).await
    }

    /// The authorized transport over this client's transport and tokens (cheap clones).
    fn authorized(
        &self,
    ) -> Result<AuthorizedTransport<ReqwestTransport, DstorClient>, TransportError> {
        let transport = self.inner.tokens.inner().inner().transport().clone();
        let base = self.inner.environment.base_url();
        // The builder refused an insecure endpoint already; no panic if that ever changes.
        AuthorizedTransport::new(transport, self.clone(), base)
            .map_err(|e| TransportError::with_source(TransportErrorKind::Other, e))
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
