//! Projects (tenants) and the metadata of their API keys. The key material itself never appears
//! here: only its keyed hash, which the vault computes.

use crate::{ApiKeyId, ProjectId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub created_at: Timestamp,
}

/// A stored API key: its id, a display prefix (the first characters of the key, safe to show),
/// and the keyed hash the server compares against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub project_id: ProjectId,
    pub name: String,
    /// First characters of the key (`trk_AbC…`), shown in listings so users can tell keys apart.
    pub display_prefix: String,
    /// HMAC-SHA256 of the key under the server's pepper, 32 bytes.
    pub hash: Vec<u8>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl ApiKeyRecord {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}
