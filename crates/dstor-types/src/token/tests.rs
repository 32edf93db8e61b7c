use super::*;

const DOCS_TOKEN: &str = "eyJhbsomebiglongstring9.eyJkIjpmYWxzZSwibyI6ZmFsc2UsInMiOmZhbHNlLCJ0IjpudWxsLCJpYXQiOjE2MzI3ODg4MzcsImV4cCI6MTYzMjc5MjQzNywiYXVkIjoiZHN0b3IuY2xvdWQiLCJpc3MiOiJkc3Rvci5jbG91ZCIsInN1YiI6ImIyZTI3ODE3LTA0MzktNDViZC04YTNkLTVjNTk2MTg1YmQwNSJ9.PyKa8sILa7nyD-4eI4lA0xjFBPcncNZQL4_iclZ_Fs8";

#[test]
fn reads_the_docs_example() {
    let token = AccessToken::new(DOCS_TOKEN).unwrap();
    let claims = token.claims();
    assert_eq!(claims.exp, Some(1_632_792_437));
    assert_eq!(claims.iat, Some(1_632_788_837));
    assert_eq!(claims.aud, vec!["dstor.cloud".to_owned()]);
    assert_eq!(claims.iss.as_deref(), Some("dstor.cloud"));
    assert_eq!(
        token.subject(),
        Some("b2e27817-0439-45bd-8a3d-5c596185bd05")
    );
    assert_eq!(token.issued_lifetime(), Some(Duration::from_secs(3600)));
    assert_eq!(
        token.expires_at(),
        Some(UNIX_EPOCH + Duration::from_secs(1_632_792_437))
    );
}

#[test]
fn a_token_that_is_not_a_jwt_takes_the_requested_expiry() {
    let requested = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let token = AccessToken::with_requested_expiry("opaque-token", Some(requested)).unwrap();
    assert!(!token.is_jwt());
    assert_eq!(token.expires_at(), Some(requested));
    assert_eq!(token.issued_lifetime(), None);
    let unknown = AccessToken::new("opaque-token").unwrap();
    assert_eq!(unknown.expires_at(), None);
    assert_eq!(unknown.remaining_at(SystemTime::now()), None);
}

#[test]
fn the_exp_claim_wins_over_the_requested_expiry() {
    let requested = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let token = AccessToken::with_requested_expiry(DOCS_TOKEN, Some(requested)).unwrap();
    assert_eq!(
        token.expires_at(),
        Some(UNIX_EPOCH + Duration::from_secs(1_632_792_437))
    );
    assert_eq!(token.remaining_at(SystemTime::now()), Some(Duration::ZERO));
}

#[test]
fn the_servers_date_corrects_a_skewed_local_clock() {
    let payload = r#"{"iat":1700000000,"exp":1700003600}"#;
    let payload = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)
    };
    let token = AccessToken::new(format!("e30.{payload}.sig")).unwrap();
    let server_now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    // The local clock is ten minutes fast: by it alone, fifty minutes are left.
    let local_now = server_now + Duration::from_secs(600);
    assert_eq!(
        token.remaining_at(local_now),
        Some(Duration::from_secs(3000))
    );
    let dated = token.with_server_date(server_now, local_now);
    assert_eq!(dated.server_clock_offset(), Some(-600));
    assert_eq!(
        dated.remaining_at(local_now),
        Some(Duration::from_secs(3600))
    );
    // Ten minutes slow: seventy by the local clock, sixty in truth.
    let local_now = server_now - Duration::from_secs(600);
    let dated = AccessToken::new(format!("e30.{payload}.sig"))
        .unwrap()
        .with_server_date(server_now, local_now);
    assert_eq!(
        dated.remaining_at(local_now),
        Some(Duration::from_secs(3600))
    );
    // A second apart is the header's resolution, not a skew.
    let dated = dated.with_server_date(server_now, server_now + Duration::from_millis(1500));
    assert_eq!(dated.server_clock_offset(), Some(0));
}

#[test]
fn debug_and_header_debug_hide_the_token() {
    let token = AccessToken::new(DOCS_TOKEN).unwrap();
    let debug = format!("{token:?}");
    assert!(!debug.contains("PyKa8sILa7"), "{debug}");
    assert!(debug.contains("1632792437"), "{debug}");
    let header = token.authorization_header();
    assert!(header.is_sensitive());
    assert_eq!(header.to_str().unwrap(), format!("Bearer {DOCS_TOKEN}"));
    assert!(!format!("{header:?}").contains("PyKa8sILa7"));
}

#[test]
fn refuses_tokens_that_cannot_be_a_header() {
    assert_eq!(AccessToken::new("").unwrap_err(), TokenError::Empty);
    assert!(matches!(
        AccessToken::new("abc def").unwrap_err(),
        TokenError::InvalidCharacter { position: 4, .. }
    ));
    assert!(matches!(
        AccessToken::new("a".repeat(MAX_TOKEN_LEN + 1)).unwrap_err(),
        TokenError::TooLong { .. }
    ));
}

#[test]
fn clones_share_and_compare_by_token() {
    let a = AccessToken::new("one").unwrap();
    assert_eq!(a, a.clone());
    assert_eq!(a, AccessToken::new("one").unwrap());
    assert_ne!(a, AccessToken::new("two").unwrap());
    // A clone is the same token in memory, not a second copy of the secret.
    assert!(Arc::ptr_eq(&a.clone().inner, &a.inner));
}

/// Issue 12, defect 3: a server clock about 2^63 s behind (or ahead) panics nowhere.
#[test]
fn an_absurd_server_date_is_recorded_without_panicking() {
    let received = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let far_behind = UNIX_EPOCH
        .checked_sub(Duration::from_secs(i64::MAX as u64 - 1_700_000_000))
        .unwrap_or(UNIX_EPOCH);
    for server in [
        far_behind,
        UNIX_EPOCH,
        received + Duration::from_secs(u32::MAX.into()),
    ] {
        let token = AccessToken::new(DOCS_TOKEN)
            .unwrap()
            .with_server_date(server, received);
        let _ = token.remaining_at(received);
        assert!(token.server_clock_offset().is_some());
    }
    // i64::MIN itself: the offset saturates and is kept as it is.
    let behind = received.checked_sub(Duration::from_secs(1 << 63));
    if let Some(server) = behind {
        let token = AccessToken::new("opaque")
            .unwrap()
            .with_server_date(server, received);
        assert_eq!(token.server_clock_offset(), Some(i64::MIN));
        assert_eq!(token.remaining_at(received), None);
    }
}
