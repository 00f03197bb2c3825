//! What every handler shares.

use std::fmt;
use std::sync::Arc;

use meta_commerce::engine::Engine;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The default request body limit: 1 MiB. Meta batches up to 1,000 changes per
/// delivery, which stays well under it; larger bodies get `413`.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The server's state: the engine and the secrets the edge checks.
///
/// `Debug` never prints a secret.
#[derive(Clone)]
pub struct AppState {
    /// The live-sale engine (it owns the store, the webhook verifier and the payments).
    pub engine: Arc<Engine>,
    /// The verify token of the Meta subscription handshake (`hub.verify_token`).
    pub verify_token: SecretString,
    /// When set, every `/api/*` route requires `Authorization: Bearer <token>`. The
    /// control routes change what buyers are told and mark orders paid, so leave it
    /// unset only on a loopback listener.
    pub api_token: Option<SecretString>,
    /// The largest request body accepted, in bytes (default [`DEFAULT_BODY_LIMIT`]).
    pub body_limit: usize,
}

impl AppState {
    /// State with no API token and the default body limit.
    #[must_use]
    pub fn new(engine: Arc<Engine>, verify_token: SecretString) -> Self {
        AppState {
            engine,
            verify_token,
            api_token: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Requires `Authorization: Bearer <token>` on `/api/*`.
    #[must_use]
    pub fn with_api_token(mut self, token: SecretString) -> Self {
        self.api_token = Some(token);
        self
    }

    /// Sets the request body limit in bytes (at least 1 KiB, so a handshake or a
    /// small webhook always fits).
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes.max(1024);
        self
    }

    /// Whether `presented` is the API token (constant time; true when no token is set).
    pub(crate) fn api_token_matches(&self, presented: Option<&str>) -> bool {
        let Some(expected) = &self.api_token else {
            return true;
        };
        let Some(presented) = presented else {
            return false;
        };
        let expected = expected.expose_secret();
        // Hashing both sides first makes the comparison independent of their lengths.
        let same = Sha256::digest(presented.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes()));
        !expected.is_empty() && bool::from(same)
    }
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("engine", &self.engine)
            .field("verify_token", &"[redacted]")
            .field("api_token", &self.api_token.as_ref().map(|_| "[redacted]"))
            .field("body_limit", &self.body_limit)
            .finish()
    }
}
