//! Project automation, in the cargo-xtask style: `cargo xtask <command>`.
//!
//! The layering rules live in this package's library (`xtask::layering`), which the
//! integration tests check too; xtask itself depends on nothing.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "xtask reports each step to the terminal that runs it"
)]

use std::env;
use std::fmt;
use std::process::{Command, ExitCode};

mod fuzz;

use xtask::layering::LAYERING;
use xtask::{cargo, root};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci         run exactly what CI runs, in order, stopping at the first failure:
               1. cargo test --workspace (the README's test command; its integration
                  tests include the layering contract)
               2. cargo fmt --all --check
               3. cargo clippy --workspace --all-targets -- -D warnings
               4. RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps
  layering   check the layering contract alone: dstor-types depends on no async runtime
             or HTTP client, dstor-auth on no HTTP client (normal edges, default features)
  fuzz [--seconds N] [TARGET...]
             run the property tests (dstor-types' parsers, dstor-auth's hostile
             configurations, dstor-storage's redirects) for N seconds per target
             (default 60; all targets unless named), failures saved under a
             proptest-regressions/ directory of the package
  help       print this message
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("ci") if args.len() == 1 => ci(),
        Some("layering") if args.len() == 1 => layering(),
        Some("fuzz") => fuzz::plan(&args[1..]).and_then(|plan| fuzz::run(&plan)),
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
    let total = STEPS.len();
    for (i, step) in STEPS.iter().enumerate() {
        let n = i + 1;
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
    for rule in LAYERING {
        println!("    cargo tree -p {} -e normal --prefix none", rule.krate);
        match rule.check() {
            Ok(crates) => println!(
                "    ok: {} ({crates} crates, none of {})",
                rule.krate,
                rule.forbidden.join(", ")
            ),
            Err(e) => violations.push(e),
        }
    }
    if violations.is_empty() {
        println!("    layering contract holds");
        Ok(())
    } else {
        Err(Failure(format!(
            "layering contract broken:\n  {}",
            violations.join("\n  ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
