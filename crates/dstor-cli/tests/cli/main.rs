//! The `dstor` binary, run as a user runs it, against a fake dStor on 127.0.0.1.

#![warn(unreachable_pub)]

mod cache;
mod demo;
mod errors;
mod inspect;
mod login;
mod serve_fake;
mod support;
mod token;
