//! Scripted faults, delays and shutdown.

use std::time::{Duration, Instant};

use crate::common::{raw, token};
use dstor_mock::{FakeDstor, Fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn faults_are_consumed_in_order() {
    let server = FakeDstor::start().await.unwrap();
    server.push_faults([Fault::Status(503), Fault::Status(503)]);
    let key = [("api-key", server.api_key())];
    for expected in [503, 503, 200, 200] {
        let reply = token(server.addr(), &key).await;
        assert_eq!(reply.status, expected);
        if expected == 503 {
            assert_eq!(
                reply.json(),
                serde_json::json!({"message": "Service Unavailable"})
            );
        }
    }
    assert_eq!(server.token_request_count(), 4);
}

#[tokio::test]
async fn other_paths_do_not_consume_faults() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::Status(500));
    assert_eq!(
        crate::common::request(server.addr(), "GET", "/", &[])
            .await
            .status,
        404
    );
    assert_eq!(token(server.addr(), &[]).await.status, 500);
}

#[tokio::test]
async fn retry_after_and_redirect_headers() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::StatusRetryAfter(429, "7".into()));
    server.push_fault(Fault::Redirect {
        status: 307,
        location: "http://elsewhere.invalid/v1/dev/temp-token".into(),
    });
    let reply = token(server.addr(), &[]).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("7"));
    let reply = token(server.addr(), &[]).await;
    assert_eq!(reply.status, 307);
    assert_eq!(
        reply.header("location"),
        Some("http://elsewhere.invalid/v1/dev/temp-token")
    );
}

#[tokio::test]
async fn arbitrary_body() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::Body {
        status: 200,
        content_type: "application/json".into(),
        body: r#"{"access_token": 12"#.into(),
    });
    let reply = token(server.addr(), &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), r#"{"access_token": 12"#);
}

#[tokio::test]
async fn drop_connection_sends_nothing() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::DropConnection);
    // An empty read or a reset by the peer: either way, no response.
    if let Ok(received) = raw(server.addr(), "GET", "/v1/dev/temp-token", &[]).await {
        assert!(received.is_empty(), "{received:?}");
    }
    assert_eq!(token(server.addr(), &[]).await.status, 401);
}

#[tokio::test]
async fn oversize_body_has_exactly_n_bytes() {
    let server = FakeDstor::start().await.unwrap();
    let len = 10 * 1024 * 1024 + 3;
    server.push_fault(Fault::OversizeBody { bytes: len });
    let reply = token(server.addr(), &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len() as u64, len);
    assert_eq!(
        reply.header("content-length"),
        Some(len.to_string().as_str())
    );
    assert!(reply.body.starts_with(br#"{"access_token":""#));
}

#[tokio::test]
async fn endless_body_keeps_streaming() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::EndlessBody);
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /v1/dev/temp-token HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut total = 0;
    let mut buf = vec![0; 64 * 1024];
    while total < 1024 * 1024 {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the body ended");
        total += n;
    }
    // Dropping the server stops the stream.
    drop(server);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection outlived the server");
}

/// Waits (a few seconds at most) until `server` has recorded `n` requests.
async fn until_recorded(server: &FakeDstor, n: usize) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while server.request_count() < n {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the request reached the server");
}

/// Reads from `stream` until the end of the response head; returns the head and
/// whatever body bytes came with it.
async fn read_head(stream: &mut tokio::net::TcpStream) -> (String, Vec<u8>) {
    let mut received = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            return (head, received[end + 4..].to_vec());
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed before the response head");
        received.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn hang_never_answers_and_shutdown_ends_it() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::Hang);
    let addr = server.addr();
    let mut client = tokio::spawn(async move { raw(addr, "GET", "/v1/dev/temp-token", &[]).await });
    until_recorded(&server, 1).await;
    assert_eq!(server.token_request_count(), 1);
    // Received, yet unanswered a while later.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut client)
            .await
            .is_err(),
        "the hanging request was answered"
    );
    server.shutdown().await;
    let received = tokio::time::timeout(Duration::from_secs(5), client)
        .await
        .expect("the hanging connection was closed")
        .unwrap();
    if let Ok(received) = received {
        assert!(received.is_empty());
    }
}

#[tokio::test]
async fn a_stalled_body_declares_its_length_and_sends_nothing() {
    let server = FakeDstor::start().await.unwrap();
    let declared = 10 * 1024 * 1024;
    server.push_fault(Fault::StalledBody {
        sent: 0,
        content_length: Some(declared),
    });
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /v1/dev/temp-token HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let (head, body) = read_head(&mut stream).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains(&format!("content-length: {declared}")),
        "{head}"
    );
    assert!(body.is_empty());
    let mut buf = [0; 1024];
    assert!(
        tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf))
            .await
            .is_err(),
        "the stalled body sent something"
    );
}

#[tokio::test]
async fn a_stalled_chunked_body_sends_its_bytes_then_nothing() {
    let server = FakeDstor::start().await.unwrap();
    let sent = 100 * 1024;
    server.push_fault(Fault::StalledBody {
        sent,
        content_length: None,
    });
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /v1/dev/temp-token HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let (head, mut body) = read_head(&mut stream).await;
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(!head.contains("content-length"), "{head}");
    // The chunks carry `sent` bytes (plus chunk framing), and then nothing comes.
    let mut buf = vec![0; 64 * 1024];
    while body.len() < sent as usize {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the body ended");
        body.extend_from_slice(&buf[..n]);
    }
    assert!(body.len() < sent as usize + 1024, "{}", body.len());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf))
            .await
            .is_err(),
        "the stalled body sent more"
    );
}

#[tokio::test]
async fn shutdown_frees_the_port() {
    // Another process may take a port the moment it is free, so a collision is
    // retried with a fresh server; a server that does not free its port fails
    // every attempt.
    let mut failures = Vec::new();
    for _ in 0..5 {
        let server = FakeDstor::start().await.unwrap();
        let addr = server.addr();
        assert_eq!(token(addr, &[]).await.status, 401);
        server.shutdown().await;
        // Closed as soon as `shutdown` returns.
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            failures.push(format!("{addr}: still accepting after shutdown"));
            continue;
        }
        // And it can be bound again.
        match FakeDstor::builder().bind(addr).start().await {
            Ok(again) => {
                assert_eq!(again.addr(), addr);
                assert_eq!(token(addr, &[]).await.status, 401);
                return;
            }
            Err(e) => failures.push(format!("{addr}: rebinding failed: {e}")),
        }
    }
    panic!("the port was never freed: {failures:?}");
}

#[tokio::test]
async fn drop_frees_the_port() {
    let mut failures = Vec::new();
    for _ in 0..5 {
        let server = FakeDstor::start().await.unwrap();
        let addr = server.addr();
        drop(server);
        // The accept loop is aborted asynchronously: give it a moment.
        let refused = tokio::time::timeout(Duration::from_secs(5), async {
            while tokio::net::TcpStream::connect(addr).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .is_ok();
        if refused {
            return;
        }
        failures.push(addr);
    }
    panic!("the port stayed open after drop: {failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delay_applies_to_many_connections_concurrently() {
    // 100 requests delayed 100 ms each: 10 s if served one after the other.
    let server = FakeDstor::builder()
        .delay(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let addr = server.addr();
    let started = Instant::now();
    let clients: Vec<_> = (0..100)
        .map(|_| tokio::spawn(async move { raw(addr, "GET", "/", &[]).await }))
        .collect();
    for client in clients {
        let received = client.await.unwrap().unwrap();
        assert!(received.starts_with(b"HTTP/1.1 404"));
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(server.request_count(), 100);
}

#[tokio::test]
async fn set_delay_changes_later_requests() {
    let server = FakeDstor::builder()
        .delay(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    server.set_delay(Duration::ZERO);
    let answered =
        tokio::time::timeout(Duration::from_secs(10), raw(server.addr(), "GET", "/", &[])).await;
    assert!(answered.is_ok(), "the old 60 s delay still applied");

    server.set_delay(Duration::from_secs(60));
    let addr = server.addr();
    let mut delayed = tokio::spawn(async move { raw(addr, "GET", "/", &[]).await });
    until_recorded(&server, 2).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut delayed)
            .await
            .is_err(),
        "the new delay did not apply"
    );
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let server = FakeDstor::start().await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /a HTTP/1.1\r\nhost: x\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    let text = String::from_utf8_lossy(&received);
    assert_eq!(text.matches("HTTP/1.1 404").count(), 2, "{text}");
    assert_eq!(server.request_count(), 2);
}
