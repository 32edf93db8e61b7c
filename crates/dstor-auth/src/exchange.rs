//! Trading the API key for a token over any transport.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use dstor_types::{
    AccessToken, ApiKey, BaseUrl, Environment, Expiration, TokenRequest, user_agent_header,
};
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
/// It refuses a plain-`http` endpoint unless the host is loopback, whatever the
/// transport, so the key never travels in clear text.
///
/// Configuration mistakes are best caught where they are made: [`ApiKeyProvider::new`]
/// checks the endpoint, and [`ApiKeyProvider::try_with_lifetime`] and
/// [`ApiKeyProvider::try_with_user_agent_suffix`] check their value. (The infallible
/// `with_*` forms accept anything; a bad value then fails every [`TokenProvider::token`]
/// call with a permanent error, before anything is sent.)
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
///     .try_with_lifetime(TokenLifetime::After(Duration::from_secs(900)))?
///     .try_with_user_agent_suffix("my-app/1.0")?;
/// # let _ = provider;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ApiKeyProvider<T> {
    transport: T,
    base: BaseUrl,
    api_key: ApiKey,
    lifetime: TokenLifetime,
    user_agent_suffix: Option<String>,
}

impl<T: HttpTransport> ApiKeyProvider<T> {
    /// A provider that sends `api_key` to `environment` through `transport`.
    ///
    /// # Errors
    ///
    /// [`AuthError::InsecureEndpoint`] for a plain-`http` endpoint that is not loopback.
    pub fn new(
        transport: T,
        environment: &Environment,
        api_key: ApiKey,
    ) -> Result<Self, AuthError> {
        let base = environment.base_url();
        if !base.may_carry_api_key() {
            return Err(AuthError::InsecureEndpoint {
                host: base.host().to_owned(),
            });
        }
        Ok(Self {
            transport,
            base,
            api_key,
            lifetime: TokenLifetime::default(),
            user_agent_suffix: None,
        })
    }

    /// Sets the lifetime asked for each token (default: one hour). A lifetime under a
    /// second makes every token request fail; [`ApiKeyProvider::try_with_lifetime`]
    /// refuses it here instead.
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: TokenLifetime) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Sets the lifetime asked for each token, refusing one that cannot be requested.
    ///
    /// # Errors
    ///
    /// [`AuthError::Expiration`] for a lifetime under a second, or one that would end after
    /// the year 9999.
    pub fn try_with_lifetime(self, lifetime: TokenLifetime) -> Result<Self, AuthError> {
        lifetime.expiration()?;
        Ok(self.with_lifetime(lifetime))
    }

    /// Appends `suffix` to the user agent, as in `dstor-rs/0.1.0 my-app/2.0`. A suffix that
    /// is not visible ASCII makes every token request fail;
    /// [`ApiKeyProvider::try_with_user_agent_suffix`] refuses it here instead.
    #[must_use]
    pub fn with_user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Appends `suffix` to the user agent, refusing one a header cannot carry.
    ///
    /// # Errors
    ///
    /// [`AuthError::Request`] with [`dstor_types::RequestError::InvalidUserAgent`] when the
    /// suffix holds anything but visible ASCII and spaces.
    pub fn try_with_user_agent_suffix(self, suffix: impl Into<String>) -> Result<Self, AuthError> {
        let suffix = suffix.into();
        user_agent_header(&suffix)?;
        Ok(self.with_user_agent_suffix(suffix))
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    fn exchange(&self) -> Result<TokenRequest, AuthError> {
        let mut request = TokenRequest::new(self.base.clone(), self.api_key.clone())
            .expiration(self.lifetime.expiration()?);
        if let Some(suffix) = &self.user_agent_suffix {
            request = request.user_agent_suffix(suffix);
        }
        Ok(request)
    }
}

impl<T: fmt::Debug> fmt::Debug for ApiKeyProvider<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyProvider")
            .field("transport", &self.transport)
            .field("base", &self.base)
            .field("api_key", &self.api_key)
            .field("lifetime", &self.lifetime)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .finish()
    }
}

#[async_trait]
impl<T: HttpTransport> TokenProvider for ApiKeyProvider<T> {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let exchange = self.exchange()?;
        let request = exchange.to_http()?;
        let span = tracing::debug_span!("dstor.exchange", host = %self.base.host());
        async {
            let response = self.transport.send(request).await?;
            let status = response.status().as_u16();
            let result = exchange.parse_response(response);
            match &result {
                Ok(token) => tracing::debug!(status, jwt = token.is_jwt(), "token received"),
                Err(e) => tracing::debug!(status, error = %e, "token refused"),
            }
            Ok(result?)
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests;
