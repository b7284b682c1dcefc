//! Proxy calls and the execution log on the wire: `POST …/{sid}/proxy_execute` (CONTRACT.md
//! §3.12, A.15), the session-less `POST /tools/execute/proxy`, and `GET …/{sid}/executions`
//! (our extension). Parse, call the app, convert: a binary response body becomes a `data:`
//! URL in `binary_data` (this server keeps no blob store to point at).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use toolrouter_api::catalog::Paginated;
use toolrouter_api::execution::ExecutionLogItem;
use toolrouter_api::proxy::{
    AccountProxyRequest, ProxyBinaryBody, ProxyBinaryData, ProxyParameter, ProxyResponse,
    SessionProxyRequest,
};
use toolrouter_app::execution_log::Execution;
use toolrouter_app::proxy::{
    ProxyCall, ProxyResult, binary_body, data_url, parameter_in, parameter_text,
};

use crate::extract::{Auth, Body};
use crate::query::Params;
use crate::{ApiError, AppState, views};

fn call(
    endpoint: String,
    method: String,
    body: Option<serde_json::Value>,
    binary: Option<ProxyBinaryBody>,
    parameters: Option<Vec<ProxyParameter>>,
) -> Result<ProxyCall, ApiError> {
    let binary_body = match binary {
        None => None,
        Some(b) => Some(binary_body(
            b.base64.as_deref(),
            b.url.as_deref(),
            b.content_type,
        )?),
    };
    let parameters = parameters
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            Ok((
                p.name,
                parameter_text(&p.value),
                parameter_in(i, &p.location)?,
            ))
        })
        .collect::<Result<Vec<_>, toolrouter_app::AppError>>()?;
    Ok(ProxyCall {
        endpoint,
        method,
        // `null` is no body.
        body: body.filter(|b| !b.is_null()),
        binary_body,
        parameters,
    })
}

fn response(r: ProxyResult) -> ProxyResponse {
    let headers: BTreeMap<String, String> = r.headers.into_iter().collect();
    let binary_data = r.binary.map(|(bytes, content_type)| ProxyBinaryData {
        url: data_url(&bytes, &content_type),
        size: bytes.len() as u64,
        content_type,
        expires_at: None,
    });
    ProxyResponse {
        result_type: "completed".to_owned(),
        status: r.status,
        data: r.data,
        headers,
        binary_data,
    }
}

/// `POST /tool_router/session/{id}/proxy_execute`
pub(crate) async fn session_proxy(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(req): Body<SessionProxyRequest>,
) -> Result<Json<ProxyResponse>, ApiError> {
    let run = call(
        req.endpoint,
        req.method,
        req.body,
        req.binary_body,
        req.parameters,
    )?;
    let result = state
        .app
        .session_proxy_execute(&caller, &id, &req.toolkit_slug, run)
        .await?;
    Ok(Json(response(result)))
}

/// `POST /tools/execute/proxy`
pub(crate) async fn account_proxy(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(req): Body<AccountProxyRequest>,
) -> Result<Json<ProxyResponse>, ApiError> {
    let run = call(
        req.endpoint,
        req.method,
        req.body,
        req.binary_body,
        req.parameters,
    )?;
    let account = req.connected_account_id.unwrap_or_default();
    let result = state
        .app
        .proxy_execute_account(&caller, &account, run)
        .await?;
    Ok(Json(response(result)))
}

fn item(r: &Execution) -> ExecutionLogItem {
    ExecutionLogItem {
        log_id: r.log_id.clone(),
        session_id: r.session_id.clone(),
        user_id: r.user_id.clone(),
        tool_slug: r.tool_slug.clone(),
        connected_account_id: r.connected_account_id.clone(),
        successful: r.successful,
        error: r.error.clone(),
        duration_ms: r.duration_ms,
        arguments: r.arguments.clone(),
        created_at: r.created_at.to_rfc3339(),
    }
}

/// `GET /tool_router/session/{id}/executions?limit&cursor`
pub(crate) async fn executions(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Paginated<ExecutionLogItem>>, ApiError> {
    let page = state
        .app
        .session_executions(&caller, &id, &params.page()?)
        .await?;
    Ok(Json(views::page(page, item)))
}
