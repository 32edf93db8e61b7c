//! The ready-made client.

use std::fmt;

use async_trait::async_trait;
use dstor_auth::{
    AuthError, AuthorizedTransport, Body, CacheStatus, HttpTransport as _, TokenProvider, Tokens,
    TransportError, TransportErrorKind,
};
use dstor_types::{AccessToken, Environment};
use http::{Request, Response};

use crate::{ConfigError, DstorClientBuilder, ReqwestTransport};

/// A dStor client: hands out access tokens, fetched with the API key, cached and refreshed
/// ahead of expiry.
///
/// Cloning is cheap (reference counts); every clone shares one cache, so however many tasks
/// ask at once, one request is made. Construction needs no Tokio runtime; calls must run
/// inside one. `Debug` shows no secret.
///
/// See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct DstorClient {
    tokens: Tokens,
    transport: ReqwestTransport,
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

    pub(crate) fn from_parts(tokens: Tokens, transport: ReqwestTransport) -> Self {
        Self { tokens, transport }
    }

    /// A valid access token: the cached one, or the result of the one request in flight.
    ///
    /// # Errors
    ///
    /// [`AuthError`], only when no valid token is cached.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        self.tokens.token().await
    }

    /// The cached token, if one is valid now. Never waits, never sends a request.
    pub fn try_cached(&self) -> Option<AccessToken> {
        self.tokens.try_cached()
    }

    /// Drops the cached token if it is still `token` (say, after the API answered 401 to a
    /// request that carried it), so that the next call fetches a new one. A newer token is
    /// never dropped for an old one's rejection, and forced refreshes are rate-limited
    /// ([`CacheConfig::min_forced_interval`](crate::CacheConfig::min_forced_interval)).
    /// Returns whether the token was dropped.
    pub fn invalidate(&self, token: &AccessToken) -> bool {
        self.tokens.invalidate(token)
    }

    /// Fetches a new token now, ignoring the cached one, or joins the fetch in flight.
    /// Within the cache's
    /// [`min_forced_interval`](crate::CacheConfig::min_forced_interval) of the last forced
    /// refresh this is [`DstorClient::token`].
    ///
    /// # Errors
    ///
    /// The fetch's [`AuthError`]; the cached token, if still valid, stays in place.
    pub async fn force_refresh(&self) -> Result<AccessToken, AuthError> {
        self.tokens.force_refresh().await
    }

    /// A snapshot of the token cache: its window, expiry, counters and last error.
    pub fn status(&self) -> CacheStatus {
        self.tokens.status()
    }

    /// The token handle this client is built on, for code written against `dstor-auth`
    /// alone. It shares this client's cache.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The deployment tokens come from (a custom one for an endpoint).
    pub fn environment(&self) -> &Environment {
        self.tokens.environment()
    }

    /// The transport, for this crate's tests.
    #[cfg(test)]
    pub(crate) fn transport(&self) -> &ReqwestTransport {
        &self.transport
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
        let transport = self.transport.clone();
        let base = self.environment().base_url();
        // The builder refused an insecure endpoint already; no panic if that ever changes.
        AuthorizedTransport::new(transport, self.clone(), base)
            .map_err(|e| TransportError::with_source(TransportErrorKind::Other, e))
    }
}

#[async_trait]
impl TokenProvider for DstorClient {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        self.tokens.token().await
    }

    fn invalidate(&self, token: &AccessToken) {
        self.tokens.invalidate(token);
    }
}

impl fmt::Debug for DstorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DstorClient")
            .field("environment", self.tokens.environment())
            .field("transport", &self.transport)
            .field("retry_policy", self.tokens.retry_policy())
            .field("status", &self.tokens.status())
            .finish_non_exhaustive()
    }
}
