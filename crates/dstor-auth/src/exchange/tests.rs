use std::sync::Mutex;

use dstor_types::{ApiError, EndpointError, RequestError};
use http::{Request, Response};
use mockall::mock;

use super::*;
use crate::TransportError;

const KEY: &str = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";

mock! {
    #[derive(Debug)]
    Transport {}
    #[async_trait]
    impl HttpTransport for Transport {
        async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;
    }
}

fn key() -> ApiKey {
    ApiKey::new(KEY).unwrap()
}

fn answer(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_the_token() {
    let seen = std::sync::Arc::new(Mutex::new(None));
    let mut transport = MockTransport::new();
    let sink = seen.clone();
    transport.expect_send().times(1).returning(move |request| {
        *sink.lock().unwrap() = Some(request);
        Ok(answer(200, r#"{"access_token":"opaque"}"#))
    });
    let provider = ApiKeyProvider::new(transport, &Environment::Testnet, key())
        .unwrap()
        .with_lifetime(TokenLifetime::After(Duration::from_secs(600)))
        .unwrap()
        .with_user_agent_suffix("app/1")
        .unwrap();
    let token = provider.token().await.unwrap();
    assert_eq!(token.expose_secret(), "opaque");

    let request = seen.lock().unwrap().take().unwrap();
    assert_eq!(
        request.uri(),
        "https://api.testnet.dstor.cloud/v1/dev/temp-token"
    );
    assert_eq!(request.headers()["api-key"], KEY);
    let exp: u64 = request.headers()["x-expiration"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 590..=now + 610).contains(&exp), "{exp} vs {now}");
    // A non-JWT token expires when it was asked to.
    let expires = token.expires_at().unwrap();
    assert_eq!(
        expires
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        exp
    );
    assert!(
        request.headers()["user-agent"]
            .to_str()
            .unwrap()
            .ends_with(" app/1")
    );
}

#[tokio::test]
async fn the_server_default_sends_no_expiration() {
    let mut transport = MockTransport::new();
    transport.expect_send().times(1).returning(|request| {
        assert!(!request.headers().contains_key("x-expiration"));
        Ok(answer(200, r#"{"access_token":"t"}"#))
    });
    let provider = ApiKeyProvider::new(transport, &Environment::Production, key())
        .unwrap()
        .with_lifetime(TokenLifetime::ServerDefault)
        .unwrap();
    provider.token().await.unwrap();
}

#[tokio::test]
async fn a_rejection_is_classified_and_a_transport_error_passes_through() {
    let mut transport = MockTransport::new();
    let mut seq = mockall::Sequence::new();
    transport
        .expect_send()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(answer(401, r#"{"message":"bad key"}"#)));
    transport
        .expect_send()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Err(TransportError::new(crate::TransportErrorKind::Timeout)));
    let provider = ApiKeyProvider::new(transport, &Environment::Testnet, key()).unwrap();
    let err = provider.token().await.unwrap_err();
    assert!(matches!(
        err,
        AuthError::Api(ApiError::KeyRejected { status: 401, .. })
    ));
    let err = provider.token().await.unwrap_err();
    assert!(matches!(&err, AuthError::Transport(t) if t.is_timeout()));
}

#[test]
fn refuses_plain_http_except_on_loopback() {
    let env: Environment = "http://api.dstor.cloud".parse().unwrap();
    let err = ApiKeyProvider::new(MockTransport::new(), &env, key()).unwrap_err();
    assert!(matches!(
        &err,
        AuthError::Endpoint(EndpointError::Insecure { host }) if host == "api.dstor.cloud"
    ));
    assert!(err.is_permanent() && !err.is_retryable());
    assert!(err.to_string().contains("https"));
    for local in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
        let env: Environment = local.parse().unwrap();
        assert!(
            ApiKeyProvider::new(MockTransport::new(), &env, key()).is_ok(),
            "{local}"
        );
    }
}

#[test]
fn bad_settings_are_refused_when_they_are_made() {
    let provider =
        || ApiKeyProvider::new(MockTransport::new(), &Environment::Testnet, key()).unwrap();
    for short in [Duration::ZERO, Duration::from_millis(999)] {
        let err = provider()
            .with_lifetime(TokenLifetime::After(short))
            .unwrap_err();
        assert!(matches!(err, AuthError::Expiration(_)), "{err:?}");
        assert!(err.is_permanent());
    }
    let err = provider()
        .with_lifetime(TokenLifetime::After(Duration::from_secs(u64::MAX / 4)))
        .unwrap_err();
    assert!(matches!(err, AuthError::Expiration(_)), "{err:?}");
    for bad in ["bad\nagent", "caf\u{e9}/1"] {
        let err = provider().with_user_agent_suffix(bad).unwrap_err();
        assert!(
            matches!(err, AuthError::Request(RequestError::InvalidUserAgent)),
            "{err:?}"
        );
        assert!(err.to_string().contains("visible ASCII"), "{err}");
    }
    // What the setters accept, token() accepts too.
    let mut transport = MockTransport::new();
    transport.expect_send().times(1).returning(|request| {
        assert!(
            request.headers()["user-agent"]
                .to_str()
                .unwrap()
                .ends_with(" my-app/1.0")
        );
        assert!(request.headers().contains_key("x-expiration"));
        Ok(answer(200, r#"{"access_token":"t"}"#))
    });
    let provider = ApiKeyProvider::new(transport, &Environment::Testnet, key())
        .unwrap()
        .with_lifetime(TokenLifetime::After(Duration::from_secs(1)))
        .unwrap()
        .with_user_agent_suffix("my-app/1.0")
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(provider.token()).unwrap();
}

#[test]
fn debug_hides_the_key() {
    let provider = ApiKeyProvider::new(MockTransport::new(), &Environment::Testnet, key()).unwrap();
    let debug = format!("{provider:?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
}

#[tokio::test]
async fn until_sends_exactly_that_expiration() {
    let until = Expiration::after(Duration::from_secs(7200)).unwrap();
    let mut transport = MockTransport::new();
    transport.expect_send().times(1).returning(move |request| {
        assert_eq!(
            request.headers()["x-expiration"],
            until.unix_seconds().to_string().as_str()
        );
        Ok(answer(200, r#"{"access_token":"t"}"#))
    });
    let provider = ApiKeyProvider::new(transport, &Environment::Testnet, key())
        .unwrap()
        .with_lifetime(TokenLifetime::Until(until))
        .unwrap();
    provider.token().await.unwrap();
}

#[tokio::test]
async fn a_scripted_answer_carries_its_headers_to_the_error() {
    let transport = std::sync::Arc::new(crate::fake::ScriptedTransport::new());
    transport.push_response_with_headers(429, &[("retry-after", "7")], "slow down");
    let exchange = ApiKeyProvider::new(transport, &Environment::Testnet, key()).unwrap();
    let err = exchange.token().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable(), "{err:?}");
}
