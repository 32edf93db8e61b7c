//! The reqwest transport for dStor access tokens, and a ready-made client.
//!
//! ```
//! use dstor_http::{ApiKey, DstorClient};
//! use dstor_mock::FakeDstor;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A fake dStor on 127.0.0.1; against the real service, use
//! // `.environment(Environment::Testnet)`, or `DstorClient::from_env()` to read
//! // DSTOR_API_KEY, DSTOR_ENV and DSTOR_ENDPOINT.
//! let server = FakeDstor::start().await?;
//! let client = DstorClient::builder()
//!     .endpoint(server.base_url())
//!     .api_key(ApiKey::new(server.api_key())?)
//!     .build()?;
//!
//! let token = client.token().await?;
//! let header = token.authorization_header(); // `Authorization: Bearer …`, marked sensitive
//! assert!(header.is_sensitive());
//!
//! client.token().await?; // served from the cache
//! assert_eq!(server.token_request_count(), 1);
//! assert_eq!(client.status().fetches, 1);
//! # Ok(())
//! # }
//! ```
//!
//! [`DstorClient`] trades the API key for a temporary access token at
//! `GET /v1/dev/temp-token`, caches it and refreshes it ahead of expiry; cloning it is
//! cheap and every clone shares the cache. It is built on `dstor-auth`'s [`Tokens`] handle
//! over [`ReqwestTransport`]: [`DstorClient::tokens`] hands it to code written against
//! `dstor-auth` alone, and a custom transport gets the same handle from
//! [`Tokens::builder`](dstor_auth::Tokens::builder).
//!
//! # Keeping the API key safe
//!
//! - The HTTP client is always one this crate configures: redirects are never followed (a
//!   3xx is an error, since reqwest would forward the `api-key` header to the new host), no
//!   `Referer` is sent, and connection logging is never enabled.
//! - Plain `http` is refused at [`DstorClientBuilder::build`] unless the host is loopback
//!   (`127.0.0.0/8`, `::1`, `localhost`), so the key never travels in clear text.
//! - No proxy is used unless one is set with [`DstorClientBuilder::proxy`].
//! - The key, tokens and proxy URL appear in no `Debug`, `Display` or error; reqwest errors
//!   are stripped of their URL.
//!
//! # Limits
//!
//! 10 s to connect, 30 s per request (the body included), 64 KiB of response body: a
//! larger, or endless, body is abandoned as soon as it passes the limit. All three are
//! settable on the builder.
//!
//! # TLS
//!
//! TLS is rustls with the aws-lc-rs crypto provider (reqwest's `rustls` feature). No roots
//! are bundled: certificates are checked by `rustls-platform-verifier` against the trust
//! store of the operating system. On Linux and other Unix systems it loads the system's
//! certificates through `rustls-native-certs` (which honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`); on macOS and Windows it asks the platform's own verifier. A container
//! image without CA certificates (install `ca-certificates`) cannot reach dStor.
//!
//! # Features
//!
//! - `reqwest-middleware`: `middleware::AuthorizedMiddleware`, requests authorized with
//!   the token in a `reqwest_middleware` stack.
//! - `tower`: `tower::AuthorizedLayer`, the same in a `tower` stack (hyper's client, say).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod client;
mod error;
#[cfg(feature = "reqwest-middleware")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest-middleware")))]
pub mod middleware;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
mod transport;

pub use builder::{
    DstorClientBuilder, ENV_API_KEY, ENV_EMAIL, ENV_ENDPOINT, ENV_ENVIRONMENT, ENV_PASSWORD,
};
pub use client::DstorClient;
pub use error::{ConfigError, EnvVarError};
pub use transport::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT,
    ReqwestTransport, ReqwestTransportBuilder,
};

pub use dstor_auth::{
    AuthError, BuildError, CacheConfig, CacheStatus, RetryPolicy, TokenLifetime, TokenProvider,
    Tokens,
};
/// What the signatures of this crate use, so that a user needs no other `dstor-*` crate.
pub use dstor_auth::{
    AuthorizedTransport, Body, HttpTransport, TransportError, TransportErrorKind, async_trait, http,
};
pub use dstor_storage::{
    Cid, Download, Downloaded, Progress, Storage, StorageError, Upload, UploadReport, UploadedFile,
    WaitPolicy,
};
/// The `secrecy` crate, for the [`secrecy::SecretString`] a password is held in.
pub use dstor_types::secrecy;
pub use dstor_types::{AccessToken, ApiKey, Environment, LoginCredentials, LoginError};
pub use dstor_types::{BaseUrl, EndpointError, ExpirationError};
