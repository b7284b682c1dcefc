//! Wire types of proxy calls: `POST /api/v3.1/tool_router/session/{sid}/proxy_execute`
//! (CONTRACT.md §3.12, A.15) and the session-less `POST /api/v3.1/tools/execute/proxy`, which
//! names a connected account instead of a toolkit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One extra header or query parameter. The SDKs send `type`; Composio's older proxy API (and
/// the Python SDK's docs) spell it `in`, so both are read. Python's default is `header`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyParameter {
    pub name: String,
    /// Any JSON scalar; sent as its text.
    pub value: Value,
    #[serde(rename = "type", alias = "in", default = "header")]
    pub location: String,
}

fn header() -> String {
    "header".to_owned()
}

/// `binary_body`: bytes to send, inline (`base64`) or to fetch (`url`, refused by this server).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyBinaryBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// The body of `POST …/{sid}/proxy_execute` (A.15). Unknown keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionProxyRequest {
    pub toolkit_slug: String,
    pub endpoint: String,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_body: Option<ProxyBinaryBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ProxyParameter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_connection_data: Option<Value>,
}

/// The body of `POST /api/v3.1/tools/execute/proxy`: the account says which toolkit (and user).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountProxyRequest {
    pub endpoint: String,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_body: Option<ProxyBinaryBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ProxyParameter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_connection_data: Option<Value>,
}

/// `binary_data` of a response: where the bytes are (a `data:` URL on this server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyBinaryData {
    pub url: String,
    pub content_type: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// `ProxyExecuteCompleted` (A.15): the proxied API's status, body and headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyResponse {
    /// Always `completed`.
    pub result_type: String,
    pub status: u16,
    /// The body as JSON; `null` when it is binary.
    pub data: Value,
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_data: Option<ProxyBinaryData>,
}
