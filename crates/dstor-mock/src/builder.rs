//! Configuration of a [`FakeDstor`].

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::FakeDstor;
use crate::server::{accept_loop, bind};
use crate::state::Shared;

/// The length of a generated API key, as dStor issues them.
const GENERATED_KEY_LEN: usize = 64;

/// Configures and starts a [`FakeDstor`].
///
/// By default the server binds `127.0.0.1:0` (a free port), accepts one
/// generated key, answers without delay and signs with a random secret.
#[derive(Clone)]
pub struct FakeDstorBuilder {
    keys: Vec<String>,
    bind: SocketAddr,
    delay: Duration,
    token_lifetime: Option<Duration>,
}

impl Default for FakeDstorBuilder {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            delay: Duration::ZERO,
            token_lifetime: None,
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

    /// Binds the listener and starts serving on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// Fails if the address cannot be bound.
    pub async fn start(self) -> io::Result<FakeDstor> {
        let mut keys = self.keys;
        if keys.is_empty() {
            keys.push(
                std::iter::repeat_with(fastrand::alphanumeric)
                    .take(GENERATED_KEY_LEN)
                    .collect(),
            );
        }
        let mut secret = [0u8; 32];
        fastrand::fill(&mut secret);
        let listener = bind(self.bind)?;
        let addr = listener.local_addr()?;
        let api_key = keys[0].clone();
        let shared = Arc::new(Shared::new(keys, secret, self.token_lifetime, self.delay));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        Ok(FakeDstor::new(addr, api_key, shared, stop, task))
    }
}

impl fmt::Debug for FakeDstorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDstorBuilder")
            .field("keys", &format_args!("[redacted; {}]", self.keys.len()))
            .field("bind", &self.bind)
            .field("delay", &self.delay)
            .field("token_lifetime", &self.token_lifetime)
            .finish()
    }
}
