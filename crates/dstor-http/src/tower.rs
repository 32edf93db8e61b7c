//! Requests authorized with the access token, in a `tower` stack.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use ::tower::{Layer, Service};
use async_trait::async_trait;
use bytes::Bytes;
use dstor_auth::{AuthError, AuthorizedTransport, Body, HttpTransport, TokenProvider};
use dstor_auth::{TransportError, TransportErrorKind};
use dstor_types::BaseUrl;
use http::{Request, Response};

use crate::DstorClient;

/// What the errors of the service below may be.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A [`tower::Layer`] that authorizes each request with an access token,
/// under the rules of [`AuthorizedTransport`]: `Authorization: Bearer <token>` (marked
/// sensitive), one re-authorization after a 401 (if the body can be sent again: see
/// [`Body::try_clone`]), a second 401 an error of kind
/// [`TransportErrorKind::TokenRejected`], and no request at all to another origin than the
/// base URL's ([`TransportErrorKind::ForeignOrigin`]).
///
/// The service below takes `http::Request<`[`Body`]`>` (a body hyper and other clients
/// accept) and answers any `http::Response` whose body yields [`Bytes`]; the layered
/// service takes a request with any body that converts into [`Body`] and answers
/// `http::Response<Body>`, or a [`TransportError`]. An error of the service below is the
/// source of a [`TransportErrorKind::Other`]. It is ready whenever asked: each call waits
/// for the readiness of its own clone of the service below.
///
/// ```
/// use dstor_http::tower::AuthorizedLayer;
/// use dstor_http::{ApiKey, Body, DstorClient};
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use tower::{ServiceBuilder, ServiceExt as _};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = dstor_mock::FakeDstor::start().await?;
/// let dstor = DstorClient::builder()
///     .endpoint(server.base_url())
///     .api_key(ApiKey::new(server.api_key())?)
///     .build()?;
/// let service = ServiceBuilder::new()
///     .layer(AuthorizedLayer::for_client(&dstor))
///     .service(Client::builder(TokioExecutor::new()).build_http::<Body>());
///
/// let url = format!("{}/v1/upload/get-status/", server.base_url());
/// let request = http::Request::get(url).body(Body::empty())?;
/// let response = service.oneshot(request).await?;
/// assert_ne!(response.status(), 401);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AuthorizedLayer<P> {
    tokens: P,
    base: BaseUrl,
}

impl<P: TokenProvider + Clone> AuthorizedLayer<P> {
    /// Requests authorized with the tokens of `tokens` (cloned for each service), to the
    /// origin of `base` only.
    ///
    /// # Errors
    ///
    /// [`AuthError::Endpoint`] when `base` is plain `http` on a host that is not loopback.
    pub fn new(tokens: P, base: BaseUrl) -> Result<Self, AuthError> {
        base.check_may_carry_secrets()?;
        Ok(Self { tokens, base })
    }
}

impl AuthorizedLayer<DstorClient> {
    /// Requests authorized with the tokens of `client` (it shares the client's cache), to
    /// the origin of the client's environment only.
    pub fn for_client(client: &DstorClient) -> Self {
        // The client's builder refused an insecure endpoint already.
        Self {
            tokens: client.clone(),
            base: client.environment().base_url(),
        }
    }
}

impl<P> AuthorizedLayer<P> {
    /// The base URL whose origin requests may go to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }
}

impl<S, P: Clone> Layer<S> for AuthorizedLayer<P> {
    type Service = AuthorizedService<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthorizedService {
            inner,
            tokens: self.tokens.clone(),
            base: self.base.clone(),
        }
    }
}

/// The service of an [`AuthorizedLayer`]: see there what it does.
#[derive(Clone)]
pub struct AuthorizedService<S, P> {
    inner: S,
    tokens: P,
    base: BaseUrl,
}

impl<S, P, B, RB> Service<Request<B>> for AuthorizedService<S, P>
where
    S: Service<Request<Body>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
    P: TokenProvider + Clone + 'static,
    B: Into<Body>,
{
    type Response = Response<Body>;
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, TransportError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let below = ServiceTransport(Mutex::new(self.inner.clone()));
        let authorized = AuthorizedTransport::new(below, self.tokens.clone(), self.base.clone());
        let request = request.map(Into::into);
        Box::pin(async move {
            // `AuthorizedLayer::new` refused such a base URL already.
            let authorized = authorized
                .map_err(|e| TransportError::with_source(TransportErrorKind::Other, e))?;
            authorized.send_streaming(request).await
        })
    }
}

/// A tower service as a transport, for [`AuthorizedTransport`]. The mutex only makes it
/// `Sync`: each request clones the service out of it.
struct ServiceTransport<S>(Mutex<S>);

#[async_trait]
impl<S, RB> HttpTransport for ServiceTransport<S>
where
    S: Service<Request<Body>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        // The authorized transport sends streams only; this serves any other caller.
        let response = self.send_streaming(request.map(Body::from)).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect(crate::DEFAULT_MAX_BODY_BYTES).await?;
        Ok(Response::from_parts(parts, body.into()))
    }

    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        let mut service = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        poll_fn(|cx| service.poll_ready(cx)).await.map_err(below)?;
        let response = service.call(request).await.map_err(below)?;
        Ok(response.map(Body::wrap))
    }
}

/// An error of the service below.
fn below(error: impl Into<BoxError>) -> TransportError {
    TransportError::with_source(TransportErrorKind::Other, error)
}

impl<S> fmt::Debug for ServiceTransport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceTransport").finish_non_exhaustive()
    }
}

impl<P: fmt::Debug> fmt::Debug for AuthorizedLayer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedLayer")
            .field("base", &self.base)
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl<S, P: fmt::Debug> fmt::Debug for AuthorizedService<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedService")
            .field("base", &self.base)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}
