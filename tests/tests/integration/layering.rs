//! The layering contract, as `cargo xtask layering` checks it: normal dependencies,
//! default features, default target.

use dstor_tests::normal_dependencies;

fn assert_free_of(krate: &str, forbidden: &[&str], why: &str) {
    let names = normal_dependencies(krate).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        names.iter().any(|n| n == krate),
        "cargo tree -p {krate} does not list {krate} itself: {names:?}"
    );
    let found: Vec<&str> = forbidden
        .iter()
        .copied()
        .filter(|f| names.iter().any(|n| n == f))
        .collect();
    assert!(
        found.is_empty(),
        "{krate} depends on {found:?}: {why} (see `cargo tree -p {krate} -e normal -i {}`)",
        found.first().copied().unwrap_or_default()
    );
}

#[test]
fn dstor_types_uses_no_runtime_and_no_http_client() {
    assert_free_of(
        "dstor-types",
        &["tokio", "reqwest", "hyper", "hyper-util", "mio", "socket2"],
        "dstor-types does no I/O and depends on no async runtime or HTTP client",
    );
}

#[test]
fn dstor_auth_uses_no_http_client() {
    assert_free_of(
        "dstor-auth",
        &["reqwest", "hyper", "hyper-util", "h2"],
        "dstor-auth is transport-agnostic: it may use tokio, but no HTTP client",
    );
}
