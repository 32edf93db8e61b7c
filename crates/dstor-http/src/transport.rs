//! The reqwest transport.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use dstor_auth::{HttpTransport, TransportError, TransportErrorKind};
use http::{Request, Response};
use reqwest::redirect;

use crate::ConfigError;

/// The default time allowed to connect (DNS, TCP and TLS): 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time allowed for a whole request, the body included: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default largest response body read: 64 KiB, far above any token response.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The hosts never reached through the proxy: loopback, where plain `http` is allowed. A
/// proxy would receive such a request, `api-key` header included, in clear text.
const LOOPBACK_HOSTS: &str = "localhost,127.0.0.0/8,::1";

/// The most reserved up front for a body, whatever its declared length.
const INITIAL_CAPACITY_CAP: usize = 64 * 1024;

/// An [`HttpTransport`] over a [`reqwest::Client`] that this crate configures itself.
///
/// The client is never one passed in, since a client brings its own redirect policy:
///
/// - **No redirects.** A 3xx comes back as it is (and `dstor-types` reports it as
///   [`dstor_types::ApiError::Redirect`]); reqwest would otherwise forward the `api-key`
///   header to whatever host the redirect names. No `Referer` is sent.
/// - **Timeouts.** `connect_timeout` covers DNS, TCP and TLS; `timeout` the whole request,
///   the body included.
/// - **A bounded body.** At most `max_body_bytes` are read: a larger `Content-Length` is
///   refused before reading, and a body that grows past the limit (or never ends) is
///   abandoned as soon as it does. Either is [`TransportErrorKind::BodyTooLarge`].
/// - **No hidden retries.** reqwest's own retry is off: retries are
///   [`dstor_auth::RetryingProvider`]'s, with backoff and `Retry-After`.
/// - **Only the proxy you give.** With `user_proxy` every request goes through it
///   ([`reqwest::Proxy::all`]) except those to a loopback host (`localhost`, `127.0.0.0/8`,
///   `::1`), which go direct: they may be plain `http`, and a proxy would see the `api-key`
///   header in clear text. Without it no proxy is used, whatever the environment says.
/// - **No secret in errors.** reqwest errors enter [`TransportError`] without their URL;
///   connection logging is never enabled; responses are never `Debug`-printed.
///
/// Plain `http` is not refused here (the fake server of the tests speaks it): the refusal of
/// plain `http` to a host that is not loopback lives in [`dstor_auth::ApiKeyProvider`] and
/// in [`crate::DstorClientBuilder::build`].
///
/// Cloning is cheap: the connection pool is shared.
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    connect_timeout: Duration,
    timeout: Duration,
    max_body_bytes: usize,
    proxied: bool,
}

impl ReqwestTransport {
    /// A transport with these limits, through `user_proxy` if given (a URL such as
    /// `http://user:password@proxy.example:3128`). Needs no Tokio runtime.
    ///
    /// The defaults used by [`crate::DstorClient`] are [`DEFAULT_CONNECT_TIMEOUT`],
    /// [`DEFAULT_TIMEOUT`] and [`DEFAULT_MAX_BODY_BYTES`].
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidProxy`] for a proxy URL reqwest refuses (the URL is not
    /// repeated), [`ConfigError::Client`] when the client cannot be built.
    pub fn new(
        connect_timeout: Duration,
        timeout: Duration,
        max_body_bytes: usize,
        user_proxy: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .referer(false)
            .https_only(false)
            .retry(reqwest::retry::never())
            .connect_timeout(connect_timeout)
            .timeout(timeout);
        builder = match user_proxy {
            Some(url) => {
                let proxy = reqwest::Proxy::all(url.trim())
                    .map_err(|_| ConfigError::InvalidProxy)?
                    .no_proxy(reqwest::NoProxy::from_string(LOOPBACK_HOSTS));
                builder.proxy(proxy)
            }
            None => builder.no_proxy(),
        };
        let client = builder
            .build()
            .map_err(|e| ConfigError::Client(Box::new(e.without_url())))?;
        Ok(Self {
            client,
            connect_timeout,
            timeout,
            max_body_bytes,
            proxied: user_proxy.is_some(),
        })
    }

    /// A transport with the default limits and no proxy.
    ///
    /// # Errors
    ///
    /// As [`ReqwestTransport::new`].
    pub fn with_defaults() -> Result<Self, ConfigError> {
        Self::new(
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_TIMEOUT,
            DEFAULT_MAX_BODY_BYTES,
            None,
        )
    }

    /// The largest response body read, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The time allowed to connect.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The time allowed for a whole request, the body included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether requests go through a proxy.
    pub fn is_proxied(&self) -> bool {
        self.proxied
    }

    /// Reads the body, `max_body_bytes` at most: a larger declared `Content-Length` is
    /// refused before a byte is read, and the chunk loop stops as soon as the count passes
    /// the limit, so memory stays bounded whatever the server sends.
    async fn read_body(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, TransportError> {
        let limit = self.max_body_bytes;
        let too_large = || TransportError::new(TransportErrorKind::BodyTooLarge { limit });
        let declared = response.content_length();
        if declared.is_some_and(|len| len > u64::try_from(limit).unwrap_or(u64::MAX)) {
            return Err(too_large());
        }
        // The declared length is the server's word: reserve no more than a token response
        // needs, whatever it says and however high the limit is set.
        let capacity = declared
            .and_then(|len| usize::try_from(len).ok())
            .unwrap_or(0)
            .min(limit)
            .min(INITIAL_CAPACITY_CAP);
        let mut body = Vec::with_capacity(capacity);
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            // `body.len() <= limit` holds at every step, so this cannot underflow.
            if chunk.len() > limit - body.len() {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(transport_error)?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(transport_error)?;
        let mut answer = Response::new(Vec::new());
        *answer.status_mut() = response.status();
        *answer.version_mut() = response.version();
        *answer.headers_mut() = std::mem::take(response.headers_mut());
        let body = self.read_body(&mut response).await;
        if let Err(e) = &body {
            tracing::debug!(status = answer.status().as_u16(), error = %e, "response body not read");
        }
        *answer.body_mut() = body?;
        Ok(answer)
    }
}

/// Classifies a reqwest error and strips its URL.
fn transport_error(error: reqwest::Error) -> TransportError {
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Connection
    };
    TransportError::with_source(kind, error.without_url())
}

impl fmt::Debug for ReqwestTransport {
    /// Leaves out the client, whose `Debug` would print the proxy URL and its credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("proxied", &self.proxied)
            .finish_non_exhaustive()
    }
}
