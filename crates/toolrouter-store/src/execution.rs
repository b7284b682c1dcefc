//! Persistence of the execution log: one record per tool run, meta tool call or proxy call,
//! keyed by the `log_id` the caller saw.
//!
//! Records are written in batches (one multi-row statement per batch, so a burst of calls costs
//! one commit) and never changed afterwards. Reads are per project, optionally narrowed to a
//! session or a user, newest first with keyset pages on the time-ordered id. Arguments arrive
//! already redacted: this layer stores what it is given.

use async_trait::async_trait;
use toolrouter_core::{ProjectId, Timestamp};

use crate::{Page, PageRequest, StoreError, StoreResult};

/// One logged execution.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    /// The `log_id` returned on the wire (`log_…`, time-ordered).
    pub log_id: String,
    pub project_id: ProjectId,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub tool_slug: String,
    pub connected_account_id: Option<String>,
    pub successful: bool,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// The call's arguments with secret values replaced.
    pub arguments: serde_json::Value,
    pub created_at: Timestamp,
}

/// Which records `execution_list` returns; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionFilter {
    pub session_id: Option<String>,
    pub user_id: Option<String>,
}

/// The execution log. See the module documentation.
#[async_trait]
pub trait ExecutionStore: Send + Sync {
    /// Stores records, all or none (one statement). A record whose id exists already is a
    /// conflict. Keep batches to a few hundred records (bind-parameter limits).
    async fn execution_insert(&self, records: &[ExecutionRecord]) -> StoreResult<()>;

    /// A project's records matching `filter`, newest first; the cursor is the last id of the
    /// previous page.
    async fn execution_list(
        &self,
        project: &ProjectId,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ExecutionRecord>>;
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExecutionRow {
    pub id: String,
    pub project_id: String,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub tool_slug: String,
    pub connected_account_id: Option<String>,
    pub successful: i32,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub arguments: String,
    pub created_at: i64,
}

fn corrupt(field: &str) -> StoreError {
    StoreError::Database {
        op: "execution",
        source: sqlx::Error::Protocol(format!("stored execution has an unreadable `{field}`")),
    }
}

impl TryFrom<ExecutionRow> for ExecutionRecord {
    type Error = StoreError;
    fn try_from(r: ExecutionRow) -> Result<Self, StoreError> {
        Ok(ExecutionRecord {
            log_id: r.id,
            project_id: ProjectId::parse(&r.project_id).ok_or_else(|| corrupt("project_id"))?,
            session_id: r.session_id,
            user_id: r.user_id,
            tool_slug: r.tool_slug,
            connected_account_id: r.connected_account_id,
            successful: r.successful != 0,
            error: r.error,
            duration_ms: r.duration_ms,
            arguments: serde_json::from_str(&r.arguments).map_err(|_| corrupt("arguments"))?,
            created_at: Timestamp(r.created_at),
        })
    }
}

/// Implements [`ExecutionStore`] for a backend with the portable SQL below.
macro_rules! impl_execution_store {
    ($store:ty) => {
        const _: () = {
            type Db = <$store as $crate::common::Backend>::Db;

            fn err(op: &'static str) -> impl Fn(sqlx::Error) -> $crate::StoreError {
                move |e| $crate::StoreError::from_sqlx(op, "execution", e)
            }

            #[async_trait::async_trait]
            impl $crate::execution::ExecutionStore for $store {
                async fn execution_insert(
                    &self,
                    records: &[$crate::execution::ExecutionRecord],
                ) -> $crate::StoreResult<()> {
                    // One multi-row statement, not a transaction of single inserts: a
                    // statement is atomic on its own, and no lock outlives it even when the
                    // writer task stops being polled between two round trips (a transaction
                    // left open that way blocks every DDL on the table).
                    if records.is_empty() {
                        return Ok(());
                    }
                    let mut qb = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO tool_executions \
                         (id, project_id, session_id, user_id, tool_slug, connected_account_id, \
                          successful, error, duration_ms, arguments, created_at) ",
                    );
                    qb.push_values(records, |mut row, r| {
                        row.push_bind(r.log_id.clone())
                            .push_bind(r.project_id.as_str().to_owned())
                            .push_bind(r.session_id.clone())
                            .push_bind(r.user_id.clone())
                            .push_bind(r.tool_slug.clone())
                            .push_bind(r.connected_account_id.clone())
                            .push_bind(i32::from(r.successful))
                            .push_bind(r.error.clone())
                            .push_bind(r.duration_ms)
                            .push_bind(r.arguments.to_string())
                            .push_bind(r.created_at.millis());
                    });
                    qb.build()
                        .execute(&self.pool)
                        .await
                        .map_err(err("execution_insert"))?;
                    Ok(())
                }

                async fn execution_list(
                    &self,
                    project: &toolrouter_core::ProjectId,
                    filter: &$crate::execution::ExecutionFilter,
                    page: &$crate::PageRequest,
                ) -> $crate::StoreResult<$crate::Page<$crate::execution::ExecutionRecord>> {
                    let err = err("execution_list");
                    let where_ = |qb: &mut sqlx::QueryBuilder<Db>| {
                        qb.push(" WHERE project_id = ")
                            .push_bind(project.as_str().to_owned());
                        if let Some(s) = &filter.session_id {
                            qb.push(" AND session_id = ").push_bind(s.clone());
                        }
                        if let Some(u) = &filter.user_id {
                            qb.push(" AND user_id = ").push_bind(u.clone());
                        }
                    };
                    let mut count =
                        sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) FROM tool_executions");
                    where_(&mut count);
                    let total: i64 = count
                        .build_query_scalar()
                        .fetch_one(&self.pool)
                        .await
                        .map_err(&err)?;
                    let offset: i64 = match &page.cursor {
                        None => 0,
                        Some(cursor) => {
                            let mut before = sqlx::QueryBuilder::<Db>::new(
                                "SELECT COUNT(*) FROM tool_executions",
                            );
                            where_(&mut before);
                            before.push(" AND id >= ").push_bind(cursor.clone());
                            before
                                .build_query_scalar()
                                .fetch_one(&self.pool)
                                .await
                                .map_err(&err)?
                        }
                    };
                    let mut qb = sqlx::QueryBuilder::<Db>::new(
                        "SELECT id, project_id, session_id, user_id, tool_slug, \
                         connected_account_id, successful, error, duration_ms, arguments, \
                         created_at FROM tool_executions",
                    );
                    where_(&mut qb);
                    if let Some(cursor) = &page.cursor {
                        qb.push(" AND id < ").push_bind(cursor.clone());
                    }
                    qb.push(" ORDER BY id DESC LIMIT ")
                        .push_bind(i64::from(page.limit.max(1)) + 1);
                    let items = qb
                        .build_query_as::<$crate::execution::ExecutionRow>()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(&err)?
                        .into_iter()
                        .map(TryInto::try_into)
                        .collect::<Result<Vec<$crate::execution::ExecutionRecord>, _>>()?;
                    Ok($crate::session::session_page(
                        items,
                        page.limit,
                        |r| r.log_id.clone(),
                        total,
                        offset,
                    ))
                }
            }
        };
    };
}

pub(crate) use impl_execution_store;
