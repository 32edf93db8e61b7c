//! Runs a property for a case count, or for a wall-clock budget when fuzzing.
//!
//! - `DSTOR_FUZZ_SECONDS=N`: run batches of fresh random cases until N seconds have
//!   passed, then print how many inputs ran (`cargo xtask fuzz` sets it).
//! - else `DSTOR_PROPTEST_CASES=N` cases (default 64: the suite stays fast).

#![allow(
    clippy::print_stderr,
    reason = "a fuzz run reports its input count; xtask reads it"
)]

use std::fmt::Debug;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// The cases one `cargo test` run tries of each target.
const DEFAULT_CASES: u32 = 64;

/// The cases of one batch while fuzzing.
const FUZZ_BATCH: u32 = 1024;

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// Checks `test` on values of `strategy`. `source_file` is the caller's `file!()`, under
/// which failures are saved.
pub(crate) fn check<S>(
    target: &str,
    source_file: &'static str,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let budget = env_number("DSTOR_FUZZ_SECONDS").map(Duration::from_secs);
    let cases = match budget {
        Some(_) => FUZZ_BATCH,
        None => env_number("DSTOR_PROPTEST_CASES")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_CASES),
    };
    let config = || Config {
        cases,
        source_file: Some(source_file),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let started = Instant::now();
    let mut inputs: u64 = 0;
    loop {
        let mut runner = TestRunner::new(config());
        if let Err(failure) = runner.run(&strategy, &test) {
            panic!("{target}: {failure}");
        }
        inputs += u64::from(cases);
        match budget {
            Some(budget) if started.elapsed() < budget => {}
            _ => break,
        }
    }
    if budget.is_some() {
        eprintln!(
            "fuzz target {target}: {inputs} inputs in {:.1} s, no failure",
            started.elapsed().as_secs_f64()
        );
    }
}
