//! `cargo xtask fuzz [--seconds N] [TARGET...]`: the property tests of `dstor-types`, run
//! for a wall-clock budget each instead of a few cases.
//!
//! Each target is one property test of `crates/dstor-types/tests/properties`; its harness
//! reads `DSTOR_FUZZ_SECONDS` and loops batches of fresh random cases until the budget is
//! spent. A failure is shrunk and saved by proptest under
//! `crates/dstor-types/tests/proptest-regressions/` (commit it: every later run, `cargo
//! test` included, replays it first). Stable Rust only.

use std::process::Command;

use crate::{Failure, Result, cargo, root};

/// The targets: a name, and the test that runs it.
pub(crate) const TARGETS: &[(&str, &str)] = &[
    ("api_key", "api_key::fuzz_api_key"),
    ("base_url", "endpoint::fuzz_base_url"),
    ("chunk_answer", "storage::fuzz_chunk_answer"),
    ("cid_text", "cid::fuzz_cid_text"),
    ("cid_text_valid", "cid::a_valid_cid_is_always_accepted"),
    ("environment", "endpoint::fuzz_environment"),
    ("expiration", "expiration::fuzz_expiration"),
    ("file_name", "name::fuzz_file_name"),
    ("jwt_claims", "jwt::fuzz_jwt_claims"),
    ("token_response", "response::fuzz_token_response"),
    (
        "token_response_valid",
        "response::a_valid_token_answer_is_always_accepted",
    ),
    ("upload_status", "storage::fuzz_upload_status"),
    ("upload_token_answer", "storage::fuzz_upload_token_answer"),
];

/// The budget per target when none is given.
const DEFAULT_SECONDS: u64 = 60;

/// What `cargo xtask fuzz` was asked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) seconds: u64,
    pub(crate) targets: Vec<(&'static str, &'static str)>,
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
        } else if let Some(target) = TARGETS.iter().find(|(name, _)| name == arg) {
            targets.push(*target);
        } else {
            let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
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
    let build = Command::new(cargo())
        .args([
            "test",
            "-p",
            "dstor-types",
            "--test",
            "properties",
            "--no-run",
        ])
        .current_dir(root())
        .status()
        .map_err(|e| Failure(format!("cargo could not start: {e}")))?;
    if !build.success() {
        return Err(Failure(format!(
            "building the properties failed with {build}"
        )));
    }
    let mut summary = Vec::new();
    for (name, test) in &plan.targets {
        println!("\n==> fuzz {name} for {} s", plan.seconds);
        let output = Command::new(cargo())
            .args([
                "test",
                "-q",
                "-p",
                "dstor-types",
                "--test",
                "properties",
                "--",
            ])
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
                "fuzz target {name} failed; the shrunk input is saved under \
                 crates/dstor-types/tests/proptest-regressions/: commit it with the fix"
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
        assert_eq!(some.targets, [TARGETS[8], TARGETS[1]],);
        for bad in ["--seconds", "--seconds 0", "--seconds x", "nope"] {
            assert!(plan(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_target_names_a_property_test_that_exists() {
        let dir = root().join("crates/dstor-types/tests/properties");
        for (name, test) in TARGETS {
            let (module, function) = test.split_once("::").unwrap();
            let source = std::fs::read_to_string(dir.join(format!("{module}.rs"))).unwrap();
            assert!(
                source.contains(&format!("fn {function}()")),
                "{name}: {test}"
            );
        }
    }
}
