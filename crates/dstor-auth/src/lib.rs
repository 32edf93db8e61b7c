//! Access tokens for the dStor API, independent of any HTTP client.
//!
//! ```
//! use dstor_auth::{ApiKeyProvider, CachedTokenProvider, RetryPolicy, RetryingProvider, transport_fn};
//! use dstor_types::{ApiKey, Environment};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! // Any transport: here a closure standing in for dStor.
//! let transport = transport_fn(|_request: http::Request<Vec<u8>>| async {
//!     Ok(http::Response::new(br#"{"access_token":"opaque"}"#.to_vec()))
//! });
//! let key = ApiKey::new("k".repeat(64)).unwrap();
//! let exchange = ApiKeyProvider::new(transport, &Environment::Testnet, key).unwrap();
//! let tokens = CachedTokenProvider::new(RetryingProvider::new(exchange, RetryPolicy::default()));
//!
//! let token = tokens.token().await.unwrap();
//! assert_eq!(token.authorization_header(), "Bearer opaque");
//! assert_eq!(tokens.status().fetches, 1);
//! tokens.token().await.unwrap(); // served from the cache
//! assert_eq!(tokens.status().fetches, 1);
//! # });
//! ```
//!
//! The layers:
//! - [`Tokens`]: the handle most users want, built by [`Tokens::builder`] over any
//!   transport: the key exchange, retried and cached, with one build error, [`BuildError`].
//! - [`TokenProvider`]: the async, object-safe trait every token source implements.
//! - [`HttpTransport`]: the seam to an HTTP client, `http::Request` in and `http::Response`
//!   out. `dstor-http` implements it over reqwest; [`transport_fn`] makes one of a closure.
//! - [`ApiKeyProvider`]: trades the API key for a token over any transport.
//! - [`LoginProvider`]: trades an account's email and password for a token, the same way.
//! - [`RetryingProvider`]: retries transient failures with backoff and jitter.
//! - [`CachedTokenProvider`]: lock-free reads, one upstream request however many callers,
//!   refresh ahead of expiry, a still-valid token never replaced by an error.
//! - [`StaticTokenProvider`] and [`FnTokenProvider`]: a fixed token, or your own source.
//!
//! The `test-util` feature adds the `fake` module: scripted providers and transports for tests.
#![deny(missing_docs)]

mod builder;
mod cache;
mod error;
mod exchange;
mod login;
mod provider;
mod retry;
mod time;
mod tokens;
mod transport;

#[cfg(any(test, feature = "test-util"))]
pub mod fake;

pub use builder::{BuildError, TokensBuilder};
pub use cache::{CacheConfig, CacheStatus, CachedTokenProvider, TokenWindow};
pub use error::{AuthError, TransportError, TransportErrorKind};
pub use exchange::{ApiKeyProvider, TokenLifetime};
pub use login::LoginProvider;
pub use provider::{FnTokenProvider, StaticTokenProvider, TokenProvider, token_provider_fn};
pub use retry::{RetryPolicy, RetryingProvider};
pub use tokens::Tokens;
pub use transport::{FnTransport, HttpTransport, transport_fn};

pub use dstor_types::AccessToken;
