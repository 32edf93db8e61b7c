//! The request and response models of the dStor API, free of any I/O.
//!
//! ```
//! use std::time::Duration;
//! use dstor_types::{ApiKey, Environment, Expiration, TokenRequest};
//!
//! let key = ApiKey::new("5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92")?;
//! let exchange = TokenRequest::new(Environment::Testnet.base_url(), key)?
//!     .expiration(Some(Expiration::after(Duration::from_secs(3600))?));
//!
//! // Any transport sends this request...
//! let request: http::Request<Vec<u8>> = exchange.to_http();
//! assert_eq!(request.uri().path(), "/v1/dev/temp-token");
//!
//! // ...and hands the response back to be read.
//! let response = http::Response::builder()
//!     .status(401)
//!     .body(br#"{"message":"invalid api key"}"#.to_vec())?;
//! let err = exchange.parse_response(response).unwrap_err();
//! assert!(err.is_key_rejected());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Everything here is pure: building an [`http::Request`], reading an [`http::Response`],
//! validating an [`ApiKey`], reading a token's claims. The I/O lives in the transport
//! crates (`dstor-http` over reqwest, or any transport of your own through `dstor-auth`).
#![deny(missing_docs)]

mod api_key;
mod cid;
mod environment;
mod expiration;
mod jwt;
mod login;
mod request;
mod response;
mod storage;
mod token;

pub use api_key::{API_KEY_LEN, ApiKey, ApiKeyError, CharProblem};
pub use cid::{CHUNK_SIZE, Cid, CidBuilder, CidError, GATEWAY_PATH, MAX_CID_LEN, MAX_LINKS};
pub use environment::{BaseUrl, EndpointError, Environment, TEMP_TOKEN_PATH};
pub use expiration::{Expiration, ExpirationError};
pub use jwt::Claims;
pub use login::{LoginCredentials, LoginError, LoginRequest, MAX_EMAIL_LEN};
pub use request::{RequestError, TokenRequest, USER_AGENT};
pub use response::{ApiError, InvalidBody};
pub use storage::{
    BodyError, COMMENT_HEADER, ChunkRequest, FORM_FIELD, FileName, FileNameError, MAX_COMMENT_LEN,
    MAX_FILE_NAME_LEN, Multipart, MultipartError, StatusRequest, StoredFile, UPLOAD_PATH,
    UPLOAD_STATUS_PATH, UPLOAD_TOKEN_HEADER, UPLOAD_TOKEN_PATH, UploadApiError, UploadRequestError,
    UploadStatus, UploadToken, UploadTokenError, UploadTokenRequest, parse_status,
};
pub use token::{AccessToken, MAX_TOKEN_LEN, TokenError};

pub use secrecy;
