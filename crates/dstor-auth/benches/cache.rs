//! The cost of a cached token read: `CachedTokenProvider` against a baseline cache built
//! on `tokio::sync::RwLock<Option<AccessToken>>` (the design of gcp_auth and
//! azure_identity), on one thread and on two threads contending.
//!
//! `cargo bench -p dstor-auth --bench cache`

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use dstor_auth::fake::fake_jwt;
use dstor_auth::{AccessToken, CachedTokenProvider, StaticTokenProvider};
use futures_util::FutureExt as _;

/// The baseline: a read lock, an expiry check and a clone.
struct RwLockCache {
    token: tokio::sync::RwLock<Option<AccessToken>>,
}

impl RwLockCache {
    async fn token(&self) -> Option<AccessToken> {
        let guard = self.token.read().await;
        let token = guard.as_ref()?;
        let fresh = token
            .expires_at()
            .is_some_and(|exp| exp > SystemTime::now() + Duration::from_secs(300));
        fresh.then(|| token.clone())
    }
}

fn token() -> AccessToken {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    AccessToken::new(fake_jwt(now, now + 3600, "bench")).unwrap()
}

/// A cache holding a token fetched on `runtime`.
fn warm_on(runtime: &tokio::runtime::Runtime) -> Arc<CachedTokenProvider<StaticTokenProvider>> {
    let cache = Arc::new(CachedTokenProvider::new(StaticTokenProvider::from_token(
        token(),
    )));
    runtime.block_on(cache.token()).unwrap();
    cache
}

/// A warm cache, and the application's runtime, which keeps running (it drives the timer
/// that ends the token's fresh window).
fn warm_cache() -> (
    Arc<CachedTokenProvider<StaticTokenProvider>>,
    tokio::runtime::Runtime,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    (warm_on(&runtime), runtime)
}

/// A warm cache whose clock-free window is shut (its token came on a current-thread
/// runtime, now gone): every read takes the clock path, this thread's copy and both
/// clocks.
fn warm_cache_clock_path() -> Arc<CachedTokenProvider<StaticTokenProvider>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    warm_on(&runtime)
}

fn baseline() -> Arc<RwLockCache> {
    Arc::new(RwLockCache {
        token: tokio::sync::RwLock::new(Some(token())),
    })
}

/// Both reads complete without waiting, so polling once is the whole call.
fn read_cached(cache: &CachedTokenProvider<StaticTokenProvider>) -> AccessToken {
    cache.token().now_or_never().unwrap().unwrap()
}

fn read_baseline(cache: &RwLockCache) -> AccessToken {
    cache.token().now_or_never().unwrap().unwrap()
}

fn single_thread(c: &mut Criterion) {
    let (cached, _runtime) = warm_cache();
    let base = baseline();
    let mut group = c.benchmark_group("cached read, 1 thread");
    group.bench_function("CachedTokenProvider::token", |b| {
        b.iter(|| black_box(read_cached(&cached)));
    });
    group.bench_function("CachedTokenProvider::try_cached", |b| {
        b.iter(|| black_box(cached.try_cached().unwrap()));
    });
    let clock_path = warm_cache_clock_path();
    group.bench_function("CachedTokenProvider::token, clock path", |b| {
        b.iter(|| black_box(read_cached(&clock_path)));
    });
    group.bench_function("baseline RwLock<Option<AccessToken>>", |b| {
        b.iter(|| black_box(read_baseline(&base)));
    });
    group.finish();
}

/// Time per read on one thread while a second thread reads the same cache.
fn contended<C: Send + Sync + 'static>(
    cache: &Arc<C>,
    read: fn(&C) -> AccessToken,
    iters: u64,
) -> Duration {
    let barrier = Arc::new(Barrier::new(2));
    let other = {
        let (cache, barrier) = (Arc::clone(cache), Arc::clone(&barrier));
        thread::spawn(move || {
            barrier.wait();
            for _ in 0..iters {
                black_box(read(&cache));
            }
        })
    };
    barrier.wait();
    let start = Instant::now();
    for _ in 0..iters {
        black_box(read(cache));
    }
    let elapsed = start.elapsed();
    other.join().unwrap();
    elapsed
}

fn two_threads(c: &mut Criterion) {
    let (cached, _runtime) = warm_cache();
    let base = baseline();
    let mut group = c.benchmark_group("cached read, 2 threads contending");
    group.bench_function("CachedTokenProvider::token", |b| {
        b.iter_custom(|iters| contended(&cached, read_cached, iters));
    });
    group.bench_function("CachedTokenProvider::try_cached", |b| {
        b.iter_custom(|iters| contended(&cached, |c| c.try_cached().unwrap(), iters));
    });
    let clock_path = warm_cache_clock_path();
    group.bench_function("CachedTokenProvider::token, clock path", |b| {
        b.iter_custom(|iters| contended(&clock_path, read_cached, iters));
    });
    group.bench_function("baseline RwLock<Option<AccessToken>>", |b| {
        b.iter_custom(|iters| contended(&base, read_baseline, iters));
    });
    group.finish();
}

criterion_group!(benches, single_thread, two_threads);
criterion_main!(benches);
