//! Auth configs, connected accounts, connect links and direct tool execution as the API shows
//! them (Composio v3 / v3.1 shapes: CONTRACT.md §3.4, §4.14, §8, A.14, A.17, A.18).
//!
//! Credentials appear only masked (`client_secret: "********"`, `access_token: "gho_********"`);
//! the one secret a response carries is a link's own token, to the caller that created it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::AuthFieldInfo;

/// `{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolkitSlug {
    pub slug: String,
}

/// `{slug, logo}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolkitSlugLogo {
    pub slug: String,
    pub logo: String,
}

/// A list of strings, or one string (space- or comma-separated), as clients send scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            StringOrList::One(s) => s
                .split([',', ' '])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect(),
            StringOrList::Many(v) => v,
        }
    }
}

/// `POST /api/v3.1/auth_configs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthConfigCreate {
    pub toolkit: ToolkitSlug,
    #[serde(default)]
    pub auth_config: Option<AuthConfigCreateBody>,
}

/// The `auth_config` of a create request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthConfigCreateBody {
    /// `use_composio_managed_auth` or `use_custom_auth`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "authScheme", alias = "auth_scheme")]
    pub auth_scheme: Option<String>,
    /// `client_id`, `client_secret`, `scopes`, or a scheme's fields.
    #[serde(default)]
    pub credentials: Option<Map<String, Value>>,
    #[serde(default)]
    pub scopes: Option<StringOrList>,
}

/// Response of a create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthConfigCreated {
    pub toolkit: ToolkitSlug,
    pub auth_config: AuthConfigSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthConfigSummary {
    pub id: String,
    pub auth_scheme: String,
    pub is_composio_managed: bool,
    pub restrict_to_following_tools: Vec<String>,
}

/// `PATCH /api/v3.1/auth_configs/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthConfigUpdate {
    /// `custom` or `default`; informational.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub credentials: Option<Map<String, Value>>,
    #[serde(default)]
    pub scopes: Option<StringOrList>,
}

/// `tool_access_config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolAccessConfig {
    pub tools_available_for_execution: Vec<String>,
    pub tools_for_connected_account_creation: Vec<String>,
}

/// An auth config in listings and `GET /api/v3.1/auth_configs/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthConfigView {
    pub id: String,
    /// The same as `id` (older clients read it).
    pub uuid: String,
    pub name: String,
    pub no_of_connections: u64,
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// `default` (managed) or `custom`.
    #[serde(rename = "type")]
    pub kind: String,
    pub toolkit: ToolkitSlugLogo,
    pub auth_scheme: String,
    pub is_composio_managed: bool,
    /// Settings, secret ones masked.
    pub credentials: Map<String, Value>,
    /// What a user supplies when connecting.
    pub expected_input_fields: Vec<AuthFieldInfo>,
    pub restrict_to_following_tools: Vec<String>,
    pub tool_access_config: ToolAccessConfig,
    pub is_enabled_for_tool_router: bool,
    /// `api` or `tool_router` (created by account selection).
    pub created_by: String,
    pub created_at: String,
    pub last_updated_at: String,
}

/// `{success: true}` (deletes and status changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Success {
    pub success: bool,
}

/// `PATCH /api/v3.1/connected_accounts/{id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStatusChange {
    pub enabled: bool,
}

/// `auth_config` inside a connected account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAuthConfig {
    pub id: String,
    pub auth_scheme: String,
    pub is_composio_managed: bool,
    pub is_disabled: bool,
}

/// `state`: `{authScheme, val: {status, …}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountState {
    #[serde(rename = "authScheme")]
    pub auth_scheme: String,
    pub val: Map<String, Value>,
}

/// A connected account (A.17): polled by `wait_for_connection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectedAccountView {
    pub id: String,
    pub user_id: String,
    /// `INITIALIZING | INITIATED | ACTIVE | FAILED | EXPIRED | INACTIVE | REVOKED`.
    pub status: String,
    pub status_reason: Option<String>,
    pub toolkit: ToolkitSlug,
    pub auth_config: AccountAuthConfig,
    #[serde(rename = "authScheme")]
    pub auth_scheme: String,
    pub alias: Option<String>,
    pub state: AccountState,
    /// Deprecated duplicate of `state.val`.
    pub data: Map<String, Value>,
    /// Non-secret connection values.
    pub params: Map<String, Value>,
    pub is_disabled: bool,
    /// Absent rather than null: the TS SDK wants a string or nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_request_endpoint: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/v3.1/connected_accounts/link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCreate {
    pub auth_config_id: String,
    pub user_id: String,
    #[serde(default)]
    pub callback_url: Option<String>,
    #[serde(default)]
    pub alias: Option<String>,
}

/// Response of a link: where to send the user, and the account to poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCreated {
    pub link_token: String,
    pub redirect_url: String,
    pub expires_at: String,
    pub connected_account_id: String,
}

/// `POST /api/v3.1/connected_accounts/{id}/refresh` (body optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRefresh {
    /// Where the connect page sends the user afterwards.
    #[serde(default, alias = "callback_url")]
    pub redirect_url: Option<String>,
}

/// Response of a refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRefreshed {
    pub id: String,
    pub status: String,
    pub redirect_url: Option<String>,
}

/// `GET` / `PUT /api/v3.1/project/callback_urls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackUrls {
    pub urls: Vec<String>,
}

/// `POST /api/v3.1/tools/execute/{slug}`. Unset fields are left out when sent, as the SDKs
/// do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolExecute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Deprecated spelling of `user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Natural-language input; not supported (toolrouter runs no model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Result of a direct execution: a provider failure is `successful: false`, never an HTTP error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolExecuted {
    pub data: Value,
    pub error: Option<String>,
    pub successful: bool,
    /// Read as empty when absent, so older answers still decode.
    #[serde(default)]
    pub log_id: String,
    #[serde(default)]
    pub session_info: Option<Value>,
}
