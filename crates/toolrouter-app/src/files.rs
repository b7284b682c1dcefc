//! The files mount (`session.experimental.files`, CONTRACT §3.15, A.16): a session's files —
//! the same directory the workbench sees as `/mnt/files` — listed, deleted, and moved in and
//! out through signed, expiring URLs that need no API key (the SDKs `PUT`/`GET` them without
//! Composio headers).
//!
//! A transfer URL is `/files/transfer/<payload>.<signature>`: the payload is base64url JSON
//! naming the operation (`get`/`put`), project, session, path and expiry (epoch ms); the
//! signature is an HMAC under a key derived from the master keyring for this purpose
//! ([`toolrouter_vault::Keyring::sign_url`]), never the API key. A tampered or expired URL is a
//! 403, like an object store's; a URL for a deleted session is a 404. Paths are checked
//! lexically and then resolved by the kernel without following links
//! ([`toolrouter_workbench::mount`]), so `..` and links planted by sandboxed code cannot reach
//! outside the session's directory. The only mount is `files`; any other id is a 404.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWriteExt};
use toolrouter_core::{ErrorCode, ProjectId, SessionId, Timestamp};
use toolrouter_workbench::mount::{self, MountError, MountPath};

use crate::page::{Page, PageRequest};
use crate::{App, AppError, AppResult, Caller};

pub use toolrouter_workbench::mount::SANDBOX_MOUNT_PREFIX;

/// The one mount of a session.
pub const MOUNT_ID: &str = "files";
/// Page size of a listing when the caller gives none (A.16), and the largest.
pub const LIST_DEFAULT_LIMIT: u64 = 100;
pub const LIST_MAX_LIMIT: u64 = 500;
/// Largest upload accepted through a signed URL.
pub const MAX_UPLOAD_BYTES: u64 = 1 << 30;
/// Where transfer URLs live (unauthenticated; the signature is the capability).
pub const TRANSFER_PATH: &str = "/files/transfer";

/// One file of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountItem {
    pub mount_relative_path: String,
    pub size: u64,
    pub last_modified: Timestamp,
}

/// A signed URL, as a path under the server's origin (the transport adds the origin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransfer {
    pub url_path: String,
    pub mount_relative_path: String,
    pub expires_at: Timestamp,
}

/// What a signed URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferOp {
    Upload,
    Download,
}

impl TransferOp {
    fn tag(self) -> &'static str {
        match self {
            TransferOp::Upload => "put",
            TransferOp::Download => "get",
        }
    }
}

/// A file being downloaded.
#[derive(Debug)]
pub struct Download {
    pub file: tokio::fs::File,
    pub size: u64,
    /// The last path component, for `Content-Disposition`.
    pub name: String,
}

fn mount_error(e: MountError) -> AppError {
    match e {
        MountError::InvalidPath(m) => AppError::new(ErrorCode::ValidationFailed, m)
            .with_fix("Give a path relative to the mount, e.g. `reports/summary.csv`."),
        MountError::NotFound(p) => AppError::new(
            ErrorCode::NotFound,
            format!("No file `{p}` in this session's files mount."),
        )
        .with_fix("List the mount's files with GET …/mounts/files/items."),
        e @ (MountError::IsDirectory(_) | MountError::NotRegular(_)) => {
            AppError::new(ErrorCode::ValidationFailed, e.to_string())
                .with_fix("Name a regular file.")
        }
        e @ MountError::Io { .. } => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "files mount I/O failed");
            AppError::new(
                ErrorCode::Internal,
                "The session's files could not be accessed; the server log has the cause.",
            )
        }
    }
}

fn check_mount(mount_id: &str) -> AppResult<()> {
    if mount_id == MOUNT_ID {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::NotFound,
        format!("No mount `{mount_id}` in this session; the only mount is `{MOUNT_ID}`."),
    )
    .with_fix("Use the mount id `files`."))
}

fn forbidden(message: &str) -> AppError {
    AppError::new(ErrorCode::Forbidden, message.to_owned())
        .with_fix("Request a new URL with POST …/mounts/files/upload_url or download_url.")
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, MountError> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "files mount task failed");
            AppError::new(ErrorCode::Internal, "The files mount operation failed.")
        })?
        .map_err(mount_error)
}

impl App {
    /// The session (checked to exist and belong to the caller) and its mount path.
    async fn mount_target(
        &self,
        caller: &Caller,
        session_id: &str,
        mount_id: &str,
        path: &str,
    ) -> AppResult<(SessionId, MountPath)> {
        let session = self.session_get(caller, session_id).await?.session;
        check_mount(mount_id)?;
        let path = MountPath::parse(path).map_err(mount_error)?;
        Ok((session.id, path))
    }

    /// `GET …/{sid}/mounts/{mount_id}/items`: files sorted by path, `prefix` a string prefix
    /// of the mount-relative path.
    pub async fn mount_list(
        &self,
        caller: &Caller,
        session_id: &str,
        mount_id: &str,
        prefix: Option<&str>,
        page: &PageRequest,
    ) -> AppResult<Page<MountItem>> {
        let session = self.session_get(caller, session_id).await?.session;
        check_mount(mount_id)?;
        let prefix = mount::list_prefix(prefix).map_err(|e| match e {
            MountError::InvalidPath(m) => AppError::new(ErrorCode::ValidationFailed, m),
            other => mount_error(other),
        })?;
        let page = PageRequest {
            limit: Some(page.limit.unwrap_or(LIST_DEFAULT_LIMIT)),
            cursor: page.cursor.clone(),
        };
        let root = self.session_files_dir(&session.id);
        let entries = blocking(move || mount::list(&root, prefix.as_deref())).await?;
        let items = entries
            .into_iter()
            .map(|e| MountItem {
                mount_relative_path: e.path,
                size: e.size,
                last_modified: Timestamp(
                    e.modified
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
                ),
            })
            .collect();
        page.apply_within(items, LIST_MAX_LIMIT)
    }

    /// `POST …/mounts/{mount_id}/upload_url`.
    pub async fn mount_upload_url(
        &self,
        caller: &Caller,
        session_id: &str,
        mount_id: &str,
        path: &str,
    ) -> AppResult<SignedTransfer> {
        let (sid, path) = self
            .mount_target(caller, session_id, mount_id, path)
            .await?;
        Ok(self.sign_transfer(TransferOp::Upload, &caller.project_id, &sid, &path))
    }

    /// `POST …/mounts/{mount_id}/download_url`: only for a file that exists.
    pub async fn mount_download_url(
        &self,
        caller: &Caller,
        session_id: &str,
        mount_id: &str,
        path: &str,
    ) -> AppResult<SignedTransfer> {
        let (sid, path) = self
            .mount_target(caller, session_id, mount_id, path)
            .await?;
        let (root, p) = (self.session_files_dir(&sid), path.clone());
        blocking(move || mount::open_read(&root, &p).map(|_| ())).await?;
        Ok(self.sign_transfer(TransferOp::Download, &caller.project_id, &sid, &path))
    }

    /// `POST …/mounts/{mount_id}/delete`: returns the deleted path.
    pub async fn mount_delete(
        &self,
        caller: &Caller,
        session_id: &str,
        mount_id: &str,
        path: &str,
    ) -> AppResult<String> {
        let (sid, path) = self
            .mount_target(caller, session_id, mount_id, path)
            .await?;
        let (root, p) = (self.session_files_dir(&sid), path.clone());
        blocking(move || mount::remove(&root, &p)).await?;
        Ok(path.as_str().to_owned())
    }

    fn sign_transfer(
        &self,
        op: TransferOp,
        project: &ProjectId,
        session: &SessionId,
        path: &MountPath,
    ) -> SignedTransfer {
        let ttl = i64::try_from(self.inner.file_url_ttl.as_millis()).unwrap_or(i64::MAX);
        let expires_at = Timestamp(Timestamp::now().millis().saturating_add(ttl));
        let payload = json!({
            "o": op.tag(),
            "p": project.as_str(),
            "s": session.as_str(),
            "f": path.as_str(),
            "e": expires_at.millis(),
        });
        let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let signature = self.inner.keyring.sign_url(payload.as_bytes());
        SignedTransfer {
            url_path: format!("{TRANSFER_PATH}/{payload}.{signature}"),
            mount_relative_path: path.as_str().to_owned(),
            expires_at,
        }
    }

    /// Checks a transfer token for `op`: signature, expiry, and that the session still exists.
    async fn open_transfer(
        &self,
        token: &str,
        op: TransferOp,
    ) -> AppResult<(std::path::PathBuf, MountPath)> {
        let invalid = || forbidden("This file URL is invalid or was altered.");
        let (payload, signature) = token.rsplit_once('.').ok_or_else(invalid)?;
        if !self.inner.keyring.verify_url(payload.as_bytes(), signature) {
            return Err(invalid());
        }
        let fields: Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid)?;
        let text = |k: &str| fields.get(k).and_then(Value::as_str).ok_or_else(invalid);
        if text("o")? != op.tag() {
            let other = if op == TransferOp::Upload {
                "a download URL; GET it"
            } else {
                "an upload URL; PUT the file to it"
            };
            return Err(AppError::new(
                ErrorCode::MethodNotAllowed,
                format!("This is {other}."),
            ));
        }
        let expires = fields
            .get("e")
            .and_then(Value::as_i64)
            .ok_or_else(invalid)?;
        if Timestamp::now().millis() >= expires {
            return Err(forbidden(&format!(
                "This file URL expired at {}.",
                Timestamp(expires).to_rfc3339()
            )));
        }
        let project = ProjectId::parse(text("p")?).ok_or_else(invalid)?;
        let session = SessionId::parse(text("s")?).ok_or_else(invalid)?;
        let path = MountPath::parse(text("f")?).map_err(|_| invalid())?;
        let exists = self
            .store()
            .session_get(&project, &session)
            .await
            .map_err(|e| AppError::from_store("session get", &e))?
            .is_some();
        if !exists {
            return Err(AppError::new(
                ErrorCode::SessionNotFound,
                format!("Session {session} no longer exists, so its files are gone."),
            ));
        }
        Ok((self.session_files_dir(&session), path))
    }

    /// `PUT <upload_url>`: stores the body (at most [`MAX_UPLOAD_BYTES`]) as the file, replacing
    /// one of the same name; nothing is stored unless the whole body arrived. Returns the size.
    pub async fn transfer_upload<R: AsyncRead + Unpin + Send>(
        &self,
        token: &str,
        mut body: R,
    ) -> AppResult<u64> {
        let (root, path) = self.open_transfer(token, TransferOp::Upload).await?;
        let (file, staged) = blocking(move || mount::stage_write(&root, &path)).await?;
        let mut file = tokio::fs::File::from_std(file);
        let mut limited = tokio::io::AsyncReadExt::take(&mut body, MAX_UPLOAD_BYTES + 1);
        let copied = tokio::io::copy(&mut limited, &mut file)
            .await
            .map_err(|e| {
                AppError::new(
                    ErrorCode::BadRequest,
                    format!("The upload was cut off before the whole file arrived ({e})."),
                )
                .with_fix("PUT the file again.")
            })?;
        if copied > MAX_UPLOAD_BYTES {
            return Err(AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("Files larger than {MAX_UPLOAD_BYTES} bytes cannot be uploaded."),
            ));
        }
        file.flush().await.map_err(|e| {
            tracing::error!(error = %e, "files mount upload flush failed");
            AppError::new(ErrorCode::Internal, "The file could not be written.")
        })?;
        drop(file);
        blocking(move || staged.commit()).await?;
        Ok(copied)
    }

    /// `GET <download_url>`: the file, opened.
    pub async fn transfer_download(&self, token: &str) -> AppResult<Download> {
        let (root, path) = self.open_transfer(token, TransferOp::Download).await?;
        let name = path
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or(path.as_str())
            .to_owned();
        let (file, size) = blocking(move || mount::open_read(&root, &path)).await?;
        Ok(Download {
            file: tokio::fs::File::from_std(file),
            size,
            name,
        })
    }
}
