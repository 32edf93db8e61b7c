use std::time::UNIX_EPOCH;

use super::*;

const KEY: &str = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn parse(status: u16, body: &str) -> Result<AccessToken, ApiError> {
    let key = ApiKey::new(KEY).unwrap();
    parse_token_response(&response(status, body), None, Some(&key))
}

#[test]
fn a_token_body_gives_a_token() {
    let token = parse(200, r#"{"access_token":"abc.def.ghi"}"#).unwrap();
    assert_eq!(token.expose_secret(), "abc.def.ghi");
}

#[test]
fn a_non_jwt_token_takes_the_requested_expiry() {
    let requested = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let token = parse_token_response(
        &response(200, r#"{"access_token":"opaque"}"#),
        Some(requested),
        None,
    )
    .unwrap();
    assert_eq!(token.expires_at(), Some(requested));
}

#[test]
fn bad_bodies_are_decode_errors_that_never_echo_the_body() {
    let cases = [
        ("not json", InvalidBody::NotJson),
        ("[]", InvalidBody::NotJson),
        (r#"{"token":"x"}"#, InvalidBody::MissingToken),
        (r#"{"access_token":17}"#, InvalidBody::MissingToken),
        (
            r#"{"access_token":""}"#,
            InvalidBody::BadToken(TokenError::Empty),
        ),
    ];
    for (body, reason) in cases {
        assert_eq!(
            parse(200, body).unwrap_err(),
            ApiError::InvalidBody { reason },
            "{body}"
        );
    }
    let err = parse(200, r#"{"access_token":"secret token"}"#).unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[test]
fn each_status_class_maps_to_its_error() {
    assert!(matches!(parse(400, ""), Err(ApiError::BadRequest { .. })));
    assert!(matches!(
        parse(401, ""),
        Err(ApiError::KeyRejected { status: 401, .. })
    ));
    assert!(matches!(
        parse(403, ""),
        Err(ApiError::KeyRejected { status: 403, .. })
    ));
    assert!(matches!(parse(404, ""), Err(ApiError::NotFound { .. })));
    assert!(matches!(
        parse(408, ""),
        Err(ApiError::Throttled { status: 408, .. })
    ));
    assert!(matches!(
        parse(429, ""),
        Err(ApiError::Throttled { status: 429, .. })
    ));
    assert!(matches!(
        parse(503, ""),
        Err(ApiError::Server { status: 503, .. })
    ));
    assert!(matches!(
        parse(302, ""),
        Err(ApiError::Redirect { status: 302 })
    ));
    assert!(matches!(
        parse(418, ""),
        Err(ApiError::UnexpectedStatus { status: 418, .. })
    ));
}

#[test]
fn retryable_and_permanent_are_told_apart() {
    for status in [408, 429, 500, 502, 503, 504] {
        assert!(parse(status, "").unwrap_err().is_retryable(), "{status}");
    }
    for status in [301, 302, 307, 400, 401, 403, 404, 501, 505] {
        assert!(!parse(status, "").unwrap_err().is_retryable(), "{status}");
    }
    for status in [400, 401, 403] {
        assert!(parse(status, "").unwrap_err().is_permanent(), "{status}");
    }
}

#[test]
fn messages_carry_the_servers_words_but_never_the_key_or_a_token() {
    let err = parse(401, r#"{"message":"Invalid API key"}"#).unwrap_err();
    assert_eq!(
        err,
        ApiError::KeyRejected {
            status: 401,
            message: Some("Invalid API key".into())
        }
    );
    assert_eq!(
        err.to_string(),
        "the API key was rejected (401): check DSTOR_API_KEY, whether the key expired or was \
         revoked, and whether it was made for testnet or production (dStor said \"Invalid API key\")"
    );

    let err = parse(401, &format!(r#"{{"error":"unknown key {KEY}"}}"#)).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(KEY), "{text}");
    assert!(text.contains("unknown key [redacted]"), "{text}");

    let err = parse(500, "boom eyJhbGciOi.eyJzdWIiOiJ4In0.sig happened").unwrap_err();
    assert!(!err.to_string().contains("eyJzdWIi"), "{err}");
}

#[test]
fn messages_are_short_and_on_one_line() {
    let long = "x".repeat(10_000);
    let err = parse(503, &format!("line one\nline two {long}")).unwrap_err();
    let ApiError::Server {
        message: Some(m), ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(m.chars().count(), MAX_MESSAGE_CHARS);
    assert!(m.starts_with("line one line two x"));
    assert!(matches!(
        parse(502, "<html><body>bad gateway</body></html>"),
        Err(ApiError::Server { message: None, .. })
    ));
}

#[test]
fn retry_after_reads_seconds_and_dates() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, "2".parse().unwrap());
    assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(2)));
    let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
    headers.insert(RETRY_AFTER, later.parse().unwrap());
    assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
    let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
    headers.insert(RETRY_AFTER, past.parse().unwrap());
    assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
    headers.insert(RETRY_AFTER, "soon".parse().unwrap());
    assert_eq!(retry_after(&headers, now), None);
}

#[test]
fn a_429_carries_its_retry_after() {
    let response = http::Response::builder()
        .status(429)
        .header("retry-after", "7")
        .body(Vec::new())
        .unwrap();
    let err = parse_token_response(&response, None, None).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
}

#[test]
fn messages_say_what_happened_then_what_to_do() {
    let text = |status: u16, body: &str, retry_after: Option<&str>| {
        let mut response = response(status, body);
        if let Some(value) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, value.parse().unwrap());
        }
        parse_token_response(&response, None, None)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        text(400, "", None),
        "dStor refused the request as malformed (400): check the requested token expiration"
    );
    assert_eq!(
        text(429, "slow down", Some("7")),
        "dStor is throttling requests (429): retry in 7 s (dStor said \"slow down\")"
    );
    assert_eq!(
        text(503, "", None),
        "dStor answered with a server error (503): retry later"
    );
    // 501 is not retried, so the message does not say to retry.
    assert_eq!(
        text(501, "", None),
        "dStor answered with a server error (501): check the endpoint URL, and report it to \
         dStor if it persists"
    );
    assert_eq!(
        text(200, r#"{"token":"x"}"#, None),
        "dStor's token response could not be read (the JSON has no access_token string): \
         check that the endpoint is dStor's API"
    );
    for status in [302, 400, 401, 404, 418, 429, 500, 501] {
        let message = text(status, "", None);
        assert!(message.contains(&format!("({status})")), "{message}");
        assert!(
            message.contains(": check") || message.contains(": retry"),
            "{message}"
        );
        assert!(message.starts_with(|c: char| c.is_lowercase()), "{message}");
    }
}

#[test]
fn a_date_header_records_the_servers_clock() {
    let server_now = SystemTime::now() - Duration::from_secs(3600);
    let response = http::Response::builder()
        .status(200)
        .header("date", httpdate::fmt_http_date(server_now))
        .body(br#"{"access_token":"opaque"}"#.to_vec())
        .unwrap();
    let token = parse_token_response(&response, None, None).unwrap();
    let offset = token.server_clock_offset().unwrap();
    assert!((-3602..=-3598).contains(&offset), "{offset}");
    let undated = parse(200, r#"{"access_token":"opaque"}"#).unwrap();
    assert_eq!(undated.server_clock_offset(), None);
}
