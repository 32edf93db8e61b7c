use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use dstor_types::AccessToken;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::assertions::{bounded, never_shows};
use crate::harness::check;

/// A JSON value for a time claim: integers of any size, floats, huge and odd numbers,
/// and values of the wrong type.
fn numeric_dates() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-2_000_000_000i64..4_000_000_000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| Value::from(f).to_string()),
        "[0-9]{19,40}".prop_map(String::from),
        "-?[0-9]{1,3}(\\.[0-9]{1,5})?[eE][+-]?[0-9]{1,4}".prop_map(String::from),
        Just("\"soon\"".to_owned()),
        Just("null".to_owned()),
        Just("[1]".to_owned()),
    ]
}

/// What a time claim reads as: whole Unix seconds, a float rounded down when within
/// ±2^53, else absent.
fn expected_seconds(literal: &str) -> Option<i64> {
    let value: Value = serde_json::from_str(literal).ok()?;
    if let Some(i) = value.as_i64() {
        return Some(i);
    }
    let f = value.as_f64()?;
    (f.is_finite() && f.abs() < 9.0e15).then(|| f.floor() as i64)
}

/// JSON nested `depth` levels deep, around an `exp`.
fn nested(depth: usize) -> String {
    format!("{}{{\"exp\":1}}{}", "[".repeat(depth), "]".repeat(depth))
}

/// A payload segment: claims JSON, deep nesting or bytes, in one of the encodings seen.
fn payloads() -> impl Strategy<Value = (Vec<u8>, Option<(String, String)>)> {
    let claims = (numeric_dates(), numeric_dates(), "[ -~]{0,40}").prop_map(|(exp, iat, sub)| {
        let sub = Value::from(sub).to_string();
        let text = format!(r#"{{"exp":{exp},"iat":{iat},"sub":{sub},"aud":["a",1]}}"#);
        // A number beyond f64 (`1e400`) makes the whole payload unreadable.
        let readable = serde_json::from_str::<Value>(&text).is_ok_and(|v| v.is_object());
        (text.into_bytes(), readable.then_some((exp, iat)))
    });
    prop_oneof![
        4 => claims,
        1 => (0..300usize).prop_map(|d| (nested(d).into_bytes(), None)),
        1 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| (b, None)),
    ]
}

fn tokens() -> impl Strategy<Value = (String, Option<(String, String)>)> {
    let jwt = (
        "[A-Za-z0-9_-]{0,30}",
        payloads(),
        "[A-Za-z0-9_-]{0,40}",
        0..3usize,
    )
        .prop_map(|(header, (payload, claims), signature, encoding)| {
            let payload = match encoding {
                0 => URL_SAFE_NO_PAD.encode(payload),
                1 => URL_SAFE.encode(payload),
                _ => STANDARD.encode(payload),
            };
            (format!("{header}.{payload}.{signature}"), claims)
        });
    prop_oneof![
        4 => jwt,
        1 => "[!-~]{1,80}".prop_map(|t| (t, None)),
        1 => any::<String>().prop_map(|t| (t, None)),
    ]
}

fn times() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        (0..u64::from(u32::MAX) * 64).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        any::<u64>().prop_map(|s| UNIX_EPOCH
            .checked_sub(Duration::from_secs(s))
            .unwrap_or(UNIX_EPOCH)),
        any::<u64>().prop_map(|s| UNIX_EPOCH
            .checked_add(Duration::from_secs(s))
            .unwrap_or(UNIX_EPOCH)),
    ]
}

#[test]
fn fuzz_jwt_claims() {
    let cases = (tokens(), times(), times(), times());
    check(
        "jwt_claims",
        file!(),
        cases,
        |((text, claims), server, received, now)| {
            let token = match AccessToken::new(text.clone()) {
                Ok(token) => token,
                Err(err) => {
                    let shown = format!("{err} {err:?}");
                    bounded(&shown, 300)?;
                    if text.len() >= 20 {
                        never_shows(&shown, &text, "a TokenError")?;
                    }
                    prop_assert!(
                        text.is_empty()
                            || text.len() > 16 * 1024
                            || !text.chars().all(|c| c.is_ascii_graphic()),
                        "refused {text:?}: {err}"
                    );
                    return Ok(());
                }
            };
            if let Some((exp, iat)) = &claims {
                prop_assert!(token.is_jwt());
                prop_assert_eq!(token.claims().exp, expected_seconds(exp));
                prop_assert_eq!(token.claims().iat, expected_seconds(iat));
            }
            // Every reading is total, at any time and with any server clock.
            let dated = token.clone().with_server_date(server, received);
            for t in [&token, &dated] {
                let _ = (
                    t.expires_at(),
                    t.issued_at(),
                    t.issued_lifetime(),
                    t.remaining_at(now),
                );
                let debug = format!("{t:?}");
                if text.len() >= 20 {
                    never_shows(&debug, &text, "AccessToken's Debug")?;
                }
            }
            prop_assert!(dated.same_token(&token));
            let header = token.authorization_header();
            prop_assert!(header.is_sensitive());
            let expected = format!("Bearer {text}");
            prop_assert_eq!(header.as_bytes(), expected.as_bytes());
            Ok(())
        },
    );
}

#[test]
fn nested_json_past_the_parsers_limit_is_not_a_jwt_and_no_panic() {
    let deep = format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(nested(5_000)));
    let token = AccessToken::new(deep).unwrap();
    assert_eq!(token.claims().exp, None);
    let claims = json!({"exp": 1, "sub": "x"}).to_string();
    let token = AccessToken::new(format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims))).unwrap();
    assert_eq!(token.claims().exp, Some(1));
}
