use http::{Method, Response};
use proptest::prelude::*;

use super::*;
use crate::{Cid, Environment};

const TOKEN: &str = "upl0ad-t0ken-9f8e7d6c5b4a";
const HELLO: &str = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";

fn base() -> BaseUrl {
    Environment::Testnet.base_url()
}

fn answer(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn status_request() -> StatusRequest {
    StatusRequest::new(base(), UploadToken::new(TOKEN).unwrap())
}

#[test]
fn builds_the_upload_token_request() {
    let request = UploadTokenRequest::new(base(), 3)
        .unwrap()
        .to_http()
        .unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(
        request.uri(),
        "https://api.testnet.dstor.cloud/v1/upload/get-token/"
    );
    assert_eq!(request.headers()["content-type"], "application/json");
    assert!(!request.headers().contains_key("authorization"));
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"chunks_number": 3, "folder_path": "/"})
    );
}

#[test]
fn refuses_zero_chunks_and_escaping_folders() {
    assert_eq!(
        UploadTokenRequest::new(base(), 0),
        Err(UploadRequestError::NoChunks)
    );
    let request = UploadTokenRequest::new(base(), 1).unwrap();
    for (folder, reason) in [
        ("../up", FileNameError::DotSegment),
        ("", FileNameError::Empty),
        ("a\nb", FileNameError::Control { position: 2 }),
        ("C:/x", FileNameError::Absolute),
    ] {
        assert_eq!(
            request.clone().folder_path(folder),
            Err(UploadRequestError::InvalidFolder { reason }),
            "{folder:?}"
        );
    }
    let ok = request.folder_path("arbitration/alice").unwrap();
    assert_eq!(ok.folder(), "arbitration/alice");
}

#[test]
fn reads_the_upload_token_and_hides_it() {
    let exchange = UploadTokenRequest::new(base(), 1).unwrap();
    let token = exchange
        .parse_response(&answer(
            200,
            &format!(r#"{{"message":"ok","token":"{TOKEN}"}}"#),
        ))
        .unwrap();
    assert_eq!(token.expose_secret(), TOKEN);
    assert_eq!(format!("{token:?}"), "UploadToken([redacted])");
    let header = token.header_value();
    assert!(header.is_sensitive());
    assert_eq!(header, TOKEN);
    assert!(!format!("{header:?}").contains(TOKEN));

    for (body, reason) in [
        ("not json", BodyError::NotJson),
        (r#"{"message":"ok"}"#, BodyError::Missing("token")),
        (
            r#"{"token":7}"#,
            BodyError::WrongType {
                field: "token".into(),
                expected: "a string",
            },
        ),
        (
            r#"{"token":""}"#,
            BodyError::BadToken(UploadTokenError::Empty),
        ),
        (
            r#"{"token":"a b"}"#,
            BodyError::BadToken(UploadTokenError::InvalidCharacter {
                position: 2,
                problem: crate::CharProblem::Whitespace,
            }),
        ),
    ] {
        assert_eq!(
            exchange.parse_response(&answer(200, body)).unwrap_err(),
            UploadApiError::InvalidBody {
                endpoint: UPLOAD_TOKEN_PATH,
                reason
            },
            "{body}"
        );
    }
}

#[test]
fn statuses_that_are_not_success_are_classified() {
    let exchange = UploadTokenRequest::new(base(), 1).unwrap();
    let err = exchange.parse_response(&answer(503, "down")).unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(503));
    let err = exchange.parse_response(&answer(401, "")).unwrap_err();
    assert!(matches!(err, UploadApiError::Api(ref e) if e.is_key_rejected()));
    assert!(!err.is_retryable());
    let chunk = ChunkRequest::new(base(), UploadToken::new(TOKEN).unwrap(), Multipart::new());
    assert_eq!(
        chunk.parse_response(&answer(413, "too big")),
        Err(UploadApiError::TooLarge)
    );
    assert_eq!(chunk.parse_response(&answer(201, "whatever")), Ok(()));
}

#[test]
fn errors_of_the_upload_endpoints_name_the_upload_not_the_token_exchange() {
    let exchange = UploadTokenRequest::new(base(), 1).unwrap();
    let chunk = ChunkRequest::new(base(), UploadToken::new(TOKEN).unwrap(), Multipart::new());
    let status = StatusRequest::new(base(), UploadToken::new(TOKEN).unwrap());
    let texts = |code: u16, body: &str| {
        [
            exchange.parse_response(&answer(code, body)).unwrap_err(),
            chunk.parse_response(&answer(code, body)).unwrap_err(),
            status.parse_response(&answer(code, body)).unwrap_err(),
        ]
        .map(|e| (e.to_string(), e.status()))
    };
    for (text, status) in texts(400, r#"{"message":"bad folder"}"#) {
        assert_eq!(status, Some(400));
        assert!(
            text.starts_with("dStor refused the upload request as malformed (400)"),
            "{text}"
        );
        assert!(text.ends_with(r#"(dStor said "bad folder")"#), "{text}");
        assert!(!text.contains("expiration"), "{text}");
    }
    for (text, status) in texts(403, "") {
        assert_eq!(status, Some(403));
        assert!(
            text.starts_with("dStor refused the upload's credentials (403)"),
            "{text}"
        );
        assert!(!text.contains("API key"), "{text}");
    }
    for (text, _) in texts(404, "") {
        assert!(
            text.starts_with("no dStor upload endpoint at this address (404)"),
            "{text}"
        );
    }
    // Statuses whose words fit any endpoint keep them, and their predicates.
    for (text, _) in texts(503, "") {
        assert!(
            text.starts_with("dStor answered with a server error (503)"),
            "{text}"
        );
    }
    let throttled = chunk.parse_response(&answer(429, "")).unwrap_err();
    assert!(throttled.is_retryable());
}

#[test]
fn the_upload_token_never_shows_in_errors() {
    let chunk = ChunkRequest::new(base(), UploadToken::new(TOKEN).unwrap(), Multipart::new());
    let echo = format!(r#"{{"message":"bad upload token {TOKEN}"}}"#);
    for err in [
        chunk.parse_response(&answer(400, &echo)).unwrap_err(),
        status_request()
            .parse_response(&answer(500, &echo))
            .unwrap_err(),
    ] {
        let text = format!("{err} {err:?}");
        assert!(!text.contains(TOKEN), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}

#[test]
fn builds_chunk_and_status_requests() {
    let form = Multipart::with_boundary("bnd").unwrap();
    let chunk = ChunkRequest::new(base(), UploadToken::new(TOKEN).unwrap(), form)
        .comment("  from CI  ")
        .unwrap();
    let request = chunk.to_http("body", Some(4)).unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), "https://api.testnet.dstor.cloud/v1/upload/");
    let h = request.headers();
    assert_eq!(h["x-dstor-upload-token"], TOKEN);
    assert!(h["x-dstor-upload-token"].is_sensitive());
    assert_eq!(h["x-dstor-comment"], "from CI");
    assert_eq!(h["content-type"], "multipart/form-data; boundary=bnd");
    assert_eq!(h["content-length"], "4");
    assert!(!format!("{request:?} {chunk:?}").contains(TOKEN));

    let plain = chunk
        .clone()
        .comment(" ")
        .unwrap()
        .to_http((), None)
        .unwrap();
    assert!(!plain.headers().contains_key("x-dstor-comment"));
    assert!(!plain.headers().contains_key("content-length"));
    for (bad, position) in [("a\r\nx-evil: 1", 2), ("caf\u{e9}", 4), ("tab\there", 4)] {
        assert_eq!(
            chunk.clone().comment(bad).unwrap_err(),
            UploadRequestError::InvalidComment { position },
            "{bad:?}"
        );
    }
    assert_eq!(
        chunk
            .clone()
            .comment(&"c".repeat(MAX_COMMENT_LEN + 1))
            .unwrap_err(),
        UploadRequestError::CommentTooLong {
            len: MAX_COMMENT_LEN + 1
        }
    );

    let request = status_request().to_http().unwrap();
    assert_eq!(request.method(), Method::GET);
    assert_eq!(
        request.uri(),
        "https://api.testnet.dstor.cloud/v1/upload/get-status/"
    );
    assert!(request.headers()["x-dstor-upload-token"].is_sensitive());
    assert!(request.body().is_empty());
    assert!(!format!("{request:?} {:?}", status_request()).contains(TOKEN));
}

#[test]
fn reads_every_known_status() {
    let hello: Cid = HELLO.parse().unwrap();
    for (body, expected) in [
        (r#"{"status":"ADDING_TO_IPFS"}"#, UploadStatus::AddingToIpfs),
        (r#"{"status":"saving_data"}"#, UploadStatus::SavingData),
        (
            &*format!(r#"{{"status":"DONE","data":[{{"Hash":"{HELLO}","Name":"a/b.txt"}}]}}"#),
            UploadStatus::Done(vec![StoredFile::new(hello, "a/b.txt")]),
        ),
        (r#"{"status":"DONE","data":[]}"#, UploadStatus::Done(vec![])),
        (
            r#"{"status":"ERROR","errorExplanation":"ipfs\nnode down","errorAtStage":2}"#,
            UploadStatus::Error {
                explanation: Some("ipfs node down".into()),
                stage: Some("2".into()),
            },
        ),
        (
            r#"{"status":"ERROR"}"#,
            UploadStatus::Error {
                explanation: None,
                stage: None,
            },
        ),
        (
            r#"{"status":"PINNING","extra":1}"#,
            UploadStatus::Other("PINNING".into()),
        ),
    ] {
        assert_eq!(
            parse_status(body.as_bytes()).as_ref(),
            Ok(&expected),
            "{body}"
        );
        assert_eq!(
            status_request().parse_response(&answer(200, body)),
            Ok(expected)
        );
    }
    assert!(!UploadStatus::Other("X".into()).is_finished());
    assert!(UploadStatus::Done(vec![]).is_finished());
    assert_eq!(
        UploadStatus::Error {
            explanation: Some("disk full".into()),
            stage: Some("SAVING".into())
        }
        .to_string(),
        "failed at stage \"SAVING\": disk full"
    );
    assert_eq!(
        UploadStatus::Done(vec![StoredFile::new(hello, "a")]).to_string(),
        "done (1 file)"
    );
}

#[test]
fn refuses_status_bodies_that_do_not_parse() {
    let wrong = |field: &str, expected| BodyError::WrongType {
        field: field.into(),
        expected,
    };
    for (body, expected) in [
        ("", BodyError::NotJson),
        ("[1]", BodyError::NotJson),
        ("{}", BodyError::Missing("status")),
        (r#"{"status":5}"#, wrong("status", "a string")),
        (r#"{"status":"DONE"}"#, BodyError::Missing("data")),
        (r#"{"status":"DONE","data":{}}"#, wrong("data", "an array")),
        (
            r#"{"status":"DONE","data":[7]}"#,
            wrong("data[0]", "an object"),
        ),
        (
            r#"{"status":"DONE","data":[{"Name":"a"}]}"#,
            wrong("data[0].Hash", "a string"),
        ),
        (
            &*format!(r#"{{"status":"DONE","data":[{{"Hash":"{HELLO}"}}]}}"#),
            wrong("data[0].Name", "a string"),
        ),
        (
            r#"{"status":"DONE","data":[{"Hash":"Qmshort","Name":"a"}]}"#,
            BodyError::BadHash {
                index: 0,
                error: CidError::V0Length { len: 7 },
            },
        ),
    ] {
        assert_eq!(
            parse_status(body.as_bytes()),
            Err(expected.clone()),
            "{body}"
        );
        let err = status_request()
            .parse_response(&answer(200, body))
            .unwrap_err();
        assert_eq!(
            err,
            UploadApiError::InvalidBody {
                endpoint: UPLOAD_STATUS_PATH,
                reason: expected
            }
        );
    }
}

#[test]
fn the_upload_token_is_scrubbed_from_status_text() {
    let body = format!(
        r#"{{"status":"ERROR","errorExplanation":"token {TOKEN} expired","errorAtStage":"{TOKEN}"}}"#
    );
    let status = status_request()
        .parse_response(&answer(200, &body))
        .unwrap();
    let text = format!("{status} {status:?}");
    assert!(!text.contains(TOKEN), "{text}");
    let other = status_request()
        .parse_response(&answer(200, &format!(r#"{{"status":"{TOKEN}"}}"#)))
        .unwrap();
    assert_eq!(other, UploadStatus::Other("[redacted]".into()));
}

proptest! {
    /// Any bytes are read or refused without a panic.
    #[test]
    fn any_status_body_is_read_or_refused(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_status(&body);
    }

    /// Bodies shaped like status answers, with the token anywhere, are read or refused
    /// without a panic, and nothing made of them shows the token.
    #[test]
    fn status_answers_never_show_the_token(
        status in prop_oneof![
            Just("DONE".to_owned()), Just("ERROR".to_owned()), Just("ADDING_TO_IPFS".to_owned()),
            "[A-Za-z_ ]{0,20}", Just(TOKEN.to_owned()),
        ],
        explanation in prop_oneof![Just(TOKEN.to_owned()), any::<String>()],
        hash in prop_oneof![Just(HELLO.to_owned()), Just(TOKEN.to_owned()), "[A-Za-z0-9]{0,50}"],
        name in any::<String>(),
        code in 200u16..600,
    ) {
        let body = serde_json::json!({
            "status": status,
            "errorExplanation": explanation,
            "errorAtStage": format!("stage {TOKEN}"),
            "data": [{"Hash": hash, "Name": name}],
        })
        .to_string();
        let text = match status_request().parse_response(&answer(code, &body)) {
            Ok(UploadStatus::Done(files)) => {
                prop_assert_eq!(&files[0].name, &name);
                String::new()
            }
            Ok(status) => format!("{status} {status:?}"),
            Err(err) => format!("{err} {err:?}"),
        };
        prop_assert!(!text.contains(TOKEN), "{}", text);
    }

    /// Every well-formed `DONE` answer is read back file for file, whatever the names.
    #[test]
    fn done_answers_are_read_file_for_file(
        files in proptest::collection::vec((any::<[u8; 32]>(), any::<String>()), 0..5),
    ) {
        let files: Vec<StoredFile> = files
            .into_iter()
            .map(|(digest, name)| StoredFile::new(Cid::from_v0_digest(digest), name))
            .collect();
        let data: Vec<_> = files
            .iter()
            .map(|f| serde_json::json!({"Hash": f.hash.to_string(), "Name": f.name}))
            .collect();
        let body = serde_json::json!({"status": "DONE", "data": data}).to_string();
        prop_assert_eq!(parse_status(body.as_bytes()), Ok(UploadStatus::Done(files)));
    }

    /// Any text is a token or refused; an accepted one never shows in `Debug`.
    #[test]
    fn upload_tokens_are_checked(token in any::<String>()) {
        if let Ok(accepted) = UploadToken::new(token.clone()) {
            prop_assert!(token.bytes().all(|b| b.is_ascii_graphic()));
            prop_assert_eq!(accepted.header_value(), token.as_str());
            prop_assert_eq!(format!("{accepted:?}"), "UploadToken([redacted])");
        }
    }
}
