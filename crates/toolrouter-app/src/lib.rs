//! The use cases of toolrouter, behind one façade, [`App`], that the HTTP and MCP transports
//! (and the CLI) call. Transports never touch storage or key material directly.
//!
//! Errors leave this crate as [`AppError`]: a row of the core error table plus a message written
//! for the caller (what was wrong, which field, how to fix it). Internal detail (SQL errors,
//! sources) is logged here and never put in the message.

mod error;
mod keys;

use std::sync::Arc;
use std::time::Duration;

use toolrouter_core::{ApiKeyId, ProjectId};
use toolrouter_store::Store;
use toolrouter_vault::Keyring;

pub use error::{AppError, AppResult};
pub use keys::{BootstrapOutcome, IssuedKey};

/// Who is calling: the project (tenant) an API key belongs to, and the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub project_id: ProjectId,
    pub key_id: ApiKeyId,
}

/// Plain settings for the app layer, built by the binary from its configuration.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// How long a verified API key is remembered in process. Revoking through this process takes
    /// effect at once; a revocation done by another process is seen within this time.
    pub key_cache_ttl: Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            key_cache_ttl: Duration::from_secs(10),
        }
    }
}

/// The façade. Cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    /// Verified keys by hash: keeps the database off the hot path of every request.
    key_cache: moka::sync::Cache<[u8; 32], Caller>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, config: &AppConfig) -> App {
        let key_cache = moka::sync::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(config.key_cache_ttl)
            .support_invalidation_closures()
            .build();
        App {
            inner: Arc::new(Inner {
                store,
                keyring,
                key_cache,
            }),
        }
    }

    fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// Storage backend name, for logs and readiness.
    pub fn backend(&self) -> &'static str {
        self.inner.store.backend()
    }

    /// Ready when the database answers.
    pub async fn ready(&self) -> AppResult<()> {
        self.store()
            .ping()
            .await
            .map_err(|e| AppError::from_store("readiness check", &e))
    }
}
