use super::*;

const KEY: &str = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";

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
