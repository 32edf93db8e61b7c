//! A cold stampede over loopback: N callers ask a cold `DstorClient` for a token at once,
//! against dstor-mock answering after 20 ms; side by side, in the same run, the same N
//! callers on the uncached key exchange (what a client without single flight does), and
//! one bare round trip. Every stampede asserts that the server saw exactly one request,
//! and the request counts are printed before the timings.
//!
//! `cargo bench -p dstor-http --bench stampede`

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dstor_auth::{ApiKeyProvider, TokenProvider};
use dstor_http::{ApiKey, DstorClient, Environment, ReqwestTransport};
use dstor_mock::FakeDstor;
use tokio::runtime::Runtime;

const DELAY: Duration = Duration::from_millis(20);
const CALLERS: [usize; 3] = [1, 100, 10_000];
/// Past this the uncached baseline would measure the loopback's connection limits.
const BASELINE_MAX: usize = 100;

/// N concurrent callers on `provider`: the wall time, and the requests the server saw.
async fn stampede(
    provider: Arc<dyn TokenProvider>,
    server: &FakeDstor,
    n: usize,
) -> (Duration, usize) {
    let before = server.token_request_count();
    let start = Instant::now();
    let callers: Vec<_> = (0..n)
        .map(|_| {
            let provider = Arc::clone(&provider);
            tokio::spawn(async move { provider.token().await })
        })
        .collect();
    for caller in callers {
        caller.await.expect("caller panicked").expect("token");
    }
    (start.elapsed(), server.token_request_count() - before)
}

/// A client with a cold cache.
fn cached(server: &FakeDstor) -> Arc<dyn TokenProvider> {
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(ApiKey::new(server.api_key()).expect("key"))
        .build()
        .expect("client");
    Arc::new(client)
}

/// The key exchange with no cache: a request per call.
fn uncached(server: &FakeDstor) -> Arc<dyn TokenProvider> {
    let env: Environment = server.base_url().parse().expect("endpoint");
    let transport = ReqwestTransport::with_defaults().expect("transport");
    let key = ApiKey::new(server.api_key()).expect("key");
    Arc::new(ApiKeyProvider::new(transport, &env, key).expect("provider"))
}

fn cold_stampede(c: &mut Criterion) {
    let runtime = Runtime::new().expect("runtime");
    let server = runtime.block_on(FakeDstor::builder().delay(DELAY).start());
    let server = Arc::new(server.expect("start dstor-mock"));

    // The request counts, once, before the timings.
    for n in CALLERS {
        let (wall, requests) = runtime.block_on(stampede(cached(&server), &server, n));
        println!("cold stampede, {n:>6} callers: {requests} request(s), {wall:.1?}");
        assert_eq!(requests, 1, "a cold stampede must make exactly one request");
    }

    let mut group = c.benchmark_group("cold stampede (20 ms server)");
    group.sample_size(10);
    group.bench_function("one bare round trip", |b| {
        let bare = uncached(&server);
        b.to_async(&runtime).iter(|| {
            let bare = Arc::clone(&bare);
            async move { bare.token().await.expect("token") }
        });
    });
    for n in CALLERS {
        group.bench_with_input(BenchmarkId::new("DstorClient", n), &n, |b, &n| {
            b.to_async(&runtime).iter_custom(|iters| {
                let server = Arc::clone(&server);
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (wall, requests) = stampede(cached(&server), &server, n).await;
                        assert_eq!(requests, 1);
                        total += wall;
                    }
                    total
                }
            });
        });
        if n <= BASELINE_MAX {
            group.bench_with_input(BenchmarkId::new("uncached baseline", n), &n, |b, &n| {
                b.to_async(&runtime).iter_custom(|iters| {
                    let server = Arc::clone(&server);
                    async move {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let (wall, requests) = stampede(uncached(&server), &server, n).await;
                            assert_eq!(requests, n);
                            total += wall;
                        }
                        total
                    }
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, cold_stampede);
criterion_main!(benches);
