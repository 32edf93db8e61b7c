//! Configuration from the builder and the environment, and secrets kept out of every
//! message.

use std::collections::HashMap;
use std::time::Duration;

use dstor_http::{
    ApiKey, ConfigError, DstorClient, DstorClientBuilder, ENV_API_KEY, ENV_ENDPOINT,
    ENV_ENVIRONMENT, EnvVarError, Environment, ReqwestTransport, TokenLifetime,
};
use dstor_mock::{FakeDstor, Fault};
use dstor_types::EndpointError;

use crate::common::{assert_no_secret, builder, chain, client};

const KEY: &str = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn a_missing_key_is_reported_at_build() {
    let err = DstorClientBuilder::new()
        .from_env_vars(env(&[]))
        .unwrap()
        .build()
        .unwrap_err();
    assert!(err.is_missing_api_key());
    assert_eq!(
        err.to_string(),
        "no API key: set DSTOR_API_KEY or call DstorClientBuilder::api_key (or log in: DSTOR_EMAIL and DSTOR_PASSWORD, or DstorClientBuilder::login)"
    );
}

#[test]
fn a_bad_key_names_the_variable_but_not_the_value() {
    let bad = format!("{}!", &KEY[..40]);
    let err = DstorClientBuilder::new()
        .from_env_vars(env(&[("DSTOR_API_KEY", &bad)]))
        .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::InvalidEnvVar {
            var: "DSTOR_API_KEY",
            source: EnvVarError::ApiKey(_)
        }
    ));
    let text = chain(&err);
    assert!(text.contains("DSTOR_API_KEY"), "{text}");
    assert!(text.contains("41 characters"), "{text}");
    assert_no_secret(&text, &[&bad, &KEY[..20]]);
}

#[test]
fn the_environment_variables_choose_the_deployment() {
    let client = DstorClientBuilder::new()
        .from_env_vars(env(&[("DSTOR_API_KEY", KEY), ("DSTOR_ENV", "testnet")]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.environment(), &Environment::Testnet);

    let client = DstorClientBuilder::new()
        .from_env_vars(env(&[("DSTOR_API_KEY", KEY)]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.environment(), &Environment::Production);

    let client = DstorClientBuilder::new()
        .from_env_vars(env(&[
            ("DSTOR_API_KEY", KEY),
            ("DSTOR_ENV", "testnet"),
            ("DSTOR_ENDPOINT", "http://127.0.0.1:8080/"),
        ]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        client.environment().base_url().as_str(),
        "http://127.0.0.1:8080"
    );
}

#[test]
fn a_bad_environment_names_the_variable_but_not_the_value() {
    let err = DstorClientBuilder::new()
        .from_env_vars(env(&[
            ("DSTOR_API_KEY", KEY),
            ("DSTOR_ENV", "staging-xyzzy"),
        ]))
        .unwrap_err();
    assert_eq!(err.env_var(), Some("DSTOR_ENV"));
    let text = chain(&err);
    assert!(text.contains("testnet"), "{text}");
    assert_no_secret(&text, &["staging-xyzzy"]);
}

#[test]
fn an_insecure_endpoint_variable_is_refused_at_build() {
    let err = DstorClientBuilder::new()
        .from_env_vars(env(&[
            ("DSTOR_API_KEY", KEY),
            ("DSTOR_ENDPOINT", "http://api.example"),
        ]))
        .unwrap()
        .build()
        .unwrap_err();
    assert!(
        matches!(err, ConfigError::Endpoint(EndpointError::Insecure { .. })),
        "{err:?}"
    );
}

#[test]
fn from_env_reads_the_process_environment_when_unset() {
    // Only checks that the process lookup works; this test suite never sets DSTOR_* itself.
    if std::env::var_os("DSTOR_API_KEY").is_none() && std::env::var_os("DSTOR_ENV").is_none() {
        assert!(DstorClient::from_env().unwrap_err().is_missing_api_key());
    }
}

#[tokio::test]
async fn no_secret_in_any_debug_or_display() {
    let server = FakeDstor::start().await.unwrap();
    let key = server.api_key().to_owned();
    let builder = builder(&server).proxy("http://user:hunter2@127.0.0.1:9");
    let mut texts = vec![format!("{builder:?}")];
    let warm = client(&server);
    texts.push(format!("{warm:?} {:?}", warm.tokens()));
    let token = warm.token().await.unwrap();
    let token_text = token.expose_secret().to_owned();
    texts.push(format!("{warm:?} {:?} {:?}", warm.tokens(), warm.status()));
    texts.push(format!("{token:?}"));
    texts.push(format!("{:?}", ReqwestTransport::with_defaults().unwrap()));

    // Every error these tests can produce.
    for fault in [
        Fault::Status(401),
        Fault::Status(400),
        Fault::StatusRetryAfter(429, "1".into()),
        Fault::Redirect {
            status: 302,
            location: format!("http://127.0.0.1:9/?api-key={key}"),
        },
        Fault::Body {
            status: 403,
            content_type: "application/json".into(),
            body: format!("{{\"message\":\"bad key {key} {token_text}\"}}"),
        },
        Fault::Body {
            status: 200,
            content_type: "text/plain".into(),
            body: key.clone(),
        },
        Fault::OversizeBody { bytes: 1 << 20 },
        Fault::DropConnection,
    ] {
        server.push_fault(fault);
        let client = client(&server);
        let err = client.token().await.unwrap_err();
        texts.push(chain(&err));
        texts.push(format!("{client:?}"));
    }
    let mut bad_key = key.clone();
    bad_key.push('x');
    let errors: Vec<ConfigError> = vec![
        DstorClientBuilder::new()
            .from_env_vars(env(&[("DSTOR_API_KEY", &bad_key)]))
            .unwrap_err(),
        DstorClientBuilder::new()
            .from_env_vars(env(&[(
                "DSTOR_ENDPOINT",
                &format!("https://u:{key}@x.example"),
            )]))
            .unwrap_err(),
        DstorClient::builder()
            .endpoint(format!("https://u:{key}@x.example"))
            .api_key(ApiKey::new(key.as_str()).unwrap())
            .build()
            .unwrap_err(),
        DstorClient::builder()
            .endpoint("http://10.1.2.3")
            .api_key(ApiKey::new(key.as_str()).unwrap())
            .build()
            .unwrap_err(),
        DstorClient::builder()
            .api_key(ApiKey::new(key.as_str()).unwrap())
            .proxy(format!("{key} hunter2 ::"))
            .build()
            .unwrap_err(),
        DstorClientBuilder::new().build().unwrap_err(),
        DstorClientBuilder::new()
            .from_env_vars(env(&[("DSTOR_ENV", &key)]))
            .unwrap_err(),
        DstorClient::builder()
            .api_key(ApiKey::new(key.as_str()).unwrap())
            .user_agent_suffix(format!("{key}\u{1}x"))
            .build()
            .unwrap_err(),
        DstorClient::builder()
            .api_key(ApiKey::new(key.as_str()).unwrap())
            .token_lifetime(TokenLifetime::After(Duration::ZERO))
            .build()
            .unwrap_err(),
        ConfigError::InvalidEnvVar {
            var: "DSTOR_API_KEY",
            source: EnvVarError::NotUnicode,
        },
    ];
    assert!(matches!(errors[6], ConfigError::InvalidEnvVar { .. }));
    assert!(matches!(errors[7], ConfigError::InvalidUserAgent));
    assert!(matches!(errors[8], ConfigError::InvalidTokenLifetime(_)));
    for err in &errors {
        texts.push(chain(err));
    }
    for text in &texts {
        assert_no_secret(text, &[&key, &token_text, "hunter2"]);
    }
}

#[test]
fn an_explicit_environment_replaces_what_the_variables_said() {
    let builder = DstorClientBuilder::new()
        .from_env_vars(env(&[
            (ENV_API_KEY, KEY),
            (ENV_ENDPOINT, "http://127.0.0.1:9"),
        ]))
        .unwrap()
        .environment(Environment::Testnet);
    let client = builder.build().unwrap();
    assert_eq!(client.environment(), &Environment::Testnet);
}

#[test]
fn an_endpoint_overrides_the_environment_whatever_the_order() {
    let client = DstorClientBuilder::new()
        .api_key(ApiKey::new(KEY).unwrap())
        .endpoint("http://127.0.0.1:9/")
        .environment(Environment::Testnet)
        .build()
        .unwrap();
    assert_eq!(
        client.environment().base_url().as_str(),
        "http://127.0.0.1:9"
    );
}

#[test]
fn unset_variables_keep_earlier_settings() {
    let builder = DstorClientBuilder::new()
        .environment(Environment::Testnet)
        .api_key(ApiKey::new(KEY).unwrap())
        .from_env_vars(env(&[(ENV_ENVIRONMENT, " "), (ENV_ENDPOINT, "")]))
        .unwrap();
    let client = builder.build().unwrap();
    assert_eq!(client.environment(), &Environment::Testnet);
}

#[test]
fn an_empty_key_variable_is_an_error_that_names_it() {
    let err = DstorClientBuilder::new()
        .from_env_vars(env(&[(ENV_API_KEY, "")]))
        .unwrap_err();
    assert_eq!(err.env_var(), Some(ENV_API_KEY));
}

#[test]
fn a_bad_endpoint_variable_keeps_the_reason_and_drops_the_value() {
    let err = DstorClientBuilder::new()
        .from_env_vars(env(&[(ENV_ENDPOINT, "ftp://secret-host.example")]))
        .unwrap_err();
    assert_eq!(err.env_var(), Some(ENV_ENDPOINT));
    let text = chain(&err);
    assert!(text.contains("scheme"), "{text}");
    assert!(!text.contains("secret-host"), "{text}");
}

#[test]
fn build_validates_lifetime_and_user_agent() {
    let base = || DstorClientBuilder::new().api_key(ApiKey::new(KEY).unwrap());
    assert!(matches!(
        base()
            .token_lifetime(TokenLifetime::After(Duration::ZERO))
            .build(),
        Err(ConfigError::InvalidTokenLifetime(_))
    ));
    for bad in ["bad\nagent", "café/1.0"] {
        assert!(matches!(
            base().user_agent_suffix(bad).build(),
            Err(ConfigError::InvalidUserAgent)
        ));
    }
    assert!(base().user_agent_suffix("my-app/1.0").build().is_ok());
}

#[test]
fn debug_never_shows_key_proxy_or_endpoint_credentials() {
    let builder = DstorClientBuilder::new()
        .api_key(ApiKey::new(KEY).unwrap())
        .proxy("http://user:hunter2@proxy.example:3128")
        .endpoint("https://user:pa55word@api.example");
    let text = format!("{builder:?}");
    for secret in [KEY, "hunter2", "pa55word"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn a_bad_proxy_is_refused_without_echoing_it() {
    let err = DstorClientBuilder::new()
        .api_key(ApiKey::new(KEY).unwrap())
        .proxy("::not a url hunter2")
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidProxy), "{err:?}");
    assert!(!chain(&err).contains("hunter2"));
}

#[test]
fn the_variables_count_as_an_environment_set_where_they_are_read() {
    let base = |builder: DstorClientBuilder| {
        builder
            .build()
            .unwrap()
            .environment()
            .base_url()
            .as_str()
            .to_owned()
    };
    // An explicit endpoint wins over DSTOR_ENDPOINT, read before or after it.
    let endpoint = "http://127.0.0.1:1";
    let variables = env(&[(ENV_API_KEY, KEY), (ENV_ENDPOINT, "http://127.0.0.1:2")]);
    let before = DstorClientBuilder::new().endpoint(endpoint);
    assert_eq!(base(before.from_env_vars(&variables).unwrap()), endpoint);
    let after = DstorClientBuilder::new().from_env_vars(&variables).unwrap();
    assert_eq!(base(after.endpoint(endpoint)), endpoint);
    // Between an environment and the variables, the later one wins.
    let production = env(&[(ENV_API_KEY, KEY), (ENV_ENVIRONMENT, "production")]);
    let client = DstorClientBuilder::new()
        .environment(Environment::Testnet)
        .from_env_vars(&production)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.environment(), &Environment::Production);
}
