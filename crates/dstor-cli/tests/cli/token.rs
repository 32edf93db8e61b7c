//! `dstor token`: the token alone, `--json`, the requested expiration, the key's sources.

use dstor_mock::FakeDstor;

use crate::support::{against, assert_no_secret, dstor, now, run};

#[tokio::test]
async fn token_prints_the_token_alone() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = against(&server, &["token"], cache.path()).await;
    assert_eq!(out.code, 0, "{out:?}");
    let token = out.stdout.strip_suffix('\n').expect("one line");
    assert!(!token.contains('\n'));
    assert!(server.verify_token(token).is_some(), "{out:?}");
    assert_eq!(out.stderr, "");
    assert_eq!(server.token_request_count(), 1);
    assert_no_secret(&out, server.api_key());
    // The default lifetime is one hour.
    let sent: u64 = server.requests()[0].headers["x-expiration"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(sent.abs_diff(now() + 3600) <= 2, "{sent}");
}

#[tokio::test]
async fn json_has_the_documented_fields() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = against(
        &server,
        &["token", "--json", "--expires-in", "30m"],
        cache.path(),
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let token = json["access_token"].as_str().unwrap();
    let claims = server.verify_token(token).unwrap();
    assert_eq!(json["subject"], claims["sub"]);
    assert_eq!(json["environment"], "custom");
    assert_eq!(json["endpoint"], server.base_url());
    let expires_in = json["expires_in"].as_i64().unwrap();
    assert!((1790..=1800).contains(&expires_in), "{expires_in}");
    let exp = claims["exp"].as_i64().unwrap();
    let expires_at = json["expires_at"].as_str().unwrap();
    let parsed: jiff::Timestamp = expires_at.parse().unwrap();
    assert_eq!(parsed.as_second(), exp, "{expires_at}");
    assert!(expires_at.ends_with('Z'), "{expires_at}");
    let header = &server.requests()[0].headers["x-expiration"];
    assert_eq!(header.to_str().unwrap(), exp.to_string());
    assert_no_secret(&out, server.api_key());
}

#[tokio::test]
async fn expires_at_sets_the_requested_expiration() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let at = now() + 7200;
    let rfc3339 = jiff::Timestamp::from_second(at as i64).unwrap().to_string();
    for value in [at.to_string(), rfc3339] {
        let out = against(&server, &["token", "--expires-at", &value], cache.path()).await;
        assert_eq!(out.code, 0, "{value}: {out:?}");
        let requests = server.requests();
        let header = &requests.last().unwrap().headers["x-expiration"];
        assert_eq!(header.to_str().unwrap(), at.to_string(), "{value}");
    }
    let past = against(
        &server,
        &["token", "--expires-at", "1632792437"],
        cache.path(),
    )
    .await;
    assert_eq!(past.code, 3, "{past:?}");
    assert!(past.stderr.contains("not in the future"), "{past:?}");
    assert!(past.stderr.contains("2021-09-28T01:27:17Z"), "{past:?}");
}

#[tokio::test]
async fn bad_expirations_say_what_is_wrong_and_what_to_pass() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    for (args, code, wanted) in [
        (["--expires-in", "5x"], 2, "such as 30m or 1h"),
        (["--expires-in", "1.5h"], 2, "such as 30m or 1h"),
        (
            ["--expires-at", "tomorrow"],
            2,
            "RFC 3339 time (2030-01-01T00:00:00Z) or Unix",
        ),
        (["--expires-in", "0"], 3, "at least one second"),
        (["--expires-in", "99999999999d"], 3, "after the year 9999"),
        (["--expires-at", "99999999999999"], 3, "after the year 9999"),
        (["--timeout", "0"], 2, "use 1s or more"),
    ] {
        let out = against(&server, &[&["token"][..], &args].concat(), cache.path()).await;
        assert_eq!(out.code, code, "{args:?}: {out:?}");
        assert!(out.stderr.contains(args[0]), "{args:?}: {out:?}");
        assert!(out.stderr.contains(wanted), "{args:?}: {out:?}");
        assert_no_secret(&out, server.api_key());
    }
    let both = against(
        &server,
        &[
            "token",
            "--expires-in",
            "1h",
            "--expires-at",
            "2030-01-01T00:00:00Z",
        ],
        cache.path(),
    )
    .await;
    assert_eq!(both.code, 2, "{both:?}");
    assert_eq!(server.token_request_count(), 0);
}

#[tokio::test]
async fn the_key_comes_from_stdin_or_a_file() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut stdin = dstor(&["token", "--api-key-stdin"], cache.path());
    stdin.env("DSTOR_ENDPOINT", server.base_url());
    let out = run(stdin, Some(&format!("{}\n", server.api_key()))).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(server.verify_token(out.stdout.trim()).is_some());
    assert_no_secret(&out, server.api_key());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, format!("{}\n", server.api_key())).unwrap();
    #[cfg(unix)]
    for (mode, warned) in [(0o600, false), (0o644, true)] {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut file = dstor(
            &["token", "--api-key-file", path.to_str().unwrap()],
            cache.path(),
        );
        file.env("DSTOR_ENDPOINT", server.base_url());
        let out = run(file, None).await;
        assert_eq!(out.code, 0, "{out:?}");
        assert!(server.verify_token(out.stdout.trim()).is_some());
        assert_eq!(out.stderr.contains("warning"), warned, "{mode:o}: {out:?}");
        assert_eq!(
            out.stderr.contains("chmod 600"),
            warned,
            "{mode:o}: {out:?}"
        );
        assert!(out.stderr.lines().count() <= 1);
        assert_no_secret(&out, server.api_key());
    }

    let mut absent = dstor(
        &["token", "--api-key-file", "/nonexistent/key"],
        cache.path(),
    );
    absent.env("DSTOR_ENDPOINT", server.base_url());
    let absent = run(absent, None).await;
    assert_eq!(absent.code, 3, "{absent:?}");
    assert!(absent.stderr.contains("/nonexistent/key"), "{absent:?}");
}

#[tokio::test]
async fn a_slow_fetch_off_a_terminal_prints_nothing_on_stderr() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    // Long enough for the spinner, were stderr a terminal.
    server.set_delay(std::time::Duration::from_millis(1_300));
    let started = std::time::Instant::now();
    let out = against(&server, &["token"], cache.path()).await;
    assert!(started.elapsed() > std::time::Duration::from_millis(1_300));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(server.verify_token(out.stdout.trim()).is_some());
    assert_eq!(out.stderr, "", "a spinner off a terminal");
    assert_eq!(server.token_request_count(), 1);
}
