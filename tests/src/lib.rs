//! Shared helpers for the integration tests: no dependencies, so they build first and
//! fast.
//!
//! ```
//! use dstor_tests::LeakCheck;
//!
//! let mut check = LeakCheck::new(["SecretCanary"]);
//! check.debug("a harmless value", &("nothing", 42));
//! check.assert_clean();
//! ```
#![deny(missing_docs)]

use std::fmt::{Debug, Display};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The cargo that is running the tests (`$CARGO`), else the one that built them.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned())
}

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
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("could not run {}: {e}", cargo()))?;
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

/// Collects every rendering of values and checks none holds a secret.
#[derive(Debug)]
pub struct LeakCheck {
    secrets: Vec<String>,
    checked: usize,
    leaks: Vec<String>,
}

impl LeakCheck {
    /// A check for these secret texts (or fragments of them).
    pub fn new<S: Into<String>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let secrets: Vec<String> = secrets.into_iter().map(Into::into).collect();
        assert!(secrets.iter().all(|s| s.len() >= 8), "secrets too short");
        Self {
            secrets,
            checked: 0,
            leaks: Vec::new(),
        }
    }

    /// Checks `{:?}` and `{:#?}`.
    pub fn debug<T: Debug + ?Sized>(&mut self, label: &str, value: &T) -> &mut Self {
        self.text(&format!("{label} {{:?}}"), &format!("{value:?}"));
        self.text(&format!("{label} {{:#?}}"), &format!("{value:#?}"));
        self
    }

    /// Checks `{}`, `{:?}` and `{:#?}`.
    pub fn display<T: Debug + Display + ?Sized>(&mut self, label: &str, value: &T) -> &mut Self {
        self.text(&format!("{label} {{}}"), &value.to_string());
        self.debug(label, value)
    }

    /// Checks an error, its `Debug`, and every `Display` down its chain of sources.
    pub fn error<E: std::error::Error + ?Sized>(&mut self, label: &str, error: &E) -> &mut Self {
        self.display(label, error);
        let mut source = error.source();
        let mut depth = 1;
        while let Some(cause) = source {
            self.display(&format!("{label} source #{depth}"), cause);
            source = cause.source();
            depth += 1;
        }
        self
    }

    /// Checks one text.
    pub fn text(&mut self, label: &str, text: &str) -> &mut Self {
        self.checked += 1;
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                self.leaks
                    .push(format!("{label} shows {secret:?}:\n    {text}"));
            }
        }
        self
    }

    /// How many texts were checked.
    pub fn checked(&self) -> usize {
        self.checked
    }

    /// Panics listing every leak found.
    #[track_caller]
    pub fn assert_clean(&self) {
        assert!(
            self.leaks.is_empty(),
            "{} leaks in {} renderings checked:\n  {}",
            self.leaks.len(),
            self.checked,
            self.leaks.join("\n  ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_whole_first_tokens() {
        let tree = "a v1.0.0 (/x)\nhttp v1.3.1\nhttp-body v1.0.1\nhttp v1.3.1 (*)\n\n";
        assert_eq!(crate_names(tree), ["a", "http", "http-body"]);
    }

    #[test]
    #[should_panic(expected = "leaks in")]
    fn leak_check_catches_a_leak() {
        LeakCheck::new(["hunter2hunter2"])
            .debug("x", "the password is hunter2hunter2")
            .assert_clean();
    }
}
