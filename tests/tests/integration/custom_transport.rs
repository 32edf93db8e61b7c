//! Any HTTP client can carry the token exchange: `HttpTransport` is one method,
//! `http::Request` in and `http::Response` out. Here a raw HTTP/1.1 client over a tokio
//! `TcpStream` (no reqwest, no hyper) and a closure do it against the fake dStor.

#![allow(
    clippy::print_stdout,
    reason = "the test shows the conformance report, passed or not"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use dstor_auth::{
    ApiKeyProvider, AuthError, CachedTokenProvider, HttpTransport, RetryPolicy, RetryingProvider,
    TokenProvider, TransportError, TransportErrorKind, transport_fn,
};
use dstor_mock::FakeDstor;
use dstor_mock::conformance::ConformanceKit;
use dstor_types::{ApiKey, BaseUrl, Environment};
use http::{Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A whole HTTP/1.1 client for the token endpoint: one connection per request,
/// `Connection: close`, the answer read to EOF within [`TIMEOUT`]. Redirects are handed
/// back, not followed. Streamed bodies go through the trait's buffering default.
#[derive(Debug, Default)]
pub(crate) struct RawHttp1;

const MAX_RESPONSE: usize = 64 * 1024;

/// The whole-request deadline.
const TIMEOUT: Duration = Duration::from_millis(500);

#[async_trait]
impl HttpTransport for RawHttp1 {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        tokio::time::timeout(TIMEOUT, exchange(request))
            .await
            .map_err(|_| TransportError::new(TransportErrorKind::Timeout))?
    }
}

async fn exchange(request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
    let uri = request.uri();
    let (host, port) = (
        uri.host().unwrap_or("127.0.0.1"),
        uri.port_u16().unwrap_or(80),
    );
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nhost: {host}:{port}\r\n",
        request.method()
    );
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| broken("header"))?;
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        request.body().len()
    ));
    let mut stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| TransportError::with_source(TransportErrorKind::Connect, e))?;
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    stream.write_all(request.body()).await.map_err(io)?;
    let mut raw = Vec::new();
    let limit = MAX_RESPONSE as u64 + 1;
    (&mut stream)
        .take(limit)
        .read_to_end(&mut raw)
        .await
        .map_err(io)?;
    if raw.len() > MAX_RESPONSE {
        let kind = TransportErrorKind::BodyTooLarge {
            limit: MAX_RESPONSE,
        };
        return Err(TransportError::new(kind));
    }
    parse_response(&raw).ok_or_else(|| broken("response"))
}

#[tokio::test]
async fn the_raw_tcp_transport_passes_the_conformance_kit() {
    let kit = ConformanceKit::start().await.unwrap();
    let report = kit.check(&RawHttp1).await;
    println!("{report}");
    report.assert_passed();
}

fn io(e: std::io::Error) -> TransportError {
    TransportError::with_source(TransportErrorKind::Connection, e)
}

fn broken(what: &'static str) -> TransportError {
    TransportError::with_source(TransportErrorKind::Connection, format!("malformed {what}"))
}

/// Status line, headers, and a body framed by `content-length`, chunks, or EOF.
fn parse_response(raw: &[u8]) -> Option<Response<Vec<u8>>> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut response = Response::builder().status(status);
    let mut chunked = false;
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        let value = value.trim();
        chunked |= name.eq_ignore_ascii_case("transfer-encoding") && value == "chunked";
        response = response.header(name.trim(), value);
    }
    let mut rest = &raw[end + 4..];
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line = rest.windows(2).position(|w| w == b"\r\n")?;
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..line]).ok()?, 16).ok()?;
            rest = &rest[line + 2..];
            if size == 0 {
                break body;
            }
            body.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
    } else {
        rest.to_vec()
    };
    response.body(body).ok()
}

pub(crate) fn environment(server: &FakeDstor) -> Environment {
    Environment::Custom(BaseUrl::parse(&server.base_url()).expect("loopback base URL"))
}

fn key(server: &FakeDstor) -> ApiKey {
    ApiKey::new(server.api_key()).expect("the fake's key is valid")
}

#[tokio::test]
async fn a_raw_tcp_transport_gets_a_token_the_server_accepts() {
    let server = FakeDstor::start().await.unwrap();
    let exchange = ApiKeyProvider::new(RawHttp1, &environment(&server), key(&server)).unwrap();
    let tokens = CachedTokenProvider::new(RetryingProvider::new(exchange, RetryPolicy::default()));

    let token = tokens.token().await.unwrap();
    let claims = server
        .verify_token(token.expose_secret())
        .expect("the fake signed this token");
    assert_eq!(claims["iss"], "dstor.cloud");
    assert!(token.is_jwt() && token.expires_at().is_some());

    // Served from the cache from now on.
    assert!(tokens.token().await.unwrap().same_token(&token));
    assert_eq!(server.token_request_count(), 1);
    assert_eq!(tokens.status().fetches, 1);

    // What went over the wire is what dStor documents.
    let seen = &server.requests()[0];
    assert_eq!(seen.path, "/v1/dev/temp-token");
    assert_eq!(seen.headers["api-key"], server.api_key());
    let expiration = seen.headers["x-expiration"].to_str().unwrap();
    assert!(
        expiration.bytes().all(|b| b.is_ascii_digit()),
        "{expiration}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn concurrent_cold_callers_share_one_exchange_over_the_custom_transport() {
    let server = FakeDstor::builder()
        .delay(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let exchange = ApiKeyProvider::new(RawHttp1, &environment(&server), key(&server)).unwrap();
    let tokens = Arc::new(CachedTokenProvider::new(exchange));
    let callers: Vec<_> = (0..64)
        .map(|_| {
            let tokens = Arc::clone(&tokens);
            tokio::spawn(async move { tokens.token().await })
        })
        .collect();
    let mut all = Vec::new();
    for caller in callers {
        all.push(caller.await.unwrap().unwrap());
    }
    assert!(all.iter().all(|t| t.same_token(&all[0])));
    assert_eq!(server.token_request_count(), 1);
}

#[tokio::test]
async fn failures_through_the_custom_transport_are_classified() {
    let server = FakeDstor::start().await.unwrap();
    let wrong = ApiKey::new("w".repeat(64)).unwrap();
    let exchange = ApiKeyProvider::new(RawHttp1, &environment(&server), wrong).unwrap();
    let err = exchange.token().await.unwrap_err();
    assert!(err.is_key_rejected() && err.is_permanent(), "{err:?}");

    // Nothing listens on the port once the server is gone.
    let env = environment(&server);
    server.shutdown().await;
    let exchange = ApiKeyProvider::new(RawHttp1, &env, ApiKey::new("k".repeat(64)).unwrap());
    let err = exchange.unwrap().token().await.unwrap_err();
    match &err {
        AuthError::Transport(e) => assert_eq!(e.kind(), TransportErrorKind::Connect),
        other => panic!("expected a connect error, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_closure_is_a_transport() {
    let server = FakeDstor::start().await.unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    // A closure wrapping another transport: here, counting and checking each request.
    let transport = transport_fn(move |request: Request<Vec<u8>>| {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            assert!(request.headers()["api-key"].is_sensitive());
            RawHttp1.send(request).await
        }
    });
    let exchange = ApiKeyProvider::new(transport, &environment(&server), key(&server)).unwrap();
    let tokens = CachedTokenProvider::new(exchange);
    let token = tokens.token().await.unwrap();
    assert!(server.verify_token(token.expose_secret()).is_some());
    tokens.token().await.unwrap();
    assert_eq!(sent.load(Ordering::SeqCst), 1);
    assert!(format!("{tokens:?}").contains("FnTransport"));
}

#[tokio::test]
async fn a_closure_standing_in_for_dstor_answers_without_a_network() {
    let transport = transport_fn(|request: Request<Vec<u8>>| async move {
        assert_eq!(
            request.uri(),
            "https://api.testnet.dstor.cloud/v1/dev/temp-token"
        );
        let now = 1_700_000_000;
        let jwt = dstor_auth::fake::fake_jwt(now, 4_000_000_000, "account");
        let body = format!(r#"{{"access_token":"{jwt}"}}"#);
        Ok(Response::new(body.into_bytes()))
    });
    let exchange = ApiKeyProvider::new(
        transport,
        &Environment::Testnet,
        ApiKey::new("k".repeat(64)).unwrap(),
    )
    .unwrap();
    let token = exchange.token().await.unwrap();
    assert_eq!(token.subject(), Some("account"));
}
