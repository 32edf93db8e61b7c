//! Races and lifecycles of the cache, each a reproduction of a bug found in review: a
//! runtime that shuts down under a flight, a drop while a fetch completes, the no-runtime
//! path, a future polled late, a machine asleep during a request, a waiter that a caller
//! who gives up must not strand, and readers racing invalidations. Real threads and real
//! time where the race needs them, bounded to a few seconds.

#![allow(
    clippy::print_stderr,
    reason = "what each racing call got, in a failing test's output"
)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt as _;
use tokio::time::advance;

use super::*;
use crate::fake::{Minted, ScriptedProvider};

const HOUR: Duration = Duration::from_secs(3600);

fn jwt(lifetime: Duration, sub: &str) -> AccessToken {
    let now = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    AccessToken::new(crate::fake::fake_jwt(
        now,
        now + lifetime.as_secs() as i64,
        sub,
    ))
    .unwrap()
}

#[test]
fn a_flight_whose_runtime_shuts_down_before_it_runs_does_not_wedge_the_cache() {
    let cache = CachedTokenProvider::new(Arc::new(ScriptedProvider::new()));
    let rt1 = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt1.block_on(async {
        // Starts the flight on rt1; the caller does not wait (e.g. a timeout of zero).
        assert!(cache.token().now_or_never().is_none());
    });
    drop(rt1);
    let rt2 = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt2.block_on(async {
        for _ in 0..5 {
            let r = cache.token().await;
            eprintln!("token() on the second runtime -> {r:?}");
            tokio::time::sleep(Duration::from_secs(70)).await;
        }
        eprintln!(
            "calls={} refreshing={}",
            cache.inner().calls(),
            cache.status().refreshing
        );
        assert!(
            cache.token().await.is_ok(),
            "wedged: every call gets Cancelled, no request is ever made again"
        );
    });
}

#[test]
fn a_runtime_shut_down_while_a_flight_waits_out_the_interval_does_not_wedge_the_cache() {
    // The common 401 path: fetch, the API rejects the token, invalidate, fetch again (which
    // waits out min_fetch_interval), and the runtime goes away meanwhile (a per-request
    // runtime, a #[tokio::test] sharing a static client, a CLI's short-lived runtime...).
    let cache = CachedTokenProvider::new(Arc::new(ScriptedProvider::new()));
    let rt1 = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    rt1.block_on(async {
        let t = cache.token().await.unwrap();
        assert!(CachedTokenProvider::invalidate(&cache, &t));
        let _ = tokio::time::timeout(Duration::from_millis(50), cache.token()).await;
    });
    drop(rt1);
    let rt2 = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    rt2.block_on(async {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let r = cache.token().await;
        eprintln!(
            "{r:?} calls={} refreshing={}",
            cache.inner().calls(),
            cache.status().refreshing
        );
        assert!(r.is_ok(), "wedged after the first runtime shut down");
    });
}

#[test]
fn dropping_the_cache_while_a_fetch_completes_leaves_no_task() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let _enter = rt.enter();
    let (entered_tx, entered_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    let (entered, go) = (Mutex::new(entered_tx), Mutex::new(go_rx));
    let cache = CachedTokenProvider::new(crate::FnTokenProvider::new(move || {
        entered.lock().unwrap().send(()).unwrap();
        // Blocks this worker until the test says go: the response "arrives" in this poll.
        go.lock().unwrap().recv().unwrap();
        std::future::ready(Ok(jwt(HOUR, "gated")))
    }));
    assert!(cache.token().now_or_never().is_none());
    entered_rx.recv().unwrap();
    let shared = Arc::downgrade(&cache.shared);
    drop(cache); // stop(): aborts the (still running) task
    go_tx.send(()).unwrap();
    // The task ends within microseconds; a leaked task would hold the state for good.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while (shared.strong_count() > 0 || rt.metrics().num_alive_tasks() > 0)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        shared.strong_count(),
        0,
        "the fetch task outlived the provider"
    );
    assert_eq!(
        rt.metrics().num_alive_tasks(),
        0,
        "a task outlives the dropped provider"
    );
}

#[test]
fn outside_a_runtime_a_due_refresh_is_an_error_not_a_hang() {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let never = crate::FnTokenProvider::new(std::future::pending);
        let cache = CachedTokenProvider::new(never);
        // Outside any runtime there is nowhere to run the refresh: a typed error at once.
        let result = cache.token().now_or_never().expect("ready at once");
        assert!(matches!(result, Err(AuthError::NoRuntime)), "{result:?}");
        drop(cache);
        tx.send(()).unwrap();
    });
    let r = rx.recv_timeout(Duration::from_secs(3));
    assert!(r.is_ok(), "token() or drop(cache) hung outside a runtime");
}

#[tokio::test(start_paused = true)]
async fn the_cache_is_read_when_the_future_is_polled_not_made() {
    let cache = CachedTokenProvider::new(Arc::new(ScriptedProvider::new()));
    let first = cache.token().await.unwrap();
    let fut = cache.token(); // e.g. `let auth = cache.token(); let body = read().await; auth.await`
    advance(2 * HOUR).await;
    assert_eq!(cache.status().window, TokenWindow::Expired);
    let got = fut.await.unwrap();
    assert!(
        !got.same_token(&first),
        "token() future returned a token that expired an hour ago"
    );
}

#[tokio::test(start_paused = true)]
async fn a_machine_asleep_during_the_request_hands_no_waiter_an_expired_token() {
    let slept = Arc::new(AtomicU64::new(0));
    let wall = {
        let slept = Arc::clone(&slept);
        Arc::new(move || SystemTime::now() + Duration::from_secs(slept.load(Ordering::SeqCst)))
    };
    let cache = Arc::new(CachedTokenProvider::with_clocks(
        Arc::new(ScriptedProvider::new().with_delay(Duration::from_secs(1))),
        CacheConfig::default(),
        Clocks { wall: Some(wall) },
    ));
    let waiter = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { cache.token().await })
    };
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
    slept.store(2 * 3600, Ordering::SeqCst); // machine sleeps while the request is out
    advance(Duration::from_secs(1)).await;
    let got = waiter.await.unwrap();
    eprintln!(
        "waiter got ok={} while status={:?}",
        got.is_ok(),
        cache.status().window
    );
    assert!(
        !(got.is_ok() && cache.status().window == TokenWindow::Expired),
        "waiter handed a token the cache considers expired"
    );
}

#[test]
fn readers_never_see_an_invalidated_token_and_one_request_runs_at_a_time() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let config = CacheConfig::default().with_min_intervals(Duration::ZERO, Duration::ZERO);
    let provider = Arc::new(ScriptedProvider::minting(Minted::Opaque));
    let cache = Arc::new(CachedTokenProvider::with_config(
        Arc::clone(&provider),
        config,
    ));
    let n = |t: &AccessToken| -> u64 {
        t.expose_secret()
            .rsplit('-')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    rt.block_on(CachedTokenProvider::token(&cache)).unwrap();
    let dead = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let violations = Arc::new(AtomicUsize::new(0));
    let reads = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for i in 0..6 {
        let (cache, dead, stop, violations, reads) = (
            Arc::clone(&cache),
            Arc::clone(&dead),
            Arc::clone(&stop),
            Arc::clone(&violations),
            Arc::clone(&reads),
        );
        let handle = rt.handle().clone();
        threads.push(std::thread::spawn(move || {
            let _enter = handle.enter();
            while !stop.load(Ordering::Relaxed) {
                let d = dead.load(Ordering::SeqCst);
                let t = if i % 2 == 0 {
                    cache.try_cached()
                } else {
                    handle.block_on(CachedTokenProvider::token(&cache)).ok()
                };
                if let Some(t) = t {
                    reads.fetch_add(1, Ordering::Relaxed);
                    if n(&t) <= d {
                        violations.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    {
        let (cache, stop) = (Arc::clone(&cache), Arc::clone(&stop));
        let handle = rt.handle().clone();
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = handle.block_on(CachedTokenProvider::force_refresh(&cache));
            }
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let mut invalidations = 0;
    while std::time::Instant::now() < deadline {
        if let Some(t) = cache.try_cached()
            && CachedTokenProvider::invalidate(&cache, &t)
        {
            invalidations += 1;
            dead.fetch_max(n(&t), Ordering::SeqCst);
        }
        let _ = rt.block_on(CachedTokenProvider::token(&cache));
    }
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    eprintln!(
        "{invalidations} invalidations, {} fetches, {} reads, {} violations, max concurrent {}",
        provider.calls(),
        reads.load(Ordering::Relaxed),
        violations.load(Ordering::Relaxed),
        provider.max_concurrent()
    );
    assert_eq!(violations.load(Ordering::Relaxed), 0);
    assert_eq!(provider.max_concurrent(), 1);
}

#[test]
fn a_caller_that_gives_up_never_strands_the_other_waiters() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let mut iters = 0;
    let mut hung = 0;
    while std::time::Instant::now() < deadline && hung == 0 {
        iters += 1;
        let cache = Arc::new(CachedTokenProvider::new(Arc::new(ScriptedProvider::new())));
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..2 {
                let handle = rt.handle().clone();
                let (cache, done) = (&cache, &done);
                s.spawn(move || {
                    let _enter = handle.enter();
                    while !done.load(Ordering::Relaxed) {
                        // A caller that gives up right after one poll.
                        let _ = CachedTokenProvider::token(cache).now_or_never();
                    }
                });
            }
            let c = Arc::clone(&cache);
            let waiter = rt.spawn(async move { CachedTokenProvider::token(&c).await });
            let r =
                rt.block_on(async { tokio::time::timeout(Duration::from_secs(2), waiter).await });
            done.store(true, Ordering::Relaxed);
            if r.is_err() {
                hung += 1;
                eprintln!(
                    "iteration {iters}: waiter hung; cache has token={} refreshing={} fetches={}",
                    cache.try_cached().is_some(),
                    cache.status().refreshing,
                    cache.status().fetches
                );
            }
        });
    }
    eprintln!("{iters} iterations, {hung} hung");
    assert_eq!(
        hung, 0,
        "a waiter never woke although the refresh had finished"
    );
}
