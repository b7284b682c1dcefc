//! Wire types of using a Tool Router session: `POST …/{sid}/execute` (A.12),
//! `POST …/{sid}/execute_meta` (A.13), `POST …/{sid}/search` (A.11) and `POST …/{sid}/link`
//! (A.14), CONTRACT.md §4.6–§4.8. One definition for both sides: the server writes them and
//! the Rust client reads them.
//!
//! Requests ignore unknown keys (the SDKs add new ones). Responses are read leniently (missing
//! lists default to empty, an execute answer without `result_type` is decided by `error` as the
//! TypeScript SDK does) because the same client also talks to Composio, whose answers carry
//! more or fewer optional keys than ours.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::session::AttachExperimental;

/// An answer to one `input_required` question (A.12 `UserInputResponse`, the MCP elicitation
/// result shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInputResponse {
    /// `accept`, `decline` or `cancel`.
    pub action: String,
    /// With `accept`: fields matching the question's `requested_schema`, e.g.
    /// `{"decision": "approve"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
}

/// The body of `POST …/{sid}/execute`. Unknown keys are ignored (the SDKs add new ones).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecuteRequest {
    pub tool_slug: String,
    /// Absent or `null` means `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_workbench_offload: Option<bool>,
    /// Answers to an `input_required` answer, keyed by its question ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<BTreeMap<String, UserInputResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// The caller's custom tools (not stored by the server, so re-sent with each call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<AttachExperimental>,
}

/// The answer of `/execute` and `/execute_meta` (A.12): one of four shapes, told apart by
/// `result_type`.
///
/// A tool that ran (`completed` / `failed`) always carries all four of `result_type`, `data`,
/// `error` and `log_id`: TypeScript needs `error` present and `log_id`, Python needs
/// `result_type` (§4.7).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result_type", rename_all = "snake_case")]
pub enum ExecuteResponse {
    /// The tool ran and succeeded.
    Completed(ToolRun),
    /// The tool ran and failed, or the user did not approve it.
    Failed(ToolRun),
    /// The call needs the user's input before it runs; nothing ran.
    InputRequired(InputRequired),
    /// A hook blocked the call (Python SDK 0.30 hooks).
    Blocked(Blocked),
}

impl<'de> Deserialize<'de> for ExecuteResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(tag = "result_type", rename_all = "snake_case")]
        enum Tagged {
            Completed(ToolRun),
            Failed(ToolRun),
            InputRequired(InputRequired),
            Blocked(Blocked),
        }
        let mut value = Value::deserialize(deserializer)?;
        // Older answers have no `result_type`: `error == null` decides, as in the TS SDK.
        if let Value::Object(o) = &mut value
            && o.get("result_type").is_none_or(Value::is_null)
        {
            let failed = o.get("error").is_some_and(|e| !e.is_null());
            let kind = if failed { "failed" } else { "completed" };
            o.insert("result_type".to_owned(), Value::String(kind.to_owned()));
        }
        Ok(
            match Tagged::deserialize(value).map_err(D::Error::custom)? {
                Tagged::Completed(r) => ExecuteResponse::Completed(r),
                Tagged::Failed(r) => ExecuteResponse::Failed(r),
                Tagged::InputRequired(r) => ExecuteResponse::InputRequired(r),
                Tagged::Blocked(r) => ExecuteResponse::Blocked(r),
            },
        )
    }
}

/// `completed` / `failed`: what the tool returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolRun {
    /// Always an object when the server sends it.
    #[serde(default)]
    pub data: Value,
    /// `null` on success; always written.
    #[serde(default)]
    pub error: Option<String>,
    /// The execution log id; always written by the server (empty when an answer lacked it).
    #[serde(default)]
    pub log_id: String,
    /// `{amount, currency, charged_by}` when the session asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant_charge: Option<Value>,
}

/// `input_required`: the questions, and the state to send back with the answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRequired {
    /// `{id: {type: "elicitation", mode: "form", message, requested_schema}}`.
    #[serde(default)]
    pub input_requests: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

/// `blocked`: which hook stopped the call, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocked {
    /// `{type, hook_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_results: Option<Value>,
}

/// The body of `POST …/{sid}/execute_meta` (A.13).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecuteMetaRequest {
    /// One of the `COMPOSIO_*` meta tool slugs.
    pub slug: String,
    /// Absent or `null` means `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<BTreeMap<String, UserInputResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<AttachExperimental>,
}

/// One query of `POST …/{sid}/search` (A.11).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQueryBody {
    /// The task to find tools for, e.g. "send an email".
    pub use_case: String,
    /// Hints as `key:value` pairs, e.g. `"channel_name:general"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_fields: Option<String>,
}

/// The body of `POST …/{sid}/search` (A.11). TS also sends a top-level `toolkits`, which the
/// spec does not define; it is accepted and ignored, like `model` and `search_strategy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// 1 to 7 queries.
    pub queries: Vec<SearchQueryBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `auto` or `tool_search`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<AttachExperimental>,
}

/// The answer of a search (A.11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub success: bool,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub results: Vec<SearchResult>,
    #[serde(default)]
    pub toolkit_connection_statuses: Vec<ToolkitConnectionStatus>,
    /// Each found tool once, by slug.
    #[serde(default)]
    pub tool_schemas: BTreeMap<String, SearchToolSchema>,
    #[serde(default)]
    pub next_steps_guidance: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SearchSession>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_info: Option<SearchTimeInfo>,
}

/// The tools found for one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// 1-based position of the query.
    pub index: u32,
    pub use_case: String,
    #[serde(default)]
    pub primary_tool_slugs: Vec<String>,
    #[serde(default)]
    pub related_tool_slugs: Vec<String>,
    #[serde(default)]
    pub toolkits: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_guidance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_plan_steps: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_pitfalls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_workbench_snippets: Option<Vec<WorkbenchSnippet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_plan_usecase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<BTreeMap<String, Vec<String>>>,
}

/// A workbench code sample attached to a search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkbenchSnippet {
    pub description: String,
    pub code: String,
}

/// Whether the user can use a toolkit the search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolkitConnectionStatus {
    pub toolkit: String,
    #[serde(default)]
    pub description: String,
    pub has_active_connection: bool,
    #[serde(default)]
    pub status_message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_details: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_user_info: Option<Value>,
    /// `PRIVATE` or `SHARED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// `{id, alias?, user_info?, status, created_at, is_default, account_type?}` each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<Value>>,
    /// `required` when the agent must name the account to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_selection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant_account: Option<Value>,
}

/// A found tool's schema, or where to fetch it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchToolSchema {
    pub toolkit: String,
    pub tool_slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(
        default,
        rename = "hasFullSchema",
        skip_serializing_if = "Option::is_none"
    )]
    pub has_full_schema: Option<bool>,
    /// `{tool: "COMPOSIO_GET_TOOL_SCHEMAS", args: {tool_slugs}, message?}`.
    #[serde(default, rename = "schemaRef", skip_serializing_if = "Option::is_none")]
    pub schema_ref: Option<Value>,
}

/// The search session the agent should pass back on its next search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchSession {
    pub id: String,
    pub generate_id: bool,
    pub instructions: String,
}

/// The server's clock, so the agent can reason about dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchTimeInfo {
    pub current_time_utc: String,
    pub current_time_utc_epoch_seconds: f64,
    pub message: String,
}

/// Who may use a `SHARED` connected account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AclConfigForShared {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_all_users: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_user_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_allowed_user_ids: Option<Vec<String>>,
}

/// `experimental` of a link: the account's sharing model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkExperimental {
    /// `PRIVATE` or `SHARED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl_config_for_shared: Option<AclConfigForShared>,
}

/// The body of `POST …/{sid}/link` (A.14).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkRequest {
    pub toolkit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<LinkExperimental>,
}

/// The answer of `POST …/{sid}/link` (A.14): the page to send the user to, and the account
/// to poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkResponse {
    #[serde(default)]
    pub link_token: String,
    pub redirect_url: String,
    pub connected_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn execute_answers_round_trip_on_result_type() {
        for wire in [
            json!({"result_type": "completed", "data": {"a": 1}, "error": null, "log_id": "log_1"}),
            json!({"result_type": "failed", "data": {}, "error": "boom", "log_id": "log_2"}),
            json!({"result_type": "input_required",
                   "input_requests": {"q1": {"type": "elicitation"}}, "request_state": "s"}),
            json!({"result_type": "blocked", "reason": {"type": "hook", "hook_id": "h"},
                   "message": "no"}),
        ] {
            let read: ExecuteResponse = serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(serde_json::to_value(&read).unwrap(), wire);
        }
    }

    #[test]
    fn execute_answers_without_result_type_are_decided_by_error() {
        let read = |v| serde_json::from_value::<ExecuteResponse>(v).unwrap();
        assert!(matches!(
            read(json!({"data": {}, "error": null})),
            ExecuteResponse::Completed(ToolRun { ref log_id, .. }) if log_id.is_empty()
        ));
        assert!(matches!(
            read(json!({"data": {}, "error": "x", "log_id": "l"})),
            ExecuteResponse::Failed(ToolRun { ref error, .. }) if error.as_deref() == Some("x")
        ));
        let unknown = serde_json::from_value::<ExecuteResponse>(json!({"result_type": "odd"}));
        assert!(unknown.unwrap_err().to_string().contains("odd"));
    }
}
