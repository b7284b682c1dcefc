//! A session's files mount on the wire (CONTRACT.md §3.15, A.16): list, upload and download
//! URLs and delete under `/tool_router/session/{id}/mounts/{mount_id}/…` (API key), and the
//! signed transfer URLs those hand out, `PUT`/`GET /files/transfer/{token}` (no API key: the
//! signature is the capability, checked by the app). Every rule is the app's
//! ([`toolrouter_app::files`]); this parses, streams bytes and converts.

use axum::Json;
use axum::body::Body as RawBody;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use toolrouter_api::mounts::{
    DownloadUrlResponse, MountDeleteResponse, MountItem, MountItemsResponse, MountPathRequest,
    UploadUrlRequest, UploadUrlResponse,
};
use toolrouter_app::files::SANDBOX_MOUNT_PREFIX;
use toolrouter_app::files::SignedTransfer;

use crate::extract::{Auth, Body};
use crate::origin::Origin;
use crate::query::Params;
use crate::{ApiError, AppState};

fn url(origin: &Origin, t: &SignedTransfer) -> String {
    format!("{}{}", origin.0, t.url_path)
}

/// `GET /tool_router/session/{id}/mounts/{mount_id}/items?mount_relative_prefix&limit&cursor`
pub(crate) async fn items(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mount_id)): Path<(String, String)>,
    params: Params,
) -> Result<Json<MountItemsResponse>, ApiError> {
    let page = state
        .app
        .mount_list(
            &caller,
            &id,
            &mount_id,
            params.get("mount_relative_prefix"),
            &params.page()?,
        )
        .await?;
    Ok(Json(MountItemsResponse {
        items: page
            .items
            .into_iter()
            .map(|i| MountItem {
                mount_relative_path: i.mount_relative_path,
                sandbox_mount_prefix: SANDBOX_MOUNT_PREFIX.to_owned(),
                size: i.size,
                last_modified: i.last_modified.to_rfc3339(),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `POST /tool_router/session/{id}/mounts/{mount_id}/upload_url`
pub(crate) async fn upload_url(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mount_id)): Path<(String, String)>,
    origin: Origin,
    Body(req): Body<UploadUrlRequest>,
) -> Result<Json<UploadUrlResponse>, ApiError> {
    let t = state
        .app
        .mount_upload_url(&caller, &id, &mount_id, &req.mount_relative_path)
        .await?;
    Ok(Json(UploadUrlResponse {
        upload_url: url(&origin, &t),
        mount_relative_path: t.mount_relative_path,
        sandbox_mount_prefix: SANDBOX_MOUNT_PREFIX.to_owned(),
        expires_at: t.expires_at.to_rfc3339(),
    }))
}

/// `POST /tool_router/session/{id}/mounts/{mount_id}/download_url`
pub(crate) async fn download_url(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mount_id)): Path<(String, String)>,
    origin: Origin,
    Body(req): Body<MountPathRequest>,
) -> Result<Json<DownloadUrlResponse>, ApiError> {
    let t = state
        .app
        .mount_download_url(&caller, &id, &mount_id, &req.mount_relative_path)
        .await?;
    Ok(Json(DownloadUrlResponse {
        download_url: url(&origin, &t),
        mount_relative_path: t.mount_relative_path,
        sandbox_mount_prefix: SANDBOX_MOUNT_PREFIX.to_owned(),
        expires_at: t.expires_at.to_rfc3339(),
    }))
}

/// `POST /tool_router/session/{id}/mounts/{mount_id}/delete`
pub(crate) async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mount_id)): Path<(String, String)>,
    Body(req): Body<MountPathRequest>,
) -> Result<Json<MountDeleteResponse>, ApiError> {
    let path = state
        .app
        .mount_delete(&caller, &id, &mount_id, &req.mount_relative_path)
        .await?;
    Ok(Json(MountDeleteResponse {
        mount_relative_path: path,
        sandbox_mount_prefix: SANDBOX_MOUNT_PREFIX.to_owned(),
    }))
}

/// `PUT /files/transfer/{token}`: the raw bytes of the file (any content type).
pub(crate) async fn transfer_put(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: RawBody,
) -> Result<Response, ApiError> {
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    state.app.transfer_upload(&token, reader).await?;
    Ok(http::StatusCode::OK.into_response())
}

/// `GET /files/transfer/{token}`: the file, streamed.
pub(crate) async fn transfer_get(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let d = state.app.transfer_download(&token).await?;
    // `filename` gets a plain-ASCII fallback; `filename*` carries the exact name.
    let ascii: String = d
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact: String = form_urlencoded::byte_serialize(d.name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}");
    let body = RawBody::from_stream(tokio_util::io::ReaderStream::new(d.file));
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream".to_owned()),
            (CONTENT_LENGTH, d.size.to_string()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
