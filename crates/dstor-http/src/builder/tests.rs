use super::*;

const KEY: &str = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn an_explicit_environment_replaces_what_the_variables_said() {
    let builder = DstorClientBuilder::new()
        .from_env_vars(vars(&[
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
        .from_env_vars(vars(&[(ENV_ENVIRONMENT, " "), (ENV_ENDPOINT, "")]))
        .unwrap();
    let client = builder.build().unwrap();
    assert_eq!(client.environment(), &Environment::Testnet);
}

#[test]
fn an_empty_key_variable_is_an_error_that_names_it() {
    let err = DstorClientBuilder::new()
        .from_env_vars(vars(&[(ENV_API_KEY, "")]))
        .unwrap_err();
    assert_eq!(err.env_var(), Some(ENV_API_KEY));
}

#[test]
fn a_bad_endpoint_variable_keeps_the_reason_and_drops_the_value() {
    let err = DstorClientBuilder::new()
        .from_env_vars(vars(&[(ENV_ENDPOINT, "ftp://secret-host.example")]))
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

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = format!("{err} {err:?}");
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(&format!(" / {s} {s:?}"));
        source = s.source();
    }
    text
}

#[test]
fn the_defaults_reach_the_client() {
    let client = DstorClientBuilder::new()
        .api_key(ApiKey::new(KEY).unwrap())
        .build()
        .unwrap();
    assert_eq!(client.environment(), &Environment::Production);
    assert_eq!(
        client.environment().base_url().as_str(),
        Environment::PRODUCTION_URL
    );
    let transport = client.transport();
    assert_eq!(transport.connect_timeout(), Duration::from_secs(10));
    assert_eq!(transport.timeout(), Duration::from_secs(30));
    assert_eq!(transport.max_body_bytes(), 64 * 1024);
    assert!(!transport.is_proxied());
    assert_eq!(client.tokens().retry_policy(), &RetryPolicy::default());
    assert_eq!(client.tokens().cache_config(), &CacheConfig::default());
}
