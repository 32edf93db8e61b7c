//! The cache's behaviour, on Tokio's paused clock, against a scripted provider that counts
//! its calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use dstor_types::ApiError;
use futures_util::FutureExt as _;
use tokio::time::{Instant, advance};

use super::*;
use crate::fake::{Minted, ScriptedProvider};

const HOUR: Duration = Duration::from_secs(3600);

fn unavailable() -> AuthError {
    ApiError::Server {
        status: 503,
        retry_after: None,
        message: None,
    }
    .into()
}

fn rejected() -> AuthError {
    ApiError::KeyRejected {
        status: 401,
        message: None,
    }
    .into()
}

fn cache(provider: ScriptedProvider) -> CachedTokenProvider<Arc<ScriptedProvider>> {
    cache_with(Arc::new(provider), CacheConfig::default())
}

pub(super) fn cache_with<P: TokenProvider + 'static>(
    provider: P,
    config: CacheConfig,
) -> CachedTokenProvider<P> {
    CachedTokenProvider::with_config(provider, config)
}

/// Lets spawned refresh tasks run to completion on the current-thread runtime.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_cold_callers_make_one_request() {
    let cache = Arc::new(cache(
        ScriptedProvider::new().with_delay(Duration::from_millis(20)),
    ));
    let callers: Vec<_> = (0..10_000)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { cache.token().await })
        })
        .collect();
    let mut tokens = Vec::with_capacity(callers.len());
    for caller in callers {
        tokens.push(caller.await.unwrap().unwrap());
    }
    assert_eq!(cache.inner().calls(), 1);
    assert_eq!(cache.inner().max_concurrent(), 1);
    assert!(tokens.iter().all(|t| t.same_token(&tokens[0])));
}

#[tokio::test(start_paused = true)]
async fn a_day_of_one_hour_tokens_never_makes_a_caller_wait() {
    let cache = cache(ScriptedProvider::new());
    cache.token().await.unwrap();
    let start = Instant::now();
    let mut waited = 0;
    while start.elapsed() < 24 * HOUR {
        advance(Duration::from_secs(10)).await;
        settle().await;
        match cache.token().now_or_never() {
            Some(result) => {
                result.unwrap();
            }
            None => waited += 1,
        }
    }
    assert_eq!(waited, 0, "callers waited on the network");
    // One token per ~45 minutes: refreshes start at 75 % of the hour, less jitter.
    let calls = cache.inner().calls();
    assert!(
        (25..=35).contains(&calls),
        "{calls} upstream calls in 24 hours"
    );
}

#[tokio::test(start_paused = true)]
async fn failed_refreshes_keep_the_valid_token_until_it_expires() {
    let cache = cache(ScriptedProvider::new());
    let first = cache.token().await.unwrap();
    cache.inner().fail_always(Some(unavailable()));
    let start = Instant::now();
    // Until just before expiry, every caller gets the valid token.
    while start.elapsed() + Duration::from_secs(5) < HOUR - Duration::from_secs(2) {
        advance(Duration::from_secs(5)).await;
        assert!(cache.token().await.unwrap().same_token(&first));
    }
    let failures = cache.status().failures;
    assert!(failures >= 5, "only {failures} refreshes were tried");
    assert!(cache.status().last_error.is_some());
    // After expiry the error surfaces.
    advance(Duration::from_secs(5)).await;
    let err = cache.token().await.unwrap_err();
    assert!(matches!(
        err,
        AuthError::Api(ApiError::Server { status: 503, .. })
    ));
    assert!(cache.try_cached().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_rejection_reaches_every_waiter_once_and_is_not_retried_in_a_loop() {
    let provider = ScriptedProvider::new().with_delay(Duration::from_millis(10));
    provider.push(Err(rejected()));
    let cache = Arc::new(cache(provider));
    let waiters: Vec<_> = (0..100)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { cache.token().await })
        })
        .collect();
    for waiter in waiters {
        assert!(waiter.await.unwrap().unwrap_err().is_key_rejected());
    }
    assert_eq!(cache.inner().calls(), 1);
    // Kept for a few seconds: later callers get it without a request.
    advance(Duration::from_secs(4)).await;
    assert!(cache.token().await.unwrap_err().is_key_rejected());
    assert_eq!(cache.inner().calls(), 1);
    // Then it is asked again (and the key now works).
    advance(Duration::from_secs(4)).await;
    cache.token().await.unwrap();
    assert_eq!(cache.inner().calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_caller_neither_cancels_nor_poisons_the_refresh() {
    let cache = cache(ScriptedProvider::new().with_delay(Duration::from_millis(100)));
    let gave_up = tokio::time::timeout(Duration::from_millis(10), cache.token()).await;
    assert!(gave_up.is_err(), "the caller should have given up");
    advance(Duration::from_millis(200)).await;
    settle().await;
    assert!(cache.try_cached().is_some(), "the refresh did not complete");
    cache.token().await.unwrap();
    assert_eq!(cache.inner().calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn invalidating_a_stale_token_keeps_the_newer_one() {
    let cache = cache(ScriptedProvider::new());
    let old = cache.token().await.unwrap();
    advance(Duration::from_secs(2)).await;
    let new = cache.force_refresh().await.unwrap();
    assert!(!new.same_token(&old));
    assert!(!cache.invalidate(&old));
    assert!(cache.try_cached().unwrap().same_token(&new));
    assert_eq!(cache.inner().calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn invalidation_drops_the_current_token_and_is_rate_limited() {
    let cache = cache(ScriptedProvider::new());
    let first = cache.token().await.unwrap();
    assert!(cache.invalidate(&first));
    assert!(cache.try_cached().is_none());
    let second = cache.token().await.unwrap();
    assert!(!second.same_token(&first));
    // A second forced refresh within the interval is refused...
    assert!(!cache.invalidate(&second));
    assert!(cache.force_refresh().await.unwrap().same_token(&second));
    assert_eq!(cache.inner().calls(), 2);
    // ...and allowed after it.
    advance(cache.config().min_forced_interval).await;
    assert!(cache.invalidate(&second));
    cache.token().await.unwrap();
    assert_eq!(cache.inner().calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_ahead_window_serves_and_refreshes_in_the_background() {
    let config = CacheConfig::default().with_refresh_ahead(0.75, 0.0);
    let provider = Arc::new(ScriptedProvider::new().with_delay(Duration::from_secs(1)));
    let cache = cache_with(Arc::clone(&provider), config);
    let first = cache.token().await.unwrap();
    advance(HOUR * 3 / 4 + Duration::from_secs(1)).await;
    // Served at once, without waiting for the refresh it starts.
    let served = cache.token().now_or_never().unwrap().unwrap();
    assert!(served.same_token(&first));
    assert_eq!(cache.status().window, TokenWindow::RefreshAhead);
    assert!(cache.status().refreshing);
    for _ in 0..100 {
        cache.token().now_or_never().unwrap().unwrap();
    }
    settle().await; // the refresh task starts its one-second request
    advance(Duration::from_secs(2)).await;
    settle().await;
    assert_eq!(provider.calls(), 2);
    assert!(!cache.try_cached().unwrap().same_token(&first));
    assert_eq!(cache.status().window, TokenWindow::Fresh);
}

#[tokio::test(start_paused = true)]
async fn the_must_refresh_window_waits_for_a_new_token() {
    let cache = cache(ScriptedProvider::new().with_delay(Duration::from_secs(1)));
    let first = cache.token().await.unwrap();
    // Straight into the last five minutes, skipping the ahead window's callers.
    advance(HOUR - Duration::from_secs(120)).await;
    assert_eq!(cache.status().window, TokenWindow::MustRefresh);
    let started = Instant::now();
    let next = cache.token().await.unwrap();
    assert!(!next.same_token(&first));
    assert_eq!(started.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn tokens_without_exp_live_the_default_lifetime() {
    let cache = cache(ScriptedProvider::minting(Minted::Opaque));
    let start = Instant::now();
    while start.elapsed() < HOUR {
        cache.token().await.unwrap();
        advance(Duration::from_secs(1)).await;
    }
    // Five-minute tokens refreshed at ~75 %: about 16 an hour.
    let calls = cache.inner().calls();
    assert!((12..=20).contains(&calls), "{calls}");
}

#[tokio::test(start_paused = true)]
async fn tokens_that_arrive_expired_are_never_served_nor_fetched_in_a_loop() {
    let cache = cache(ScriptedProvider::minting(Minted::Expired));
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        let err = cache.token().await.unwrap_err();
        assert!(matches!(err, AuthError::ExpiredToken), "{err:?}");
        advance(Duration::from_millis(100)).await;
    }
    let calls = cache.inner().calls();
    assert!(calls <= 20, "{calls} requests in a minute");
}

/// Tokens that live a second or two make at most a request a second. One that claims a
/// single whole second may have none left (its `iat` and `exp` are truncated): it is never
/// served; one that claims two is.
#[tokio::test(start_paused = true)]
async fn one_second_tokens_make_at_most_a_request_a_second() {
    for (lifetime, usable) in [(1, false), (2, true)] {
        let minted = Minted::Jwt(Duration::from_secs(lifetime));
        let cache = cache(ScriptedProvider::minting(minted));
        let start = Instant::now();
        let mut served = 0;
        while start.elapsed() < Duration::from_secs(60) {
            if cache.token().await.is_ok() {
                served += 1;
            }
            advance(Duration::from_millis(50)).await;
        }
        let calls = cache.inner().calls();
        assert!(calls <= 61, "{calls} requests in a minute");
        assert_eq!(served > 0, usable, "{lifetime} s: {served} served");
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_the_cache_stops_its_refresh() {
    let provider = Arc::new(ScriptedProvider::new().with_delay(HOUR));
    let cache = cache_with(Arc::clone(&provider), CacheConfig::default());
    assert!(cache.token().now_or_never().is_none());
    settle().await;
    assert_eq!(provider.calls(), 1);
    assert!(Arc::strong_count(&provider) > 1);
    drop(cache);
    settle().await;
    assert_eq!(
        Arc::strong_count(&provider),
        1,
        "the refresh outlived the cache"
    );
}

#[test]
fn construction_needs_no_runtime() {
    let cache = cache(ScriptedProvider::new());
    assert!(cache.try_cached().is_none());
    assert_eq!(cache.status().window, TokenWindow::Empty);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(cache.token()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn status_and_debug_carry_no_secret() {
    let cache = cache(ScriptedProvider::new());
    let token = cache.token().await.unwrap();
    let status = cache.status();
    assert_eq!(status.fetches, 1);
    assert!(status.expires_in.unwrap() > HOUR - Duration::from_secs(2));
    let text = format!("{status:?} {cache:?}");
    assert!(!text.contains(token.expose_secret()), "{text}");
}

#[test]
fn a_token_outlives_the_runtime_that_fetched_it() {
    let cache = cache(ScriptedProvider::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let token = runtime.block_on(cache.token()).unwrap();
    drop(runtime);
    assert!(cache.try_cached().unwrap().same_token(&token));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    assert!(runtime.block_on(cache.token()).unwrap().same_token(&token));
    assert_eq!(cache.inner().calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_ahead_window_starts_where_the_config_says() {
    let config = CacheConfig::default().with_refresh_ahead(0.75, 0.0);
    let cache = cache_with(Arc::new(ScriptedProvider::new()), config);
    cache.token().await.unwrap();
    // The lifetime is up to two seconds short of the hour: the claims' whole seconds.
    advance(HOUR * 3 / 4 - Duration::from_secs(3)).await;
    cache.token().now_or_never().unwrap().unwrap();
    settle().await;
    assert_eq!(cache.inner().calls(), 1);
    assert_eq!(cache.status().window, TokenWindow::Fresh);
    advance(Duration::from_secs(4)).await;
    // The next read sees the refresh-ahead window and starts the refresh.
    cache.token().now_or_never().unwrap().unwrap();
    settle().await;
    assert_eq!(cache.inner().calls(), 2);
    assert_eq!(cache.status().window, TokenWindow::Fresh);
}

#[tokio::test(start_paused = true)]
async fn an_idle_cache_with_a_fresh_token_runs_no_task() {
    let alive = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let cache = cache(ScriptedProvider::new());
    assert_eq!(alive(), 0);
    cache.token().await.unwrap();
    settle().await;
    assert_eq!(alive(), 0, "a task outlived the fetch");
    // Forty minutes, all of them fresh, idle and then read: no task, no request.
    for _ in 0..40 {
        advance(Duration::from_secs(60)).await;
        assert_eq!(alive(), 0, "the idle cache runs a task");
    }
    for _ in 0..1000 {
        cache.token().now_or_never().unwrap().unwrap();
    }
    assert_eq!(alive(), 0, "reads of a fresh token spawned a task");
    assert_eq!(cache.status().window, TokenWindow::Fresh);
    assert_eq!(cache.inner().calls(), 1);
    // In the refresh-ahead window (from 42 to 45 minutes, by the jitter), the refresh runs
    // as one task, which ends with it.
    advance(Duration::from_secs(6 * 60)).await;
    cache.token().now_or_never().unwrap().unwrap();
    assert_eq!(alive(), 1, "the background refresh");
    settle().await;
    assert_eq!(cache.inner().calls(), 2);
    assert_eq!(alive(), 0, "the refresh task outlived its fetch");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_provider_does_not_wedge_the_cache() {
    let panicking = crate::FnTokenProvider::new(|| async { panic!("a provider bug") });
    let cache = cache_with(panicking, CacheConfig::default());
    for _ in 0..3 {
        let err = cache.token().await.unwrap_err();
        assert!(matches!(err, AuthError::Cancelled), "{err:?}");
        assert!(!cache.status().refreshing);
        advance(Duration::from_secs(2)).await;
    }
    assert_eq!(cache.status().fetches, 3);
}

#[tokio::test(start_paused = true)]
async fn a_rejection_during_a_refresh_keeps_the_valid_token_and_is_not_retried_in_a_loop() {
    let cache = cache(ScriptedProvider::new());
    let first = cache.token().await.unwrap();
    cache.inner().fail_always(Some(rejected()));
    // Through the refresh-ahead window and the must-refresh window, a call a second.
    advance(HOUR * 3 / 4).await;
    let start = Instant::now();
    while start.elapsed() < HOUR / 4 - Duration::from_secs(5) {
        assert!(cache.token().await.unwrap().same_token(&first));
        advance(Duration::from_secs(1)).await;
        settle().await;
    }
    // Each rejection is kept for 5 to 7.5 s before the key is tried again.
    let calls = cache.inner().calls() - 1;
    let window = (HOUR / 4).as_secs() as usize;
    assert!(calls >= 2, "{calls}");
    assert!(calls <= window / 5 + 1, "{calls} requests in {window} s");
    assert!(cache.status().last_error.unwrap().is_key_rejected());
    // Once the token has expired, callers see the rejection.
    advance(Duration::from_secs(10)).await;
    assert!(cache.token().await.unwrap_err().is_key_rejected());
}

#[tokio::test(start_paused = true)]
async fn a_short_token_after_a_long_one_is_never_served_expired() {
    let cache = cache(ScriptedProvider::new());
    let long = cache.token().await.unwrap();
    let now = long.issued_at().unwrap();
    let now = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let short = AccessToken::new(crate::fake::fake_jwt(now, now + 20, "short")).unwrap();
    cache.inner().push(Ok(short.clone()));
    advance(Duration::from_secs(2)).await;
    assert!(cache.force_refresh().await.unwrap().same_token(&short));
    advance(Duration::from_secs(30)).await;
    assert!(cache.try_cached().is_none());
    let next = cache.token().await.unwrap();
    assert!(!next.same_token(&short) && !next.same_token(&long));
}

#[tokio::test(start_paused = true)]
async fn a_token_that_expired_while_the_machine_slept_is_never_served() {
    // A wall clock the test moves, as a machine's does while the monotonic clock sleeps.
    let slept = Arc::new(AtomicU64::new(0));
    let wall = {
        let slept = Arc::clone(&slept);
        Arc::new(move || SystemTime::now() + Duration::from_secs(slept.load(Ordering::SeqCst)))
    };
    let cache = CachedTokenProvider::with_clocks(
        Arc::new(ScriptedProvider::new()),
        CacheConfig::default(),
        Clocks { wall: Some(wall) },
    );
    let before = cache.token().await.unwrap();
    // Two hours asleep: the monotonic clock has not moved.
    slept.store(2 * 3600, Ordering::SeqCst);
    assert_eq!(cache.status().window, TokenWindow::Expired);
    // The expired token is served by no path, from the moment of waking: the next call
    // fetches. (The scripted provider's token is dated by the real clock, which to this
    // cache is two hours slow: it is refused as expired, which is also not the old token.)
    assert!(cache.try_cached().is_none());
    let after = cache.token().await;
    assert!(
        !matches!(&after, Ok(t) if t.same_token(&before)),
        "{after:?}"
    );
    assert_eq!(cache.inner().calls(), 2);
}
