//! HS256 tokens in the shape dStor issues.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The JOSE header of every token.
const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs a token for `key` with the claims of dStor's documented example.
pub(crate) fn issue(secret: &[u8], key: &str, iat: i64, exp: i64) -> String {
    let sub = subject_for(key);
    let payload = format!(
        r#"{{"d":false,"o":false,"s":false,"t":null,"iat":{iat},"exp":{exp},"aud":"dstor.cloud","iss":"dstor.cloud","sub":"{sub}"}}"#
    );
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER_JSON),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = mac(secret, signing_input.as_bytes())
        .finalize()
        .into_bytes();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Returns the claims of `token` iff it is an HS256 JWT signed with `secret`.
///
/// Expiry is not checked.
pub(crate) fn verify(secret: &[u8], token: &str) -> Option<serde_json::Value> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "HS256" {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    mac(secret, signing_input.as_bytes())
        .verify_slice(&signature)
        .ok()?;
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.is_object().then_some(claims)
}

fn mac(secret: &[u8], data: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac
}

/// A UUID-looking (version 4 layout) account id derived from the key's SHA-256.
pub(crate) fn subject_for(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_carry_the_claims() {
        let token = issue(b"secret", "k", 100, 200);
        let claims = verify(b"secret", &token).expect("valid");
        assert_eq!(claims["iat"], 100);
        assert_eq!(claims["exp"], 200);
        assert_eq!(claims["aud"], "dstor.cloud");
        assert_eq!(claims["sub"], subject_for("k"));
        assert!(verify(b"other", &token).is_none());
        assert!(verify(b"secret", &format!("{token}x")).is_none());
        assert!(verify(b"secret", "a.b").is_none());
        assert!(verify(b"secret", "").is_none());
        assert!(verify(b"secret", "é.é.é").is_none());
    }

    #[test]
    fn subject_is_uuid_shaped_and_deterministic() {
        let sub = subject_for("abc");
        assert_eq!(sub, subject_for("abc"));
        assert_ne!(sub, subject_for("abd"));
        assert_eq!(sub.len(), 36);
        assert_eq!(sub.as_bytes()[14], b'4');
    }
}
