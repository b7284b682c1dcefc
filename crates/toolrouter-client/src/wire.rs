//! Wire types the client needs that `toolrouter-api` does not have (yet): the execute_meta
//! body (A.13), every answer of execute (A.12, including `input_required` and `blocked`),
//! search (A.11) and link (A.14). They follow Appendix A of CONTRACT.md field for field and
//! serialise both ways, so the server can use them too; they belong in `toolrouter-api` and
//! live here only until they move there.
//!
//! Responses are read leniently (missing lists default to empty) because the same client also
//! talks to Composio, whose answers carry more or fewer optional keys than ours.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use toolrouter_api::session::AttachExperimental;

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

/// `POST …/{sid}/execute_meta` (A.13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaExecuteRequest {
    /// One of the `COMPOSIO_*` meta tool slugs.
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<BTreeMap<String, UserInputResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<AttachExperimental>,
}

/// The answer of execute and execute_meta: `completed`, `failed`, `input_required` or
/// (Python 0.30 hooks) `blocked`, flattened into one struct.
///
/// `result_type`, `data`, `error` and `log_id` are always written, because the TypeScript SDK
/// needs `error` present and the Python SDK needs `result_type` (CONTRACT.md §4.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecuteResponse {
    /// `completed`, `failed`, `input_required` or `blocked`. Composio's older answers lack it;
    /// then `error == null` decides.
    #[serde(default)]
    pub result_type: Option<String>,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub log_id: Option<String>,
    /// `{amount, currency, charged_by}` when the session asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant_charge: Option<Value>,
    /// `input_required`: the questions, keyed by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<Value>,
    /// `input_required`: send back unchanged with the answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// `blocked`: `{type, hook_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Value>,
    /// `blocked`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One query of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// The task to find tools for, e.g. "send an email".
    pub use_case: String,
    /// Hints as `key:value` pairs, e.g. `"channel_name:general"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_fields: Option<String>,
}

/// `POST …/{sid}/search` (A.11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// 1 to 7 queries.
    pub queries: Vec<SearchQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `auto` or `tool_search`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<AttachExperimental>,
}

/// The answer of a search.
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchSession {
    pub id: String,
    pub generate_id: bool,
    pub instructions: String,
}

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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkExperimental {
    /// `PRIVATE` or `SHARED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl_config_for_shared: Option<AclConfigForShared>,
}

/// `POST …/{sid}/link` (A.14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRequest {
    pub toolkit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<LinkExperimental>,
}

/// The answer of a link: the page to send the user to, and the account to poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkResponse {
    #[serde(default)]
    pub link_token: String,
    pub redirect_url: String,
    pub connected_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<Value>,
}
