//! Wall time per run of `dstor token` (fresh fetch), `dstor token --cache` (warm) and the
//! docs' curl command, each against an in-process fake dStor.
//!
//! `cargo bench -p dstor-cli --bench cli`. Under `cargo test --benches` (no `--bench`
//! argument) each command runs only a few times: a smoke test that the benchmark works.
//!
//! Run it with `-p dstor-cli`, as above: a build of the whole workspace merges in the
//! other packages' test dependencies (Tokio's multi-thread scheduler, hence libm), and
//! measures a `dstor` that is not the one `cargo install` builds. The first line printed
//! lists the shared libraries the measured binary loads.

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dstor_mock::FakeDstor;

/// Under `cargo bench`: rounds, and timed runs of each command per round.
const ROUNDS: usize = 10;
const BLOCK: usize = 20;

/// Under `cargo test --benches`: one round of a few runs.
const SMOKE_BLOCK: usize = 3;

fn main() {
    let (rounds, block) = if std::env::args().any(|arg| arg == "--bench") {
        (ROUNDS, BLOCK)
    } else {
        (1, SMOKE_BLOCK)
    };
    // One thread drives the fake service while this one runs the commands. A current-thread
    // runtime, as in the binary: with Tokio's multi-thread scheduler in this package's
    // build, the benchmarked `dstor` would link libm, which the shipped one does not.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(FakeDstor::start()).expect("fake dStor");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let rows = std::thread::scope(|scope| {
        scope.spawn(|| runtime.block_on(stopped));
        println!("dstor loads: {}", shared_libraries().join(", "));
        let rows = measure(&server, rounds, block);
        let _ = stop.send(());
        rows
    });
    runtime.block_on(server.shutdown());

    let runs = rounds * block;
    println!(
        "{runs} runs each ({rounds} rounds of {block}), wall time per run (process start to exit):"
    );
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
}

/// Runs every command `rounds * block` times against `server`: a row per command.
fn measure(server: &FakeDstor, rounds: usize, block: usize) -> Vec<(&'static str, Stats)> {
    let cache = tempfile::tempdir().expect("temp dir");
    let url = server.base_url();
    let key = server.api_key().to_owned();

    // The binary as it is installed: `cargo install` (like a package manager) copies it.
    // The linker's own output file, fresh in the page cache from a memory-mapped write,
    // starts ~0.1 ms slower on every run here until the kernel reads it back from disk.
    let bin = tempfile::tempdir().expect("temp dir");
    let installed = bin.path().join("dstor");
    std::fs::copy(env!("CARGO_BIN_EXE_dstor"), &installed).expect("copy of dstor");

    // Every command runs with an empty environment plus what it needs. (Under `cargo bench`
    // the inherited one holds a hundred variables, which cost curl ~0.3 ms a run here.)
    let dstor = |args: &[&str]| {
        let mut command = Command::new(&installed);
        command
            .env_clear()
            .env("DSTOR_ENDPOINT", &url)
            .env("DSTOR_API_KEY", &key)
            .env("DSTOR_CACHE_DIR", cache.path())
            .args(args);
        command
    };

    run_ok(&mut dstor(&["token", "--cache"])); // primes the cache
    // Every program by its full path, as `dstor` is: a search of PATH would count a
    // failed exec per directory before the right one against curl and true.
    let curl_path = on_path("curl");
    let true_path = on_path("true").expect("`true` is on PATH");
    let curl = |path: &Path| {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let mut command = Command::new(path);
        command
            .env_clear()
            .args(["--silent", "--fail", "--location"])
            .arg(format!("{url}/v1/dev/temp-token"))
            .args(["--header", &format!("api-key: {key}")])
            .args(["--header", &format!("x-expiration: {exp}")]);
        command
    };
    let mut commands: Vec<(&'static str, MakeCommand<'_>)> = vec![
        ("dstor token (fetch)", Box::new(|| dstor(&["token"]))),
        (
            "dstor token --cache (warm)",
            Box::new(|| dstor(&["token", "--cache"])),
        ),
        // The floors: spawning a process that does nothing, and `dstor` doing no work.
        (
            "true (spawn floor)",
            Box::new(|| {
                let mut command = Command::new(&true_path);
                command.env_clear();
                command
            }),
        ),
        ("dstor --version", Box::new(|| dstor(&["--version"]))),
    ];
    if let Some(path) = &curl_path {
        commands.push(("curl (docs' command)", Box::new(|| curl(path))));
    } else {
        println!("note: curl is not installed; its row is skipped");
    }
    // Each command once, untimed: it succeeds and prints something.
    for (_, make) in &commands {
        run_ok(&mut make());
    }

    // Each round runs every command in a block of consecutive runs, as a script that loops
    // over one command would; the rounds spread each command over the whole benchmark, so
    // that every row sees the same machine. The first run of a block is not timed: it
    // follows another command, whose after-effects (the fake service closing a connection,
    // the kernel tearing a process down) would be counted against it.
    let before = server.token_request_count();
    let mut samples = vec![Vec::with_capacity(rounds * block); commands.len()];
    for _ in 0..rounds {
        for ((_, make), times) in commands.iter().zip(&mut samples) {
            time_one(&mut make());
            times.extend((0..block).map(|_| time_one(&mut make())));
        }
    }
    assert_eq!(
        server.token_request_count() - before,
        rounds * (block + 1) * (1 + usize::from(curl_path.is_some())),
        "only the fetch and curl runs make requests: the warm runs are served from the cache"
    );
    commands
        .iter()
        .zip(samples)
        .map(|((name, _), times)| (*name, Stats::of(times)))
        .collect()
}

/// Makes the command of a row, afresh for each run.
type MakeCommand<'a> = Box<dyn Fn() -> Command + 'a>;

struct Stats {
    mean: Duration,
    median: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let total: Duration = samples.iter().sum();
        Self {
            mean: total / u32::try_from(samples.len()).expect("a small count"),
            median: samples[samples.len() / 2],
        }
    }
}

/// The wall time of one run of `command`, which must succeed.
fn time_one(command: &mut Command) -> Duration {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let start = Instant::now();
    let status = command.status().expect("the command runs");
    let elapsed = start.elapsed();
    assert!(status.success(), "{:?} failed", command.get_program());
    elapsed
}

/// The shared libraries that a running `dstor serve-fake` has mapped (on Linux).
fn shared_libraries() -> Vec<String> {
    use std::io::{BufRead as _, BufReader};
    // The service spools into a directory of ours, removed with it even though the
    // service is killed.
    let spool = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dstor"))
        .args(["serve-fake", "--port", "0"])
        .env_clear()
        .env("TMPDIR", spool.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dstor serve-fake runs");
    // Its second line (the key) is printed once it is serving: everything is mapped.
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let _ = (lines.next(), lines.next());
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", child.id()));
    let _ = child.kill();
    let _ = child.wait();
    let Ok(maps) = maps else {
        return vec!["(unknown: no /proc)".to_owned()];
    };
    let mut libraries: Vec<String> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter_map(|path| Path::new(path).file_name()?.to_str())
        .filter(|name| name.contains(".so"))
        .map(str::to_owned)
        .collect();
    libraries.sort();
    libraries.dedup();
    libraries
}

/// The first file named `name` in a directory of PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn run_ok(command: &mut Command) {
    if Path::new(command.get_program()).ends_with("true") {
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
