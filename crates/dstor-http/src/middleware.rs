//! Requests authorized with the access token, in a `reqwest_middleware` stack.

use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use dstor_auth::{AuthError, AuthorizedTransport, Body, HttpTransport, TokenProvider};
use dstor_auth::{TransportError, TransportErrorKind};
use dstor_types::BaseUrl;
use http::{Extensions, Request, Response};
use reqwest::ResponseBuilderExt as _;
use reqwest_middleware::{Middleware, Next};

use crate::DstorClient;

/// A [`reqwest_middleware::Middleware`] that authorizes each request with an access token,
/// under the rules of [`AuthorizedTransport`].
///
/// What a caller can rely on:
///
/// - Each request gets `Authorization: Bearer <token>`, marked sensitive.
/// - A 401 invalidates exactly the token that was sent, and the request goes once more with
///   a fresh one if its body can be sent again (a body of bytes can, a stream cannot). A
///   second 401 is an error of kind [`TransportErrorKind::TokenRejected`].
/// - A request for another origin (scheme, host, port) than the base URL is refused before
///   anything is sent, with [`TransportErrorKind::ForeignOrigin`].
///
/// Errors of this middleware are [`reqwest_middleware::Error::Middleware`] holding a
/// [`TransportError`] (find it with `downcast_ref`); errors of the middleware and client
/// below it come back as they are. The middlewares added after this one see the request
/// with its token, so put this one last, below retries and logging. The client's own
/// redirect policy applies to what it sends: build it with
/// `redirect(reqwest::redirect::Policy::none())` to follow none (reqwest drops the
/// `Authorization` header on a redirect to another origin in any case).
///
/// ```
/// use dstor_http::middleware::AuthorizedMiddleware;
/// use dstor_http::{ApiKey, DstorClient};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = dstor_mock::FakeDstor::start().await?;
/// let dstor = DstorClient::builder()
///     .endpoint(server.base_url())
///     .api_key(ApiKey::new(server.api_key())?)
///     .build()?;
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(AuthorizedMiddleware::for_client(&dstor))
///     .build();
/// let url = format!("{}/v1/upload/get-status/", server.base_url());
/// let response = client.get(url).send().await?;
/// assert_ne!(response.status(), 401);
/// # Ok(())
/// # }
/// ```
pub struct AuthorizedMiddleware<P> {
    tokens: P,
    base: BaseUrl,
}

impl<P: TokenProvider> AuthorizedMiddleware<P> {
    /// Requests authorized with the tokens of `tokens`, to the origin of `base` only.
    ///
    /// # Errors
    ///
    /// [`AuthError::Endpoint`] when `base` is plain `http` on a host that is not loopback.
    pub fn new(tokens: P, base: BaseUrl) -> Result<Self, AuthError> {
        base.check_may_carry_secrets()?;
        Ok(Self { tokens, base })
    }
}

impl AuthorizedMiddleware<DstorClient> {
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

impl<P> AuthorizedMiddleware<P> {
    /// The base URL whose origin requests may go to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }
}

#[async_trait]
impl<P: TokenProvider + 'static> Middleware for AuthorizedMiddleware<P> {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let request = Request::<reqwest::Body>::try_from(request)?.map(into_body);
        let below = NextTransport {
            next,
            extensions: Mutex::new(Some(extensions)),
            failure: Mutex::new(None),
        };
        let authorized = AuthorizedTransport::new(below, &self.tokens, self.base.clone())
            .map_err(|e| reqwest_middleware::Error::middleware(auth_failure(e)))?;
        let outcome = authorized.send_streaming(request).await;
        // An error from below comes back as it was raised, not as the marker carried up.
        if let Some(failure) = take(&authorized.transport().failure) {
            return Err(failure);
        }
        match outcome {
            Ok(response) => Ok(reqwest::Response::from(response.map(from_body))),
            Err(e) => Err(reqwest_middleware::Error::middleware(e)),
        }
    }
}

/// The rest of the middleware chain as a transport, for [`AuthorizedTransport`].
struct NextTransport<'a> {
    next: Next<'a>,
    /// Lent to one request at a time (the authorized transport sends one after the other).
    extensions: Mutex<Option<&'a mut Extensions>>,
    /// The last error from below, handed back unchanged.
    failure: Mutex<Option<reqwest_middleware::Error>>,
}

impl NextTransport<'_> {
    fn fail(&self, error: reqwest_middleware::Error) -> TransportError {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
        TransportError::new(TransportErrorKind::Other)
    }
}

#[async_trait]
impl HttpTransport for NextTransport<'_> {
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
        let request = match reqwest::Request::try_from(request.map(from_body)) {
            Ok(request) => request,
            Err(e) => return Err(self.fail(e.into())),
        };
        let Some(extensions) = take(&self.extensions) else {
            return Err(TransportError::new(TransportErrorKind::Other));
        };
        let outcome = self.next.clone().run(request, &mut *extensions).await;
        *self.extensions.lock().unwrap_or_else(|e| e.into_inner()) = Some(extensions);
        match outcome {
            Ok(response) => Ok(from_reqwest(response)),
            Err(e) => Err(self.fail(e)),
        }
    }
}

impl fmt::Debug for NextTransport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextTransport").finish_non_exhaustive()
    }
}

impl<P: fmt::Debug> fmt::Debug for AuthorizedMiddleware<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedMiddleware")
            .field("base", &self.base)
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// The error of a middleware whose base URL may not carry a token (not built by
/// [`AuthorizedMiddleware::new`], which refuses it).
fn auth_failure(error: AuthError) -> TransportError {
    TransportError::with_source(TransportErrorKind::Other, error)
}

fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// A reqwest body as ours: bytes stay bytes (so the request can be sent again), a stream
/// stays a stream.
fn into_body(body: reqwest::Body) -> Body {
    match body.as_bytes() {
        Some(bytes) => Body::from(Bytes::copy_from_slice(bytes)),
        None => Body::wrap(body),
    }
}

/// Our body as reqwest's: bytes stay bytes, so that a retry middleware below can clone the
/// request.
fn from_body(body: Body) -> reqwest::Body {
    match body.as_bytes() {
        Some(bytes) => reqwest::Body::from(bytes.clone()),
        None => reqwest::Body::wrap(body),
    }
}

/// A reqwest response as an `http` one, its URL kept for the way back.
fn from_reqwest(response: reqwest::Response) -> Response<Body> {
    let url = response.url().clone();
    let mut response = Response::<reqwest::Body>::from(response).map(Body::wrap);
    if let Some(extensions) = Response::builder().url(url).extensions_mut() {
        response.extensions_mut().extend(std::mem::take(extensions));
    }
    response
}
