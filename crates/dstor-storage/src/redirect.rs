//! Which gateway redirects a download follows.

use std::net::IpAddr;

use http::{HeaderMap, StatusCode, Uri, header::LOCATION};
use url::{Host, Url};

use crate::StorageError;

/// The most redirects a download follows.
pub const MAX_REDIRECTS: usize = 5;

/// Whether a download may go to `uri`: https, or plain http to a loopback host.
pub(crate) fn check_target(uri: &Uri) -> Result<(), StorageError> {
    let url = to_url(uri)?;
    if url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url)) {
        Ok(())
    } else {
        Err(StorageError::Redirect {
            reason: "it leads to a URL that is neither https nor plain http on a loopback host",
        })
    }
}

/// The next URL of a download answered with `status` and `headers` at `current`: `None`
/// when the answer is not a redirect, else the `Location` resolved against `current`, once
/// checked by [`check_target`].
pub(crate) fn next_hop(
    current: &Uri,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<Option<Uri>, StorageError> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .ok_or(StorageError::Redirect {
            reason: "a redirect came without a readable Location",
        })?;
    let base = to_url(current)?;
    let mut next = base
        .join(location.trim())
        .map_err(|_| StorageError::Redirect {
            reason: "a redirect's Location is not a valid URL",
        })?;
    if !next.username().is_empty() || next.password().is_some() {
        return Err(StorageError::Redirect {
            reason: "a redirect's Location carries credentials",
        });
    }
    next.set_fragment(None);
    let uri: Uri = next.as_str().parse().map_err(|_| StorageError::Redirect {
        reason: "a redirect's Location is not a valid URL",
    })?;
    check_target(&uri)?;
    Ok(Some(uri))
}

fn to_url(uri: &Uri) -> Result<Url, StorageError> {
    Url::parse(&uri.to_string()).map_err(|_| StorageError::Redirect {
        reason: "the URL is not valid",
    })
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn hop(current: &str, status: u16, location: Option<&str>) -> Result<Option<String>, String> {
        let mut headers = HeaderMap::new();
        if let Some(l) = location {
            headers.insert(LOCATION, HeaderValue::from_str(l).unwrap());
        }
        next_hop(
            &current.parse().unwrap(),
            StatusCode::from_u16(status).unwrap(),
            &headers,
        )
        .map(|u| u.map(|u| u.to_string()))
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_location_is_resolved_against_the_current_url() {
        let from = "https://api.dstor.cloud/ipfs/Qm1";
        assert_eq!(
            hop(from, 308, Some("/ipfs/Qm1/")).unwrap().as_deref(),
            Some("https://api.dstor.cloud/ipfs/Qm1/")
        );
        assert_eq!(
            hop(from, 302, Some("Qm2")).unwrap().as_deref(),
            Some("https://api.dstor.cloud/ipfs/Qm2")
        );
        assert_eq!(
            hop(from, 307, Some("//node1.dstor.cloud/ipfs/Qm1/"))
                .unwrap()
                .as_deref(),
            Some("https://node1.dstor.cloud/ipfs/Qm1/")
        );
        assert_eq!(
            hop(
                from,
                301,
                Some("https://node2.dstor.cloud:8443/x?sig=1#frag")
            )
            .unwrap()
            .as_deref(),
            Some("https://node2.dstor.cloud:8443/x?sig=1")
        );
        assert_eq!(
            hop(
                "http://127.0.0.1:9/ipfs/Qm1",
                303,
                Some("http://127.0.0.1:10/ipfs/Qm1/")
            )
            .unwrap()
            .as_deref(),
            Some("http://127.0.0.1:10/ipfs/Qm1/")
        );
    }

    #[test]
    fn other_statuses_are_not_redirects() {
        for status in [200, 204, 300, 304, 404, 500] {
            assert_eq!(
                hop("https://a.b/x", status, Some("/y")),
                Ok(None),
                "{status}"
            );
        }
    }

    #[test]
    fn unsafe_or_broken_locations_are_refused() {
        let from = "https://api.dstor.cloud/ipfs/Qm1";
        for location in [
            None,
            Some("   "),
            Some("http://node.dstor.cloud/ipfs/Qm1"),
            Some("ftp://node.dstor.cloud/x"),
            Some("file:///etc/passwd"),
            Some("https://user:pw@node.dstor.cloud/x"),
            Some("https://user@node.dstor.cloud/x"),
            Some("//:pw@node.dstor.cloud/x"),
            Some("http://[::1"),
        ] {
            let err = hop(from, 308, location).unwrap_err();
            assert!(
                err.starts_with("the download was redirected unsafely"),
                "{err}"
            );
        }
        assert_eq!(
            hop(from, 308, Some("@")).unwrap().as_deref(),
            Some("https://api.dstor.cloud/ipfs/@"),
            "an @ in a relative path is a path, not user info"
        );
        assert!(hop("http://localhost:8/x", 308, Some("/y")).is_ok());
        assert!(hop("http://[::1]:8/x", 308, Some("/y")).is_ok());
        assert!(hop("http://10.0.0.1/x", 308, Some("/y")).is_err());
    }

    /// A `Location` as a hostile or broken gateway might send it: any text, or a URL put
    /// together from the pieces parsers get wrong (credentials, full-width `＠`, signed or
    /// huge ports, odd hosts).
    fn location() -> impl Strategy<Value = String> {
        let scheme = prop::sample::select(vec![
            "",
            "https://",
            "http://",
            "//",
            "HTTPS://",
            "ftp://",
            "javascript:",
            "https:",
        ]);
        let user = prop::sample::select(vec!["", "u@", "u:p4ss@", ":p4ss@", "@", "p4ss\u{ff20}"]);
        let host = prop_oneof![
            prop::sample::select(vec![
                "node.dstor.cloud",
                "127.0.0.1",
                "[::1]",
                "localhost",
                "10.0.0.1",
                "999.1.1.1",
                "xn--",
                "[v1.x]",
                "[::1",
                "",
            ])
            .prop_map(str::to_owned),
            "\\PC{0,12}",
        ];
        let port = prop::sample::select(vec!["", ":443", ":+443", ":99999", ":", ":0"]);
        let rest = "[/a-zA-Z0-9@:%?#.\\\\ -]{0,20}";
        prop_oneof![
            "\\PC{0,80}",
            (scheme, user, host, port, rest).prop_map(|(s, u, h, p, r)| format!("{s}{u}{h}{p}{r}")),
        ]
    }

    /// Where the download is when it is redirected.
    fn current() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "https://api.dstor.cloud/ipfs/Qm1",
            "http://127.0.0.1:9/ipfs/Qm1",
            "https://node1.dstor.cloud:8443/a/b?x=1",
        ])
    }

    /// Fuzz target `redirect_location` (`cargo xtask fuzz`): any redirect gives a URL the
    /// download may go to, the same one the `url` crate resolves, or a typed error that
    /// echoes nothing of the `Location`.
    #[test]
    fn any_location_gives_a_safe_url_or_a_typed_error() {
        let statuses = prop::sample::select(vec![301u16, 302, 303, 307, 308]);
        crate::harness::check(
            "redirect_location",
            file!(),
            (current(), statuses, location()),
            |(current, status, location)| {
                let mut headers = HeaderMap::new();
                if let Ok(value) = HeaderValue::from_str(&location) {
                    headers.insert(LOCATION, value);
                }
                let from: Uri = current.parse().unwrap();
                let status = StatusCode::from_u16(status).unwrap();
                match next_hop(&from, status, &headers) {
                    Ok(Some(next)) => {
                        prop_assert!(check_target(&next).is_ok());
                        // An `@` may sit in the path or the query; never in the authority.
                        let authority = next.authority().map(|a| a.as_str()).unwrap_or("");
                        prop_assert!(!authority.contains('@'), "credentials in {next}");
                        let mut expected =
                            Url::parse(current).unwrap().join(location.trim()).unwrap();
                        expected.set_fragment(None);
                        prop_assert_eq!(next.to_string(), expected.to_string());
                    }
                    Ok(None) => prop_assert!(false, "a {status} is a redirect"),
                    Err(error @ StorageError::Redirect { .. }) => {
                        let shown = format!("{error} {error:?}");
                        prop_assert!(!shown.contains("p4ss"), "a credential echoed: {shown}");
                        prop_assert!(shown.len() < 400, "{shown}");
                    }
                    Err(other) => prop_assert!(false, "unexpected error {other:?}"),
                }
                Ok(())
            },
        );
    }
}
