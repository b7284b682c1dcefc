//! Wire types of running tools in a Tool Router session: `POST …/{sid}/execute` (A.12) and
//! `POST …/{sid}/execute_meta` (A.13), CONTRACT.md §4.7.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<Value>,
}

/// The answer of `/execute` and `/execute_meta` for a tool that ran: always all four keys
/// (TS needs `error` present and `log_id`, Python needs `result_type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecuteResponse {
    /// `completed` or `failed`.
    pub result_type: String,
    /// Always an object.
    pub data: Value,
    pub error: Option<String>,
    pub log_id: String,
}

/// The body of `POST …/{sid}/execute_meta` (A.13).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecuteMetaRequest {
    pub slug: String,
    /// Absent or `null` means `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<Value>,
}

/// One query of `POST …/{sid}/search` (A.11).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQueryBody {
    pub use_case: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_fields: Option<String>,
}

/// The body of `POST …/{sid}/search` (A.11). TS also sends a top-level `toolkits`, which the
/// spec does not define; it is accepted and ignored, like `model` and `search_strategy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub queries: Vec<SearchQueryBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<Value>,
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
    pub experimental: Option<Value>,
}

/// The answer of `POST …/{sid}/link` (A.14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkResponse {
    pub link_token: String,
    pub redirect_url: String,
    pub connected_account_id: String,
}
