//! The transport seam: `http::Request` in, `http::Response` out.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use http::{Request, Response};

use crate::{Body, TransportError, TransportErrorKind};

/// The largest request body the default [`HttpTransport::send_streaming`] reads into memory
/// to hand it to [`HttpTransport::send`]: 64 MiB. A transport that streams has no such limit.
pub const MAX_BUFFERED_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Sends one HTTP request and returns its response.
///
/// This is all a transport has to do: the request is built, and the response read, by
/// `dstor-types` and the flows above, without I/O. `dstor-http` implements it over reqwest;
/// hyper, ureq or a test double is a few lines, and [`transport_fn`] turns a closure into
/// one. Only [`send`](HttpTransport::send) must be written: the default
/// [`send_streaming`](HttpTransport::send_streaming) buffers a streamed body (up to
/// [`MAX_BUFFERED_REQUEST_BYTES`]) and calls it, so a buffered transport carries uploads
/// too; a transport that can stream overrides it.
///
/// ```
/// use dstor_auth::http::{Request, Response};
/// use dstor_auth::{HttpTransport, TransportError};
///
/// #[derive(Debug)]
/// struct MyTransport;
///
/// #[dstor_auth::async_trait]
/// impl HttpTransport for MyTransport {
///     async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
///         // Hand `request` to your HTTP client here.
///         let _ = request;
///         Ok(Response::new(br#"{"access_token":"t"}"#.to_vec()))
///     }
/// }
/// # let _ = &MyTransport as &dyn HttpTransport;
/// ```
///
/// Write the impl with `#[dstor_auth::async_trait]`: a plain `async fn` in the impl does not
/// match the trait's boxed future (the compiler reports a lifetime mismatch, E0195).
///
/// # The contract
///
/// What the layers above rely on; [`dstor_mock::conformance`] checks every point a server
/// can observe against a loopback server.
///
/// - **No redirects.** A 3xx comes back as it is. A client that follows redirects may carry
///   the `api-key` or `Authorization` header (and the body) to whatever host the redirect
///   names.
/// - **Headers verbatim.** Every header of the request is sent as it is, sensitive ones
///   included, and no other credential is added. Response headers come back as received.
/// - **Bounded bodies.** `send` reads a bounded response body (dStor's answers to it are
///   small) and refuses a larger one with [`TransportErrorKind::BodyTooLarge`]; the body of
///   `send_streaming` is streamed, and its reader decides how much to read.
/// - **Timeouts.** A connect timeout, and a bound on the time spent waiting: a whole-request
///   deadline for `send`; for `send_streaming`, a deadline on any wait without progress, so a
///   large transfer is not cut off while bytes flow. A server that never answers ends in
///   [`TransportErrorKind::Timeout`].
/// - **Only the configured proxy, and none for loopback.** Many clients read `HTTP_PROXY`
///   and `HTTPS_PROXY` from the environment by default (ureq 3 does): on a loopback `http`
///   endpoint that would send the key, in clear text, to the proxy. Use a proxy only when the
///   user configures one, and never for a loopback host.
/// - **No secret in `Debug`**, in errors or in logs: header values, proxy credentials and
///   URLs (which may carry a query) stay out of them.
///
/// [`dstor_mock::conformance`]: https://docs.rs/dstor-mock/latest/dstor_mock/conformance/
#[cfg_attr(feature = "mockall", mockall::automock)]
#[async_trait]
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the whole response, body included.
    ///
    /// # Errors
    ///
    /// [`TransportError`] when no complete response was received.
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;

    /// Sends `request`, whose body may be a stream, and returns the response as soon as its
    /// head has arrived, with a body still to be read.
    ///
    /// The default reads the request body into memory, [`MAX_BUFFERED_REQUEST_BYTES`] at
    /// most, and calls [`send`](HttpTransport::send); its response body is then in memory.
    ///
    /// # Errors
    ///
    /// [`TransportError`] when no response head was received;
    /// [`TransportErrorKind::RequestBodyTooLarge`] from the default past its limit. Errors
    /// while the response body is read come from the body.
    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        let (parts, body) = request.into_parts();
        let bytes = body
            .collect(MAX_BUFFERED_REQUEST_BYTES)
            .await
            .map_err(|e| match e.kind() {
                TransportErrorKind::BodyTooLarge { limit } => {
                    TransportError::new(TransportErrorKind::RequestBodyTooLarge { limit })
                }
                _ => e,
            })?;
        let response = self
            .send(Request::from_parts(parts, Vec::from(bytes)))
            .await?;
        Ok(response.map(Body::from))
    }
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        (**self).send(request).await
    }

    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        (**self).send_streaming(request).await
    }
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        (**self).send(request).await
    }

    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        (**self).send_streaming(request).await
    }
}

/// A transport made of an async closure.
///
/// ```
/// use dstor_auth::{HttpTransport, transport_fn};
///
/// let transport = transport_fn(|request: http::Request<Vec<u8>>| async move {
///     assert_eq!(request.uri().path(), "/v1/dev/temp-token");
///     Ok(http::Response::new(br#"{"access_token":"t"}"#.to_vec()))
/// });
/// # let _ = &transport as &dyn HttpTransport;
/// ```
pub fn transport_fn<F, Fut>(f: F) -> FnTransport<F>
where
    F: Fn(Request<Vec<u8>>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send,
{
    FnTransport { f }
}

/// A transport made by [`transport_fn`]. It buffers streamed bodies: see
/// [`HttpTransport::send_streaming`].
pub struct FnTransport<F> {
    f: F,
}

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTransport").finish_non_exhaustive()
    }
}

#[async_trait]
impl<F, Fut> HttpTransport for FnTransport<F>
where
    F: Fn(Request<Vec<u8>>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send,
{
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        (self.f)(request).await
    }
}
