//! Streamed bodies through `ReqwestTransport::send_streaming`: the conformance kit, and the
//! timeout policy for large transfers (an idle timeout, not a whole-request deadline).

#![allow(
    clippy::print_stdout,
    reason = "the test shows the conformance report, passed or not"
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dstor_auth::{Body, HttpTransport, TransportErrorKind};
use dstor_http::ReqwestTransport;
use dstor_mock::conformance::ConformanceKit;
use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

#[tokio::test]
async fn reqwest_transport_passes_the_conformance_kit() {
    let kit = ConformanceKit::start().await.unwrap();
    let transport = ReqwestTransport::builder()
        .timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_millis(300))
        .proxy(kit.proxy_url())
        .build()
        .unwrap();
    let report = kit.check(&transport).await;
    println!("{report}");
    report.assert_passed();
}

/// What the test server saw of one request: its head and body.
struct Received {
    head: String,
    body: Vec<u8>,
}

/// A one-connection server: reads a request with a `Content-Length` body, reports it, then
/// writes `answer` (and stays silent if it is empty).
async fn server(answer: &'static [u8]) -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        let end = loop {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            raw.extend_from_slice(&buf[..n]);
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map_or(0, |v| v.trim().parse().unwrap());
        let mut body = raw[end..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(Received { head, body });
        if !answer.is_empty() {
            stream.write_all(answer).await.unwrap();
        }
        // Hold the connection open until the client goes.
        let _ = stream.read(&mut buf).await;
    });
    (addr, rx)
}

fn transport(idle: Duration) -> ReqwestTransport {
    ReqwestTransport::builder()
        .timeout(Duration::from_millis(200))
        .idle_timeout(idle)
        .build()
        .unwrap()
}

fn post(addr: SocketAddr, body: Body) -> http::Request<Body> {
    http::Request::post(format!("http://{addr}/v1/upload/"))
        .body(body)
        .unwrap()
}

/// Ten chunks 60 ms apart: 600 ms in all, three times the 200 ms deadline of `send`, but
/// never 300 ms without progress.
fn slow_body() -> Body {
    let chunks = futures_util::stream::iter(0..10u8).then(|i| async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        Ok::<_, Infallible>(Bytes::from(vec![i; 1000]))
    });
    Body::from_sized_stream(10_000, chunks)
}

#[tokio::test]
async fn a_slow_upload_that_makes_progress_is_not_cut_off_and_declares_its_length() {
    let (addr, mut seen) = server(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
    let started = Instant::now();
    let response = transport(Duration::from_millis(300))
        .send_streaming(post(addr, slow_body()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.into_body().collect(10).await.unwrap(), "ok");
    assert!(started.elapsed() >= Duration::from_millis(500));
    let received = seen.recv().await.unwrap();
    assert!(
        received.head.contains("content-length: 10000"),
        "{}",
        received.head
    );
    let expected: Vec<u8> = (0..10u8).flat_map(|i| vec![i; 1000]).collect();
    assert_eq!(received.body, expected);
}

#[tokio::test]
async fn an_upload_whose_source_stalls_times_out_after_the_idle_timeout() {
    let (addr, _seen) = server(b"").await;
    let first = futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"start"))]);
    let stalled = first.chain(futures_util::stream::pending());
    let started = Instant::now();
    let err = transport(Duration::from_millis(200))
        .send_streaming(post(addr, Body::from_stream(stalled)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(180), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn a_failing_source_is_a_body_error_and_not_a_connection_error() {
    let (addr, _seen) = server(b"").await;
    let failing = futures_util::stream::iter([
        Ok(Bytes::from_static(b"start")),
        Err(std::io::Error::other("read error on the disk")),
    ]);
    let err = transport(Duration::from_secs(2))
        .send_streaming(post(addr, Body::from_stream(failing)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Body, "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_response_body_that_stalls_times_out_while_it_is_read() {
    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nten bytes.";
    let (addr, _seen) = server(head).await;
    let response = transport(Duration::from_millis(200))
        .send_streaming(post(addr, Body::from("x")))
        .await
        .unwrap();
    assert_eq!(response.body().content_length(), Some(100));
    let started = Instant::now();
    let err = response.into_body().collect(1000).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_streamed_response_is_not_limited_by_max_body_bytes() {
    // 1 MiB through a transport whose `send` reads 64 KiB at most.
    let (addr, _seen) = server(Box::leak(big_answer().into_boxed_slice())).await;
    let response = transport(Duration::from_secs(2))
        .send_streaming(post(addr, Body::empty()))
        .await
        .unwrap();
    let body = response.into_body().collect(2 << 20).await.unwrap();
    assert_eq!(body.len(), 1 << 20);
}

fn big_answer() -> Vec<u8> {
    let mut answer = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", 1 << 20).into_bytes();
    answer.resize(answer.len() + (1 << 20), b'z');
    answer
}
