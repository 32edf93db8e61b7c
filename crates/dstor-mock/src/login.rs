//! `POST /v1/dev/temp-token`: login credentials for a token.

use http::header::CONTENT_TYPE;
use http::request::Parts;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;

use crate::body::MockBody;
use crate::service::{message, mint};
use crate::state::Shared;

/// The largest login body read: far more than an email and a password.
const MAX_LOGIN_BODY: usize = 16 * 1024;

/// The email of the account made when none is given.
pub(crate) const GENERATED_EMAIL: &str = "dev@fake.dstor.test";

/// The length of a generated password.
pub(crate) const GENERATED_PASSWORD_LEN: usize = 24;

/// The answer to a login: a token for a known email and password, `401` for a wrong pair,
/// `400` for a body that is not JSON `{"email": "…", "password": "…"}`.
pub(crate) async fn handle(shared: &Shared, parts: &Parts, body: Incoming) -> Response {
    if !is_json(&parts.headers) {
        return message(
            StatusCode::BAD_REQUEST,
            "content-type must be application/json",
        );
    }
    let Ok(collected) = Limited::new(body, MAX_LOGIN_BODY).collect().await else {
        return message(StatusCode::BAD_REQUEST, "the body could not be read");
    };
    let Some((email, password)) = credentials(&collected.to_bytes()) else {
        return message(
            StatusCode::BAD_REQUEST,
            r#"the body must be JSON {"email": "...", "password": "..."}"#,
        );
    };
    let known = shared
        .accounts
        .iter()
        .any(|(e, p)| e.eq_ignore_ascii_case(&email) && *p == password);
    if !known {
        return message(StatusCode::UNAUTHORIZED, "invalid email or password");
    }
    mint(shared, &parts.headers, &email.to_ascii_lowercase())
}

type Response = http::Response<MockBody>;

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// The email and password of a JSON object holding both as strings.
fn credentials(body: &[u8]) -> Option<(String, String)> {
    let serde_json::Value::Object(mut map) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let take = |map: &mut serde_json::Map<String, serde_json::Value>, key| match map.remove(key) {
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    };
    let email = take(&mut map, "email")?;
    let password = take(&mut map, "password")?;
    Some((email, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_an_object_with_two_strings() {
        assert_eq!(
            credentials(br#"{"email":"a@b","password":"p"}"#),
            Some(("a@b".to_owned(), "p".to_owned()))
        );
        for bad in [
            &br#"{"email":"a@b"}"#[..],
            br#"{"email":"a@b","password":1}"#,
            br#"["a@b","p"]"#,
            b"email=a@b&password=p",
            b"",
        ] {
            assert_eq!(credentials(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
