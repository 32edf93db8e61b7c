//! Wall time per run of `dstor token` (fresh fetch), `dstor token --cache` (warm) and the
//! docs' curl command, each against an in-process fake dStor.
//!
//! `cargo bench -p dstor-cli --bench cli`. Under `cargo test --benches` (no `--bench`
//! argument) each command runs only a few times: a smoke test that the benchmark works.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dstor_mock::FakeDstor;

/// Timed runs per command under `cargo bench`.
const RUNS: usize = 50;

/// Timed runs per command under `cargo test --benches`.
const SMOKE_RUNS: usize = 3;

fn main() {
    let runs = if std::env::args().any(|arg| arg == "--bench") {
        RUNS
    } else {
        SMOKE_RUNS
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(FakeDstor::start()).expect("fake dStor");
    let cache = tempfile::tempdir().expect("temp dir");
    let url = server.base_url();
    let key = server.api_key().to_owned();

    let dstor = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dstor"));
        command
            .env_clear()
            .env("DSTOR_ENDPOINT", &url)
            .env("DSTOR_API_KEY", &key)
            .env("DSTOR_CACHE_DIR", cache.path())
            .args(args);
        command
    };

    let mut rows = Vec::new();
    let before = server.token_request_count();
    rows.push(("dstor token (fetch)", time(runs, || dstor(&["token"]))));
    assert_eq!(
        server.token_request_count() - before,
        runs + 1,
        "every run fetches"
    );

    run_ok(&mut dstor(&["token", "--cache"])); // prime the cache
    let before = server.token_request_count();
    let warm = time(runs, || dstor(&["token", "--cache"]));
    assert_eq!(
        server.token_request_count(),
        before,
        "a warm run made a request"
    );
    rows.push(("dstor token --cache (warm)", warm));

    // The floors: spawning a process that does nothing, and `dstor` doing no work.
    rows.push((
        "/bin/true (spawn floor)",
        time(runs, || Command::new("true")),
    ));
    rows.push(("dstor --version", time(runs, || dstor(&["--version"]))));

    let has_curl = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_curl {
        let curl = || {
            let exp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 3600;
            let mut command = Command::new("curl");
            command
                .args(["--silent", "--fail", "--location"])
                .arg(format!("{url}/v1/dev/temp-token"))
                .args(["--header", &format!("api-key: {key}")])
                .args(["--header", &format!("x-expiration: {exp}")]);
            command
        };
        rows.push(("curl (docs' command)", time(runs, curl)));
    } else {
        println!("note: curl is not installed; its row is skipped");
    }

    println!("{runs} runs each, wall time per run (process start to exit):");
    println!("{:<28} {:>10} {:>10}", "command", "mean", "median");
    for (name, stats) in &rows {
        println!("{name:<28} {:>10} {:>10}", ms(stats.mean), ms(stats.median));
    }
    let find = |wanted: &str| rows.iter().find(|(name, _)| name.starts_with(wanted));
    if let (Some((_, curl)), Some((_, warm))) = (find("curl"), find("dstor token --cache")) {
        println!(
            "curl / warm cache: {:.1}x (mean), {:.1}x (median)",
            curl.mean.as_secs_f64() / warm.mean.as_secs_f64(),
            curl.median.as_secs_f64() / warm.median.as_secs_f64()
        );
    }
    runtime.block_on(server.shutdown());
}

struct Stats {
    mean: Duration,
    median: Duration,
}

/// Runs the command made by `make` once to warm up, then `runs` times, timed.
fn time(runs: usize, make: impl Fn() -> Command) -> Stats {
    run_ok(&mut make());
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let mut command = make();
            command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            let start = Instant::now();
            let status = command.status().expect("the command runs");
            let elapsed = start.elapsed();
            assert!(status.success(), "{:?} failed", command.get_program());
            elapsed
        })
        .collect();
    samples.sort_unstable();
    let total: Duration = samples.iter().sum();
    Stats {
        mean: total / u32::try_from(runs).expect("a small count"),
        median: samples[runs / 2],
    }
}

fn run_ok(command: &mut Command) {
    if command.get_program() == "true" {
        assert!(command.status().expect("true runs").success());
        return;
    }
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the command runs");
    assert!(
        output.status.success(),
        "{:?} failed",
        command.get_program()
    );
    assert!(!output.stdout.is_empty());
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
