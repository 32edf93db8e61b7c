//! The own transport keeps every promise of the seam a server can observe.

#![allow(
    clippy::print_stdout,
    reason = "the test shows the conformance report, passed or not"
)]

use std::time::Duration;

use dstor_downstream_tests::HyperTransport;
use dstor_mock::conformance::ConformanceKit;

#[tokio::test]
async fn the_hyper_transport_passes_the_conformance_kit() {
    let kit = ConformanceKit::start().await.unwrap();
    let report = kit
        .check(&HyperTransport::new(Duration::from_millis(300), 64 * 1024))
        .await;
    println!("{report}");
    report.assert_passed();
}
