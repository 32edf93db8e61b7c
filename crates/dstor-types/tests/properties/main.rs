//! Properties of every parser and public constructor of `dstor-types`, on hostile input:
//! no panic, no key or token in any `Display` or `Debug`, bounded messages, every valid
//! input accepted, and agreement with the `url`, `httpdate` and `cid` crates where they
//! overlap.
//!
//! `cargo test` runs a few cases of each target; `cargo xtask fuzz [--seconds N]` runs each
//! for as long as asked (see `harness`). A failure is saved, shrunk, under
//! `tests/proptest-regressions/` and replayed first on every later run: commit it.

/// No secret in a message, and a bounded length.
mod assertions;
/// Runs a target for a case count, or for a time budget when fuzzing; shared with
/// dstor-auth's hostile-configuration properties.
mod harness;
/// A secret split by a control, invisible or white-space character.
mod split;

/// `ApiKey::new`.
mod api_key;
/// `Cid::parse` (`Cid::from_str`), CIDv0 and CIDv1 text, against the `cid` crate.
mod cid;
/// `BaseUrl::parse` and `Environment::from_str`.
mod endpoint;
/// `Expiration` from extreme `Duration`s and `SystemTime`s.
mod expiration;
/// `AccessToken::new` and the claims read from a JWT.
mod jwt;
/// `FileName::new`, the folder path, and the multipart framing of a name.
mod name;
/// `TokenRequest::parse_response`: status × headers × body, `Retry-After`, `Date`.
mod response;
/// The upload flow's answers: the upload token, a chunk, the upload status.
mod storage;
