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
    parse_token_response(&response(status, body), None, KEY, SystemTime::now())
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
        "",
        SystemTime::now(),
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
        "the API key was rejected (401): check the key, whether it expired or was revoked, and \
         whether it was made for testnet or production (dStor said \"Invalid API key\")"
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
    let long = "word ".repeat(2_000);
    let err = parse(503, &format!("line one\nline two {long}")).unwrap_err();
    let ApiError::Server {
        message: Some(m), ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(m.chars().count(), MAX_MESSAGE_CHARS);
    assert!(m.starts_with("line one line two word"), "{m}");
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
    let err = parse_token_response(&response, None, "", SystemTime::now()).unwrap_err();
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
        parse_token_response(&response, None, "", SystemTime::now())
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
    let token = parse_token_response(&response, None, "", SystemTime::now()).unwrap();
    let offset = token.server_clock_offset().unwrap();
    assert!((-3602..=-3598).contains(&offset), "{offset}");
    let undated = parse(200, r#"{"access_token":"opaque"}"#).unwrap();
    assert_eq!(undated.server_clock_offset(), None);
}

#[test]
fn no_error_names_a_variable_the_protocol_crate_does_not_know() {
    for status in [400, 401, 403, 404, 418, 429, 500, 501] {
        let message = parse(status, "").unwrap_err().to_string();
        assert!(!message.contains("DSTOR_"), "{message}");
    }
}

/// Issue 12, defect 1: a JSON body shows only its message; a text body no token.
#[test]
fn a_token_like_value_in_an_error_body_is_never_echoed() {
    let body = b"{\"ac\x94ceCss_token\":\t\x90\"1e3084AXj4XfX6G\"}";
    let mut answer = response(418, "");
    *answer.body_mut() = body.to_vec();
    let err = parse_token_response(&answer, None, KEY, SystemTime::now()).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("1e3084AXj4XfX6G"), "{text}");
    assert!(
        matches!(err, ApiError::UnexpectedStatus { message: None, .. }),
        "{err:?}"
    );

    let err = parse(418, r#"{"access_token":"opaque","message":"teapot"}"#).unwrap_err();
    assert_eq!(
        err,
        ApiError::UnexpectedStatus {
            status: 418,
            message: Some("teapot".into())
        }
    );
    for body in [
        r#"{"access_token":"1e3084AXj4XfX6G"}"#,
        r#"{"detail":{"token":"1e3084AXj4XfX6G"}}"#,
        r#"["1e3084AXj4XfX6G"]"#,
    ] {
        let err = parse(500, body).unwrap_err();
        assert!(!err.to_string().contains("said"), "{err}");
    }
    let err = parse(
        500,
        "token 1e3084AXj4XfX6G expired, try opaque-secret-token-1234",
    )
    .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("1e3084AXj4XfX6G") && !text.contains("opaque-secret"),
        "{text}"
    );
    assert!(
        text.contains("token [redacted] expired, try [redacted]"),
        "{text}"
    );
    // Words stay words.
    let err = parse(401, r#"{"error":"invalid_api_key: Unauthorized"}"#).unwrap_err();
    assert!(
        err.to_string().contains("invalid_api_key: Unauthorized"),
        "{err}"
    );
}

/// Issue 12, defect 2: control characters are removed before the key is looked for.
#[test]
fn a_key_or_jwt_split_by_control_characters_is_still_scrubbed() {
    let split = |sep: &str| format!("{}{sep}{}", &KEY[..21], &KEY[21..]);
    for sep in ["\x01", "\u{0}", "\u{7f}", "\u{200b}", "\u{feff}"] {
        let text_body = format!("bad key {}", split(sep));
        let json_message = serde_json::json!({ "message": format!("bad key {}", split(sep)) });
        let json_error = serde_json::json!({ "error": format!("bad key {}", split(sep)) });
        for body in [text_body, json_message.to_string(), json_error.to_string()] {
            let err = parse(401, &body).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(
                !text.contains(&KEY[..21]) && !text.contains(&KEY[21..]),
                "{sep:?}: {text}"
            );
            assert!(text.contains("bad key [redacted]"), "{sep:?}: {text}");
        }
    }
    let jwt = "e\u{1}yJhbGciOiJub25lIn0.e\u{1}yJzdWIiOiJ4In0.c2ln";
    let err = parse(500, &serde_json::json!({ "message": jwt }).to_string()).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("yJzdWIi"), "{err}");
    // A truncated token answer is not a message.
    let err = parse(
        502,
        r#"{"access_token":"opaque-secret-token-1234","expires_in":36"#,
    )
    .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("opaque-secret"), "{err}");
    assert_eq!(
        err.to_string(),
        "dStor answered with a server error (502): retry later"
    );
}

/// Issue 12, defect 4: `Retry-After` is `1*DIGIT` or an HTTP date; huge values saturate.
#[test]
fn retry_after_takes_digits_only_and_saturates() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let wait = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, value.parse().unwrap());
        retry_after(&headers, now)
    };
    for signed in ["+0", "+7", "-1", " +3", "1.5", "0x10", "7s"] {
        assert_eq!(wait(signed), None, "{signed:?}");
    }
    assert_eq!(wait("007"), Some(Duration::from_secs(7)));
    assert_eq!(
        wait("99999999999999999999999"),
        Some(Duration::from_secs(u64::MAX))
    );
}
