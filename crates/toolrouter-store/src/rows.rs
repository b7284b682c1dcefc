//! Row types shared by both backends and their conversion to domain types, so the two
//! implementations cannot drift in how they read a record.

use toolrouter_core::{
    AccountStatus, ApiKeyId, ApiKeyRecord, AuthConfig, AuthConfigId, AuthConfigOrigin,
    ConnectedAccount, ConnectedAccountId, OAuthState, Project, ProjectId, Timestamp,
};

use crate::StoreError;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProjectRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub display_prefix: String,
    pub hash: Vec<u8>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

fn corrupt(what: &'static str) -> StoreError {
    StoreError::Database {
        op: what,
        source: sqlx::Error::Protocol(format!("stored {what} id has an unexpected shape")),
    }
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self, StoreError> {
        Ok(Project {
            id: ProjectId::parse(&r.id).ok_or_else(|| corrupt("project"))?,
            name: r.name,
            created_at: Timestamp(r.created_at),
        })
    }
}

impl TryFrom<ApiKeyRow> for ApiKeyRecord {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKeyRecord {
            id: ApiKeyId::parse(&r.id).ok_or_else(|| corrupt("api key"))?,
            project_id: ProjectId::parse(&r.project_id).ok_or_else(|| corrupt("project"))?,
            name: r.name,
            display_prefix: r.display_prefix,
            hash: r.hash,
            created_at: Timestamp(r.created_at),
            revoked_at: r.revoked_at.map(Timestamp),
        })
    }
}

/// The api_keys columns in `ApiKeyRow` order, as a literal so statements stay `&'static str`
/// (sqlx refuses unaudited dynamic SQL).
macro_rules! api_key_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, project_id, name, display_prefix, hash, created_at, revoked_at FROM api_keys ",
            $rest
        )
    };
}

pub(crate) use api_key_select;

fn corrupt_field(what: &'static str, field: &str) -> StoreError {
    StoreError::Database {
        op: what,
        source: sqlx::Error::Protocol(format!("stored {what} has an unreadable `{field}`")),
    }
}

/// JSON text columns (`scopes`, `fields`, `params`): small, schemaless, portable.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    field: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt_field(what, field))
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuthConfigRow {
    pub id: String,
    pub project_id: String,
    pub toolkit: String,
    pub name: String,
    pub auth_scheme: String,
    pub managed: bool,
    pub origin: String,
    pub disabled: bool,
    pub scopes: String,
    pub fields: String,
    pub sealed: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An auth config with its number of connected accounts (`no_of_connections`).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuthConfigCountRow {
    #[sqlx(flatten)]
    pub config: AuthConfigRow,
    pub connections: i64,
}

impl TryFrom<AuthConfigRow> for AuthConfig {
    type Error = StoreError;
    fn try_from(r: AuthConfigRow) -> Result<Self, StoreError> {
        const WHAT: &str = "auth config";
        Ok(AuthConfig {
            id: AuthConfigId::parse(&r.id).ok_or_else(|| corrupt(WHAT))?,
            project_id: ProjectId::parse(&r.project_id).ok_or_else(|| corrupt("project"))?,
            toolkit: r.toolkit,
            name: r.name,
            auth_scheme: r.auth_scheme,
            managed: r.managed,
            origin: AuthConfigOrigin::parse(&r.origin)
                .ok_or_else(|| corrupt_field(WHAT, "origin"))?,
            disabled: r.disabled,
            scopes: from_json(WHAT, "scopes", &r.scopes)?,
            fields: from_json(WHAT, "fields", &r.fields)?,
            sealed: r.sealed,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AccountRow {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub toolkit: String,
    pub auth_config_id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub alias: Option<String>,
    pub disabled: bool,
    pub params: String,
    pub sealed: Option<Vec<u8>>,
    pub expires_at: Option<i64>,
    pub version: i64,
    pub callback_url: Option<String>,
    pub link_hash: Option<Vec<u8>>,
    pub link_expires_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<AccountRow> for ConnectedAccount {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        const WHAT: &str = "connected account";
        Ok(ConnectedAccount {
            id: ConnectedAccountId::parse(&r.id).ok_or_else(|| corrupt(WHAT))?,
            project_id: ProjectId::parse(&r.project_id).ok_or_else(|| corrupt("project"))?,
            user_id: r.user_id,
            toolkit: r.toolkit,
            auth_config_id: AuthConfigId::parse(&r.auth_config_id)
                .ok_or_else(|| corrupt("auth config"))?,
            status: AccountStatus::parse(&r.status).ok_or_else(|| corrupt_field(WHAT, "status"))?,
            status_reason: r.status_reason,
            alias: r.alias,
            disabled: r.disabled,
            params: from_json(WHAT, "params", &r.params)?,
            sealed: r.sealed,
            expires_at: r.expires_at.map(Timestamp),
            version: r.version,
            callback_url: r.callback_url,
            link_hash: r.link_hash,
            link_expires_at: r.link_expires_at.map(Timestamp),
            connected_at: r.connected_at.map(Timestamp),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OAuthStateRow {
    pub id: String,
    pub project_id: String,
    pub account_id: String,
    pub sealed_verifier: Vec<u8>,
    pub redirect_uri: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl TryFrom<OAuthStateRow> for OAuthState {
    type Error = StoreError;
    fn try_from(r: OAuthStateRow) -> Result<Self, StoreError> {
        Ok(OAuthState {
            id: r.id,
            project_id: ProjectId::parse(&r.project_id).ok_or_else(|| corrupt("project"))?,
            account_id: ConnectedAccountId::parse(&r.account_id)
                .ok_or_else(|| corrupt("connected account"))?,
            sealed_verifier: r.sealed_verifier,
            redirect_uri: r.redirect_uri,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        })
    }
}

/// Columns of `auth_configs`, in `AuthConfigRow` order.
macro_rules! auth_config_columns {
    () => {
        "id, project_id, toolkit, name, auth_scheme, managed, origin, disabled, scopes, fields, \
         sealed, created_at, updated_at"
    };
}

/// Columns of `connected_accounts`, in `AccountRow` order.
macro_rules! account_columns {
    () => {
        "id, project_id, user_id, toolkit, auth_config_id, status, status_reason, alias, disabled, \
         params, sealed, expires_at, version, callback_url, link_hash, link_expires_at, \
         connected_at, created_at, updated_at"
    };
}

pub(crate) use {account_columns, auth_config_columns};
