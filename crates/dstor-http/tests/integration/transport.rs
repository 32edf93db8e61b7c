//! The transport's limits: body size, time, redirects, plain http.

use std::time::{Duration, Instant};

use dstor_auth::{HttpTransport, TransportErrorKind};
use dstor_http::{
    ApiKey, AuthError, ConfigError, DstorClient, DstorClientBuilder, Environment, ReqwestTransport,
    RetryPolicy,
};
use dstor_mock::{FakeDstor, Fault};
use dstor_types::{ApiError, EndpointError, TokenRequest};

use crate::common::{assert_no_secret, builder, chain, client};

/// One token request against a fresh fake server that answers with `fault`, through a client
/// configured by `configure`: the error, and how long it took to come.
async fn fail_with(
    fault: Fault,
    configure: impl FnOnce(DstorClientBuilder) -> DstorClientBuilder,
) -> (AuthError, Duration) {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(fault);
    let client = configure(builder(&server)).build().unwrap();
    let started = Instant::now();
    let err = client.token().await.unwrap_err();
    (err, started.elapsed())
}

fn transport_kind(err: &AuthError) -> TransportErrorKind {
    match err {
        AuthError::Transport(e) => e.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_ten_mebibyte_body_fails_fast() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::OversizeBody {
        bytes: 10 * 1024 * 1024,
    });
    let started = Instant::now();
    let err = client(&server).token().await.unwrap_err();
    assert_eq!(
        transport_kind(&err),
        TransportErrorKind::BodyTooLarge { limit: 64 * 1024 }
    );
    assert!(!err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A client that read the body before judging its size would wait for bytes that never
/// come and time out; one that trusts `Content-Length` refuses it unread.
#[tokio::test]
async fn a_declared_ten_mebibyte_body_is_refused_before_a_byte_is_read() {
    refused_as_too_large_before_the_timeout(Fault::StalledBody {
        sent: 0,
        content_length: Some(10 * 1024 * 1024),
    })
    .await;
}

/// Ten mebibytes without `Content-Length`, then a stall: a client that buffered the body
/// to its end would hold all of it and then time out; the capped read stops at the limit.
#[tokio::test]
async fn a_chunked_ten_mebibyte_body_is_abandoned_at_the_limit() {
    refused_as_too_large_before_the_timeout(Fault::StalledBody {
        sent: 10 * 1024 * 1024,
        content_length: None,
    })
    .await;
}

/// With a 10 s timeout, `fault` ends in `BodyTooLarge` (the default 64 KiB limit) well
/// before it.
async fn refused_as_too_large_before_the_timeout(fault: Fault) {
    let (err, elapsed) = fail_with(fault, |b| b.timeout(Duration::from_secs(10))).await;
    assert_eq!(
        transport_kind(&err),
        TransportErrorKind::BodyTooLarge { limit: 64 * 1024 }
    );
    assert!(elapsed < Duration::from_secs(5));
}

/// A limit far above any memory still reserves nothing on the server's word.
#[tokio::test]
async fn a_huge_limit_and_a_huge_declared_length_allocate_nothing_up_front() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::StalledBody {
        sent: 10,
        content_length: Some(1 << 60),
    });
    let err = builder(&server)
        .max_body_bytes(usize::MAX)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Timeout, "{err:?}");
}

#[tokio::test]
async fn a_body_over_the_limit_without_content_length_is_cut_off() {
    let (err, elapsed) = fail_with(Fault::EndlessBody, |b| b.max_body_bytes(100 * 1024)).await;
    assert_eq!(
        transport_kind(&err),
        TransportErrorKind::BodyTooLarge { limit: 100 * 1024 }
    );
    assert!(elapsed < Duration::from_secs(5));
}

#[tokio::test]
async fn a_body_at_the_limit_is_read() {
    let server = FakeDstor::start().await.unwrap();
    let body = format!("{{\"access_token\":\"{}\"}}", "t".repeat(1000));
    server.push_fault(Fault::Body {
        status: 200,
        content_type: "application/json".into(),
        body: body.clone(),
    });
    let client = builder(&server).max_body_bytes(body.len()).build().unwrap();
    client.token().await.unwrap();

    server.push_fault(Fault::Body {
        status: 200,
        content_type: "application/json".into(),
        body: body.clone(),
    });
    let client = builder(&server)
        .max_body_bytes(body.len() - 1)
        .build()
        .unwrap();
    let err = client.token().await.unwrap_err();
    assert!(matches!(
        transport_kind(&err),
        TransportErrorKind::BodyTooLarge { .. }
    ));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::Hang);
    let client = builder(&server)
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.token().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(transport_kind(&err), TransportErrorKind::Timeout, "{err:?}");
    assert!(err.is_retryable());
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn a_body_that_stalls_times_out() {
    // The head and a few bytes arrive at once; the rest never does.
    let fault = Fault::StalledBody {
        sent: 20,
        content_length: Some(1000),
    };
    let (err, elapsed) = fail_with(fault, |b| b.timeout(Duration::from_millis(300))).await;
    assert_eq!(transport_kind(&err), TransportErrorKind::Timeout, "{err:?}");
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    // A port bound but not listening refuses connections, and no other test or process
    // can take it while the socket is held.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let client = DstorClient::builder()
        .endpoint(format!("http://{addr}"))
        .api_key(ApiKey::new("k".repeat(64)).unwrap())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.token().await.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Connect, "{err:?}");
    assert!(err.is_retryable());
    // The URL is stripped (the socket address of a refused connection may remain).
    assert!(!chain(&err).contains("http://"), "{err:?}");
    drop(socket);
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_the_key_goes_nowhere_else() {
    let server = FakeDstor::start().await.unwrap();
    let elsewhere = FakeDstor::start().await.unwrap();
    for status in [301, 302, 303, 307, 308] {
        server.push_fault(Fault::Redirect {
            status,
            location: format!("{}/v1/dev/temp-token", elsewhere.base_url()),
        });
        let err = client(&server).token().await.unwrap_err();
        assert!(
            matches!(err, AuthError::Api(ApiError::Redirect { status: s }) if s == status),
            "{err:?}"
        );
    }
    assert_eq!(server.token_request_count(), 5);
    // The second server received no request at all, so none with the key.
    assert_eq!(elsewhere.request_count(), 0);
}

/// A fake proxy on `ip`: it records every connection's request head and answers
/// `403 Forbidden`. Returns its address and what it has seen so far.
async fn fake_proxy(
    ip: [u8; 4],
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::from(ip), 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let record = std::sync::Arc::clone(&record);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0_u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                record
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = stream
                    .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn a_loopback_endpoint_is_never_reached_through_the_proxy() {
    // Plain http is allowed to a loopback endpoint; through a proxy, the proxy would read
    // the request, api-key header included, in clear text.
    let target = FakeDstor::start().await.unwrap();
    let (proxy, seen) = fake_proxy([127, 0, 0, 2]).await;
    let client = builder(&target)
        .proxy(format!("http://user:hunter2@{proxy}"))
        .build()
        .unwrap();
    client.token().await.unwrap();
    assert_eq!(target.token_request_count(), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    assert_no_secret(&format!("{client:?}"), &["hunter2"]);

    // The transport alone, as `ApiKeyProvider` uses it: the same.
    let transport = ReqwestTransport::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .proxy(format!("http://{proxy}"))
        .build()
        .unwrap();
    let request = TokenRequest::new(
        target.base_url().parse().unwrap(),
        ApiKey::new(target.api_key()).unwrap(),
    )
    .unwrap()
    .to_http();
    assert_eq!(transport.send(request).await.unwrap().status(), 200);
    assert_eq!(target.token_request_count(), 2);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn https_requests_go_through_the_proxy_given_and_only_to_it() {
    let (proxy, seen) = fake_proxy([127, 0, 0, 1]).await;
    let key = "k".repeat(64);
    let client = DstorClient::builder()
        .endpoint("https://api.dstor.cloud")
        .api_key(ApiKey::new(key.clone()).unwrap())
        .retry_policy(RetryPolicy::none())
        .proxy(format!("http://user:hunter2@{proxy}"))
        .build()
        .unwrap();
    // The fake proxy refuses the tunnel.
    let err = client.token().await.unwrap_err();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with("CONNECT api.dstor.cloud:443 "),
        "{seen:?}"
    );
    assert!(
        seen[0].to_ascii_lowercase().contains("proxy-authorization"),
        "{seen:?}"
    );
    // The key travels inside the tunnel only.
    assert_no_secret(&seen[0], &[&key]);
    assert_no_secret(&chain(&err), &["hunter2", &key]);
    assert_no_secret(&format!("{client:?}"), &["hunter2"]);
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_connect_error_without_its_credentials() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let key = "k".repeat(64);
    let err = DstorClient::builder()
        .endpoint("https://api.dstor.cloud")
        .api_key(ApiKey::new(key.clone()).unwrap())
        .retry_policy(RetryPolicy::none())
        .proxy(format!("http://user:hunter2@{addr}"))
        .build()
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Connect, "{err:?}");
    assert_no_secret(&chain(&err), &["hunter2", &key]);
    drop(socket);
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_any_io() {
    for url in [
        "http://api.dstor.cloud",
        "http://10.0.0.1:8080",
        "http://localhost.evil.example",
    ] {
        let err = DstorClient::builder()
            .endpoint(url)
            .api_key(ApiKey::new("k".repeat(64)).unwrap())
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::Endpoint(EndpointError::Insecure { .. })),
            "{url}: {err:?}"
        );
        assert!(err.to_string().contains("https"), "{err}");
    }
    let err = DstorClient::builder()
        .environment(Environment::Custom("http://example.com".parse().unwrap()))
        .api_key(ApiKey::new("k".repeat(64)).unwrap())
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Endpoint(EndpointError::Insecure { ref host }) if host == "example.com"
    ));
    for url in [
        "http://127.0.0.1:1",
        "http://[::1]:1",
        "http://localhost:1",
        "https://api.dstor.cloud",
    ] {
        DstorClient::builder()
            .endpoint(url)
            .api_key(ApiKey::new("k".repeat(64)).unwrap())
            .build()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[tokio::test]
async fn the_transport_alone_hands_back_any_status() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::Status(503));
    let transport = ReqwestTransport::with_defaults().unwrap();
    let request = TokenRequest::new(
        server.base_url().parse().unwrap(),
        ApiKey::new(server.api_key()).unwrap(),
    )
    .unwrap()
    .to_http();
    let response = transport.send(request.clone()).await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(!response.body().is_empty());
    let response = transport.send(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
}

#[test]
fn the_transport_is_built_without_a_runtime_and_shows_no_proxy() {
    let builder = ReqwestTransport::builder()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(2))
        .max_body_bytes(1024)
        .proxy("http://user:hunter2@proxy.example:3128");
    let text = format!("{builder:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("proxy.example"),
        "{text}"
    );
    let transport = builder.build().unwrap();
    assert!(transport.is_proxied());
    assert_eq!(transport.max_body_bytes(), 1024);
    let text = format!("{transport:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("proxy.example"),
        "{text}"
    );
    let err = ReqwestTransport::builder()
        .proxy("hunter2 :// x")
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidProxy));
    assert!(!chain(&err).contains("hunter2"));
}
