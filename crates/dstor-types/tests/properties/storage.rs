use dstor_types::{
    ChunkRequest, Cid, Environment, Multipart, StatusRequest, StoredFile, UploadApiError,
    UploadStatus, UploadToken, UploadTokenRequest,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::assertions::{bounded, never_shows};
use crate::harness::check;
use crate::split::{split, splitter};

/// An upload token and an access token (JWT-shaped), both secrets a server may echo.
fn secrets() -> impl Strategy<Value = (String, String)> {
    (
        "[A-Za-z0-9_-]{20,60}",
        "[A-Za-z0-9_-]{20,40}",
        "[A-Za-z0-9_-]{20,40}",
    )
        .prop_map(|(upload, payload, signature)| {
            (
                format!("u{upload}"),
                format!("eyJhbGciOiJIUzI1NiJ9.eyJ{payload}.{signature}"),
            )
        })
}

/// Text that echoes both secrets, each split somewhere, among other words.
fn echo(upload: String, access: String) -> impl Strategy<Value = String> {
    (splitter(), any::<usize>(), any::<usize>(), "[ -~]{0,30}").prop_map(
        move |(sep, a, b, words)| {
            format!(
                "{words} {} {} {words}",
                split(&upload, sep, a),
                split(&access, sep, b)
            )
        },
    )
}

fn statuses() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => Just(200u16),
        1 => Just(201),
        1 => Just(204),
        1 => prop::sample::select(vec![400u16, 401, 403, 404, 408, 413, 418, 429, 500, 502, 503]),
        1 => 100..1000u16,
    ]
}

/// Bodies no endpoint should trust: cut, garbled and deep JSON, huge numbers, raw bytes.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0..2000usize).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d)).into_bytes()),
        (0..2000usize).prop_map(|d| format!("{}1", "{\"status\":".repeat(d)).into_bytes()),
        "[0-9]{20,400}".prop_map(|n| format!(r#"{{"status":{n},"token":{n}}}"#).into_bytes()),
        Just(b"<html><body>bad gateway</body></html>".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

fn answer(status: u16, body: Vec<u8>) -> Option<http::Response<Vec<u8>>> {
    http::Response::builder().status(status).body(body).ok()
}

/// Checks what every storage error promises: no secret, a bounded message, its status.
fn check_error(err: &UploadApiError, status: u16, secrets: &[&str]) -> Result<(), TestCaseError> {
    let text = format!("{err} {err:?} {err:#?}");
    for secret in secrets {
        never_shows(&text, secret, "an UploadApiError")?;
    }
    bounded(&err.to_string(), 700)?;
    let success = (200..300).contains(&status);
    prop_assert_eq!(err.status().is_none(), success, "{:?} for {}", err, status);
    prop_assert_eq!(matches!(err, UploadApiError::TooLarge), status == 413);
    Ok(())
}

/// Answers to `POST /v1/upload/get-token/`: valid, near-valid, echoing, garbage.
fn token_answers() -> impl Strategy<Value = (String, String, u16, Vec<u8>)> {
    secrets().prop_flat_map(|(upload, access)| {
        let u = upload.clone();
        let shaped = prop_oneof![
            Just(json!({ "message": "ok", "token": u }).to_string()),
            Just(json!({ "token": u, "extra": [1, 2, 3] }).to_string()),
            Just(format!(r#"{{"message":"ok","token":"{u}""#)),
            Just(json!({ "message": "ok", "token": [u] }).to_string()),
            Just(json!({ "message": "ok", "token": null }).to_string()),
            Just(json!({ "message": "ok" }).to_string()),
            Just(json!({ "message": "ok", "token": "" }).to_string()),
            "[^\"\\\\]{1,40}".prop_map(|t| json!({ "token": t }).to_string()),
            Just(json!({ "token": "x".repeat(16 * 1024 + 1) }).to_string()),
        ];
        let echoes = echo(upload.clone(), access.clone()).prop_flat_map(|text| {
            prop_oneof![
                Just(json!({ "message": text }).to_string()),
                Just(json!({ "error": text }).to_string()),
                Just(text),
            ]
        });
        (
            Just(upload),
            Just(access),
            statuses(),
            prop_oneof![
                3 => shaped.prop_map(String::into_bytes),
                2 => echoes.prop_map(String::into_bytes),
                1 => garbage(),
            ],
        )
    })
}

/// `UploadTokenRequest::parse_response`: a token exactly when a success answer holds a
/// usable `token` string, that token, hidden; else a typed error that shows neither
/// secret, is bounded, and carries the status.
#[test]
fn fuzz_upload_token_answer() {
    check(
        "upload_token_answer",
        file!(),
        token_answers(),
        |(upload, access, status, body)| {
            let Some(response) = answer(status, body.clone()) else {
                return Ok(());
            };
            let request = UploadTokenRequest::new(Environment::Testnet.base_url(), 1)
                .expect("one chunk is valid");
            let given = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned));
            let usable = given
                .clone()
                .filter(|t| UploadToken::new(t.as_str()).is_ok());
            let success = (200..300).contains(&status);
            match request.parse_response(&response) {
                Ok(token) => {
                    prop_assert!(success, "a token from a {status}");
                    prop_assert_eq!(Some(token.expose_secret()), usable.as_deref());
                    prop_assert_eq!(format!("{token:?}"), "UploadToken([redacted])");
                }
                Err(err) => {
                    prop_assert!(
                        !success || usable.is_none(),
                        "refused a usable token: {err}"
                    );
                    check_error(&err, status, &[&upload, &access])?;
                    if let Some(given) = given.filter(|g| g.len() >= 20) {
                        never_shows(&format!("{err} {err:?}"), &given, "an UploadApiError")?;
                    }
                }
            }
            Ok(())
        },
    );
}

/// `ChunkRequest::parse_response`: only the status counts; an error never shows the
/// upload or access token, however the body echoes them.
#[test]
fn fuzz_chunk_answer() {
    let strategy = secrets().prop_flat_map(|(upload, access)| {
        let body = prop_oneof![
            echo(upload.clone(), access.clone()).prop_map(String::into_bytes),
            echo(upload.clone(), access.clone()).prop_map(|t| {
                json!({ "message": t, "upload_token": t })
                    .to_string()
                    .into_bytes()
            }),
            garbage(),
        ];
        (Just(upload), Just(access), statuses(), body)
    });
    check(
        "chunk_answer",
        file!(),
        strategy,
        |(upload, access, status, body)| {
            let Some(response) = answer(status, body) else {
                return Ok(());
            };
            let token = UploadToken::new(upload.as_str()).expect("a generated token is valid");
            let chunk = ChunkRequest::new(Environment::Testnet.base_url(), token, Multipart::new());
            match chunk.parse_response(&response) {
                Ok(()) => prop_assert!((200..300).contains(&status), "a {status} passed"),
                Err(err) => {
                    prop_assert!(!(200..300).contains(&status));
                    check_error(&err, status, &[&upload, &access])?;
                }
            }
            Ok(())
        },
    );
}

/// Stored files as dStor lists them: CIDv0 of random digests, any names.
fn stored_files() -> impl Strategy<Value = Vec<StoredFile>> {
    proptest::collection::vec((any::<[u8; 32]>(), any::<String>()), 0..6).prop_map(|files| {
        files
            .into_iter()
            .map(|(digest, name)| {
                let hash = cid::multihash::Multihash::<64>::wrap(0x12, &digest).expect("fits");
                let text = cid::Cid::new_v0(hash).expect("sha2-256").to_string();
                StoredFile::new(text.parse::<Cid>().expect("a CIDv0"), name)
            })
            .collect()
    })
}

/// A status name in any case, known or not.
fn status_names() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec!["ADDING_TO_IPFS", "SAVING_DATA", "DONE", "ERROR"]);
    prop_oneof![
        3 => (known, any::<u64>()).prop_map(|(name, mask)| {
            name.chars()
                .enumerate()
                .map(|(i, c)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_lowercase() } else { c })
                .collect()
        }),
        1 => "[A-Z_]{0,20}".prop_map(String::from),
    ]
}

/// Answers to `GET /v1/upload/get-status/`.
fn status_answers() -> impl Strategy<Value = (String, String, u16, Vec<u8>, Option<Vec<StoredFile>>)>
{
    secrets().prop_flat_map(|(upload, access)| {
        let done = stored_files().prop_map(|files| {
            let data: Vec<Value> = files
                .iter()
                .map(|f| json!({ "Hash": f.hash.to_string(), "Name": f.name }))
                .collect();
            let body = json!({ "status": "DONE", "data": data }).to_string();
            (body.into_bytes(), Some(files))
        });
        let (u, a) = (upload.clone(), access.clone());
        let hostile = (
            status_names(),
            echo(u.clone(), a.clone()),
            echo(u.clone(), a.clone()),
            0..8u8,
        )
            .prop_map(move |(status, explanation, stage, shape)| {
                let body = match shape {
                    0 => json!({ "status": status, "errorExplanation": explanation, "errorAtStage": stage }),
                    1 => json!({ "status": explanation }),
                    2 => json!({ "status": status, "errorExplanation": { "token": u, "detail": [a] } }),
                    3 => json!({ "status": status, "data": [{ "Hash": u, "Name": "a" }] }),
                    4 => json!({ "status": status, "data": [{ "Hash": "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN", "Name": 7 }] }),
                    5 => json!({ "status": status, "data": { "Hash": a } }),
                    6 => json!({ "status": [status] }),
                    _ => json!({ "message": explanation }),
                };
                (body.to_string().into_bytes(), None)
            });
        (
            Just(upload),
            Just(access),
            statuses(),
            prop_oneof![
                2 => done,
                3 => hostile,
                1 => garbage().prop_map(|b| (b, None)),
            ],
        )
            .prop_map(|(u, a, status, (body, files))| (u, a, status, body, files))
    })
}

/// `StatusRequest::parse_response`: every well-formed `DONE` of a success answer is read
/// file for file; a result or error never shows the upload or access token, however the
/// body echoes them; what a status displays is bounded.
#[test]
fn fuzz_upload_status() {
    check(
        "upload_status",
        file!(),
        status_answers(),
        |(upload, access, status, body, files)| {
            let Some(response) = answer(status, body.clone()) else {
                return Ok(());
            };
            let token = UploadToken::new(upload.as_str()).expect("a generated token is valid");
            let request = StatusRequest::new(Environment::Testnet.base_url(), token);
            let success = (200..300).contains(&status);
            match request.parse_response(&response) {
                Ok(got) => {
                    prop_assert!(success, "a status from a {status}");
                    if let Some(files) = &files {
                        prop_assert_eq!(&got, &UploadStatus::Done(files.clone()));
                    }
                    let shown = match &got {
                        UploadStatus::Done(files) => {
                            let hashes: Vec<String> = files
                                .iter()
                                .map(|f| format!("{} {:?}", f.hash, f.hash))
                                .collect();
                            format!("{got} {}", hashes.join(" "))
                        }
                        other => format!("{other} {other:?}"),
                    };
                    never_shows(&shown, &upload, "an UploadStatus")?;
                    never_shows(&shown, &access, "an UploadStatus")?;
                    bounded(&got.to_string(), 500)?;
                    // The same body read without the token: the same kind of status.
                    let plain = dstor_types::parse_status(&body).expect("read once already");
                    prop_assert_eq!(std::mem::discriminant(&plain), std::mem::discriminant(&got));
                }
                Err(err) => {
                    prop_assert!(files.is_none() || !success, "refused a valid DONE: {err}");
                    check_error(&err, status, &[&upload, &access])?;
                }
            }
            Ok(())
        },
    );
}

/// Found by `fuzz_upload_status`: the status text of `get-status` echoed an access token
/// (only the upload token was scrubbed), and an upload token split by a control character
/// survived the scrub, which ran before control characters were removed.
#[test]
fn status_text_never_echoes_a_token_however_it_is_split() {
    let upload = "u-upload-token-SECRET-0123456789";
    let access = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    let split = "u-upload-tok\u{1}en-SECRET-0123456789";
    let request = StatusRequest::new(
        Environment::Testnet.base_url(),
        UploadToken::new(upload).expect("a valid token"),
    );
    for body in [
        json!({ "status": format!("[redacted] {access}") }),
        json!({ "status": "ERROR", "errorExplanation": format!("bad {split}"), "errorAtStage": access }),
        json!({ "status": "ERROR", "errorExplanation": { "token": upload, "by": access } }),
    ] {
        let answer = answer(200, body.to_string().into_bytes()).expect("a response");
        let status = request.parse_response(&answer).expect("a status");
        let text = format!("{status} {status:?}");
        assert!(!text.contains("SECRET") && !text.contains("eyJ"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}
