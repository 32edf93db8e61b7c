//! dstor-storage's integration tests: the flows against dstor-mock's fake dStor, over
//! loopback only.
//!
//! - `support`: the fake, a streaming test transport, a token stack.
//! - `upload`: the whole upload flow, chunks, progress, verification, faults.
//! - `download`: the gateway's redirects, verification while streaming, nothing kept on
//!   failure.
//! - `secrets`: no token (access or upload) in any `Debug`, `Display` or error.

mod download;
mod secrets;
mod support;
mod upload;
