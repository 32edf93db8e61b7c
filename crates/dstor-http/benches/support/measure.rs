//! What both storage benchmarks (dstor-http's and dstor-cli's) measure a command with:
//! a run under `/usr/bin/time` (wall time, peak memory, CPU time, and the in-process fake's
//! CPU time), the median of several runs, and the file they move. `dstor-cli`'s benchmark
//! includes this file by path.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dstor_mock::FakeDstor;

/// What the machine's memory does to a run, and what the benchmarks do about it.
#[path = "memory.rs"]
mod memory;

/// How many times `cargo bench` runs each command: enough for a median that a stray slow
/// run does not move, and for commands that take turns (two or three of them) to hold each
/// place equally often.
pub(crate) const BENCH_RUNS: usize = 12;

/// One measured command: the median and the fastest wall time, the largest peak RSS (KiB),
/// and the median CPU times per run.
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) wall: Duration,
    pub(crate) fastest: Duration,
    /// Every run's wall time, in the order run.
    pub(crate) walls: Vec<Duration>,
    pub(crate) peak_kib: u64,
    pub(crate) cpu: Duration,
    pub(crate) fake_cpu: Duration,
}

pub(crate) fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// One run of a command.
#[derive(Clone, Copy)]
pub(crate) struct Run {
    pub(crate) wall: Duration,
    pub(crate) peak_kib: u64,
    /// The command's own CPU time (user and system).
    pub(crate) cpu: Duration,
    pub(crate) fake_cpu: Duration,
}

/// The median and fastest wall time, the median CPU times, and the largest peak, of `runs`.
pub(crate) fn row(name: &str, runs: &[Run]) -> Row {
    let median = |mut values: Vec<Duration>| {
        values.sort();
        values[values.len() / 2]
    };
    Row {
        name: name.to_owned(),
        wall: median(runs.iter().map(|r| r.wall).collect()),
        fastest: runs.iter().map(|r| r.wall).min().unwrap_or_default(),
        walls: runs.iter().map(|r| r.wall).collect(),
        peak_kib: runs.iter().map(|r| r.peak_kib).max().unwrap_or(0),
        cpu: median(runs.iter().map(|r| r.cpu).collect()),
        fake_cpu: median(runs.iter().map(|r| r.fake_cpu).collect()),
    }
}

/// What a storage benchmark runs: under `cargo bench` (`--bench` among the arguments) a
/// 1 GiB file (`DSTOR_BENCH_MIB` sets another size) and [`BENCH_RUNS`] runs a command;
/// else, as a smoke test, 8 MiB once.
pub(crate) fn size_and_runs() -> (u64, usize) {
    let bench = std::env::args().any(|arg| arg == "--bench");
    let mib = std::env::var("DSTOR_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { 1024 } else { 8 });
    let runs = if bench { BENCH_RUNS } else { 1 };
    if bench {
        memory::warn_if_short(mib);
        memory::note_page_reporting();
        memory::warm_before_each_run(mib);
    }
    (mib, runs)
}

/// Whether one of `tools` cannot be run (the first such is named on standard output).
pub(crate) fn missing(tools: &[&str]) -> bool {
    let missing = tools
        .iter()
        .find(|tool| Command::new(tool).arg("--version").output().is_err());
    if let Some(tool) = missing {
        println!("note: {tool} is not installed; skipping the storage benchmark");
    }
    missing.is_some()
}

/// The order three commands run in, round `round`: the six orders in turn. Over six rounds
/// each command runs twice in each place, never twice in a row, and right after each other
/// command three times: what ran just before a run was seen to change its time (a run right
/// after curl's took twice the CPU, whichever client it was), and a plain rotation puts the
/// same command before each one every time.
pub(crate) fn order(round: usize) -> [usize; 3] {
    const ORDERS: [[usize; 3]; 6] = [
        [0, 1, 2],
        [1, 0, 2],
        [0, 2, 1],
        [2, 1, 0],
        [1, 2, 0],
        [2, 0, 1],
    ];
    ORDERS[round % ORDERS.len()]
}

/// Runs the three download commands `command(0..3)` once each, uncounted, `out` removed
/// before each, so that no counted run is the first download after the upload phase. It
/// ends with command 1, so that round 0 of [`order`], which starts with command 0, does
/// not add a seventh run of command 0 right after command 2.
pub(crate) fn warm_up(out: &Path, ticks: f64, command: impl Fn(usize) -> Command) {
    for which in order(2) {
        let _ = std::fs::remove_file(out);
        timed(command(which), ticks);
    }
}

/// `curl -F file=@<file>` of one chunk to the fake at `url`, with the access token `token`
/// and an upload token asked for beforehand (so that the command is the upload alone).
pub(crate) fn curl_upload(url: &str, token: &str, file: &str) -> Command {
    let upload_token = upload_token(url, token);
    let mut curl = Command::new("curl");
    curl.args(["-sSf", "-o", "/dev/null"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", &format!("x-dstor-upload-token: {upload_token}")])
        .args(["-F", &format!("file=@{file}")])
        .arg(format!("{url}/v1/upload/"));
    curl
}

/// An upload token for one chunk, asked with curl.
fn upload_token(url: &str, token: &str) -> String {
    let output = Command::new("curl")
        .args(["-sSf", "-X", "POST"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", "Content-Type: application/json"])
        .args(["-d", r#"{"chunks_number":1,"folder_path":"/"}"#])
        .arg(format!("{url}/v1/upload/get-token/"))
        .output()
        .expect("curl runs");
    assert!(output.status.success(), "get-token failed");
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    body["token"].as_str().expect("an upload token").to_owned()
}

/// The order two commands run in, round `round`: each goes first every other round, so
/// that neither always runs right after the other (see [`order`]).
pub(crate) fn pair(round: usize) -> [usize; 2] {
    if round.is_multiple_of(2) {
        [0, 1]
    } else {
        [1, 0]
    }
}

/// `runs` with `waits[i]` taken off the wall time of run `i`.
pub(crate) fn without_waits(runs: &[Run], waits: &[Duration]) -> Vec<Run> {
    runs.iter()
        .zip(waits)
        .map(|(run, wait)| Run {
            wall: run.wall.saturating_sub(*wait),
            ..*run
        })
        .collect()
}

/// `waits` as runs of their own (wall time only), to print them as a row.
pub(crate) fn waits_as_runs(waits: &[Duration]) -> Vec<Run> {
    waits
        .iter()
        .map(|&wall| Run {
            wall,
            peak_kib: 0,
            cpu: Duration::ZERO,
            fake_cpu: Duration::ZERO,
        })
        .collect()
}

/// Runs `command` once under `/usr/bin/time`, which must succeed: the run, and its
/// standard output. The wall time is measured here (finer than `time`'s 10 ms); the fake's
/// CPU time is this process's over the run (its other threads are idle meanwhile).
pub(crate) fn timed(command: Command, ticks: f64) -> (Run, String) {
    // Every run starts with no dirty pages queued for the disk (the last run's writeback
    // would otherwise slow whichever command runs next), and with host-backed free pages.
    let _ = Command::new("sync").status();
    memory::warm_free_pages();
    let report = tempfile::NamedTempFile::new().expect("temp file");
    let mut time = Command::new("/usr/bin/time");
    time.args(["-f", "%M %U %S", "-o"])
        .arg(report.path())
        .arg(command.get_program())
        .args(command.get_args())
        .envs(command.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .stderr(Stdio::piped());
    let cpu = own_cpu_ticks();
    let started = Instant::now();
    let output = time.output().expect("runs");
    let wall = started.elapsed();
    let fake_cpu = Duration::from_secs_f64((own_cpu_ticks() - cpu) as f64 / ticks);
    // The program only: the arguments and environment hold credentials.
    assert!(
        output.status.success(),
        "{:?} failed: {}",
        command.get_program(),
        String::from_utf8_lossy(&output.stderr)
    );
    let (peak_kib, cpu) = time_report(report.path());
    let stdout = String::from_utf8(output.stdout).expect("text");
    (
        Run {
            wall,
            peak_kib,
            cpu,
            fake_cpu,
        },
        stdout,
    )
}

/// The peak RSS (KiB) and CPU time (user and system) in a report of `time -f "%M %U %S"`.
pub(crate) fn time_report(path: &Path) -> (u64, Duration) {
    let text = std::fs::read_to_string(path).expect("time's report");
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [peak, user, system] = fields[..] else {
        panic!("time's report is {text:?}");
    };
    let seconds = |f: &str| f.parse::<f64>().expect("seconds");
    let cpu = Duration::from_secs_f64(seconds(user) + seconds(system));
    (peak.parse().expect("peak RSS"), cpu)
}

/// This process's user and system CPU time so far, in clock ticks (Linux; 0 elsewhere).
pub(crate) fn own_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses: utime and stime are the
    // 14th and 15th fields of the line, the 12th and 13th after the name.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum()
}

/// Clock ticks per second, as `getconf CLK_TCK` says (100 if it cannot).
pub(crate) fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Writes `mib` MiB of pseudo-random bytes (xorshift: no block repeats, so no
/// deduplication helps anyone).
pub(crate) fn write_file(path: &Path, mib: u64) {
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

/// The issue's targets: wall time against the baseline's, and peak memory.
const MAX_RATIO: f64 = 1.25;
const MAX_PEAK_MIB: f64 = 40.0;

/// The table of `rows` (after a warning when `runs` is a smoke test's), then each pair `(ours, baseline)` of `pairs` (rows found by the
/// start of their names) against the targets.
pub(crate) fn print_rows(mib: u64, runs: usize, rows: &[Row], pairs: &[(&str, &str)]) {
    if runs < BENCH_RUNS {
        println!(
            "smoke test (not `cargo bench`): the figures of an unoptimized build mean nothing"
        );
    }
    println!("{mib} MiB file, {runs} run(s) each, ours and the baseline in turn:");
    println!(
        "{:<34} {:>9} {:>9} {:>12} {:>9} {:>12}  each run (s)",
        "command", "wall", "fastest", "peak RSS", "CPU", "fake's CPU"
    );
    for row in rows {
        let rss = if row.peak_kib == 0 {
            String::new()
        } else {
            format!("{:.1} MiB", row.peak_kib as f64 / 1024.0)
        };
        let each: Vec<String> = row
            .walls
            .iter()
            .map(|wall| format!("{:.2}", wall.as_secs_f64()))
            .collect();
        println!(
            "{:<34} {:>7.3} s {:>7.3} s {rss:>12} {:>7.3} s {:>10.3} s  {}",
            row.name,
            row.wall.as_secs_f64(),
            row.fastest.as_secs_f64(),
            row.cpu.as_secs_f64(),
            row.fake_cpu.as_secs_f64(),
            each.join(" ")
        );
    }
    let find = |name: &str| rows.iter().find(|r| r.name.starts_with(name));
    for &(ours, theirs) in pairs {
        if let (Some(a), Some(b)) = (find(ours), find(theirs)) {
            let ratio = a.wall.as_secs_f64() / b.wall.as_secs_f64();
            let best = a.fastest.as_secs_f64() / b.fastest.as_secs_f64();
            let peak = a.peak_kib as f64 / 1024.0;
            println!(
                "{ours} / {theirs}: {ratio:.2}x median wall, {best:.2}x fastest \
                 (target <= {MAX_RATIO}x: {} by median, {} by fastest), \
                 peak {peak:.1} MiB (target <= {MAX_PEAK_MIB} MiB: {})",
                verdict(ratio <= MAX_RATIO),
                verdict(best <= MAX_RATIO),
                verdict(peak <= MAX_PEAK_MIB)
            );
        }
    }
}

/// Runs `work` against a fake dStor served from a thread of its own, as a server would be
/// (this thread runs the clients), and shuts the fake down after.
pub(crate) fn with_fake<T: Send>(work: impl FnOnce(&FakeDstor) -> T + Send) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(FakeDstor::start()).expect("fake dStor");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let result = std::thread::scope(|scope| {
        scope.spawn(|| runtime.block_on(stopped));
        let result = work(&server);
        let _ = stop.send(());
        result
    });
    runtime.block_on(server.shutdown());
    result
}
