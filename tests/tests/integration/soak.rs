//! The fault soak: `Tokens` (cache and retries) and `AuthorizedTransport` against an
//! in-process fake of dStor that injects seeded random faults, over a simulated day with
//! hundreds of concurrent callers, on Tokio's paused clock.
//!
//! The fake plays the token endpoint and one API endpoint. It mints JWTs by its own
//! simulated clock and checks every bearer it receives against that clock, so an expired
//! token served by the cache is seen where a real server would see it. Faults: 5xx, 429
//! with `Retry-After`, refused connections, dropped connections, stalls (no answer until
//! the transport's timeout), 401s that revoke the token, and token-endpoint outages of
//! several minutes (long enough for a token to expire).
//!
//! The default run is small (a few seconds of wall time). A larger one, for manual runs:
//! `DSTOR_SOAK_CALLERS=1000 DSTOR_SOAK_HOURS=72 DSTOR_SOAK_SEED=7 cargo test -p dstor-tests
//! --test integration soak -- --nocapture`.

#![allow(
    clippy::print_stdout,
    reason = "the soak prints its seed and counts, to replay a failure"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dstor_auth::fake::fake_jwt;
use dstor_auth::{
    AuthorizedTransport, CacheConfig, HttpTransport, RetryPolicy, StaticTokenProvider,
    TokenLifetime, Tokens, TransportError, TransportErrorKind, async_trait,
};
use dstor_types::{ApiKey, BaseUrl};
use http::{Request, Response, StatusCode, header};
use tokio::time::Instant;

const BASE: &str = "http://127.0.0.1:8080";
const API_PATH: &str = "/v1/upload/get-status/";
/// The Unix second at which the simulated day starts.
const EPOCH: u64 = 1_800_000_000;
/// The lifetime of every token the fake mints (`exp − iat`).
const TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Simulated seconds between the starts of two token-endpoint outages, on average.
const OUTAGE_EVERY: f64 = 4.0 * 3600.0;
/// How long a stalled request hangs before the transport gives up, as a client's request
/// timeout would.
const TRANSPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The size of a run: from the environment for manual runs, small by default.
#[derive(Clone, Copy, Debug)]
struct Size {
    callers: usize,
    duration: Duration,
    seed: u64,
}

impl Size {
    fn from_env() -> Self {
        let var = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(default)
        };
        Self {
            callers: var("DSTOR_SOAK_CALLERS", 200) as usize,
            duration: Duration::from_secs(var("DSTOR_SOAK_HOURS", 24) * 3600),
            seed: var("DSTOR_SOAK_SEED", 8),
        }
    }
}

/// What the fake injects, per request, in percent.
#[derive(Clone, Copy, Debug)]
struct FaultRates {
    server_error: u32,
    throttled: u32,
    refused: u32,
    dropped: u32,
    stalled: u32,
    /// API endpoint only: the bearer is rejected, and stays rejected.
    revoked: u32,
}

const TOKEN_FAULTS: FaultRates = FaultRates {
    server_error: 4,
    throttled: 3,
    refused: 2,
    dropped: 2,
    stalled: 2,
    revoked: 0,
};

const API_FAULTS: FaultRates = FaultRates {
    server_error: 3,
    throttled: 2,
    refused: 1,
    dropped: 1,
    stalled: 1,
    revoked: 1,
};

/// A fault the fake injected, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fault {
    ServerError,
    Throttled,
    Refused,
    Dropped,
    Stalled,
    Revoked,
    Outage,
}

impl FaultRates {
    fn draw(&self, rng: &mut fastrand::Rng) -> Option<Fault> {
        let mut roll = rng.u32(0..100);
        for (rate, fault) in [
            (self.server_error, Fault::ServerError),
            (self.throttled, Fault::Throttled),
            (self.refused, Fault::Refused),
            (self.dropped, Fault::Dropped),
            (self.stalled, Fault::Stalled),
            (self.revoked, Fault::Revoked),
        ] {
            if roll < rate {
                return Some(fault);
            }
            roll -= rate;
        }
        None
    }
}

/// What the fake saw.
#[derive(Debug, Default)]
struct Ledger {
    token_requests: u64,
    tokens_minted: u64,
    api_requests: u64,
    token_faults: HashMap<Fault, u64>,
    api_faults: HashMap<Fault, u64>,
    /// Bearers received after their `exp` by the fake's clock.
    expired_bearers: u64,
    /// How long after its `exp` the latest of those came, in seconds.
    worst_lateness: f64,
    /// Bearers the fake never minted.
    unknown_bearers: u64,
    /// API requests without a bearer, or with the API key.
    misaddressed: u64,
    /// Tokens revoked by an injected 401.
    revocations: u64,
}

struct State {
    rng: fastrand::Rng,
    /// Every token minted: its text and its `exp` (Unix seconds).
    minted: HashMap<String, u64>,
    revoked: std::collections::HashSet<String>,
    /// The token endpoint answers nothing but faults until then (simulated seconds).
    outage_until: f64,
    ledger: Ledger,
}

/// dStor in a box: the token endpoint and one API endpoint, on a simulated clock that is
/// Tokio's (paused) clock plus [`EPOCH`].
#[derive(Clone)]
struct FakeDstor {
    start: Instant,
    seed: u64,
    api_key: String,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeDstor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDstor").finish_non_exhaustive()
    }
}

impl FakeDstor {
    fn new(seed: u64, api_key: &str) -> Self {
        Self {
            start: Instant::now(),
            seed,
            api_key: api_key.to_owned(),
            state: Arc::new(Mutex::new(State {
                rng: fastrand::Rng::with_seed(seed),
                minted: HashMap::new(),
                revoked: Default::default(),
                outage_until: 0.0,
                ledger: Ledger::default(),
            })),
        }
    }

    /// The simulated Unix time, in seconds.
    fn now(&self) -> f64 {
        EPOCH as f64 + self.start.elapsed().as_secs_f64()
    }

    fn token_endpoint(&self, request: &Request<Vec<u8>>) -> Result<Answer, Fault> {
        let now = self.now();
        let mut guard = self.state.lock().unwrap();
        let state = &mut *guard;
        state.ledger.token_requests += 1;
        assert_eq!(
            request.headers().get("api-key").map(|v| v.as_bytes()),
            Some(self.api_key.as_bytes()),
            "the token request carries the API key"
        );
        assert!(
            !request.headers().contains_key(header::AUTHORIZATION),
            "no bearer goes to the token endpoint"
        );
        // One outage of 2 to 12 minutes in every four hours, at a random moment: longer
        // than the must-refresh window, so the cached token expires while it lasts.
        let block = ((now - EPOCH as f64) / OUTAGE_EVERY).floor();
        let mut outage = fastrand::Rng::with_seed(self.seed ^ (block as u64).wrapping_mul(0x9E37));
        let starts = EPOCH as f64 + block * OUTAGE_EVERY + f64::from(outage.u32(0..13_000));
        let ends = starts + f64::from(outage.u32(120..720));
        state.outage_until = if (starts..ends).contains(&now) {
            ends
        } else {
            0.0
        };
        let fault = if now < state.outage_until {
            Some(Fault::Outage)
        } else {
            TOKEN_FAULTS.draw(&mut state.rng)
        };
        if let Some(fault) = fault {
            *state.ledger.token_faults.entry(fault).or_default() += 1;
            return Err(fault);
        }
        let iat = now.floor() as u64;
        let exp = iat + TOKEN_LIFETIME.as_secs();
        state.ledger.tokens_minted += 1;
        let sub = format!("soak-{}", state.ledger.tokens_minted);
        let token = fake_jwt(iat as i64, exp as i64, &sub);
        state.minted.insert(token.clone(), exp);
        Ok(Answer::Json(format!(r#"{{"access_token":"{token}"}}"#)))
    }

    fn api_endpoint(&self, request: &Request<Vec<u8>>) -> Result<Answer, Fault> {
        let now = self.now();
        let mut guard = self.state.lock().unwrap();
        let state = &mut *guard;
        state.ledger.api_requests += 1;
        if request.headers().contains_key("api-key") {
            state.ledger.misaddressed += 1;
        }
        let bearer = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let Some(bearer) = bearer else {
            state.ledger.misaddressed += 1;
            return Ok(Answer::Status(StatusCode::UNAUTHORIZED));
        };
        match state.minted.get(&bearer) {
            None => {
                state.ledger.unknown_bearers += 1;
                return Ok(Answer::Status(StatusCode::UNAUTHORIZED));
            }
            Some(&exp) if now >= exp as f64 => {
                state.ledger.expired_bearers += 1;
                state.ledger.worst_lateness = state.ledger.worst_lateness.max(now - exp as f64);
                return Ok(Answer::Status(StatusCode::UNAUTHORIZED));
            }
            Some(_) => {}
        }
        if state.revoked.contains(&bearer) {
            return Ok(Answer::Status(StatusCode::UNAUTHORIZED));
        }
        let fault = API_FAULTS.draw(&mut state.rng);
        if let Some(fault) = fault {
            *state.ledger.api_faults.entry(fault).or_default() += 1;
            if fault == Fault::Revoked {
                state.ledger.revocations += 1;
                state.revoked.insert(bearer);
            }
            return Err(fault);
        }
        Ok(Answer::Json(r#"{"status":"DONE","data":[]}"#.to_owned()))
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

enum Answer {
    Json(String),
    Status(StatusCode),
}

#[async_trait]
impl HttpTransport for FakeDstor {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let path = request.uri().path().to_owned();
        let answer = match path.as_str() {
            "/v1/dev/temp-token" => self.token_endpoint(&request),
            API_PATH => self.api_endpoint(&request),
            other => panic!("the soak sends nothing to {other}"),
        };
        let date = httpdate_of(self.now());
        let respond = |status: StatusCode, body: Vec<u8>| {
            let mut response = Response::new(body);
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(header::DATE, date.parse().unwrap());
            response
        };
        match answer {
            Ok(Answer::Json(body)) => Ok(respond(StatusCode::OK, body.into_bytes())),
            Ok(Answer::Status(status)) => Ok(respond(status, Vec::new())),
            Err(Fault::ServerError | Fault::Outage) => Ok(respond(
                StatusCode::SERVICE_UNAVAILABLE,
                br#"{"message":"try later"}"#.to_vec(),
            )),
            Err(Fault::Throttled) => {
                let mut response = respond(StatusCode::TOO_MANY_REQUESTS, Vec::new());
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, "2".parse().unwrap());
                Ok(response)
            }
            Err(Fault::Refused) => Err(TransportError::new(TransportErrorKind::Connect)),
            Err(Fault::Dropped) => Err(TransportError::new(TransportErrorKind::Connection)),
            Err(Fault::Stalled) => {
                tokio::time::sleep(TRANSPORT_TIMEOUT).await;
                Err(TransportError::new(TransportErrorKind::Timeout))
            }
            Err(Fault::Revoked) => Ok(respond(StatusCode::UNAUTHORIZED, Vec::new())),
        }
    }
}

/// An IMF-fixdate for a Unix time, as a server's `Date` header.
fn httpdate_of(unix: f64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(unix.floor() as u64))
}

/// How one call ended, as a caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Outcome {
    Ok,
    /// An answer with this status, passed through (5xx, 429, a 401 the retry did not cure).
    Status(u16),
    /// A typed transport error.
    Error(&'static str),
    /// No answer by the caller's deadline: the soak fails.
    Late,
}

fn kind_name(kind: TransportErrorKind) -> &'static str {
    match kind {
        TransportErrorKind::Connect => "connect",
        TransportErrorKind::Timeout => "timeout",
        TransportErrorKind::Connection => "connection",
        TransportErrorKind::NoToken { .. } => "no-token",
        TransportErrorKind::TokenRejected => "token-rejected",
        TransportErrorKind::ForeignOrigin => "foreign-origin",
        _ => "other",
    }
}

#[tokio::test(start_paused = true)]
async fn a_simulated_day_of_faults_serves_no_expired_token_and_leaves_no_task() {
    let size = Size::from_env();
    // The cache's jitter draws from fastrand's thread-local generator: seed it too, so a
    // run is repeatable (the runtime is single-threaded).
    fastrand::seed(size.seed);
    let key = "soakSOAKsoak".repeat(6)[..64].to_owned();
    let dstor = FakeDstor::new(size.seed, &key);
    let retry = RetryPolicy::default();
    let cache = CacheConfig::default();
    let tokens = Tokens::builder(dstor.clone())
        .endpoint(BASE)
        .api_key(ApiKey::new(key.clone()).unwrap())
        .token_lifetime(TokenLifetime::ServerDefault)
        .retry_policy(retry.clone())
        .cache_config(cache.clone())
        .build()
        .unwrap();
    let api = Arc::new(
        AuthorizedTransport::new(dstor.clone(), tokens.clone(), BaseUrl::parse(BASE).unwrap())
            .unwrap(),
    );

    // A caller's deadline covers the worst a call may legitimately take: the retry
    // policy's whole deadline for a token, then two API requests (one after a 401) that
    // each stall until the transport's timeout.
    let deadline = retry.deadline + 2 * TRANSPORT_TIMEOUT + Duration::from_secs(1);
    let end = Instant::now() + size.duration;
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..size.callers {
        let api = Arc::clone(&api);
        let mut rng = fastrand::Rng::with_seed(size.seed ^ ((caller as u64 + 1) << 20));
        callers.spawn(async move {
            let mut outcomes: HashMap<Outcome, u64> = HashMap::new();
            // Start at a random moment of the first minute, then call every 1 s to 1 h
            // (a small default run; the load per token matters, not the calls).
            tokio::time::sleep(Duration::from_millis(rng.u64(0..60_000))).await;
            while Instant::now() < end {
                let request = Request::get(format!("{BASE}{API_PATH}"))
                    .body(Vec::new())
                    .unwrap();
                let outcome = match tokio::time::timeout(deadline, api.send(request)).await {
                    Ok(Ok(response)) if response.status().is_success() => Outcome::Ok,
                    Ok(Ok(response)) => Outcome::Status(response.status().as_u16()),
                    Ok(Err(error)) => Outcome::Error(kind_name(error.kind())),
                    Err(_) => Outcome::Late,
                };
                *outcomes.entry(outcome).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(rng.u64(1_000..3_600_000))).await;
            }
            outcomes
        });
    }
    let mut outcomes: HashMap<Outcome, u64> = HashMap::new();
    while let Some(done) = callers.join_next().await {
        for (outcome, n) in done.expect("no caller panics") {
            *outcomes.entry(outcome).or_default() += n;
        }
    }
    let status = tokens.status();
    drop(api);
    drop(tokens);
    // Whatever the cache spawned ends with its last handle (a refresh in flight may still
    // have to run out: give it the transport's timeout).
    tokio::time::sleep(TRANSPORT_TIMEOUT + Duration::from_secs(1)).await;
    let alive = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();

    let state = dstor.ledger();
    let ledger = &state.ledger;
    let mut sorted: Vec<_> = outcomes.iter().collect();
    sorted.sort();
    let mut token_faults: Vec<_> = ledger.token_faults.iter().collect();
    token_faults.sort();
    let mut api_faults: Vec<_> = ledger.api_faults.iter().collect();
    api_faults.sort();

    // The bound on tokens minted. A token is replaced at the earliest at its refresh-ahead
    // point, (refresh_ahead − jitter) of its lifetime, so over the run at most
    // run / that + 1 scheduled fetches succeed; every other success follows an
    // invalidation, and an invalidation that replaces a token follows a revocation.
    let earliest_refresh = TOKEN_LIFETIME.mul_f64(cache.refresh_ahead - cache.jitter);
    let scheduled =
        (size.duration.as_secs_f64() / earliest_refresh.as_secs_f64()).ceil() as u64 + 1;
    let minted_bound = scheduled + ledger.revocations;
    // Every upstream request is one attempt of a cache fetch, and a fetch makes at most
    // `max_attempts` of them.
    let requests_bound = status.fetches * u64::from(retry.max_attempts);
    let calls: u64 = outcomes.values().sum();
    println!(
        "soak: seed {} callers {} simulated {}h calls {calls} api requests {} \
         token requests {} (bound {requests_bound}) tokens minted {} (bound {minted_bound}) \
         cache fetches {} failures {} revocations {} expired bearers {} (latest {:.3} s late) unknown bearers {} \
         misaddressed {} token faults {token_faults:?} api faults {api_faults:?} \
         outcomes {sorted:?} tasks alive at the end {alive}",
        size.seed,
        size.callers,
        size.duration.as_secs() / 3600,
        ledger.api_requests,
        ledger.token_requests,
        ledger.tokens_minted,
        status.fetches,
        status.failures,
        ledger.revocations,
        ledger.expired_bearers,
        ledger.worst_lateness,
        ledger.unknown_bearers,
        ledger.misaddressed,
    );

    assert!(calls > 0 && ledger.api_requests > 0, "the callers ran");
    assert!(
        outcomes.get(&Outcome::Ok).copied().unwrap_or(0) * 2 > calls,
        "most calls succeed despite the faults"
    );
    assert!(
        ledger.token_faults.contains_key(&Fault::Outage)
            && ledger.token_faults.contains_key(&Fault::Stalled)
            && ledger.api_faults.contains_key(&Fault::Revoked),
        "the run exercised outages, stalls and revocations"
    );
    assert_eq!(ledger.expired_bearers, 0, "no expired token was served");
    assert_eq!(
        ledger.unknown_bearers, 0,
        "every bearer was one the fake minted"
    );
    assert_eq!(
        ledger.misaddressed, 0,
        "no API key to the API, every request authorized"
    );
    assert!(
        ledger.tokens_minted <= minted_bound,
        "{} tokens minted, bound {minted_bound}",
        ledger.tokens_minted
    );
    assert!(
        ledger.token_requests <= requests_bound,
        "{} token requests, bound {requests_bound}",
        ledger.token_requests
    );
    assert_eq!(
        outcomes.get(&Outcome::Late),
        None,
        "every call ended by its deadline"
    );
    assert!(
        !outcomes.contains_key(&Outcome::Error("other"))
            && !outcomes.contains_key(&Outcome::Error("foreign-origin")),
        "every error is of a kind the faults explain: {sorted:?}"
    );
    assert_eq!(alive, 0, "no task is left behind");
}

/// The soak's own check can fail: a token the fake minted, held past its `exp` by a
/// provider that does not look, is counted as an expired bearer.
#[tokio::test(start_paused = true)]
async fn the_fake_counts_a_bearer_sent_after_its_expiry() {
    let dstor = FakeDstor::new(1, &"k".repeat(64));
    let token = {
        let mut state = dstor.ledger();
        let exp = EPOCH + TOKEN_LIFETIME.as_secs();
        let token = fake_jwt(EPOCH as i64, exp as i64, "control");
        state.minted.insert(token.clone(), exp);
        token
    };
    let api = AuthorizedTransport::new(
        dstor.clone(),
        StaticTokenProvider::new(token).unwrap(),
        BaseUrl::parse(BASE).unwrap(),
    )
    .unwrap();
    let get = || {
        Request::get(format!("{BASE}{API_PATH}"))
            .body(Vec::new())
            .unwrap()
    };
    // Faults may answer the first request; its bearer is fresh either way.
    let _ = api.send(get()).await;
    assert_eq!(dstor.ledger().ledger.expired_bearers, 0);
    tokio::time::advance(TOKEN_LIFETIME).await;
    let answer = api.send(get()).await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(dstor.ledger().ledger.expired_bearers, 1);
}
