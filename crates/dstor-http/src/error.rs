//! Why a client could not be configured.

use std::error::Error as StdError;

use dstor_auth::BuildError;
use dstor_types::{ApiKeyError, EndpointError, ExpirationError, LoginError};

/// Why a [`crate::DstorClient`] or a [`crate::ReqwestTransport`] could not be built.
///
/// Nothing here holds a secret: not the API key, not the value of an environment variable,
/// not a proxy URL (which may carry credentials). Messages are lowercase, say what to do,
/// and never repeat their source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No API key was given, by `DSTOR_API_KEY` or by [`crate::DstorClientBuilder::api_key`],
    /// and no login either.
    #[error(
        "no API key: set DSTOR_API_KEY or call DstorClientBuilder::api_key (or log in: DSTOR_EMAIL and DSTOR_PASSWORD, or DstorClientBuilder::login)"
    )]
    MissingApiKey,
    /// One of `DSTOR_EMAIL` and `DSTOR_PASSWORD` is set without the other (and no
    /// `DSTOR_API_KEY`).
    #[error(
        "{missing} is not set: DSTOR_EMAIL and DSTOR_PASSWORD go together (or set DSTOR_API_KEY instead)"
    )]
    IncompleteLogin {
        /// The variable that is missing.
        missing: &'static str,
    },
    /// An environment variable holds a value that cannot be used. The message names the
    /// variable; neither it nor its source repeats the value.
    #[error("the environment variable {var} has an invalid value (not shown)")]
    InvalidEnvVar {
        /// The variable, such as `DSTOR_API_KEY`.
        var: &'static str,
        /// What is wrong with its value.
        #[source]
        source: EnvVarError,
    },
    /// The endpoint is not a valid base URL, or is plain `http` on a host that is not
    /// loopback, where the API key would travel in clear text
    /// ([`EndpointError::Insecure`]).
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The proxy URL could not be used. The URL is not repeated, since it may hold
    /// credentials.
    #[error(
        "the proxy URL is not valid (not shown, as it may hold credentials): use a URL such as http://proxy.example:3128"
    )]
    InvalidProxy,
    /// The user agent suffix cannot travel in an HTTP header.
    #[error("the user agent suffix has characters an HTTP header cannot carry: use visible ASCII")]
    InvalidUserAgent,
    /// The token lifetime gives no expiration in the future (under a second, or absurdly
    /// long).
    #[error(
        "the token lifetime is not usable: ask for at least one second, and an expiry before the year 9999"
    )]
    InvalidTokenLifetime(#[source] ExpirationError),
    /// The HTTP client could not be built (most often: TLS could not be set up). The source
    /// holds no URL.
    #[error("the HTTP client could not be built: check the TLS setup of this system")]
    Client(#[source] Box<dyn StdError + Send + Sync>),
    /// The token handle refused the configuration for another reason (its source says
    /// which).
    #[error("the token handle refused this configuration: check the builder's settings")]
    Tokens(#[source] BuildError),
}

impl ConfigError {
    /// Whether the error is that no API key was given.
    pub fn is_missing_api_key(&self) -> bool {
        matches!(self, Self::MissingApiKey)
    }

    /// The environment variable at fault, if the error came from one.
    pub fn env_var(&self) -> Option<&'static str> {
        match self {
            Self::InvalidEnvVar { var, .. } => Some(var),
            _ => None,
        }
    }

    /// The token handle's error in this crate's terms, with this crate's hints.
    pub(crate) fn from_build(error: BuildError) -> Self {
        match error {
            BuildError::MissingApiKey => Self::MissingApiKey,
            BuildError::Endpoint(e) => Self::Endpoint(e),
            BuildError::InvalidTokenLifetime(e) => Self::InvalidTokenLifetime(e),
            BuildError::InvalidUserAgent => Self::InvalidUserAgent,
            other => Self::Tokens(other),
        }
    }
}

/// What is wrong with the value of an environment variable. Never holds the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvVarError {
    /// `DSTOR_API_KEY` is not a valid API key.
    #[error(transparent)]
    ApiKey(#[from] ApiKeyError),
    /// `DSTOR_EMAIL` is not an email address, or `DSTOR_PASSWORD` is empty.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// `DSTOR_ENV` names no known environment.
    #[error("expected \"testnet\" or \"production\"")]
    UnknownEnvironment,
    /// `DSTOR_ENDPOINT` is not a usable base URL.
    #[error("not a usable base URL: {reason}")]
    InvalidEndpoint {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The value is not valid Unicode.
    #[error("the value is not valid unicode")]
    NotUnicode,
}

impl EnvVarError {
    /// Keeps the reason of an endpoint error and drops the value it quotes.
    pub(crate) fn from_endpoint(error: &EndpointError) -> Self {
        match error {
            EndpointError::InvalidUrl { reason, .. } => Self::InvalidEndpoint { reason },
            _ => Self::InvalidEndpoint {
                reason: "use a base URL such as https://api.dstor.cloud",
            },
        }
    }
}
