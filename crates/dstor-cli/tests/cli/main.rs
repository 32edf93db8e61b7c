//! The `dstor` binary, run as a user runs it, against a fake dStor on 127.0.0.1.

mod cache;
mod cid;
mod demo;
mod errors;
mod get;
mod inspect;
mod login;
mod progress;
mod serve_fake;
mod support;
mod token;
mod upload;
