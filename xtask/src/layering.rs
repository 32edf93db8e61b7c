//! The layering contract: which packages each crate must not depend on.

use std::process::Command;

use crate::{cargo, root};

/// A crate and the packages that must not appear among its normal dependencies.
#[derive(Debug)]
pub struct LayeringRule {
    /// The crate checked.
    pub krate: &'static str,
    /// The packages it must not depend on.
    pub forbidden: &'static [&'static str],
    /// Why, for the failure message.
    pub why: &'static str,
}

/// The layering contract, checked by `cargo xtask layering` and by the integration tests.
pub const LAYERING: &[LayeringRule] = &[
    LayeringRule {
        krate: "dstor-types",
        forbidden: &["tokio", "reqwest", "hyper", "hyper-util", "mio", "socket2"],
        why: "dstor-types does no I/O and depends on no async runtime or HTTP client",
    },
    LayeringRule {
        krate: "dstor-auth",
        forbidden: &["reqwest", "hyper", "hyper-util", "h2"],
        why: "dstor-auth is transport-agnostic: it may use tokio, but no HTTP client",
    },
    LayeringRule {
        krate: "dstor-storage",
        forbidden: &[
            "reqwest",
            "hyper",
            "hyper-util",
            "h2",
            "ureq",
            "isahc",
            "curl",
            "surf",
        ],
        why: "dstor-storage runs the storage flows over the transport seam: it may use tokio, but no HTTP client",
    },
];

impl LayeringRule {
    /// Checks the rule against `cargo tree`: the number of crates in the tree when it holds.
    ///
    /// # Errors
    ///
    /// What is wrong: the forbidden dependencies found (and how to see why), or cargo's
    /// own error.
    pub fn check(&self) -> Result<usize, String> {
        let names = normal_dependencies(self.krate)?;
        if !names.iter().any(|n| n == self.krate) {
            return Err(format!(
                "cargo tree -p {} does not list {} itself",
                self.krate, self.krate
            ));
        }
        let found: Vec<&str> = self
            .forbidden
            .iter()
            .copied()
            .filter(|f| names.iter().any(|n| n == f))
            .collect();
        match found.first() {
            None => Ok(names.len()),
            Some(first) => Err(format!(
                "{} depends on {found:?} (normal dependencies, default features): {} \
                 (see `cargo tree -p {} -e normal -i {first}`)",
                self.krate, self.why, self.krate
            )),
        }
    }
}

/// The names of the packages in `krate`'s normal dependency tree, default features,
/// default target: the first token of each line of `cargo tree --prefix none`, sorted
/// and deduplicated.
///
/// # Errors
///
/// Cargo's own stderr when `cargo tree` cannot run or fails.
pub fn normal_dependencies(krate: &str) -> Result<Vec<String>, String> {
    let output = Command::new(cargo())
        .args(["tree", "-p", krate])
        .args(["-e", "normal", "--prefix", "none"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("could not run {}: {e}", cargo().to_string_lossy()))?;
    if !output.status.success() {
        return Err(format!(
            "cargo tree -p {krate} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(crate_names(&String::from_utf8_lossy(&output.stdout)))
}

/// The first token of each non-empty line, sorted and deduplicated.
pub fn crate_names(tree: &str) -> Vec<String> {
    let mut names: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_whole_first_tokens() {
        let tree = "a v1.0.0 (/x)\nhttp v1.3.1\nhttp-body v1.0.1\nhttp v1.3.1 (*)\n\n";
        assert_eq!(crate_names(tree), ["a", "http", "http-body"]);
    }
}
