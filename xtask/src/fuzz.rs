//! `cargo xtask fuzz [--seconds N] [TARGET...]`: the property tests, run for a wall-clock
//! budget each instead of a few cases.
//!
//! Each target is one property test: of `dstor-types`' parsers
//! (`crates/dstor-types/tests/properties`), of `dstor-auth` on hostile configuration
//! (`crates/dstor-auth/tests/hostile`), or of a private parser in a library's unit tests
//! (`dstor-storage`'s redirect `Location`). All use one harness
//! (`crates/dstor-types/tests/properties/harness.rs`), which reads `DSTOR_FUZZ_SECONDS`
//! and loops batches of fresh random cases until the budget is spent. A failure is shrunk
//! and saved by proptest under a `proptest-regressions/` directory of the package
//! (commit it: every later run, `cargo test` included, replays it first). Stable Rust only.

use std::process::Command;

use crate::{Failure, Result, cargo, root};

/// A property test run as a fuzz target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// What `cargo xtask fuzz` calls it.
    pub(crate) name: &'static str,
    /// The package, and its integration test binary (`lib`: its unit tests).
    pub(crate) package: &'static str,
    pub(crate) binary: &'static str,
    /// The test's path in that binary.
    pub(crate) test: &'static str,
}

const fn types(name: &'static str, test: &'static str) -> Target {
    Target {
        name,
        package: "dstor-types",
        binary: "properties",
        test,
    }
}

const fn auth(name: &'static str, test: &'static str) -> Target {
    Target {
        name,
        package: "dstor-auth",
        binary: "hostile",
        test,
    }
}

const fn storage_lib(name: &'static str, test: &'static str) -> Target {
    Target {
        name,
        package: "dstor-storage",
        binary: LIB,
        test,
    }
}

/// The `binary` of a target in a library's unit tests.
const LIB: &str = "lib";

impl Target {
    /// The arguments that pick the target's test binary.
    fn selector(&self) -> Vec<&'static str> {
        if self.binary == LIB {
            vec!["--lib"]
        } else {
            vec!["--test", self.binary]
        }
    }
}

/// The targets.
pub(crate) const TARGETS: &[Target] = &[
    types("api_key", "api_key::fuzz_api_key"),
    types("base_url", "endpoint::fuzz_base_url"),
    types("chunk_answer", "storage::fuzz_chunk_answer"),
    types("cid_text", "cid::fuzz_cid_text"),
    types("cid_text_valid", "cid::a_valid_cid_is_always_accepted"),
    types("environment", "endpoint::fuzz_environment"),
    types("expiration", "expiration::fuzz_expiration"),
    types("file_name", "name::fuzz_file_name"),
    types("jwt_claims", "jwt::fuzz_jwt_claims"),
    types("token_response", "response::fuzz_token_response"),
    types(
        "token_response_valid",
        "response::a_valid_token_answer_is_always_accepted",
    ),
    types("upload_status", "storage::fuzz_upload_status"),
    types("upload_token_answer", "storage::fuzz_upload_token_answer"),
    storage_lib(
        "redirect_location",
        "redirect::tests::any_location_gives_a_safe_url_or_a_typed_error",
    ),
    auth(
        "extreme_configs",
        "extremes::extreme_configs_never_panic_hang_or_serve_an_expired_token",
    ),
    auth(
        "retried_call",
        "extremes::a_retried_call_ends_by_its_deadline",
    ),
];

/// The budget per target when none is given.
const DEFAULT_SECONDS: u64 = 60;

/// What `cargo xtask fuzz` was asked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) seconds: u64,
    pub(crate) targets: Vec<Target>,
}

/// Reads `[--seconds N] [TARGET...]`.
pub(crate) fn plan(args: &[String]) -> Result<Plan> {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            let value = args
                .next()
                .ok_or_else(|| Failure("--seconds needs a number of seconds".into()))?;
            seconds = value.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                Failure(format!("--seconds {value}: pass a whole number above 0"))
            })?;
        } else if let Some(target) = TARGETS.iter().find(|t| t.name == arg) {
            targets.push(*target);
        } else {
            let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
            return Err(Failure(format!(
                "unknown fuzz target {arg:?}: the targets are {}",
                names.join(", ")
            )));
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    Ok(Plan { seconds, targets })
}

/// Runs every target of `plan` in turn, then prints the inputs each ran.
pub(crate) fn run(plan: &Plan) -> Result {
    let mut binaries: Vec<(&str, Vec<&str>)> = plan
        .targets
        .iter()
        .map(|t| (t.package, t.selector()))
        .collect();
    binaries.sort_unstable();
    binaries.dedup();
    for (package, selector) in binaries {
        let binary = selector.join(" ");
        let build = Command::new(cargo())
            .args(["test", "-p", package])
            .args(&selector)
            .arg("--no-run")
            .current_dir(root())
            .status()
            .map_err(|e| Failure(format!("cargo could not start: {e}")))?;
        if !build.success() {
            return Err(Failure(format!(
                "building {package}'s {binary} tests failed with {build}"
            )));
        }
    }
    let mut summary = Vec::new();
    for target in &plan.targets {
        let Target {
            name,
            package,
            test,
            ..
        } = target;
        println!("\n==> fuzz {name} for {} s", plan.seconds);
        let output = Command::new(cargo())
            .args(["test", "-q", "-p", package])
            .args(target.selector())
            .arg("--")
            .args(["--exact", test, "--nocapture"])
            .env("DSTOR_FUZZ_SECONDS", plan.seconds.to_string())
            .current_dir(root())
            .output()
            .map_err(|e| Failure(format!("cargo could not start: {e}")))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            print!("{}", String::from_utf8_lossy(&output.stdout));
            eprint!("{stderr}");
            return Err(Failure(format!(
                "fuzz target {name} failed; the shrunk input is saved in a \
                 proptest-regressions/ directory of {package}: commit it with the fix"
            )));
        }
        let line = stderr
            .lines()
            .find(|line| line.starts_with("fuzz target"))
            .unwrap_or("fuzz target ran, but printed no count")
            .to_owned();
        println!("    {line}");
        summary.push(line);
    }
    println!(
        "\n==> fuzz passed: {} targets, {} s each",
        summary.len(),
        plan.seconds
    );
    for line in summary {
        println!("    {line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn reads_seconds_and_targets() {
        let all = plan(&[]).unwrap();
        assert_eq!(all.seconds, DEFAULT_SECONDS);
        assert_eq!(all.targets, TARGETS);
        let some = plan(&args("--seconds 5 jwt_claims base_url")).unwrap();
        assert_eq!(some.seconds, 5);
        let names: Vec<&str> = some.targets.iter().map(|t| t.name).collect();
        assert_eq!(names, ["jwt_claims", "base_url"]);
        for bad in ["--seconds", "--seconds 0", "--seconds x", "nope"] {
            assert!(plan(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_target_names_a_property_test_that_exists() {
        for Target {
            name,
            package,
            binary,
            test,
        } in TARGETS
        {
            let dir = match *binary {
                LIB => root().join(format!("crates/{package}/src")),
                _ => root().join(format!("crates/{package}/tests/{binary}")),
            };
            let (module, function) = test.split_once("::").unwrap();
            let function = function.rsplit("::").next().unwrap();
            let source = std::fs::read_to_string(dir.join(format!("{module}.rs"))).unwrap();
            assert!(
                source.contains(&format!("fn {function}()")),
                "{name}: {test}"
            );
        }
    }
}
