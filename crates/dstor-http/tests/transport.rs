//! The transport's limits: body size, time, redirects, plain http.

mod common;

use std::time::{Duration, Instant};

use dstor_auth::{HttpTransport, TransportErrorKind};
use dstor_http::{
    ApiKey, AuthError, ConfigError, DstorClient, DstorClientBuilder, Environment, ReqwestTransport,
    RetryPolicy,
};
use dstor_mock::{FakeDstor, Fault};
use dstor_types::{ApiError, TokenRequest};

use common::{builder, client};

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
    let fault = Fault::StalledBody {
        sent: 0,
        content_length: Some(10 * 1024 * 1024),
    };
    let (err, elapsed) = fail_with(fault, |b| b.timeout(Duration::from_secs(10))).await;
    assert_eq!(
        transport_kind(&err),
        TransportErrorKind::BodyTooLarge { limit: 64 * 1024 }
    );
    assert!(elapsed < Duration::from_secs(5));
}

/// Ten mebibytes without `Content-Length`, then a stall: a client that buffered the body
/// to its end would hold all of it and then time out; the capped read stops at the limit.
#[tokio::test]
async fn a_chunked_ten_mebibyte_body_is_abandoned_at_the_limit() {
    let fault = Fault::StalledBody {
        sent: 10 * 1024 * 1024,
        content_length: None,
    };
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
    assert!(!common::chain(&err).contains("http://"), "{err:?}");
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

#[tokio::test]
async fn requests_go_through_the_proxy_given_and_only_to_it() {
    let target = FakeDstor::start().await.unwrap();
    let proxy = FakeDstor::start().await.unwrap();
    let client = builder(&target)
        .proxy(format!("http://user:hunter2@{}", proxy.addr()))
        .build()
        .unwrap();
    // The fake proxy answers as a dStor that does not know the key.
    let err = client.token().await.unwrap_err();
    assert!(err.is_key_rejected(), "{err:?}");
    assert_eq!(target.request_count(), 0);
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].headers.contains_key("proxy-authorization"));
    common::assert_no_secret(&common::chain(&err), &["hunter2", target.api_key()]);
    common::assert_no_secret(&format!("{client:?}"), &["hunter2"]);
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_connect_error_without_its_credentials() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let target = FakeDstor::start().await.unwrap();
    let err = builder(&target)
        .proxy(format!("http://user:hunter2@{addr}"))
        .build()
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Connect, "{err:?}");
    assert_eq!(target.request_count(), 0);
    common::assert_no_secret(&common::chain(&err), &["hunter2", target.api_key()]);
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
            matches!(err, ConfigError::InsecureEndpoint { .. }),
            "{url}: {err:?}"
        );
        assert!(err.to_string().contains("https"), "{err}");
    }
    let err = DstorClient::builder()
        .environment(Environment::Custom("http://example.com".parse().unwrap()))
        .api_key(ApiKey::new("k".repeat(64)).unwrap())
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InsecureEndpoint { ref host } if host == "example.com"));
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
    .to_http()
    .unwrap();
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
    let transport = ReqwestTransport::new(
        Duration::from_secs(1),
        Duration::from_secs(2),
        1024,
        Some("http://user:hunter2@proxy.example:3128"),
    )
    .unwrap();
    assert!(transport.is_proxied());
    assert_eq!(transport.max_body_bytes(), 1024);
    let text = format!("{transport:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("proxy.example"),
        "{text}"
    );
    let err = ReqwestTransport::new(
        Duration::from_secs(1),
        Duration::from_secs(1),
        1,
        Some("hunter2 :// x"),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidProxy));
    assert!(!common::chain(&err).contains("hunter2"));
}
