//! A fake dStor service on loopback (tokens, uploads, the gateway), for
//! tests, benchmarks and examples.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use dstor_mock::{FakeDstor, Fault};
//!
//! let server = FakeDstor::start().await?;
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(server.api_key().len(), 64);
//!
//! // The next token request fails with 503, the one after it succeeds.
//! server.push_fault(Fault::Status(503));
//! assert_eq!(server.request_count(), 0);
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! [`FakeDstor`] serves `GET /v1/dev/temp-token` as dStor documents it:
//!
//! - a missing or unknown `api-key` header gets `401` with
//!   `{"message":"invalid api key"}` (the key is never echoed);
//! - `x-expiration` is a Unix timestamp in seconds, integer or fractional (as
//!   browsers send it); one in the past, now, or unparseable gets `400` with a
//!   JSON `message`; without it the token lives one year;
//! - otherwise `200` with `{"access_token":"<jwt>"}`, an HS256 JWT signed with
//!   the server's own random secret (check it with [`FakeDstor::verify_token`])
//!   carrying the claims of dStor's example: `d`, `o`, `s`, `t`, `iat`, `exp`
//!   (whole seconds), `aud` and `iss` (`dstor.cloud`) and a `sub` derived from
//!   the key.
//!
//! `POST /v1/dev/temp-token` with `content-type: application/json` and
//! `{"email": "…", "password": "…"}` trades an account's login for the same
//! kind of token (`sub` derived from the email), for the accounts given to
//! [`FakeDstorBuilder::account`] (by default one, [`FakeDstor::email`] and
//! [`FakeDstor::password`]): a wrong pair gets `401` with
//! `{"message":"invalid email or password"}`, a body that is not such JSON
//! `400`; `x-expiration` is read as for the key.
//!
//! A trailing slash on the path is tolerated. Other paths get `404`, other
//! methods on the token path `405`. Every request is recorded
//! ([`FakeDstor::requests`]) before the delay and any scripted [`Fault`] apply.
//! Each connection is served on its own task, so a delay slows every request
//! without serialising them.
//!
//! # Storage
//!
//! The same listener serves dStor's v1 upload flow (trailing slashes optional;
//! every endpoint wants `Authorization: Bearer <jwt>` issued by this server and
//! unexpired, else `401` with a JSON `message` that echoes nothing):
//!
//! - `POST /v1/upload/get-token/` with `{"chunks_number": <int >= 1>,
//!   "folder_path": "<string>"}` answers `{"message":"ok","token":"<upload
//!   token>"}` (random); a malformed body gets `400` saying what is wrong;
//! - `POST /v1/upload/` with `x-dstor-upload-token` and a
//!   `multipart/form-data` body stores each part under its `filename` (any
//!   field name) and answers `{"status":"ok"}`. Parts are streamed to files
//!   in a temporary directory ([`FakeDstor::spool_dir`]) while their CIDv0 is
//!   computed as `ipfs add` does with kubo's defaults, so memory stays bounded
//!   whatever the file size. A chunk beyond `chunks_number`, a part without a
//!   file name or a malformed body gets `400` and leaves nothing behind; a body
//!   over [`FakeDstorBuilder::max_upload_bytes`] (default 4 GiB) gets `413`;
//! - `GET /v1/upload/get-status/` answers `{"status":"UPLOADING"}` until every
//!   chunk has arrived, then moves one stage per poll: `ADDING_TO_IPFS`,
//!   `SAVING_DATA`, then `DONE` for good, with `data: [{"Hash": "<CIDv0>",
//!   "Name": "<file name>"}, …]` in the order the files arrived.
//!
//! What the flow was asked is recorded, no body kept: each accepted upload-token
//! request's `chunks_number` and `folder_path`
//! ([`FakeDstor::upload_token_requests`]) and each accepted chunk POST's file
//! names ([`FakeDstor::chunk_posts`]).
//!
//! Once an upload is `DONE`, `GET /ipfs/<cid>` answers `308` to a second
//! listener playing a storage node ([`FakeDstor::node_url`]), which answers
//! `/ipfs/<cid>` with a `308` adding the slash and `/ipfs/<cid>/` with the
//! bytes (`Content-Length` set); unknown content gets `404`. The node records
//! what it receives ([`FakeDstor::node_requests`]). [`StorageFault`]s script
//! misbehaviour of the storage endpoints and the node.
//!
//! Dropping the [`FakeDstor`] (or [`FakeDstor::shutdown`]) stops both listeners
//! and every connection, and removes the spool directory.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

mod body;
mod builder;
mod fault;
mod jwt;
mod login;
mod record;
mod server;
mod service;
mod state;
mod storage;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use builder::FakeDstorBuilder;
pub use fault::Fault;
pub use record::RecordedRequest;
pub use storage::{RecordedChunk, RecordedUploadToken, StorageEndpoint, StorageFault, StoredFile};

use state::Shared;

/// A running fake dStor server on a local port.
///
/// Dropping it stops the server: both listeners close, every connection
/// (including hanging and endless answers) is aborted and the spooled uploads
/// are removed.
pub struct FakeDstor {
    addr: SocketAddr,
    api_key: String,
    /// The first accepted login: email and password.
    account: (String, String),
    shared: Arc<Shared>,
    /// Removed (with every spooled upload) when the server is dropped.
    _spool: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakeDstor {
    /// A builder, to choose keys, address, delay or token lifetime.
    pub fn builder() -> FakeDstorBuilder {
        FakeDstorBuilder::default()
    }

    /// Starts a server on `127.0.0.1` with one generated key
    /// (same as `FakeDstor::builder().start()`).
    ///
    /// # Errors
    ///
    /// Fails if no local port can be bound.
    pub async fn start() -> std::io::Result<FakeDstor> {
        Self::builder().start().await
    }

    pub(crate) fn new(
        addr: SocketAddr,
        api_key: String,
        account: (String, String),
        shared: Arc<Shared>,
        spool: tempfile::TempDir,
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            addr,
            api_key,
            account,
            shared,
            _spool: spool,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The base URL, `http://<ip>:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first accepted API key (a generated one is 64 ASCII alphanumerics).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The email of the first accepted account (by default `dev@fake.dstor.test`).
    pub fn email(&self) -> &str {
        &self.account.0
    }

    /// The password of the first accepted account (a generated one is 24 ASCII
    /// alphanumerics).
    pub fn password(&self) -> &str {
        &self.account.1
    }

    /// Every request the main listener received so far, on any path, in
    /// arrival order (the storage node's are [`node_requests`](Self::node_requests)).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// How many requests were received, on any path.
    pub fn request_count(&self) -> usize {
        self.shared.request_count()
    }

    /// How many token requests (`GET` with a key, `POST` with a login) were
    /// received on the token path.
    pub fn token_request_count(&self) -> usize {
        self.shared.token_request_count()
    }

    /// Waits this long before answering every later request (zero: no delay).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.set_delay(delay);
    }

    /// Queues a fault: the next request to the token path that finds no older
    /// fault queued is answered with it.
    pub fn push_fault(&self, fault: Fault) {
        self.shared.push_faults([fault]);
    }

    /// Queues several faults, answered in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.push_faults(faults);
    }

    /// The claims of `token` if and only if it is an HS256 JWT signed by this
    /// server. Expiry is not checked.
    pub fn verify_token(&self, token: &str) -> Option<serde_json::Value> {
        jwt::verify(&self.shared.secret, token)
    }

    /// Stops the server and waits until the listener is closed and every
    /// connection has ended.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeDstor {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl fmt::Debug for FakeDstor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDstor")
            .field("addr", &self.addr)
            .field("api_key", &format_args!("[redacted]"))
            .field("account", &format_args!("[redacted]"))
            .field("keys", &self.shared.keys.len())
            .field("delay", &self.shared.delay())
            .field("pending_faults", &self.shared.pending_faults())
            .field("request_count", &self.shared.request_count())
            .field("node_addr", &self.shared.storage.node_addr)
            .field(
                "pending_storage_faults",
                &self.shared.storage.pending_faults(),
            )
            .finish_non_exhaustive()
    }
}
