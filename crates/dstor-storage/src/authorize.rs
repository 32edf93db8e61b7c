//! The API requests' transport: dstor-auth's [`AuthorizedTransport`], or one that refuses
//! every request when the base URL may not carry a token.

use std::fmt;
use std::sync::Arc;

use dstor_auth::{
    AuthorizedTransport, HttpTransport, TokenProvider, TransportError, TransportErrorKind,
    async_trait,
};
use dstor_types::BaseUrl;
use http::{Request, Response};

/// The authorized transport of a [`Storage`](crate::Storage): `Authorization: Bearer` on
/// requests to the base URL's origin only, one fresh token after a 401 when the body can be
/// sent again. A base URL that may not carry a token (plain `http` to a host that is not
/// loopback) gets a transport that sends nothing.
pub(crate) fn authorized(
    transport: Arc<dyn HttpTransport>,
    tokens: Arc<dyn TokenProvider>,
    base: BaseUrl,
) -> Arc<dyn HttpTransport> {
    match AuthorizedTransport::new(transport, tokens, base) {
        Ok(authorized) => Arc::new(authorized),
        Err(_) => Arc::new(Refuse),
    }
}

/// Refuses every request, unsent.
struct Refuse;

impl fmt::Debug for Refuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Refuse")
    }
}

#[async_trait]
impl HttpTransport for Refuse {
    async fn send(&self, _request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        Err(TransportError::new(TransportErrorKind::ForeignOrigin))
    }
}
