use std::error::Error as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream;
use http::HeaderValue;

use super::*;

// Every test runs on the paused clock: the cache spaces its fetches (a second apart by
// default), and paused time lets that pass at once.
use crate::{
    CachedTokenProvider, EndpointError, FnTokenProvider, StaticTokenProvider, transport_fn,
};

const BASE: &str = "https://api.testnet.dstor.cloud";

fn base() -> BaseUrl {
    BaseUrl::parse(BASE).unwrap()
}

/// A provider minting `t1`, `t2`, … and counting its calls.
fn minting(fetches: &Arc<AtomicUsize>) -> impl TokenProvider + use<> {
    let fetches = Arc::clone(fetches);
    FnTokenProvider::new(move || {
        let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
        async move { Ok(AccessToken::new(format!("t{n}")).unwrap()) }
    })
}

/// What a fake dStor saw: the `Authorization` header of each request, and its body.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Sent>>>);

/// The `Authorization` header and the body of one request.
type Sent = (HeaderValue, Vec<u8>);

impl Seen {
    fn tokens(&self) -> Vec<String> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .map(|(h, _)| h.to_str().unwrap().trim_start_matches("Bearer ").to_owned())
            .collect()
    }

    fn bodies(&self) -> Vec<Vec<u8>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }
}

/// A fake dStor that answers 401 to the tokens in `rejected` and 200 to any other.
fn dstor(seen: &Seen, rejected: &'static [&'static str]) -> impl HttpTransport + use<> {
    let seen = seen.clone();
    transport_fn(move |request: Request<Vec<u8>>| {
        let seen = seen.clone();
        async move {
            let header = request.headers()[header::AUTHORIZATION].clone();
            let token = header
                .to_str()
                .unwrap()
                .trim_start_matches("Bearer ")
                .to_owned();
            seen.0.lock().unwrap().push((header, request.into_body()));
            let status = if rejected.contains(&token.as_str()) {
                401
            } else {
                200
            };
            let mut response = Response::new(b"answer".to_vec());
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            Ok(response)
        }
    })
}

fn get(path: &str) -> Request<Vec<u8>> {
    Request::get(format!("{BASE}{path}"))
        .body(b"payload".to_vec())
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn each_request_carries_the_token_in_a_sensitive_header() {
    let seen = Seen::default();
    let fetches = Arc::new(AtomicUsize::new(0));
    let tokens = CachedTokenProvider::new(minting(&fetches));
    let authorized = AuthorizedTransport::new(dstor(&seen, &[]), tokens, base()).unwrap();
    let mut request = get("/v1/upload/get-status/");
    request.headers_mut().insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer forged"),
    );
    let response = authorized.send(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), b"answer");
    authorized.send(get("/v1/other/")).await.unwrap();
    assert_eq!(seen.tokens(), ["t1", "t1"]);
    assert!(seen.0.lock().unwrap().iter().all(|(h, _)| h.is_sensitive()));
    assert_eq!(seen.bodies()[0], b"payload");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_401_invalidates_the_token_sent_and_the_request_goes_once_more() {
    let seen = Seen::default();
    let fetches = Arc::new(AtomicUsize::new(0));
    let tokens = CachedTokenProvider::new(minting(&fetches));
    let authorized = AuthorizedTransport::new(dstor(&seen, &["t1"]), tokens, base()).unwrap();
    let response = authorized.send(get("/v1/upload/")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(seen.tokens(), ["t1", "t2"]);
    assert_eq!(seen.bodies(), [b"payload".to_vec(), b"payload".to_vec()]);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    // The fresh token is the cached one from now on.
    authorized.send(get("/v1/upload/")).await.unwrap();
    assert_eq!(seen.tokens(), ["t1", "t2", "t2"]);
}

#[tokio::test(start_paused = true)]
async fn a_second_401_is_an_error_that_shows_no_token() {
    let seen = Seen::default();
    let fetches = Arc::new(AtomicUsize::new(0));
    let tokens = CachedTokenProvider::new(minting(&fetches));
    let transport = dstor(&seen, &["t1", "t2"]);
    let authorized = AuthorizedTransport::new(transport, tokens, base()).unwrap();
    let err = authorized.send(get("/v1/upload/")).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::TokenRejected);
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("rejected the access token twice"),
        "{err}"
    );
    let shown = format!("{err} {err:?} {authorized:?}");
    assert!(!shown.contains("t1") && !shown.contains("t2"), "{shown}");
    assert_eq!(seen.tokens(), ["t1", "t2"]);
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_rejected_with_one_token_cause_one_refresh() {
    const N: usize = 16;
    let fetches = Arc::new(AtomicUsize::new(0));
    let tokens = CachedTokenProvider::new(minting(&fetches));
    // Every request with `t1` waits for the others before its 401, so all N hold `t1`.
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let sent = Arc::new(AtomicUsize::new(0));
    let (b, s) = (Arc::clone(&barrier), Arc::clone(&sent));
    let transport = transport_fn(move |request: Request<Vec<u8>>| {
        let (barrier, sent) = (Arc::clone(&b), Arc::clone(&s));
        async move {
            sent.fetch_add(1, Ordering::SeqCst);
            let mut response = Response::new(Vec::new());
            if request.headers()[header::AUTHORIZATION] == "Bearer t1" {
                barrier.wait().await;
                *response.status_mut() = StatusCode::UNAUTHORIZED;
            }
            Ok(response)
        }
    });
    let authorized = Arc::new(AuthorizedTransport::new(transport, tokens, base()).unwrap());
    authorized.tokens().token().await.unwrap(); // `t1`, cached
    let requests: Vec<_> = (0..N)
        .map(|_| {
            let authorized = Arc::clone(&authorized);
            tokio::spawn(async move { authorized.send(get("/v1/upload/")).await })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap().status(), 200);
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "one refresh for {N} rejections"
    );
    assert_eq!(sent.load(Ordering::SeqCst), 2 * N);
}

#[tokio::test(start_paused = true)]
async fn a_request_to_another_origin_is_refused_before_anything_is_sent() {
    let seen = Seen::default();
    let fetches = Arc::new(AtomicUsize::new(0));
    let authorized =
        AuthorizedTransport::new(dstor(&seen, &[]), minting(&fetches), base()).unwrap();
    for url in [
        "https://example.com/v1/upload/",
        "http://api.testnet.dstor.cloud/v1/upload/",
        "https://api.testnet.dstor.cloud:8443/v1/upload/",
        "https://api.testnet.dstor.cloud.evil.example/",
        "https://api.testnet.dstor.cloud@evil.example/",
        "/v1/upload/",
    ] {
        let request = Request::get(url).body(Vec::new()).unwrap();
        let err = authorized.send(request).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::ForeignOrigin, "{url}");
        let request = Request::get(url).body(Body::empty()).unwrap();
        let err = authorized.send_streaming(request).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::ForeignOrigin, "{url}");
    }
    assert!(seen.tokens().is_empty());
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        0,
        "no token was even asked for"
    );
    // The same origin, spelled with its default port and in capitals, is the origin.
    let request = Request::get("https://API.testnet.dstor.cloud:443/x")
        .body(Vec::new())
        .unwrap();
    assert_eq!(authorized.send(request).await.unwrap().status(), 200);
}

#[test]
fn plain_http_is_allowed_only_for_loopback() {
    let tokens = || StaticTokenProvider::new("t").unwrap();
    let remote = BaseUrl::parse("http://api.dstor.cloud").unwrap();
    let err = AuthorizedTransport::new(dstor(&Seen::default(), &[]), tokens(), remote).unwrap_err();
    assert!(
        matches!(err, AuthError::Endpoint(EndpointError::Insecure { .. })),
        "{err:?}"
    );
    let local = BaseUrl::parse("http://127.0.0.1:8080").unwrap();
    assert!(AuthorizedTransport::new(dstor(&Seen::default(), &[]), tokens(), local).is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_redirect_comes_back_as_it_is() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let transport = transport_fn(move |_request: Request<Vec<u8>>| {
        counter.fetch_add(1, Ordering::SeqCst);
        async {
            let mut response = Response::new(Vec::new());
            *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            response.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_static("https://evil.example/"),
            );
            Ok(response)
        }
    });
    let tokens = StaticTokenProvider::new("t").unwrap();
    let authorized = AuthorizedTransport::new(transport, tokens, base()).unwrap();
    let response = authorized.send(get("/v1/upload/")).await.unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(sent.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_replayable_body_is_sent_again_after_a_401() {
    let seen = Seen::default();
    let fetches = Arc::new(AtomicUsize::new(0));
    let tokens = CachedTokenProvider::new(minting(&fetches));
    let authorized = AuthorizedTransport::new(dstor(&seen, &["t1"]), tokens, base()).unwrap();
    let made = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&made);
    let body = Body::replayable(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let parts = [Ok::<_, std::io::Error>("file "), Ok("bytes")];
        Body::from_sized_stream(10, stream::iter(parts))
    });
    let request = Request::post(format!("{BASE}/v1/upload/"))
        .body(body)
        .unwrap();
    let response = authorized.send_streaming(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.into_body().collect(100).await.unwrap(), "answer");
    assert_eq!(seen.tokens(), ["t1", "t2"]);
    assert_eq!(
        seen.bodies(),
        [b"file bytes".to_vec(), b"file bytes".to_vec()]
    );
    assert_eq!(
        made.load(Ordering::SeqCst),
        2,
        "the body was made once more"
    );
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_body_gets_the_401_back_and_the_next_request_a_fresh_token() {
    let seen = Seen::default();
    let fetches = Arc::new(AtomicUsize::new(0));
    let tokens = CachedTokenProvider::new(minting(&fetches));
    let authorized = AuthorizedTransport::new(dstor(&seen, &["t1"]), tokens, base()).unwrap();
    let once = Body::from_stream(stream::iter([Ok::<_, std::io::Error>("once")]));
    let request = Request::post(format!("{BASE}/v1/upload/"))
        .body(once)
        .unwrap();
    let response = authorized.send_streaming(request).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(seen.tokens(), ["t1"]);
    authorized.send(get("/v1/upload/")).await.unwrap();
    assert_eq!(seen.tokens(), ["t1", "t2"]);
}

#[tokio::test(start_paused = true)]
async fn a_provider_with_no_other_token_gets_the_401_back() {
    let seen = Seen::default();
    let tokens = StaticTokenProvider::new("t1").unwrap();
    let authorized = AuthorizedTransport::new(dstor(&seen, &["t1"]), tokens, base()).unwrap();
    let response = authorized.send(get("/v1/upload/")).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        seen.tokens(),
        ["t1"],
        "a token just rejected is not sent again"
    );
}

#[tokio::test(start_paused = true)]
async fn no_token_is_a_typed_error_with_its_cause() {
    let tokens = FnTokenProvider::new(|| async { Err(AuthError::provider("vault sealed", true)) });
    let authorized =
        AuthorizedTransport::new(dstor(&Seen::default(), &[]), tokens, base()).unwrap();
    let err = authorized.send(get("/v1/upload/")).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::NoToken { retryable: true });
    assert!(err.is_retryable());
    assert!(matches!(err.auth_error(), Some(AuthError::Provider { .. })));
    assert!(!err.to_string().contains("vault sealed"));
    assert!(err.source().unwrap().to_string().contains("vault sealed"));
}
