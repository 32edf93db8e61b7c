//! `dstor upload`, `dstor get` and `dstor cid` of one file, side by side in one run with
//! `curl -F file=@…` to the same fake endpoint, `curl -L -o` from the same gateway (alone,
//! and followed by `openssl dgst -sha256` of what it wrote, as a script checks a download),
//! and `openssl dgst -sha256`: wall time (median and fastest run) and peak memory (maximum
//! resident set, as `/usr/bin/time` reports it) of each process.
//!
//! `cargo bench -p dstor-cli --bench storage` uses a 1 GiB file (`DSTOR_BENCH_MIB` sets
//! another size, in MiB); each command runs `BENCH_RUNS` (12) times, ours and the baseline
//! taking turns. Under `cargo test --benches` it runs once on 8 MiB: a smoke test that the
//! benchmark works. It needs `/usr/bin/time`, `curl` and `openssl`. Standard error is captured, so
//! no progress bar is drawn, wherever it runs.
//!
//! The fake dStor runs in this process and does the same work for `dstor` and curl (it
//! parses the multipart body, hashes and spools the file; it serves it back from disk):
//! its CPU time per run is printed beside each row, to show whether it limits the run.
//! A last line gives the floor of a verified download on this machine, from the same run:
//! curl's CPU time, openssl's and the fake's, spread over the cores.
//!
//! `dstor upload` exits once dStor says `DONE`. The fake moves one phase per status poll,
//! so `dstor` sleeps through the backoff between its polls (250 ms, then 500 ms), which
//! curl's single POST never does. Those sleeps, found from the number of polls the fake
//! saw and the default backoff, are printed apart, and the upload is compared with curl
//! without them.

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

/// Runs a command under `/usr/bin/time`; the median of runs; the file moved (shared with
/// dstor-http's storage benchmark).
#[path = "../../dstor-http/benches/support/measure.rs"]
mod measure;

use std::process::Command;
use std::time::Duration;

use dstor_mock::FakeDstor;
use dstor_storage::WaitPolicy;
use measure::{
    Row, Run, clock_ticks, print_rows, row, timed, waits_as_runs, with_fake, without_waits,
    write_file,
};

fn main() {
    let (mib, runs) = measure::size_and_runs();
    if measure::missing(&["/usr/bin/time", "curl", "openssl"]) {
        return;
    }
    let rows = with_fake(|server| measure(server, mib, runs));
    print_rows(
        mib,
        runs,
        &rows,
        &[
            ("dstor upload, sent", "curl -F"),
            ("dstor get", "curl -L -o"),
            ("dstor get", "curl -L -o, then"),
            ("dstor cid", "openssl"),
        ],
    );
    print_floor(&rows);
}

/// An estimate of the least wall time a verified download can take on this machine, from
/// figures of the same run: it does curl's work (receive, write) and openssl's (one SHA-256
/// pass; openssl also reads the file back, so the estimate runs a little high), beside the
/// fake serving it, so it can go no faster than all that CPU time spread over every core,
/// nor than the hash alone on one, nor than curl.
fn print_floor(rows: &[Row]) {
    let find = |name: &str| rows.iter().find(|r| r.name == name);
    let (Some(curl), Some(openssl)) = (find("curl -L -o"), find("openssl dgst -sha256")) else {
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let work = (curl.cpu + curl.fake_cpu + openssl.cpu).as_secs_f64();
    let floor = (work / cores)
        .max(openssl.cpu.as_secs_f64())
        .max(curl.wall.as_secs_f64());
    println!(
        "a verified download's floor on this machine ({cores} cores), estimated: {floor:.3} s, \
         {:.2}x curl -L -o (curl's CPU + the fake's + openssl's, over the cores)",
        floor / curl.wall.as_secs_f64()
    );
}

/// Runs every command `runs` times against `server`, ours and the baseline taking turns.
fn measure(server: &FakeDstor, mib: u64, runs: usize) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("data.bin");
    write_file(&file, mib);
    let file_arg = file.to_str().expect("utf-8 path").to_owned();
    let url = server.base_url();
    let ticks = clock_ticks();
    let dstor = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dstor"));
        command
            .args(args)
            .env("DSTOR_ENDPOINT", &url)
            .env("DSTOR_API_KEY", server.api_key())
            .env_remove("DSTOR_CACHE_DIR");
        command
    };
    let token = output(dstor(&["token"]));

    let (mut ours, mut sleeps, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..runs {
        for which in measure::pair(round) {
            if which == 0 {
                let polls = server.status_request_count();
                ours.push(timed(dstor(&["upload", &file_arg]), ticks).0);
                sleeps.push(backoff(server.status_request_count() - polls));
                continue;
            }
            let curl = measure::curl_upload(&url, &token, &file_arg);
            theirs.push(timed(curl, ticks).0);
        }
    }
    let sent = without_waits(&ours, &sleeps);
    let sleeps = waits_as_runs(&sleeps);
    let mut rows = vec![
        row("dstor upload, to DONE", &ours),
        row("  of which status backoff", &sleeps),
        row("dstor upload, sent", &sent),
        row("curl -F file=@… (same endpoint)", &theirs),
    ];

    let cid = output(dstor(&["cid", &file_arg]));
    let cid = cid.split_whitespace().next().expect("a CID").to_owned();
    let out = dir.path().join("out.bin");
    let out_arg = out.to_str().expect("utf-8 path").to_owned();
    // Three commands take turns in the orders of `measure::order`: `dstor get`,
    // `curl -o` (which checks nothing), and what a script does to check what curl wrote:
    // `curl -o`, then a SHA-256 of the file (the work a CID check does, whole-file).
    let gateway = format!("{url}/ipfs/{cid}");
    let command = |which: usize| match which {
        0 => dstor(&["get", &cid, "-o", &out_arg]),
        1 => {
            let mut curl = Command::new("curl");
            curl.args(["-sSfL", "-o", &out_arg]).arg(&gateway);
            curl
        }
        _ => {
            let mut script = Command::new("sh");
            script
                .arg("-c")
                .arg(r#"curl -sSfL -o "$1" "$2" && openssl dgst -sha256 "$1" >/dev/null"#)
                .args(["sh", &out_arg, &gateway]);
            script
        }
    };
    measure::warm_up(&out, ticks, command);
    let mut times: [Vec<Run>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..runs {
        for which in measure::order(round) {
            let _ = std::fs::remove_file(&out);
            times[which].push(timed(command(which), ticks).0);
            if which == 0 {
                let copy = output(dstor(&["cid", &out_arg]));
                assert_eq!(copy.split_whitespace().next(), Some(cid.as_str()));
            }
        }
    }
    let [ours, theirs, checked] = times;
    rows.push(row("dstor get -o (verified)", &ours));
    rows.push(row("curl -L -o", &theirs));
    rows.push(row("curl -L -o, then openssl sha256", &checked));

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(timed(dstor(&["cid", &file_arg]), ticks).0);
        let mut openssl = Command::new("openssl");
        openssl.args(["dgst", "-sha256", &file_arg]);
        theirs.push(timed(openssl, ticks).0);
    }
    rows.push(row("dstor cid", &ours));
    rows.push(row("openssl dgst -sha256", &theirs));
    rows
}

/// The sleeps of `dstor upload` between `polls` status polls, by the default backoff.
fn backoff(polls: usize) -> Duration {
    let policy = WaitPolicy::default();
    (1..polls)
        .map(|poll| policy.interval(u32::try_from(poll).unwrap_or(u32::MAX)))
        .sum()
}

/// The trimmed standard output of a command that must succeed.
fn output(mut command: Command) -> String {
    let out = command.output().expect("runs");
    assert!(out.status.success(), "{:?} failed", command.get_program());
    String::from_utf8(out.stdout)
        .expect("text")
        .trim()
        .to_owned()
}
