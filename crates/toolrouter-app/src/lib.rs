//! The use cases of toolrouter, behind one façade, [`App`], that the HTTP and MCP transports
//! (and the CLI) call. Transports never touch storage or key material directly.
//!
//! Errors leave this crate as [`AppError`]: a row of the core error table plus a message written
//! for the caller (what was wrong, which field, how to fix it). Internal detail (SQL errors,
//! sources) is logged here and never put in the message.

pub mod approval;
pub mod auth;
pub mod catalog;
mod custom_search;
mod error;
pub mod execute;
pub mod execution_log;
pub mod files;
mod keys;
mod large_result;
mod meta;
pub mod page;
pub mod proxy;
pub mod session;
mod session_cache;
pub mod session_exec;
pub mod vault;
pub mod wait;
pub mod workbench;

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
    /// Where each session's files live on the host: `<files_root>/<session id>`. The workbench
    /// mounts that directory at `/mnt/files`; large tool results are saved there too.
    pub files_root: std::path::PathBuf,
    /// Session results whose serialized `data` is larger are saved as a session file and
    /// returned as a reference with a preview (`large_result.rs`).
    pub large_result_bytes: usize,
    /// How long the files mount's signed upload and download URLs stay valid.
    pub file_url_ttl: Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            key_cache_ttl: Duration::from_secs(10),
            auth: AuthSettings::default(),
            exec: toolrouter_exec::ExecutorConfig::default(),
            files_root: std::path::PathBuf::from("toolrouter-data/files"),
            large_result_bytes: 256 * 1024,
            file_url_ttl: Duration::from_secs(3600),
        }
    }
}

/// How many session-change events wait for a slow subscriber before it is told it lagged
/// (and must then re-check everything it watches).
const SESSION_CHANGES_BUFFER: usize = 256;

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
    /// Sessions in use, valid while the store's session epoch stands (`session_cache.rs`).
    sessions: session_cache::SessionCache,
    auth: auth::AuthRuntime,
    exec: execute::ExecRuntime,
    files_root: std::path::PathBuf,
    execution_log: execution_log::ExecutionLog,
    large_result_bytes: usize,
    file_url_ttl: Duration,
    /// The sandboxes, once [`App::start_workbench`] ran (`workbench.rs`).
    workbench: workbench::WorkbenchSlot,
    /// Ids of sessions whose configuration this process changed or deleted
    /// ([`App::session_changes`]).
    session_changes: tokio::sync::broadcast::Sender<toolrouter_core::SessionId>,
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
                sessions: session_cache::SessionCache::new(),
                auth: auth::AuthRuntime::new(config.auth.clone()),
                exec: execute::ExecRuntime::new(config.exec.clone()),
                files_root: config.files_root.clone(),
                execution_log: execution_log::ExecutionLog::new(),
                large_result_bytes: config.large_result_bytes,
                file_url_ttl: config.file_url_ttl,
                workbench: workbench::WorkbenchSlot::default(),
                session_changes: tokio::sync::broadcast::channel(SESSION_CHANGES_BUFFER).0,
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

    /// The host directory holding one session's files (`/mnt/files` inside its workbench).
    /// Not created here: writers create it on first use.
    pub fn session_files_dir(&self, session: &toolrouter_core::SessionId) -> std::path::PathBuf {
        self.inner.files_root.join(session.as_str())
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
