//! The upload soak: many small uploads and downloads-to-file through `dstor-storage` over
//! reqwest, against `dstor-mock`'s fake on loopback, with seeded random `StorageFault`s
//! queued before each round: an `ERROR` at any stage, a 5xx or a dropped connection on a
//! chunk, the upload token or a status poll, a 401 once, a slow status, wrong bytes from
//! the storage node. A fault not taken in its round stays queued for a later one.
//!
//! Checked: every file an upload reports verified is one the fake stored, under that
//! name and the CID of its bytes; every error is of a kind the faults explain and shows
//! no access or upload token; a failed download leaves nothing under its final name and
//! nothing beside it; no task is left once the handles and the fake are dropped.
//!
//! A few seconds of wall time by default; a larger run, for manual use:
//! `DSTOR_SOAK_ROUNDS=500 DSTOR_SOAK_SEED=7 cargo test -p dstor-tests --test integration
//! storage_soak -- --nocapture`.

#![allow(
    clippy::print_stdout,
    reason = "the soak prints its seed and counts, to replay a failure"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use dstor_auth::RetryPolicy;
use dstor_http::{DstorClient, ReqwestTransport};
use dstor_mock::{FakeDstor, StorageEndpoint, StorageFault};
use dstor_storage::{Storage, StorageError, Upload, WaitPolicy};
use dstor_types::{ApiKey, Cid};

/// The stages an `ERROR` may be reported at: the fake's four, and one it does not know.
const STAGES: [&str; 5] = [
    "UPLOADING",
    "ADDING_TO_IPFS",
    "SAVING_DATA",
    "DONE",
    "PINNING",
];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One random fault, aimed at one request of the upload flow or at the storage node.
fn draw_fault(rng: &mut fastrand::Rng) -> StorageFault {
    let endpoint = [
        StorageEndpoint::UploadToken,
        StorageEndpoint::Chunk,
        StorageEndpoint::Chunk,
        StorageEndpoint::Status,
    ][rng.usize(0..4)];
    match rng.u32(0..7) {
        0 => StorageFault::Error {
            stage: STAGES[rng.usize(0..STAGES.len())].to_owned(),
            explanation: "the soak's injected failure".to_owned(),
        },
        1 => StorageFault::Status {
            endpoint,
            code: [500, 502, 503][rng.usize(0..3)],
        },
        2 => StorageFault::DropConnection { endpoint },
        3 => StorageFault::Status {
            endpoint: StorageEndpoint::Any,
            code: 401,
        },
        4 => StorageFault::Delay {
            endpoint: StorageEndpoint::Status,
            delay: Duration::from_millis(rng.u64(5..60)),
        },
        _ => StorageFault::WrongBytes,
    }
}

/// A short name for how a call ended, for the tally and for "explained by the faults".
fn kind(error: &StorageError) -> &'static str {
    match error {
        StorageError::Transport { .. } => "transport",
        StorageError::Api { .. } => "api",
        StorageError::Auth(_) => "auth",
        StorageError::UploadFailed { .. } => "upload-failed",
        StorageError::DeadlinePassed { .. } => "deadline",
        StorageError::CidMismatch { .. } => "cid-mismatch",
        StorageError::NotServed { .. } => "not-served",
        _ => "unexplained",
    }
}

/// Every credential the fake saw: bearer tokens and upload tokens.
fn secrets_seen(fake: &FakeDstor) -> BTreeSet<String> {
    let mut secrets = BTreeSet::new();
    for request in fake.requests() {
        for name in ["authorization", "x-dstor-upload-token"] {
            if let Some(value) = request.headers.get(name).and_then(|v| v.to_str().ok()) {
                let value = value.strip_prefix("Bearer ").unwrap_or(value);
                secrets.insert(value.to_owned());
            }
        }
    }
    secrets
}

/// The names in `dir`.
fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn uploads_and_downloads_under_random_faults_claim_nothing_that_was_not_stored() {
    let rounds = env("DSTOR_SOAK_ROUNDS", 40);
    let seed = env("DSTOR_SOAK_SEED", 3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let alive = runtime.block_on(async move {
        let fake = FakeDstor::builder().start().await.unwrap();
        let client = DstorClient::builder()
            .endpoint(fake.base_url())
            .api_key(ApiKey::new(fake.api_key()).unwrap())
            .build()
            .unwrap();
        let transport = ReqwestTransport::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let storage = Storage::builder(transport, client.clone(), client.environment().base_url())
            .retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(10)),
            )
            .wait(
                WaitPolicy::default()
                    .with_interval(Duration::from_millis(2), Duration::from_millis(10))
                    .with_deadline(Duration::from_secs(5)),
            )
            .build()
            .expect("a loopback endpoint may carry a token");
        let dir = tempfile::tempdir().unwrap();
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut tally: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut kept = BTreeSet::new();
        let mut errors = Vec::new();
        let mut faults_queued = 0;

        for round in 0..rounds {
            if rng.u32(0..100) < 70 {
                for _ in 0..rng.usize(1..3) {
                    fake.push_storage_fault(draw_fault(&mut rng));
                    faults_queued += 1;
                }
            }
            let files: Vec<(String, Vec<u8>)> = (0..rng.usize(1..5))
                .map(|i| {
                    let len = [0, 1, 6, 100, 3000][rng.usize(0..5)];
                    let bytes = (0..len).map(|_| rng.u8(..)).collect();
                    (format!("r{round}/f{i}.bin"), bytes)
                })
                .collect();
            let mut upload = Upload::new().files_per_chunk(rng.usize(1..4));
            for (name, bytes) in &files {
                upload = upload.bytes(name.clone(), bytes.clone());
            }
            let report = match storage.upload(upload).await {
                Ok(report) => report,
                Err(error) => {
                    *tally.entry(kind(&error)).or_default() += 1;
                    errors.push(error);
                    continue;
                }
            };
            *tally.entry("uploaded").or_default() += 1;
            let stored = fake.stored_files();
            assert_eq!(report.files.len(), files.len());
            for (file, (name, bytes)) in report.files.iter().zip(&files) {
                assert_eq!(&file.name, name);
                assert_eq!(
                    file.local_cid,
                    Cid::of_bytes(bytes),
                    "the CID of the bytes sent"
                );
                assert!(file.verified, "{name}: the fake stores what it is sent");
                let cid = file.local_cid.to_string();
                assert!(
                    stored.iter().any(|s| &s.name == name && s.cid == cid),
                    "{name} reported stored as {cid}, which the fake never stored"
                );
            }
            // Read one file back, to a final name of its own.
            let (file, (_, bytes)) = report
                .files
                .iter()
                .zip(&files)
                .nth(rng.usize(0..files.len()))
                .unwrap();
            let target = dir.path().join(format!("copy-{round}"));
            match storage.download_to_file(&file.local_cid, &target).await {
                Ok(done) => {
                    assert_eq!(done.cid, file.local_cid);
                    assert_eq!(&std::fs::read(&target).unwrap(), bytes);
                    kept.insert(format!("copy-{round}"));
                    *tally.entry("downloaded").or_default() += 1;
                }
                Err(error) => {
                    assert!(!target.exists(), "a failed download left its final name");
                    *tally.entry(kind(&error)).or_default() += 1;
                    errors.push(error);
                }
            }
            assert_eq!(
                entries(dir.path()),
                kept,
                "only verified downloads are in the directory"
            );
        }
        // Content the fake never stored is not served, and leaves nothing behind.
        let absent = Cid::of_bytes(b"never uploaded by the soak");
        let target = dir.path().join("absent");
        let error = storage
            .download_to_file(&absent, &target)
            .await
            .unwrap_err();
        *tally.entry(kind(&error)).or_default() += 1;
        errors.push(error);
        assert_eq!(entries(dir.path()), kept);

        let secrets = secrets_seen(&fake);
        for error in &errors {
            let mut text = format!("{error} {error:?}");
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(&format!(" {cause}"));
                source = cause.source();
            }
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "an error shows a credential: {text}"
                );
            }
        }
        println!(
            "storage soak: seed {seed} rounds {rounds} faults queued {faults_queued} \
             (left untaken {}) stored files {} outcomes {tally:?}",
            fake.pending_storage_faults(),
            fake.stored_files().len(),
        );
        assert_eq!(
            tally.get("unexplained"),
            None,
            "every error is explained: {errors:?}"
        );
        for expected in [
            "uploaded",
            "downloaded",
            "upload-failed",
            "cid-mismatch",
            "not-served",
        ] {
            assert!(
                tally.contains_key(expected),
                "the run saw no {expected}: {tally:?}"
            );
        }
        assert!(
            tally.contains_key("transport") || tally.contains_key("api"),
            "the run saw no failed request: {tally:?}"
        );
        drop((storage, client, fake, dir));
        // Connections close as their handles go: give their tasks a moment to see it.
        let metrics = tokio::runtime::Handle::current().metrics();
        for _ in 0..10_000 {
            if metrics.num_alive_tasks() == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        metrics.num_alive_tasks()
    });
    assert_eq!(alive, 0, "no task is left behind");
}
