use proptest::prelude::*;

use super::*;
use crate::Environment;

const PASSWORD: &str = "correct-horse-battery-staple";

fn login(email: &str) -> Result<LoginCredentials, LoginError> {
    LoginCredentials::new(email, SecretString::from(PASSWORD))
}

fn exchange() -> LoginRequest {
    LoginRequest::new(
        Environment::Testnet.base_url(),
        login(" dev@example.com\n").unwrap(),
    )
    .unwrap()
}

#[test]
fn builds_the_post_with_a_json_body() {
    let exp = Expiration::after(std::time::Duration::from_secs(3600)).unwrap();
    let request = exchange().expiration(Some(exp)).to_http();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(
        request.uri(),
        "https://api.testnet.dstor.cloud/v1/dev/temp-token"
    );
    assert_eq!(request.headers()["content-type"], "application/json");
    assert_eq!(request.headers()["accept"], "application/json");
    assert_eq!(request.headers()["cache-control"], "no-store");
    assert_eq!(
        request.headers()["x-expiration"],
        exp.unix_seconds().to_string().as_str()
    );
    assert!(!request.headers().contains_key("api-key"));
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"email": "dev@example.com", "password": PASSWORD})
    );
}

#[test]
fn a_password_with_quotes_and_unicode_is_escaped_into_valid_json() {
    let password = "a\"b\\c\n\u{e9}\u{1F600}";
    let credentials =
        LoginCredentials::new("dev@example.com", SecretString::from(password)).unwrap();
    let request = LoginRequest::new(Environment::Production.base_url(), credentials)
        .unwrap()
        .to_http();
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(body["password"], password);
}

#[test]
fn refuses_plain_http_to_a_remote_host() {
    let base = BaseUrl::parse("http://api.dstor.cloud").unwrap();
    let err = LoginRequest::new(base, login("dev@example.com").unwrap()).unwrap_err();
    assert!(matches!(err, EndpointError::Insecure { .. }), "{err}");
    let loopback = BaseUrl::parse("http://127.0.0.1:9").unwrap();
    LoginRequest::new(loopback, login("dev@example.com").unwrap()).unwrap();
}

#[test]
fn bad_emails_get_typed_errors_that_quote_nothing() {
    let cases = [
        ("", LoginError::EmptyEmail),
        ("   ", LoginError::EmptyEmail),
        ("dev.example.com", LoginError::NotAnEmail),
        ("@example.com", LoginError::NotAnEmail),
        ("dev@", LoginError::NotAnEmail),
        ("dev@ex@ample.com", LoginError::NotAnEmail),
        ("dev @example.com", LoginError::BadCharacter { position: 4 }),
        (
            "dev\u{0}@example.com",
            LoginError::BadCharacter { position: 4 },
        ),
    ];
    for (email, expected) in cases {
        let err = login(email).unwrap_err();
        assert_eq!(err, expected, "{email:?}");
        let text = err.to_string();
        assert!(!text.contains("example"), "{text}");
    }
    let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN));
    assert_eq!(login(&long).unwrap_err(), LoginError::TooLong);
    let empty = LoginCredentials::new("dev@example.com", SecretString::from("")).unwrap_err();
    assert_eq!(empty, LoginError::EmptyPassword);
}

#[test]
fn debug_shows_the_email_and_never_the_password() {
    let exchange = exchange();
    for text in [
        format!("{exchange:?}"),
        format!("{:?}", login("dev@example.com").unwrap()),
    ] {
        assert!(text.contains("dev@example.com"), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}

#[test]
fn the_answer_is_read_as_the_api_keys() {
    let exchange = exchange();
    let ok = http::Response::builder()
        .status(200)
        .body(br#"{"access_token":"opaque"}"#.to_vec())
        .unwrap();
    assert_eq!(
        exchange.parse_response(ok).unwrap().expose_secret(),
        "opaque"
    );
    for status in [401, 403] {
        let body = format!(r#"{{"message":"bad password {PASSWORD}"}}"#);
        let rejected = http::Response::builder()
            .status(status)
            .body(body.into_bytes())
            .unwrap();
        let err = exchange.parse_response(rejected).unwrap_err();
        assert!(
            err.is_credentials_rejected() && err.is_permanent(),
            "{err:?}"
        );
        assert!(!err.is_key_rejected() && !err.is_retryable());
        assert_eq!(err.status(), Some(status));
        let text = err.to_string();
        assert!(text.contains("email or password was rejected"), "{text}");
        assert!(!text.contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD));
    }
    let busy = http::Response::builder()
        .status(503)
        .body(Vec::new())
        .unwrap();
    assert!(exchange.parse_response(busy).unwrap_err().is_retryable());
    let bad = http::Response::builder()
        .status(400)
        .body(Vec::new())
        .unwrap();
    assert!(matches!(
        exchange.parse_response(bad).unwrap_err(),
        ApiError::BadRequest { .. }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any email text either fails with a typed error that quotes nothing of it, or is
    /// accepted and sent, trimmed, in a body that is valid JSON, whatever the password.
    #[test]
    fn any_email_and_password_never_panic_or_leak(email in "\\PC{0,40}|[a-z]{1,8}@[a-z]{1,8}", password in "\\PC{1,40}") {
        match LoginCredentials::new(&email, SecretString::from(password.clone())) {
            Ok(credentials) => {
                prop_assert_eq!(credentials.email(), email.trim());
                let debug = format!("{credentials:?}");
                let expected = format!(
                    "LoginCredentials {{ email: {:?}, password: \"[redacted]\" }}",
                    email.trim()
                );
                prop_assert_eq!(debug, expected);
                let request = LoginRequest::new(Environment::Testnet.base_url(), credentials)
                    .unwrap()
                    .to_http();
                let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
                prop_assert_eq!(body["password"].as_str(), Some(password.as_str()));
                prop_assert_eq!(body["email"].as_str(), Some(email.trim()));
            }
            Err(err) => {
                let text = format!("{err} {err:?}");
                prop_assert!(text.len() < 200);
                if email.trim().chars().count() >= 3 {
                    prop_assert!(!text.contains(email.trim()), "{}", text);
                }
            }
        }
    }
}
