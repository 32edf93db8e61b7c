//! `dstor inspect`: a token's claims, decoded without verification, and its expiry in human
//! form. The token itself is never printed.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Read as _};
use std::time::SystemTime;

use dstor_types::{AccessToken, MAX_TOKEN_LEN};

use crate::exit::CliError;
use crate::output::{errln, outln};
use crate::time::{ago, expiry, rfc3339, span, unix};

/// Reads the token named by `arg` (`-`: standard input) and prints its claims.
///
/// # Errors
///
/// A config-class [`CliError`] when the token cannot be read or is not a JWT.
pub(crate) fn run(arg: &str) -> Result<(), CliError> {
    let text = if arg == "-" {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            errln!("dstor: reading a token from standard input (paste it, then Ctrl-D)");
        }
        let mut text = String::new();
        stdin
            .lock()
            .take(MAX_TOKEN_LEN as u64 + 2)
            .read_to_string(&mut text)
            .map_err(|e| {
                CliError::config(format!("cannot read a token from standard input: {e}"))
            })?;
        text
    } else {
        arg.to_owned()
    };
    let token = parse(&text)?;
    outln!("{}", describe(&token, SystemTime::now()).trim_end())
}

/// The token in `text` (surrounding whitespace ignored), which must be a JWT.
///
/// # Errors
///
/// A config-class [`CliError`] that never holds the token.
pub(crate) fn parse(text: &str) -> Result<AccessToken, CliError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CliError::config(
            "no token given: pass it as an argument, or pipe it in with `dstor inspect -`",
        ));
    }
    let token =
        AccessToken::new(text).map_err(|e| CliError::config(format!("not a usable token: {e}")))?;
    if !token.is_jwt() {
        return Err(CliError::config(
            "not a JWT: a dStor access token has three dot-separated parts whose second is base64url JSON",
        ));
    }
    Ok(token)
}

/// The report printed by `dstor inspect`, as of `now`.
pub(crate) fn describe(token: &AccessToken, now: SystemTime) -> String {
    let claims = token.claims();
    let now = unix(now);
    let mut out =
        String::from("claims decoded WITHOUT verifying the signature (only dStor can verify it)\n");
    let mut line = |name: &str, value: &str| {
        let _ = writeln!(out, "{name:<11} {value}");
    };
    line("subject:", claims.sub.as_deref().unwrap_or("(none)"));
    line("issuer:", claims.iss.as_deref().unwrap_or("(none)"));
    let audience = if claims.aud.is_empty() {
        "(none)".to_owned()
    } else {
        claims.aud.join(", ")
    };
    line("audience:", &audience);
    match claims.iat {
        Some(iat) => line(
            "issued at:",
            &format!("{} ({})", rfc3339(iat), ago(now.saturating_sub(iat))),
        ),
        None => line("issued at:", "(unknown)"),
    }
    match claims.exp {
        Some(exp) => line(
            "expires at:",
            &format!("{} ({})", rfc3339(exp), expiry(exp.saturating_sub(now))),
        ),
        None => line("expires at:", "(unknown: the token has no exp claim)"),
    }
    if let (Some(iat), Some(exp)) = (claims.iat, claims.exp)
        && exp > iat
    {
        line("lifetime:", &span(exp.saturating_sub(iat)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const DOCS_TOKEN: &str = concat!(
        "eyJhbsomebiglongstring9.",
        "eyJkIjpmYWxzZSwibyI6ZmFsc2UsInMiOmZhbHNlLCJ0IjpudWxsLCJpYXQiOjE2MzI3ODg4MzcsImV4cCI6",
        "MTYzMjc5MjQzNywiYXVkIjoiZHN0b3IuY2xvdWQiLCJpc3MiOiJkc3Rvci5jbG91ZCIsInN1YiI6ImIyZTI3",
        "ODE3LTA0MzktNDViZC04YTNkLTVjNTk2MTg1YmQwNSJ9.PyKa8sILa7nyD-4eI4lA0xjFBPcncNZQL4_iclZ_Fs8",
    );

    #[test]
    fn the_docs_token_is_described() {
        let token = parse(DOCS_TOKEN).unwrap();
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        let before = describe(&token, at(1_632_792_437 - 3_540));
        assert!(before.contains("in 59 minutes"), "{before}");
        assert!(before.contains("2021-09-28T01:27:17Z"), "{before}");
        assert!(before.contains("b2e27817-0439-45bd-8a3d-5c596185bd05"));
        assert!(before.contains("WITHOUT verifying"));
        let after = describe(&token, at(1_632_792_437 + 3 * 3_600 + 5));
        assert!(after.contains("expired 3 hours ago"), "{after}");
        assert!(!after.contains("PyKa8"));
    }

    #[test]
    fn an_opaque_token_is_refused() {
        assert!(parse("opaque").is_err());
    }

    #[test]
    fn absurd_times_are_described_without_panicking() {
        // {"iat":-9223372036854775808,"exp":9223372036854775807}
        let token = parse(concat!(
            "h.eyJpYXQiOi05MjIzMzcyMDM2ODU0Nzc1ODA4LCJleHAiOjkyMjMzNzIwMzY4NTQ3NzU4MDd9",
            ".s"
        ))
        .unwrap();
        assert_eq!(token.claims().iat, Some(i64::MIN));
        let text = describe(&token, UNIX_EPOCH + Duration::from_secs(1_000));
        assert!(text.contains("expires at: 9223372036854775807"), "{text}");
        assert!(text.contains("years"), "{text}");
    }
}
