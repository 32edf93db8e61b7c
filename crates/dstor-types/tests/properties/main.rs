//! Properties of every parser and public constructor of `dstor-types`, on hostile input:
//! no panic, no key or token in any `Display` or `Debug`, bounded messages, every valid
//! input accepted, and agreement with the `url` and `httpdate` crates where they overlap.
//!
//! `cargo test` runs a few cases of each target; `cargo xtask fuzz [--seconds N]` runs each
//! for as long as asked (see `harness`). A failure is saved, shrunk, under
//! `tests/proptest-regressions/` and replayed first on every later run: commit it.

mod harness;

/// `ApiKey::new`.
mod api_key;
/// `BaseUrl::parse` and `Environment::from_str`.
mod endpoint;
/// `Expiration` from extreme `Duration`s and `SystemTime`s.
mod expiration;
/// `AccessToken::new` and the claims read from a JWT.
mod jwt;
/// `TokenRequest::parse_response`: status × headers × body, `Retry-After`, `Date`.
mod response;
