//! Logs: the debug-level tracing spans and events of a whole session (a fetch, a cache
//! hit, a refused key, retries, a forced refresh, a login and a wrong password) carry
//! neither the key, nor a token, nor the password.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dstor_auth::{CacheConfig, RetryPolicy};
use dstor_http::DstorClient;
use dstor_mock::{FakeDstor, Fault};
use dstor_tests::LeakCheck;
use tracing_subscriber::fmt::MakeWriter;

use super::login::{ACCOUNT, login_session};
use super::{KEY, key};

/// Every line the subscriber writes, kept for the search.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Set in the child process that runs the session alone.
const ALONE: &str = "DSTOR_TESTS_LOGS_ALONE";

/// The session runs in a process of its own: tracing decides once per call site whether
/// anyone listens, so a call site first reached by a concurrent test (with no subscriber)
/// could be skipped here too, and the search below would then find nothing to search.
#[test]
fn debug_logs_of_a_session_hold_no_secret() {
    if std::env::var_os(ALONE).is_some() {
        return session();
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "secrets::logs::debug_logs_of_a_session_hold_no_secret",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ALONE, "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The child ran the session: a filter that matched nothing would also succeed.
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn session() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = FakeDstor::builder()
        .key(KEY)
        .account(ACCOUNT.0, ACCOUNT.1)
        .start()
        .await
        .unwrap();
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(key())
        .retry_policy(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .cache_config(CacheConfig::default().with_min_intervals(Duration::ZERO, Duration::ZERO))
        .build()
        .unwrap();

    server.push_faults([Fault::Status(503), Fault::Status(503)]);
    let first = client.token().await.unwrap();
    client.token().await.unwrap();
    server.push_fault(Fault::Status(401));
    client.tokens().force_refresh().await.unwrap_err();
    let second = client.tokens().force_refresh().await.unwrap();
    // A login session too: its password is searched for below.
    let (login_secrets, login_rendered) = login_session(&server).await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The session was logged, so the search below means something.
    assert!(text.contains("dstor.refresh"), "{text}");
    assert!(text.contains("retrying"), "{text}");
    assert!(text.contains("401"), "{text}");
    let mut secrets = vec![KEY.to_owned(), "LeakCanary".to_owned()];
    for token in [&first, &second] {
        let jwt = token.expose_secret().to_owned();
        let signature = jwt.rsplit('.').next().unwrap().to_owned();
        secrets.extend([jwt, signature]);
    }
    secrets.extend(login_secrets);
    let mut check = LeakCheck::new(secrets);
    check.text("debug logs", &text);
    check.text("login errors and recorded requests", &login_rendered);
    check.assert_clean();
}
