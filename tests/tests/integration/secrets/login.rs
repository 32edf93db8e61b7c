//! Login credentials: the password shows in no `Debug`, `Display`, error or log, and
//! travels only in the body of the login request to the configured host.

use dstor_auth::{AuthError, LoginProvider, RetryPolicy, Tokens};
use dstor_http::DstorClient;
use dstor_mock::FakeDstor;
use dstor_tests::LeakCheck;
use dstor_types::secrecy::SecretString;
use dstor_types::{Environment, LoginCredentials, LoginRequest};
use http::Response;

use super::{echoing_bodies, token_text};
use crate::custom_transport::environment;

/// A password no message or type name holds, and a fragment of it.
const PASSWORD: &str = "PasswordCanary-9d2f$\"\\x";
const PASSWORD_FRAGMENT: &str = "PasswordCanary";
const EMAIL: &str = "canary@example.com";

fn login() -> LoginCredentials {
    LoginCredentials::new(EMAIL, SecretString::from(PASSWORD)).unwrap()
}

/// The password, and the token of the session (which `checker` covers for the key).
fn password_check(token: &str) -> LeakCheck {
    LeakCheck::new([PASSWORD, PASSWORD_FRAGMENT, token])
}

#[test]
fn login_values_errors_and_the_request_headers_hold_no_password() {
    let token = token_text();
    let mut check = password_check(&token);
    check.debug("LoginCredentials", &login());
    let exchange = LoginRequest::new(Environment::Testnet.base_url(), login()).unwrap();
    check.debug("LoginRequest", &exchange);
    let request = exchange.to_http();
    check.debug("login request headers", request.headers());
    check.text("login request uri", &request.uri().to_string());
    // The body is the one place the password goes.
    assert!(String::from_utf8_lossy(request.body()).contains(PASSWORD_FRAGMENT));

    for body in echoing_bodies(&token).into_iter().chain([format!(
        r#"{{"message":"wrong password {PASSWORD} for {EMAIL}"}}"#
    )]) {
        for status in [400, 401, 403, 404, 429, 500, 302, 200] {
            let response = Response::builder()
                .status(status)
                .body(body.clone().into_bytes())
                .unwrap();
            let err = exchange.parse_response(response).unwrap_err();
            check.error(&format!("login ApiError from {status}"), &err);
            check.error("AuthError::Api", &AuthError::from(err));
        }
    }
    for (email, password) in [
        (PASSWORD.to_owned(), PASSWORD),
        (format!("{PASSWORD}@{PASSWORD}@x"), PASSWORD),
        (format!("a {PASSWORD}@x"), PASSWORD),
        (EMAIL.to_owned(), ""),
    ] {
        let err = LoginCredentials::new(&email, SecretString::from(password)).unwrap_err();
        check.error("LoginError", &err);
    }
    let vars = |email: String| {
        move |name: &str| match name {
            "DSTOR_EMAIL" => Some(email.clone()),
            "DSTOR_PASSWORD" => Some(PASSWORD.to_owned()),
            _ => None,
        }
    };
    for email in [PASSWORD.to_owned(), format!("{PASSWORD}@")] {
        let err = dstor_http::DstorClientBuilder::new()
            .from_env_vars(vars(email))
            .unwrap_err();
        check.error("ConfigError from DSTOR_EMAIL", &err);
    }
    let only_password = dstor_http::DstorClientBuilder::new()
        .from_env_vars(|name: &str| (name == "DSTOR_PASSWORD").then(|| PASSWORD.to_owned()))
        .unwrap_err();
    check.error("ConfigError::IncompleteLogin", &only_password);
    check.assert_clean();
}

#[tokio::test]
async fn login_stacks_hold_no_password() {
    let server = FakeDstor::builder()
        .account(EMAIL, PASSWORD)
        .start()
        .await
        .unwrap();
    // No token is fetched here: a session runs in `logs`, whose subscriber must see every
    // span's first use.
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .login(login())
        .build()
        .unwrap();
    let mut check = password_check(&token_text());
    check.debug("DstorClient", &client);
    let builder = Tokens::builder(()).login(login());
    check.debug("TokensBuilder", &builder);
    let provider = LoginProvider::new(
        dstor_auth::fake::ScriptedTransport::new(),
        &environment(&server),
        login(),
    )
    .unwrap();
    check.debug("LoginProvider", &provider);
    check.assert_clean();
}

/// A login session against the fake: the password is in no log line, no error, and no
/// recorded request's method, path or headers (it travels in the login body only).
pub(super) async fn login_session(server: &FakeDstor) -> (Vec<String>, String) {
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .login(login())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let token = client.token().await.unwrap();
    let wrong = DstorClient::builder()
        .endpoint(server.base_url())
        .login(LoginCredentials::new(EMAIL, SecretString::from("PasswordCanary-wrong")).unwrap())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = wrong.token().await.unwrap_err();
    assert!(err.is_credentials_rejected(), "{err:?}");
    let mut rendered = format!("{err} {err:?} {token:?}");
    for request in server.requests() {
        rendered.push_str(&format!(" {request:?}"));
    }
    let jwt = token.expose_secret().to_owned();
    (
        vec![PASSWORD.to_owned(), PASSWORD_FRAGMENT.to_owned(), jwt],
        rendered,
    )
}

/// The account [`login_session`] logs in with.
pub(super) const ACCOUNT: (&str, &str) = (EMAIL, PASSWORD);
