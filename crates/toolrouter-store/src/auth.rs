//! Persistence of authentication: auth configs, connected accounts, pending OAuth2
//! authorizations, callback-URL allowlists, and the sealed values key rotation re-encrypts.
//!
//! Kept as its own trait ([`AuthStore`], a supertrait of `Store`) and its own macro so this part
//! of the schema reads in one place. Everything that belongs to a project takes the project,
//! so a lookup with another project's id finds nothing. Credential changes are compare-and-swap
//! on the account's `version`, which is how concurrent callbacks, form posts and token refreshes
//! (in one process or several sharing the database) never overwrite each other.

use async_trait::async_trait;
use toolrouter_core::auth::StateClaim;
use toolrouter_core::{
    AccountStatus, AuthConfig, AuthConfigId, ConnectedAccount, ConnectedAccountId, OAuthState,
    ProjectId, Timestamp,
};

use crate::StoreResult;

/// Which page of a listing to read: items after `cursor` (an id from the previous page's
/// `next_cursor`), at most `limit` of them. Listings are newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub cursor: Option<String>,
    pub limit: u32,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Set exactly when more items follow.
    pub next_cursor: Option<String>,
    /// Items matching the filter, over all pages.
    pub total: u64,
    /// How many of them come before this page.
    pub offset: u64,
}

/// Filters of `auth_config_list`; empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfigFilter {
    pub toolkits: Vec<String>,
    pub managed: Option<bool>,
    pub include_disabled: bool,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
}

/// Filters of `account_list`; empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub ids: Vec<ConnectedAccountId>,
    pub user_ids: Vec<String>,
    pub toolkits: Vec<String>,
    pub statuses: Vec<AccountStatus>,
    pub auth_config_ids: Vec<AuthConfigId>,
}

/// The columns holding ciphertext, for key rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    AuthConfigSecret,
    AccountSecret,
    OAuthVerifier,
}

impl SealedColumn {
    pub const ALL: [SealedColumn; 3] = [
        SealedColumn::AuthConfigSecret,
        SealedColumn::AccountSecret,
        SealedColumn::OAuthVerifier,
    ];

    /// The associated data a value of this column was sealed with.
    pub fn aad(self, row_id: &str) -> String {
        match self {
            SealedColumn::AuthConfigSecret => format!("auth_configs:{row_id}"),
            SealedColumn::AccountSecret => format!("connected_accounts:{row_id}"),
            SealedColumn::OAuthVerifier => format!("oauth_states:{row_id}"),
        }
    }
}

/// Authentication records. See the module documentation for the rules.
#[async_trait]
pub trait AuthStore: Send + Sync {
    /// Fails with `Conflict` when account selection already created the project's managed
    /// config for this toolkit.
    async fn auth_config_insert(&self, config: &AuthConfig) -> StoreResult<()>;
    async fn auth_config_get(
        &self,
        project: &ProjectId,
        id: &AuthConfigId,
    ) -> StoreResult<Option<AuthConfig>>;
    /// Configs with their number of connected accounts, newest first.
    async fn auth_config_list(
        &self,
        project: &ProjectId,
        filter: &AuthConfigFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<(AuthConfig, u64)>>;
    /// Writes name, disabled, scopes, fields, sealed secret and update time. False when the
    /// project has no such config.
    async fn auth_config_update(&self, config: &AuthConfig) -> StoreResult<bool>;
    /// Deletes the config and its connected accounts.
    async fn auth_config_delete(&self, project: &ProjectId, id: &AuthConfigId)
    -> StoreResult<bool>;

    async fn account_insert(&self, account: &ConnectedAccount) -> StoreResult<()>;
    async fn account_get(
        &self,
        project: &ProjectId,
        id: &ConnectedAccountId,
    ) -> StoreResult<Option<ConnectedAccount>>;
    /// The account whose current connect link hashes to this (the connect page has no API key).
    async fn account_find_by_link(&self, link_hash: &[u8])
    -> StoreResult<Option<ConnectedAccount>>;
    /// Newest first.
    async fn account_list(
        &self,
        project: &ProjectId,
        filter: &AccountFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ConnectedAccount>>;
    /// Writes every mutable field of `account` (status, reason, alias, disabled, params, sealed,
    /// expiry, version, callback URL, link, connected time, update time) if, and only if, the
    /// stored version is still `expected_version`; clears any refresh claim. The caller sets
    /// `account.version` (normally `expected_version + 1`).
    async fn account_update(
        &self,
        account: &ConnectedAccount,
        expected_version: i64,
    ) -> StoreResult<bool>;
    async fn account_delete(
        &self,
        project: &ProjectId,
        id: &ConnectedAccountId,
    ) -> StoreResult<bool>;
    /// Claims the right to refresh the account's token until `until`: succeeds only while the
    /// account is still at `version` and nobody else holds an unexpired claim. The refresh is
    /// then stored with `account_update` (which releases the claim).
    async fn account_refresh_claim(
        &self,
        id: &ConnectedAccountId,
        version: i64,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Gives a claim up without changing the account (the refresh could not be attempted).
    async fn account_refresh_release(
        &self,
        id: &ConnectedAccountId,
        owner: &str,
    ) -> StoreResult<()>;

    async fn oauth_state_insert(&self, state: &OAuthState) -> StoreResult<()>;
    /// Marks the state used and returns it, unless it is unknown, used or expired. Exactly one
    /// of any number of concurrent claims succeeds.
    async fn oauth_state_claim(&self, id: &str, now: Timestamp) -> StoreResult<StateClaim>;

    /// The project's allowed callback URLs, sorted.
    async fn callback_url_list(&self, project: &ProjectId) -> StoreResult<Vec<String>>;
    /// Replaces the project's allowed callback URLs, atomically.
    async fn callback_url_replace(
        &self,
        project: &ProjectId,
        urls: &[String],
        at: Timestamp,
    ) -> StoreResult<()>;

    /// A server-wide setting (`server_meta`).
    async fn meta_get(&self, key: &str) -> StoreResult<Option<String>>;
    /// Sets it, replacing any value.
    async fn meta_set(&self, key: &str, value: &str) -> StoreResult<()>;

    /// Every non-null value of a sealed column, by row id.
    async fn sealed_list(&self, column: SealedColumn) -> StoreResult<Vec<(String, Vec<u8>)>>;
    /// Replaces one sealed value if it is still `old` (a concurrent refresh wins).
    async fn sealed_replace(
        &self,
        column: SealedColumn,
        id: &str,
        old: &[u8],
        new: &[u8],
    ) -> StoreResult<bool>;
}

/// Implements [`AuthStore`] for a backend with the portable SQL below.
macro_rules! impl_auth_store {
    ($store:ty) => {
        type AuthDb = <$store as $crate::common::Backend>::Db;

        fn auth_err(op: &'static str, what: &'static str) -> impl Fn(sqlx::Error) -> $crate::StoreError {
            move |e| $crate::StoreError::from_sqlx(op, what, e)
        }

        fn cursor_clause(qb: &mut sqlx::QueryBuilder<AuthDb>, page: &$crate::PageRequest) {
            if let Some(cursor) = &page.cursor {
                qb.push(" AND id < ").push_bind(cursor.clone());
            }
        }

        /// `AND id >= cursor`: with newest-first order, the items of the pages before.
        fn before_clause(qb: &mut sqlx::QueryBuilder<AuthDb>, cursor: &str) {
            qb.push(" AND id >= ").push_bind(cursor.to_owned());
        }

        fn in_list(qb: &mut sqlx::QueryBuilder<AuthDb>, column: &str, values: Vec<String>) {
            if values.is_empty() {
                return;
            }
            qb.push(" AND ").push(column).push(" IN (");
            let mut list = qb.separated(", ");
            for v in values {
                list.push_bind(v);
            }
            list.push_unseparated(")");
        }

        fn config_filter(
            qb: &mut sqlx::QueryBuilder<AuthDb>,
            project: &toolrouter_core::ProjectId,
            filter: &$crate::AuthConfigFilter,
        ) {
            qb.push(" WHERE project_id = ").push_bind(project.as_str().to_owned());
            in_list(qb, "toolkit", filter.toolkits.clone());
            if let Some(managed) = filter.managed {
                qb.push(" AND managed = ").push_bind(managed);
            }
            if !filter.include_disabled {
                qb.push(" AND disabled = ").push_bind(false);
            }
            if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
                let pattern = format!(
                    "%{}%",
                    search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
                );
                qb.push(" AND LOWER(name) LIKE ").push_bind(pattern).push(" ESCAPE '\\'");
            }
        }

        fn account_filter(
            qb: &mut sqlx::QueryBuilder<AuthDb>,
            project: &toolrouter_core::ProjectId,
            filter: &$crate::AccountFilter,
        ) {
            qb.push(" WHERE project_id = ").push_bind(project.as_str().to_owned());
            in_list(qb, "id", filter.ids.iter().map(ToString::to_string).collect());
            in_list(qb, "user_id", filter.user_ids.clone());
            in_list(qb, "toolkit", filter.toolkits.clone());
            in_list(qb, "status", filter.statuses.iter().map(|s| s.as_str().to_owned()).collect());
            in_list(
                qb,
                "auth_config_id",
                filter.auth_config_ids.iter().map(ToString::to_string).collect(),
            );
        }

        /// Cuts a fetched `limit + 1` rows to a page and its cursor.
        fn paginate<T>(
            mut items: Vec<T>,
            limit: u32,
            id: impl Fn(&T) -> String,
            total: i64,
            offset: i64,
        ) -> $crate::Page<T> {
            let limit = limit.max(1) as usize;
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items.last().map(&id)
            } else {
                None
            };
            $crate::Page {
                items,
                next_cursor,
                total: u64::try_from(total).unwrap_or(0),
                offset: u64::try_from(offset).unwrap_or(0),
            }
        }

        fn sealed_table(column: $crate::SealedColumn) -> (&'static str, &'static str) {
            match column {
                $crate::SealedColumn::AuthConfigSecret => ("auth_configs", "sealed"),
                $crate::SealedColumn::AccountSecret => ("connected_accounts", "sealed"),
                $crate::SealedColumn::OAuthVerifier => ("oauth_states", "sealed_verifier"),
            }
        }

        #[async_trait::async_trait]
        impl $crate::AuthStore for $store {
            async fn auth_config_insert(
                &self,
                c: &toolrouter_core::AuthConfig,
            ) -> $crate::StoreResult<()> {
                sqlx::query(concat!(
                    "INSERT INTO auth_configs (",
                    $crate::rows::auth_config_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                ))
                .bind(c.id.as_str())
                .bind(c.project_id.as_str())
                .bind(&c.toolkit)
                .bind(&c.name)
                .bind(&c.auth_scheme)
                .bind(c.managed)
                .bind(c.origin.as_str())
                .bind(c.disabled)
                .bind($crate::rows::to_json(&c.scopes))
                .bind($crate::rows::to_json(&c.fields))
                .bind(c.sealed.as_deref())
                .bind(c.created_at.millis())
                .bind(c.updated_at.millis())
                .execute(&self.pool)
                .await
                .map_err(auth_err("auth_config_insert", "auth config"))?;
                Ok(())
            }

            async fn auth_config_get(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::AuthConfigId,
            ) -> $crate::StoreResult<Option<toolrouter_core::AuthConfig>> {
                sqlx::query_as::<_, $crate::rows::AuthConfigRow>(concat!(
                    "SELECT ",
                    $crate::rows::auth_config_columns!(),
                    " FROM auth_configs WHERE id = $1 AND project_id = $2"
                ))
                .bind(id.as_str())
                .bind(project.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(auth_err("auth_config_get", "auth config"))?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn auth_config_list(
                &self,
                project: &toolrouter_core::ProjectId,
                filter: &$crate::AuthConfigFilter,
                page: &$crate::PageRequest,
            ) -> $crate::StoreResult<$crate::Page<(toolrouter_core::AuthConfig, u64)>> {
                let err = auth_err("auth_config_list", "auth config");
                let mut count = sqlx::QueryBuilder::<AuthDb>::new("SELECT COUNT(*) FROM auth_configs");
                config_filter(&mut count, project, filter);
                let total: i64 = count
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(&err)?;
                let offset: i64 = match &page.cursor {
                    None => 0,
                    Some(cursor) => {
                        let mut before =
                            sqlx::QueryBuilder::<AuthDb>::new("SELECT COUNT(*) FROM auth_configs");
                        config_filter(&mut before, project, filter);
                        before_clause(&mut before, cursor);
                        before
                            .build_query_scalar()
                            .fetch_one(&self.pool)
                            .await
                            .map_err(&err)?
                    }
                };
                let mut qb = sqlx::QueryBuilder::<AuthDb>::new(concat!(
                    "SELECT ",
                    $crate::rows::auth_config_columns!(),
                    ", (SELECT COUNT(*) FROM connected_accounts c WHERE c.auth_config_id = auth_configs.id) \
                     AS connections FROM auth_configs"
                ));
                config_filter(&mut qb, project, filter);
                cursor_clause(&mut qb, page);
                qb.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(page.limit.max(1)) + 1);
                let rows = qb
                    .build_query_as::<$crate::rows::AuthConfigCountRow>()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(&err)?;
                let items = rows
                    .into_iter()
                    .map(|r| {
                        let n = u64::try_from(r.connections).unwrap_or(0);
                        toolrouter_core::AuthConfig::try_from(r.config).map(|c| (c, n))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(paginate(
                    items,
                    page.limit,
                    |(c, _)| c.id.to_string(),
                    total,
                    offset,
                ))
            }

            async fn auth_config_update(
                &self,
                c: &toolrouter_core::AuthConfig,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE auth_configs SET name = $1, disabled = $2, scopes = $3, fields = $4, \
                     sealed = $5, updated_at = $6 WHERE id = $7 AND project_id = $8",
                )
                .bind(&c.name)
                .bind(c.disabled)
                .bind($crate::rows::to_json(&c.scopes))
                .bind($crate::rows::to_json(&c.fields))
                .bind(c.sealed.as_deref())
                .bind(c.updated_at.millis())
                .bind(c.id.as_str())
                .bind(c.project_id.as_str())
                .execute(&self.pool)
                .await
                .map_err(auth_err("auth_config_update", "auth config"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn auth_config_delete(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::AuthConfigId,
            ) -> $crate::StoreResult<bool> {
                let err = auth_err("auth_config_delete", "auth config");
                let mut tx = self.pool.begin().await.map_err(&err)?;
                // Explicit rather than relying on ON DELETE CASCADE, which SQLite only honours
                // with foreign keys switched on.
                sqlx::query(
                    "DELETE FROM connected_accounts WHERE auth_config_id = $1 AND project_id = $2",
                )
                .bind(id.as_str())
                .bind(project.as_str())
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
                let done = sqlx::query("DELETE FROM auth_configs WHERE id = $1 AND project_id = $2")
                    .bind(id.as_str())
                    .bind(project.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(&err)?;
                tx.commit().await.map_err(&err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn account_insert(
                &self,
                a: &toolrouter_core::ConnectedAccount,
            ) -> $crate::StoreResult<()> {
                sqlx::query(concat!(
                    "INSERT INTO connected_accounts (",
                    $crate::rows::account_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18, $19)"
                ))
                .bind(a.id.as_str())
                .bind(a.project_id.as_str())
                .bind(&a.user_id)
                .bind(&a.toolkit)
                .bind(a.auth_config_id.as_str())
                .bind(a.status.as_str())
                .bind(a.status_reason.as_deref())
                .bind(a.alias.as_deref())
                .bind(a.disabled)
                .bind($crate::rows::to_json(&a.params))
                .bind(a.sealed.as_deref())
                .bind(a.expires_at.map(|t| t.millis()))
                .bind(a.version)
                .bind(a.callback_url.as_deref())
                .bind(a.link_hash.as_deref())
                .bind(a.link_expires_at.map(|t| t.millis()))
                .bind(a.connected_at.map(|t| t.millis()))
                .bind(a.created_at.millis())
                .bind(a.updated_at.millis())
                .execute(&self.pool)
                .await
                .map_err(auth_err("account_insert", "connected account"))?;
                Ok(())
            }

            async fn account_get(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::ConnectedAccountId,
            ) -> $crate::StoreResult<Option<toolrouter_core::ConnectedAccount>> {
                sqlx::query_as::<_, $crate::rows::AccountRow>(concat!(
                    "SELECT ",
                    $crate::rows::account_columns!(),
                    " FROM connected_accounts WHERE id = $1 AND project_id = $2"
                ))
                .bind(id.as_str())
                .bind(project.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(auth_err("account_get", "connected account"))?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn account_find_by_link(
                &self,
                link_hash: &[u8],
            ) -> $crate::StoreResult<Option<toolrouter_core::ConnectedAccount>> {
                sqlx::query_as::<_, $crate::rows::AccountRow>(concat!(
                    "SELECT ",
                    $crate::rows::account_columns!(),
                    " FROM connected_accounts WHERE link_hash = $1"
                ))
                .bind(link_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(auth_err("account_find_by_link", "connected account"))?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn account_list(
                &self,
                project: &toolrouter_core::ProjectId,
                filter: &$crate::AccountFilter,
                page: &$crate::PageRequest,
            ) -> $crate::StoreResult<$crate::Page<toolrouter_core::ConnectedAccount>> {
                let err = auth_err("account_list", "connected account");
                let mut count =
                    sqlx::QueryBuilder::<AuthDb>::new("SELECT COUNT(*) FROM connected_accounts");
                account_filter(&mut count, project, filter);
                let total: i64 = count
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(&err)?;
                let offset: i64 = match &page.cursor {
                    None => 0,
                    Some(cursor) => {
                        let mut before = sqlx::QueryBuilder::<AuthDb>::new(
                            "SELECT COUNT(*) FROM connected_accounts",
                        );
                        account_filter(&mut before, project, filter);
                        before_clause(&mut before, cursor);
                        before
                            .build_query_scalar()
                            .fetch_one(&self.pool)
                            .await
                            .map_err(&err)?
                    }
                };
                let mut qb = sqlx::QueryBuilder::<AuthDb>::new(concat!(
                    "SELECT ",
                    $crate::rows::account_columns!(),
                    " FROM connected_accounts"
                ));
                account_filter(&mut qb, project, filter);
                cursor_clause(&mut qb, page);
                qb.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(page.limit.max(1)) + 1);
                let items = qb
                    .build_query_as::<$crate::rows::AccountRow>()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(&err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect::<Result<Vec<toolrouter_core::ConnectedAccount>, _>>()?;
                Ok(paginate(items, page.limit, |a| a.id.to_string(), total, offset))
            }

            async fn account_update(
                &self,
                a: &toolrouter_core::ConnectedAccount,
                expected_version: i64,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE connected_accounts SET status = $1, status_reason = $2, alias = $3, \
                     disabled = $4, params = $5, sealed = $6, expires_at = $7, version = $8, \
                     callback_url = $9, link_hash = $10, link_expires_at = $11, connected_at = $12, \
                     updated_at = $13, refresh_owner = NULL, refresh_until = NULL \
                     WHERE id = $14 AND project_id = $15 AND version = $16",
                )
                .bind(a.status.as_str())
                .bind(a.status_reason.as_deref())
                .bind(a.alias.as_deref())
                .bind(a.disabled)
                .bind($crate::rows::to_json(&a.params))
                .bind(a.sealed.as_deref())
                .bind(a.expires_at.map(|t| t.millis()))
                .bind(a.version)
                .bind(a.callback_url.as_deref())
                .bind(a.link_hash.as_deref())
                .bind(a.link_expires_at.map(|t| t.millis()))
                .bind(a.connected_at.map(|t| t.millis()))
                .bind(a.updated_at.millis())
                .bind(a.id.as_str())
                .bind(a.project_id.as_str())
                .bind(expected_version)
                .execute(&self.pool)
                .await
                .map_err(auth_err("account_update", "connected account"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn account_delete(
                &self,
                project: &toolrouter_core::ProjectId,
                id: &toolrouter_core::ConnectedAccountId,
            ) -> $crate::StoreResult<bool> {
                let err = auth_err("account_delete", "connected account");
                let mut tx = self.pool.begin().await.map_err(&err)?;
                sqlx::query("DELETE FROM oauth_states WHERE account_id = $1 AND project_id = $2")
                    .bind(id.as_str())
                    .bind(project.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(&err)?;
                let done =
                    sqlx::query("DELETE FROM connected_accounts WHERE id = $1 AND project_id = $2")
                        .bind(id.as_str())
                        .bind(project.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(&err)?;
                tx.commit().await.map_err(&err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn account_refresh_claim(
                &self,
                id: &toolrouter_core::ConnectedAccountId,
                version: i64,
                owner: &str,
                until: toolrouter_core::Timestamp,
                now: toolrouter_core::Timestamp,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE connected_accounts SET refresh_owner = $1, refresh_until = $2 \
                     WHERE id = $3 AND version = $4 \
                     AND (refresh_until IS NULL OR refresh_until < $5)",
                )
                .bind(owner)
                .bind(until.millis())
                .bind(id.as_str())
                .bind(version)
                .bind(now.millis())
                .execute(&self.pool)
                .await
                .map_err(auth_err("account_refresh_claim", "connected account"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn account_refresh_release(
                &self,
                id: &toolrouter_core::ConnectedAccountId,
                owner: &str,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "UPDATE connected_accounts SET refresh_owner = NULL, refresh_until = NULL \
                     WHERE id = $1 AND refresh_owner = $2",
                )
                .bind(id.as_str())
                .bind(owner)
                .execute(&self.pool)
                .await
                .map_err(auth_err("account_refresh_release", "connected account"))?;
                Ok(())
            }

            async fn oauth_state_insert(
                &self,
                s: &toolrouter_core::OAuthState,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO oauth_states (id, project_id, account_id, sealed_verifier, \
                     redirect_uri, created_at, expires_at, used_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
                )
                .bind(&s.id)
                .bind(s.project_id.as_str())
                .bind(s.account_id.as_str())
                .bind(&s.sealed_verifier)
                .bind(&s.redirect_uri)
                .bind(s.created_at.millis())
                .bind(s.expires_at.millis())
                .execute(&self.pool)
                .await
                .map_err(auth_err("oauth_state_insert", "oauth state"))?;
                Ok(())
            }

            async fn oauth_state_claim(
                &self,
                id: &str,
                now: toolrouter_core::Timestamp,
            ) -> $crate::StoreResult<toolrouter_core::auth::StateClaim> {
                use toolrouter_core::auth::StateClaim;
                let err = auth_err("oauth_state_claim", "oauth state");
                let row = sqlx::query_as::<_, $crate::rows::OAuthStateRow>(
                    "SELECT id, project_id, account_id, sealed_verifier, redirect_uri, created_at, \
                     expires_at, used_at FROM oauth_states WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(&err)?;
                let Some(row) = row else {
                    return Ok(StateClaim::NotFound);
                };
                if row.used_at.is_some() {
                    return Ok(StateClaim::AlreadyUsed);
                }
                if row.expires_at <= now.millis() {
                    return Ok(StateClaim::Expired);
                }
                let done = sqlx::query(
                    "UPDATE oauth_states SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
                )
                .bind(now.millis())
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(&err)?;
                if done.rows_affected() != 1 {
                    return Ok(StateClaim::AlreadyUsed);
                }
                Ok(StateClaim::Claimed(row.try_into()?))
            }

            async fn callback_url_list(
                &self,
                project: &toolrouter_core::ProjectId,
            ) -> $crate::StoreResult<Vec<String>> {
                sqlx::query_scalar::<_, String>(
                    "SELECT url FROM callback_urls WHERE project_id = $1 ORDER BY url",
                )
                .bind(project.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(auth_err("callback_url_list", "callback url"))
            }

            async fn callback_url_replace(
                &self,
                project: &toolrouter_core::ProjectId,
                urls: &[String],
                at: toolrouter_core::Timestamp,
            ) -> $crate::StoreResult<()> {
                let err = auth_err("callback_url_replace", "callback url");
                let mut tx = self.pool.begin().await.map_err(&err)?;
                sqlx::query("DELETE FROM callback_urls WHERE project_id = $1")
                    .bind(project.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(&err)?;
                for url in urls {
                    sqlx::query(
                        "INSERT INTO callback_urls (project_id, url, created_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (project_id, url) DO NOTHING",
                    )
                    .bind(project.as_str())
                    .bind(url)
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(&err)?;
                }
                tx.commit().await.map_err(&err)?;
                Ok(())
            }

            async fn meta_get(&self, key: &str) -> $crate::StoreResult<Option<String>> {
                sqlx::query_scalar::<_, String>("SELECT value FROM server_meta WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(auth_err("meta_get", "setting"))
            }

            async fn meta_set(&self, key: &str, value: &str) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO server_meta (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await
                .map_err(auth_err("meta_set", "setting"))?;
                Ok(())
            }

            async fn sealed_list(
                &self,
                column: $crate::SealedColumn,
            ) -> $crate::StoreResult<Vec<(String, Vec<u8>)>> {
                let (table, col) = sealed_table(column);
                // Table and column names come from the fixed match above, never from input.
                let sql = format!("SELECT id, {col} FROM {table} WHERE {col} IS NOT NULL ORDER BY id");
                sqlx::query_as::<_, (String, Vec<u8>)>(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(auth_err("sealed_list", "sealed value"))
            }

            async fn sealed_replace(
                &self,
                column: $crate::SealedColumn,
                id: &str,
                old: &[u8],
                new: &[u8],
            ) -> $crate::StoreResult<bool> {
                let (table, col) = sealed_table(column);
                let sql = format!("UPDATE {table} SET {col} = $1 WHERE id = $2 AND {col} = $3");
                let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(new)
                    .bind(id)
                    .bind(old)
                    .execute(&self.pool)
                    .await
                    .map_err(auth_err("sealed_replace", "sealed value"))?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use impl_auth_store;
