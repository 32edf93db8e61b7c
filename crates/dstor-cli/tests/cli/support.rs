//! Running the built `dstor` as a user runs it: a clean environment, piped streams.

use std::io::{BufRead as _, BufReader, Lines, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use dstor_mock::FakeDstor;

/// The example token from dStor's documentation.
pub(crate) const DOCS_TOKEN: &str = concat!(
    "eyJhbsomebiglongstring9.",
    "eyJkIjpmYWxzZSwibyI6ZmFsc2UsInMiOmZhbHNlLCJ0IjpudWxsLCJpYXQiOjE2MzI3ODg4MzcsImV4cCI6",
    "MTYzMjc5MjQzNywiYXVkIjoiZHN0b3IuY2xvdWQiLCJpc3MiOiJkc3Rvci5jbG91ZCIsInN1YiI6ImIyZTI3",
    "ODE3LTA0MzktNDViZC04YTNkLTVjNTk2MTg1YmQwNSJ9.PyKa8sILa7nyD-4eI4lA0xjFBPcncNZQL4_iclZ_Fs8",
);

/// The outcome of one run.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `dstor` with an environment holding nothing of the caller's but PATH, and `cache` as
/// its cache directory.
pub(crate) fn dstor(args: &[&str], cache: &Path) -> Command {
    let mut command = bare(args);
    command.env("DSTOR_CACHE_DIR", cache);
    command
}

/// `dstor` with an environment holding nothing of the caller's but PATH: no cache
/// directory at all.
pub(crate) fn bare(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dstor"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(args);
    command
}

/// Runs `command` off the async runtime, feeding it `stdin`.
pub(crate) async fn run(mut command: Command, stdin: Option<&str>) -> Run {
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
            // dstor may stop reading early (it reads a bounded amount): a closed pipe is fine.
            let written = child.stdin.take().unwrap().write_all(text.as_bytes());
            if let Err(e) = written {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output
                .status
                .code()
                .expect("dstor exits, not killed by a signal"),
            // Lossy: `dstor get` may write bytes that are not text.
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

/// `dstor args` against `server`, with its key in DSTOR_API_KEY.
pub(crate) fn against_command(server: &FakeDstor, args: &[&str], cache: &Path) -> Command {
    let mut command = dstor(args, cache);
    command
        .env("DSTOR_ENDPOINT", server.base_url())
        .env("DSTOR_API_KEY", server.api_key());
    command
}

/// Runs `dstor args` against `server` with its key in DSTOR_API_KEY.
pub(crate) async fn against(server: &FakeDstor, args: &[&str], cache: &Path) -> Run {
    run(against_command(server, args, cache), None).await
}

/// Neither stream holds `secret`, and nothing panicked.
pub(crate) fn assert_no_secret(run: &Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{run:?}"
    );
    assert_no_panic(run);
}

/// Nothing panicked: no panic message, no backtrace.
pub(crate) fn assert_no_panic(run: &Run) {
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("backtrace"),
        "{run:?}"
    );
    assert_ne!(run.code, 101, "{run:?}");
}

/// The current Unix time, in seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A child process stopped and reaped when dropped, even when a test fails first.
pub(crate) struct Reaped(pub Child);

impl Reaped {
    /// Asks the child to stop as a service manager would (SIGTERM on unix), and waits for
    /// it; kills it if it has not stopped within 10 s. Its exit status, if it stopped.
    pub(crate) fn stop(&mut self) -> Option<std::process::ExitStatus> {
        if let Ok(Some(status)) = self.0.try_wait() {
            return Some(status);
        }
        #[cfg(unix)]
        {
            let asked = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if asked {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while std::time::Instant::now() < deadline {
                    if let Ok(Some(status)) = self.0.try_wait() {
                        return Some(status);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
        None
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        // Stopped, not killed: a killed `dstor serve-fake` cannot remove its spool.
        self.stop();
    }
}

/// `dstor serve-fake args` (cache and temporary directory `dir`), stopped when dropped,
/// and the lines of its standard output (its standard error is discarded).
pub(crate) fn serve_fake(args: &[&str], dir: &Path) -> (Reaped, Lines<BufReader<ChildStdout>>) {
    let mut child = Reaped(
        dstor(&[&["serve-fake"], args].concat(), dir)
            .env("TMPDIR", dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    (child, lines)
}

/// Every credential `server` saw: the API key, each access token and each upload token.
pub(crate) fn credentials(server: &FakeDstor) -> Vec<String> {
    let mut seen = vec![server.api_key().to_owned()];
    for request in server.requests() {
        for name in ["authorization", "x-dstor-upload-token", "api-key"] {
            for value in request.headers.get_all(name) {
                let text = value.to_str().unwrap().to_owned();
                seen.push(text.trim_start_matches("Bearer ").to_owned());
            }
        }
    }
    seen.sort();
    seen.dedup();
    seen
}

/// Neither stream holds any credential `server` saw.
pub(crate) fn assert_no_credential(run: &Run, server: &FakeDstor) {
    for secret in credentials(server) {
        assert_no_secret(run, &secret);
    }
}

/// Files named `name` with `data` in a new temporary directory.
pub(crate) fn files(entries: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in entries {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    dir
}

/// The path of `name` under `dir`, as text.
pub(crate) fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_str().unwrap().to_owned()
}

/// The CID of `hello\n`, as `ipfs add` gives it.
pub(crate) const HELLO_CID: &str = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";

/// The CID of the empty file.
pub(crate) const EMPTY_CID: &str = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH";
