//! The `dstor` binary, run as a user runs it, against a fake dStor on 127.0.0.1.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use dstor_mock::{FakeDstor, Fault};

/// The example token from dStor's documentation.
const DOCS_TOKEN: &str = concat!(
    "eyJhbsomebiglongstring9.",
    "eyJkIjpmYWxzZSwibyI6ZmFsc2UsInMiOmZhbHNlLCJ0IjpudWxsLCJpYXQiOjE2MzI3ODg4MzcsImV4cCI6",
    "MTYzMjc5MjQzNywiYXVkIjoiZHN0b3IuY2xvdWQiLCJpc3MiOiJkc3Rvci5jbG91ZCIsInN1YiI6ImIyZTI3",
    "ODE3LTA0MzktNDViZC04YTNkLTVjNTk2MTg1YmQwNSJ9.PyKa8sILa7nyD-4eI4lA0xjFBPcncNZQL4_iclZ_Fs8",
);

/// The outcome of one run.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `dstor` with an environment holding nothing of the caller's but PATH.
fn dstor(args: &[&str], cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dstor"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DSTOR_CACHE_DIR", cache)
        .args(args);
    command
}

/// Runs `command` off the async runtime, feeding it `stdin`.
async fn run(mut command: Command, stdin: Option<&str>) -> Run {
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("dstor runs");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output
                .status
                .code()
                .expect("dstor exits, not killed by a signal"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

/// Runs `dstor args` against `server` with its key in DSTOR_API_KEY.
async fn against(server: &FakeDstor, args: &[&str], cache: &Path) -> Run {
    let mut command = dstor(args, cache);
    command
        .env("DSTOR_ENDPOINT", server.base_url())
        .env("DSTOR_API_KEY", server.api_key());
    run(command, None).await
}

fn assert_no_secret(run: &Run, key: &str) {
    assert!(
        !run.stdout.contains(key) && !run.stderr.contains(key),
        "{run:?}"
    );
    assert!(!run.stderr.contains("panicked"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
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
}

#[tokio::test(flavor = "multi_thread")]
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
    let expires_in = json["expires_in"].as_i64().unwrap();
    assert!((1790..=1800).contains(&expires_in), "{expires_in}");
    let expires_at = json["expires_at"].as_str().unwrap();
    assert!(
        expires_at.ends_with('Z') && expires_at.contains('T'),
        "{expires_at}"
    );
    let exp = claims["exp"].as_i64().unwrap();
    let header = &server.requests()[0].headers["x-expiration"];
    assert_eq!(header.to_str().unwrap(), exp.to_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn expires_at_sets_the_requested_expiration() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = (now + 7200).to_string();
    let out = against(
        &server,
        &["token", "--json", "--expires-at", &at],
        cache.path(),
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let header = &server.requests()[0].headers["x-expiration"];
    let sent: u64 = header.to_str().unwrap().parse().unwrap();
    assert!(sent.abs_diff(now + 7200) <= 2, "{sent}");
    let past = against(
        &server,
        &["token", "--expires-at", "1632792437"],
        cache.path(),
    )
    .await;
    assert_eq!(past.code, 3, "{past:?}");
}

#[tokio::test(flavor = "multi_thread")]
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

    let files: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains(server.api_key()));
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
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
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
    for garbage in ["{not json", r#"{"format":"other"}"#, ""] {
        std::fs::write(&file, garbage).unwrap();
        let out = against(&server, &["token", "--cache"], cache.path()).await;
        assert_eq!(out.code, 0, "{out:?}");
        assert!(server.verify_token(out.stdout.trim()).is_some());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("access_token"), "not replaced: {text}");
    }
    assert_eq!(server.token_request_count(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cache_directory_that_is_a_file_is_a_cache_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = run(dstor(&["cache", "clear"], &file), None).await;
    assert_eq!(out.code, 7, "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn inspect_decodes_the_docs_token_without_printing_it() {
    let cache = tempfile::tempdir().unwrap();
    let by_arg = run(dstor(&["inspect", DOCS_TOKEN], cache.path()), None).await;
    let by_stdin = run(dstor(&["inspect", "-"], cache.path()), Some(DOCS_TOKEN)).await;
    for out in [&by_arg, &by_stdin] {
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("b2e27817-0439-45bd-8a3d-5c596185bd05"));
        assert!(out.stdout.contains("2021-09-28T01:27:17Z"), "{out:?}");
        assert!(out.stdout.contains("expired") && out.stdout.contains("ago"));
        assert!(out.stdout.contains("WITHOUT verifying"));
        assert!(!out.stdout.contains("PyKa8sIL"));
    }
    let junk = run(dstor(&["inspect", "not-a-token"], cache.path()), None).await;
    assert_eq!(junk.code, 3, "{junk:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failure_has_its_exit_code_and_no_secret() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let url = server.base_url();

    // 2: usage.
    let usage = run(dstor(&["token", "--api-key", "x"], cache.path()), None).await;
    assert_eq!(usage.code, 2, "{usage:?}");

    // 3: no key.
    let mut missing = dstor(&["token"], cache.path());
    missing.env("DSTOR_ENDPOINT", &url);
    let missing = run(missing, None).await;
    assert_eq!(missing.code, 3, "{missing:?}");
    assert!(missing.stderr.contains("DSTOR_API_KEY"));
    assert_eq!(missing.stderr.lines().count(), 1);

    // 3: a malformed key.
    let bad = "not-a-key-but-a-secret-nonetheless";
    let mut malformed = dstor(&["token"], cache.path());
    malformed
        .env("DSTOR_ENDPOINT", &url)
        .env("DSTOR_API_KEY", bad);
    let malformed = run(malformed, None).await;
    assert_eq!(malformed.code, 3, "{malformed:?}");
    assert!(malformed.stderr.contains("malformed"));
    assert_no_secret(&malformed, bad);

    // 4: a well-formed key dStor rejects.
    let wrong = "W".repeat(64);
    let mut rejected = dstor(&["token"], cache.path());
    rejected
        .env("DSTOR_ENDPOINT", &url)
        .env("DSTOR_API_KEY", &wrong);
    let rejected = run(rejected, None).await;
    assert_eq!(rejected.code, 4, "{rejected:?}");
    assert!(rejected.stderr.contains("401"), "{rejected:?}");
    assert_eq!(rejected.stderr.lines().count(), 1);
    assert_no_secret(&rejected, &wrong);

    // 5: nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut unreachable = dstor(&["token"], cache.path());
    unreachable
        .env("DSTOR_ENDPOINT", &closed_url)
        .env("DSTOR_API_KEY", server.api_key());
    let unreachable = run(unreachable, None).await;
    assert_eq!(unreachable.code, 5, "{unreachable:?}");
    assert!(unreachable.stderr.contains(&closed_url), "{unreachable:?}");
    assert_no_secret(&unreachable, server.api_key());

    // 6: the service fails on every attempt.
    server.push_faults(std::iter::repeat_n(Fault::Status(503), 10));
    let before = server.token_request_count();
    let failing = against(&server, &["token"], cache.path()).await;
    assert_eq!(failing.code, 6, "{failing:?}");
    assert!(failing.stderr.contains("503"), "{failing:?}");
    assert!(server.token_request_count() - before > 1, "no retry");
    assert_no_secret(&failing, server.api_key());

    // 3: plain http to a host that is not loopback.
    let mut insecure = dstor(&["token"], cache.path());
    insecure
        .env("DSTOR_ENDPOINT", "http://example.com")
        .env("DSTOR_API_KEY", server.api_key());
    let insecure = run(insecure, None).await;
    assert_eq!(insecure.code, 3, "{insecure:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_comes_from_stdin_or_a_file() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut stdin = dstor(&["token", "--api-key-stdin"], cache.path());
    stdin.env("DSTOR_ENDPOINT", server.base_url());
    let out = run(stdin, Some(&format!("{}\n", server.api_key()))).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(server.verify_token(out.stdout.trim()).is_some());

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
        assert!(out.stderr.lines().count() <= 1);
        assert_no_secret(&out, server.api_key());
    }

    let mut absent = dstor(
        &["token", "--api-key-file", "/nonexistent/key"],
        cache.path(),
    );
    absent.env("DSTOR_ENDPOINT", server.base_url());
    assert_eq!(run(absent, None).await.code, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_fake_answers_the_docs_curl_command() {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("note: curl is not installed; skipping the serve-fake curl test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = "F".repeat(64);
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, &key).unwrap();
    let mut child = dstor(
        &[
            "serve-fake",
            "--port",
            "0",
            "--key-file",
            key_file.to_str().unwrap(),
        ],
        dir.path(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--location"])
        .arg(format!("{url}/v1/dev/temp-token"))
        .args(["--header", &format!("api-key: {key}")])
        .args(["--header", &format!("x-expiration: {exp}")])
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(output.status.success(), "{output:?}");
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let token = body["access_token"].as_str().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let inspected = run(dstor(&["inspect", token], cache.path()), None).await;
    assert!(inspected.stdout.contains("in 59 minutes") || inspected.stdout.contains("in 1 hour"));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_shows_the_cache_at_work() {
    let cache = tempfile::tempdir().unwrap();
    let out = run(dstor(&["demo"], cache.path()), None).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("no request made"), "{out:?}");
    assert!(out.stdout.contains("requests to the service: 2"), "{out:?}");
}
