//! A cold stampede over loopback: N callers ask an empty `DstorClient` for a token at once,
//! against dstor-mock answering after 20 ms. Printed side by side with a baseline measured
//! in the same run: the same N callers on the uncached key exchange (what a client without
//! single flight does), and one bare round trip.
//!
//! `cargo bench -p dstor-http --bench stampede`

use std::sync::Arc;
use std::time::{Duration, Instant};

use dstor_auth::{ApiKeyProvider, TokenProvider};
use dstor_http::{ApiKey, CacheConfig, DstorClient, Environment, ReqwestTransport};
use dstor_mock::FakeDstor;

const DELAY: Duration = Duration::from_millis(20);

async fn server() -> FakeDstor {
    FakeDstor::builder()
        .delay(DELAY)
        .start()
        .await
        .expect("start dstor-mock")
}

/// N concurrent callers on `provider`; returns the wall time and the requests the server saw.
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

fn cached(server: &FakeDstor) -> Arc<dyn TokenProvider> {
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(ApiKey::new(server.api_key()).expect("key"))
        .cache_config(CacheConfig::default())
        .build()
        .expect("client");
    Arc::new(client)
}

fn uncached(server: &FakeDstor) -> Arc<dyn TokenProvider> {
    let env: Environment = server.base_url().parse().expect("endpoint");
    let transport = ReqwestTransport::with_defaults().expect("transport");
    let key = ApiKey::new(server.api_key()).expect("key");
    Arc::new(ApiKeyProvider::new(transport, &env, key).expect("provider"))
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench`: a quick smoke run then.
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[1, 100, 10_000] } else { &[1, 10] };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = server().await;
        // One bare round trip, warm connection: the floor for any cold fetch.
        let bare = uncached(&server);
        bare.token().await.expect("warm-up");
        let start = Instant::now();
        bare.token().await.expect("round trip");
        let round_trip = start.elapsed();
        println!("one round trip (20 ms server delay): {round_trip:.1?}\n");
        println!(
            "{:>8} | {:>22} {:>12} | {:>22} {:>12}",
            "callers", "DstorClient requests", "wall", "uncached requests", "wall"
        );
        for &n in sizes {
            // A fresh client (cold cache) for each size.
            let (wall, requests) = stampede(cached(&server), &server, n).await;
            // The baseline makes a request per caller; past 1,000 it would only measure
            // the loopback's connection limits, so it stops there.
            let baseline = if n <= 1_000 {
                let (w, r) = stampede(uncached(&server), &server, n).await;
                (format!("{r}"), format!("{w:.1?}"))
            } else {
                ("(skipped)".to_owned(), "-".to_owned())
            };
            println!(
                "{n:>8} | {requests:>22} {:>12} | {:>22} {:>12}",
                format!("{wall:.1?}"),
                baseline.0,
                baseline.1
            );
            assert_eq!(requests, 1, "a cold stampede must make exactly one request");
        }
    });
}
