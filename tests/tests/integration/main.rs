//! Integration tests across the crates, in one binary (one link, one process).

/// The layering contract: dstor-types uses no async runtime or HTTP client; dstor-auth
/// no HTTP client.
mod layering;

/// No API key and no token text in the `Debug` or `Display` of any public type or error.
mod secrets;

/// The declared MSRV holds for every locked dependency.
mod msrv;

/// A hand-written transport (raw HTTP/1.1 over a `TcpStream`) and a closure transport
/// drive `ApiKeyProvider` and `CachedTokenProvider` against the fake server.
mod custom_transport;

/// The reqwest client against the fake server on 127.0.0.1: one request for a thousand
/// cold callers, sensitive headers, invalidation.
mod over_loopback;

/// The fault soak: cache, retries and the authorized transport over a simulated day of
/// seeded faults with hundreds of callers, on a paused clock.
mod soak;

/// The upload soak: uploads and downloads-to-file through dstor-storage against the fake
/// on loopback, under seeded random storage faults.
mod storage_soak;
