//! Trading login credentials for a token over any transport.

use std::fmt;

use async_trait::async_trait;
use dstor_types::{AccessToken, BaseUrl, Environment, LoginCredentials, LoginRequest};
use tracing::Instrument as _;

use crate::{AuthError, HttpTransport, TokenLifetime, TokenProvider};

/// Trades an account's email and password for an access token on every call
/// (`POST /v1/dev/temp-token`), over any [`HttpTransport`].
///
/// It is the login twin of [`crate::ApiKeyProvider`]: the same settings, checked when they
/// are made, the same [`AccessToken`] and the same error classes, except that a 401 or 403
/// is [`dstor_types::ApiError::CredentialsRejected`] (see
/// [`AuthError::is_credentials_rejected`]), which is permanent and never retried. It does
/// not cache: [`crate::Tokens::builder`] with [`crate::TokensBuilder::login`] gives the
/// retried, cached handle. The password is sent only in the body of requests to the
/// configured endpoint, and appears in no `Debug` output or error.
///
/// ```
/// use dstor_auth::{LoginProvider, TokenProvider, transport_fn};
/// use dstor_types::{Environment, LoginCredentials};
/// use dstor_types::secrecy::SecretString;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let transport = transport_fn(|request: http::Request<Vec<u8>>| async move {
///     assert_eq!(request.method(), "POST");
///     Ok(http::Response::new(br#"{"access_token":"opaque"}"#.to_vec()))
/// });
/// let login = LoginCredentials::new("dev@example.com", SecretString::from("hunter2"))?;
/// let provider = LoginProvider::new(transport, &Environment::Testnet, login)?;
/// assert_eq!(provider.token().await?.expose_secret(), "opaque");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct LoginProvider<T> {
    transport: T,
    request: LoginRequest,
    lifetime: TokenLifetime,
}

impl<T: HttpTransport> LoginProvider<T> {
    /// A provider that logs in to `environment` with `credentials` through `transport`,
    /// asking for tokens of the default lifetime (one hour).
    ///
    /// # Errors
    ///
    /// [`AuthError::Endpoint`] with [`dstor_types::EndpointError::Insecure`] for a
    /// plain-`http` endpoint that is not loopback.
    pub fn new(
        transport: T,
        environment: &Environment,
        credentials: LoginCredentials,
    ) -> Result<Self, AuthError> {
        Ok(Self {
            transport,
            request: LoginRequest::new(environment.base_url(), credentials)?,
            lifetime: TokenLifetime::default(),
        })
    }

    /// Sets the lifetime asked for each token (default: one hour).
    ///
    /// # Errors
    ///
    /// [`AuthError::Expiration`], as [`crate::ApiKeyProvider::with_lifetime`].
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

    /// The email address of the account.
    pub fn email(&self) -> &str {
        self.request.email()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T: fmt::Debug> fmt::Debug for LoginProvider<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginProvider")
            .field("transport", &self.transport)
            .field("request", &self.request)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[async_trait]
impl<T: HttpTransport> TokenProvider for LoginProvider<T> {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let exchange = self.request.clone().expiration(self.lifetime.expiration()?);
        let request = exchange.to_http();
        let span = tracing::debug_span!("dstor.login", host = %self.base_url().host());
        crate::exchange::fetch(&self.transport, request, |response| {
            exchange.parse_response(response)
        })
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests;
