use super::*;

#[test]
fn durations_take_suffixes() {
    assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
    assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
    assert!(parse_duration("1w").is_err());
    assert!(parse_duration("h").is_err());
    assert!(parse_duration("").is_err());
    assert!(parse_duration("-5m").is_err());
    assert_eq!(
        parse_duration(&format!("{}d", u64::MAX / 1000)),
        Err("that duration is too long".to_owned())
    );
    assert!(parse_timeout("0").is_err());
    assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
}

#[test]
fn times_are_rfc3339_or_unix() {
    assert_eq!(parse_time("1632792437"), Ok(1_632_792_437));
    assert_eq!(parse_time("2021-09-28T01:27:17Z"), Ok(1_632_792_437));
    assert_eq!(parse_time("2021-09-28T03:27:17+02:00"), Ok(1_632_792_437));
    assert!(parse_time("tomorrow").is_err());
}

#[test]
fn the_command_line_is_consistent() {
    use clap::CommandFactory as _;
    Cli::command().debug_assert();
}
