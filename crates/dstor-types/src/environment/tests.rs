use super::*;

#[test]
fn parses_names_and_urls() {
    assert_eq!(
        "testnet".parse::<Environment>().unwrap(),
        Environment::Testnet
    );
    assert_eq!(
        " Production ".parse::<Environment>().unwrap(),
        Environment::Production
    );
    assert_eq!(
        "prod".parse::<Environment>().unwrap(),
        Environment::Production
    );
    let custom: Environment = "http://127.0.0.1:8080/".parse().unwrap();
    assert_eq!(custom.base_url().as_str(), "http://127.0.0.1:8080");
    assert!(matches!(
        "staging".parse::<Environment>(),
        Err(EndpointError::UnknownEnvironment { .. })
    ));
}

#[test]
fn known_environments_point_at_the_documented_endpoints() {
    assert_eq!(
        Environment::Testnet.base_url().token_endpoint().to_string(),
        "https://api.testnet.dstor.cloud/v1/dev/temp-token"
    );
    assert_eq!(
        Environment::Production
            .base_url()
            .token_endpoint()
            .to_string(),
        "https://api.dstor.cloud/v1/dev/temp-token"
    );
    assert_eq!(Environment::Testnet.to_string(), "testnet");
}

#[test]
fn keeps_a_path_prefix() {
    let url = BaseUrl::parse("https://proxy.example/dstor/").unwrap();
    assert_eq!(
        url.token_endpoint().to_string(),
        "https://proxy.example/dstor/v1/dev/temp-token"
    );
}

#[test]
fn refuses_bad_urls_with_a_reason() {
    for bad in [
        "ftp://example.com",
        "https://example.com/?a=b",
        "https://example.com/#x",
        "example.com",
        "https://",
    ] {
        assert!(
            matches!(BaseUrl::parse(bad), Err(EndpointError::InvalidUrl { .. })),
            "{bad} was accepted"
        );
    }
}

#[test]
fn refuses_credentials_in_the_url_without_echoing_them() {
    let err = BaseUrl::parse("https://user:hunter2@example.com").unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("credentials"), "{text}");
}

/// Parses `url`, which must be refused, and checks that no `secrets` shows in the
/// error's `Display` or `Debug`.
fn refused_without(url: &str, secrets: &[&str]) -> String {
    let err = match BaseUrl::parse(url) {
        Ok(base) => panic!("{url:?} was accepted as {base:?}"),
        Err(err) => err,
    };
    assert!(matches!(err, EndpointError::InvalidUrl { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} leaked: {text}");
    }
    text
}

#[test]
fn a_long_password_is_never_echoed() {
    let password = format!("{}LEAKEDTAIL", "p".repeat(200));
    let url = format!("https://user:{password}@api.dstor.cloud");
    let text = refused_without(&url, &["LEAKEDTAIL", &"p".repeat(20), "user"]);
    assert!(text.contains("credentials"), "{text}");
    // Also past the cut in `Environment`'s parse.
    let err = url.parse::<Environment>().unwrap_err();
    assert!(!format!("{err} {err:?}").contains("LEAKEDTAIL"), "{err}");
}

#[test]
fn a_password_with_a_query_or_fragment_sign_is_never_echoed() {
    for url in [
        "https://user:SecretPa?ss@api.dstor.cloud",
        "https://user:SecretPa#ss@api.dstor.cloud",
        "https://user:Secret?Pa#ss@api.dstor.cloud/prefix?x=1",
    ] {
        let text = refused_without(url, &["SecretPa", "Secret", "user"]);
        assert!(text.contains("credentials"), "{text}");
    }
}

#[test]
fn a_password_with_a_slash_is_refused_not_taken_for_a_host() {
    for url in [
        "https://user:Sec/retPass@api.dstor.cloud",
        "https://user:Sec/retPass@api.dstor.cloud/prefix",
        "http://user:Sec/retPass@127.0.0.1:8080",
        "https://@api.dstor.cloud",
        "https://api.dstor.cloud/@Sec/retPass",
    ] {
        let text = refused_without(url, &["Sec", "retPass", "user"]);
        assert!(text.contains("credentials"), "{text}");
        assert!(url.parse::<Environment>().is_err(), "{url}");
    }
}

#[test]
fn a_port_must_be_a_number() {
    for url in [
        "https://api.dstor.cloud:notaport",
        "https://user:sec",
        "http://127.0.0.1:80x",
        "https://api.dstor.cloud:99999",
        "https://api.dstor.cloud:",
        "http://[::1]:x/prefix",
    ] {
        let text = refused_without(url, &[]);
        assert!(text.contains("port"), "{text}");
    }
    for (url, host) in [
        ("https://api.dstor.cloud", "api.dstor.cloud"),
        ("http://127.0.0.1:8080", "127.0.0.1"),
        ("http://[::1]:80/prefix", "::1"),
        ("https://api.dstor.cloud:443/", "api.dstor.cloud"),
    ] {
        let base = BaseUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(base.host(), host);
    }
    assert_eq!(
        BaseUrl::parse("http://[::1]:80/prefix")
            .unwrap()
            .token_endpoint()
            .to_string(),
        // The parser's normal form, as reqwest sends it: no default port.
        "http://[::1]/prefix/v1/dev/temp-token"
    );
}

#[test]
fn a_long_url_is_cut_after_its_query_is_redacted() {
    let long = format!(
        "https://api.dstor.cloud/{}?api-key=SECRETKEY",
        "a".repeat(300)
    );
    let text = refused_without(&long, &["SECRETKEY"]);
    assert!(text.contains("?[redacted]"), "{text}");
    let long = format!("ftp://{}", "h".repeat(300));
    let text = refused_without(&long, &[]);
    assert!(!text.contains(&"h".repeat(201)), "{text}");
}

#[test]
fn never_echoes_a_query_or_a_long_value() {
    let key = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";
    let err = BaseUrl::parse(&format!("https://api.dstor.cloud/?api-key={key}")).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&key[..8]), "{text}");
    assert!(text.contains("api.dstor.cloud"), "{text}");
    let err = key.parse::<Environment>().unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&key[..8]), "{text}");
    assert!(text.contains("64 characters"), "{text}");
    let err = BaseUrl::parse(key).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&key[..8]), "{text}");
    assert!(text.contains("64 characters"), "{text}");
    let err = "staging".parse::<Environment>().unwrap_err();
    assert!(err.to_string().contains("\"staging\""), "{err}");
}

#[test]
fn knows_loopback_hosts() {
    for url in [
        "http://127.0.0.1:1",
        "http://127.3.2.1",
        "http://[::1]:80",
        "http://LOCALHOST",
    ] {
        assert!(BaseUrl::parse(url).unwrap().is_loopback(), "{url}");
    }
    for url in [
        "http://10.0.0.1",
        "https://api.dstor.cloud",
        "http://localhost.evil.com",
    ] {
        assert!(!BaseUrl::parse(url).unwrap().is_loopback(), "{url}");
    }
    assert!(Environment::Production.base_url().is_https());
}

/// Issue 12, defect 5: what reqwest's parser refuses is refused when the URL is parsed.
#[test]
fn refuses_what_the_url_parser_refuses() {
    for bad in [
        "https://api.dstor.cloud:+443",
        "http://127.0.0.1:+8080",
        "https://999.1.1.1",
        "http://[::1]x",
        "https://[v1.x]",
        "https://xn--",
        "https://exa mple.com",
        "https://api.dstor\tcloud",
    ] {
        let err = BaseUrl::parse(bad).map(|b| b.to_string()).unwrap_err();
        assert!(
            matches!(err, EndpointError::InvalidUrl { .. }),
            "{bad}: {err:?}"
        );
        assert!(
            Url::parse(bad).is_err() || bad.contains([' ', '\t', '+']),
            "{bad}"
        );
    }
}

#[test]
fn holds_the_url_parsers_normal_form() {
    for (input, normal) in [
        ("HTTPS://API.DSTOR.CLOUD:443/", "https://api.dstor.cloud"),
        (
            "https://api.dstor.cloud:8443/x/",
            "https://api.dstor.cloud:8443/x",
        ),
        ("http://0x7f.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[0:0:0:0:0:0:0:1]:1", "http://[::1]:1"),
    ] {
        let base = BaseUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(base.as_str(), normal);
    }
    assert!(BaseUrl::parse("http://0x7f.0.0.1").unwrap().is_loopback());
}

/// Issue 12, defect 5: nothing of a value that may hold a credential is echoed.
#[test]
fn never_echoes_a_value_that_may_hold_a_credential() {
    for value in [
        "admin:hunter2@proxy",
        "//u:pw1234@host",
        "u:s3cr3t@h:8080",
        "https://user:hunter2\u{ff20}api.dstor.cloud",
        "https://user:hunter2\u{fe6b}api.dstor.cloud",
        "hunter2:x",
    ] {
        let text = match value.parse::<Environment>() {
            Ok(env) => panic!("{value:?} was accepted as {env:?}"),
            Err(err) => format!("{err} {err:?}"),
        };
        for secret in ["hunter2", "pw1234", "s3cr3t"] {
            assert!(!text.contains(secret), "{value:?}: {text}");
        }
        if let Err(err) = BaseUrl::parse(value) {
            let text = format!("{err} {err:?}");
            assert!(
                !text.contains("hunter2") && !text.contains("pw1234"),
                "{text}"
            );
        }
    }
}

#[test]
fn secrets_travel_only_over_https_or_to_loopback() {
    for url in [
        "https://api.dstor.cloud",
        "http://127.0.0.1:1",
        "http://localhost",
    ] {
        assert_eq!(
            BaseUrl::parse(url).unwrap().check_may_carry_secrets(),
            Ok(()),
            "{url}"
        );
    }
    let err = BaseUrl::parse("http://localhost.evil.com")
        .unwrap()
        .check_may_carry_secrets();
    assert_eq!(
        err,
        Err(EndpointError::Insecure {
            host: "localhost.evil.com".into()
        })
    );
}

#[test]
fn join_puts_a_path_below_the_base_and_nowhere_else() {
    let base = BaseUrl::parse("https://api.dstor.cloud/").unwrap();
    assert_eq!(
        base.join("/v1/upload/").unwrap().to_string(),
        "https://api.dstor.cloud/v1/upload/"
    );
    let local = BaseUrl::parse("http://127.0.0.1:8080").unwrap();
    assert_eq!(
        local.join("/ipfs/Qm").unwrap().to_string(),
        "http://127.0.0.1:8080/ipfs/Qm"
    );
    // A path that could name another host, or carry a query, is refused.
    for path in [
        "v1/upload/",
        "//evil.example/x",
        "/x?token=1",
        "/x#f",
        "/a b",
        "",
    ] {
        let err = base.join(path).unwrap_err();
        assert!(
            matches!(err, EndpointError::InvalidUrl { .. }),
            "{path:?}: {err:?}"
        );
    }
}
