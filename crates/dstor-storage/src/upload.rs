//! The upload flow: an upload token, one multipart request per chunk, then the status.

use std::sync::{Arc, Mutex};

use dstor_auth::{Body, TransportErrorKind};
use dstor_types::{
    ChunkRequest, Cid, CidBuilder, StatusRequest, StoredFile, UploadApiError, UploadStatus,
    UploadToken, UploadTokenRequest,
};
use http::Request;

use crate::error::from_transport;
use crate::multipart::{ChunkBody, Observer};
use crate::plan::{Plan, PlannedFile};
use crate::progress::{Progress, ProgressFn};
use crate::report::{UploadReport, UploadedFile};
use crate::retry::with_retries;
use crate::storage::Inner;
use crate::wait::{Step, Stopped, wait};
use crate::{Stage, StorageError};

/// The most bytes of a chunk's answer read (it is not used beyond its status).
const MAX_CHUNK_ANSWER: usize = 64 * 1024;

/// The most bytes of an upload-token answer read: a message and a token.
const MAX_TOKEN_ANSWER: usize = 64 * 1024;

/// The room a status answer has besides its files: the status, dStor's explanation of an
/// `ERROR`, fields this SDK does not know.
const STATUS_ANSWER_BASE: usize = 64 * 1024;

/// The room each file has in a `DONE` status besides its name: its `Hash` (46 characters),
/// the JSON around it, fields this SDK does not know.
const STATUS_ANSWER_PER_FILE: usize = 1024;

/// The most bytes of a status answer read for the files of `plan`: a `DONE` status lists
/// every file, so the bound grows with their number and their names (each escaped in full,
/// six bytes a byte at worst).
fn max_status_answer(plan: &Plan) -> usize {
    plan.files.iter().fold(STATUS_ANSWER_BASE, |sum, file| {
        sum.saturating_add(STATUS_ANSWER_PER_FILE)
            .saturating_add(file.name.as_str().len().saturating_mul(6))
    })
}

impl Inner {
    /// Runs the whole upload of `plan`.
    pub(crate) async fn upload(&self, plan: Plan) -> Result<UploadReport, StorageError> {
        let tracker = Arc::new(Tracker::new(&plan));
        let invalid = |source| StorageError::InvalidUpload { source };
        let chunks_number = u32::try_from(plan.chunks_number()).unwrap_or(u32::MAX);
        let exchange = UploadTokenRequest::new(self.base.clone(), chunks_number)
            .and_then(|r| r.folder_path(&plan.folder_path))
            .map_err(invalid)?;
        let token = with_retries(&self.retry, StorageError::is_retryable, || async {
            let request = exchange.to_http().map_err(invalid)?;
            let response = self
                .read_answer(Stage::UploadToken, request, MAX_TOKEN_ANSWER)
                .await?;
            exchange
                .parse_response(&response)
                .map_err(|source| StorageError::Api {
                    stage: Stage::UploadToken,
                    source,
                })
        })
        .await?;
        let chunks = plan.chunks_number();
        for (i, files) in plan.chunks.iter().enumerate() {
            let body = Arc::new(ChunkBody::new(files.clone(), tracker.clone()));
            self.send_chunk(&plan, &token, i + 1, &body, &tracker)
                .await?;
            tracker.finish(files, i + 1)?;
            plan.emit(&Progress::ChunkSent {
                chunk: i + 1,
                chunks,
            });
        }
        let stored = self.wait_stored(&plan, &token, &tracker).await?;
        plan.emit(&Progress::Status {
            phase: "DONE".to_owned(),
        });
        Ok(tracker.report(&plan, stored))
    }

    /// Sends the API request of `stage` and reads its answer, `limit` bytes at most: a
    /// bound that fits the kind of answer, not the transport's bound for any answer.
    async fn read_answer(
        &self,
        stage: Stage,
        request: Request<Vec<u8>>,
        limit: usize,
    ) -> Result<http::Response<bytes::Bytes>, StorageError> {
        let response = self
            .api
            .send_streaming(request.map(Body::from))
            .await
            .map_err(|source| from_transport(stage, source))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect(limit)
            .await
            .map_err(|source| from_transport(stage, source))?;
        Ok(http::Response::from_parts(parts, body))
    }

    /// Sends one chunk: again only when the connection could not be made (the chunk then
    /// provably never reached dStor); a 401 is the authorized transport's to answer.
    async fn send_chunk(
        &self,
        plan: &Plan,
        token: &UploadToken,
        chunk: usize,
        body: &Arc<ChunkBody>,
        tracker: &Tracker,
    ) -> Result<(), StorageError> {
        let stage = Stage::Chunk(chunk);
        let never_sent = |e: &StorageError| {
            matches!(e, StorageError::Transport { source, .. }
                if source.kind() == TransportErrorKind::Connect)
        };
        with_retries(&self.retry, never_sent, || async {
            let request = self.chunk_request(plan, token, body)?;
            let response = match self.api.send_streaming(request.0).await {
                Ok(response) => response,
                Err(source) => {
                    return Err(tracker
                        .take_failure()
                        .unwrap_or_else(|| from_transport(stage, source)));
                }
            };
            let (parts, answer) = response.into_parts();
            // Read (a bounded part of) the answer, so the connection can be reused.
            let answer = answer.collect(MAX_CHUNK_ANSWER).await.unwrap_or_default();
            match request
                .1
                .parse_response(&http::Response::from_parts(parts, answer))
            {
                Ok(()) => Ok(()),
                Err(UploadApiError::TooLarge) => Err(StorageError::TooLarge {
                    chunk,
                    bytes: body.content_length(),
                }),
                Err(source) => Err(StorageError::Api { stage, source }),
            }
        })
        .await
    }

    /// The request of one chunk, with its body (replayable unless a file is a reader).
    fn chunk_request(
        &self,
        plan: &Plan,
        token: &UploadToken,
        body: &Arc<ChunkBody>,
    ) -> Result<(Request<Body>, ChunkRequest), StorageError> {
        let invalid = |source| StorageError::InvalidUpload { source };
        let mut chunk =
            ChunkRequest::new(self.base.clone(), token.clone(), body.multipart().clone());
        if let Some(comment) = &plan.comment {
            chunk = chunk.comment(comment).map_err(invalid)?;
        }
        let len = body.content_length();
        let make = {
            let body = Arc::clone(body);
            move || Body::from_sized_stream(len, body.stream())
        };
        let payload = if body.replayable() {
            Body::replayable(make)
        } else {
            make()
        };
        let request = chunk.to_http(payload, Some(len)).map_err(invalid)?;
        Ok((request, chunk))
    }

    /// Polls the status until dStor says the upload is stored or failed.
    async fn wait_stored(
        &self,
        plan: &Plan,
        token: &UploadToken,
        tracker: &Tracker,
    ) -> Result<Vec<StoredFile>, StorageError> {
        let exchange = StatusRequest::new(self.base.clone(), token.clone());
        let limit = max_status_answer(plan);
        let poll = || async {
            let status = with_retries(&self.retry, StorageError::is_retryable, || async {
                let request = exchange
                    .to_http()
                    .map_err(|source| StorageError::InvalidUpload { source })?;
                let response = self.read_answer(Stage::Status, request, limit).await?;
                exchange
                    .parse_response(&response)
                    .map_err(|source| StorageError::Api {
                        stage: Stage::Status,
                        source,
                    })
            })
            .await?;
            Ok(match status {
                UploadStatus::Done(files) => Step::Finished(Ok(files)),
                UploadStatus::Error { explanation, stage } => {
                    Step::Finished(Err(StorageError::UploadFailed {
                        explanation: explanation.unwrap_or_else(|| "not given".to_owned()),
                        stage: stage.unwrap_or_else(|| "not given".to_owned()),
                    }))
                }
                UploadStatus::AddingToIpfs => Step::Pending("ADDING_TO_IPFS".to_owned()),
                UploadStatus::SavingData => Step::Pending("SAVING_DATA".to_owned()),
                UploadStatus::Other(phase) => Step::Pending(phase),
                // A status added to dstor-types later: still in progress.
                other => Step::Pending(other.to_string()),
            })
        };
        let on_phase = |phase: &str| {
            plan.emit(&Progress::Status {
                phase: phase.to_owned(),
            });
        };
        match wait(&self.wait, poll, on_phase).await {
            Ok(outcome) => outcome,
            Err(Stopped::Failed(error)) => Err(error),
            Err(Stopped::Deadline { waited, last_phase }) => Err(StorageError::DeadlinePassed {
                waited,
                last_status: last_phase,
                files: tracker.local_cids(plan),
            }),
        }
    }
}

/// What the chunk bodies saw: each file's CID, computed as its bytes are sent, and why a
/// body failed, if one did.
pub(crate) struct Tracker {
    files: Mutex<Vec<FileHash>>,
    failure: Mutex<Option<StorageError>>,
    progress: Option<ProgressFn>,
}

#[derive(Default)]
struct FileHash {
    builder: Option<CidBuilder>,
    cid: Option<Cid>,
}

impl Tracker {
    fn new(plan: &Plan) -> Self {
        Self {
            files: Mutex::new((0..plan.files()).map(|_| FileHash::default()).collect()),
            failure: Mutex::new(None),
            progress: plan.progress.clone(),
        }
    }

    fn take_failure(&self) -> Option<StorageError> {
        self.failure.lock().ok()?.take()
    }

    /// Completes the CIDs of `files`, once their chunk was accepted.
    fn finish(&self, files: &[Arc<PlannedFile>], chunk: usize) -> Result<(), StorageError> {
        let mut hashes = self.files.lock().unwrap_or_else(|e| e.into_inner());
        for file in files {
            let hash = &mut hashes[file.index];
            match hash.builder.take() {
                Some(builder) if builder.bytes_seen() == file.len => {
                    hash.cid = Some(builder.finish());
                }
                _ => {
                    return Err(StorageError::SentIncomplete {
                        chunk,
                        name: file.name.as_str().to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    fn cid(&self, index: usize) -> Option<Cid> {
        let hashes = self.files.lock().unwrap_or_else(|e| e.into_inner());
        hashes.get(index).and_then(|h| h.cid)
    }

    fn local_cids(&self, plan: &Plan) -> Vec<(String, String)> {
        plan.files
            .iter()
            .filter_map(|f| Some((f.name.as_str().to_owned(), self.cid(f.index)?.to_string())))
            .collect()
    }

    /// Each local file matched by name to what dStor stored.
    fn report(&self, plan: &Plan, mut stored: Vec<StoredFile>) -> UploadReport {
        let mut files = Vec::with_capacity(plan.files());
        for file in &plan.files {
            let Some(local_cid) = self.cid(file.index) else {
                continue;
            };
            let found = stored.iter().position(|s| s.name == file.name.as_str());
            let stored_cid = found.map(|i| stored.swap_remove(i).hash);
            files.push(UploadedFile {
                name: file.name.as_str().to_owned(),
                path: file.path().map(Into::into),
                len: file.len,
                verified: stored_cid == Some(local_cid),
                local_cid,
                stored_cid,
            });
        }
        UploadReport {
            files,
            unmatched: stored.into_iter().map(|s| (s.name, s.hash)).collect(),
            chunks: plan.chunks_number(),
        }
    }
}

impl Observer for Tracker {
    fn start(&self, file: &PlannedFile) {
        let mut hashes = self.files.lock().unwrap_or_else(|e| e.into_inner());
        hashes[file.index] = FileHash {
            builder: Some(CidBuilder::new()),
            cid: None,
        };
    }

    fn data(&self, file: &PlannedFile, data: &[u8], sent: u64) {
        {
            let mut hashes = self.files.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(builder) = hashes[file.index].builder.as_mut() {
                builder.update(data);
            }
        }
        if let Some(progress) = &self.progress {
            progress(&Progress::Sent {
                file: file.index,
                name: Arc::clone(&file.label),
                sent,
                len: file.len,
            });
        }
    }

    fn failed(&self, error: StorageError) {
        if let Ok(mut failure) = self.failure.lock() {
            *failure = Some(error);
        }
    }
}
