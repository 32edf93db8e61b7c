//! Building a [`Tokens`] handle over any transport.

use std::fmt;

use dstor_types::{
    ApiKey, BaseUrl, EndpointError, Environment, ExpirationError, LoginCredentials, RequestError,
};

use crate::{
    ApiKeyProvider, AuthError, CacheConfig, CachedTokenProvider, HttpTransport, LoginProvider,
    RetryPolicy, RetryingProvider, TokenLifetime, TokenProvider, Tokens,
};

/// Configures a [`Tokens`] handle over a transport `T`: where to ask, with which key, how
/// patiently, how long to keep a token.
///
/// Every setting has a default except the credentials, an API key or an account's login
/// ([`login`](Self::login); the last of the two calls wins): production, one-hour tokens,
/// [`RetryPolicy::default`], [`CacheConfig::default`]. Nothing is checked until
/// [`build`](Self::build), which does no I/O, needs no Tokio runtime, and reports every
/// mistake as one error type, [`BuildError`]. `Debug` never shows the key.
///
/// # Where tokens are asked for
///
/// [`endpoint`](Self::endpoint) wins over [`environment`](Self::environment), whichever is
/// called first; otherwise the last call wins.
///
/// # Naming the stack
///
/// The handle names no transport: a `Tokens` built on a closure (whose type cannot be
/// written) goes in a struct field as `Tokens`. To keep such a transport itself before
/// building, box it: `Box<dyn HttpTransport>` is a transport too.
///
/// ```
/// use std::time::Duration;
/// use dstor_auth::{HttpTransport, RetryPolicy, TokenLifetime, Tokens, transport_fn};
/// use dstor_types::ApiKey;
///
/// struct App {
///     tokens: Tokens,
/// }
///
/// let transport: Box<dyn HttpTransport> =
///     Box::new(transport_fn(|_request: http::Request<Vec<u8>>| async {
///         Ok(http::Response::new(br#"{"access_token":"opaque"}"#.to_vec()))
///     }));
/// let app = App {
///     tokens: Tokens::builder(transport)
///         .endpoint("https://api.dstor.cloud")
///         .api_key(ApiKey::new("k".repeat(64))?)
///         .token_lifetime(TokenLifetime::After(Duration::from_secs(900)))
///         .user_agent_suffix("my-app/1.0")
///         .retry_policy(RetryPolicy::default().with_max_attempts(3))
///         .build()?,
/// };
/// assert_eq!(app.tokens.environment().base_url().as_str(), "https://api.dstor.cloud");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokensBuilder<T> {
    transport: T,
    target: Target,
    credentials: Option<Credentials>,
    token_lifetime: TokenLifetime,
    user_agent_suffix: Option<String>,
    retry_policy: RetryPolicy,
    cache_config: CacheConfig,
}

impl<T> TokensBuilder<T> {
    /// A builder over `transport`, with every default; the same as [`Tokens::builder`].
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            target: Target::Environment(Environment::Production),
            credentials: None,
            token_lifetime: TokenLifetime::default(),
            user_agent_suffix: None,
            retry_policy: RetryPolicy::default(),
            cache_config: CacheConfig::default(),
        }
    }

    /// The dStor deployment to ask (default: production). An [`endpoint`](Self::endpoint)
    /// wins over it, whichever is set first.
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        if !matches!(self.target, Target::Endpoint(_)) {
            self.target = Target::Environment(environment);
        }
        self
    }

    /// A base URL to ask instead of an environment, such as a proxy in front of dStor or a
    /// fake server. Parsed in [`build`](Self::build): plain `http` is accepted only for
    /// loopback hosts.
    #[must_use]
    pub fn endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.target = Target::Endpoint(base_url.into());
        self
    }

    /// The API key (required, unless [`login`](Self::login) is called instead; the last
    /// of the two wins).
    #[must_use]
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.credentials = Some(Credentials::ApiKey(key));
        self
    }

    /// Logs in with an account's email and password instead of an API key
    /// (`POST /v1/dev/temp-token`, through [`LoginProvider`]), with the same retries and
    /// cache. The last of [`api_key`](Self::api_key) and this call wins.
    #[must_use]
    pub fn login(mut self, credentials: LoginCredentials) -> Self {
        self.credentials = Some(Credentials::Login(credentials));
        self
    }

    /// The lifetime asked for each token (default: one hour).
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: TokenLifetime) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Text appended to the user agent, as in `dstor-rs/0.1.0 my-app/2.0`.
    #[must_use]
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// How failed token requests are retried (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// When cached tokens are refreshed (default [`CacheConfig::default`]).
    #[must_use]
    pub fn cache_config(mut self, config: CacheConfig) -> Self {
        self.cache_config = config;
        self
    }

    /// The same settings over another transport: for settings gathered before the
    /// transport exists.
    pub fn transport<U>(self, transport: U) -> TokensBuilder<U> {
        TokensBuilder {
            transport,
            target: self.target,
            credentials: self.credentials,
            token_lifetime: self.token_lifetime,
            user_agent_suffix: self.user_agent_suffix,
            retry_policy: self.retry_policy,
            cache_config: self.cache_config,
        }
    }

    /// Builds the handle: the key exchange over the transport, retried, then cached. Does
    /// no I/O and needs no Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`BuildError`]: an endpoint that is not a base URL, or plain `http` to a host that
    /// is not loopback; no API key or login; a token lifetime or user agent that cannot be sent.
    pub fn build(self) -> Result<Tokens, BuildError>
    where
        T: HttpTransport + 'static,
    {
        let environment = match self.target {
            Target::Environment(environment) => environment,
            Target::Endpoint(url) => Environment::Custom(BaseUrl::parse(&url)?),
        };
        let credentials = self.credentials.ok_or(BuildError::MissingApiKey)?;
        let suffix = self.user_agent_suffix.as_deref();
        // The exchange checks the endpoint, the lifetime and the user agent now, not at
        // every request.
        let lifetime = self.token_lifetime;
        let exchange: Box<dyn TokenProvider> = match credentials {
            Credentials::ApiKey(api_key) => Box::new(
                ApiKeyProvider::new(self.transport, &environment, api_key)
                    .and_then(|exchange| exchange.with_lifetime(lifetime))
                    .and_then(|exchange| match suffix {
                        Some(suffix) => exchange.with_user_agent_suffix(suffix),
                        None => Ok(exchange),
                    })
                    .map_err(BuildError::from_auth)?,
            ),
            Credentials::Login(login) => Box::new(
                LoginProvider::new(self.transport, &environment, login)
                    .and_then(|exchange| exchange.with_lifetime(lifetime))
                    .and_then(|exchange| match suffix {
                        Some(suffix) => exchange.with_user_agent_suffix(suffix),
                        None => Ok(exchange),
                    })
                    .map_err(BuildError::from_auth)?,
            ),
        };
        let retrying: Box<dyn TokenProvider> =
            Box::new(RetryingProvider::new(exchange, self.retry_policy.clone()));
        let cache = CachedTokenProvider::with_config(retrying, self.cache_config);
        Ok(Tokens::from_parts(cache, environment, self.retry_policy))
    }
}

/// What is traded for tokens.
#[derive(Clone)]
enum Credentials {
    /// Set by [`TokensBuilder::api_key`].
    ApiKey(ApiKey),
    /// Set by [`TokensBuilder::login`].
    Login(LoginCredentials),
}

impl fmt::Debug for Credentials {
    /// The kind, and the login's email; never a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiKey(_) => f.write_str("ApiKey([redacted])"),
            Self::Login(login) => write!(f, "Login({:?}, [redacted])", login.email()),
        }
    }
}

/// Where tokens are asked for: the one place the builder keeps it.
#[derive(Clone)]
enum Target {
    /// Set by [`TokensBuilder::environment`], or the default.
    Environment(Environment),
    /// Set by [`TokensBuilder::endpoint`]; parsed at build. Only another endpoint replaces
    /// it.
    Endpoint(String),
}

impl fmt::Debug for Target {
    /// An endpoint as its validated base URL (which never holds credentials), or a
    /// placeholder.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment(environment) => environment.fmt(f),
            Self::Endpoint(url) => match BaseUrl::parse(url) {
                Ok(base) => write!(f, "Endpoint({base})"),
                Err(_) => f.write_str("Endpoint([invalid])"),
            },
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for TokensBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokensBuilder")
            .field("transport", &self.transport)
            .field("target", &self.target)
            .field("credentials", &self.credentials)
            .field("token_lifetime", &self.token_lifetime)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("retry_policy", &self.retry_policy)
            .field("cache_config", &self.cache_config)
            .finish()
    }
}

/// Why a [`Tokens`] handle could not be built.
///
/// Holds no secret: not the API key, not a URL's credentials. Messages are lowercase, say
/// what to do, and never repeat their source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The endpoint is not a valid base URL, or is plain `http` to a host that is not
    /// loopback ([`EndpointError::Insecure`]).
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// No credentials were given: neither an API key nor a login.
    #[error(
        "no API key: call TokensBuilder::api_key (or TokensBuilder::login with an account's email and password)"
    )]
    MissingApiKey,
    /// The token lifetime gives no expiration in the future (under a second, or absurdly
    /// long).
    #[error(
        "the token lifetime is not usable: ask for at least one second, and an expiry before the year 9999"
    )]
    InvalidTokenLifetime(#[source] ExpirationError),
    /// The user agent suffix cannot travel in an HTTP header.
    #[error("the user agent suffix has characters an HTTP header cannot carry: use visible ASCII")]
    InvalidUserAgent,
    /// The key exchange refused the configuration for another reason (its source says
    /// which).
    #[error("the key exchange refused this configuration: check the builder's settings")]
    Exchange(#[source] AuthError),
}

impl BuildError {
    /// Whether the error is that no credentials (API key or login) were given.
    pub fn is_missing_api_key(&self) -> bool {
        matches!(self, Self::MissingApiKey)
    }

    fn from_auth(error: AuthError) -> Self {
        match error {
            AuthError::Endpoint(e) => Self::Endpoint(e),
            AuthError::Expiration(e) => Self::InvalidTokenLifetime(e),
            AuthError::Request(RequestError::InvalidUserAgent) => Self::InvalidUserAgent,
            other => Self::Exchange(other),
        }
    }
}

#[cfg(test)]
mod tests;
