//! The use cases of toolrouter, behind one façade, [`App`], that the HTTP and MCP transports
//! (and the CLI) call. Transports never touch storage or key material directly.
//!
//! Errors leave this crate as [`AppError`]: a row of the core error table plus a message written
//! for the caller (what was wrong, which field, how to fix it). Internal detail (SQL errors,
//! sources) is logged here and never put in the message.

pub mod auth;
pub mod catalog;
mod error;
pub mod execute;
mod keys;
mod meta;
pub mod page;
pub mod session;
pub mod session_exec;
pub mod vault;

use std::sync::Arc;
use std::time::Duration;

use toolrouter_core::{ApiKeyId, ProjectId};
use toolrouter_store::Store;
use toolrouter_vault::Keyring;

pub use auth::{AuthSettings, ManagedApp};
pub use catalog::{CatalogTool, ToolCatalog};
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
    /// Auth configs, connect links, OAuth and token refresh.
    pub auth: AuthSettings,
    /// Outbound HTTP of tool calls (timeouts, size cap, which private addresses are allowed).
    pub exec: toolrouter_exec::ExecutorConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            key_cache_ttl: Duration::from_secs(10),
            auth: AuthSettings::default(),
            exec: toolrouter_exec::ExecutorConfig::default(),
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
    catalog: ToolCatalog,
    /// Verified keys by hash: keeps the database off the hot path of every request.
    key_cache: moka::sync::Cache<[u8; 32], Caller>,
    auth: auth::AuthRuntime,
    exec: execute::ExecRuntime,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        catalog: ToolCatalog,
        config: &AppConfig,
    ) -> App {
        let key_cache = moka::sync::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(config.key_cache_ttl)
            .support_invalidation_closures()
            .build();
        App {
            inner: Arc::new(Inner {
                store,
                keyring,
                catalog,
                key_cache,
                auth: auth::AuthRuntime::new(config.auth.clone()),
                exec: execute::ExecRuntime::new(config.exec.clone()),
            }),
        }
    }

    /// The tool catalog: toolkits, tools, search.
    pub fn catalog(&self) -> &ToolCatalog {
        &self.inner.catalog
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
