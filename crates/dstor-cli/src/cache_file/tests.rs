use super::*;
use std::time::Duration;

fn jwt(iat: i64, exp: i64) -> AccessToken {
    // Header and signature are never decoded; the payload is base64url JSON.
    let payload = format!(r#"{{"iat":{iat},"exp":{exp},"sub":"s"}}"#);
    let b64 = base64url(payload.as_bytes());
    AccessToken::new(format!("h.{b64}.s")).unwrap()
}

fn base64url(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn tokens_are_reused_for_three_quarters_of_their_life() {
    let token = jwt(1000, 2000);
    assert!(token.is_jwt());
    assert!(is_reusable(&token, 1000, at(1000)));
    assert!(is_reusable(&token, 1000, at(1749)));
    assert!(!is_reusable(&token, 1000, at(1750)));
    assert!(!is_reusable(&token, 1000, at(2100)));
}

#[test]
fn a_local_clock_behind_the_servers_never_reuses_an_expired_token() {
    // The server's clock says 10_000 at issue; the local clock is 120 s behind, so the
    // fetch began at 9_880 local. A 5-minute token expires at 10_300 server time, which
    // is 10_180 local. Counting from `iat`, it was reused until 10_225 local: 45 s
    // after it expired.
    let token = jwt(10_000, 10_300);
    let fetched_at = 9_880;
    assert!(is_reusable(&token, fetched_at, at(9_880)));
    assert!(is_reusable(&token, fetched_at, at(10_104)));
    for local in [10_105, 10_180, 10_224, 10_225, 10_300] {
        assert!(!is_reusable(&token, fetched_at, at(local)), "{local}");
    }
}

#[test]
fn a_local_clock_ahead_of_the_servers_still_honours_exp() {
    // The local clock is 200 s ahead: the fetch began at 10_200 local, when the server
    // said 10_000. The window from `fetched_at` ends at 10_425, but by the local clock
    // the token expires at 10_300: it is not reused within the margin (5 s) of that.
    let token = jwt(10_000, 10_300);
    let fetched_at = 10_200;
    assert!(is_reusable(&token, fetched_at, at(10_200)));
    assert!(is_reusable(&token, fetched_at, at(10_294)));
    for local in [10_295, 10_300, 10_424] {
        assert!(!is_reusable(&token, fetched_at, at(local)), "{local}");
    }
    // Expired by the local clock when fetched: never reused.
    assert!(!is_reusable(&token, 10_400, at(10_400)));
    // A short token's margin is a quarter of its life: a 4 s token, 1 s.
    let short = jwt(1000, 1004);
    assert!(is_reusable(&short, 1000, at(1002)));
    assert!(!is_reusable(&short, 1000, at(1003)));
}

#[test]
fn a_clock_that_went_back_means_no_reuse() {
    let token = jwt(1000, 2000);
    assert!(!is_reusable(&token, 1000, at(999)));
    assert!(!is_reusable(&token, 1500, at(1200)));
}

#[test]
fn absurd_claims_are_not_reused_and_do_not_panic() {
    // `exp - iat` overflows i64 here: no panic, and the claims alone decide.
    assert!(is_reusable(&jwt(i64::MIN, i64::MAX), 1000, at(1000)));
    for (iat, exp) in [
        (i64::MAX, i64::MIN),
        (i64::MAX, i64::MAX),
        (i64::MIN, i64::MIN),
    ] {
        assert!(!is_reusable(&jwt(iat, exp), 1000, at(1000)), "{iat} {exp}");
    }
    assert!(!is_reusable(&jwt(1000, 2000), i64::MAX, at(1000)));
    assert!(!is_reusable(&jwt(1000, 2000), i64::MIN, at(1000)));
}

#[test]
fn the_reuse_window_is_the_in_process_caches_refresh_ahead() {
    assert_eq!(
        REUSE_FRACTION,
        dstor_auth::CacheConfig::default().refresh_ahead
    );
}

#[test]
fn the_directory_follows_xdg() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |var: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(
        cache_dir(env(&[("DSTOR_CACHE_DIR", "/c"), ("HOME", "/h")])),
        Some("/c".into())
    );
    assert_eq!(
        cache_dir(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
        Some("/x/dstor/tokens".into())
    );
    assert_eq!(
        cache_dir(env(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")])),
        Some("/h/.cache/dstor/tokens".into())
    );
    assert_eq!(cache_dir(env(&[])), None);
}

#[test]
fn a_stored_token_is_loaded_only_for_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = BaseUrl::parse("http://127.0.0.1:1").unwrap();
    let key = ApiKey::new("k".repeat(64)).unwrap();
    let other = ApiKey::new("o".repeat(64)).unwrap();
    let slot = CacheSlot::new(dir.path(), "custom", &base, &key, "in:3600");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let token = jwt(now, now + 3600);
    slot.store(&token, SystemTime::now()).unwrap();
    assert_eq!(slot.load(SystemTime::now()).as_ref(), Some(&token));
    let text = std::fs::read_to_string(&slot.path).unwrap();
    assert!(!text.contains(&"k".repeat(64)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&slot.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let other_slot = CacheSlot::new(dir.path(), "custom", &base, &other, "in:3600");
    assert!(other_slot.load(SystemTime::now()).is_none());
    let shorter = CacheSlot::new(dir.path(), "custom", &base, &key, "in:300");
    assert!(shorter.load(SystemTime::now()).is_none());
    // The other key's entry, copied into this key's file, is foreign.
    other_slot.store(&token, SystemTime::now()).unwrap();
    std::fs::copy(&other_slot.path, &slot.path).unwrap();
    assert!(slot.load(SystemTime::now()).is_none());
    std::fs::write(&slot.path, "{not json").unwrap();
    assert!(slot.load(SystemTime::now()).is_none());
    assert_eq!(clear(dir.path()).unwrap(), 2);
}

#[test]
fn an_oversized_file_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let base = BaseUrl::parse("http://127.0.0.1:1").unwrap();
    let key = ApiKey::new("k".repeat(64)).unwrap();
    let slot = CacheSlot::new(dir.path(), "custom", &base, &key, "in:3600");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    slot.store(&jwt(now, now + 3600), SystemTime::now())
        .unwrap();
    let mut text = std::fs::read(&slot.path).unwrap();
    assert!(slot.load(SystemTime::now()).is_some());
    text.resize(MAX_FILE_LEN as usize + 1, b' ');
    std::fs::write(&slot.path, &text).unwrap();
    assert!(slot.load(SystemTime::now()).is_none());
}

#[test]
fn the_fetch_time_is_stored_and_decides_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let base = BaseUrl::parse("http://127.0.0.1:1").unwrap();
    let key = ApiKey::new("k".repeat(64)).unwrap();
    let slot = CacheSlot::new(dir.path(), "custom", &base, &key, "in:300");
    // Issued by a server 120 s ahead of the local clock, fetched at 9_880 local.
    let token = jwt(10_000, 10_300);
    slot.store(&token, at(9_880)).unwrap();
    let text = std::fs::read_to_string(&slot.path).unwrap();
    let entry: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(entry["fetched_at"], 9_880);
    assert_eq!(entry["format"], FORMAT);
    assert_eq!(slot.load(at(10_000)).as_ref(), Some(&token));
    assert!(slot.load(at(10_105)).is_none());
    assert!(slot.load(at(9_000)).is_none());

    // A file of the previous format, without `fetched_at`, is ignored.
    let mut old = entry.clone();
    old["format"] = "dstor-cli/token-cache/v2".into();
    old.as_object_mut().unwrap().remove("fetched_at");
    std::fs::write(&slot.path, old.to_string()).unwrap();
    assert!(slot.load(at(10_000)).is_none());
    let mut old = entry;
    old["format"] = "dstor-cli/token-cache/v2".into();
    std::fs::write(&slot.path, old.to_string()).unwrap();
    assert!(slot.load(at(10_000)).is_none());
}
