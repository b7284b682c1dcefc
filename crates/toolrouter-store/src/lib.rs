//! Persistence for toolrouter: the [`Store`] trait and its two implementations.
//!
//! - [`SqliteStore`]: embedded, the default (one file in the data dir, WAL mode).
//! - [`PgStore`]: PostgreSQL, for more than one machine.
//!
//! Both run the same conformance suite (`tests/it`). The schema is portable on purpose: TEXT
//! ids, integer epoch-millisecond times, blobs for hashes and ciphertext. Migrations are
//! embedded, forward-only, one folder per backend, and applied by [`connect`] unless asked not
//! to. Methods are named resource-first (`project_get`, `api_key_list`) and take the owning
//! project wherever a record belongs to one, so cross-project access cannot be expressed.

mod auth;
mod changes;
mod common;
mod execution;
mod postgres;
mod rows;
mod session;
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use toolrouter_core::{ApiKeyId, ApiKeyRecord, Project, ProjectId, Timestamp};

pub use auth::{AccountFilter, AuthConfigFilter, AuthStore, Page, PageRequest, SealedColumn};
pub use execution::{ExecutionFilter, ExecutionRecord, ExecutionStore};
pub use postgres::PgStore;
pub use session::{SessionStore, SessionUpdate};
pub use sqlite::SqliteStore;

/// What can go wrong in storage. Messages never contain stored values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (connection refused, pool timed out, file unreadable).
    #[error("database unavailable during {op}")]
    Unavailable {
        op: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A uniqueness rule was violated.
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    /// Migration failed or the schema is newer than this binary.
    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// Anything else the database reported.
    #[error("database error during {op}")]
    Database {
        op: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    pub(crate) fn from_sqlx(op: &'static str, what: &'static str, e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what },
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
            // A connection cut mid-handshake or mid-query surfaces as a protocol error.
            | sqlx::Error::Protocol(_) => StoreError::Unavailable { op, source: e },
            _ => StoreError::Database { op, source: e },
        }
    }

    /// Whether retrying later may succeed (the database is down, not the request wrong).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The first project and key, created together exactly once per database.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub project: Project,
    pub key: ApiKeyRecord,
}

/// Everything toolrouter persists.
#[async_trait]
pub trait Store:
    AuthStore + SessionStore + ExecutionStore + Send + Sync + std::fmt::Debug + 'static
{
    /// Backend name for logs and `/readyz` (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// A cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// Creates the default project and its first key if, and only if, no bootstrap happened
    /// before on this database — atomic even with several servers starting at once. Returns
    /// whether it did.
    async fn bootstrap(&self, boot: &Bootstrap) -> StoreResult<bool>;

    async fn project_create(&self, project: &Project) -> StoreResult<()>;
    async fn project_get(&self, id: &ProjectId) -> StoreResult<Option<Project>>;
    async fn project_list(&self) -> StoreResult<Vec<Project>>;

    async fn api_key_insert(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    /// The key stored under any of these hashes (revoked or not).
    async fn api_key_find_by_hash(&self, hashes: &[[u8; 32]]) -> StoreResult<Option<ApiKeyRecord>>;
    /// A project's keys, oldest first.
    async fn api_key_list(&self, project: &ProjectId) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Marks a key of this project revoked. Returns false when the project has no such active key.
    async fn api_key_revoke(
        &self,
        project: &ProjectId,
        id: &ApiKeyId,
        at: Timestamp,
    ) -> StoreResult<bool>;
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    Sqlite { path: PathBuf },
    Postgres { url: String, schema: Option<String> },
}

/// Pool and start-up settings shared by both backends.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// How long to wait for a connection before a request fails as unavailable.
    pub acquire_timeout: Duration,
    /// Apply pending migrations (the server does; `toolrouter migrate` does it alone).
    pub migrate: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(3),
            migrate: true,
        }
    }
}

/// Opens the configured backend (and migrates it unless told not to).
pub async fn connect(config: &StoreConfig, opts: &ConnectOptions) -> StoreResult<Arc<dyn Store>> {
    Ok(match config {
        StoreConfig::Sqlite { path } => Arc::new(SqliteStore::open(path, opts).await?),
        StoreConfig::Postgres { url, schema } => {
            Arc::new(PgStore::connect(url, schema.as_deref(), opts).await?)
        }
    })
}

/// Applies pending migrations and returns how many were applied.
pub async fn migrate(config: &StoreConfig) -> StoreResult<usize> {
    let opts = ConnectOptions {
        migrate: false,
        ..ConnectOptions::default()
    };
    match config {
        StoreConfig::Sqlite { path } => {
            SqliteStore::open(path, &opts).await?.run_migrations().await
        }
        StoreConfig::Postgres { url, schema } => {
            PgStore::connect(url, schema.as_deref(), &opts)
                .await?
                .run_migrations()
                .await
        }
    }
}
