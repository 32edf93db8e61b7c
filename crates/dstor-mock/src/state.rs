//! The state shared by the server handle and every connection.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::storage::Storage;
use crate::{Fault, RecordedRequest};

/// Everything the request handler needs, behind an `Arc`.
///
/// No `Debug`: it holds the keys and the secret.
pub(crate) struct Shared {
    /// The accepted API keys.
    pub(crate) keys: Vec<String>,
    /// The accepted logins: email and password.
    pub(crate) accounts: Vec<(String, String)>,
    /// The HS256 signing secret.
    pub(crate) secret: [u8; 32],
    /// When set, the lifetime of every token, whatever `x-expiration` says.
    pub(crate) token_lifetime: Option<Duration>,
    /// The upload flow and the gateway.
    pub(crate) storage: Storage,
    delay: Mutex<Duration>,
    faults: Mutex<VecDeque<Fault>>,
    requests: Mutex<Vec<RecordedRequest>>,
    token_requests: AtomicUsize,
}

/// Locks `mutex`, ignoring poisoning: the data stays consistent at every step.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn new(
        keys: Vec<String>,
        accounts: Vec<(String, String)>,
        secret: [u8; 32],
        token_lifetime: Option<Duration>,
        delay: Duration,
        storage: Storage,
    ) -> Self {
        Self {
            keys,
            accounts,
            secret,
            token_lifetime,
            storage,
            delay: Mutex::new(delay),
            faults: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            token_requests: AtomicUsize::new(0),
        }
    }

    pub(crate) fn delay(&self) -> Duration {
        *lock(&self.delay)
    }

    pub(crate) fn set_delay(&self, delay: Duration) {
        *lock(&self.delay) = delay;
    }

    pub(crate) fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.faults).extend(faults);
    }

    pub(crate) fn next_fault(&self) -> Option<Fault> {
        lock(&self.faults).pop_front()
    }

    pub(crate) fn pending_faults(&self) -> usize {
        lock(&self.faults).len()
    }

    pub(crate) fn record(&self, request: RecordedRequest, token_request: bool) {
        lock(&self.requests).push(request);
        if token_request {
            self.token_requests.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    pub(crate) fn request_count(&self) -> usize {
        lock(&self.requests).len()
    }

    pub(crate) fn token_request_count(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }
}
