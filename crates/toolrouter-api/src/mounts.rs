//! Wire types of a session's files mount (`session.experimental.files`): CONTRACT.md §3.15 and
//! Appendix A.16 — listing (`GET …/{sid}/mounts/{mount_id}/items`), signed upload and download
//! URLs, and delete. The TypeScript SDK refuses `next_cursor: null`, so the key is left out when
//! there is no next page.

use serde::{Deserialize, Serialize};

/// One file of `GET …/mounts/{mount_id}/items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountItem {
    /// Path relative to the mount, e.g. `reports/summary.csv`.
    pub mount_relative_path: String,
    /// Where the mount is inside the sandbox: `/mnt/files`.
    pub sandbox_mount_prefix: String,
    /// Bytes.
    pub size: u64,
    /// RFC 3339.
    pub last_modified: String,
}

/// The answer of `GET …/mounts/{mount_id}/items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountItemsResponse {
    pub items: Vec<MountItem>,
    /// Only when more files follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The body of `POST …/mounts/{mount_id}/upload_url`. Unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadUrlRequest {
    pub mount_relative_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimetype: Option<String>,
}

/// The answer of `POST …/mounts/{mount_id}/upload_url`: `PUT` the raw bytes to `upload_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadUrlResponse {
    pub upload_url: String,
    pub mount_relative_path: String,
    pub sandbox_mount_prefix: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// The body of `POST …/mounts/{mount_id}/download_url` and `…/delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountPathRequest {
    pub mount_relative_path: String,
}

/// The answer of `POST …/mounts/{mount_id}/download_url`: `GET` the file from `download_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadUrlResponse {
    pub download_url: String,
    pub mount_relative_path: String,
    pub sandbox_mount_prefix: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// The answer of `POST …/mounts/{mount_id}/delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountDeleteResponse {
    pub mount_relative_path: String,
    pub sandbox_mount_prefix: String,
}
