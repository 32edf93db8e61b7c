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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_location_gives_a_safe_url_or_a_typed_error(location in "\\PC{0,80}") {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&location) {
                headers.insert(LOCATION, value);
            }
            let current: Uri = "https://api.dstor.cloud/ipfs/Qm1".parse().unwrap();
            match next_hop(&current, StatusCode::PERMANENT_REDIRECT, &headers) {
                Ok(Some(next)) => {
                    let scheme = next.scheme_str();
                    prop_assert!(scheme == Some("https") || scheme == Some("http"));
                    prop_assert!(check_target(&next).is_ok());
                    // An `@` may sit in the path or the query; never in the authority.
                    let authority = next.authority().map(|a| a.as_str()).unwrap_or("");
                    prop_assert!(!authority.contains('@'), "credentials in {next}");
                }
                Ok(None) => prop_assert!(false, "a 308 is a redirect"),
                Err(StorageError::Redirect { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }
    }
}
