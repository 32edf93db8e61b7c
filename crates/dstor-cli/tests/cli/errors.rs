//! Each failure class: one line on stderr naming the cause and the fix, its own exit code
//! (as listed in `--help`), never a panic, the key or a token.

use dstor_mock::{FakeDstor, Fault};

use crate::support::{against, assert_no_secret, dstor, run};

/// Runs `dstor token` against `url` with `key` in DSTOR_API_KEY (if any).
async fn token_with(url: &str, key: Option<&str>, extra: &[&str]) -> crate::support::Run {
    let cache = tempfile::tempdir().unwrap();
    let mut command = dstor(&[&["token"][..], extra].concat(), cache.path());
    command.env("DSTOR_ENDPOINT", url);
    if let Some(key) = key {
        command.env("DSTOR_API_KEY", key);
    }
    run(command, None).await
}

#[tokio::test]
async fn usage_and_configuration_errors() {
    let server = FakeDstor::start().await.unwrap();
    let url = server.base_url();
    let cache = tempfile::tempdir().unwrap();

    // 2: usage. No flag takes the key itself, and the value is not echoed.
    let usage = run(
        dstor(&["token", "--api-key=s3cr3t-value"], cache.path()),
        None,
    )
    .await;
    assert_eq!(usage.code, 2, "{usage:?}");
    assert_no_secret(&usage, "s3cr3t-value");

    // 3: no key.
    let missing = token_with(&url, None, &[]).await;
    assert_eq!(missing.code, 3, "{missing:?}");
    assert!(missing.stderr.contains("set DSTOR_API_KEY"), "{missing:?}");
    assert!(missing.stderr.contains("--api-key-file"), "{missing:?}");
    assert_eq!(missing.stderr.lines().count(), 1);

    // 3: a malformed key.
    let bad = "not-a-key-but-a-secret-nonetheless";
    let malformed = token_with(&url, Some(bad), &[]).await;
    assert_eq!(malformed.code, 3, "{malformed:?}");
    assert!(
        malformed
            .stderr
            .contains("malformed API key in DSTOR_API_KEY")
    );
    assert_eq!(malformed.stderr.lines().count(), 1);
    assert_no_secret(&malformed, bad);

    // 3: plain http to a host that is not loopback.
    let insecure = token_with("http://example.com", Some(server.api_key()), &[]).await;
    assert_eq!(insecure.code, 3, "{insecure:?}");
    assert!(
        insecure.stderr.contains("use an https endpoint"),
        "{insecure:?}"
    );
    assert_no_secret(&insecure, server.api_key());
    assert_eq!(server.token_request_count(), 0);
}

#[tokio::test]
async fn a_rejected_key_has_its_exit_code_and_a_hint() {
    let server = FakeDstor::start().await.unwrap();
    // 4: a well-formed key dStor rejects.
    let wrong = "W".repeat(64);
    let rejected = token_with(&server.base_url(), Some(&wrong), &[]).await;
    assert_eq!(rejected.code, 4, "{rejected:?}");
    assert!(rejected.stderr.contains("401"), "{rejected:?}");
    assert!(
        rejected.stderr.contains("testnet or production"),
        "{rejected:?}"
    );
    assert!(
        rejected
            .stderr
            .contains(&format!("belongs to the service at {}", server.base_url())),
        "{rejected:?}"
    );
    assert_eq!(rejected.stderr.lines().count(), 1);
    assert_no_secret(&rejected, &wrong);
    // One attempt: a rejected key is not retried.
    assert_eq!(server.token_request_count(), 1);
}

#[tokio::test]
async fn network_errors_have_their_exit_code() {
    let server = FakeDstor::start().await.unwrap();
    // 5: nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = token_with(&closed_url, Some(server.api_key()), &[]).await;
    assert_eq!(unreachable.code, 5, "{unreachable:?}");
    assert!(unreachable.stderr.contains(&closed_url), "{unreachable:?}");
    assert!(
        unreachable.stderr.contains("could not connect"),
        "{unreachable:?}"
    );
    assert_eq!(unreachable.stderr.lines().count(), 1);
    assert_no_secret(&unreachable, server.api_key());

    // 5: a service that never answers, with every attempt timed out.
    server.push_faults(std::iter::repeat_n(Fault::Hang, 10));
    let slow = token_with(
        &server.base_url(),
        Some(server.api_key()),
        &["--timeout", "1s"],
    )
    .await;
    assert_eq!(slow.code, 5, "{slow:?}");
    assert!(slow.stderr.contains("timed out"), "{slow:?}");
    assert!(slow.stderr.contains("--timeout"), "{slow:?}");
    assert_eq!(slow.stderr.lines().count(), 1, "{slow:?}");
    assert_no_secret(&slow, server.api_key());
}

#[tokio::test]
async fn service_errors_have_their_exit_code() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    // 6: the service fails on every attempt.
    server.push_faults(std::iter::repeat_n(Fault::Status(503), 10));
    let failing = against(&server, &["token"], cache.path()).await;
    assert_eq!(failing.code, 6, "{failing:?}");
    assert!(failing.stderr.contains("503"), "{failing:?}");
    assert_eq!(failing.stderr.lines().count(), 1);
    assert!(server.token_request_count() > 1, "no retry");
    assert_no_secret(&failing, server.api_key());

    // 6: an answer that holds no token.
    let server = FakeDstor::start().await.unwrap();
    server.push_faults([Fault::Body {
        status: 200,
        content_type: "application/json".into(),
        body: r#"{"unexpected":true}"#.into(),
    }]);
    let garbled = against(&server, &["token"], cache.path()).await;
    assert_eq!(garbled.code, 6, "{garbled:?}");
    assert_eq!(garbled.stderr.lines().count(), 1);
    assert_no_secret(&garbled, server.api_key());
}

#[tokio::test]
async fn help_is_the_manual_and_lists_every_exit_code() {
    let cache = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["token", "--help"]] {
        let help = run(dstor(args, cache.path()), None).await;
        assert_eq!(help.code, 0, "{help:?}");
        for code in 0..=7 {
            assert!(
                help.stdout.contains(&format!("\n  {code}  ")),
                "{args:?}: exit code {code} missing:\n{}",
                help.stdout
            );
        }
        assert!(help.stdout.contains("DSTOR_API_KEY"), "{args:?}");
    }
    let token = run(dstor(&["token", "--help"], cache.path()), None).await;
    for flag in [
        "--json",
        "--expires-in",
        "--expires-at",
        "--env",
        "--endpoint",
        "--api-key-file",
        "--api-key-stdin",
        "--cache",
        "DSTOR_ENV",
        "DSTOR_ENDPOINT",
    ] {
        assert!(token.stdout.contains(flag), "{flag} missing");
    }
    assert!(
        !token.stdout.contains("--api-key <"),
        "a flag takes the key"
    );
}

/// Neither stream holds `key` or any 8-character piece of it.
fn assert_no_fragment(run: &crate::support::Run, key: &str) {
    for start in 0..=key.len() - 8 {
        assert_no_secret(run, &key[start..start + 8]);
    }
}

#[tokio::test]
async fn a_key_given_as_a_flag_value_or_in_dstor_env_is_never_echoed() {
    let key = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";
    let cache = tempfile::tempdir().unwrap();
    let mut in_env = dstor(&["token"], cache.path());
    in_env.env("DSTOR_ENV", key);
    let mut in_env_help = dstor(&["token", "--help"], cache.path());
    in_env_help
        .env("DSTOR_ENV", key)
        .env("DSTOR_ENDPOINT", format!("https://{key}.example"));
    let mut commands = vec![(in_env, 2), (in_env_help, 0)];
    let with_value = [
        &["token", "--timeout", key][..],
        &["token", &format!("--timeout={key}")],
        &["token", "--expires-in", key],
        &["token", "--expires-at", key],
        &["token", "--env", key],
        &["token", "--endpoint", key],
        &["token", key],
        &["token", &format!("--api-key={key}")],
        &["inspect", "-", key],
        &["serve-fake", "--port", key],
        &["serve-fake", "--host", key],
        &[key],
    ];
    for args in with_value {
        // --endpoint: not a URL, a configuration error (3); the rest: usage errors (2).
        let code = if args.get(1) == Some(&"--endpoint") {
            3
        } else {
            2
        };
        commands.push((dstor(args, cache.path()), code));
    }
    for (command, code) in commands {
        let shown = format!("{command:?}");
        let run = run(command, None).await;
        assert_eq!(run.code, code, "{shown}: {run:?}");
        assert_no_fragment(&run, key);
        if code != 0 {
            assert!(!run.stderr.trim().is_empty(), "{shown}: {run:?}");
        }
    }
    // A short value is still quoted, to show the typo.
    let mut staging = dstor(&["token"], cache.path());
    staging.env("DSTOR_ENV", "Staging");
    let staging = run(staging, None).await;
    assert_eq!(staging.code, 2, "{staging:?}");
    assert!(staging.stderr.contains("'Staging'"), "{staging:?}");
    assert!(staging.stderr.contains("DSTOR_ENV"), "{staging:?}");
    assert_eq!(staging.stderr.lines().count(), 1, "{staging:?}");
    for (flag, value) in [("--timeout", "10x"), ("--expires-in", "1w")] {
        let bad = run(dstor(&["token", flag, value], cache.path()), None).await;
        assert_eq!(bad.code, 2, "{bad:?}");
        assert!(bad.stderr.contains(&format!("'{value}'")), "{bad:?}");
        assert!(bad.stderr.contains(flag), "{bad:?}");
    }
}
