//! The error every provider returns.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dstor_types::{ApiError, EndpointError, ExpirationError, RequestError};

/// Why no access token could be had.
///
/// `Clone`, so that the one result of a shared refresh reaches every caller waiting on it.
/// Messages are lowercase, never repeat their source, never hold the API key or a token,
/// and name what the user can do.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// dStor answered, and not with a token.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request did not complete: connection, timeout, or an oversize answer.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The request could not be built.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The configured token lifetime gives no expiration in the future.
    #[error(transparent)]
    Expiration(#[from] ExpirationError),
    /// The endpoint may not carry the API key: plain `http` on a host that is not
    /// loopback ([`EndpointError::Insecure`]).
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The service handed out a token that had already expired (or expired on the way).
    #[error(
        "dStor returned an access token that had already expired: check the system clock and the requested token lifetime"
    )]
    ExpiredToken,
    /// The refresh was stopped before it finished: its provider was dropped, or its task
    /// died (the runtime shut down, or the provider panicked).
    #[error("the token refresh was cancelled before it finished: try again")]
    Cancelled,
    /// A refresh was due outside a Tokio runtime, which the cache needs to run it.
    #[error(
        "the token cache needs a Tokio runtime (with time enabled) to fetch a token: call it from within one"
    )]
    NoRuntime,
    /// A custom token source failed.
    #[error("the token source failed: {message}")]
    Provider {
        /// What went wrong, in the source's words (never a secret).
        message: String,
        /// Whether trying again may succeed.
        retryable: bool,
        /// The underlying error, if any.
        #[source]
        source: Option<Arc<dyn StdError + Send + Sync>>,
    },
}

impl AuthError {
    /// An error from a custom token source. `message` must not hold a secret.
    pub fn provider(message: impl Into<String>, retryable: bool) -> Self {
        Self::Provider {
            message: message.into(),
            retryable,
            source: None,
        }
    }

    /// An error from a custom token source, keeping `source` as its cause. Neither may
    /// display a secret.
    pub fn provider_with_source(
        message: impl Into<String>,
        retryable: bool,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self::Provider {
            message: message.into(),
            retryable,
            source: Some(Arc::from(source.into())),
        }
    }

    /// Whether trying again later may succeed: connection errors, timeouts, 408, 429, 500,
    /// 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(e) => e.is_retryable(),
            Self::Transport(e) => e.is_retryable(),
            Self::Provider { retryable, .. } => *retryable,
            Self::Cancelled => true,
            Self::Request(_)
            | Self::Expiration(_)
            | Self::Endpoint(_)
            | Self::ExpiredToken
            | Self::NoRuntime => false,
        }
    }

    /// Whether the same request will fail again until the configuration changes (400, 401,
    /// 403, 404, a redirect, or a configuration error). A cache keeps such an error for a few
    /// seconds instead of asking again.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Api(e) => e.is_permanent(),
            Self::Request(_) | Self::Expiration(_) | Self::Endpoint(_) => true,
            _ => false,
        }
    }

    /// Whether dStor rejected the API key (401 or 403).
    pub fn is_key_rejected(&self) -> bool {
        matches!(self, Self::Api(e) if e.is_key_rejected())
    }

    /// Whether dStor rejected the email or password of login credentials (401 or 403).
    pub fn is_credentials_rejected(&self) -> bool {
        matches!(self, Self::Api(e) if e.is_credentials_rejected())
    }

    /// How long the server asked the client to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// A request that did not complete. Built by transports; its source must already be free
/// of URLs with secrets and of header values (for reqwest, `Error::without_url`).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{kind}")]
pub struct TransportError {
    kind: TransportErrorKind,
    #[source]
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// A transport error of `kind`, with no underlying cause.
    pub fn new(kind: TransportErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// A transport error of `kind` caused by `source`.
    pub fn with_source(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: Some(Arc::from(source.into())),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether trying again may succeed: connection failures, timeouts, broken connections,
    /// and a token that could not be had for a passing reason; not an oversize body, a body
    /// that could not be read, a refused request or an error of no known class.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            TransportErrorKind::Connect
            | TransportErrorKind::Timeout
            | TransportErrorKind::Connection => true,
            TransportErrorKind::NoToken { retryable } => retryable,
            TransportErrorKind::BodyTooLarge { .. }
            | TransportErrorKind::RequestBodyTooLarge { .. }
            | TransportErrorKind::Body
            | TransportErrorKind::TokenRejected
            | TransportErrorKind::ForeignOrigin
            | TransportErrorKind::Other => false,
        }
    }

    /// The [`AuthError`] that kept a token from the request
    /// ([`TransportErrorKind::NoToken`]), if that is the cause.
    pub fn auth_error(&self) -> Option<&AuthError> {
        self.source.as_deref()?.downcast_ref::<AuthError>()
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }
}

/// The kinds of [`TransportError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (DNS, TCP or TLS).
    Connect,
    /// The request or the reading of the answer took longer than allowed.
    Timeout,
    /// The answer was larger than the limit and was not read.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The connection failed while the request was under way.
    Connection,
    /// The request body was larger than the limit of a transport that buffers it, and was
    /// not sent.
    RequestBodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The request body could not be read from its source (a file, a stream), or did not
    /// have the length it declared.
    Body,
    /// No access token could be had for the request; the [`AuthError`] is the source
    /// ([`TransportError::auth_error`]).
    NoToken {
        /// Whether trying again may succeed, as [`AuthError::is_retryable`] says.
        retryable: bool,
    },
    /// dStor answered 401 to the request twice, the second time with a freshly fetched token.
    TokenRejected,
    /// The request was for another origin (scheme, host or port) than the dStor endpoint
    /// the token belongs to, and was not sent.
    ForeignOrigin,
    /// A failure that fits no other kind. Not retryable.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str(
                "could not connect to dStor: check the network, the endpoint and any proxy",
            ),
            Self::Timeout => f.write_str(
                "the request to dStor timed out: check the network, or raise the timeout",
            ),
            Self::BodyTooLarge { limit } => write!(
                f,
                "dStor's answer was larger than {limit} bytes and was not read: check the endpoint"
            ),
            Self::Connection => {
                f.write_str("the connection to dStor failed during the request: retry later")
            }
            Self::RequestBodyTooLarge { limit } => write!(
                f,
                "the request body was larger than the {limit} bytes this transport buffers and was not sent: use a transport that streams bodies"
            ),
            Self::Body => f.write_str(
                "the request body could not be read from its source: check the file or stream it comes from",
            ),
            Self::NoToken { .. } => {
                f.write_str("no access token could be had for the request to dStor")
            }
            Self::TokenRejected => f.write_str(
                "dStor rejected the access token twice, a freshly fetched one included: check that the API key may use this endpoint",
            ),
            Self::ForeignOrigin => f.write_str(
                "refusing to send the access token to an origin other than the configured dStor endpoint: send requests for other hosts without it",
            ),
            Self::Other => f.write_str("the request to dStor failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_and_permanent_follow_the_cause() {
        let api = |status: u16| {
            AuthError::from(ApiError::Server {
                status,
                retry_after: Some(Duration::from_secs(3)),
                message: None,
            })
        };
        assert!(api(503).is_retryable());
        assert_eq!(api(503).retry_after(), Some(Duration::from_secs(3)));
        assert!(!api(501).is_retryable());
        let rejected = AuthError::from(ApiError::KeyRejected {
            status: 401,
            message: None,
        });
        assert!(rejected.is_permanent() && rejected.is_key_rejected());
        assert!(!rejected.is_retryable());
        assert!(AuthError::from(TransportError::new(TransportErrorKind::Timeout)).is_retryable());
        assert!(
            !AuthError::from(TransportError::new(TransportErrorKind::BodyTooLarge {
                limit: 10
            }))
            .is_retryable()
        );
        assert!(AuthError::provider("x", true).is_retryable());
    }

    #[test]
    fn messages_do_not_repeat_their_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = AuthError::from(TransportError::with_source(TransportErrorKind::Connect, io));
        assert!(!err.to_string().contains("refused"), "{err}");
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("refused")
        );
    }
}
