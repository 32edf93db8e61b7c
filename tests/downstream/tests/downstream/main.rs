//! The workspace as a downstream crate uses it, through public API only: a crate on
//! `dstor-auth` and `dstor-types` with its own transport (hyper's client, in this package's
//! library), and a second author on `dstor-http`'s adapters. Against the fake on 127.0.0.1.

/// The own transport passes the conformance kit of `dstor-mock`.
mod conformance;

/// The own transport under `Tokens` and `AuthorizedTransport`: a dStor call the SDK does not
/// wrap, authorized with the token, and nothing sent to another origin.
mod authorized;

/// The library's code tested with the `mockall` mocks of `dstor-auth`, no server at all.
mod mocks;

/// A `reqwest_middleware` client with `dstor-http`'s `AuthorizedMiddleware`.
mod stacks;
