//! dstor-auth: providers, caches, transports and every `AuthError`.

use std::time::{Duration, UNIX_EPOCH};

use dstor_auth::fake::{ScriptedProvider, ScriptedTransport, fake_jwt};
use dstor_auth::{
    ApiKeyProvider, AuthError, CacheConfig, CachedTokenProvider, FnTokenProvider, RetryPolicy,
    RetryingProvider, StaticTokenProvider, TokenLifetime, TokenProvider, TransportError,
    TransportErrorKind, transport_fn,
};
use dstor_types::{AccessToken, ApiError, Environment, Expiration, TokenRequest};
use http::{Request, Response};

use super::{KEY, SIGNATURE, checker, echoing_bodies, key, token_text, unix_now};

fn every_auth_error(token: &str) -> Vec<AuthError> {
    // A transport's source must already be free of secrets (see `TransportError`).
    let clean_io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    vec![
        ApiError::KeyRejected {
            status: 401,
            message: None,
        }
        .into(),
        TransportError::with_source(TransportErrorKind::Connect, clean_io).into(),
        TransportError::new(TransportErrorKind::Timeout).into(),
        TransportError::new(TransportErrorKind::BodyTooLarge { limit: 1 }).into(),
        TransportError::new(TransportErrorKind::Connection).into(),
        TokenRequest::new(Environment::Testnet.base_url(), key())
            .unwrap()
            .user_agent_suffix(&format!("{KEY}\n{token}"))
            .unwrap_err()
            .into(),
        Expiration::at(UNIX_EPOCH).unwrap_err().into(),
        ApiKeyProvider::new(
            ScriptedTransport::new(),
            &"http://example.com".parse().unwrap(),
            key(),
        )
        .unwrap_err(),
        AuthError::ExpiredToken,
        AuthError::Cancelled,
        AuthError::provider("vault unavailable", true),
    ]
}

#[tokio::test]
async fn dstor_auth_providers_and_errors() {
    let token = token_text();
    let mut check = checker(&token);
    for err in every_auth_error(&token) {
        check.error("AuthError", &err);
    }

    // An exchange that saw the key go out and the token come back.
    let transport = ScriptedTransport::new();
    transport.push_response(200, &format!(r#"{{"access_token":"{token}"}}"#));
    let exchange = ApiKeyProvider::new(transport, &Environment::Testnet, key())
        .unwrap()
        .with_lifetime(TokenLifetime::After(Duration::from_secs(3600)))
        .unwrap()
        .with_user_agent_suffix("leak-test/1")
        .unwrap();
    let policy = RetryPolicy::default();
    check.debug("RetryPolicy", &policy);
    let tokens = CachedTokenProvider::with_config(
        RetryingProvider::new(exchange, policy),
        CacheConfig::default(),
    );
    let got = tokens.token().await.unwrap();
    assert_eq!(got.expose_secret(), token);
    check.debug("CachedTokenProvider", &tokens);
    check.debug("CacheStatus", &tokens.status());
    check.debug(
        "ScriptedTransport with requests",
        tokens.inner().inner().transport(),
    );
    for request in tokens.inner().inner().transport().requests() {
        check.debug("recorded request", &request);
    }

    // A cache whose last refresh failed on an answer echoing the secrets.
    let transport = ScriptedTransport::new();
    for body in echoing_bodies(&token) {
        transport.push_response(401, &body);
    }
    let exchange = ApiKeyProvider::new(transport, &Environment::Production, key()).unwrap();
    let tokens = CachedTokenProvider::new(exchange);
    let err = tokens.token().await.unwrap_err();
    check.error("AuthError from the cache", &err);
    check.debug("CacheStatus with an error", &tokens.status());
    check.debug("CachedTokenProvider with an error", &tokens);

    // A token that had expired on arrival.
    let now = unix_now();
    let expired = format!(
        "{}.{SIGNATURE}",
        fake_jwt(now - 7200, now - 3600, "a")
            .rsplit_once('.')
            .unwrap()
            .0
    );
    let scripted = ScriptedProvider::new();
    scripted.push(Ok(AccessToken::new(expired).unwrap()));
    let tokens = CachedTokenProvider::new(scripted);
    let err = tokens.token().await.unwrap_err();
    assert!(matches!(err, AuthError::ExpiredToken), "{err:?}");
    check.debug("CachedTokenProvider<ScriptedProvider>", &tokens);
    check.debug("CacheStatus after an expired token", &tokens.status());

    let scripted = ScriptedProvider::new();
    scripted.push(Ok(AccessToken::new(token.as_str()).unwrap()));
    check.debug("ScriptedProvider holding a token", &scripted);

    let fixed = StaticTokenProvider::new(token.as_str()).unwrap();
    check.debug("StaticTokenProvider", &fixed);
    let closure_token = token.clone();
    let from_fn = FnTokenProvider::new(move || {
        let text = closure_token.clone();
        async move {
            AccessToken::new(text).map_err(|e| AuthError::provider_with_source("bad", false, e))
        }
    });
    check.debug("FnTokenProvider", &from_fn);
    check.debug("FnTokenProvider token", &from_fn.token().await.unwrap());
    let closure =
        transport_fn(|_request: Request<Vec<u8>>| async { Ok(Response::new(Vec::new())) });
    check.debug("FnTransport", &closure);
    check.assert_clean();
}
