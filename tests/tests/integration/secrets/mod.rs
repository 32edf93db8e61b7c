//! The API key is the account, and a token is a session: neither may show in the `Debug`
//! (`{:?}`, `{:#?}`) or `Display` of any public type, nor in any error or its sources.
//!
//! Every value is built holding, or having seen, a distinctive key and token, and every
//! rendering is searched for them (and for fragments of them). The same holds for a
//! login's password (`login`).

mod auth;
mod http_client;
mod login;
mod logs;
mod mock;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dstor_auth::AuthError;
use dstor_auth::fake::fake_jwt;
use dstor_tests::LeakCheck;
use dstor_types::{AccessToken, ApiKey, BaseUrl, Environment, Expiration, TokenRequest};
use http::Response;

/// 64 characters, and a fragment (`LeakCanary`) that no message or type name holds.
pub(super) const KEY: &str = "LeakCanaryApiKey0LeakCanaryApiKey1LeakCanaryApiKey2LeakCanaryApi";
const KEY_FRAGMENT: &str = "LeakCanary";
/// The signature segment of the token: what makes it a bearer credential.
pub(super) const SIGNATURE: &str = "TokenCanarySignature0123456789";

pub(super) fn unix_now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

/// A JWT valid for an hour whose signature is [`SIGNATURE`].
pub(super) fn token_text() -> String {
    let now = unix_now();
    let jwt = fake_jwt(now, now + 3600, "account-1");
    let (unsigned, _) = jwt.rsplit_once('.').unwrap();
    format!("{unsigned}.{SIGNATURE}")
}

/// An opaque (non-JWT) token.
const OPAQUE: &str = "OpaqueTokenCanary-7f3e9a1c5b2d4e6f";

pub(super) fn checker(token: &str) -> LeakCheck {
    let payload = token.split('.').nth(1).unwrap().to_owned();
    assert_eq!(KEY.len(), 64);
    LeakCheck::new([
        KEY.to_owned(),
        KEY_FRAGMENT.to_owned(),
        token.to_owned(),
        SIGNATURE.to_owned(),
        payload,
        OPAQUE.to_owned(),
        "TokenCanary".to_owned(),
    ])
}

/// The name of an enum value's variant, from its `Debug`.
fn variant_name(value: &impl std::fmt::Debug) -> String {
    let debug = format!("{value:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub(super) fn key() -> ApiKey {
    ApiKey::new(KEY).unwrap()
}

/// Bodies that echo the key and the token back, in the shapes servers use.
pub(super) fn echoing_bodies(token: &str) -> Vec<String> {
    vec![
        format!(r#"{{"message":"invalid api key {KEY} for token {token}"}}"#),
        format!(r#"{{"error":"api-key={KEY}; Authorization: Bearer {token}"}}"#),
        format!(r#"{{"detail":"key \"{KEY}\" token \"{token}\""}}"#),
        format!(r#""{KEY} {token}""#),
        format!("plain text: key {KEY}\n\ttoken {token}."),
        format!("{KEY}{KEY}"),
    ]
}

#[test]
fn dstor_types_values_and_errors() {
    let token = token_text();
    let mut check = checker(&token);
    let key = key();
    check.debug("ApiKey", &key);
    let access = AccessToken::new(token.as_str()).unwrap();
    check.debug("AccessToken", &access);
    check.debug("AccessToken claims", access.claims());
    check.debug("Authorization header", &access.authorization_header());
    check.debug("AccessToken opaque", &AccessToken::new(OPAQUE).unwrap());

    let expiration = Expiration::after(Duration::from_secs(3600)).unwrap();
    let exchange = TokenRequest::new(Environment::Testnet.base_url(), key.clone())
        .unwrap()
        .expiration(Some(expiration));
    check.debug("TokenRequest", &exchange);
    let request = exchange.to_http();
    check.debug("TokenRequest::to_http", &request);
    check.debug("request headers", request.headers());

    // Every ApiError variant, from answers that echo the secrets.
    let mut variants = std::collections::BTreeSet::new();
    for body in echoing_bodies(&token) {
        for status in [400, 401, 403, 404, 408, 418, 429, 500, 503, 302, 200] {
            let response = Response::builder()
                .status(status)
                .header("retry-after", "7")
                .header("location", format!("https://evil.example/?key={KEY}"))
                .body(body.clone().into_bytes())
                .unwrap();
            let err = exchange.parse_response(response).unwrap_err();
            variants.insert(variant_name(&err));
            check.error(&format!("ApiError from {status} {body:?}"), &err);
            check.error("AuthError::Api", &AuthError::from(err));
        }
    }
    // 200s that are not a token: InvalidBody with each reason.
    let long = "a".repeat(dstor_types::MAX_TOKEN_LEN + 1);
    for body in [
        format!(r#"{{"token":"{token}","key":"{KEY}"}}"#),
        format!(r#"{{"access_token":"{token} {KEY}"}}"#),
        format!(r#"{{"access_token":"{KEY}{long}"}}"#),
        r#"{"access_token":""}"#.to_owned(),
    ] {
        let response = Response::new(body.into_bytes());
        let err = exchange.parse_response(response).unwrap_err();
        variants.insert(variant_name(&err));
        check.error("ApiError::InvalidBody", &err);
    }
    let expected = [
        "BadRequest",
        "InvalidBody",
        "KeyRejected",
        "NotFound",
        "Redirect",
        "Server",
        "Throttled",
        "UnexpectedStatus",
    ];
    assert_eq!(variants.into_iter().collect::<Vec<_>>(), expected);

    // Key and token errors never repeat what they were given.
    for bad in [
        format!("{KEY}!"),
        KEY[..63].to_owned(),
        format!("{} {}", &KEY[..31], &KEY[32..]),
        format!("{}\u{7}", &KEY[..63]),
        format!("{}é", &KEY[..63]),
        String::new(),
    ] {
        check.error("ApiKeyError", &ApiKey::new(bad).unwrap_err());
    }
    for bad in [
        format!("{token} {KEY}"),
        format!("{token}\n"),
        format!("{token}{}", "x".repeat(dstor_types::MAX_TOKEN_LEN)),
        String::new(),
    ] {
        check.error("TokenError", &AccessToken::new(bad).unwrap_err());
    }

    // Credentials in a URL are refused without being echoed.
    for url in [
        format!("https://user:{KEY}@example.com"),
        format!("https://{KEY}@example.com/dstor"),
        format!("https://{token}:x@example.com"),
    ] {
        check.error("EndpointError", &BaseUrl::parse(&url).unwrap_err());
        check.error(
            "Environment::from_str",
            &url.parse::<Environment>().unwrap_err(),
        );
    }
    check.display("Environment", &Environment::Testnet);
    check.assert_clean();
    assert!(check.checked() > 400, "{}", check.checked());
}

/// Found by this suite: a base URL with the key in its query string (as some old
/// clients put it) is refused with an error that repeats the whole URL, query included.
#[test]
fn a_refused_url_does_not_repeat_its_query() {
    let mut check = checker(&token_text());
    for url in [
        format!("https://api.dstor.cloud/?api-key={KEY}"),
        format!("https://api.dstor.cloud/#{KEY}"),
    ] {
        check.error("EndpointError", &BaseUrl::parse(&url).unwrap_err());
        let built = dstor_http::DstorClient::builder()
            .api_key(key())
            .endpoint(url)
            .build();
        check.error("ConfigError::Endpoint", &built.unwrap_err());
    }
    check.assert_clean();
}

/// Found by this suite: a key given where an environment name is expected (swapped
/// `DSTOR_ENDPOINT` and `DSTOR_API_KEY`) is echoed, 40 characters of it.
#[test]
fn a_key_given_as_the_environment_is_not_echoed() {
    let mut check = checker(&token_text());
    check.error(
        "UnknownEnvironment",
        &KEY.parse::<Environment>().unwrap_err(),
    );
    check.assert_clean();
}
