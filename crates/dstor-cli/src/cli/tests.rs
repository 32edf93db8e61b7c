use super::*;

#[test]
fn a_timeout_is_at_least_a_second() {
    assert!(parse_timeout("0").is_err());
    assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
}

#[test]
fn the_command_line_is_consistent() {
    use clap::CommandFactory as _;
    Cli::command().debug_assert();
}
