//! Using a Tool Router session on the wire: `POST …/{sid}/execute` (CONTRACT.md §4.7, A.12),
//! `POST …/{sid}/execute_meta` (A.13), `POST …/{sid}/search` (A.11) and `POST …/{sid}/link`
//! (A.14). Every rule is the app's ([`toolrouter_app::session_exec`]); this only parses bodies
//! and always answers a tool that ran with `{result_type, data, error, log_id}`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use toolrouter_api::session_exec::{
    ExecuteMetaRequest, ExecuteRequest, ExecuteResponse, LinkRequest, LinkResponse, SearchRequest,
};
use toolrouter_app::execute::ToolResult;
use toolrouter_app::session_exec::{SearchQuery, SessionExecution};

use crate::extract::{Auth, Body};
use crate::{ApiError, AppState};

/// The §4.7 envelope of a result; `data` is always an object.
pub(crate) fn execute_response(r: ToolResult) -> ExecuteResponse {
    let data = match r.data {
        Value::Object(_) => r.data,
        Value::Null => Value::Object(Default::default()),
        other => serde_json::json!({ "response_data": other }),
    };
    ExecuteResponse {
        result_type: if r.successful { "completed" } else { "failed" }.to_owned(),
        error: if r.successful {
            None
        } else {
            Some(r.error.unwrap_or_else(|| "The tool failed.".to_owned()))
        },
        data,
        log_id: r.log_id,
    }
}

/// `POST /tool_router/session/{id}/execute`
pub(crate) async fn execute(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(req): Body<ExecuteRequest>,
) -> Result<Json<ExecuteResponse>, ApiError> {
    let run = SessionExecution {
        tool_slug: req.tool_slug,
        arguments: req.arguments.unwrap_or(Value::Null),
        account: req.account,
    };
    let result = state.app.session_execute(&caller, &id, run, false).await?;
    Ok(Json(execute_response(result)))
}

/// `POST /tool_router/session/{id}/execute_meta`
pub(crate) async fn execute_meta(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(req): Body<ExecuteMetaRequest>,
) -> Result<Json<ExecuteResponse>, ApiError> {
    let run = SessionExecution {
        tool_slug: req.slug,
        arguments: req.arguments.unwrap_or(Value::Null),
        account: None,
    };
    let result = state.app.session_execute(&caller, &id, run, true).await?;
    Ok(Json(execute_response(result)))
}

/// `POST /tool_router/session/{id}/search`
pub(crate) async fn search(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(req): Body<SearchRequest>,
) -> Result<Json<Value>, ApiError> {
    let queries: Vec<SearchQuery> = req
        .queries
        .into_iter()
        .map(|q| SearchQuery {
            use_case: q.use_case,
            known_fields: q.known_fields,
        })
        .collect();
    Ok(Json(
        state.app.session_search(&caller, &id, &queries).await?,
    ))
}

/// `POST /tool_router/session/{id}/link`
pub(crate) async fn link(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(req): Body<LinkRequest>,
) -> Result<Json<LinkResponse>, ApiError> {
    let issued = state
        .app
        .session_link(&caller, &id, &req.toolkit, req.alias, req.callback_url)
        .await?;
    Ok(Json(LinkResponse {
        link_token: secrecy::ExposeSecret::expose_secret(&issued.link_token).to_owned(),
        redirect_url: issued.redirect_url,
        connected_account_id: issued.account.id.to_string(),
    }))
}
