//! The command line, as clap parses it. `dstor --help` is the manual.

use std::ffi::OsStr;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand};
use dstor_types::Environment;

use crate::time::{parse_duration, parse_time};

/// The exit codes, as listed at the end of `dstor --help`.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  internal error (a bug: please report it), or standard output could not be written
  2  usage error (unknown flag, bad value)
  3  configuration or input error (no API key, malformed key, bad endpoint, bad expiration,
     undecodable token, a file to upload or hash that is missing or unreadable, an -o path
     that cannot be written)
  4  dStor rejected the API key (401/403: wrong, expired or revoked key, or a key of the other environment)
  5  network error (host unreachable, connection refused, timeout)
  6  service error (5xx, throttled, not found, redirect, unreadable answer, an upload not
     stored within --wait-timeout: it may still complete)
  7  cache I/O error (no cache directory is known, or `dstor cache clear` cannot remove a
     file; `dstor token --cache` only warns when it cannot store a token it printed)
  8  dStor could not store the upload (its status said ERROR: its explanation and stage follow)
  9  content does not match its CID (`get`: the gateway served other bytes; `upload`: dStor
     stored a file under another CID than the one computed here)

The API key is read from DSTOR_API_KEY, --api-key-file PATH or --api-key-stdin; no flag takes
the key itself, so it never shows in shell history or the process list.";

/// `dstor`: access tokens for the dStor API from the shell.
#[derive(Debug, Parser)]
#[command(
    name = "dstor",
    version,
    about = "Access tokens, uploads and verified downloads for dStor, from the shell",
    long_about = "Trades a dStor API key for a temporary access token (GET /v1/dev/temp-token), \
                  uploads files and waits until they are stored, reads them back through the \
                  gateway verified against their CID, computes CIDs locally, inspects tokens, \
                  and runs a fake dStor service for local development.\n\n\
                  Try `dstor demo` on a machine with no dStor account.",
    after_help = EXIT_CODES_HELP
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print an access token, for `TOKEN=$(dstor token)`.
    #[command(after_help = EXIT_CODES_HELP)]
    Token(TokenArgs),
    /// Decode a token's claims (without verifying its signature) and show when it expires.
    #[command(after_help = EXIT_CODES_HELP)]
    Inspect(InspectArgs),
    /// Manage the token cache used by `dstor token --cache`.
    Cache {
        /// What to do with the cache.
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Upload files under one upload token, wait until dStor has stored them, and print
    /// `<cid>  <name>` per file, in the order given.
    #[command(after_help = EXIT_CODES_HELP)]
    Upload(UploadArgs),
    /// Read a file back through the gateway (no key is sent) and verify it against its CID.
    #[command(after_help = EXIT_CODES_HELP)]
    Get(GetArgs),
    /// Print `<cid>  <path>` per file: the CID `ipfs add` gives it with kubo's defaults,
    /// computed locally (no network, no key).
    #[command(after_help = EXIT_CODES_HELP)]
    Cid(CidArgs),
    /// Run a fake dStor service (tokens, uploads, gateway) on this machine until Ctrl-C.
    #[command(after_help = EXIT_CODES_HELP)]
    ServeFake(ServeFakeArgs),
    /// Show the whole flow against an in-process fake service: no account needed.
    Demo,
}

/// `dstor cache ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum CacheAction {
    /// Remove every cached token.
    Clear,
    /// Print the directory where tokens are cached.
    Path,
}

/// Which dStor a command talks to: `--env`, or `--endpoint`, which wins.
#[derive(Debug, Args)]
pub(crate) struct EndpointArgs {
    /// The dStor environment: testnet (also test, testing) or production (also prod).
    #[arg(
        long,
        env = "DSTOR_ENV",
        hide_env_values = true,
        value_name = "ENV",
        default_value = "production",
        value_parser = Checked(parse_env)
    )]
    pub env: Environment,
    /// A base URL to use instead of the environment's (a proxy, or `dstor serve-fake`).
    /// Plain http is allowed only for loopback hosts.
    #[arg(
        long,
        env = "DSTOR_ENDPOINT",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub endpoint: Option<String>,
}

/// Where the API key comes from, and where it is sent.
#[derive(Debug, Args)]
pub(crate) struct ConnectionArgs {
    /// Where requests go.
    #[command(flatten)]
    pub target: EndpointArgs,
    /// Read the API key from this file (surrounding whitespace is ignored). Without this
    /// flag or --api-key-stdin, the key comes from DSTOR_API_KEY.
    #[arg(long, value_name = "PATH", conflicts_with = "api_key_stdin")]
    pub api_key_file: Option<PathBuf>,
    /// Read the API key from standard input.
    #[arg(long)]
    pub api_key_stdin: bool,
    /// The time allowed for each request to dStor (s, m suffixes; plain number: seconds).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        value_parser = Checked(parse_timeout)
    )]
    pub timeout: Duration,
}

/// `dstor token`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// Where the key comes from, and where it is sent.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Print JSON: access_token, expires_at (RFC 3339), expires_in (seconds), subject,
    /// environment and endpoint.
    #[arg(long)]
    pub json: bool,
    /// Ask for a token that lives this long: 90s, 30m, 1h, 7d (default 1h).
    #[arg(
        long,
        value_name = "DURATION",
        conflicts_with = "expires_at",
        value_parser = Checked(parse_duration)
    )]
    pub expires_in: Option<Duration>,
    /// Ask for a token that expires at this time: RFC 3339 (2030-01-01T00:00:00Z) or Unix
    /// seconds.
    #[arg(long, value_name = "TIME", value_parser = Checked(parse_time))]
    pub expires_at: Option<i64>,
    /// Reuse a token across runs: it is kept in the user's cache directory
    /// ($DSTOR_CACHE_DIR, else $XDG_CACHE_HOME/dstor/tokens or ~/.cache/dstor/tokens, mode
    /// 0600, never the key) and reused, for the same environment, endpoint, key and
    /// requested lifetime, until 75% of its lifetime has passed since it was fetched (the
    /// refresh-ahead window), and never once it has expired by this machine's clock.
    ///
    /// With a login (--email), the file is named after the email, never the password: a
    /// cached token is printed without asking for the password.
    #[arg(long)]
    pub cache: bool,
    /// Log in with this account's email instead of an API key (also DSTOR_EMAIL, used
    /// when no API key is given). The password comes from --password-stdin, else
    /// DSTOR_PASSWORD, else a prompt on the terminal that does not echo it.
    #[arg(
        long,
        value_name = "ADDRESS",
        conflicts_with_all = ["api_key_file", "api_key_stdin"]
    )]
    pub email: Option<String>,
    /// Read the login's password from the first line of standard input.
    #[arg(long, conflicts_with = "api_key_stdin")]
    pub password_stdin: bool,
}

/// `dstor upload`.
#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
    /// Where the key comes from, and where it is sent.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The files to upload (directories too, with --recursive).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// The folder the files are stored in.
    #[arg(long, value_name = "PATH", default_value = dstor_storage::DEFAULT_FOLDER_PATH)]
    pub folder_path: String,
    /// A comment sent with the upload (x-dstor-comment).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// The most files sent in one request (one chunk).
    #[arg(
        long,
        value_name = "N",
        default_value_t = dstor_storage::DEFAULT_FILES_PER_CHUNK,
        value_parser = Checked(parse_count)
    )]
    pub files_per_chunk: usize,
    /// Upload the files under each directory given, named by their path relative to it.
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// How long to wait for dStor to store the files once they are sent (s, m, h suffixes).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10m",
        value_parser = Checked(parse_timeout)
    )]
    pub wait_timeout: Duration,
    /// Print JSON: {"files": [{"name", "cid", "size", "url", "verified"}]}.
    #[arg(long)]
    pub json: bool,
}

/// `dstor get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// The CID of the content (Qm…).
    #[arg(value_name = "CID", value_parser = Checked(parse_cid))]
    pub cid: dstor_types::Cid,
    /// Write the content to this file, which appears only once verified; without it, the
    /// bytes go to standard output as they arrive.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Keep the content even if its bytes do not have the CID asked for.
    #[arg(long)]
    pub no_verify: bool,
    /// Where the gateway is.
    #[command(flatten)]
    pub target: EndpointArgs,
    /// The longest wait without progress (s, m suffixes; plain number: seconds).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        value_parser = Checked(parse_timeout)
    )]
    pub timeout: Duration,
}

/// `dstor cid`.
#[derive(Debug, Args)]
pub(crate) struct CidArgs {
    /// The files, or `-` for standard input.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// `dstor inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The token, or `-` (the default) to read it from standard input.
    #[arg(value_name = "TOKEN", default_value = "-")]
    pub token: String,
}

/// `dstor serve-fake`.
#[derive(Debug, Args)]
pub(crate) struct ServeFakeArgs {
    /// The port to listen on (0: any free port).
    #[arg(
        long,
        value_name = "PORT",
        default_value = "0",
        value_parser = Checked(parse_port)
    )]
    pub port: u16,
    /// The address to listen on. Anything but loopback exposes the fake to the network.
    #[arg(
        long,
        value_name = "HOST",
        default_value = "127.0.0.1",
        value_parser = Checked(parse_host)
    )]
    pub host: IpAddr,
    /// Accept the API key in this file instead of a generated one.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// A clap value parser made of a function that checks the text of a value. Its refusal is a
/// one-line usage error that names the flag (and its variable) and the reason, and quotes
/// the value only when [`echo_safely`] does: clap's own refusal quotes a value whole, and a
/// value in the wrong place may be the API key. [`refusal`] reads the message back.
pub(crate) struct Checked<T>(pub fn(&str) -> Result<T, String>);

impl<T> Clone for Checked<T> {
    fn clone(&self) -> Self {
        Self(self.0)
    }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Checked<T> {
    type Value = T;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        (self.0)(&text).map_err(|reason| {
            let message = format!(
                "invalid value {} for {}: {reason}",
                echo_safely(&text),
                flag_name(arg)
            );
            let mut error = clap::Error::raw(ErrorKind::ValueValidation, &message);
            error.insert(ContextKind::Custom, ContextValue::String(message));
            error
        })
    }
}

/// `--env/DSTOR_ENV`: the flag, and the variable that sets it, if any.
fn flag_name(arg: Option<&clap::Arg>) -> String {
    let Some(arg) = arg else {
        return "an argument".to_owned();
    };
    let flag = arg
        .get_long()
        .map_or_else(|| arg.get_id().to_string(), |long| format!("--{long}"));
    match arg.get_env() {
        Some(var) => format!("{flag}/{}", var.to_string_lossy()),
        None => flag,
    }
}

/// The one-line message of a value refused by a [`Checked`] parser; `None` for clap's own
/// errors.
pub(crate) fn refusal(error: &clap::Error) -> Option<&str> {
    match error.get(ContextKind::Custom) {
        Some(ContextValue::String(message)) => Some(message),
        _ => None,
    }
}

/// A value short enough to be a mistyped flag value is quoted; a longer one (or one with
/// spaces or other characters that are not visible ASCII), which may be a key put in the
/// wrong place, is described by its length alone.
pub(crate) fn echo_safely(value: &str) -> String {
    let len = value.chars().count();
    if len <= 20 && value.chars().all(|c| c.is_ascii_graphic()) {
        format!("'{value}'")
    } else {
        format!("(a value of {len} characters)")
    }
}

/// Parses `--env`: testnet, test, testing, production or prod, in any case.
///
/// # Errors
///
/// A reason, which never repeats the value.
pub(crate) fn parse_env(text: &str) -> Result<Environment, String> {
    Environment::from_name(text).ok_or_else(|| "use testnet or production".to_owned())
}

/// Parses `--port`.
///
/// # Errors
///
/// A reason, which never repeats the value.
pub(crate) fn parse_port(text: &str) -> Result<u16, String> {
    text.trim()
        .parse()
        .map_err(|_| "use a port number from 0 to 65535".to_owned())
}

/// Parses `--host`: an IP address.
///
/// # Errors
///
/// A reason, which never repeats the value.
pub(crate) fn parse_host(text: &str) -> Result<IpAddr, String> {
    text.trim()
        .parse()
        .map_err(|_| "use an IP address, such as 127.0.0.1 or ::1".to_owned())
}

/// Removes from clap's rendered `error` every value of the command line, or of a variable
/// clap reads, that [`echo_safely`] would not quote: clap quotes unexpected arguments
/// whole, and a value in the wrong place may be the API key.
pub(crate) fn scrub_clap_error(
    error: &str,
    args: impl IntoIterator<Item = String>,
    vars: impl IntoIterator<Item = String>,
) -> String {
    let mut values: Vec<String> = Vec::new();
    for arg in args {
        if let Some((_, value)) = arg.split_once('=') {
            values.push(value.to_owned());
        }
        values.push(arg);
    }
    values.extend(vars);
    values.retain(|v| {
        let len = v.chars().count();
        len > 20 || (len >= 4 && !v.chars().all(|c| c.is_ascii_graphic()))
    });
    // Longest first, so that a value is not left in pieces by a shorter one inside it.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut text = error.to_owned();
    for value in &values {
        for candidate in [value.as_str(), value.trim()] {
            if candidate.chars().count() >= 4 && text.contains(candidate) {
                text = text.replace(
                    candidate,
                    &format!("(a value of {} characters)", candidate.chars().count()),
                );
            }
        }
    }
    text
}

/// Parses a CID: CIDv0 (`Qm…`) or CIDv1 text.
///
/// # Errors
///
/// A reason, which never repeats the value.
pub(crate) fn parse_cid(text: &str) -> Result<dstor_types::Cid, String> {
    dstor_types::Cid::parse(text.trim()).map_err(|e| e.to_string())
}

/// Parses a count of at least one.
///
/// # Errors
///
/// A reason, which never repeats the value.
pub(crate) fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("use a whole number of at least 1".to_owned()),
    }
}

/// Parses a `--timeout`: a duration as [`parse_duration`], of at least a second.
///
/// # Errors
///
/// A reason, which never repeats the value.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => {
            Err("a timeout of zero would fail every request: use 1s or more".into())
        }
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests;
