//! Configuration of a [`FakeDstor`].

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::FakeDstor;
use crate::login::{GENERATED_EMAIL, GENERATED_PASSWORD_LEN};
use crate::server::{accept_loop, bind};
use crate::state::Shared;
use crate::storage::Storage;

/// The length of a generated API key, as dStor issues them.
const GENERATED_KEY_LEN: usize = 64;

/// The default largest chunk body: 4 GiB.
const DEFAULT_MAX_UPLOAD_BYTES: u64 = 4 << 30;

/// Configures and starts a [`FakeDstor`].
///
/// By default the server binds `127.0.0.1:0` (a free port), accepts one
/// generated key and one account (`dev@fake.dstor.test` with a generated
/// password), answers without delay, signs with a random secret and
/// accepts chunks of up to 4 GiB. The storage node listens on another free
/// port of the same address.
#[derive(Clone)]
pub struct FakeDstorBuilder {
    keys: Vec<String>,
    accounts: Vec<(String, String)>,
    bind: SocketAddr,
    delay: Duration,
    token_lifetime: Option<Duration>,
    max_upload_bytes: u64,
}

impl Default for FakeDstorBuilder {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            accounts: Vec::new(),
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            delay: Duration::ZERO,
            token_lifetime: None,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
        }
    }
}

impl FakeDstorBuilder {
    /// Accepts this API key. May be called repeatedly; once any key is given,
    /// no key is generated. The first key is [`FakeDstor::api_key`].
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.keys.push(key.into());
        self
    }

    /// Accepts each of these API keys, as [`key`](Self::key) does.
    pub fn keys<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Accepts this account's login (`POST /v1/dev/temp-token` with JSON
    /// `{"email": …, "password": …}`; the email compared without case). May be
    /// called repeatedly; once any account is given, none is generated. The
    /// first is [`FakeDstor::email`] and [`FakeDstor::password`].
    pub fn account(mut self, email: impl Into<String>, password: impl Into<String>) -> Self {
        self.accounts.push((email.into(), password.into()));
        self
    }

    /// Binds this address instead of `127.0.0.1:0`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Waits this long before answering every request (see
    /// [`FakeDstor::set_delay`]).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Makes every token live exactly this long (`exp = iat + lifetime`, in
    /// whole seconds), whatever `x-expiration` asks for. A malformed or past
    /// `x-expiration` is still refused with `400`.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = Some(lifetime);
        self
    }

    /// Refuses a chunk (`POST /v1/upload/`) whose body is larger than this
    /// with `413`: at once when its `Content-Length` says so, else when the
    /// limit is crossed.
    pub fn max_upload_bytes(mut self, bytes: u64) -> Self {
        self.max_upload_bytes = bytes;
        self
    }

    /// Binds the listeners and starts serving on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// Fails if an address cannot be bound or the spool directory cannot be
    /// created in the system's temporary directory.
    pub async fn start(self) -> io::Result<FakeDstor> {
        let mut keys = self.keys;
        if keys.is_empty() {
            keys.push(
                std::iter::repeat_with(fastrand::alphanumeric)
                    .take(GENERATED_KEY_LEN)
                    .collect(),
            );
        }
        let mut accounts = self.accounts;
        if accounts.is_empty() {
            let password = std::iter::repeat_with(fastrand::alphanumeric)
                .take(GENERATED_PASSWORD_LEN)
                .collect();
            accounts.push((GENERATED_EMAIL.to_owned(), password));
        }
        let account = accounts[0].clone();
        let mut secret = [0u8; 32];
        fastrand::fill(&mut secret);
        let listener = bind(self.bind)?;
        let addr = listener.local_addr()?;
        let node = bind(SocketAddr::new(addr.ip(), 0))?;
        let node_addr = node.local_addr()?;
        let spool = tempfile::Builder::new().prefix("dstor-mock-").tempdir()?;
        let storage = Storage::new(spool.path().to_owned(), self.max_upload_bytes, node_addr);
        let api_key = keys[0].clone();
        let shared = Arc::new(Shared::new(
            keys,
            accounts,
            secret,
            self.token_lifetime,
            self.delay,
            storage,
        ));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, node, Arc::clone(&shared), stopped));
        Ok(FakeDstor::new(
            addr, api_key, account, shared, spool, stop, task,
        ))
    }
}

impl fmt::Debug for FakeDstorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDstorBuilder")
            .field("keys", &format_args!("[redacted; {}]", self.keys.len()))
            .field(
                "accounts",
                &format_args!("[redacted; {}]", self.accounts.len()),
            )
            .field("bind", &self.bind)
            .field("delay", &self.delay)
            .field("token_lifetime", &self.token_lifetime)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .finish()
    }
}
