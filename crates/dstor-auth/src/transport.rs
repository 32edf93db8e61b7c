//! The transport seam: `http::Request` in, `http::Response` out.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use http::{Request, Response};

use crate::TransportError;

/// Sends one HTTP request and returns the whole response, body included.
///
/// This is all a transport has to do: the request is built, and the response read, by
/// `dstor-types`, without I/O. `dstor-http` implements it over reqwest; hyper, ureq or a
/// test double is a few lines, and [`transport_fn`] turns a closure into one.
///
/// A transport must not follow redirects (a redirect could carry the `api-key` header to
/// another host): it hands a 3xx back as it is. It should bound the size of the body it
/// reads and the time it waits.
#[async_trait]
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Sends `request`.
    ///
    /// # Errors
    ///
    /// [`TransportError`] when no complete response was received.
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        (**self).send(request).await
    }
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        (**self).send(request).await
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

/// A transport made by [`transport_fn`].
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
