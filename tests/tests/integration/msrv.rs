//! The declared minimum Rust version (`rust-version` in the root `Cargo.toml`) holds for
//! what is locked: no package in `Cargo.lock` declares a newer one. Clippy's
//! `incompatible_msrv` lint (on by default, `-D warnings` in CI) checks our own code's use of
//! the standard library against the same version.

use std::process::Command;

/// `1.88` as `(1, 88, 0)`; `None` for text that is not a version.
fn version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

#[test]
fn no_locked_dependency_needs_a_newer_rust_than_we_declare() {
    let declared = version(env!("CARGO_PKG_RUST_VERSION")).expect("rust-version is declared");
    // The packages this platform builds: all of them are on disk after the build, so
    // `--offline` holds (the other platforms' packages need not be).
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    let rustc = String::from_utf8_lossy(&rustc.stdout).into_owned();
    let host = rustc
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc names its host");
    let output = Command::new(xtask::cargo())
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", host])
        .current_dir(xtask::root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    assert!(packages.len() > 50, "the whole lock file is listed");
    let newer: Vec<String> = packages
        .iter()
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs)? > declared)
                .then(|| format!("{} {} needs {needs}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        newer.is_empty(),
        "rust-version {} is declared, but: {}; raise it or pin an older version \
         (`cargo update -p NAME --precise VERSION`)",
        env!("CARGO_PKG_RUST_VERSION"),
        newer.join(", ")
    );
}

#[test]
fn versions_compare_by_number() {
    assert!(version("1.88").unwrap() < version("1.100").unwrap());
    assert_eq!(version("1.88"), Some((1, 88, 0)));
    assert_eq!(version("1.88.1"), Some((1, 88, 1)));
    assert_eq!(version("x"), None);
}
