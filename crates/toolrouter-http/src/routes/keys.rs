//! The caller's project and its API keys. Every lookup is scoped to the caller's project, so a
//! key of one project can neither see nor revoke another project's keys.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use secrecy::ExposeSecret;
use toolrouter_api::project::{
    ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyView, Deleted, ProjectView, Whoami,
};
use toolrouter_core::{ApiKeyRecord, Project};

use crate::extract::{Auth, Body};
use crate::{ApiError, AppState};

fn key_view(r: &ApiKeyRecord) -> ApiKeyView {
    ApiKeyView {
        id: r.id.to_string(),
        name: r.name.clone(),
        prefix: r.display_prefix.clone(),
        created_at: r.created_at.to_rfc3339(),
        revoked_at: r.revoked_at.map(|t| t.to_rfc3339()),
    }
}

fn project_view(p: &Project) -> ProjectView {
    ProjectView {
        id: p.id.to_string(),
        name: p.name.clone(),
        created_at: p.created_at.to_rfc3339(),
    }
}

/// Who the key belongs to. Answered from the authentication alone (no storage read on a cached
/// key): the cheapest authenticated route, used by health probes of clients and by benchmarks.
pub(crate) async fn whoami(Auth(caller): Auth) -> Json<Whoami> {
    Json(Whoami {
        project_id: caller.project_id.to_string(),
        api_key_id: caller.key_id.to_string(),
    })
}

pub(crate) async fn project_current(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(project_view(
        &state.app.project_current(&caller).await?,
    )))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = state.app.api_key_list(&caller.project_id).await?;
    Ok(Json(ApiKeyList {
        items: keys.iter().map(key_view).collect(),
    }))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(req): Body<ApiKeyCreate>,
) -> Result<(StatusCode, Json<ApiKeyCreated>), ApiError> {
    let issued = state
        .app
        .api_key_create(&caller.project_id, &req.name)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreated {
            view: key_view(&issued.record),
            key: issued.key.expose_secret().to_owned(),
        }),
    ))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    state.app.api_key_revoke(&caller.project_id, &id).await?;
    Ok(Json(Deleted { id, deleted: true }))
}
