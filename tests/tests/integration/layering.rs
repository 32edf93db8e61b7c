//! The layering contract, as `cargo xtask layering` checks it: normal dependencies,
//! default features, default target. The rules live in `xtask::layering::LAYERING`.

use xtask::layering::LAYERING;

fn check(krate: &str) {
    let rule = LAYERING
        .iter()
        .find(|r| r.krate == krate)
        .unwrap_or_else(|| panic!("no layering rule for {krate}"));
    if let Err(e) = rule.check() {
        panic!("{e}");
    }
}

#[test]
fn dstor_types_uses_no_runtime_and_no_http_client() {
    check("dstor-types");
}

#[test]
fn dstor_auth_uses_no_http_client() {
    check("dstor-auth");
}

#[test]
fn dstor_storage_uses_no_http_client() {
    check("dstor-storage");
}
