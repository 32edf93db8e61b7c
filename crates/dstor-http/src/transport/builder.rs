//! Configuring a [`ReqwestTransport`].

use std::fmt;
use std::time::Duration;

use dstor_types::secrecy::{ExposeSecret as _, SecretString};
use reqwest::redirect;

use super::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT,
    ReqwestTransport,
};
use crate::ConfigError;

/// The hosts never reached through the proxy: loopback, where plain `http` is allowed. A
/// proxy would receive such a request, credentials included, in clear text.
const LOOPBACK_HOSTS: &str = "localhost,127.0.0.0/8,::1";

/// Configures a [`ReqwestTransport`]. Every setting has a default; nothing is checked until
/// [`build`](ReqwestTransportBuilder::build), which needs no Tokio runtime. `Debug` never
/// shows the proxy URL.
#[derive(Clone)]
pub struct ReqwestTransportBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    idle_timeout: Duration,
    max_body_bytes: usize,
    proxy: Option<SecretString>,
}

impl Default for ReqwestTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            proxy: None,
        }
    }
}

impl ReqwestTransportBuilder {
    /// The time allowed to connect (DNS, TCP and TLS).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The time allowed for a whole buffered request ([`send`]), the body included.
    ///
    /// [`send`]: dstor_auth::HttpTransport::send
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest wait without progress on a streamed request ([`send_streaming`]): for
    /// the connection to take more of the request body, for the response head, or for the
    /// next chunk of the response body.
    ///
    /// [`send_streaming`]: dstor_auth::HttpTransport::send_streaming
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The largest response body [`send`] reads, in bytes.
    ///
    /// [`send`]: dstor_auth::HttpTransport::send
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sends every request through this proxy (a URL such as
    /// `http://user:password@proxy.example:3128`), except those to a loopback host.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(SecretString::from(url.into()));
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidProxy`] for a proxy URL reqwest refuses (the URL is not
    /// repeated), [`ConfigError::Client`] when the client cannot be built.
    pub fn build(self) -> Result<ReqwestTransport, ConfigError> {
        // No whole-request deadline on the client: `send` sets one per request, and a
        // streamed request is bounded by its idle timeout instead.
        let mut builder = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .referer(false)
            .https_only(false)
            .retry(reqwest::retry::never())
            .connect_timeout(self.connect_timeout);
        builder = match &self.proxy {
            Some(url) => {
                let proxy = reqwest::Proxy::all(url.expose_secret().trim())
                    .map_err(|_| ConfigError::InvalidProxy)?
                    .no_proxy(reqwest::NoProxy::from_string(LOOPBACK_HOSTS));
                builder.proxy(proxy)
            }
            None => builder.no_proxy(),
        };
        let client = builder
            .build()
            .map_err(|e| ConfigError::Client(Box::new(e.without_url())))?;
        Ok(ReqwestTransport {
            client,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            idle_timeout: self.idle_timeout,
            max_body_bytes: self.max_body_bytes,
            proxied: self.proxy.is_some(),
        })
    }
}

impl fmt::Debug for ReqwestTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransportBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("proxy", &self.proxy.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}
