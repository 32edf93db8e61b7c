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

/// A key passed as the value of a checked flag: clap's error, rendered or debugged, holds
/// no 8-character piece of it, and says which flag refused what.
#[test]
fn a_refused_value_is_never_echoed() {
    let key = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";
    for args in [
        ["token", "--timeout", key],
        ["token", "--expires-in", key],
        ["token", "--expires-at", key],
        ["token", "--env", key],
        ["serve-fake", "--port", key],
        ["serve-fake", "--host", key],
        ["upload", "--files-per-chunk", key],
        ["upload", "--wait-timeout", key],
        ["get", "--timeout", key],
    ] {
        let error = Cli::try_parse_from(std::iter::once("dstor").chain(args)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ValueValidation, "{args:?}");
        assert_eq!(error.exit_code(), 2, "{args:?}");
        let message = refusal(&error).expect("refused by a checked parser");
        assert!(message.contains(args[1]), "{message}");
        assert!(message.contains("(a value of 64 characters)"), "{message}");
        let shown = [
            error.render().to_string(),
            format!("{error:?}"),
            message.to_owned(),
        ];
        for start in 0..=key.len() - 8 {
            let piece = &key[start..start + 8];
            assert!(shown.iter().all(|text| !text.contains(piece)), "{shown:?}");
        }
    }
}

#[test]
fn a_short_refused_value_is_quoted_to_show_the_typo() {
    let error = Cli::try_parse_from(["dstor", "token", "--env", "Staging"]).unwrap_err();
    assert_eq!(
        refusal(&error),
        Some("invalid value 'Staging' for --env/DSTOR_ENV: use testnet or production")
    );
    let error = Cli::try_parse_from(["dstor", "token", "--timeout", "0"]).unwrap_err();
    assert_eq!(
        refusal(&error),
        Some(
            "invalid value '0' for --timeout: a timeout of zero would fail every request: use 1s or more"
        )
    );
    // clap's own errors are not ours to word.
    let error = Cli::try_parse_from(["dstor", "token", "--api-key=x"]).unwrap_err();
    assert_eq!(refusal(&error), None);
}

#[test]
fn checked_values_arrive_typed() {
    let cli =
        Cli::try_parse_from(["dstor", "token", "--env", " Test ", "--timeout", "2m"]).unwrap();
    let Command::Token(args) = cli.command else {
        unreachable!("parsed as token")
    };
    assert_eq!(args.connection.target.env, Environment::Testnet);
    assert_eq!(args.connection.timeout, Duration::from_secs(120));
    assert_eq!(args.expires_in, None);
    let cli = Cli::try_parse_from(["dstor", "serve-fake"]).unwrap();
    let Command::ServeFake(args) = cli.command else {
        unreachable!("parsed as serve-fake")
    };
    assert_eq!((args.host, args.port), (IpAddr::from([127, 0, 0, 1]), 0));
}

/// A CID refused by `dstor get` is a one-line usage error that never echoes a long value.
#[test]
fn a_malformed_cid_is_refused_without_echoing_it() {
    let long = "Qm5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";
    let error = Cli::try_parse_from(["dstor", "get", long]).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    let message = refusal(&error).expect("refused by a checked parser");
    assert!(!message.contains(long), "{message}");
    assert!(message.contains("46 characters"), "{message}");
    for zero in ["0", "-1", "many"] {
        assert!(parse_count(zero).is_err(), "{zero}");
    }
    assert_eq!(parse_count(" 7 "), Ok(7));
}
