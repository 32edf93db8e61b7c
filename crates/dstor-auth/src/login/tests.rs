use std::sync::Arc;
use std::time::Duration;

use dstor_types::secrecy::SecretString;
use dstor_types::{ApiError, EndpointError};

use super::*;
use crate::fake::ScriptedTransport;

const PASSWORD: &str = "correct-horse-battery-staple";

fn credentials() -> LoginCredentials {
    LoginCredentials::new("dev@example.com", SecretString::from(PASSWORD)).unwrap()
}

#[tokio::test]
async fn posts_the_credentials_and_reads_the_token() {
    let transport = ScriptedTransport::new();
    transport.push_response(200, r#"{"access_token":"opaque"}"#);
    let provider = LoginProvider::new(transport, &Environment::Testnet, credentials())
        .unwrap()
        .with_lifetime(TokenLifetime::After(Duration::from_secs(900)))
        .unwrap()
        .with_user_agent_suffix("my-app/1.0")
        .unwrap();
    assert_eq!(provider.token().await.unwrap().expose_secret(), "opaque");
    let requests = provider.transport().requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method(), "POST");
    assert_eq!(
        request.uri(),
        "https://api.testnet.dstor.cloud/v1/dev/temp-token"
    );
    assert!(
        request.headers()["user-agent"]
            .to_str()
            .unwrap()
            .ends_with(" my-app/1.0")
    );
    assert!(request.headers().contains_key("x-expiration"));
    let body = format!(r#"{{"email":"dev@example.com","password":"{PASSWORD}"}}"#);
    assert_eq!(request.body(), body.as_bytes());
}

#[tokio::test]
async fn a_401_says_the_email_or_password_is_wrong_and_is_permanent() {
    let transport = ScriptedTransport::new();
    transport.push_response(
        401,
        &format!(r#"{{"message":"wrong password {PASSWORD}"}}"#),
    );
    let provider = LoginProvider::new(transport, &Environment::Testnet, credentials()).unwrap();
    let err = provider.token().await.unwrap_err();
    assert!(
        err.is_credentials_rejected() && err.is_permanent(),
        "{err:?}"
    );
    assert!(!err.is_retryable() && !err.is_key_rejected());
    assert!(matches!(
        err,
        AuthError::Api(ApiError::CredentialsRejected { status: 401, .. })
    ));
    let text = format!("{err} {err:?} {provider:?}");
    assert!(text.contains("email or password"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

#[test]
fn refuses_plain_http_to_a_remote_host_before_anything_is_sent() {
    let base = BaseUrl::parse("http://api.dstor.cloud").unwrap();
    let err = LoginProvider::new(
        ScriptedTransport::new(),
        &Environment::Custom(base),
        credentials(),
    )
    .unwrap_err();
    assert!(
        matches!(err, AuthError::Endpoint(EndpointError::Insecure { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_builder_logs_in_through_the_same_cache_and_never_retries_a_401() {
    let transport = Arc::new(ScriptedTransport::new());
    transport.push_response(200, r#"{"access_token":"opaque"}"#);
    let tokens = crate::Tokens::builder(Arc::clone(&transport))
        .environment(Environment::Testnet)
        .api_key(dstor_types::ApiKey::new("k".repeat(64)).unwrap())
        .login(credentials())
        .build()
        .unwrap();
    assert_eq!(tokens.token().await.unwrap().expose_secret(), "opaque");
    assert_eq!(tokens.token().await.unwrap().expose_secret(), "opaque");
    assert_eq!(transport.requests().len(), 1, "the second call is cached");
    assert_eq!(transport.requests()[0].method(), "POST");

    let transport = Arc::new(ScriptedTransport::new());
    for _ in 0..3 {
        transport.push_response(401, r#"{"message":"invalid credentials"}"#);
    }
    let builder = crate::Tokens::builder(Arc::clone(&transport)).login(credentials());
    assert!(!format!("{builder:?}").contains(PASSWORD));
    let tokens = builder.build().unwrap();
    let err = tokens.token().await.unwrap_err();
    assert!(err.is_credentials_rejected(), "{err:?}");
    assert_eq!(transport.requests().len(), 1, "a 401 is not retried");
}
