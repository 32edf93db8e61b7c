//! Scripted misbehaviour of the storage endpoints and the gateway.

use std::time::Duration;

/// A storage endpoint of the main listener, as targeted by a [`StorageFault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StorageEndpoint {
    /// `POST /v1/upload/get-token/`.
    UploadToken,
    /// `POST /v1/upload/` (one chunk).
    Chunk,
    /// `GET /v1/upload/get-status/`.
    Status,
    /// Whichever of the three is requested first.
    Any,
}

/// One scripted misbehaviour, queued with
/// [`FakeDstor::push_storage_fault`](crate::FakeDstor::push_storage_fault).
///
/// Each request to a storage endpoint, and each content request to the storage
/// node, takes the oldest queued fault that applies to it (faults for other
/// endpoints stay queued) and misbehaves once. Faults are taken when the
/// request head arrives, before any check of credentials or body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageFault {
    /// Answer with this status and a JSON body `{"message": "<reason phrase>"}`
    /// (codes outside `200..=599` become `500`). A chunk is read to its end
    /// first, so the client sees the answer, and is not stored or counted.
    /// `401` here is "a 401 once"; `503` on [`StorageEndpoint::Chunk`] a
    /// failing chunk.
    Status {
        /// The endpoint that misbehaves.
        endpoint: StorageEndpoint,
        /// The status code.
        code: u16,
    },
    /// Close the connection without an answer, before reading the body (a
    /// chunk is then neither stored nor counted).
    DropConnection {
        /// The endpoint that misbehaves.
        endpoint: StorageEndpoint,
    },
    /// Wait this long, then answer normally (a slow status: `endpoint` is
    /// [`StorageEndpoint::Status`]).
    Delay {
        /// The endpoint that misbehaves.
        endpoint: StorageEndpoint,
        /// How long to wait.
        delay: Duration,
    },
    /// The upload fails: a status poll answers
    /// `{"status":"ERROR","errorExplanation":…,"errorAtStage":…}`, and so does
    /// every later poll of that upload.
    ///
    /// Taken by the first poll of an upload that would report `stage`
    /// (`UPLOADING`, `ADDING_TO_IPFS`, `SAVING_DATA` or `DONE`); a stage of
    /// another name is taken by the first poll after all chunks arrived.
    Error {
        /// The `errorAtStage` value.
        stage: String,
        /// The `errorExplanation` value.
        explanation: String,
    },
    /// The storage node serves the next content request with wrong bytes: the
    /// same length with the first byte changed (an empty file as one byte).
    WrongBytes,
}

/// What a request is, for matching faults.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    /// A request to this storage endpoint (never [`StorageEndpoint::Any`]);
    /// for a status poll, the stage it would report next, if the upload is known.
    Endpoint(StorageEndpoint, Option<&'a str>),
    /// A content request to the storage node.
    Node,
}

/// The stage names the fake reports.
pub(crate) const STAGES: [&str; 4] = ["UPLOADING", "ADDING_TO_IPFS", "SAVING_DATA", "DONE"];

impl StorageFault {
    /// Whether this fault is taken by a request to `target`.
    pub(crate) fn applies_to(&self, target: Target<'_>) -> bool {
        let hits = |endpoint: StorageEndpoint, wanted: StorageEndpoint| {
            wanted == endpoint || wanted == StorageEndpoint::Any
        };
        match (self, target) {
            (
                Self::Status { endpoint, .. }
                | Self::DropConnection { endpoint }
                | Self::Delay { endpoint, .. },
                Target::Endpoint(requested, _),
            ) => hits(requested, *endpoint),
            (Self::Error { stage, .. }, Target::Endpoint(StorageEndpoint::Status, Some(next))) => {
                stage == next || (!STAGES.contains(&stage.as_str()) && next != STAGES[0])
            }
            (Self::WrongBytes, Target::Node) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_only_where_they_are_aimed() {
        let chunk = Target::Endpoint(StorageEndpoint::Chunk, None);
        let status = |next| Target::Endpoint(StorageEndpoint::Status, next);
        let any = StorageFault::Status {
            endpoint: StorageEndpoint::Any,
            code: 401,
        };
        assert!(any.applies_to(chunk));
        assert!(any.applies_to(status(None)));
        assert!(!any.applies_to(Target::Node));
        let drop = StorageFault::DropConnection {
            endpoint: StorageEndpoint::Chunk,
        };
        assert!(drop.applies_to(chunk));
        assert!(!drop.applies_to(status(None)));
        let error = |stage: &str| StorageFault::Error {
            stage: stage.into(),
            explanation: "x".into(),
        };
        assert!(error("SAVING_DATA").applies_to(status(Some("SAVING_DATA"))));
        assert!(!error("SAVING_DATA").applies_to(status(Some("ADDING_TO_IPFS"))));
        assert!(!error("SAVING_DATA").applies_to(status(None)));
        assert!(error("PINNING").applies_to(status(Some("ADDING_TO_IPFS"))));
        assert!(!error("PINNING").applies_to(status(Some("UPLOADING"))));
        assert!(error("UPLOADING").applies_to(status(Some("UPLOADING"))));
        assert!(!error("DONE").applies_to(chunk));
        assert!(StorageFault::WrongBytes.applies_to(Target::Node));
        assert!(!StorageFault::WrongBytes.applies_to(chunk));
    }
}
