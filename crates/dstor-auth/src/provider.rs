//! The `TokenProvider` trait and the simplest providers.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use dstor_types::AccessToken;

use crate::AuthError;

/// Something that hands out dStor access tokens.
///
/// Object-safe: `Arc<dyn TokenProvider>` works, and so do `&P`, `Box<P>` and `Arc<P>` for
/// any provider `P`, so a shared provider passes anywhere one is expected.
///
/// ```
/// use std::sync::Arc;
/// use dstor_auth::{StaticTokenProvider, TokenProvider};
///
/// # tokio_test_block_on(async {
/// let provider: Arc<dyn TokenProvider> = Arc::new(StaticTokenProvider::new("opaque").unwrap());
/// let token = provider.token().await.unwrap();
/// assert_eq!(token.authorization_header(), "Bearer opaque");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[cfg_attr(feature = "mockall", mockall::automock)]
#[async_trait]
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// An access token, valid now.
    ///
    /// # Errors
    ///
    /// [`AuthError`] when no valid token can be had.
    async fn token(&self) -> Result<AccessToken, AuthError>;

    /// Tells the provider that the API rejected `token` (a 401). A caching provider drops
    /// it, if it is still the one it holds, so that the next call fetches a new one. The
    /// default does nothing.
    fn invalidate(&self, token: &AccessToken) {
        let _ = token;
    }
}

#[async_trait]
impl<P: TokenProvider + ?Sized> TokenProvider for Arc<P> {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        (**self).token().await
    }

    fn invalidate(&self, token: &AccessToken) {
        (**self).invalidate(token);
    }
}

#[async_trait]
impl<P: TokenProvider + ?Sized> TokenProvider for Box<P> {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        (**self).token().await
    }

    fn invalidate(&self, token: &AccessToken) {
        (**self).invalidate(token);
    }
}

#[async_trait]
impl<P: TokenProvider + ?Sized> TokenProvider for &P {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        (**self).token().await
    }

    fn invalidate(&self, token: &AccessToken) {
        (**self).invalidate(token);
    }
}

/// A provider that always hands out the same token: for a token obtained elsewhere, or
/// for tests.
#[derive(Clone, Debug)]
pub struct StaticTokenProvider {
    token: AccessToken,
}

impl StaticTokenProvider {
    /// A provider of `token`.
    ///
    /// # Errors
    ///
    /// [`dstor_types::TokenError`] when the text cannot be a token.
    pub fn new(token: impl Into<String>) -> Result<Self, dstor_types::TokenError> {
        AccessToken::new(token).map(Self::from_token)
    }

    /// A provider of an already-wrapped token.
    pub fn from_token(token: AccessToken) -> Self {
        Self { token }
    }
}

#[async_trait]
impl TokenProvider for StaticTokenProvider {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        Ok(self.token.clone())
    }
}

/// A provider made of an async closure: [`FnTokenProvider::new`], named as
/// [`transport_fn`](crate::transport_fn) names the transport made of one.
///
/// ```
/// use dstor_auth::{StaticTokenProvider, TokenProvider, token_provider_fn};
///
/// let vault = StaticTokenProvider::new("token-from-my-vault").unwrap();
/// let provider = token_provider_fn(move || {
///     let vault = vault.clone();
///     async move { vault.token().await }
/// });
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let token = rt.block_on(provider.token()).unwrap();
/// assert_eq!(token.expose_secret(), "token-from-my-vault");
/// ```
pub fn token_provider_fn<F, Fut>(f: F) -> FnTokenProvider<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<AccessToken, AuthError>> + Send,
{
    FnTokenProvider::new(f)
}

/// A provider backed by an async closure, for custom token sources (a vault, another
/// service), made by [`token_provider_fn`] or [`FnTokenProvider::new`]. Wrap it in
/// [`crate::CachedTokenProvider`] to cache what it returns.
///
/// ```
/// use dstor_auth::{AuthError, FnTokenProvider, TokenProvider};
/// use dstor_types::AccessToken;
///
/// let provider = FnTokenProvider::new(|| async {
///     let text = String::from("token-from-my-vault");
///     AccessToken::new(text).map_err(|e| AuthError::provider_with_source("bad token", false, e))
/// });
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let token = rt.block_on(provider.token()).unwrap();
/// assert_eq!(token.expose_secret(), "token-from-my-vault");
/// ```
pub struct FnTokenProvider<F> {
    f: F,
}

impl<F, Fut> FnTokenProvider<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<AccessToken, AuthError>> + Send,
{
    /// A provider that calls `f` for every token.
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<F> fmt::Debug for FnTokenProvider<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTokenProvider").finish_non_exhaustive()
    }
}

#[async_trait]
impl<F, Fut> TokenProvider for FnTokenProvider<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<AccessToken, AuthError>> + Send,
{
    async fn token(&self) -> Result<AccessToken, AuthError> {
        (self.f)().await
    }
}
