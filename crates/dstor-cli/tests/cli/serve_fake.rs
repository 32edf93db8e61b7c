//! `dstor serve-fake`, driven by the docs' own curl command.

#![allow(
    clippy::print_stdout,
    reason = "a test skipped for a missing tool says so"
)]

use std::process::Command;

use crate::support::{dstor, now, run, serve_fake};

#[tokio::test]
async fn serve_fake_answers_the_docs_curl_command() {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("note: curl is not installed; skipping the serve-fake curl test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = "F".repeat(64);
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, &key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (_child, mut lines) = serve_fake(&["--key-file", key_file.to_str().unwrap()], dir.path());
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let rest: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
    assert!(rest.iter().all(|l| !l.contains(&key)), "{rest:?}");

    // The docs' command, as printed there (plus --silent and --show-error).
    let exp = now() + 3600;
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--location"])
        .arg(format!("{url}/v1/dev/temp-token"))
        .args(["--header", &format!("api-key: {key}")])
        .args(["--header", &format!("x-expiration: {exp}")])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let token = body["access_token"].as_str().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let inspected = run(dstor(&["inspect", token], cache.path()), None).await;
    assert_eq!(inspected.code, 0, "{inspected:?}");
    assert!(
        inspected.stdout.contains(
            &jiff::Timestamp::from_second(exp as i64)
                .unwrap()
                .to_string()
        ),
        "{inspected:?}"
    );

    // The same command with another key is refused.
    let refused = Command::new("curl")
        .args(["--silent", "--location", "--output", "/dev/null"])
        .args(["--write-out", "%{http_code}"])
        .arg(format!("{url}/v1/dev/temp-token"))
        .args(["--header", &format!("api-key: {}", "G".repeat(64))])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&refused.stdout), "401");
}

#[tokio::test]
async fn serve_fake_prints_a_generated_key_that_dstor_token_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, lines) = serve_fake(&["--port", "0"], dir.path());
    // Read the address and the key, then close the pipe: the service must keep running.
    let lines: Vec<String> = lines.take(2).map(Result::unwrap).collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let url = lines[0].rsplit(' ').next().unwrap();
    let key = lines[1].strip_prefix("fake API key: ").unwrap();
    let mut token = dstor(&["token"], dir.path());
    token.env("DSTOR_ENDPOINT", url).env("DSTOR_API_KEY", key);
    let out = run(token, None).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.matches('.').count(), 2, "{out:?}");
}

/// Stopped as a service manager stops it (SIGTERM): unix only.
#[cfg(unix)]
#[tokio::test]
async fn serve_fake_removes_its_spool_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let spools = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with("dstor-mock-")
            })
            .count()
    };
    let (mut child, mut lines) = serve_fake(&["--port", "0"], dir.path());
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("listening at"), "{first}");
    assert_eq!(
        spools(),
        1,
        "the running service spools into its temporary directory"
    );
    let status = child.stop().expect("it stops when asked");
    assert!(status.success(), "{status:?}");
    assert_eq!(spools(), 0, "the spool is removed at shutdown");
}
