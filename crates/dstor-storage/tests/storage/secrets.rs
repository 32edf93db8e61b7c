//! No token, access or upload, in any `Debug`, `Display` or error, even when dStor echoes
//! it back.

use dstor_storage::{StorageError, Upload};

use crate::support::{ACCESS_TOKEN, UPLOAD_TOKEN, scripted, scripted_dstor, scripted_storage};

fn assert_clean(label: &str, text: &str) {
    for secret in [UPLOAD_TOKEN, ACCESS_TOKEN] {
        assert!(!text.contains(secret), "{label} shows a token: {text}");
    }
}

fn assert_error_clean(error: &StorageError) {
    assert_clean("Display", &error.to_string());
    assert_clean("Debug", &format!("{error:?}"));
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        assert_clean("source", &cause.to_string());
        assert_clean("source Debug", &format!("{cause:?}"));
        source = cause.source();
    }
}

#[tokio::test]
async fn an_error_status_that_echoes_the_upload_token_shows_it_redacted() {
    let (storage, _) = scripted_dstor(&format!(
        r#"{{"status":"ERROR","errorExplanation":"bad token {UPLOAD_TOKEN}","errorAtStage":"{UPLOAD_TOKEN}"}}"#
    ));
    let err = storage
        .upload(Upload::new().bytes("a", "1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::UploadFailed { .. }), "{err:?}");
    assert!(err.to_string().contains("bad token [redacted]"), "{err}");
    assert_error_clean(&err);
}

#[tokio::test]
async fn refused_requests_that_echo_tokens_show_them_redacted() {
    let (transport, seen) = scripted(|parts| match parts.uri.path() {
        "/v1/upload/get-token/" => (
            200,
            vec![],
            format!(r#"{{"message":"ok","token":"{UPLOAD_TOKEN}"}}"#),
        ),
        _ => (
            500,
            vec![],
            format!(r#"{{"message":"upload token {UPLOAD_TOKEN} refused"}}"#),
        ),
    });
    let storage = scripted_storage(transport);
    let err = storage
        .upload(Upload::new().bytes("a", "1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StorageError::Api { source, .. } if source.status() == Some(500)),
        "{err:?}"
    );
    let said = std::error::Error::source(&err).unwrap().to_string();
    assert!(said.contains("upload token [redacted] refused"), "{said}");
    assert_error_clean(&err);

    // The credentials travelled only as marked-sensitive headers, which hide in `Debug`.
    let seen = seen.lock().unwrap();
    let chunk = seen.iter().find(|p| p.uri.path() == "/v1/upload/").unwrap();
    assert!(chunk.headers["x-dstor-upload-token"].is_sensitive());
    assert!(chunk.headers["authorization"].is_sensitive());
    assert_clean("request Debug", &format!("{chunk:?}"));
    assert!(
        seen.iter().all(|p| !p.uri.to_string().contains("SECRET")),
        "no token in a URL"
    );
}

#[tokio::test]
async fn the_handle_and_the_reports_show_no_token() {
    let (storage, _) = scripted_dstor(&format!(
        r#"{{"status":"DONE","data":[{{"Hash":"{}","Name":"hello.txt"}}]}}"#,
        crate::support::HELLO_CID
    ));
    assert_clean("Storage Debug", &format!("{storage:?}"));
    let report = storage
        .upload(Upload::new().bytes("hello.txt", "hello\n"))
        .await
        .unwrap();
    assert!(report.all_verified());
    assert_clean("report Debug", &format!("{report:?}"));
}
