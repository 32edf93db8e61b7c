use std::sync::Arc;
use std::time::Duration;

use dstor_auth::{
    AccessToken, AuthError, CacheConfig, CachedTokenProvider, RetryPolicy, RetryingProvider,
    TokenProvider, TransportErrorKind,
};
use proptest::prelude::*;
use tokio::time::Instant;

use crate::harness::check;
use crate::upstream::{Answer, Endpoint, ROUND_TRIP, Step, Upstream};

/// Where the library's saturating arithmetic puts "never": a century from now.
const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

fn durations() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_nanos(1)),
        Just(Duration::from_millis(1)),
        Just(Duration::from_secs(1)),
        Just(Duration::from_secs(5)),
        Just(Duration::from_secs(300)),
        Just(Duration::from_secs(86_400)),
        Just(Duration::from_secs(u64::MAX)),
        Just(Duration::MAX),
        any::<u64>().prop_map(Duration::from_nanos),
    ]
}

fn factors() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(0.5),
        Just(0.75),
        Just(1.0),
        Just(-1.0),
        Just(7.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        any::<f64>(),
    ]
}

prop_compose! {
    fn cache_configs()(
        fractions in (factors(), factors(), factors()),
        windows in (durations(), durations(), durations()),
        intervals in (durations(), durations()),
        backoff in (durations(), durations(), durations()),
    ) -> CacheConfig {
        let mut config = CacheConfig::default();
        (config.refresh_ahead, config.jitter, config.must_refresh) = fractions;
        (config.must_refresh_min, config.must_refresh_max, config.default_lifetime) = windows;
        (config.min_fetch_interval, config.min_forced_interval) = intervals;
        (config.retry_backoff, config.max_retry_backoff, config.permanent_error_ttl) = backoff;
        config
    }
}

prop_compose! {
    fn retry_policies()(
        attempts in prop_oneof![Just(0u32), Just(1), Just(2), Just(4), Just(1000), Just(u32::MAX), any::<u32>()],
        waits in (durations(), durations(), durations(), durations()),
    ) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        policy.max_attempts = attempts;
        (policy.initial_backoff, policy.max_backoff, policy.max_retry_after, policy.deadline) = waits;
        policy
    }
}

fn answers() -> impl Strategy<Value = Answer> {
    let lifetime = prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_secs(1)),
        Just(Duration::from_secs(2)),
        Just(Duration::from_secs(3)),
        Just(Duration::from_secs(7)),
        Just(Duration::from_secs(300)),
        Just(Duration::from_secs(3600)),
        Just(Duration::from_secs(10 * 365 * 86_400)),
        Just(Duration::MAX),
    ];
    let retry_after = proptest::option::of(prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_secs(1)),
        Just(Duration::from_secs(3600)),
        Just(Duration::MAX),
    ]);
    prop_oneof![
        4 => lifetime.prop_map(Answer::Jwt),
        1 => Just(Answer::Opaque),
        2 => retry_after.prop_map(Answer::Unavailable),
        1 => Just(Answer::Rejected),
        1 => Just(Answer::Transport(TransportErrorKind::Timeout)),
        1 => Just(Answer::Transport(TransportErrorKind::Connect)),
    ]
}

/// The upstream's script: stalls of up to ten minutes before each answer.
fn scripts() -> impl Strategy<Value = Vec<Step>> {
    let stall = prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_millis(10)),
        Just(Duration::from_millis(999)),
        Just(Duration::from_secs(1)),
        Just(Duration::from_secs(600)),
    ];
    proptest::collection::vec((stall, answers()), 1..6)
}

/// What a caller does, after a pause.
#[derive(Clone, Copy, Debug)]
enum Call {
    Token,
    /// Invalidates the last token it was given (as after a 401), then asks again.
    Invalidate,
    Force,
}

fn callers() -> impl Strategy<Value = Vec<Vec<(Duration, Call)>>> {
    let gap = prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_millis(1)),
        Just(Duration::from_millis(900)),
        Just(Duration::from_secs(1)),
        Just(Duration::from_secs(60)),
        Just(Duration::from_secs(3600)),
        Just(Duration::from_secs(86_400)),
    ];
    let call = prop_oneof![
        6 => Just(Call::Token),
        1 => Just(Call::Invalidate),
        1 => Just(Call::Force),
    ];
    proptest::collection::vec(proptest::collection::vec((gap, call), 1..8), 1..6)
}

/// Runs `work` on a fresh current-thread runtime whose clock starts paused.
fn on_paused_clock<T>(work: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
        .block_on(work)
}

/// Checks an error the stack handed out: one of the kinds the upstream's faults explain
/// (a refresh that panicked would show as `Cancelled`), with a bounded message.
fn check_error(error: &AuthError) -> Result<(), String> {
    let typed = matches!(
        error,
        AuthError::Api(_) | AuthError::Transport(_) | AuthError::ExpiredToken
    );
    let text = error.to_string();
    if !typed || text.is_empty() || text.chars().count() > 500 {
        return Err(format!("an unexpected error: {error:?} ({text})"));
    }
    let _ = (
        error.is_retryable(),
        error.is_permanent(),
        error.retry_after(),
    );
    Ok(())
}

/// A wait from now as the library takes it: as given, or a century when the clock cannot
/// reach it (the library's "never").
fn effective(wait: Duration) -> Duration {
    match Instant::now().checked_add(wait) {
        Some(_) => wait,
        None => CENTURY,
    }
}

/// The longest a call on the cache may take: the cache's least interval between fetches,
/// then the retry policy's whole deadline.
fn call_bound(config: &CacheConfig, policy: &RetryPolicy) -> Duration {
    effective(config.min_fetch_interval)
        .saturating_add(effective(policy.deadline))
        .saturating_add(ROUND_TRIP + Duration::from_secs(1))
}

type Stack = CachedTokenProvider<RetryingProvider<Endpoint>>;

/// One caller's calls; the first broken promise, if any.
async fn caller(
    stack: Arc<Stack>,
    upstream: Arc<Upstream>,
    calls: Vec<(Duration, Call)>,
    bound: Duration,
) -> Result<(), String> {
    let mut last: Option<AccessToken> = None;
    for (gap, call) in calls {
        tokio::time::sleep(gap).await;
        let started = Instant::now();
        let result = match call {
            Call::Token => tokio::time::timeout(bound, stack.token()).await,
            Call::Invalidate => {
                if let Some(token) = &last {
                    stack.invalidate(token);
                }
                tokio::time::timeout(bound, stack.token()).await
            }
            Call::Force => tokio::time::timeout(bound, stack.force_refresh()).await,
        };
        match result {
            Err(_) => return Err(format!("{call:?} did not end within {bound:?}")),
            Ok(Ok(token)) => {
                upstream
                    .is_valid_now(&token)
                    .map_err(|e| format!("{call:?} after {:?}: {e}", started.elapsed()))?;
                last = Some(token);
            }
            Ok(Err(error)) => check_error(&error)?,
        }
    }
    Ok(())
}

/// The cache over the retrying provider, both configured with extreme values, and
/// callers that ask, invalidate and force refreshes at any pace: every call ends by
/// its bound with a token the upstream considers unexpired or a typed error; the
/// upstream sees at most `max_attempts` requests per fetch; dropping the cache leaves
/// no task behind.
#[test]
fn extreme_configs_never_panic_hang_or_serve_an_expired_token() {
    let cases = (
        cache_configs(),
        retry_policies(),
        scripts(),
        1..500u64,
        callers(),
    );
    check(
        "extreme_configs",
        file!(),
        cases,
        |(config, policy, script, outage_cap, callers)| {
            let outcome = on_paused_clock(async move {
                let upstream = Arc::new(Upstream::new(script, outage_cap));
                let bound = call_bound(&config, &policy);
                let attempts = u64::from(policy.max_attempts.max(1));
                let retrying = RetryingProvider::new(Endpoint(Arc::clone(&upstream)), policy);
                let stack = Arc::new(CachedTokenProvider::with_config(retrying, config));
                let mut tasks = tokio::task::JoinSet::new();
                for calls in callers {
                    tasks.spawn(caller(
                        Arc::clone(&stack),
                        Arc::clone(&upstream),
                        calls,
                        bound,
                    ));
                }
                while let Some(done) = tasks.join_next().await {
                    done.map_err(|e| format!("a caller panicked: {e}"))??;
                }
                let fetches = stack.status().fetches;
                if upstream.calls() > fetches.saturating_mul(attempts) {
                    return Err(format!(
                        "{} upstream requests for {fetches} fetches of at most {attempts} attempts",
                        upstream.calls()
                    ));
                }
                drop(stack);
                // A refresh still stalled on the upstream is stopped with its cache.
                tokio::time::sleep(Duration::from_secs(601)).await;
                let alive = tokio::runtime::Handle::current()
                    .metrics()
                    .num_alive_tasks();
                if alive != 0 {
                    return Err(format!("{alive} tasks left behind"));
                }
                Ok(())
            });
            prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
            Ok(())
        },
    );
}

/// The retrying provider alone: a call ends by the policy's deadline (or a century,
/// for `Duration::MAX`) with the upstream's token or a typed error, after at most
/// `max_attempts` upstream requests.
#[test]
fn a_retried_call_ends_by_its_deadline() {
    let cases = (retry_policies(), scripts(), 1..500u64);
    check(
        "retried_call",
        file!(),
        cases,
        |(policy, script, outage_cap)| {
            let outcome = on_paused_clock(async move {
                let upstream = Arc::new(Upstream::new(script, outage_cap));
                let deadline = effective(policy.deadline);
                let attempts = u64::from(policy.max_attempts.max(1));
                let retrying = RetryingProvider::new(Endpoint(Arc::clone(&upstream)), policy);
                let started = Instant::now();
                let result = tokio::time::timeout(deadline + ROUND_TRIP, retrying.token()).await;
                let took = started.elapsed();
                match result {
                    Err(_) => return Err(format!("no answer within {deadline:?}")),
                    // Passed on as the upstream gave it: judging its expiry is the cache's job.
                    Ok(Ok(token)) => upstream.was_minted(&token)?,
                    Ok(Err(error)) => check_error(&error)?,
                }
                // Tokio's timer counts whole milliseconds.
                if took > deadline + Duration::from_millis(1) {
                    return Err(format!("took {took:?}, past the deadline {deadline:?}"));
                }
                if upstream.calls() > attempts {
                    return Err(format!(
                        "{} requests, {attempts} attempts allowed",
                        upstream.calls()
                    ));
                }
                Ok(())
            });
            prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
            Ok(())
        },
    );
}

/// Found by `extreme_configs_never_panic_hang_or_serve_an_expired_token`: a token whose
/// `exp` equals its `iat` was measured by the server's whole-second `Date` alone and
/// served for up to a second after it expired; a token claiming one second was trusted
/// for half of it, though its whole-second claims allow it as little as none.
#[test]
fn a_token_that_claims_a_second_or_less_is_never_served() {
    // Minted early in the server's second, and late in it (its `Date` and `iat` floor).
    for (stall, lifetime) in [
        (Duration::ZERO, Duration::ZERO),
        (Duration::from_millis(700), Duration::ZERO),
        (Duration::ZERO, Duration::from_secs(1)),
        (Duration::from_millis(700), Duration::from_secs(1)),
    ] {
        let outcome = on_paused_clock(async move {
            let upstream = Arc::new(Upstream::new(vec![(stall, Answer::Jwt(lifetime))], 10));
            let retrying =
                RetryingProvider::new(Endpoint(Arc::clone(&upstream)), RetryPolicy::none());
            let cache = CachedTokenProvider::new(retrying);
            cache.token().await
        });
        assert!(
            matches!(outcome, Err(AuthError::ExpiredToken)),
            "{stall:?} {lifetime:?}: {outcome:?}"
        );
    }
}
