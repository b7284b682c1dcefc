//! Persistence of Tool Router sessions and their configuration history.
//!
//! Kept as its own trait ([`SessionStore`], a supertrait of `Store`) and macro, like the
//! authentication records. Every method takes the owning project, so a session id of another
//! project finds nothing; deleted sessions are invisible to every read. Updates are
//! compare-and-swap on `config_version`: of any number of concurrent updates made against the
//! same version, exactly one is stored, and each stored change appends its version to the
//! history in the same transaction.

use async_trait::async_trait;
use toolrouter_core::session::{ConfigVersion, Session, SessionConfig};
use toolrouter_core::{ProjectId, SessionId, Timestamp};

use crate::{Page, PageRequest, StoreError, StoreResult};

/// What a compare-and-swap update found.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionUpdate {
    /// Stored; the session as it now is.
    Updated(Box<Session>),
    /// The stored version is not the expected one (another update won).
    Conflict { current_version: i64 },
    /// No live session with this id in this project.
    NotFound,
}

/// Sessions. See the module documentation for the rules.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session and its first history entry, atomically.
    async fn session_create(&self, session: &Session) -> StoreResult<()>;

    /// A live session of this project.
    async fn session_get(
        &self,
        project: &ProjectId,
        id: &SessionId,
    ) -> StoreResult<Option<Session>>;

    /// Live sessions of the project, of one user when `user_id` is given; newest first. The
    /// cursor is the last session id of the previous page.
    async fn session_list(
        &self,
        project: &ProjectId,
        user_id: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Session>>;

    /// Replaces the configuration if, and only if, the stored version is `expected_version`;
    /// the new version is `expected_version + 1`, recorded in the history at `at`.
    async fn session_update(
        &self,
        project: &ProjectId,
        id: &SessionId,
        config: &SessionConfig,
        expected_version: i64,
        at: Timestamp,
    ) -> StoreResult<SessionUpdate>;

    /// Marks a live session deleted. False when there is none.
    async fn session_delete(
        &self,
        project: &ProjectId,
        id: &SessionId,
        at: Timestamp,
    ) -> StoreResult<bool>;

    /// A live session's configuration history, newest version first; the cursor is the last
    /// version of the previous page. `None` when there is no such live session.
    async fn session_config_history(
        &self,
        project: &ProjectId,
        id: &SessionId,
        page: &PageRequest,
    ) -> StoreResult<Option<Page<ConfigVersion>>>;

    /// A value that changes whenever any session of this database may have been changed or
    /// deleted, by this process or another (see `changes.rs`); `None` when that cannot be told
    /// right now. A session read while the epoch was `e` may be reused as long as it still is.
    fn session_epoch(&self) -> Option<u64>;
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id: String,
    pub project_id: String,
    pub config: String,
    pub config_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct HistoryRow {
    pub version: i64,
    pub config: String,
    pub created_at: i64,
}

fn corrupt(field: &str) -> StoreError {
    StoreError::Database {
        op: "session",
        source: sqlx::Error::Protocol(format!("stored session has an unreadable `{field}`")),
    }
}

pub(crate) fn config_to_text(config: &SessionConfig) -> StoreResult<String> {
    serde_json::to_string(config).map_err(|_| StoreError::Database {
        op: "session",
        source: sqlx::Error::Protocol("session configuration cannot be encoded".to_owned()),
    })
}

fn config_from_text(text: &str) -> StoreResult<SessionConfig> {
    serde_json::from_str(text).map_err(|_| corrupt("config"))
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: SessionId::parse(&r.id).ok_or_else(|| corrupt("id"))?,
            project_id: ProjectId::parse(&r.project_id).ok_or_else(|| corrupt("project_id"))?,
            config: config_from_text(&r.config)?,
            config_version: r.config_version,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

impl TryFrom<HistoryRow> for ConfigVersion {
    type Error = StoreError;
    fn try_from(r: HistoryRow) -> Result<Self, StoreError> {
        Ok(ConfigVersion {
            version: r.version,
            config: config_from_text(&r.config)?,
            created_at: Timestamp(r.created_at),
        })
    }
}

/// Cuts `limit + 1` fetched rows to a page, the cursor being the last kept item's key;
/// `offset` counts the items of earlier pages.
pub(crate) fn session_page<T>(
    mut items: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> String,
    total: i64,
    offset: i64,
) -> Page<T> {
    let limit = limit.max(1) as usize;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(key)
    } else {
        None
    };
    Page {
        items,
        next_cursor,
        total: u64::try_from(total).unwrap_or(0),
        offset: u64::try_from(offset).unwrap_or(0),
    }
}

/// The sessions columns in `SessionRow` order.
macro_rules! session_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, project_id, config, config_version, created_at, updated_at FROM sessions ",
            $rest
        )
    };
}

pub(crate) use session_select;

/// Implements [`SessionStore`] for a backend with the portable SQL below.
macro_rules! impl_session_store {
    ($store:ty) => {
        type SessionDb = <$store as $crate::common::Backend>::Db;

        fn session_err(op: &'static str) -> impl Fn(sqlx::Error) -> $crate::StoreError {
            move |e| $crate::StoreError::from_sqlx(op, "session", e)
        }

        #[async_trait::async_trait]
        impl $crate::session::SessionStore for $store {
            async fn session_create(
                &self,
                s: &toolrouter_core::session::Session,
            ) -> $crate::StoreResult<()> {
                let err = session_err("session_create");
                let config = $crate::session::config_to_text(&s.config)?;
                let mut tx = self.pool.begin().await.map_err(&err)?;
                sqlx::query(
                    "INSERT INTO sessions \
                     (id, project_id, user_id, config, config_version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(s.id.as_str())
                .bind(s.project_id.as_str())
                .bind(&s.config.user_id)
                .bind(&config)
                .bind(s.config_version)
                .bind(s.created_at.millis())
                .bind(s.updated_at.millis())
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
                sqlx::query(
                    "INSERT INTO session_config_history (session_id, version, config, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(s.id.as_str())
                .bind(s.config_version)
                .bind(&config)
                .bind(s.created_at.millis())
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
                tx.commit().await.map_err(&err)?;
                Ok(())
            }

            async fn session_get(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::SessionId,
            ) -> $crate::StoreResult<Option<toolrouter_core::session::Session>> {
                sqlx::query_as::<_, $crate::session::SessionRow>($crate::session::session_select!(
                    "WHERE id = $1 AND project_id = $2 AND deleted_at IS NULL"
                ))
                .bind(id.as_str())
                .bind(project.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(session_err("session_get"))?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn session_list(
                &self,
                project: &toolrouter_core::ProjectId,
                user_id: Option<&str>,
                page: &$crate::PageRequest,
            ) -> $crate::StoreResult<$crate::Page<toolrouter_core::session::Session>> {
                let err = session_err("session_list");
                let filter = |qb: &mut sqlx::QueryBuilder<SessionDb>| {
                    qb.push(" WHERE project_id = ")
                        .push_bind(project.as_str().to_owned())
                        .push(" AND deleted_at IS NULL");
                    if let Some(user) = user_id {
                        qb.push(" AND user_id = ").push_bind(user.to_owned());
                    }
                };
                let mut count = sqlx::QueryBuilder::<SessionDb>::new("SELECT COUNT(*) FROM sessions");
                filter(&mut count);
                let total: i64 = count
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(&err)?;
                let offset: i64 = match &page.cursor {
                    None => 0,
                    Some(cursor) => {
                        let mut before =
                            sqlx::QueryBuilder::<SessionDb>::new("SELECT COUNT(*) FROM sessions");
                        filter(&mut before);
                        before.push(" AND id >= ").push_bind(cursor.clone());
                        before
                            .build_query_scalar()
                            .fetch_one(&self.pool)
                            .await
                            .map_err(&err)?
                    }
                };
                let mut qb = sqlx::QueryBuilder::<SessionDb>::new($crate::session::session_select!(""));
                filter(&mut qb);
                if let Some(cursor) = &page.cursor {
                    qb.push(" AND id < ").push_bind(cursor.clone());
                }
                qb.push(" ORDER BY id DESC LIMIT ")
                    .push_bind(i64::from(page.limit.max(1)) + 1);
                let items = qb
                    .build_query_as::<$crate::session::SessionRow>()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(&err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect::<Result<Vec<toolrouter_core::session::Session>, _>>()?;
                Ok($crate::session::session_page(
                    items,
                    page.limit,
                    |s| s.id.to_string(),
                    total,
                    offset,
                ))
            }

            async fn session_update(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::SessionId,
                config: &toolrouter_core::session::SessionConfig,
                expected_version: i64,
                at: toolrouter_core::Timestamp,
            ) -> $crate::StoreResult<$crate::session::SessionUpdate> {
                let err = session_err("session_update");
                let text = $crate::session::config_to_text(config)?;
                let mut tx = self.pool.begin().await.map_err(&err)?;
                // The write comes first so that it takes the row (PostgreSQL) or database
                // (SQLite) write lock before anything is read: a concurrent update made against
                // the same version then waits, re-checks the version and matches nothing.
                let done = sqlx::query(
                    "UPDATE sessions SET config = $1, config_version = $2, updated_at = $3 \
                     WHERE id = $4 AND project_id = $5 AND deleted_at IS NULL \
                     AND config_version = $6",
                )
                .bind(&text)
                .bind(expected_version + 1)
                .bind(at.millis())
                .bind(id.as_str())
                .bind(project.as_str())
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(&err)?
                .rows_affected();
                if done != 1 {
                    tx.rollback().await.map_err(&err)?;
                    let current: Option<i64> = sqlx::query_scalar(
                        "SELECT config_version FROM sessions \
                         WHERE id = $1 AND project_id = $2 AND deleted_at IS NULL",
                    )
                    .bind(id.as_str())
                    .bind(project.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(&err)?;
                    return Ok(match current {
                        Some(current_version) => {
                            $crate::session::SessionUpdate::Conflict { current_version }
                        }
                        None => $crate::session::SessionUpdate::NotFound,
                    });
                }
                sqlx::query(
                    "INSERT INTO session_config_history (session_id, version, config, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id.as_str())
                .bind(expected_version + 1)
                .bind(&text)
                .bind(at.millis())
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
                let row = sqlx::query_as::<_, $crate::session::SessionRow>(
                    $crate::session::session_select!("WHERE id = $1 AND project_id = $2"),
                )
                .bind(id.as_str())
                .bind(project.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(&err)?;
                tx.commit().await.map_err(&err)?;
                self.sessions_changed();
                Ok($crate::session::SessionUpdate::Updated(Box::new(row.try_into()?)))
            }

            async fn session_delete(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::SessionId,
                at: toolrouter_core::Timestamp,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE sessions SET deleted_at = $1, updated_at = $1 \
                     WHERE id = $2 AND project_id = $3 AND deleted_at IS NULL",
                )
                .bind(at.millis())
                .bind(id.as_str())
                .bind(project.as_str())
                .execute(&self.pool)
                .await
                .map_err(session_err("session_delete"))?;
                if done.rows_affected() == 1 {
                    self.sessions_changed();
                }
                Ok(done.rows_affected() == 1)
            }

            fn session_epoch(&self) -> Option<u64> {
                self.session_epoch_now()
            }

            async fn session_config_history(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::SessionId,
                page: &$crate::PageRequest,
            ) -> $crate::StoreResult<Option<$crate::Page<toolrouter_core::session::ConfigVersion>>> {
                let err = session_err("session_config_history");
                let live: Option<i64> = sqlx::query_scalar(
                    "SELECT config_version FROM sessions \
                     WHERE id = $1 AND project_id = $2 AND deleted_at IS NULL",
                )
                .bind(id.as_str())
                .bind(project.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(&err)?;
                if live.is_none() {
                    return Ok(None);
                }
                let total: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM session_config_history WHERE session_id = $1",
                )
                .bind(id.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(&err)?;
                // A cursor that is not a version matches nothing: an empty last page.
                let before = match &page.cursor {
                    None => i64::MAX,
                    Some(c) => c.parse::<i64>().unwrap_or(i64::MIN),
                };
                let offset: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM session_config_history \
                     WHERE session_id = $1 AND version >= $2",
                )
                .bind(id.as_str())
                .bind(before)
                .fetch_one(&self.pool)
                .await
                .map_err(&err)?;
                let items = sqlx::query_as::<_, $crate::session::HistoryRow>(
                    "SELECT version, config, created_at FROM session_config_history \
                     WHERE session_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3",
                )
                .bind(id.as_str())
                .bind(before)
                .bind(i64::from(page.limit.max(1)) + 1)
                .fetch_all(&self.pool)
                .await
                .map_err(&err)?
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<Vec<toolrouter_core::session::ConfigVersion>, _>>()?;
                Ok(Some($crate::session::session_page(
                    items,
                    page.limit,
                    |v| v.version.to_string(),
                    total,
                    offset,
                )))
            }
        }
    };
}

pub(crate) use impl_session_store;
