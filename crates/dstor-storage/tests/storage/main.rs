//! dstor-storage's integration tests: the flows against dstor-mock's fake dStor, over
//! loopback only.
//!
//! - `support`: the fake, a streaming test transport, a token stack.
//! - `build`: an endpoint that may not carry a token is refused when the handle is built.
//! - `upload`: the whole upload flow, chunks, progress, verification, faults.
//! - `download`: the gateway's redirects, verification while streaming, nothing kept on
//!   failure.
//! - `secrets`: no token (access or upload) in any `Debug`, `Display` or error.

mod build;
mod download;
mod secrets;
mod support;
mod upload;
