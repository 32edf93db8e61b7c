//! The API requests' transport: `Authorization: Bearer` on requests to the configured
//! origin only, one fresh token after a 401 when the body can be sent again.

use std::fmt;
use std::sync::Arc;

use dstor_auth::{
    AuthError, Body, HttpTransport, TokenProvider, TransportError, TransportErrorKind, async_trait,
};
use dstor_types::{AccessToken, BaseUrl};
use http::{Request, Response, StatusCode, Uri, header::AUTHORIZATION};

/// The authorized transport of a [`Storage`](crate::Storage).
pub(crate) fn authorized(
    transport: Arc<dyn HttpTransport>,
    tokens: Arc<dyn TokenProvider>,
    base: BaseUrl,
) -> Arc<dyn HttpTransport> {
    Arc::new(Bearer {
        transport,
        tokens,
        base,
    })
}

struct Bearer {
    transport: Arc<dyn HttpTransport>,
    tokens: Arc<dyn TokenProvider>,
    base: BaseUrl,
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bearer")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Bearer {
    /// Refuses a request to any other origin than the base URL's.
    fn check_origin(&self, uri: &Uri) -> Result<(), TransportError> {
        let base: Uri = self
            .base
            .as_str()
            .parse()
            .map_err(|_| TransportError::new(TransportErrorKind::ForeignOrigin))?;
        let same = uri.scheme() == base.scheme()
            && uri.host().map(str::to_ascii_lowercase) == base.host().map(str::to_ascii_lowercase)
            && uri.port_u16() == base.port_u16();
        if same && self.base.may_carry_api_key() {
            Ok(())
        } else {
            Err(TransportError::new(TransportErrorKind::ForeignOrigin))
        }
    }

    async fn token(&self) -> Result<AccessToken, TransportError> {
        self.tokens.token().await.map_err(no_token)
    }
}

fn no_token(error: AuthError) -> TransportError {
    let retryable = error.is_retryable();
    TransportError::with_source(TransportErrorKind::NoToken { retryable }, error)
}

#[async_trait]
impl HttpTransport for Bearer {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.check_origin(request.uri())?;
        let copy = {
            let mut copy = Request::new(request.body().clone());
            *copy.method_mut() = request.method().clone();
            *copy.uri_mut() = request.uri().clone();
            *copy.headers_mut() = request.headers().clone();
            copy
        };
        let token = self.token().await?;
        let mut first = request;
        first
            .headers_mut()
            .insert(AUTHORIZATION, token.authorization_header());
        let response = self.transport.send(first).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        self.tokens.invalidate(&token);
        let fresh = self.token().await?;
        let mut again = copy;
        again
            .headers_mut()
            .insert(AUTHORIZATION, fresh.authorization_header());
        let response = self.transport.send(again).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            self.tokens.invalidate(&fresh);
            return Err(TransportError::new(TransportErrorKind::TokenRejected));
        }
        Ok(response)
    }

    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        self.check_origin(request.uri())?;
        let replay = request.body().try_clone().map(|body| {
            let mut copy = Request::new(body);
            *copy.method_mut() = request.method().clone();
            *copy.uri_mut() = request.uri().clone();
            *copy.headers_mut() = request.headers().clone();
            copy
        });
        let token = self.token().await?;
        let mut first = request;
        first
            .headers_mut()
            .insert(AUTHORIZATION, token.authorization_header());
        let response = self.transport.send_streaming(first).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        self.tokens.invalidate(&token);
        let Some(mut again) = replay else {
            return Ok(response);
        };
        let fresh = self.token().await?;
        again
            .headers_mut()
            .insert(AUTHORIZATION, fresh.authorization_header());
        let response = self.transport.send_streaming(again).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            self.tokens.invalidate(&fresh);
            return Err(TransportError::new(TransportErrorKind::TokenRejected));
        }
        Ok(response)
    }
}
