use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dstor_types::{AccessToken, ApiError, ApiKey, Environment, TokenRequest};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::assertions::{bounded, never_shows};
use crate::harness::check;
use crate::split::{split, splitter};

/// An exchange with a random key, the key's text, and a random opaque token.
fn secrets() -> impl Strategy<Value = (String, String)> {
    ("[A-Za-z0-9]{64}", "[A-Za-z0-9_-]{20,60}")
        .prop_map(|(key, token)| (key, format!("tok{token}")))
}

/// Bodies: token answers, near-valid and cut JSON, messages that echo the key or the token
/// (split by control or invisible characters), deep nesting, huge numbers, non-UTF-8.
fn bodies(key: String, token: String) -> impl Strategy<Value = Vec<u8>> {
    let (k, t) = (key.clone(), token.clone());
    let echo = (
        splitter(),
        any::<usize>(),
        any::<usize>(),
        "[ -~]{0,30}",
        0..6usize,
    )
        .prop_map(move |(sep, a, b, words, shape)| {
            let key = split(&k, sep, a);
            let token = split(&t, sep, b);
            let text = format!("{words} {key} {token} {words}");
            match shape {
                0 => json!({ "message": text }).to_string(),
                1 => json!({ "error": text }).to_string(),
                2 => json!({ "detail": text, "access_token": t }).to_string(),
                3 => json!({ "access_token": t, "expires_in": 36 }).to_string(),
                4 => format!(r#"{{"access_token":"{token}","expires_in":36"#),
                _ => text,
            }
        });
    let t2 = token;
    let near = prop_oneof![
        Just(json!({ "access_token": t2 }).to_string()),
        Just(format!(r#"{{"access_token": "{t2}" }}"#)),
        Just(format!(r#"{{"access_token":"{t2}""#)),
        Just(format!(r#"{{"access_token":["{t2}"]}}"#)),
        Just(format!(r#"{{"ac\u0000cess_token":"{t2}"}}"#)),
        Just(format!(r#""{t2}""#)),
        "[0-9]{20,400}".prop_map(|n| format!(r#"{{"access_token":"x","n":{n}}}"#)),
        (0..2000usize).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d))),
        (0..2000usize).prop_map(|d| format!("{}1", "{\"a\":".repeat(d))),
        Just("<html><body>bad gateway</body></html>".to_owned()),
    ];
    let key_bytes = key.into_bytes();
    let raw = proptest::collection::vec(any::<u8>(), 0..300).prop_map(move |mut bytes| {
        bytes.extend_from_slice(b" ");
        bytes.extend_from_slice(&key_bytes);
        bytes
    });
    prop_oneof![
        3 => echo.prop_map(String::into_bytes),
        2 => near.prop_map(String::into_bytes),
        1 => raw,
    ]
}

/// `Retry-After` values: seconds, signed, huge, HTTP dates, garbage.
fn retry_afters() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        any::<u32>().prop_map(|n| n.to_string()),
        "[0-9]{20,30}".prop_map(String::from),
        "[+-][0-9]{1,3}".prop_map(String::from),
        http_dates(),
        "[ -~]{0,20}".prop_map(String::from),
    ])
}

/// HTTP dates from year 1970 to 9999, and near misses.
fn http_dates() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..253_402_300_799u64)
            .prop_map(|s| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(s))),
        (0..4_000_000_000u64)
            .prop_map(|s| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(s))),
        "(Mon|Sun|Xyz), [0-9]{2} (Jan|Feb|Foo) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
            .prop_map(String::from),
    ]
}

fn answers() -> impl Strategy<Value = (String, String, u16, Option<String>, Option<String>, Vec<u8>)>
{
    secrets().prop_flat_map(|(key, token)| {
        let status = prop_oneof![
            Just(200u16),
            Just(201),
            Just(204),
            Just(400),
            Just(401),
            Just(403),
            Just(404),
            Just(408),
            Just(429),
            Just(500),
            Just(502),
            Just(503),
            Just(302),
            Just(418),
            100..1000u16,
        ];
        let date = proptest::option::of(http_dates());
        (
            Just(key.clone()),
            Just(token.clone()),
            status,
            retry_afters(),
            date,
            bodies(key, token),
        )
    })
}

fn exchange(key: &str) -> TokenRequest {
    let key = ApiKey::new(key).expect("a generated key is valid");
    TokenRequest::new(Environment::Testnet.base_url(), key).expect("testnet is https")
}

fn response(
    status: u16,
    retry_after: Option<&str>,
    date: Option<&str>,
    body: Vec<u8>,
) -> Option<http::Response<Vec<u8>>> {
    let mut builder = http::Response::builder().status(status);
    if let Some(value) = retry_after {
        builder = builder.header("retry-after", value);
    }
    if let Some(value) = date {
        builder = builder.header("date", value);
    }
    builder.body(body).ok()
}

/// The wait `Retry-After: value` asks for, read between `before` and `after`, as RFC 9110
/// and the `httpdate` crate say: digits (saturating), or a date.
fn expected_wait(
    value: &str,
    before: SystemTime,
    after: SystemTime,
) -> Option<(Duration, Duration)> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let d = Duration::from_secs(value.parse().unwrap_or(u64::MAX));
        return Some((d, d));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let least = date.duration_since(after).unwrap_or(Duration::ZERO);
    let most = date.duration_since(before).unwrap_or(Duration::ZERO);
    Some((least, most))
}

#[test]
fn fuzz_token_response() {
    check(
        "token_response",
        file!(),
        answers(),
        |(key, token, status, retry, date, body)| {
            let Some(answer) = response(status, retry.as_deref(), date.as_deref(), body.clone())
            else {
                return Ok(()); // not a response `http` can hold
            };
            let before = SystemTime::now();
            let result = exchange(&key).parse_response(answer);
            let after = SystemTime::now();
            match result {
                Ok(got) => {
                    prop_assert!((200..300).contains(&status), "a token from a {status}");
                    let debug = format!("{got:?}");
                    never_shows(&debug, &token, "AccessToken's Debug")?;
                    never_shows(&debug, &key, "AccessToken's Debug")?;
                    let read: Value =
                        serde_json::from_slice(&body).expect("a token came from JSON");
                    prop_assert_eq!(Some(got.expose_secret()), read["access_token"].as_str());
                    // The server's clock is taken from a `Date` that httpdate reads.
                    let dated = date
                        .as_deref()
                        .and_then(|d| httpdate::parse_http_date(d).ok());
                    prop_assert_eq!(got.server_clock_offset().is_some(), dated.is_some());
                }
                Err(err) => {
                    let text = format!("{err} {err:?} {err:#?}");
                    never_shows(&text, &key, "an ApiError")?;
                    never_shows(&text, &token, "an ApiError")?;
                    bounded(&err.to_string(), 700)?;
                    prop_assert_eq!(err.status().is_none(), (200..300).contains(&status));
                    if let ApiError::Throttled { .. } | ApiError::Server { .. } = err {
                        let expected = retry
                            .as_deref()
                            .and_then(|v| expected_wait(v, before, after));
                        match (err.retry_after(), expected) {
                            (None, None) => {}
                            (Some(got), Some((least, most))) => {
                                prop_assert!(least <= got && got <= most, "{got:?} for {retry:?}");
                            }
                            (got, want) => {
                                return Err(TestCaseError::fail(format!(
                                    "{got:?} for {retry:?}, want {want:?}"
                                )));
                            }
                        }
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn a_valid_token_answer_is_always_accepted() {
    let strategy = (secrets(), proptest::option::of(http_dates()));
    check(
        "token_response_valid",
        file!(),
        strategy,
        |((key, token), date)| {
            let body = json!({ "access_token": token }).to_string().into_bytes();
            let answer = response(200, None, date.as_deref(), body).expect("a valid response");
            let got = exchange(&key).parse_response(answer);
            prop_assert!(
                got.as_ref().is_ok_and(|t| t.expose_secret() == token),
                "{got:?}"
            );
            prop_assert!(got.is_ok_and(|t: AccessToken| !t.is_jwt()));
            Ok(())
        },
    );
}
