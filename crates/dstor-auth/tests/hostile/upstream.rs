use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dstor_auth::{
    AccessToken, ApiError, AuthError, TokenProvider, TransportError, TransportErrorKind,
    async_trait,
};
use tokio::time::Instant;

/// The Unix second the simulated clock starts at.
const EPOCH: u64 = 1_800_000_000;
/// The last second of the year 9999, where a minted `exp` saturates.
const LAST_EXP: u64 = 253_402_300_799;
/// The time every answer takes at least, as a network round trip would.
pub(crate) const ROUND_TRIP: Duration = Duration::from_millis(1);

/// What one upstream call answers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Answer {
    /// A JWT whose `exp − iat` is this, with the server's `Date`.
    Jwt(Duration),
    /// A token without an expiry.
    Opaque,
    /// 503, with this `Retry-After`.
    Unavailable(Option<Duration>),
    /// 401: permanent.
    Rejected,
    /// The request timed out, or the connection was refused.
    Transport(TransportErrorKind),
}

/// One call's script: wait this long, then answer.
pub(crate) type Step = (Duration, Answer);

/// The fake: answers from a script (repeated), then, after `outage_cap` calls, only with
/// hour-long JWTs (an outage ends), so that a policy of endless retries still ends.
#[derive(Debug)]
pub(crate) struct Upstream {
    script: Vec<Step>,
    outage_cap: u64,
    start: Instant,
    calls: AtomicU64,
    /// Every token minted, and the moment (Tokio's clock) its `exp` passes, if it has one.
    minted: Mutex<HashMap<String, Option<Instant>>>,
}

impl Upstream {
    pub(crate) fn new(script: Vec<Step>, outage_cap: u64) -> Self {
        Self {
            script,
            outage_cap,
            start: Instant::now(),
            calls: AtomicU64::new(0),
            minted: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Whether `token` was minted here and is unexpired now, by the server's clock.
    pub(crate) fn is_valid_now(&self, token: &AccessToken) -> Result<(), String> {
        let minted = self.minted.lock().unwrap();
        match minted.get(token.expose_secret()) {
            None => Err("a token the upstream never minted".into()),
            Some(Some(expiry)) if Instant::now() >= *expiry => Err(format!(
                "a token served {:?} after it expired",
                Instant::now() - *expiry
            )),
            Some(_) => Ok(()),
        }
    }

    /// Whether `token` was minted here.
    pub(crate) fn was_minted(&self, token: &AccessToken) -> Result<(), String> {
        match self
            .minted
            .lock()
            .unwrap()
            .contains_key(token.expose_secret())
        {
            true => Ok(()),
            false => Err("a token the upstream never minted".into()),
        }
    }

    /// The simulated Unix time, whole seconds (as `iat` and `Date` carry it).
    fn unix_now(&self) -> u64 {
        EPOCH + self.start.elapsed().as_secs()
    }

    fn mint(&self, n: u64, answer: Answer) -> Result<AccessToken, AuthError> {
        let lifetime = match answer {
            Answer::Jwt(lifetime) => lifetime,
            Answer::Opaque => {
                let text = format!("opaque-{n}");
                self.minted.lock().unwrap().insert(text.clone(), None);
                return Ok(AccessToken::new(text).expect("a valid token"));
            }
            Answer::Unavailable(retry_after) => {
                return Err(ApiError::Server {
                    status: 503,
                    retry_after,
                    message: None,
                }
                .into());
            }
            Answer::Rejected => {
                return Err(ApiError::KeyRejected {
                    status: 401,
                    message: None,
                }
                .into());
            }
            Answer::Transport(kind) => return Err(TransportError::new(kind).into()),
        };
        let iat = self.unix_now();
        let exp = iat.saturating_add(lifetime.as_secs()).min(LAST_EXP);
        let expiry = self.start.checked_add(Duration::from_secs(exp - EPOCH));
        let claims = format!(r#"{{"iat":{iat},"exp":{exp},"sub":"t{n}"}}"#);
        let text = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        );
        self.minted.lock().unwrap().insert(text.clone(), expiry);
        let token = AccessToken::new(text).expect("a valid JWT");
        // The server's `Date`, whole seconds, read on arrival by the local wall clock.
        let date = UNIX_EPOCH + Duration::from_secs(iat);
        Ok(token.with_server_date(date, SystemTime::now()))
    }
}

/// The provider over a shared [`Upstream`], which the test keeps to check what was served.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint(pub Arc<Upstream>);

#[async_trait]
impl TokenProvider for Endpoint {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let this = &*self.0;
        let n = this.calls.fetch_add(1, Ordering::SeqCst);
        let (stall, answer) = if n >= this.outage_cap || this.script.is_empty() {
            (Duration::ZERO, Answer::Jwt(Duration::from_secs(3600)))
        } else {
            this.script[(n % this.script.len() as u64) as usize]
        };
        tokio::time::sleep(ROUND_TRIP.saturating_add(stall)).await;
        this.mint(n, answer)
    }
}
