//! dstor-auth on hostile configuration: the cache and the retrying provider with extreme
//! `CacheConfig` and `RetryPolicy` values, driven on Tokio's paused clock against a fake
//! upstream, one runtime per case, each call bounded by a timeout. `cargo xtask fuzz
//! extreme_configs retried_call` runs them for as long as asked.

/// The runner of dstor-types' properties: a few cases under `cargo test`, a time budget
/// under `cargo xtask fuzz`, failures saved and replayed. One file for both packages.
#[path = "../../../dstor-types/tests/properties/harness.rs"]
mod harness;

/// A fake token endpoint with its own simulated clock: seeded faults, stalls, and tokens
/// of any lifetime, each checked against the moment it really expires.
mod upstream;

/// `CacheConfig` and `RetryPolicy` at zero, `Duration::MAX`, NaN, infinite and negative
/// factors and huge attempt counts: no panic, every call a token or a typed error by its
/// bound, no expired token served, no task left behind.
mod extremes;
