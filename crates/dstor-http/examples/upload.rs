//! Upload files, check that dStor stored each under the CID computed locally, and read the
//! first one back, verified.
//!
//! `DSTOR_API_KEY=… cargo run -p dstor-http --example upload -- FILE…` talks to dStor itself
//! (DSTOR_ENV and DSTOR_ENDPOINT as for `DstorClient::from_env`). Without DSTOR_API_KEY it
//! starts the built-in fake dStor on 127.0.0.1 and runs against that.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example shows its results"
)]

use dstor_http::{ApiKey, DstorClient, Upload};
use dstor_mock::FakeDstor;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _fake) = match std::env::var_os("DSTOR_API_KEY") {
        Some(_) => (DstorClient::from_env()?, None),
        None => {
            let fake = FakeDstor::start().await?;
            let key = ApiKey::new(fake.api_key())?;
            let client = DstorClient::builder()
                .endpoint(fake.base_url())
                .api_key(key)
                .build()?;
            (client, Some(fake))
        }
    };
    let mut upload = Upload::new().on_progress(|event| eprintln!("{event:?}"));
    for path in std::env::args_os().skip(1) {
        upload = upload.file(path);
    }
    if upload.is_empty() {
        upload = upload.bytes("hello.txt", "hello\n");
    }

    let report = client.upload(upload).await?.into_verified()?;
    for file in &report.files {
        println!(
            "{}  {}  ({} bytes, verified)",
            file.local_cid, file.name, file.len
        );
    }

    let first = &report.files[0];
    let mut copy = Vec::new();
    let back = client
        .download_to_writer(&first.local_cid, &mut copy)
        .await?;
    println!("read {} bytes of {} back, verified", back.bytes, back.cid);
    Ok(())
}
