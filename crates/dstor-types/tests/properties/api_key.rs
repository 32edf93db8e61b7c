use dstor_types::{API_KEY_LEN, ApiKey};
use proptest::prelude::*;

use crate::assertions::{bounded, never_shows};
use crate::harness::check;

/// Keys, near-keys (one character off, padded, cut) and any text at all.
fn candidates() -> impl Strategy<Value = String> {
    let key = "[A-Za-z0-9]{64}";
    prop_oneof![
        key.prop_map(String::from),
        (key, 0..64usize, any::<char>()).prop_map(|(key, at, c)| {
            let mut chars: Vec<char> = key.chars().collect();
            chars[at] = c;
            chars.into_iter().collect()
        }),
        (key, "[ \t\r\n]{0,3}", "[ \t\r\n]{0,3}").prop_map(|(k, a, b)| format!("{a}{k}{b}")),
        ("[A-Za-z0-9]{0,63}").prop_map(String::from),
        ("[A-Za-z0-9]{65,130}").prop_map(String::from),
        any::<String>(),
    ]
}

#[test]
fn fuzz_api_key() {
    check("api_key", file!(), candidates(), |input| {
        let trimmed = input.trim_matches(|c: char| c.is_ascii_whitespace());
        let valid =
            trimmed.chars().count() == API_KEY_LEN && trimmed.chars().all(|c| c.is_ascii_graphic());
        match ApiKey::new(input.clone()) {
            Ok(key) => {
                prop_assert!(valid, "accepted {input:?}");
                prop_assert_eq!(key.expose_secret(), trimmed);
                prop_assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
            }
            Err(err) => {
                prop_assert!(!valid, "refused a valid key: {err}");
                let text = format!("{err} {err:?}");
                bounded(&text, 400)?;
                if trimmed.len() >= 20 {
                    never_shows(&text, trimmed, "an ApiKeyError")?;
                }
            }
        }
        Ok(())
    });
}
