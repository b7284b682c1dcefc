//! Row types shared by both backends and their conversion to domain types, so the two
//! implementations cannot drift in how they read a record.

use toolrouter_core::{ApiKeyId, ApiKeyRecord, Project, ProjectId, Timestamp};

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
