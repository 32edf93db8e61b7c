//! Login credentials instead of an API key: the builder, the environment variables, and
//! the whole path against the fake dStor.

use dstor_http::secrecy::SecretString;
use dstor_http::{ConfigError, DstorClient, DstorClientBuilder, LoginCredentials, RetryPolicy};
use dstor_mock::{FakeDstor, Fault};

use crate::common::{assert_no_secret, chain, fast_retries};

fn login(server: &FakeDstor) -> LoginCredentials {
    LoginCredentials::new(
        server.email(),
        SecretString::from(server.password().to_owned()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_login_gets_a_cached_token_from_the_fake() {
    let server = FakeDstor::start().await.unwrap();
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .login(login(&server))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    server.push_fault(Fault::Status(503));
    let token = client.token().await.unwrap();
    assert!(server.verify_token(token.expose_secret()).is_some());
    client.token().await.unwrap();
    assert_eq!(
        server.token_request_count(),
        2,
        "one 503 retried, then cached"
    );
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.method == http::Method::POST));
    for request in &requests {
        assert_no_secret(&format!("{request:?}"), &[server.password()]);
    }
    assert_no_secret(&format!("{client:?}"), &[server.password()]);
}

#[tokio::test]
async fn a_wrong_password_is_a_401_that_is_not_retried() {
    let server = FakeDstor::start().await.unwrap();
    let wrong = "wrong-password-1234";
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .login(LoginCredentials::new(server.email(), SecretString::from(wrong)).unwrap())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let err = client.token().await.unwrap_err();
    assert!(
        err.is_credentials_rejected() && err.is_permanent(),
        "{err:?}"
    );
    assert_eq!(server.token_request_count(), 1);
    let text = chain(&err);
    assert!(
        text.contains("email or password was rejected (401)"),
        "{text}"
    );
    assert_no_secret(&text, &[wrong, server.password()]);
}

fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[tokio::test]
async fn the_login_variables_apply_when_no_api_key_is_set() {
    let server = FakeDstor::start().await.unwrap();
    let base = server.base_url();
    let pairs = [
        ("DSTOR_ENDPOINT", base.as_str()),
        ("DSTOR_EMAIL", server.email()),
        ("DSTOR_PASSWORD", server.password()),
    ];
    let client = DstorClientBuilder::new()
        .from_env_vars(vars(&pairs))
        .unwrap()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.token().await.unwrap();
    assert_eq!(server.requests()[0].method, http::Method::POST);

    // The API key wins over the login variables.
    let key = server.api_key();
    let with_key = [pairs[0], pairs[1], pairs[2], ("DSTOR_API_KEY", key)];
    let client = DstorClientBuilder::new()
        .from_env_vars(vars(&with_key))
        .unwrap()
        .build()
        .unwrap();
    client.token().await.unwrap();
    assert_eq!(server.requests()[1].method, http::Method::GET);
}

#[test]
fn half_a_login_or_a_bad_email_is_refused_without_the_password() {
    let password = "s3cret-password-value";
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("DSTOR_EMAIL", "dev@example.com")],
            "DSTOR_PASSWORD is not set",
        ),
        (&[("DSTOR_PASSWORD", password)], "DSTOR_EMAIL is not set"),
        (
            &[
                ("DSTOR_EMAIL", "not-an-email"),
                ("DSTOR_PASSWORD", password),
            ],
            "DSTOR_EMAIL",
        ),
        (
            &[("DSTOR_EMAIL", "dev@example.com"), ("DSTOR_PASSWORD", "")],
            "DSTOR_PASSWORD",
        ),
    ];
    for (pairs, expected) in cases {
        let err = DstorClientBuilder::new()
            .from_env_vars(vars(pairs))
            .unwrap_err();
        let text = chain(&err);
        assert!(text.contains(expected), "{text}");
        assert_no_secret(&text, &[password]);
    }
    let none = DstorClientBuilder::new()
        .from_env_vars(vars(&[]))
        .unwrap()
        .build();
    let err = none.unwrap_err();
    assert!(matches!(err, ConfigError::MissingApiKey), "{err:?}");
    assert!(
        err.to_string().contains("DSTOR_EMAIL and DSTOR_PASSWORD"),
        "{err}"
    );
}
