//! Using a Tool Router session on the wire: `POST …/{sid}/execute` (CONTRACT.md §4.7, A.12),
//! `POST …/{sid}/execute_meta` (A.13), `POST …/{sid}/search` (A.11) and `POST …/{sid}/link`
//! (A.14). Every rule is the app's ([`toolrouter_app::session_exec`]); this only parses bodies
//! (custom tools re-sent in `experimental` go to search, also through COMPOSIO_SEARCH_TOOLS)
//! and always answers a tool that ran with `{result_type, data, error, log_id}`.
use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use std::collections::BTreeMap;
use toolrouter_api::session::AttachExperimental;

use toolrouter_api::session_exec::{
    ExecuteMetaRequest, ExecuteRequest, ExecuteResponse, InputRequired, LinkRequest, LinkResponse,
    SearchRequest, ToolRun, UserInputResponse,
};
use toolrouter_app::AppError;
use toolrouter_app::approval::{AnswerAction, ApprovalAnswer, Outcome, UserAnswer};
use toolrouter_app::execute::ToolResult;
use toolrouter_app::session::CustomTools;
use toolrouter_app::session_exec::{SearchQuery, SessionExecution};
use toolrouter_core::ErrorCode;

use crate::extract::{Auth, Body};
use crate::{ApiError, AppState};

/// The §4.7 envelope of a result; `data` is always an object.
pub(crate) fn execute_response(r: ToolResult) -> ExecuteResponse {
    let data = match r.data {
        Value::Object(_) => r.data,
        Value::Null => Value::Object(Default::default()),
        other => serde_json::json!({ "response_data": other }),
    };
    if r.successful {
        ExecuteResponse::Completed(ToolRun {
            data,
            error: None,
            log_id: r.log_id,
            instant_charge: None,
        })
    } else {
        ExecuteResponse::Failed(ToolRun {
            data,
            error: Some(r.error.unwrap_or_else(|| "The tool failed.".to_owned())),
            log_id: r.log_id,
            instant_charge: None,
        })
    }
}

/// The §4.7 envelope of an execute outcome: a result, or the questions to answer first.
fn outcome_response(outcome: Outcome) -> ExecuteResponse {
    match outcome {
        Outcome::Ran(result) => execute_response(*result),
        Outcome::InputRequired {
            questions,
            request_state,
        } => ExecuteResponse::InputRequired(InputRequired {
            input_requests: Value::Object(
                questions
                    .into_iter()
                    .map(|q| {
                        let request = serde_json::json!({
                            "type": "elicitation",
                            "mode": "form",
                            "message": q.message,
                            "requested_schema": q.requested_schema,
                        });
                        (q.id, request)
                    })
                    .collect(),
            ),
            request_state: Some(request_state),
        }),
    }
}

/// The answers a call came back with (`input_responses` + `request_state`), if any.
fn approval_answer(
    responses: Option<BTreeMap<String, UserInputResponse>>,
    request_state: Option<String>,
) -> Result<Option<ApprovalAnswer>, AppError> {
    let Some(responses) = responses else {
        return Ok(None);
    };
    let mut answer = ApprovalAnswer {
        request_state,
        ..ApprovalAnswer::default()
    };
    for (id, r) in responses {
        let action = match r.action.trim() {
            "accept" => AnswerAction::Accept,
            "decline" => AnswerAction::Decline,
            "cancel" => AnswerAction::Cancel,
            other => {
                return Err(AppError::new(
                    ErrorCode::ValidationFailed,
                    format!(
                        "`input_responses.{id}.action`: must be accept, decline or cancel, got `{other}`"
                    ),
                ));
            }
        };
        answer.responses.insert(
            id,
            UserAnswer {
                action,
                content: r.content,
            },
        );
    }
    Ok(Some(answer))
}

/// The custom tools a call re-sends in `experimental` (sessions do not store them).
fn custom_tools(experimental: Option<&AttachExperimental>) -> CustomTools {
    experimental
        .map(|e| {
            crate::session_wire::custom_tools(e.custom_tools.as_ref(), e.custom_toolkits.as_ref())
        })
        .unwrap_or_default()
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
        workbench_offload: req.enable_auto_workbench_offload == Some(true),
        approved: false,
    };
    let answer = approval_answer(req.input_responses, req.request_state)?;
    let custom = custom_tools(req.experimental.as_ref());
    let outcome = state
        .app
        .session_execute_custom(&caller, &id, run, false, &custom, answer)
        .await?;
    Ok(Json(outcome_response(outcome)))
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
        workbench_offload: false,
        approved: false,
    };
    let answer = approval_answer(req.input_responses, req.request_state)?;
    let custom = custom_tools(req.experimental.as_ref());
    let outcome = state
        .app
        .session_execute_custom(&caller, &id, run, true, &custom, answer)
        .await?;
    Ok(Json(outcome_response(outcome)))
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
    let custom = custom_tools(req.experimental.as_ref());
    Ok(Json(
        state
            .app
            .session_search_custom(&caller, &id, &queries, &custom)
            .await?,
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
        experimental: None,
    }))
}
