//! The kit catches transports that break the contract.

use std::fmt;
use std::time::Duration;

use dstor_auth::{TransportError, TransportErrorKind, transport_fn};
use http::{Request, Response};

use super::*;

fn failed(report: &ConformanceReport) -> Vec<Check> {
    report.failures().map(|r| r.check).collect()
}

#[tokio::test]
async fn a_transport_that_answers_by_itself_fails_what_a_server_observes() {
    let kit = ConformanceKit::start().await.unwrap();
    let local = transport_fn(|_request: Request<Vec<u8>>| async {
        Ok::<_, TransportError>(Response::new(Vec::new()))
    });
    let report = kit.check(&local).await;
    assert_eq!(
        failed(&report),
        [
            Check::NoRedirect,
            Check::HeadersVerbatim,
            Check::BoundedBody,
            Check::Timeout,
            Check::StreamedRequest,
            Check::StreamedResponse,
        ],
        "{report}"
    );
    assert!(report.to_string().contains("FAILED"));
}

#[tokio::test]
async fn contacting_the_redirect_target_or_the_proxy_fails() {
    let kit = ConformanceKit::start().await.unwrap();
    let addr = |url: String| {
        url.rsplit('@')
            .next()
            .unwrap()
            .trim_start_matches("http://")
            .to_owned()
    };
    let target = kit.servers.redirect_target();
    let target = target
        .trim_start_matches("http://")
        .trim_end_matches("/stolen")
        .to_owned();
    let proxy = addr(kit.proxy_url());
    let follower = transport_fn(move |_request: Request<Vec<u8>>| {
        let (target, proxy) = (target.clone(), proxy.clone());
        async move {
            let _ = tokio::net::TcpStream::connect(target).await;
            let _ = tokio::net::TcpStream::connect(proxy).await;
            Err::<Response<Vec<u8>>, _>(TransportError::new(TransportErrorKind::Other))
        }
    });
    let report = kit.check(&follower).await;
    let redirect = report.result(Check::NoRedirect).unwrap();
    assert!(matches!(&redirect.outcome, Outcome::Failed(_)), "{report}");
    let proxy = report.result(Check::NoProxyForLoopback).unwrap();
    assert!(
        matches!(&proxy.outcome, Outcome::Failed(why) if why.contains("proxy was contacted")),
        "{report}"
    );
}

/// A transport whose `Debug` shows what it holds.
struct Leaky {
    secret: String,
}

impl fmt::Debug for Leaky {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Leaky {{ proxy: http://user:{}@proxy }}", self.secret)
    }
}

#[dstor_auth::async_trait]
impl HttpTransport for Leaky {
    async fn send(&self, _request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        Err(TransportError::new(TransportErrorKind::Connect))
    }
}

#[tokio::test]
async fn a_secret_in_debug_fails_and_is_not_repeated() {
    let kit = ConformanceKit::start().await.unwrap();
    let password = kit.servers.proxy_password().to_owned();
    let cases = [
        (
            ConformanceKit::start()
                .await
                .unwrap()
                .with_secret("hunter2"),
            "hunter2".to_owned(),
        ),
        (kit, password),
    ];
    for (kit, secret) in cases {
        let report = kit
            .check(&Leaky {
                secret: secret.clone(),
            })
            .await;
        let debug = report.result(Check::NoSecretInDebug).unwrap();
        assert!(matches!(debug.outcome, Outcome::Failed(_)), "{report}");
        assert!(!report.to_string().contains(&secret), "{report}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_transport_that_never_answers_fails_within_the_bound() {
    let kit = ConformanceKit::start()
        .await
        .unwrap()
        .with_time_bound(Duration::from_millis(50));
    let silent = transport_fn(|_request: Request<Vec<u8>>| std::future::pending());
    let report = kit.check(&silent).await;
    let timeout = report.result(Check::Timeout).unwrap();
    assert!(
        matches!(&timeout.outcome, Outcome::Failed(why) if why.contains("no result within")),
        "{report}"
    );
    assert!(timeout.elapsed <= Duration::from_millis(60), "{report}");
}
