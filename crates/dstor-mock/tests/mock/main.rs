//! dstor-mock's integration tests: the fake dStor as a client sees it, over
//! raw HTTP/1.1 on 127.0.0.1.

/// A minimal raw HTTP/1.1 client and helpers to drive an upload.
mod common;
/// Token faults, delays and shutdown.
mod faults;
/// The gateway's redirect, the storage node and its bytes.
mod gateway;
/// Login credentials on the token endpoint.
mod login;
/// Bad input: 400s that say why, 401s, 413, garbage.
mod refusals;
/// Scripted faults of the storage endpoints and the node.
mod storage_faults;
/// The token endpoint.
mod token;
/// The upload flow: upload token, chunks, status, spooling.
mod upload;
