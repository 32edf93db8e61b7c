//! Reading the claims of a JWT without verifying it.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

/// Claims read from an access token's JWT payload. Not verified: the signature is the
/// server's business, and a client holds no key to check it with.
///
/// A claim of the wrong type is read as absent rather than failing the token.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// `exp`: when the token expires, in Unix seconds (a fractional value is rounded down).
    pub exp: Option<i64>,
    /// `iat`: when it was issued, in Unix seconds.
    pub iat: Option<i64>,
    /// `sub`: the account's id.
    pub sub: Option<String>,
    /// `aud`: the audience (a string or an array of strings in the token).
    pub aud: Vec<String>,
    /// `iss`: the issuer.
    pub iss: Option<String>,
}

impl Claims {
    pub(crate) const EMPTY: Claims = Claims {
        exp: None,
        iat: None,
        sub: None,
        aud: Vec::new(),
        iss: None,
    };
}

const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Reads the claims from the payload of a three-segment JWT; `None` if `token` is not one.
/// The header segment is not decoded (dStor's own documentation example has one that is
/// not valid base64).
pub(crate) fn decode_claims(token: &str) -> Option<Claims> {
    let mut segments = token.split('.');
    let (_header, payload, _signature) = (segments.next()?, segments.next()?, segments.next()?);
    if segments.next().is_some() || payload.is_empty() {
        return None;
    }
    let bytes = URL_SAFE_LENIENT
        .decode(payload)
        .or_else(|_| STANDARD_LENIENT.decode(payload))
        .ok()?;
    let Value::Object(map) = serde_json::from_slice::<Value>(&bytes).ok()? else {
        return None;
    };
    let string = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
    let aud = match map.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    Some(Claims {
        exp: map.get("exp").and_then(numeric_date),
        iat: map.get("iat").and_then(numeric_date),
        sub: string("sub"),
        aud,
        iss: string("iss"),
    })
}

/// A JSON number as whole Unix seconds; a float is rounded down, an absurd value dropped.
fn numeric_date(value: &Value) -> Option<i64> {
    if let Some(i) = value.as_i64() {
        return Some(i);
    }
    let f = value.as_f64()?;
    // Within ±2^53, where an f64 still holds whole seconds exactly.
    (f.is_finite() && f.abs() < 9.0e15).then(|| f.floor() as i64)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose;

    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "e30.{}.sig",
            general_purpose::URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn reads_padded_and_unpadded_payloads() {
        let payload = r#"{"exp":1700000000,"sub":"a"}"#;
        let padded = format!("x.{}.y", general_purpose::URL_SAFE.encode(payload));
        let unpadded = jwt(payload);
        assert_eq!(decode_claims(&padded).unwrap().exp, Some(1_700_000_000));
        assert_eq!(decode_claims(&unpadded).unwrap().exp, Some(1_700_000_000));
    }

    #[test]
    fn reads_a_fractional_exp() {
        let claims = decode_claims(&jwt(r#"{"exp":1700000000.75,"iat":1.5e9}"#)).unwrap();
        assert_eq!(claims.exp, Some(1_700_000_000));
        assert_eq!(claims.iat, Some(1_500_000_000));
    }

    #[test]
    fn tolerates_odd_claims() {
        let claims = decode_claims(&jwt(
            r#"{"exp":"soon","aud":["a",1,"b"],"sub":7,"iat":1e300}"#,
        ))
        .unwrap();
        assert_eq!(claims.exp, None);
        assert_eq!(claims.iat, None);
        assert_eq!(claims.sub, None);
        assert_eq!(claims.aud, vec!["a".to_owned(), "b".to_owned()]);
    }

    #[test]
    fn rejects_what_is_not_a_jwt() {
        for token in [
            "opaque",
            "a.b",
            "a..c",
            "a.b.c.d",
            "x.!!!.y",
            &jwt("[1,2]"),
            &jwt("not json"),
        ] {
            assert_eq!(decode_claims(token), None, "{token}");
        }
    }
}
