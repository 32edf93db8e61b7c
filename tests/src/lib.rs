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
    #[should_panic(expected = "leaks in")]
    fn leak_check_catches_a_leak() {
        LeakCheck::new(["hunter2hunter2"])
            .debug("x", "the password is hunter2hunter2")
            .assert_clean();
    }
}
