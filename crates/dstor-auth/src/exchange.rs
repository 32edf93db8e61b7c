//! Trading the API key for a token over any transport.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use dstor_types::{AccessToken, ApiError, ApiKey, BaseUrl, Environment, Expiration, TokenRequest};
use tracing::Instrument as _;

use crate::{AuthError, HttpTransport, TokenProvider};

/// The lifetime asked for each new token, through `x-expiration`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenLifetime {
    /// Send no `x-expiration`: the server's default, one year.
    ServerDefault,
    /// Ask for tokens that expire this long after they are requested.
    After(Duration),
    /// Ask for tokens that expire at this time, whenever they are requested: for a one-off
    /// request with a fixed end (`dstor token --expires-at`). Once the time has passed, a
    /// refresh fails with [`AuthError::Expiration`].
    Until(Expiration),
}

impl Default for TokenLifetime {
    /// One hour: a short-lived token, refreshed automatically, is safer than the server's
    /// one-year default.
    fn default() -> Self {
        Self::After(Duration::from_secs(3600))
    }
}

impl TokenLifetime {
    /// The expiration to request now.
    ///
    /// # Errors
    ///
    /// [`AuthError::Expiration`] for a lifetime under a second, one so long it would end
    /// after the year 9999, or an end that has passed.
    pub fn expiration(self) -> Result<Option<Expiration>, AuthError> {
        match self {
            Self::ServerDefault => Ok(None),
            Self::After(lifetime) => Ok(Some(Expiration::after(lifetime)?)),
            Self::Until(at) => Ok(Some(Expiration::at(at.to_system_time())?)),
        }
    }
}

/// Trades an API key for an access token on every call, over any [`HttpTransport`].
///
/// It does not cache: wrap it in [`crate::CachedTokenProvider`] (and
/// [`crate::RetryingProvider`]), as `dstor-http`'s client does.
///
/// Every setting is checked when it is made, so a provider that was built sends what it
/// was told: [`ApiKeyProvider::new`] refuses an endpoint the key may not travel to (plain
/// `http` to a host that is not loopback, whatever the transport),
/// [`ApiKeyProvider::with_lifetime`] a lifetime that cannot be requested, and
/// [`ApiKeyProvider::with_user_agent_suffix`] a suffix a header cannot carry. It keeps one
/// ready request; each call sets its expiration on a copy that shares the key's header.
///
/// ```
/// use std::time::Duration;
/// use dstor_auth::{ApiKeyProvider, AuthError, TokenLifetime, transport_fn};
/// use dstor_types::{ApiKey, Environment};
///
/// let transport = transport_fn(|_request: http::Request<Vec<u8>>| async {
///     Ok(http::Response::new(br#"{"access_token":"opaque"}"#.to_vec()))
/// });
/// let key = ApiKey::new("k".repeat(64))?;
/// let provider = ApiKeyProvider::new(transport, &Environment::Testnet, key)?
///     .with_lifetime(TokenLifetime::After(Duration::from_secs(900)))?
///     .with_user_agent_suffix("my-app/1.0")?;
/// # let _ = provider;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ApiKeyProvider<T> {
    transport: T,
    request: TokenRequest,
    lifetime: TokenLifetime,
}

impl<T: HttpTransport> ApiKeyProvider<T> {
    /// A provider that sends `api_key` to `environment` through `transport`, asking for
    /// tokens of the default lifetime (one hour).
    ///
    /// # Errors
    ///
    /// [`AuthError::Endpoint`] with [`dstor_types::EndpointError::Insecure`] for a
    /// plain-`http` endpoint that is not loopback.
    pub fn new(
        transport: T,
        environment: &Environment,
        api_key: ApiKey,
    ) -> Result<Self, AuthError> {
        Ok(Self {
            transport,
            request: TokenRequest::new(environment.base_url(), api_key)?,
            lifetime: TokenLifetime::default(),
        })
    }

    /// Sets the lifetime asked for each token (default: one hour).
    ///
    /// # Errors
    ///
    /// [`AuthError::Expiration`] for a lifetime under a second, one that would end after
    /// the year 9999, or an end that has passed.
    pub fn with_lifetime(mut self, lifetime: TokenLifetime) -> Result<Self, AuthError> {
        lifetime.expiration()?;
        self.lifetime = lifetime;
        Ok(self)
    }

    /// Appends `suffix` to the user agent, as in `dstor-rs/0.1.0 my-app/2.0`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Request`] with [`dstor_types::RequestError::InvalidUserAgent`] when the
    /// suffix holds anything but visible ASCII and spaces.
    pub fn with_user_agent_suffix(mut self, suffix: &str) -> Result<Self, AuthError> {
        self.request = self.request.user_agent_suffix(suffix)?;
        Ok(self)
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &BaseUrl {
        self.request.base_url()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T: fmt::Debug> fmt::Debug for ApiKeyProvider<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyProvider")
            .field("transport", &self.transport)
            .field("request", &self.request)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[async_trait]
impl<T: HttpTransport> TokenProvider for ApiKeyProvider<T> {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let exchange = self.request.clone().expiration(self.lifetime.expiration()?);
        let request = exchange.to_http();
        let span = tracing::debug_span!("dstor.exchange", host = %self.base_url().host());
        fetch(&self.transport, request, |response| {
            exchange.parse_response(response)
        })
        .instrument(span)
        .await
    }
}

/// Sends a token request and reads its answer with `parse`, logging the outcome (a status
/// and an error message, never a secret): what every way of getting a token shares.
pub(crate) async fn fetch<T: HttpTransport>(
    transport: &T,
    request: http::Request<Vec<u8>>,
    parse: impl FnOnce(http::Response<Vec<u8>>) -> Result<AccessToken, ApiError>,
) -> Result<AccessToken, AuthError> {
    let response = transport.send(request).await?;
    let status = response.status().as_u16();
    let result = parse(response);
    match &result {
        Ok(token) => tracing::debug!(status, jwt = token.is_jwt(), "token received"),
        Err(e) => tracing::debug!(status, error = %e, "token refused"),
    }
    Ok(result?)
}

#[cfg(test)]
mod tests;
