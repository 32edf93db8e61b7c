use dstor_types::{BaseUrl, EndpointError, Environment};
use proptest::prelude::*;
use url::Url;

use crate::assertions::bounded;
use crate::harness::check;

/// The secret a generated URL may carry: it must never show in an error.
const SECRET: &str = "S3cretPw";

/// URL-shaped text: every part valid, near-valid or hostile, credentials and queries
/// holding [`SECRET`].
fn urls() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just("https"),
        Just("http"),
        Just("HTTPS"),
        Just("HtTp"),
        Just("ftp"),
        Just("")
    ];
    let userinfo = prop_oneof![
        4 => Just(String::new()),
        1 => Just(format!("user:{SECRET}@")),
        1 => Just(format!("user:{SECRET}\u{FF20}")),
        1 => Just(format!("{SECRET}@")),
        1 => Just(format!("u:{SECRET}/x@")),
    ];
    let host = prop_oneof![
        "[a-z][a-z0-9-]{0,20}(\\.[a-z][a-z0-9-]{0,10}){0,3}".prop_map(String::from),
        (0..1000u16, 0..1000u16, 0..1000u16, 0..1000u16)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        Just("[::1]".to_owned()),
        Just("[::1]x".to_owned()),
        Just("[v1.x]".to_owned()),
        Just("[0:0:0:0:0:0:0:1]".to_owned()),
        Just("xn--".to_owned()),
        Just("LOCALHOST".to_owned()),
        Just("localhost.evil.example".to_owned()),
        Just("0x7f.1".to_owned()),
        Just("b\u{fc}cher.example".to_owned()),
        Just(String::new()),
        "[!-~]{1,12}".prop_map(String::from),
    ];
    let port = prop_oneof![
        3 => Just(String::new()),
        1 => (0..70_000u32).prop_map(|p| format!(":{p}")),
        1 => Just(":".to_owned()),
        1 => Just(":+443".to_owned()),
        1 => Just(":-1".to_owned()),
        1 => Just(":8o".to_owned()),
    ];
    let path = prop_oneof![
        3 => Just(String::new()),
        1 => Just("/".to_owned()),
        1 => "(/[a-zA-Z0-9%._~-]{0,8}){1,3}/?".prop_map(String::from),
        1 => "/[ -~]{0,10}".prop_map(String::from),
    ];
    let query = prop_oneof![
        4 => Just(String::new()),
        1 => Just(format!("?api-key={SECRET}")),
        1 => Just(format!("#{SECRET}")),
    ];
    let space = prop_oneof![4 => Just(""), 1 => Just(" "), 1 => Just("\t"), 1 => Just("\n")];
    (
        scheme,
        userinfo,
        host,
        port,
        path,
        query,
        space.clone(),
        space,
    )
        .prop_map(|(s, u, h, p, path, q, a, b)| format!("{a}{s}://{u}{h}{p}{path}{q}{b}"))
}

fn inputs() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => urls(),
        1 => Just(format!("admin:{SECRET}@proxy")),
        1 => Just(format!("//u:{SECRET}@host")),
        1 => "[ -~]{0,40}".prop_map(String::from),
        1 => any::<String>(),
        1 => prop_oneof![Just("testnet"), Just(" Prod "), Just("TESTING"), Just("staging")]
            .prop_map(String::from),
    ]
}

/// The checks every refusal passes: no secret, a bounded message.
fn refusal(err: &EndpointError) -> Result<(), TestCaseError> {
    let text = format!("{err} {err:?}");
    prop_assert!(!text.contains(SECRET), "an error shows the secret: {text}");
    prop_assert!(
        !text.contains("S3cret"),
        "an error shows part of the secret: {text}"
    );
    bounded(&text, 800)
}

#[test]
fn fuzz_base_url() {
    check("base_url", file!(), inputs(), |input| {
        let ours = BaseUrl::parse(&input);
        let theirs = Url::parse(input.trim());
        match ours {
            Ok(base) => {
                // What we accept, the parser reqwest uses accepts, and reads the same.
                let theirs = theirs.map_err(|e| {
                    TestCaseError::fail(format!("accepted {input:?}, which url refuses: {e}"))
                })?;
                let endpoint = Url::parse(&base.token_endpoint().to_string())
                    .map_err(|e| TestCaseError::fail(format!("{base:?}: {e}")))?;
                prop_assert_eq!(endpoint.scheme(), theirs.scheme());
                prop_assert_eq!(endpoint.host_str(), theirs.host_str());
                prop_assert_eq!(endpoint.port(), theirs.port());
                prop_assert!(endpoint.path().ends_with("/v1/dev/temp-token"));
                prop_assert!(theirs.username().is_empty() && theirs.password().is_none());
                prop_assert!(!base.as_str().ends_with('/'));
                // Parsing the normal form gives it back.
                prop_assert_eq!(BaseUrl::parse(base.as_str()), Ok(base.clone()));
                prop_assert_eq!(base.is_https(), theirs.scheme() == "https");
                let secure = base.check_may_carry_secrets();
                prop_assert_eq!(secure.is_ok(), base.is_https() || base.is_loopback());
                if let Err(err) = secure {
                    refusal(&err)?;
                }
            }
            Err(err) => {
                refusal(&err)?;
                // A plain, valid base URL is never refused. (An `@` anywhere, also in the
                // path, is refused on purpose: it may end a password.)
                let plain = !input.contains('@')
                    && theirs.as_ref().is_ok_and(|u| {
                        matches!(u.scheme(), "http" | "https")
                            && u.host_str().is_some_and(|h| !h.is_empty())
                            && u.username().is_empty()
                            && u.password().is_none()
                            && u.query().is_none()
                            && u.fragment().is_none()
                            && input.trim() == u.as_str().trim_end_matches('/')
                        // What the `http` seam cannot hold (`https://{`) no transport sends.
                        && u.as_str().parse::<http::Uri>().is_ok()
                    });
                prop_assert!(!plain, "refused {input:?}: {err}");
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_environment() {
    check("environment", file!(), inputs(), |input| {
        match input.parse::<Environment>() {
            Ok(Environment::Custom(base)) => {
                prop_assert_eq!(BaseUrl::parse(&input), Ok(base));
            }
            Ok(named) => {
                prop_assert_eq!(Environment::from_name(&input), Some(named.clone()));
                prop_assert!(named.base_url().is_https());
            }
            Err(err) => {
                refusal(&err)?;
                prop_assert!(Environment::from_name(&input).is_none());
            }
        }
        Ok(())
    });
}
