//! Project automation, in the cargo-xtask style: `cargo xtask <command>`.
//!
//! No dependencies: it only runs cargo and reads its output.

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci         run exactly what CI runs, in order, stopping at the first failure:
               1. cargo xtask layering
               2. cargo test --workspace
               3. cargo fmt --all --check
               4. cargo clippy --workspace --all-targets -- -D warnings
               5. RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps
  layering   check the layering contract: dstor-types depends on no async runtime or
             HTTP client, dstor-auth on no HTTP client (normal edges, default features)
  help       print this message
";

/// A crate and the packages that must not appear among its normal dependencies.
struct Rule {
    krate: &'static str,
    forbidden: &'static [&'static str],
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        krate: "dstor-types",
        forbidden: &["tokio", "reqwest", "hyper", "hyper-util", "mio", "socket2"],
        why: "dstor-types does no I/O and depends on no async runtime or HTTP client",
    },
    Rule {
        krate: "dstor-auth",
        forbidden: &["reqwest", "hyper", "hyper-util", "h2"],
        why: "dstor-auth is transport-agnostic and depends on no HTTP client",
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("ci") if args.len() == 1 => ci(),
        Some("layering") if args.len() == 1 => layering(),
        Some(_) => {
            eprintln!("xtask: unknown command or arguments: {}\n", args.join(" "));
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Why a task failed.
#[derive(Debug)]
struct Failure(String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T = ()> = std::result::Result<T, Failure>;

fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The workspace root: the parent of this package's directory.
fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// One CI step: a cargo command, with optional environment.
struct Step {
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const STEPS: &[Step] = &[
    Step {
        args: &["test", "--workspace"],
        env: &[],
    },
    Step {
        args: &["fmt", "--all", "--check"],
        env: &[],
    },
    Step {
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        args: &["doc", "--workspace", "--no-deps"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.env {
            write!(f, "{name}=\"{value}\" ")?;
        }
        write!(f, "cargo {}", self.args.join(" "))
    }
}

fn ci() -> Result {
    let total = STEPS.len() + 1;
    println!("==> [1/{total}] cargo xtask layering");
    layering().map_err(|e| Failure(format!("step 1/{total} (cargo xtask layering): {e}")))?;
    for (i, step) in STEPS.iter().enumerate() {
        let n = i + 2;
        println!("\n==> [{n}/{total}] {step}");
        let mut command = Command::new(cargo());
        command.args(step.args).current_dir(root());
        for (name, value) in step.env {
            command.env(name, value);
        }
        let status = command
            .status()
            .map_err(|e| Failure(format!("step {n}/{total} ({step}) could not start: {e}")))?;
        if !status.success() {
            return Err(Failure(format!(
                "step {n}/{total} ({step}) failed with {status}"
            )));
        }
    }
    println!("\n==> CI passed: all {total} steps succeeded");
    Ok(())
}

fn layering() -> Result {
    let mut violations = Vec::new();
    for rule in RULES {
        let args = ["tree", "-p", rule.krate, "-e", "normal", "--prefix", "none"];
        println!("    cargo {}", args.join(" "));
        let output = Command::new(cargo())
            .args(args)
            .current_dir(root())
            .output()
            .map_err(|e| Failure(format!("could not run cargo tree: {e}")))?;
        if !output.status.success() {
            return Err(Failure(format!(
                "cargo tree -p {} failed ({}):\n{}",
                rule.krate,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            )));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let names = crate_names(&stdout);
        if names.is_empty() {
            return Err(Failure(format!(
                "cargo tree -p {} printed no crates",
                rule.krate
            )));
        }
        let mut found: Vec<&str> = rule
            .forbidden
            .iter()
            .copied()
            .filter(|forbidden| names.contains(forbidden))
            .collect();
        found.sort_unstable();
        found.dedup();
        if found.is_empty() {
            println!(
                "    ok: {} ({} crates, none of {})",
                rule.krate,
                names.len(),
                rule.forbidden.join(", ")
            );
        } else {
            for dep in found {
                violations.push(format!(
                    "{} depends on {dep} (normal dependency, default features): {}",
                    rule.krate, rule.why
                ));
            }
        }
    }
    if violations.is_empty() {
        println!("    layering contract holds");
        Ok(())
    } else {
        Err(Failure(format!(
            "layering contract broken:\n  {}\n  (run `cargo tree -p <crate> -e normal -i <dependency>` to see why)",
            violations.join("\n  ")
        )))
    }
}

/// The crate names in `cargo tree --prefix none` output: the first token of each line
/// (`name v1.2.3 (...)`), deduplicated.
fn crate_names(tree: &str) -> Vec<&str> {
    let mut names: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
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
        let tree = "dstor-types v0.1.0 (/w/crates/dstor-types)\nhttp v1.3.1\nhttp-body v1.0.1\nhttp v1.3.1 (*)\n\n";
        assert_eq!(crate_names(tree), ["dstor-types", "http", "http-body"]);
        assert!(!crate_names("hyper-util v0.1.0\n").contains(&"hyper"));
    }

    #[test]
    fn steps_print_as_ci_runs_them() {
        let printed: Vec<String> = STEPS.iter().map(ToString::to_string).collect();
        assert_eq!(
            printed,
            [
                "cargo test --workspace",
                "cargo fmt --all --check",
                "cargo clippy --workspace --all-targets -- -D warnings",
                "RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps",
            ]
        );
    }
}
