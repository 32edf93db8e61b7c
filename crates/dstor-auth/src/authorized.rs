//! Requests authorized with the access token: `Authorization: Bearer …`, one re-try with a
//! fresh token after a 401, and nothing sent to another origin.

use std::fmt;
use std::future::Future;

use async_trait::async_trait;
use dstor_types::{AccessToken, BaseUrl};
use http::{Request, Response, StatusCode, Uri, header};

use crate::{AuthError, Body, HttpTransport, TokenProvider, TransportError, TransportErrorKind};

/// An [`HttpTransport`] that authorizes each request with an access token from a
/// [`TokenProvider`], and sends it only to the dStor origin it was built for.
///
/// What a caller can rely on:
///
/// - **The header.** Each request gets `Authorization: Bearer <token>`, marked sensitive
///   (it replaces one the request had). The token appears in no `Debug`, error or log.
/// - **One re-authorization after a 401.** The provider is told that exactly the token sent
///   was rejected ([`TokenProvider::invalidate`]) and the request goes once more with a fresh
///   token. A second 401 is [`TransportErrorKind::TokenRejected`]. Concurrent requests
///   rejected with the same token share one refresh when the provider is a
///   [`CachedTokenProvider`](crate::CachedTokenProvider), whose invalidation compares the
///   token. The request is sent again only if its body can be: `Vec<u8>` bodies always,
///   a [`Body`] when [`Body::try_clone`] gives a copy. Otherwise, and when the provider hands
///   back the token it just rejected, the 401 comes back as it is, the token invalidated.
/// - **Only the configured origin.** A request whose URL has another scheme, host or port
///   than the base URL (or no scheme and host) is refused with
///   [`TransportErrorKind::ForeignOrigin`] before anything is sent or any token is asked
///   for, so a URL taken from a response cannot carry the token away.
/// - **Plain `http` only for loopback**: checked when the transport is built.
/// - **No redirect is followed**: the inner transport hands a 3xx back, and so does this
///   one, as it is.
/// - A token that cannot be had is [`TransportErrorKind::NoToken`], its [`AuthError`] at
///   [`TransportError::auth_error`].
///
/// ```
/// use dstor_auth::{AuthorizedTransport, BaseUrl, HttpTransport, StaticTokenProvider, transport_fn};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let dstor = transport_fn(|request: http::Request<Vec<u8>>| async move {
///     assert!(request.headers()["authorization"].is_sensitive());
///     Ok(http::Response::new(b"ok".to_vec()))
/// });
/// let base = BaseUrl::parse("https://api.testnet.dstor.cloud").unwrap();
/// let tokens = StaticTokenProvider::new("opaque").unwrap();
/// let authorized = AuthorizedTransport::new(dstor, tokens, base).unwrap();
///
/// let request = http::Request::get("https://api.testnet.dstor.cloud/v1/upload/get-status/")
///     .body(Vec::new())
///     .unwrap();
/// assert_eq!(authorized.send(request).await.unwrap().status(), 200);
///
/// let elsewhere = http::Request::get("https://example.com/").body(Vec::new()).unwrap();
/// assert!(authorized.send(elsewhere).await.is_err());
/// # });
/// ```
pub struct AuthorizedTransport<T, P> {
    transport: T,
    tokens: P,
    base: BaseUrl,
    origin: Origin,
}

impl<T: HttpTransport, P: TokenProvider> AuthorizedTransport<T, P> {
    /// Requests through `transport`, authorized with the tokens of `tokens`, to the origin
    /// of `base` only.
    ///
    /// # Errors
    ///
    /// [`AuthError::Endpoint`] ([`EndpointError::Insecure`](dstor_types::EndpointError))
    /// when `base` is plain `http` on a host that is not loopback.
    pub fn new(transport: T, tokens: P, base: BaseUrl) -> Result<Self, AuthError> {
        base.check_may_carry_secrets()?;
        let origin = Origin::of(base.token_endpoint()).ok_or_else(|| {
            AuthError::Endpoint(dstor_types::EndpointError::InvalidUrl {
                url: base.to_string(),
                reason: "it has no origin (scheme, host and port) to keep the token to",
            })
        })?;
        Ok(Self {
            transport,
            tokens,
            base,
            origin,
        })
    }
}

impl<T, P> AuthorizedTransport<T, P> {
    /// The base URL whose origin requests may go to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// The transport the requests go through.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The provider of the tokens.
    pub fn tokens(&self) -> &P {
        &self.tokens
    }
}

impl<T: HttpTransport, P: TokenProvider> AuthorizedTransport<T, P> {
    /// The authorization loop, for either kind of body: at most two sends.
    async fn authorize<B, R, F, Fut>(
        &self,
        request: Request<B>,
        replay: impl Fn(&B) -> Option<B>,
        send: F,
    ) -> Result<Response<R>, TransportError>
    where
        F: Fn(Request<B>) -> Fut,
        Fut: Future<Output = Result<Response<R>, TransportError>>,
    {
        if Origin::of(request.uri()).as_ref() != Some(&self.origin) {
            return Err(TransportError::new(TransportErrorKind::ForeignOrigin));
        }
        let (parts, body) = request.into_parts();
        let again = replay(&body).map(|body| Request::from_parts(parts.clone(), body));
        let token = self.token().await?;
        let response = send(with_token(Request::from_parts(parts, body), &token)).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        self.tokens.invalidate(&token);
        let Some(again) = again else {
            tracing::debug!("access token rejected; the body cannot be sent again");
            return Ok(response);
        };
        let fresh = self.token().await?;
        if fresh.same_token(&token) {
            tracing::debug!("access token rejected; the provider has no other");
            return Ok(response);
        }
        drop(response);
        tracing::debug!("access token rejected; sending once more with a fresh one");
        let response = send(with_token(again, &fresh)).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            self.tokens.invalidate(&fresh);
            return Err(TransportError::new(TransportErrorKind::TokenRejected));
        }
        Ok(response)
    }

    async fn token(&self) -> Result<AccessToken, TransportError> {
        self.tokens.token().await.map_err(|e| {
            let retryable = e.is_retryable();
            TransportError::with_source(TransportErrorKind::NoToken { retryable }, e)
        })
    }
}

fn with_token<B>(mut request: Request<B>, token: &AccessToken) -> Request<B> {
    request
        .headers_mut()
        .insert(header::AUTHORIZATION, token.authorization_header());
    request
}

#[async_trait]
impl<T: HttpTransport, P: TokenProvider> HttpTransport for AuthorizedTransport<T, P> {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.authorize(
            request,
            |body| Some(body.clone()),
            |r| self.transport.send(r),
        )
        .await
    }

    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        self.authorize(request, Body::try_clone, |r| {
            self.transport.send_streaming(r)
        })
        .await
    }
}

impl<T: fmt::Debug, P: fmt::Debug> fmt::Debug for AuthorizedTransport<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedTransport")
            .field("base", &self.base)
            .field("transport", &self.transport)
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// Scheme, host and port, the port filled in for the scheme's default.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of(uri: &Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let host = uri.host()?.to_ascii_lowercase();
        let host = host.trim_end_matches('.').to_owned();
        Some(Self {
            port: uri.port_u16().unwrap_or(default_port),
            scheme,
            host,
        })
    }
}

#[cfg(test)]
mod tests;
