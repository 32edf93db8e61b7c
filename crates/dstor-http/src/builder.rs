//! Configuring a [`DstorClient`].

use std::cell::Cell;
use std::fmt;
use std::time::Duration;

use dstor_auth::{CacheConfig, RetryPolicy, TokenLifetime, TokensBuilder};
use dstor_types::secrecy::SecretString;
use dstor_types::{ApiKey, BaseUrl, Environment, LoginCredentials};

use crate::error::EnvVarError;
use crate::transport::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT};
use crate::{ConfigError, DstorClient, ReqwestTransport};

/// The variable that holds the API key.
pub const ENV_API_KEY: &str = "DSTOR_API_KEY";
/// The variable that holds an account's email, for logging in without an API key.
pub const ENV_EMAIL: &str = "DSTOR_EMAIL";
/// The variable that holds the password that goes with [`ENV_EMAIL`].
pub const ENV_PASSWORD: &str = "DSTOR_PASSWORD";
/// The variable that names the environment: `testnet` or `production`.
pub const ENV_ENVIRONMENT: &str = "DSTOR_ENV";
/// The variable that holds a base URL, overriding [`ENV_ENVIRONMENT`].
pub const ENV_ENDPOINT: &str = "DSTOR_ENDPOINT";

/// Configures a [`DstorClient`]: where to ask, with which key, how patiently.
///
/// Every setting has a default except the credentials: an API key, or an account's
/// [`login`](Self::login). Nothing is validated until
/// [`DstorClientBuilder::build`], which needs no Tokio runtime. `Debug` never shows the key
/// or the proxy URL.
///
/// # Where tokens are asked for
///
/// One rule, kept in one place: an [`endpoint`](Self::endpoint) wins over everything else,
/// whichever is set first. Otherwise the last setting wins, and
/// [`from_env_vars`](Self::from_env_vars) counts as a call to
/// [`environment`](Self::environment) at that point with what the variables say
/// (`DSTOR_ENDPOINT` over `DSTOR_ENV`; unset or empty variables change nothing). With none
/// of these, production.
///
/// ```
/// use std::time::Duration;
/// use dstor_http::{ApiKey, DstorClient, Environment, RetryPolicy};
///
/// let client = DstorClient::builder()
///     .environment(Environment::Testnet)
///     .api_key(ApiKey::new("k".repeat(64))?)
///     .timeout(Duration::from_secs(10))
///     .retry_policy(RetryPolicy::default().with_max_attempts(3))
///     .user_agent_suffix("my-app/1.0")
///     .build()?;
/// assert_eq!(client.environment(), &Environment::Testnet);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DstorClientBuilder {
    /// Every setting of the token stack, the endpoint included; the transport comes at
    /// build.
    tokens: TokensBuilder<()>,
    connect_timeout: Duration,
    timeout: Duration,
    proxy: Option<SecretString>,
    max_body_bytes: usize,
}

impl Default for DstorClientBuilder {
    fn default() -> Self {
        Self {
            tokens: TokensBuilder::new(()),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            proxy: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl DstorClientBuilder {
    /// A builder with every default: production, one-hour tokens, 10 s to connect, 30 s
    /// per request, 64 KiB bodies, [`RetryPolicy::default`], [`CacheConfig::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The dStor deployment to use (default: production). An
    /// [`endpoint`](Self::endpoint) overrides it, whichever is set first.
    #[must_use]
    pub fn environment(mut self, env: Environment) -> Self {
        self.tokens = self.tokens.environment(env);
        self
    }

    /// A base URL to use instead of the environment, such as a proxy in front of dStor or a
    /// fake server. Parsed and validated in [`build`](Self::build): plain `http` is
    /// accepted only for loopback hosts.
    #[must_use]
    pub fn endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.tokens = self.tokens.endpoint(base_url);
        self
    }

    /// The API key (required, unless `DSTOR_API_KEY` is read by [`from_env`](Self::from_env)
    /// or [`login`](Self::login) is used instead; the last of the two wins).
    #[must_use]
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.tokens = self.tokens.api_key(key);
        self
    }

    /// Logs in with an account's email and password instead of an API key
    /// (`POST /v1/dev/temp-token`), with the same retries and cache. The last of
    /// [`api_key`](Self::api_key) and this call wins.
    ///
    /// ```
    /// use dstor_http::{DstorClient, LoginCredentials};
    /// use dstor_http::secrecy::SecretString;
    ///
    /// let login = LoginCredentials::new("dev@example.com", SecretString::from("hunter2"))?;
    /// let client = DstorClient::builder().login(login).build()?;
    /// # let _ = client;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn login(mut self, credentials: LoginCredentials) -> Self {
        self.tokens = self.tokens.login(credentials);
        self
    }

    /// The lifetime asked for each token (default: one hour).
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: TokenLifetime) -> Self {
        self.tokens = self.tokens.token_lifetime(lifetime);
        self
    }

    /// The time allowed to connect: DNS, TCP and TLS (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The time allowed for one whole request, the body included (default 30 s). The retry
    /// policy's deadline bounds all attempts together.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Text appended to the user agent, as in `dstor-rs/0.1.0 my-app/2.0`.
    #[must_use]
    pub fn user_agent_suffix(mut self, s: impl Into<String>) -> Self {
        self.tokens = self.tokens.user_agent_suffix(s);
        self
    }

    /// Sends every request through this proxy ([`reqwest::Proxy::all`]), such as
    /// `http://user:password@proxy.example:3128`, except to a loopback endpoint, which is
    /// reached directly (it may be plain `http`, which a proxy would read in clear text).
    /// Without one, no proxy is used. The URL is held as a secret and never appears in
    /// `Debug` or in errors.
    #[must_use]
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(SecretString::from(url.into()));
        self
    }

    /// How failed token requests are retried (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.tokens = self.tokens.retry_policy(p);
        self
    }

    /// When cached tokens are refreshed (default [`CacheConfig::default`]).
    #[must_use]
    pub fn cache_config(mut self, c: CacheConfig) -> Self {
        self.tokens = self.tokens.cache_config(c);
        self
    }

    /// The largest response body read, in bytes (default 64 KiB).
    #[must_use]
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Applies the process environment: see [`from_env_vars`](Self::from_env_vars).
    ///
    /// # Errors
    ///
    /// As [`from_env_vars`](Self::from_env_vars); also [`EnvVarError::NotUnicode`] for a
    /// value that is not valid Unicode.
    pub fn from_env(self) -> Result<Self, ConfigError> {
        let not_unicode = Cell::new(None);
        let builder = self.from_env_vars(|name| match std::env::var(name) {
            Ok(value) => Some(value),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                if not_unicode.get().is_none() {
                    not_unicode.set(static_name(name));
                }
                None
            }
        });
        match not_unicode.get() {
            Some(var) => Err(ConfigError::InvalidEnvVar {
                var,
                source: EnvVarError::NotUnicode,
            }),
            None => builder,
        }
    }

    /// Applies what the variables say, as looked up by `get`:
    ///
    /// - `DSTOR_API_KEY`: the API key. When unset, the key set before (if any) stays;
    ///   [`build`](Self::build) fails with [`ConfigError::MissingApiKey`] if there is none.
    /// - `DSTOR_EMAIL` and `DSTOR_PASSWORD`: an account's login, used only when
    ///   `DSTOR_API_KEY` is unset (the key wins; both login variables are then ignored). One
    ///   without the other is [`ConfigError::IncompleteLogin`]; an empty `DSTOR_EMAIL`
    ///   counts as unset.
    /// - `DSTOR_ENV`: `testnet` or `production` (also `prod`, `test`, `testing`). When
    ///   unset, the environment set before stays (by default production).
    /// - `DSTOR_ENDPOINT`: a base URL, which overrides `DSTOR_ENV`.
    ///
    /// An empty `DSTOR_ENV` or `DSTOR_ENDPOINT` counts as unset. What the variables say
    /// counts as a call to [`environment`](Self::environment) made now (see [where tokens
    /// are asked for](Self#where-tokens-are-asked-for)): call this first, then override with
    /// explicit settings (command-line flags, say); an [`endpoint`](Self::endpoint) wins
    /// over the variables whenever it is set.
    ///
    /// ```
    /// use dstor_http::{DstorClientBuilder, Environment};
    ///
    /// let key = "k".repeat(64);
    /// let vars = |name: &str| match name {
    ///     "DSTOR_API_KEY" => Some(key.clone()),
    ///     "DSTOR_ENV" => Some("testnet".to_owned()),
    ///     _ => None,
    /// };
    /// let client = DstorClientBuilder::new().from_env_vars(vars)?.build()?;
    /// assert_eq!(client.environment(), &Environment::Testnet);
    /// # Ok::<(), dstor_http::ConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidEnvVar`], naming the variable but never its value.
    pub fn from_env_vars(
        mut self,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let invalid =
            |var: &'static str, source: EnvVarError| ConfigError::InvalidEnvVar { var, source };
        if let Some(key) = get(ENV_API_KEY) {
            let key = ApiKey::from_secret(SecretString::from(key))
                .map_err(|e| invalid(ENV_API_KEY, e.into()))?;
            self = self.api_key(key);
        } else if let Some(login) = login_from(&get)? {
            self = self.login(login);
        }
        if let Some(name) = get(ENV_ENVIRONMENT).filter(|v| !v.trim().is_empty()) {
            let environment = Environment::from_name(&name)
                .ok_or_else(|| invalid(ENV_ENVIRONMENT, EnvVarError::UnknownEnvironment))?;
            self = self.environment(environment);
        }
        if let Some(url) = get(ENV_ENDPOINT).filter(|v| !v.trim().is_empty()) {
            let base = BaseUrl::parse(&url)
                .map_err(|e| invalid(ENV_ENDPOINT, EnvVarError::from_endpoint(&e)))?;
            self = self.environment(Environment::Custom(base));
        }
        Ok(self)
    }

    /// Builds the client: the transport, then the token handle over it
    /// ([`dstor_auth::Tokens`]: the key exchange, retried and cached). Needs no Tokio
    /// runtime and does no I/O.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingApiKey`], [`ConfigError::Endpoint`] for an endpoint that is not
    /// a base URL or is plain `http` to a host that is not loopback,
    /// [`ConfigError::InvalidProxy`], [`ConfigError::InvalidUserAgent`],
    /// [`ConfigError::InvalidTokenLifetime`], [`ConfigError::Client`].
    pub fn build(self) -> Result<DstorClient, ConfigError> {
        let mut transport = ReqwestTransport::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .max_body_bytes(self.max_body_bytes);
        if let Some(proxy) = &self.proxy {
            use dstor_types::secrecy::ExposeSecret as _;
            transport = transport.proxy(proxy.expose_secret());
        }
        let transport = transport.build()?;
        let tokens = self
            .tokens
            .transport(transport.clone())
            .build()
            .map_err(ConfigError::from_build)?;
        Ok(DstorClient::from_parts(tokens, transport))
    }
}

/// The login of `DSTOR_EMAIL` and `DSTOR_PASSWORD`, if either is set.
fn login_from(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<LoginCredentials>, ConfigError> {
    let email = get(ENV_EMAIL).filter(|v| !v.trim().is_empty());
    let password = get(ENV_PASSWORD);
    let (email, password) = match (email, password) {
        (None, None) => return Ok(None),
        (Some(email), Some(password)) => (email, password),
        (Some(_), None) => {
            return Err(ConfigError::IncompleteLogin {
                missing: ENV_PASSWORD,
            });
        }
        (None, Some(_)) => return Err(ConfigError::IncompleteLogin { missing: ENV_EMAIL }),
    };
    LoginCredentials::new(&email, SecretString::from(password))
        .map(Some)
        .map_err(|e| {
            let var = if matches!(e, dstor_types::LoginError::EmptyPassword) {
                ENV_PASSWORD
            } else {
                ENV_EMAIL
            };
            ConfigError::InvalidEnvVar {
                var,
                source: EnvVarError::Login(e),
            }
        })
}

/// The `'static` name of one of the variables read.
fn static_name(name: &str) -> Option<&'static str> {
    [
        ENV_API_KEY,
        ENV_EMAIL,
        ENV_PASSWORD,
        ENV_ENVIRONMENT,
        ENV_ENDPOINT,
    ]
    .into_iter()
    .find(|known| *known == name)
}

impl fmt::Debug for DstorClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DstorClientBuilder")
            .field("tokens", &self.tokens)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("proxy", &self.proxy.as_ref().map(|_| "[redacted]"))
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests;
