use std::sync::Mutex;

use futures_util::StreamExt as _;

use super::*;
use crate::Upload;

/// Records what a body reports.
#[derive(Default)]
struct Log {
    events: Mutex<Vec<String>>,
    failed: Mutex<Vec<StorageError>>,
}

impl Observer for Log {
    fn start(&self, file: &PlannedFile) {
        self.events
            .lock()
            .unwrap()
            .push(format!("start {}", file.name.as_str()));
    }
    fn data(&self, file: &PlannedFile, data: &[u8], sent: u64) {
        self.events.lock().unwrap().push(format!(
            "data {} +{} ={sent}",
            file.name.as_str(),
            data.len()
        ));
    }
    fn failed(&self, error: StorageError) {
        self.failed.lock().unwrap().push(error);
    }
}

async fn body_of(upload: Upload) -> (ChunkBody, Arc<Log>) {
    let plan = upload.plan().await.unwrap();
    let log = Arc::new(Log::default());
    let files = plan.chunks.into_iter().next().unwrap();
    (ChunkBody::new(files, log.clone()), log)
}

async fn collect(body: &ChunkBody) -> Result<Vec<u8>, io::Error> {
    let mut out = Vec::new();
    let mut stream = std::pin::pin!(body.stream());
    while let Some(frame) = stream.next().await {
        out.extend_from_slice(&frame?);
    }
    Ok(out)
}

#[tokio::test]
async fn the_body_is_multipart_form_data_of_every_file_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.txt");
    std::fs::write(&path, b"from disk").unwrap();
    let (body, log) = body_of(Upload::new().bytes("a.txt", "hello\n").file(&path).reader(
        "dir/r.bin",
        3,
        &b"xyz"[..],
    ))
    .await;
    let b = body.multipart().boundary().to_owned();
    let part = |name: &str, data: &str| {
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n{data}\r\n"
        )
    };
    let expected = format!(
        "{}{}{}--{b}--\r\n",
        part("a.txt", "hello\n"),
        part("disk.txt", "from disk"),
        part("dir/r.bin", "xyz")
    );
    let got = collect(&body).await.unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), expected);
    assert_eq!(body.content_length(), expected.len() as u64);
    assert!(!body.replayable(), "a reader is read once");
    assert_eq!(
        *log.events.lock().unwrap(),
        [
            "start a.txt",
            "data a.txt +6 =6",
            "start disk.txt",
            "data disk.txt +9 =9",
            "start dir/r.bin",
            "data dir/r.bin +3 =3"
        ]
    );
    assert!(log.failed.lock().unwrap().is_empty());
}

#[tokio::test]
async fn files_are_read_in_blocks_and_read_again_on_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let data: Vec<u8> = (0..BLOCK * 2 + 10).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let (body, log) = body_of(Upload::new().file(&path).bytes("empty", "")).await;
    assert!(body.replayable());
    let first = collect(&body).await.unwrap();
    let second = collect(&body).await.unwrap();
    assert_eq!(
        first, second,
        "a replay reopens the file and sends the same bytes"
    );
    assert_eq!(first.len() as u64, body.content_length());
    assert!(first.windows(data.len()).any(|w| w == data.as_slice()));
    let events = log.events.lock().unwrap();
    let one_pass = [
        "start big.bin".to_owned(),
        format!("data big.bin +{BLOCK} ={BLOCK}"),
        format!("data big.bin +{BLOCK} ={}", 2 * BLOCK),
        format!("data big.bin +10 ={}", 2 * BLOCK + 10),
        "start empty".to_owned(),
    ];
    assert_eq!(events[..5], one_pass);
    assert_eq!(events[5..], one_pass, "the replay starts every file over");
}

#[tokio::test]
async fn a_reader_is_not_sent_twice() {
    let (body, log) = body_of(Upload::new().reader("r", 2, &b"ab"[..])).await;
    collect(&body).await.unwrap();
    let err = collect(&body).await.unwrap_err();
    assert!(err.to_string().contains("\"r\" could not be read"), "{err}");
    let failed = log.failed.lock().unwrap();
    assert!(
        matches!(&failed[..], [StorageError::Read { name, reason, .. }] if name == "r" && reason.contains("already read")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_source_shorter_or_longer_than_declared_fails_the_body() {
    for (declared, data, says) in [
        (5, &b"abc"[..], "ended after 3 of the 5"),
        (2, &b"abc"[..], "more than the 2 bytes"),
    ] {
        let (body, log) = body_of(Upload::new().reader("r", declared, data)).await;
        collect(&body).await.unwrap_err();
        let failed = log.failed.lock().unwrap();
        let message = failed[0].to_string();
        assert!(message.contains(says), "{message}");
    }
}

#[tokio::test]
async fn a_file_that_changes_after_the_plan_fails_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    for (planned, sent, says) in [
        (&b"0123456789"[..], &b"0123"[..], "ended after 4 of the 10"),
        (&b"0123"[..], &b"0123456789"[..], "more than the 4 bytes"),
    ] {
        std::fs::write(&path, planned).unwrap();
        let (body, log) = body_of(Upload::new().file(&path)).await;
        std::fs::write(&path, sent).unwrap();
        collect(&body).await.unwrap_err();
        let message = log.failed.lock().unwrap()[0].to_string();
        assert!(message.contains(says), "{message}");
        std::fs::remove_file(&path).unwrap();
        collect(&body).await.unwrap_err();
        let message = log.failed.lock().unwrap()[1].to_string();
        assert!(message.contains("could not be opened again"), "{message}");
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_file_that_cannot_be_read_fails_the_body_with_the_systems_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, b"0123456789").unwrap();
    let (body, log) = body_of(Upload::new().file(&path)).await;
    // A directory opens on Linux, and its first read fails.
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let err = collect(&body).await.unwrap_err();
    assert!(err.to_string().contains("\"f\" could not be read"), "{err}");
    let failed = log.failed.lock().unwrap();
    assert!(
        matches!(
            &failed[..],
            [StorageError::Read { name, reason, source: Some(source) }]
                if name == "f" && reason == "reading failed"
                    && source.kind() == io::ErrorKind::IsADirectory
        ),
        "{failed:?}"
    );
}
