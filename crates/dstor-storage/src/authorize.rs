//! The API requests' transport: dstor-auth's [`AuthorizedTransport`], built only for a base
//! URL that may carry a token.

use std::sync::Arc;

use dstor_auth::{AuthError, AuthorizedTransport, HttpTransport, TokenProvider};
use dstor_types::BaseUrl;

use crate::StorageError;

/// The authorized transport of a [`Storage`](crate::Storage): `Authorization: Bearer` on
/// requests to the base URL's origin only, one fresh token after a 401 when the body can be
/// sent again.
///
/// # Errors
///
/// [`StorageError::Endpoint`] when `base` may not carry a token (dstor-types' rule, as
/// [`AuthorizedTransport::new`] applies it).
pub(crate) fn authorized(
    transport: Arc<dyn HttpTransport>,
    tokens: Arc<dyn TokenProvider>,
    base: BaseUrl,
) -> Result<Arc<dyn HttpTransport>, StorageError> {
    match AuthorizedTransport::new(transport, tokens, base) {
        Ok(authorized) => Ok(Arc::new(authorized)),
        Err(AuthError::Endpoint(source)) => Err(StorageError::Endpoint(source)),
        Err(other) => Err(StorageError::Auth(other)),
    }
}
