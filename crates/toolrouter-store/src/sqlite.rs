//! The embedded backend: one SQLite file in WAL mode, with a busy timeout so concurrent writers
//! wait instead of failing, and foreign keys enforced.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::changes::EpochFile;
use crate::common::{Backend, applied_migrations, impl_store};
use crate::{ConnectOptions, StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    changes: Arc<EpochFile>,
}

impl Backend for SqliteStore {
    type Db = sqlx::Sqlite;
}

impl SqliteStore {
    /// Opens (creating if needed) the database file.
    pub async fn open(path: &Path, opts: &ConnectOptions) -> StoreResult<SqliteStore> {
        let unavailable = |e| StoreError::Unavailable {
            op: "open sqlite",
            source: e,
        };
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(unavailable)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        let store = SqliteStore {
            pool,
            changes: Arc::new(EpochFile::open(path)),
        };
        if opts.migrate {
            store.run_migrations().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations; returns how many ran.
    pub async fn run_migrations(&self) -> StoreResult<usize> {
        let before = applied_migrations!(&self.pool);
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(StoreError::Migrate)?;
        let after = applied_migrations!(&self.pool);
        Ok(usize::try_from(after - before).unwrap_or(0))
    }

    fn session_epoch_now(&self) -> Option<u64> {
        self.changes.epoch()
    }

    fn sessions_changed(&self) {
        self.changes.changed();
    }

    /// Stops handing out connections (tests use this to simulate a lost database).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl_store!(SqliteStore, "sqlite");
crate::auth::impl_auth_store!(SqliteStore);
crate::session::impl_session_store!(SqliteStore);
crate::execution::impl_execution_store!(SqliteStore);
