//! Tool Router sessions on the wire: `/tool_router/session…` (CONTRACT.md §3–§4, A.1–A.10).
//! Bodies and queries are parsed here and translated by `session_wire`; every rule is the app's.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use toolrouter_api::catalog::{Paginated, Tool};
use toolrouter_api::session::{
    AttachRequest, ConfigHistoryItem, SessionDeleted, SessionRequest, SessionResponse,
    SessionToolkitItem,
};
use toolrouter_app::session::{NewSession, SessionPatch, SessionToolkitQuery};

use crate::extract::{Auth, Body};
use crate::origin::Origin;
use crate::query::Params;
use crate::session_wire as wire;
use crate::{ApiError, AppState, views};

/// `POST /tool_router/session`
pub(crate) async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    origin: Origin,
    Body(req): Body<SessionRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    let experimental = match &req.experimental {
        toolrouter_api::session::Nullable::Value(e) => Some(e),
        _ => None,
    };
    let new = NewSession {
        user_id: req.user_id.clone().unwrap_or_default(),
        change: wire::config_change(&req),
        direct_tools: wire::direct_tools_preset(&req)?,
        custom: wire::custom_tools(
            experimental.and_then(|e| e.custom_tools.as_ref()),
            experimental.and_then(|e| e.custom_toolkits.as_ref()),
        ),
    };
    let view = state.app.session_create(&caller, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(wire::session_response(&view, &origin)),
    ))
}

/// `GET /tool_router/session?user_id&limit&cursor` (a toolrouter extension: the SDKs have no
/// listing).
pub(crate) async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    origin: Origin,
    params: Params,
) -> Result<Json<Paginated<SessionResponse>>, ApiError> {
    let page = state
        .app
        .session_list(&caller, params.get("user_id"), &params.page()?)
        .await?;
    Ok(Json(wire::session_page(page, &origin)))
}

/// `GET /tool_router/session/{id}`
pub(crate) async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<SessionResponse>, ApiError> {
    let view = state.app.session_get(&caller, &id).await?;
    Ok(Json(wire::session_response(&view, &origin)))
}

/// `PATCH /tool_router/session/{id}`
pub(crate) async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    origin: Origin,
    Path(id): Path<String>,
    Body(req): Body<SessionRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let patch = SessionPatch {
        change: wire::config_change(&req),
        expected_version: req.expected_config_version,
        user_id: req.user_id.clone(),
        direct_tools: wire::direct_tools_preset(&req)?,
    };
    let view = state.app.session_update(&caller, &id, &patch).await?;
    Ok(Json(wire::session_response(&view, &origin)))
}

/// `DELETE /tool_router/session/{id}`
pub(crate) async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<SessionDeleted>, ApiError> {
    let id = state.app.session_delete(&caller, &id).await?;
    Ok(Json(SessionDeleted {
        session_id: id.to_string(),
        deleted: true,
    }))
}

/// `POST /tool_router/session/{id}/attach`
pub(crate) async fn attach(
    State(state): State<AppState>,
    Auth(caller): Auth,
    origin: Origin,
    Path(id): Path<String>,
    Body(req): Body<AttachRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let experimental = req.experimental.as_ref();
    let custom = wire::custom_tools(
        experimental.and_then(|e| e.custom_tools.as_ref()),
        experimental.and_then(|e| e.custom_toolkits.as_ref()),
    );
    let view = state.app.session_attach(&caller, &id, &custom).await?;
    Ok(Json(wire::session_response(&view, &origin)))
}

/// `GET /tool_router/session/{id}/config_history?limit&cursor`
pub(crate) async fn config_history(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Paginated<ConfigHistoryItem>>, ApiError> {
    let page = state
        .app
        .session_config_history(&caller, &id, &params.page()?)
        .await?;
    Ok(Json(views::page(page, wire::history_item)))
}

/// `GET /tool_router/session/{id}/tools?limit&cursor`
pub(crate) async fn tools(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Paginated<Tool>>, ApiError> {
    let page = state
        .app
        .session_tools(&caller, &id, &params.page()?)
        .await?;
    Ok(Json(views::page(page, views::tool)))
}

/// `GET /tool_router/session/{id}/toolkits?limit&cursor&toolkits&is_connected&search`
pub(crate) async fn toolkits(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Paginated<SessionToolkitItem>>, ApiError> {
    let query = SessionToolkitQuery {
        toolkits: params.list("toolkits"),
        connected: params.bool("is_connected")?,
        search: params.get("search").map(str::to_owned),
    };
    let page = state
        .app
        .session_toolkits(&caller, &id, &query, &params.page()?)
        .await?;
    Ok(Json(views::page(page, |t| {
        wire::toolkit_item(&state.app, t)
    })))
}
