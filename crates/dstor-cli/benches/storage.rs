//! `dstor upload`, `dstor get` and `dstor cid` of one file, side by side in one run with
//! `curl -F file=@…` to the same fake endpoint, `curl -o` from the same gateway, and
//! `openssl dgst -sha256`: wall time (median) and peak memory (maximum resident set, as
//! `/usr/bin/time` reports it) of each process.
//!
//! `cargo bench -p dstor-cli --bench storage` uses a 1 GiB file (`DSTOR_BENCH_MIB` sets
//! another size, in MiB). Under `cargo test --benches` it runs once on 8 MiB: a smoke test
//! that the benchmark works. It needs `/usr/bin/time`, `curl` and `openssl`.

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use dstor_mock::FakeDstor;

fn main() {
    let bench = std::env::args().any(|arg| arg == "--bench");
    let default_mib = if bench { 1024 } else { 8 };
    let mib: u64 = std::env::var("DSTOR_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_mib);
    let runs = if bench { 3 } else { 1 };
    for tool in ["/usr/bin/time", "curl", "openssl"] {
        if Command::new(tool).arg("--version").output().is_err() {
            println!("note: {tool} is not installed; skipping the storage benchmark");
            return;
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(FakeDstor::start()).expect("fake dStor");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let rows = std::thread::scope(|scope| {
        scope.spawn(|| runtime.block_on(stopped));
        let rows = measure(&server, mib, runs);
        let _ = stop.send(());
        rows
    });
    runtime.block_on(server.shutdown());

    println!("{mib} MiB file, {runs} run(s) each; wall time (median) and peak RSS (max):");
    println!("{:<34} {:>10} {:>12}", "command", "wall", "peak RSS");
    for (name, wall, rss) in &rows {
        println!(
            "{name:<34} {:>8.3} s {:>8.1} MiB",
            wall.as_secs_f64(),
            *rss as f64 / 1024.0
        );
    }
    for pair in rows.chunks(2) {
        if let [(ours, a, _), (theirs, b, _)] = pair {
            println!(
                "{ours} / {theirs}: {:.2}x wall",
                a.as_secs_f64() / b.as_secs_f64()
            );
        }
    }
}

/// Each command's median wall time and largest peak RSS (KiB), ours then the baseline.
fn measure(server: &FakeDstor, mib: u64, runs: usize) -> Vec<(String, Duration, u64)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("data.bin");
    write_file(&file, mib);
    let file_arg = file.to_str().expect("utf-8 path").to_owned();
    let url = server.base_url();
    let dstor = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dstor"));
        command
            .args(args)
            .env("DSTOR_ENDPOINT", &url)
            .env("DSTOR_API_KEY", server.api_key())
            .env_remove("DSTOR_CACHE_DIR");
        command
    };
    let mut rows = Vec::new();

    rows.push(timed("dstor upload", runs, || {
        dstor(&["upload", &file_arg])
    }));
    let token = output(dstor(&["token"]));
    rows.push(timed("curl -F file=@… (same endpoint)", runs, || {
        let upload_token = upload_token(&url, &token);
        let mut curl = Command::new("curl");
        curl.args(["-sSf", "-o", "/dev/null"])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args(["-H", &format!("x-dstor-upload-token: {upload_token}")])
            .args(["-F", &format!("file=@{file_arg}")])
            .arg(format!("{url}/v1/upload/"));
        curl
    }));

    let cid = output(dstor(&["cid", &file_arg]));
    let cid = cid.split_whitespace().next().expect("a CID").to_owned();
    let out = dir.path().join("out.bin");
    let out_arg = out.to_str().expect("utf-8 path").to_owned();
    rows.push(timed("dstor get -o (verified)", runs, || {
        dstor(&["get", &cid, "-o", &out_arg])
    }));
    rows.push(timed("curl -L -o", runs, || {
        let mut curl = Command::new("curl");
        curl.args(["-sSfL", "-o", &out_arg])
            .arg(format!("{url}/ipfs/{cid}"));
        curl
    }));

    rows.push(timed("dstor cid", runs, || dstor(&["cid", &file_arg])));
    rows.push(timed("openssl dgst -sha256", runs, || {
        let mut openssl = Command::new("openssl");
        openssl.args(["dgst", "-sha256", &file_arg]);
        openssl
    }));
    rows
}

/// Runs what `make` builds `runs` times under `/usr/bin/time`: the median wall time and
/// the largest peak RSS in KiB. Every run must succeed.
fn timed(name: &str, runs: usize, mut make: impl FnMut() -> Command) -> (String, Duration, u64) {
    let report = tempfile::NamedTempFile::new().expect("temp file");
    let mut walls = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let command = make();
        let mut time = Command::new("/usr/bin/time");
        time.args(["-f", "%e %M", "-o"])
            .arg(report.path())
            .arg(command.get_program())
            .args(command.get_args())
            .envs(command.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
            .stdout(Stdio::null());
        let status = time.status().expect("runs");
        assert!(status.success(), "{name} failed");
        let text = std::fs::read_to_string(report.path()).expect("time's report");
        let mut fields = text.split_whitespace();
        let wall: f64 = fields.next().and_then(|f| f.parse().ok()).expect("wall");
        let rss: u64 = fields.next().and_then(|f| f.parse().ok()).expect("rss");
        walls.push(Duration::from_secs_f64(wall));
        peak = peak.max(rss);
    }
    walls.sort();
    (name.to_owned(), walls[walls.len() / 2], peak)
}

/// An upload token for one chunk, asked with curl.
fn upload_token(url: &str, token: &str) -> String {
    let mut curl = Command::new("curl");
    curl.args(["-sSf", "-X", "POST"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", "Content-Type: application/json"])
        .args(["-d", r#"{"chunks_number":1,"folder_path":"/"}"#])
        .arg(format!("{url}/v1/upload/get-token/"));
    let body: serde_json::Value = serde_json::from_str(&output(curl)).expect("JSON");
    body["token"].as_str().expect("an upload token").to_owned()
}

/// The trimmed standard output of a command that must succeed.
fn output(mut command: Command) -> String {
    let out = command.output().expect("runs");
    assert!(out.status.success(), "{command:?} failed");
    String::from_utf8(out.stdout)
        .expect("text")
        .trim()
        .to_owned()
}

/// Writes `mib` MiB of pseudo-random bytes (xorshift: no block repeats, so no
/// deduplication helps anyone).
fn write_file(path: &Path, mib: u64) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("file"));
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        file.write_all(&block).expect("write");
    }
    file.flush().expect("flush");
}
