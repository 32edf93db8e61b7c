//! The storage service: the upload flow (upload token, chunks, status) and the
//! gateway, as dStor's v1 API describes them.

mod accessors;
mod cid;
mod fault;
mod gateway;
mod served;
mod spool;
mod state;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;

pub use fault::{StorageEndpoint, StorageFault};
pub(crate) use gateway::{content_path, node_handle, redirect};
pub(crate) use served::FileBody;
use spool::Refusal;
pub(crate) use state::Storage;
pub use state::{RecordedChunk, RecordedUploadToken, StoredFile};

use fault::{STAGES, Target};
use state::{Phase, Upload, lock};

use crate::body::MockBody;
use crate::jwt;
use crate::service::{DropConnection, json, message, status_message};
use crate::state::Shared;

/// The header carrying the upload token.
const UPLOAD_TOKEN_HEADER: &str = "x-dstor-upload-token";

/// The largest accepted JSON body of `get-token`.
const MAX_JSON_BODY: usize = 64 * 1024;

/// The length of an upload token.
const UPLOAD_TOKEN_LEN: usize = 48;

/// The storage endpoint at `path` (a trailing slash is optional).
pub(crate) fn endpoint(path: &str) -> Option<StorageEndpoint> {
    match path.strip_suffix('/').unwrap_or(path) {
        "/v1/upload/get-token" => Some(StorageEndpoint::UploadToken),
        "/v1/upload" => Some(StorageEndpoint::Chunk),
        "/v1/upload/get-status" => Some(StorageEndpoint::Status),
        _ => None,
    }
}

/// Answers a request to a storage endpoint (already recorded).
pub(crate) async fn handle(
    shared: &Shared,
    endpoint: StorageEndpoint,
    parts: Parts,
    body: Incoming,
) -> Result<Response<MockBody>, DropConnection> {
    let storage = &shared.storage;
    let (counter, allow) = match endpoint {
        StorageEndpoint::UploadToken => (&storage.upload_token_requests, "POST"),
        StorageEndpoint::Chunk => (&storage.chunk_requests, "POST"),
        StorageEndpoint::Status | StorageEndpoint::Any => (&storage.status_requests, "GET"),
    };
    Storage::count(counter);
    if parts.method.as_str() != allow {
        let mut response = message(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
        return Ok(response);
    }
    let next_stage = (endpoint == StorageEndpoint::Status)
        .then(|| {
            let token = upload_token(&parts.headers)?;
            lock(&storage.uploads).get(token).map(Upload::next_stage)
        })
        .flatten();
    let mut error = None;
    match storage.take_fault(Target::Endpoint(endpoint, next_stage)) {
        Some(StorageFault::Status { code, .. }) => {
            if endpoint == StorageEndpoint::Chunk {
                spool::drain(body, storage.max_upload_bytes).await;
            }
            return Ok(status_message(code));
        }
        Some(StorageFault::DropConnection { .. }) => return Err(DropConnection),
        Some(StorageFault::Delay { delay, .. }) => tokio::time::sleep(delay).await,
        Some(StorageFault::Error { stage, explanation }) => error = Some((stage, explanation)),
        _ => {}
    }
    if let Err(refused) = authorize(shared, &parts.headers) {
        if endpoint == StorageEndpoint::Chunk {
            spool::drain(body, storage.max_upload_bytes).await;
        }
        return Ok(refused.answer());
    }
    Ok(match endpoint {
        StorageEndpoint::UploadToken => issue_upload_token(storage, body).await,
        StorageEndpoint::Chunk => receive_chunk(storage, &parts.headers, body).await,
        StorageEndpoint::Status | StorageEndpoint::Any => {
            report_status(storage, &parts.headers, error)
        }
    })
}

/// Checks for `Authorization: Bearer <jwt>` signed by this server and unexpired.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Refusal> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(bearer) = bearer else {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "missing bearer token: send Authorization: Bearer <access token>",
        ));
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |now| now.as_secs_f64());
    let valid = jwt::verify(&shared.secret, bearer)
        .and_then(|claims| claims.get("exp")?.as_f64())
        .is_some_and(|exp| exp > now);
    if valid {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "invalid or expired access token",
        ))
    }
}

fn upload_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(UPLOAD_TOKEN_HEADER)?.to_str().ok()
}

/// `POST /v1/upload/get-token/`: a new upload of `chunks_number` chunks.
async fn issue_upload_token(storage: &Storage, body: Incoming) -> Response<MockBody> {
    let body: Bytes = match Limited::new(body, MAX_JSON_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return message(
                StatusCode::BAD_REQUEST,
                "the body must be a small JSON object",
            );
        }
    };
    let Ok(serde_json::Value::Object(request)) = serde_json::from_slice(&body) else {
        return message(
            StatusCode::BAD_REQUEST,
            r#"the body must be JSON: {"chunks_number": <int >= 1>, "folder_path": "<path>"}"#,
        );
    };
    let Some(chunks_number) = request
        .get("chunks_number")
        .and_then(serde_json::Value::as_u64)
        .filter(|&n| n >= 1)
    else {
        return message(
            StatusCode::BAD_REQUEST,
            "chunks_number must be an integer of at least 1",
        );
    };
    let Some(folder_path) = request.get("folder_path").and_then(|v| v.as_str()) else {
        return message(StatusCode::BAD_REQUEST, "folder_path must be a string");
    };
    storage.record_token_request(RecordedUploadToken {
        chunks_number,
        folder_path: folder_path.to_owned(),
    });
    let token: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(UPLOAD_TOKEN_LEN)
        .collect();
    lock(&storage.uploads).insert(
        token.clone(),
        Upload {
            chunks_number,
            folder_path: folder_path.to_owned(),
            reserved: 0,
            received: 0,
            files: Vec::new(),
            phase: Phase::Receiving,
        },
    );
    json(
        StatusCode::OK,
        &serde_json::json!({ "message": "ok", "token": token }),
    )
}

/// The upload named by the request's upload token, or the answer refusing it.
fn known_upload(storage: &Storage, headers: &HeaderMap) -> Result<String, Refusal> {
    let Some(token) = upload_token(headers) else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "missing x-dstor-upload-token header: ask /v1/upload/get-token/ for one",
        ));
    };
    if lock(&storage.uploads).contains_key(token) {
        Ok(token.to_owned())
    } else {
        Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "invalid upload token",
        ))
    }
}

/// `POST /v1/upload/`: one chunk of files.
async fn receive_chunk(
    storage: &Storage,
    headers: &HeaderMap,
    body: Incoming,
) -> Response<MockBody> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > storage.max_upload_bytes) {
        return message(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the chunk is larger than {} bytes: send fewer or smaller files per chunk",
                storage.max_upload_bytes
            ),
        );
    }
    let early = known_upload(storage, headers).and_then(|token| {
        let boundary = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| multer::parse_boundary(value).ok())
            .ok_or_else(|| {
                Refusal::bad("content-type must be multipart/form-data with a boundary")
            })?;
        reserve(storage, &token)?;
        Ok((token, boundary))
    });
    let (token, boundary) = match early {
        Ok(ready) => ready,
        Err(refused) => {
            spool::drain(body, storage.max_upload_bytes).await;
            return refused.answer();
        }
    };
    let mut received = spool::receive(storage, body, boundary).await;
    // A copy of content received before is not kept twice.
    let mut copies = Vec::new();
    for file in received.iter_mut().flatten() {
        let kept = storage.keep(&file.cid, file.path.clone());
        if kept != file.path {
            copies.push(std::mem::replace(&mut file.path, kept));
        }
    }
    spool::recycle(storage, copies).await;
    let mut uploads = lock(&storage.uploads);
    let Some(upload) = uploads.get_mut(&token) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "the upload vanished");
    };
    match received {
        Err(refusal) => {
            upload.reserved -= 1;
            drop(uploads);
            refusal.answer()
        }
        Ok(files) => {
            upload.received += 1;
            let stored: Vec<StoredFile> = files
                .iter()
                .map(|file| StoredFile {
                    name: file.name.clone(),
                    cid: file.cid.clone(),
                    size: file.size,
                    folder_path: upload.folder_path.clone(),
                })
                .collect();
            upload.files.extend(
                stored
                    .iter()
                    .cloned()
                    .zip(files.into_iter().map(|file| file.path)),
            );
            drop(uploads);
            storage.record_chunk(RecordedChunk {
                names: stored.iter().map(|file| file.name.clone()).collect(),
            });
            storage.record_stored(stored);
            json(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
        }
    }
}

/// Counts a chunk in, unless all of the upload's chunks are in already.
fn reserve(storage: &Storage, token: &str) -> Result<(), Refusal> {
    let mut uploads = lock(&storage.uploads);
    let Some(upload) = uploads.get_mut(token) else {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "invalid upload token",
        ));
    };
    if upload.reserved >= upload.chunks_number {
        return Err(Refusal::bad(format!(
            "this upload has {} chunks and all were sent: ask for a new upload token",
            upload.chunks_number
        )));
    }
    upload.reserved += 1;
    Ok(())
}

/// `GET /v1/upload/get-status/`: each poll after the last chunk moves one stage on.
fn report_status(
    storage: &Storage,
    headers: &HeaderMap,
    error: Option<(String, String)>,
) -> Response<MockBody> {
    let token = match known_upload(storage, headers) {
        Ok(token) => token,
        Err(refused) => return refused.answer(),
    };
    let mut uploads = lock(&storage.uploads);
    let Some(upload) = uploads.get_mut(&token) else {
        return message(StatusCode::UNAUTHORIZED, "invalid upload token");
    };
    if let Some((stage, explanation)) = error {
        upload.phase = Phase::Error { stage, explanation };
    }
    let stage = match &upload.phase {
        Phase::Error { stage, explanation } => {
            return json(
                StatusCode::OK,
                &serde_json::json!({
                    "status": "ERROR",
                    "errorExplanation": explanation,
                    "errorAtStage": stage,
                }),
            );
        }
        _ if upload.received < upload.chunks_number => {
            return json(StatusCode::OK, &serde_json::json!({ "status": STAGES[0] }));
        }
        Phase::Receiving => 1,
        Phase::Stage(index) => (index + 1).min(STAGES.len() - 1),
    };
    let first_done =
        stage == STAGES.len() - 1 && !matches!(upload.phase, Phase::Stage(i) if i == stage);
    upload.phase = Phase::Stage(stage);
    if stage < STAGES.len() - 1 {
        return json(
            StatusCode::OK,
            &serde_json::json!({ "status": STAGES[stage] }),
        );
    }
    if first_done {
        storage.publish(&upload.files);
    }
    let data: Vec<serde_json::Value> = upload
        .files
        .iter()
        .map(|(file, _)| serde_json::json!({ "Hash": file.cid, "Name": file.name }))
        .collect();
    json(
        StatusCode::OK,
        &serde_json::json!({ "status": "DONE", "data": data }),
    )
}
