//! Scripted misbehaviour of the token endpoint.

/// One scripted answer of the token endpoint, queued with
/// [`FakeDstor::push_fault`](crate::FakeDstor::push_fault).
///
/// Each request to the token path (`/v1/dev/temp-token`, any method) takes the
/// oldest queued fault and answers with it instead of the normal behaviour;
/// when the queue is empty the endpoint behaves normally again. Faults are
/// applied after the configured delay.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and a JSON body `{"message": "<reason phrase>"}`.
    ///
    /// A code outside `200..=599` is answered as `500`.
    Status(u16),
    /// Answer with this status, the same JSON body as [`Fault::Status`] and a
    /// `Retry-After: <value>` header (left out if the value is not a valid
    /// header value).
    StatusRetryAfter(u16, String),
    /// Answer with a redirect: this status and a `Location` header (left out if
    /// the value is not a valid header value).
    Redirect {
        /// The status code, e.g. `302` or `307`.
        status: u16,
        /// The `Location` header value.
        location: String,
    },
    /// Answer with an arbitrary body: malformed JSON, a missing field, a token
    /// that is not a JWT, and so on.
    Body {
        /// The status code.
        status: u16,
        /// The `Content-Type` header value (left out if not a valid header value).
        content_type: String,
        /// The body, sent as is.
        body: String,
    },
    /// Answer `200` with a JSON-looking body of exactly `bytes` bytes
    /// (`{"access_token":"aaaa…`), streamed in 16 KiB chunks and never held in
    /// memory whole. The response carries a `Content-Length`.
    OversizeBody {
        /// The exact length of the body.
        bytes: u64,
    },
    /// Answer `200` with a chunked body that never ends: 16 KiB chunks, with a
    /// short sleep between them.
    EndlessBody,
    /// Answer `200` with the first `sent` bytes of a JSON-looking body, then
    /// stall: send nothing more and never end, until the client gives up or the
    /// server stops.
    ///
    /// With `content_length`, that `Content-Length` is declared (and `sent` is
    /// capped to it), so a client that trusts the header can refuse the body
    /// before reading a byte; without it the body is chunked, so a client has
    /// to count what it reads. Either way a client that waits for the end of
    /// the body waits until its timeout.
    StalledBody {
        /// How many bytes are sent before the stall.
        sent: u64,
        /// The `Content-Length` declared, if any.
        content_length: Option<u64>,
    },
    /// Never answer: the request waits until the server stops.
    Hang,
    /// Close the connection without sending any response.
    DropConnection,
}
