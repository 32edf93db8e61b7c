//! `dstor token --email`: a login instead of an API key, the password from standard input,
//! the environment or a prompt, never from an argument.

use std::path::Path;

use dstor_mock::FakeDstor;

use crate::support::{Run, assert_no_secret, dstor, run};

/// `dstor token --email <the server's account> args`, pointed at `server`, with no key.
async fn login(server: &FakeDstor, args: &[&str], cache: &Path, stdin: Option<&str>) -> Run {
    let mut all = vec!["token", "--email", server.email()];
    all.extend_from_slice(args);
    let mut command = dstor(&all, cache);
    command.env("DSTOR_ENDPOINT", server.base_url());
    run(command, stdin).await
}

#[tokio::test]
async fn password_stdin_logs_in_and_prints_a_token() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let password = format!("{}\n", server.password());
    let out = login(
        &server,
        &["--password-stdin"],
        cache.path(),
        Some(&password),
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        server.verify_token(out.stdout.trim_end()).is_some(),
        "{out:?}"
    );
    assert_eq!(server.requests()[0].method, "POST");
    assert_no_secret(&out, server.password());
}

#[tokio::test]
async fn the_environment_logs_in_when_no_key_is_set() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut command = dstor(&["token"], cache.path());
    command
        .env("DSTOR_ENDPOINT", server.base_url())
        .env("DSTOR_EMAIL", server.email())
        .env("DSTOR_PASSWORD", server.password());
    let out = run(command, None).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(server.verify_token(out.stdout.trim_end()).is_some());
    assert_no_secret(&out, server.password());
}

#[tokio::test]
async fn a_wrong_password_exits_4_after_one_request_and_says_what_to_check() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let wrong = "not-the-password-4321";
    let out = login(&server, &["--password-stdin"], cache.path(), Some(wrong)).await;
    assert_eq!(out.code, 4, "{out:?}");
    assert!(
        out.stderr.contains("email or password was rejected (401)"),
        "{out:?}"
    );
    assert!(out.stderr.contains("--password-stdin"), "{out:?}");
    assert_eq!(server.token_request_count(), 1, "a 401 is not retried");
    assert_no_secret(&out, wrong);
}

#[tokio::test]
async fn no_prompt_without_a_terminal_and_no_password_flag() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = login(&server, &[], cache.path(), None).await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("not a terminal"), "{out:?}");
    assert!(out.stderr.contains("--password-stdin"), "{out:?}");
    assert_eq!(server.request_count(), 0);
    let flag = login(&server, &["--password", "x"], cache.path(), None).await;
    assert_eq!(flag.code, 2, "there is no --password flag: {flag:?}");
}

#[tokio::test]
async fn cache_is_keyed_by_the_email_and_needs_no_password_when_fresh() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let args = ["--cache", "--password-stdin"];
    let first = login(&server, &args, cache.path(), Some(server.password())).await;
    assert_eq!(first.code, 0, "{first:?}");
    // No password at all this time: the cached token is printed.
    let second = login(&server, &["--cache"], cache.path(), None).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(server.token_request_count(), 1);
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(server.password()), "{text}");
    }
    // Another email does not get this one's token: it is asked for a password.
    let mut command = dstor(
        &["token", "--cache", "--email", "other@example.com"],
        cache.path(),
    );
    command.env("DSTOR_ENDPOINT", server.base_url());
    let out = run(command, None).await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("no password"), "{out:?}");
}
