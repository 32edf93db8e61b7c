//! The reqwest transport.

mod builder;
mod idle;

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use dstor_auth::{Body, HttpTransport, TransportError, TransportErrorKind};
use http::{Request, Response};

pub use builder::ReqwestTransportBuilder;

/// The default time allowed to connect (DNS, TCP and TLS): 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time allowed for a whole buffered request, the body included: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default longest wait without progress on a streamed request: 30 seconds.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default largest response body read by `send`: 64 KiB, far above any token response.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The most reserved up front for a body, whatever its declared length.
const INITIAL_CAPACITY_CAP: usize = 64 * 1024;

/// An [`HttpTransport`] over a [`reqwest::Client`] that this crate configures itself.
/// Build one with [`ReqwestTransport::builder`].
///
/// The client is never one passed in, since a client brings its own redirect policy:
///
/// - **No redirects.** A 3xx comes back as it is (and `dstor-types` reports it as
///   [`dstor_types::ApiError::Redirect`]); reqwest would otherwise forward the `api-key`
///   header to whatever host the redirect names. No `Referer` is sent.
/// - **Timeouts.** `connect_timeout` covers DNS, TCP and TLS. A buffered
///   [`send`](HttpTransport::send) has a whole-request deadline, `timeout`, the body
///   included. A [`send_streaming`](HttpTransport::send_streaming) has none, so a large
///   upload or download is not cut off while it makes progress: instead it fails with
///   [`TransportErrorKind::Timeout`] once `idle_timeout` passes without a byte of the request
///   body taken by the connection (or, once it is sent, without the response head), and each
///   read of the response body waits at most `idle_timeout` for its next chunk.
/// - **A bounded body for `send`.** At most `max_body_bytes` are read: a larger
///   `Content-Length` is refused before reading, and a body that grows past the limit (or
///   never ends) is abandoned as soon as it does. Either is
///   [`TransportErrorKind::BodyTooLarge`]. `send_streaming` streams both bodies: the request
///   body as it is produced (with `Content-Length` when its length is known), the response
///   body as the caller reads it; nothing is buffered whole.
/// - **No hidden retries.** reqwest's own retry is off: retries belong to the layers above,
///   which know whether a request may be repeated.
/// - **Only the proxy you give.** With [`ReqwestTransportBuilder::proxy`] every request goes
///   through it ([`reqwest::Proxy::all`]) except those to a loopback host (`localhost`,
///   `127.0.0.0/8`, `::1`), which go direct: they may be plain `http`, and a proxy would see
///   the credentials in clear text. Without it no proxy is used, whatever the environment
///   says (`HTTP_PROXY` and the like are ignored).
/// - **No secret in errors.** reqwest errors enter [`TransportError`] without their URL;
///   connection logging is never enabled; responses are never `Debug`-printed.
///
/// Plain `http` is not refused here (the fake server of the tests speaks it): the refusal of
/// plain `http` to a host that is not loopback lives in [`dstor_types::BaseUrl`], which the
/// layers above check.
///
/// Cloning is cheap: the connection pool is shared.
///
/// ```
/// use std::time::Duration;
/// use dstor_http::ReqwestTransport;
///
/// let transport = ReqwestTransport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .idle_timeout(Duration::from_secs(60))
///     .build()?;
/// assert_eq!(transport.idle_timeout(), Duration::from_secs(60));
/// assert!(!transport.is_proxied());
/// # Ok::<(), dstor_http::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    connect_timeout: Duration,
    timeout: Duration,
    idle_timeout: Duration,
    max_body_bytes: usize,
    proxied: bool,
}

impl ReqwestTransport {
    /// A builder with every default: [`DEFAULT_CONNECT_TIMEOUT`], [`DEFAULT_TIMEOUT`],
    /// [`DEFAULT_IDLE_TIMEOUT`], [`DEFAULT_MAX_BODY_BYTES`] and no proxy.
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// A transport with the default limits and no proxy. Needs no Tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`ReqwestTransportBuilder::build`].
    pub fn with_defaults() -> Result<Self, crate::ConfigError> {
        Self::builder().build()
    }

    /// The largest response body read by `send`, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The time allowed to connect.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The time allowed for a whole buffered request, the body included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The longest wait without progress on a streamed request.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
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
        let mut request = reqwest::Request::try_from(request).map_err(transport_error)?;
        *request.timeout_mut() = Some(self.timeout);
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

    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        let progress = idle::Progress::new();
        let request = request.map(|body| reqwest::Body::wrap(progress.track(body)));
        let request = reqwest::Request::try_from(request).map_err(transport_error)?;
        let response = progress
            .deadline(self.idle_timeout, self.client.execute(request))
            .await?
            .map_err(transport_error)?;
        let response = Response::<reqwest::Body>::from(response);
        Ok(response.map(|body| Body::wrap(idle::IdleBody::new(body, self.idle_timeout))))
    }
}

/// Classifies a reqwest error and strips its URL. A [`TransportError`] raised by the
/// request body (its source failed) comes back as it is.
fn transport_error(error: reqwest::Error) -> TransportError {
    let mut cause = error.source();
    while let Some(inner) = cause {
        if let Some(ours) = inner.downcast_ref::<TransportError>() {
            return ours.clone();
        }
        cause = inner.source();
    }
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if error.is_builder() {
        TransportErrorKind::Other
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
            .field("idle_timeout", &self.idle_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("proxied", &self.proxied)
            .finish_non_exhaustive()
    }
}
