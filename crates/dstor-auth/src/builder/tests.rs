use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::fake::ScriptedTransport;

const KEY: &str = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";

fn key() -> ApiKey {
    ApiKey::new(KEY).unwrap()
}

/// A transport that answers each request with the next of `tokens`, as dStor would.
fn answering(tokens: &[&str]) -> Arc<ScriptedTransport> {
    let transport = ScriptedTransport::new();
    for token in tokens {
        transport.push_response(200, &format!(r#"{{"access_token":"{token}"}}"#));
    }
    Arc::new(transport)
}

fn builder(transport: &Arc<ScriptedTransport>) -> TokensBuilder<Arc<ScriptedTransport>> {
    Tokens::builder(Arc::clone(transport))
        .endpoint("http://127.0.0.1:9")
        .api_key(key())
}

#[tokio::test]
async fn one_request_serves_every_clone_of_the_handle() {
    let transport = answering(&["first"]);
    let tokens = builder(&transport)
        .user_agent_suffix("my-app/2.0")
        .build()
        .unwrap();
    let token = tokens.token().await.unwrap();
    assert_eq!(token.expose_secret(), "first");
    let again = tokens.clone().token().await.unwrap();
    assert!(again.same_token(&token));
    assert_eq!(tokens.try_cached(), Some(token));
    assert_eq!(tokens.status().fetches, 1);

    let requests = transport.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.uri().to_string(),
        "http://127.0.0.1:9/v1/dev/temp-token"
    );
    assert_eq!(request.headers()["api-key"], KEY);
    let agent = request.headers()["user-agent"].to_str().unwrap();
    assert!(agent.ends_with(" my-app/2.0"), "{agent}");
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_behind_the_handle() {
    let transport = Arc::new(ScriptedTransport::new());
    transport.push_response(503, "");
    transport.push_response(503, "");
    transport.push_response(200, r#"{"access_token":"third"}"#);
    let tokens = builder(&transport)
        .retry_policy(RetryPolicy::default().with_max_attempts(3))
        .build()
        .unwrap();
    assert_eq!(tokens.token().await.unwrap().expose_secret(), "third");
    assert_eq!(transport.requests().len(), 3);
    assert_eq!(tokens.status().fetches, 1);
    assert_eq!(tokens.retry_policy().max_attempts, 3);
}

#[tokio::test(start_paused = true)]
async fn a_rejected_key_is_asked_once() {
    let transport = Arc::new(ScriptedTransport::new());
    transport.push_response(401, r#"{"message":"invalid api key"}"#);
    let tokens = builder(&transport).build().unwrap();
    let err = tokens.token().await.unwrap_err();
    assert!(err.is_key_rejected(), "{err:?}");
    assert_eq!(transport.requests().len(), 1);
    assert!(tokens.status().last_error.is_some());
}

#[tokio::test]
async fn invalidate_and_force_refresh_reach_the_cache() {
    let transport = answering(&["one", "two", "three"]);
    let tokens = builder(&transport)
        .cache_config(CacheConfig::default().with_min_intervals(Duration::ZERO, Duration::ZERO))
        .build()
        .unwrap();
    let one = tokens.token().await.unwrap();
    assert!(tokens.invalidate(&one));
    assert!(tokens.try_cached().is_none());
    let two = tokens.token().await.unwrap();
    assert_eq!(two.expose_secret(), "two");
    // An old token's rejection drops nothing.
    assert!(!tokens.invalidate(&one));
    let three = tokens.force_refresh().await.unwrap();
    assert_eq!(three.expose_secret(), "three");
    assert_eq!(tokens.try_cached(), Some(three));
    assert_eq!(transport.requests().len(), 3);
}

#[tokio::test]
async fn the_handle_is_a_token_provider() {
    let transport = answering(&["one", "two"]);
    let tokens = builder(&transport)
        .cache_config(CacheConfig::default().with_min_intervals(Duration::ZERO, Duration::ZERO))
        .build()
        .unwrap();
    let provider: Arc<dyn TokenProvider> = Arc::new(tokens.clone());
    let one = provider.token().await.unwrap();
    provider.invalidate(&one);
    assert!(tokens.try_cached().is_none());
    assert_eq!(provider.token().await.unwrap().expose_secret(), "two");
}

#[test]
fn an_endpoint_wins_over_an_environment_whatever_the_order() {
    let transport = Arc::new(ScriptedTransport::new());
    let base = |b: TokensBuilder<Arc<ScriptedTransport>>| {
        b.api_key(key())
            .build()
            .unwrap()
            .environment()
            .base_url()
            .as_str()
            .to_owned()
    };
    let before = Tokens::builder(Arc::clone(&transport))
        .endpoint("http://127.0.0.1:9/")
        .environment(Environment::Testnet);
    let after = Tokens::builder(Arc::clone(&transport))
        .environment(Environment::Testnet)
        .endpoint("http://127.0.0.1:9/");
    assert_eq!(base(before), "http://127.0.0.1:9");
    assert_eq!(base(after), "http://127.0.0.1:9");
    // Otherwise the last call wins, and the default is production.
    let last = Tokens::builder(Arc::clone(&transport))
        .environment(Environment::Testnet)
        .environment(Environment::Production)
        .endpoint("http://127.0.0.1:1")
        .endpoint("http://127.0.0.1:2");
    assert_eq!(base(last), "http://127.0.0.1:2");
    let tokens = Tokens::builder(transport).api_key(key()).build().unwrap();
    assert_eq!(tokens.environment(), &Environment::Production);
    assert_eq!(tokens.cache_config(), &CacheConfig::default());
    assert_eq!(tokens.retry_policy(), &RetryPolicy::default());
}

#[test]
fn every_mistake_is_one_error_type_that_shows_no_secret() {
    let transport = Arc::new(ScriptedTransport::new());
    let b = || Tokens::builder(Arc::clone(&transport)).api_key(key());
    let errors = [
        Tokens::builder(Arc::clone(&transport)).build().unwrap_err(),
        b().endpoint("ftp://api.example").build().unwrap_err(),
        b().endpoint(format!("https://u:{KEY}@api.example"))
            .build()
            .unwrap_err(),
        b().endpoint("http://10.0.0.1").build().unwrap_err(),
        b().environment(Environment::Custom("http://example.com".parse().unwrap()))
            .build()
            .unwrap_err(),
        b().token_lifetime(TokenLifetime::After(Duration::ZERO))
            .build()
            .unwrap_err(),
        b().user_agent_suffix(format!("{KEY}\nx"))
            .build()
            .unwrap_err(),
    ];
    assert!(errors[0].is_missing_api_key(), "{:?}", errors[0]);
    assert!(
        matches!(errors[1], BuildError::Endpoint(_)),
        "{:?}",
        errors[1]
    );
    assert!(
        matches!(errors[2], BuildError::Endpoint(_)),
        "{:?}",
        errors[2]
    );
    assert!(
        matches!(&errors[3], BuildError::Endpoint(EndpointError::Insecure { host }) if host == "10.0.0.1"),
        "{:?}",
        errors[3]
    );
    assert!(
        matches!(
            errors[4],
            BuildError::Endpoint(EndpointError::Insecure { .. })
        ),
        "{:?}",
        errors[4]
    );
    assert!(
        matches!(errors[5], BuildError::InvalidTokenLifetime(_)),
        "{:?}",
        errors[5]
    );
    assert!(
        matches!(errors[6], BuildError::InvalidUserAgent),
        "{:?}",
        errors[6]
    );
    for err in &errors {
        let mut text = format!("{err} {err:?}");
        let mut source = err.source();
        while let Some(s) = source {
            text.push_str(&format!(" / {s} {s:?}"));
            source = s.source();
        }
        assert!(!text.contains(KEY), "{text}");
    }
    assert!(transport.requests().is_empty(), "a build sends nothing");
}

#[tokio::test]
async fn debug_shows_no_key_and_no_token() {
    let transport = answering(&["SecretTokenCanary"]);
    let builder = builder(&transport).endpoint(format!("https://u:{KEY}@api.example"));
    let shown = format!("{builder:?} {builder:#?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("[invalid]"), "{shown}");

    let tokens = Tokens::builder(Arc::clone(&transport))
        .endpoint("http://127.0.0.1:9")
        .api_key(key())
        .build()
        .unwrap();
    tokens.token().await.unwrap();
    let shown = format!("{tokens:?} {tokens:#?} {:?}", tokens.status());
    for secret in [KEY, "SecretTokenCanary"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}
