//! The download flow: the gateway, its redirects, and the CID checked while streaming.

use std::path::Path;

use bytes::Bytes;
use dstor_auth::Body;
use dstor_types::{Cid, CidBuilder};
use http::header::CONTENT_LENGTH;
use http::{Method, Request, Uri};
use http_body_util::BodyExt as _;
use tokio::io::{AsyncWrite, AsyncWriteExt as _, BufWriter};

use crate::Download;
use crate::error::from_transport;
use crate::redirect::{MAX_REDIRECTS, check_target, next_hop};
use crate::report::Downloaded;
use crate::storage::Inner;
use crate::target::FileSink;
use crate::worker::Worker;
use crate::{Stage, StorageError};

/// The buffer between the network and a writer: big writes, few system calls.
pub(crate) const WRITE_BUFFER: usize = 256 * 1024;

impl Inner {
    /// Streams the content of `cid` into `writer`, checking its CID on the way. The writer
    /// has then seen every byte, even when the CID does not match: the error says so.
    pub(crate) async fn download_to_writer<W>(
        &self,
        cid: &Cid,
        writer: &mut W,
        options: &Download,
    ) -> Result<Downloaded, StorageError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        let (mut body, redirects, len) = self.fetch(cid).await?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, writer);
        let write_error = |source| StorageError::Write { path: None, source };
        let hasher = hasher().map_err(write_error)?;
        let mut received = 0;
        while let Some(data) = next_block(&mut body).await? {
            received += data.len() as u64;
            options.emit(received, len);
            // The hasher takes every block: it stops only by panicking, which `finish`
            // raises again.
            let _ = hasher.send(data.clone()).await;
            out.write_all(&data).await.map_err(write_error)?;
        }
        out.flush().await.map_err(write_error)?;
        outcome(cid, hasher.finish().await, redirects, options)
    }

    /// Streams the content of `cid` into a file beside `path`, renamed to `path` only once
    /// every byte is written and (unless `options` says not to) their CID checked.
    pub(crate) async fn download_to_file(
        &self,
        cid: &Cid,
        path: &Path,
        options: &Download,
    ) -> Result<Downloaded, StorageError> {
        check_cid(cid)?;
        let mut sink = FileSink::create(path).await?;
        let (mut body, redirects, len) = self.fetch(cid).await?;
        if let Some(len) = len {
            sink.reserve(len).await?;
        }
        let hasher = hasher().map_err(|source| StorageError::Write {
            path: Some(path.to_path_buf()),
            source,
        })?;
        let mut received = 0;
        while let Some(data) = next_block(&mut body).await? {
            received += data.len() as u64;
            options.emit(received, len);
            // As above, the hasher takes every block.
            let _ = hasher.send(data.clone()).await;
            sink.write(data).await?;
        }
        let done = outcome(cid, hasher.finish().await, redirects, options)?;
        sink.commit().await?;
        Ok(done)
    }

    /// GETs the gateway URL of `cid`, following redirects: the body of the answer, the
    /// number of redirects followed, and the length declared.
    async fn fetch(&self, cid: &Cid) -> Result<(Body, usize, Option<u64>), StorageError> {
        check_cid(cid)?;
        let mut url: Uri =
            cid.gateway_url(&self.base)
                .map_err(|_| StorageError::InvalidOption {
                    option: "endpoint",
                    reason: "the gateway URL of the CID is not valid",
                })?;
        check_target(&url)?;
        let mut redirects = 0;
        let response = loop {
            let mut request = Request::new(Body::empty());
            *request.method_mut() = Method::GET;
            *request.uri_mut() = url.clone();
            // The plain transport: no credential is added on any hop.
            let response = self
                .transport
                .send_streaming(request)
                .await
                .map_err(|source| from_transport(Stage::Download, source))?;
            match next_hop(&url, response.status(), response.headers())? {
                None => break response,
                Some(next) => {
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(StorageError::Redirect {
                            reason: "it was redirected more than 5 times",
                        });
                    }
                    url = next;
                }
            }
        };
        if !response.status().is_success() {
            return Err(StorageError::NotServed {
                cid: cid.to_string(),
                status: response.status().as_u16(),
            });
        }
        let len = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse().ok());
        Ok((response.into_body(), redirects, len))
    }
}

/// A CID computed on a thread of its own, beside the network and the disk; an error only
/// if no thread could be started.
fn hasher() -> std::io::Result<Worker<CidBuilder>> {
    Worker::spawn("dstor-hasher", |blocks| {
        let mut builder = CidBuilder::new();
        for block in blocks {
            builder.update(&block);
        }
        builder
    })
}

/// The next block of data of `body`, or `None` at its end.
async fn next_block(body: &mut Body) -> Result<Option<Bytes>, StorageError> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|source| from_transport(Stage::Download, source))?;
        // An empty block carries nothing to hash or write.
        if let Ok(data) = frame.into_data()
            && !data.is_empty()
        {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

fn check_cid(cid: &Cid) -> Result<(), StorageError> {
    if cid.is_v0() {
        Ok(())
    } else {
        Err(StorageError::UnsupportedCid {
            cid: cid.to_string(),
        })
    }
}

/// The outcome of a download whose bytes went through `builder`: an error when they do not
/// have the CID asked for, unless `options` turned verification off.
fn outcome(
    expected: &Cid,
    builder: CidBuilder,
    redirects: usize,
    options: &Download,
) -> Result<Downloaded, StorageError> {
    let bytes = builder.bytes_seen();
    let actual = builder.finish();
    let verified = actual == *expected;
    if verified || !options.verifies() {
        Ok(Downloaded {
            cid: actual,
            verified,
            bytes,
            redirects,
        })
    } else {
        Err(StorageError::CidMismatch {
            expected: expected.to_string(),
            actual: actual.to_string(),
        })
    }
}
