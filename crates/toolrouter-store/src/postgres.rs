//! The PostgreSQL backend. An optional schema name isolates a deployment (and each test) inside
//! one database: it is created if missing and put first on the `search_path`.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::changes::PgFeed;
use crate::common::{Backend, applied_migrations, impl_store};
use crate::{ConnectOptions, StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Connection settings for the session change listener, started on first use.
    listen_options: PgConnectOptions,
    changes: Arc<OnceLock<Arc<PgFeed>>>,
}

impl Backend for PgStore {
    type Db = sqlx::Postgres;
}

fn valid_schema(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

impl PgStore {
    pub async fn connect(
        url: &str,
        schema: Option<&str>,
        opts: &ConnectOptions,
    ) -> StoreResult<PgStore> {
        let unavailable = |e| StoreError::Unavailable {
            op: "connect postgres",
            source: e,
        };
        let mut options = PgConnectOptions::from_str(url).map_err(unavailable)?;
        if let Some(schema) = schema {
            if !valid_schema(schema) {
                return Err(StoreError::Database {
                    op: "connect postgres",
                    source: sqlx::Error::Configuration(
                        format!("schema name `{schema}` must match [a-z_][a-z0-9_]*").into(),
                    ),
                });
            }
            options = options.options([("search_path", schema)]);
        }
        let listen_options = options.clone();
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        if let Some(schema) = schema {
            // A search_path naming a schema that does not exist yet is valid; creating it on the
            // pool's first connection saves a separate connection (each costs a round trip,
            // and a TLS handshake when the server offers TLS).
            // The name was checked by `valid_schema`: identifiers cannot be bound as parameters.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}"
            )))
            .execute(&pool)
            .await
            .map_err(|e| StoreError::from_sqlx("create schema", "schema", e))?;
        }
        let store = PgStore {
            pool,
            listen_options,
            changes: Arc::default(),
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

    /// The listener starts with the first question (a server that never caches sessions, or
    /// a CLI command, never opens its connection); until it is connected there is no epoch.
    fn session_epoch_now(&self) -> Option<u64> {
        // The listener is a task: without a runtime (never in the server) there is none.
        tokio::runtime::Handle::try_current().ok()?;
        self.changes
            .get_or_init(|| {
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_lazy_with(self.listen_options.clone());
                PgFeed::start(pool)
            })
            .epoch()
    }

    fn sessions_changed(&self) {
        if let Some(feed) = self.changes.get() {
            feed.changed();
        }
    }

    /// Drops a schema and everything in it (test isolation clean-up).
    pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
        if !valid_schema(schema) {
            return Ok(());
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Unavailable {
            op: "drop schema",
            source: e,
        })?;
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(|e| StoreError::from_sqlx("drop schema", "schema", e))?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(&mut conn)
        .await
        .map_err(|e| StoreError::from_sqlx("drop schema", "schema", e))?;
        Ok(())
    }
}

impl_store!(PgStore, "postgres");
crate::auth::impl_auth_store!(PgStore);
crate::session::impl_session_store!(PgStore);
crate::execution::impl_execution_store!(PgStore);
