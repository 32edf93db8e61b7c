//! `dstor token --cache` and `dstor cache`.

use std::time::Duration;

use dstor_mock::FakeDstor;

use crate::support::{against, assert_no_panic, assert_no_secret, bare, dstor, run};

#[tokio::test]
async fn the_cache_is_reused_across_runs_and_keeps_no_key() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let first = against(&server, &["token", "--cache"], cache.path()).await;
    assert_eq!(first.code, 0, "{first:?}");
    let second = against(&server, &["token", "--cache"], cache.path()).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(
        server.token_request_count(),
        1,
        "the second run made a request"
    );
    let json = against(&server, &["token", "--cache", "--json"], cache.path()).await;
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["access_token"].as_str(), Some(first.stdout.trim()));
    assert_eq!(server.token_request_count(), 1);

    let files: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains(server.api_key()));
    assert!(!files[0].to_string_lossy().contains(server.api_key()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Without --cache, a token is always fetched.
    let fresh = against(&server, &["token"], cache.path()).await;
    assert_eq!(fresh.code, 0);
    assert_eq!(server.token_request_count(), 2);

    let cleared = run(dstor(&["cache", "clear"], cache.path()), None).await;
    assert_eq!(cleared.code, 0, "{cleared:?}");
    assert!(
        cleared.stdout.contains("removed 1 cached token"),
        "{cleared:?}"
    );
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    let path = run(dstor(&["cache", "path"], cache.path()), None).await;
    assert_eq!(path.stdout.trim(), cache.path().to_str().unwrap());
}

#[tokio::test]
async fn a_cached_token_is_reused_only_until_its_refresh_ahead_window() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    // A 4 s token is reused for 3 s after its `iat` (whole seconds, so 2 s at least).
    let args = ["token", "--cache", "--expires-in", "4s"];
    let first = against(&server, &args, cache.path()).await;
    assert_eq!(first.code, 0, "{first:?}");
    let second = against(&server, &args, cache.path()).await;
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(server.token_request_count(), 1);

    // Another requested lifetime never gets that token.
    let longer = against(&server, &["token", "--cache"], cache.path()).await;
    assert_ne!(longer.stdout, first.stdout);
    assert_eq!(server.token_request_count(), 2);

    tokio::time::sleep(Duration::from_millis(3_100)).await;
    let third = against(&server, &args, cache.path()).await;
    assert_eq!(third.code, 0, "{third:?}");
    assert_ne!(
        third.stdout, first.stdout,
        "reused in its refresh-ahead window"
    );
    assert_eq!(server.token_request_count(), 3);
}

#[tokio::test]
async fn a_corrupt_cache_file_is_replaced() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        against(&server, &["token", "--cache"], cache.path())
            .await
            .code,
        0
    );
    let file = std::fs::read_dir(cache.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let valid = std::fs::read_to_string(&file).unwrap();
    let foreign = valid.replace("\"key_fingerprint\":\"", "\"key_fingerprint\":\"0");
    for garbage in [
        "{not json".to_owned(),
        r#"{"format":"other"}"#.to_owned(),
        String::new(),
        "\u{0}\u{1}binary".to_owned(),
        foreign,
    ] {
        std::fs::write(&file, &garbage).unwrap();
        let out = against(&server, &["token", "--cache"], cache.path()).await;
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stderr, "", "{out:?}");
        assert!(server.verify_token(out.stdout.trim()).is_some());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(out.stdout.trim()), "not replaced: {text}");
    }
    assert_eq!(server.token_request_count(), 6);
}

#[tokio::test]
async fn cache_io_errors_have_their_exit_code() {
    let server = FakeDstor::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();

    // 7: `cache clear` cannot list a "directory" that is a file.
    let out = run(dstor(&["cache", "clear"], &file), None).await;
    assert_eq!(out.code, 7, "{out:?}");
    assert!(out.stderr.contains("not-a-dir"), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1);

    // 7: no cache directory at all (no DSTOR_CACHE_DIR, XDG_CACHE_HOME or HOME).
    let mut nowhere = bare(&["token", "--cache"]);
    nowhere
        .env("DSTOR_ENDPOINT", server.base_url())
        .env("DSTOR_API_KEY", server.api_key());
    let nowhere = run(nowhere, None).await;
    assert_eq!(nowhere.code, 7, "{nowhere:?}");
    assert!(nowhere.stderr.contains("DSTOR_CACHE_DIR"), "{nowhere:?}");
    assert_no_secret(&nowhere, server.api_key());

    // A token that cannot be stored is still printed, with a one-line warning.
    let unwritable = against(&server, &["token", "--cache"], &file).await;
    assert_eq!(unwritable.code, 0, "{unwritable:?}");
    assert!(server.verify_token(unwritable.stdout.trim()).is_some());
    assert!(
        unwritable.stderr.starts_with("dstor: warning:"),
        "{unwritable:?}"
    );
    assert_eq!(unwritable.stderr.lines().count(), 1);
    assert_no_secret(&unwritable, server.api_key());
    assert!(!unwritable.stderr.contains(unwritable.stdout.trim()));
    assert_no_panic(&unwritable);
}
