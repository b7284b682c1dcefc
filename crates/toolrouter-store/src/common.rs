//! The SQL both backends share, written once.
//!
//! The schema and statements are portable (`$N` placeholders work in SQLite and PostgreSQL, and
//! `ON CONFLICT DO NOTHING` in both), so one macro expands the same `Store` implementation over
//! each native pool. Backend-specific code (connecting, pragmas, schemas) stays in `sqlite.rs`
//! and `postgres.rs`.

macro_rules! impl_store {
    ($store:ty, $backend:literal) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> $crate::StoreResult<()> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(|e| $crate::StoreError::from_sqlx("ping", "ping", e))?;
                Ok(())
            }

            async fn bootstrap(&self, boot: &$crate::Bootstrap) -> $crate::StoreResult<bool> {
                let err = |e| $crate::StoreError::from_sqlx("bootstrap", "bootstrap", e);
                let mut tx = self.pool.begin().await.map_err(err)?;
                let claimed = sqlx::query(
                    "INSERT INTO server_meta (key, value) VALUES ('bootstrapped', $1) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind(boot.project.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(err)?
                .rows_affected();
                if claimed == 0 {
                    tx.rollback().await.map_err(err)?;
                    return Ok(false);
                }
                insert_project(&mut *tx, &boot.project).await?;
                insert_api_key(&mut *tx, &boot.key).await?;
                tx.commit().await.map_err(err)?;
                Ok(true)
            }

            async fn project_create(
                &self,
                project: &toolrouter_core::Project,
            ) -> $crate::StoreResult<()> {
                insert_project(&self.pool, project).await
            }

            async fn project_get(
                &self,
                id: &toolrouter_core::ProjectId,
            ) -> $crate::StoreResult<Option<toolrouter_core::Project>> {
                sqlx::query_as::<_, $crate::rows::ProjectRow>(
                    "SELECT id, name, created_at FROM projects WHERE id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx("project_get", "project", e))?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn project_list(&self) -> $crate::StoreResult<Vec<toolrouter_core::Project>> {
                sqlx::query_as::<_, $crate::rows::ProjectRow>(
                    "SELECT id, name, created_at FROM projects ORDER BY created_at, id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx("project_list", "project", e))?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn api_key_insert(
                &self,
                key: &toolrouter_core::ApiKeyRecord,
            ) -> $crate::StoreResult<()> {
                insert_api_key(&self.pool, key).await
            }

            async fn api_key_find_by_hash(
                &self,
                hashes: &[[u8; 32]],
            ) -> $crate::StoreResult<Option<toolrouter_core::ApiKeyRecord>> {
                let sql = $crate::rows::api_key_select!("WHERE hash = $1");
                // One or two hashes (one per master key): a point lookup each.
                for hash in hashes {
                    let row = sqlx::query_as::<_, $crate::rows::ApiKeyRow>(sql)
                        .bind(&hash[..])
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| $crate::StoreError::from_sqlx("api_key_find", "api key", e))?;
                    if let Some(row) = row {
                        return row.try_into().map(Some);
                    }
                }
                Ok(None)
            }

            async fn api_key_list(
                &self,
                project: &toolrouter_core::ProjectId,
            ) -> $crate::StoreResult<Vec<toolrouter_core::ApiKeyRecord>> {
                sqlx::query_as::<_, $crate::rows::ApiKeyRow>($crate::rows::api_key_select!(
                    "WHERE project_id = $1 ORDER BY created_at, id"
                ))
                .bind(project.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx("api_key_list", "api key", e))?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn api_key_revoke(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::ApiKeyId,
                at: toolrouter_core::Timestamp,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $1 \
                     WHERE id = $2 AND project_id = $3 AND revoked_at IS NULL",
                )
                .bind(at.millis())
                .bind(id.as_str())
                .bind(project.as_str())
                .execute(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx("api_key_revoke", "api key", e))?;
                Ok(done.rows_affected() == 1)
            }
        }

        async fn insert_project<'e, E>(
            exec: E,
            p: &toolrouter_core::Project,
        ) -> $crate::StoreResult<()>
        where
            E: sqlx::Executor<'e, Database = <$store as $crate::common::Backend>::Db>,
        {
            sqlx::query("INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(p.id.as_str())
                .bind(&p.name)
                .bind(p.created_at.millis())
                .execute(exec)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx("project_create", "project", e))?;
            Ok(())
        }

        async fn insert_api_key<'e, E>(
            exec: E,
            k: &toolrouter_core::ApiKeyRecord,
        ) -> $crate::StoreResult<()>
        where
            E: sqlx::Executor<'e, Database = <$store as $crate::common::Backend>::Db>,
        {
            sqlx::query(
                "INSERT INTO api_keys \
                 (id, project_id, name, display_prefix, hash, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(k.id.as_str())
            .bind(k.project_id.as_str())
            .bind(&k.name)
            .bind(&k.display_prefix)
            .bind(&k.hash)
            .bind(k.created_at.millis())
            .bind(k.revoked_at.map(|t| t.millis()))
            .execute(exec)
            .await
            .map_err(|e| $crate::StoreError::from_sqlx("api_key_insert", "api key", e))?;
            Ok(())
        }
    };
}

pub(crate) use impl_store;

/// Ties a store type to its sqlx database, for the shared helpers' bounds.
pub(crate) trait Backend {
    type Db: sqlx::Database;
}

/// Counts applied migrations (0 before the first run).
macro_rules! applied_migrations {
    ($pool:expr) => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one($pool)
            .await
            .unwrap_or(0)
    };
}

pub(crate) use applied_migrations;
