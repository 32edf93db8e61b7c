//! dstor-http's integration tests, in one binary (one link, one process): `DstorClient`
//! and `ReqwestTransport` against the fake dStor on 127.0.0.1.

/// What the tests share: a client pointed at a fake server, fast retries, and the one
/// helper that renders an error with its chain of sources.
mod common;

/// Configuration from the builder and the environment variables, and secrets kept out of
/// every message.
mod config;

/// A token end to end: the request as sent, the cache, and how each answer is classified.
mod exchange;

/// Login credentials instead of an API key: builder, variables, the whole path.
mod login;

/// The transport's limits: body size, time, redirects, proxies, plain http.
mod transport;

/// Streamed bodies: the conformance kit, idle timeouts, body errors.
mod streaming;

/// `DstorClient::send`: requests authorized with the token.
mod authorized;

/// Uploads and downloads through the client: streamed, verified, nothing kept on failure.
mod storage;

/// The stacks users already have: `AuthorizedMiddleware` in a `reqwest_middleware` client,
/// `AuthorizedLayer` over hyper's client (features `reqwest-middleware`, `tower`).
#[cfg(any(feature = "reqwest-middleware", feature = "tower"))]
mod stacks;
