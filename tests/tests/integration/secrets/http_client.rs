//! dstor-http: the client, its builder, and every `ConfigError`.

use std::time::Duration;

use dstor_auth::{RetryPolicy, TokenLifetime};
use dstor_mock::{FakeDstor, Fault};
use dstor_tests::LeakCheck;

use super::{KEY, SIGNATURE, checker, echoing_bodies, key, token_text};
use crate::custom_transport::environment;

#[tokio::test]
async fn dstor_http_client_builder_and_config_errors() {
    use dstor_http::{ConfigError, DstorClient, DstorClientBuilder};

    let token = token_text();
    let mut check = checker(&token);
    let proxy = format!("http://user:{KEY}@proxy.example:3128");
    let builder = DstorClient::builder().api_key(key()).proxy(proxy);
    check.debug("DstorClientBuilder", &builder);

    // Every configuration error, from inputs holding the secrets.
    let vars = |name: &'static str, value: String| {
        move |asked: &str| (asked == name).then(|| value.clone())
    };
    let mut errors: Vec<ConfigError> = vec![
        DstorClientBuilder::new().build().unwrap_err(),
        DstorClientBuilder::new()
            .from_env_vars(vars("DSTOR_API_KEY", format!("{KEY} {token}")))
            .unwrap_err(),
        DstorClientBuilder::new()
            .from_env_vars(vars("DSTOR_ENV", KEY.to_owned()))
            .unwrap_err(),
        DstorClientBuilder::new()
            .from_env_vars(vars("DSTOR_ENDPOINT", format!("https://u:{KEY}@h.example")))
            .unwrap_err(),
        DstorClientBuilder::new()
            .from_env_vars(vars(
                "DSTOR_ENDPOINT",
                format!("https://h.example/?api-key={KEY}"),
            ))
            .unwrap_err(),
        DstorClientBuilder::new()
            .from_env_vars(vars("DSTOR_ENDPOINT", KEY.to_owned()))
            .unwrap_err(),
        DstorClient::builder()
            .api_key(key())
            .endpoint(format!("https://user:{KEY}@example.com"))
            .build()
            .unwrap_err(),
        DstorClient::builder()
            .api_key(key())
            .endpoint("http://example.com")
            .build()
            .unwrap_err(),
        DstorClient::builder()
            .api_key(key())
            .proxy(format!("not a url {KEY}"))
            .build()
            .unwrap_err(),
        DstorClient::builder()
            .api_key(key())
            .user_agent_suffix(format!("{KEY}\n{token}"))
            .build()
            .unwrap_err(),
        DstorClient::builder()
            .api_key(key())
            .token_lifetime(TokenLifetime::After(Duration::ZERO))
            .build()
            .unwrap_err(),
    ];
    let names: std::collections::BTreeSet<String> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    // Six variants: a plain-http endpoint is an `Endpoint` error too.
    assert!(names.len() >= 6, "{names:?}");
    for err in errors.drain(..) {
        check.error("ConfigError", &err);
    }

    // A client that fetched a token, and one whose requests failed.
    let server = FakeDstor::builder().key(KEY).start().await.unwrap();
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(key())
        .proxy(format!("http://user:{KEY}@127.0.0.1:9"))
        .build();
    if let Err(e) = &client {
        check.error("ConfigError with a proxy", e);
    }
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(key())
        .build()
        .unwrap();
    let issued = client.token().await.unwrap();
    check.debug("DstorClient", &client);
    check.debug("DstorClient tokens", client.tokens());
    let mut check_issued = LeakCheck::new([issued.expose_secret().to_owned()]);
    check_issued.debug("DstorClient", &client);
    check_issued.debug("DstorClient status", &client.tokens().status());

    server.push_fault(Fault::Redirect {
        status: 302,
        location: format!("http://127.0.0.1:9/?api-key={KEY}&token={token}"),
    });
    server.push_fault(Fault::Body {
        status: 401,
        content_type: "application/json".to_owned(),
        body: echoing_bodies(&token)[0].clone(),
    });
    let policy = RetryPolicy::none();
    for _ in 0..2 {
        let client = DstorClient::builder()
            .endpoint(server.base_url())
            .api_key(key())
            .retry_policy(policy.clone())
            .build()
            .unwrap();
        let err = client.token().await.unwrap_err();
        check.error("AuthError from the client", &err);
        check.debug("DstorClient after an error", &client);
    }
    let env = environment(&server);
    server.shutdown().await;

    // Nothing listens there now; the canary in the path must not come back in the error.
    let client = DstorClient::builder()
        .endpoint(format!("{}/{SIGNATURE}", env.base_url()))
        .api_key(key())
        .retry_policy(policy)
        .build()
        .unwrap();
    let err = client.token().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    check.error("AuthError, connection refused", &err);
    check.assert_clean();
    check_issued.assert_clean();
}
