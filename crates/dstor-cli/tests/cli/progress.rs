//! The progress bar: on stderr under a terminal, absent otherwise.

#![allow(
    clippy::print_stdout,
    reason = "a test skipped for a missing tool says so"
)]

use std::process::Command;

use dstor_mock::FakeDstor;

use crate::support::{against, files, path};

#[tokio::test]
async fn progress_shows_under_a_pseudo_terminal_only() {
    let server = FakeDstor::start().await.unwrap();
    let dir = files(&[("big.bin", &[42; 2 << 20])]);
    let file = path(&dir, "big.bin");
    let cache = tempfile::tempdir().unwrap();
    let piped = against(&server, &["upload", &file], cache.path()).await;
    assert_eq!(piped.code, 0, "{piped:?}");
    assert_eq!(
        piped.stderr, "",
        "no progress when stderr is not a terminal"
    );

    // `script` (util-linux) runs the command under a pseudo-terminal.
    if Command::new("script").arg("--version").output().is_err() {
        println!("note: script is not installed; skipping the pseudo-terminal test");
        return;
    }
    let command = format!("{} upload {file}", env!("CARGO_BIN_EXE_dstor"));
    let mut script = in_terminal(&command, cache.path(), &server.base_url());
    script.env("DSTOR_API_KEY", server.api_key());
    let out = output(script).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("2.00 MiB"), "the bar shows the bytes: {text}");
    assert!(text.contains("uploading"), "{text}");
    assert!(
        text.contains("\x1b[2K"),
        "the bar is erased at the end: {text}"
    );
    assert!(text.contains("  big.bin"), "{text}");
    assert!(!text.contains(server.api_key()));

    // `get -o` shows its bar too, and only on a terminal.
    let cid = piped.stdout.split_whitespace().next().unwrap().to_owned();
    let target = dir.path().join("back.bin");
    let quiet = against(
        &server,
        &["get", &cid, "-o", &path(&dir, "back.bin")],
        cache.path(),
    )
    .await;
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""), "{quiet:?}");
    std::fs::remove_file(&target).unwrap();
    let command = format!(
        "{} get {cid} -o {}",
        env!("CARGO_BIN_EXE_dstor"),
        target.display()
    );
    let out = output(in_terminal(&command, cache.path(), &server.base_url())).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("downloading"), "{text}");
    assert!(
        text.contains("\x1b[2K"),
        "the bar is erased at the end: {text}"
    );
    assert_eq!(std::fs::read(&target).unwrap().len(), 2 << 20);
}

/// `command` run by `script` (util-linux) under a pseudo-terminal, with nothing of this
/// environment but `PATH`, and the cache and endpoint given.
fn in_terminal(command: &str, cache: &std::path::Path, endpoint: &str) -> Command {
    let mut script = Command::new("script");
    script
        .args(["-qfec", command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // indicatif, like most terminal programs, draws nothing on a dumb terminal.
        .env("TERM", "xterm")
        .env("DSTOR_CACHE_DIR", cache)
        .env("DSTOR_ENDPOINT", endpoint);
    script
}

/// Runs `command` off the runtime, which serves the fake meanwhile.
async fn output(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}
