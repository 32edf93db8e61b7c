//! A crate built on `dstor-auth` and `dstor-types` alone, as a downstream author writes one:
//! its own transport over hyper's client, and one dStor call made through
//! [`AuthorizedTransport`](dstor_auth::AuthorizedTransport) (or any transport).
//!
//! ```
//! use dstor_downstream_tests::HyperTransport;
//! use std::time::Duration;
//!
//! let transport = HyperTransport::new(Duration::from_secs(10), 64 * 1024);
//! assert!(format!("{transport:?}").starts_with("HyperTransport"));
//! ```
#![deny(missing_docs)]

use std::time::Duration;

use dstor_auth::http::{Request, Response};
use dstor_auth::{Body, HttpTransport, TransportError, TransportErrorKind};
use dstor_types::{BaseUrl, UploadToken, UploadTokenRequest};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// An [`HttpTransport`] over hyper's client: plain `http` only (enough for loopback), no
/// proxy, no redirect followed, one deadline for the answer's head and, for buffered
/// requests, its body, which is read up to a limit.
#[derive(Debug, Clone)]
pub struct HyperTransport {
    client: Client<HttpConnector, Body>,
    timeout: Duration,
    max_body_bytes: usize,
}

impl HyperTransport {
    /// A transport that gives up after `timeout` and reads at most `max_body_bytes` of a
    /// buffered answer.
    pub fn new(timeout: Duration, max_body_bytes: usize) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self {
            client,
            timeout,
            max_body_bytes,
        }
    }
}

#[dstor_auth::async_trait]
impl HttpTransport for HyperTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let exchange = async {
            let response = self.send_streaming(request.map(Body::from)).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect(self.max_body_bytes).await?;
            Ok(Response::from_parts(parts, body.to_vec()))
        };
        tokio::time::timeout_at(deadline, exchange)
            .await
            .map_err(|_| TransportError::new(TransportErrorKind::Timeout))?
    }

    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| TransportError::new(TransportErrorKind::Timeout))?
            .map_err(|e| {
                let kind = if e.is_connect() {
                    TransportErrorKind::Connect
                } else {
                    TransportErrorKind::Connection
                };
                TransportError::with_source(kind, e)
            })?;
        Ok(response.map(Body::wrap))
    }
}

/// Starts an upload of `chunks` chunks into `folder`: the upload token dStor hands out.
/// `dstor` authorizes the request (an `AuthorizedTransport`, say).
///
/// # Errors
///
/// A request that cannot be built, the transport's error, or dStor's refusal.
pub async fn start_upload<T: HttpTransport + ?Sized>(
    dstor: &T,
    base: BaseUrl,
    chunks: u32,
    folder: &str,
) -> Result<UploadToken, Box<dyn std::error::Error + Send + Sync>> {
    let request = UploadTokenRequest::new(base, chunks)?.folder_path(folder)?;
    let response = dstor.send(request.to_http()?).await?;
    Ok(request.parse_response(&response)?)
}
