//! An upload and a verified download of one file through `DstorClient`, side by side in one
//! run with `curl -F file=@…` posting the same file to the same fake endpoint and `curl -L -o`
//! reading it from the same gateway (into a file with `download_to_file`, and through
//! `download_to_writer` into a `tokio::fs::File`): wall time (median and fastest run) and
//! peak memory (maximum resident set, as `/usr/bin/time` reports it) of each process. The
//! client runs in a child process (this benchmark run again with `__child`), so that its
//! peak memory is its own.
//!
//! `cargo bench -p dstor-http --bench storage` uses a 1 GiB file (`DSTOR_BENCH_MIB` sets
//! another size, in MiB); each command runs `BENCH_RUNS` (12) times, ours and curl's taking
//! turns. Under `cargo test --benches` it runs once on 8 MiB: a smoke test that the
//! benchmark works. It needs `/usr/bin/time` and `curl`.
//!
//! The fake dStor runs in this process and does the same work for both clients (it parses
//! the multipart body, hashes and spools the file; it serves it back from disk): its CPU time
//! per run is printed beside each row, to show whether it is what limits the run.
//!
//! `DstorClient::upload` returns once dStor says `DONE`. The fake moves one phase per status
//! poll, so the client waits out two backoff intervals (250 ms, then 500 ms) that curl's
//! single POST never does; that wait is measured inside the child and printed apart, and the
//! upload is compared with curl without it.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark prints its figures"
)]

/// Runs a command under `/usr/bin/time`; the median of runs; the file moved.
#[path = "support/measure.rs"]
mod measure;

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dstor_http::{Cid, DstorClient, Progress, Upload};
use dstor_mock::FakeDstor;
use measure::{
    Row, Run, clock_ticks, print_rows, row, timed, waits_as_runs, with_fake, without_waits,
    write_file,
};

/// The first argument of the child process, then the operation and its operands.
const CHILD: &str = "__child";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(CHILD) {
        return child(&args[2..]);
    }
    let (mib, runs) = measure::size_and_runs();
    if measure::missing(&["/usr/bin/time", "curl"]) {
        return ExitCode::SUCCESS;
    }
    let rows = with_fake(|server| measure(server, mib, runs));
    print_rows(
        mib,
        runs,
        &rows,
        &[
            ("DstorClient::upload, sent", "curl -F"),
            ("DstorClient::download_to_file", "curl -L"),
            ("DstorClient::download_to_writer", "curl -L"),
        ],
    );
    ExitCode::SUCCESS
}

/// Runs every command `runs` times against `server`, ours and curl's taking turns.
fn measure(server: &FakeDstor, mib: u64, runs: usize) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("data.bin");
    write_file(&file, mib);
    let file_arg = file.to_str().expect("utf-8 path").to_owned();
    let url = server.base_url();
    let ticks = clock_ticks();
    let client = |operands: &[&str]| {
        let mut command = Command::new(std::env::current_exe().expect("this benchmark"));
        command
            .arg(CHILD)
            .args(operands)
            .env("DSTOR_ENDPOINT", &url)
            .env("DSTOR_API_KEY", server.api_key());
        command
    };
    let token = access_token(server);

    // The upload: the child prints how long it waited for `DONE` after the chunk was sent.
    let mut ours = Vec::new();
    let mut waits = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..runs {
        for which in measure::pair(round) {
            if which == 0 {
                let (run, out) = timed(client(&["upload", &file_arg]), ticks);
                let wait: f64 = out.trim().parse().expect("the child's wait for DONE");
                waits.push(Duration::from_secs_f64(wait));
                ours.push(run);
                continue;
            }
            let curl = measure::curl_upload(&url, &token, &file_arg);
            theirs.push(timed(curl, ticks).0);
        }
    }
    let sent = without_waits(&ours, &waits);
    let mut rows = vec![
        row("DstorClient::upload, to DONE", &ours),
        row("  of which waiting for DONE", &waits_as_runs(&waits)),
        row("DstorClient::upload, sent", &sent),
        row("curl -F file=@… (same endpoint)", &theirs),
    ];

    // The download, to a file, verified against the CID.
    let cid = cid_of(&file).to_string();
    let out = dir.path().join("out.bin");
    let out_arg = out.to_str().expect("utf-8 path").to_owned();
    // The three take turns in the orders of `measure::order`.
    let command = |which: usize| match which {
        0 => client(&["download", &cid, &out_arg]),
        1 => client(&["download-to-writer", &cid, &out_arg]),
        _ => {
            let mut curl = Command::new("curl");
            curl.args(["-sSfL", "-o", &out_arg])
                .arg(format!("{url}/ipfs/{cid}"));
            curl
        }
    };
    measure::warm_up(&out, ticks, command);
    let mut times: [Vec<Run>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..runs {
        for which in measure::order(round) {
            let _ = std::fs::remove_file(&out);
            times[which].push(timed(command(which), ticks).0);
            if which == 0 {
                assert_eq!(cid_of(&out).to_string(), cid, "the download is the file");
            }
        }
    }
    let [ours, writer, theirs] = times;
    rows.push(row("DstorClient::download_to_file", &ours));
    rows.push(row("DstorClient::download_to_writer", &writer));
    rows.push(row("curl -L -o", &theirs));
    rows
}

/// An access token from the fake, through a client like the child's.
fn access_token(server: &FakeDstor) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = client_of(&server.base_url(), server.api_key());
        let token = client.token().await.expect("an access token");
        token.expose_secret().to_owned()
    })
}

fn client_of(url: &str, key: &str) -> DstorClient {
    DstorClient::builder()
        .endpoint(url)
        .api_key(dstor_http::ApiKey::new(key).expect("key"))
        .build()
        .expect("client")
}

/// The CID of the file at `path`, read in 1 MiB blocks.
fn cid_of(path: &Path) -> Cid {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).expect("file");
    let mut builder = dstor_types::CidBuilder::new();
    let mut block = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut block).expect("read") {
            0 => return builder.finish(),
            n => builder.update(&block[..n]),
        }
    }
}

/// The child: one upload or download through a `DstorClient` configured from the
/// environment, as a program using the SDK would be. An upload prints how long it waited
/// for `DONE` after its chunk was accepted, in seconds.
fn child(args: &[String]) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = runtime.block_on(async {
        let client = DstorClient::from_env()?;
        match args {
            [op, path] if op == "upload" => {
                let accepted = Arc::new(Mutex::new(None));
                let upload = Upload::new().file(path).on_progress({
                    let accepted = Arc::clone(&accepted);
                    move |event| {
                        if let Progress::ChunkSent { .. } = event {
                            *accepted.lock().expect("lock") = Some(Instant::now());
                        }
                    }
                });
                client.upload(upload).await?.into_verified()?;
                let accepted = accepted.lock().expect("lock").ok_or("no chunk was sent")?;
                println!("{}", accepted.elapsed().as_secs_f64());
                Ok(())
            }
            [op, cid, path] if op == "download" => {
                let cid: Cid = cid.parse()?;
                client.download_to_file(&cid, path).await?;
                Ok(())
            }
            // The same bytes, verified, through the writer API into a plain file.
            [op, cid, path] if op == "download-to-writer" => {
                let cid: Cid = cid.parse()?;
                let mut file = tokio::fs::File::create(path).await?;
                client.download_to_writer(&cid, &mut file).await?;
                tokio::io::AsyncWriteExt::flush(&mut file).await?;
                Ok(())
            }
            _ => Err::<(), Box<dyn std::error::Error>>("usage: __child upload|download …".into()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storage bench child: {e}");
            ExitCode::FAILURE
        }
    }
}
