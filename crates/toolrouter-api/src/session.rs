//! Tool Router sessions on the wire (CONTRACT.md A.1–A.10).
//!
//! Requests and responses spell the configuration differently, and both spellings are kept
//! here exactly: a request says `toolkits: {"enable": […]}` (or a bare list), the echo says
//! `config.toolkits: {"enabled": […]}`. Create (A.1) and update (A.4) bodies carry the same keys,
//! so they share [`SessionRequest`]; every key is [`Nullable`], because in an update `null`
//! means "remove the stored setting" while an absent key means "leave it". Unknown keys are
//! ignored, so newer SDKs that send more keep working.
//!
//! Several keys accept two shapes (a list or an object, a boolean or an object, a string or a
//! list). They decode through [`ListOr`], [`BoolOr`] and [`OneOrMany`], whose errors say which
//! shapes are accepted.

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A key that is absent, JSON `null`, or a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Nullable<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Nullable<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Reached only for keys that are present (`#[serde(default)]` covers absent ones).
        Ok(Option::<T>::deserialize(d)?.map_or(Nullable::Null, Nullable::Value))
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Absent | Nullable::Null => s.serialize_none(),
            Nullable::Value(v) => v.serialize(s),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn decode<T: DeserializeOwned, E: serde::de::Error>(v: Value) -> Result<T, E> {
    serde_json::from_value(v).map_err(E::custom)
}

/// A list of slugs (shorthand for `{"enable": [...]}`) or the full object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ListOr<T> {
    List(Vec<String>),
    Object(T),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for ListOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            v @ Value::Array(_) => decode(v).map(ListOr::List),
            v @ Value::Object(_) => decode(v).map(ListOr::Object),
            other => Err(D::Error::custom(format!(
                "expected a list of slugs or an object, got {}",
                kind(&other)
            ))),
        }
    }
}

/// A boolean (shorthand for `{"enable": b}`) or the full object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum BoolOr<T> {
    Bool(bool),
    Object(T),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for BoolOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(BoolOr::Bool(b)),
            v @ Value::Object(_) => decode(v).map(BoolOr::Object),
            other => Err(D::Error::custom(format!(
                "expected a boolean or an object, got {}",
                kind(&other)
            ))),
        }
    }
}

/// One string or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(OneOrMany::One(s)),
            v @ Value::Array(_) => decode(v).map(OneOrMany::Many),
            other => Err(D::Error::custom(format!(
                "expected a string or a list of strings, got {}",
                kind(&other)
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests: create (A.1), update (A.4), attach (A.7).

/// `toolkits`, an `instant` toolkit list, or one toolkit's `tools` entry: `enable` or `disable`
/// (plus, for `tools`, `tags`), and the tools needing approval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable: Option<Vec<String>>,
    /// Only in `tools` entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<ListOr<TagsRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Vec<String>>,
}

/// `tags`: annotation hints a tool must have (`enable`) or must not have (`disable`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManageConnectionsRequest {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub callback_url: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable_wait_for_connections: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable_connection_removal: Nullable<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkbenchRequest {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable_tool_execution: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable_proxy_execution: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub auto_offload_threshold: Nullable<f64>,
    /// `standard`, `medium`, `large` or `xlarge`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub sandbox_size: Nullable<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiAccountRequest {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub max_accounts_per_toolkit: Nullable<i64>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub require_explicit_selection: Nullable<bool>,
}

/// `proxy_execute`, `search`, `experimental.submit_feedback`: `{"enable": bool}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnableRequest {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable: Nullable<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecuteRequest {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enable_multi_execute: Nullable<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PreloadRequest {
    /// Tool slugs, or `"all"`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub tools: Nullable<OneOrMany>,
}

/// `instant` (Python) or `premium_usage` (TypeScript) when not `false`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstantRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<SelectionRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<BTreeMap<String, SelectionRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_instant_charge: Option<bool>,
    /// TypeScript's spelling of `return_instant_charge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_premium_charge: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_prices_in_search: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssistivePromptRequest {
    /// IANA time zone, e.g. `America/New_York`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub user_timezone: Nullable<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionsRequest {
    /// `allow_all`, `ask_every_call` or `ask_once_per_session`.
    pub default: String,
    /// By `TOOL_SLUG` (or `TOOL_SLUG:ca_…`): `always_allow`, `always_deny`, `ask_once`,
    /// `ask_always`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<BTreeMap<String, String>>,
}

/// An SDK-local custom tool (also a tool of a custom toolkit, without `extends_toolkit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomToolRequest {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends_toolkit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preload: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomToolkitRequest {
    pub slug: String,
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preload: Option<bool>,
    pub tools: Vec<CustomToolRequest>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentalRequest {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub assistive_prompt_config: Nullable<AssistivePromptRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_tools: Option<Vec<CustomToolRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_toolkits: Option<Vec<CustomToolkitRequest>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub permissions: Nullable<PermissionsRequest>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub link_url_overwrite: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub fast_mode: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub submit_feedback: Nullable<EnableRequest>,
    /// `deny` or `allow`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub no_elicitation_support_fallback: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_config_id: Nullable<String>,
}

/// `applies_to` of a hook: `"all"` or `{"toolkits": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HookScope {
    #[default]
    All,
    Toolkits(Vec<String>),
}

impl Serialize for HookScope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            HookScope::All => s.serialize_str("all"),
            HookScope::Toolkits(t) => BTreeMap::from([("toolkits", t)]).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for HookScope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Toolkits {
            toolkits: Vec<String>,
        }
        match Value::deserialize(d)? {
            Value::String(s) if s == "all" => Ok(HookScope::All),
            v @ Value::Object(_) => {
                decode::<Toolkits, _>(v).map(|t| HookScope::Toolkits(t.toolkits))
            }
            other => Err(D::Error::custom(format!(
                "expected \"all\" or {{\"toolkits\": [...]}}, got {}",
                match &other {
                    Value::String(s) => format!("\"{s}\""),
                    v => kind(v).to_owned(),
                }
            ))),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookHandlerRequest {
    /// `condition_check` or `prompt_injection_check`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// `block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// A Python 0.30 `hooks` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookRequest {
    /// `before_execute` or `after_execute`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub applies_to: HookScope,
    pub handler: HookHandlerRequest,
}

/// The body of `POST /tool_router/session` (A.1) and `PATCH /tool_router/session/{id}` (A.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionRequest {
    /// Required on create; on update only the session's own user is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub toolkits: Nullable<ListOr<SelectionRequest>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub auth_configs: Nullable<BTreeMap<String, String>>,
    /// Account ids per toolkit; a single id is read as a one-element list.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub connected_accounts: Nullable<BTreeMap<String, OneOrMany>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub instant: Nullable<BoolOr<InstantRequest>>,
    /// TypeScript's name for `instant`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub premium_usage: Nullable<BoolOr<InstantRequest>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub manage_connections: Nullable<BoolOr<ManageConnectionsRequest>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub tools: Nullable<BTreeMap<String, ListOr<SelectionRequest>>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub tags: Nullable<ListOr<TagsRequest>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub workbench: Nullable<WorkbenchRequest>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub proxy_execute: Nullable<BoolOr<EnableRequest>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub multi_account: Nullable<MultiAccountRequest>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub experimental: Nullable<ExperimentalRequest>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub preload: Nullable<PreloadRequest>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub search: Nullable<EnableRequest>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub execute: Nullable<ExecuteRequest>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub hooks: Nullable<Vec<HookRequest>>,
    /// `direct_tools`: the SDKs' preset, applied by the server for clients that send the name
    /// instead of its expansion (toolrouter extension; create only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_preset: Option<String>,
    /// Update only: refuse (409) unless the session is still at this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_config_version: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttachExperimental {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_tools: Option<Vec<CustomToolRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_toolkits: Option<Vec<CustomToolkitRequest>>,
}

/// The body of `POST /tool_router/session/{id}/attach` (A.7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttachRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<AttachExperimental>,
}

// ---------------------------------------------------------------------------------------------
// Responses: the session view (A.2/A.3/A.5/A.7), delete (A.6), history (A.8), toolkits (A.10).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServer {
    /// `http` (Streamable HTTP).
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// An allowlist (`enabled`) or denylist (`disabled`), with approvals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionEcho {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagsEcho>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsEcho {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManageConnectionsEcho {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    pub enable_wait_for_connections: bool,
    pub enable_connection_removal: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkbenchEcho {
    pub enable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_execution_enabled: Option<bool>,
    pub proxy_execution_enabled: bool,
    pub auto_offload_threshold: u64,
    pub sandbox_size: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiAccountEcho {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_accounts_per_toolkit: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_explicit_selection: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnableEcho {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecuteEcho {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_multi_execute: Option<bool>,
}

/// `preload.tools`: slugs, or the word `"all"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PreloadToolsEcho {
    List(Vec<String>),
    Word(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreloadEcho {
    pub tools: PreloadToolsEcho,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstantEchoSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<SelectionEcho>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<BTreeMap<String, SelectionEcho>>,
    pub return_instant_charge: bool,
    pub return_prices_in_search: bool,
}

/// `false`, or the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InstantEcho {
    Off(bool),
    On(InstantEchoSettings),
}

/// The session configuration as responses show it (`PostV31ToolRouterSessionConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionConfigEcho {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<SelectionEcho>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_configs: Option<BTreeMap<String, String>>,
    pub instant: InstantEcho,
    pub manage_connections: ManageConnectionsEcho,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<BTreeMap<String, SelectionEcho>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagsEcho>,
    pub workbench: WorkbenchEcho,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_account: Option<MultiAccountEcho>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_execute: Option<EnableEcho>,
    pub preload: PreloadEcho,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_accounts: Option<BTreeMap<String, Vec<String>>>,
    pub search: EnableEcho,
    pub execute: ExecuteEcho,
}

/// A custom tool with the slug the server assigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomToolEcho {
    /// `LOCAL_<TOOL>` or `LOCAL_<TOOLKIT>_<TOOL>`.
    pub slug: String,
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Standalone tools only (`null` when none); absent for tools of a custom toolkit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends_toolkit: Option<Option<String>>,
    /// The slug as sent.
    pub original_slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preload: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomToolkitEcho {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub tools: Vec<CustomToolEcho>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preload: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionExperimental {
    /// A system prompt explaining the session's meta tools.
    pub assistive_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_tools: Option<Vec<CustomToolEcho>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_toolkits: Option<Vec<CustomToolkitEcho>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_elicitation_support_fallback: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionWarning {
    /// `PRELOAD_TOOLS_HIGH_CONTEXT_USAGE`.
    pub code: String,
    pub message: String,
}

/// A session: the answer of create, get, update and attach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionResponse {
    pub session_id: String,
    pub mcp: McpServer,
    /// Every tool the session lists (`GET …/tools`), by slug.
    pub tool_router_tools: Vec<String>,
    pub config: SessionConfigEcho,
    pub config_version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<SessionExperimental>,
    pub warnings: Vec<SessionWarning>,
}

/// `DELETE /tool_router/session/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDeleted {
    pub session_id: String,
    /// Always `true`.
    pub deleted: bool,
}

/// One entry of `GET …/{id}/config_history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigHistoryItem {
    pub version: i64,
    /// RFC 3339.
    pub created_at: String,
    pub is_current: bool,
    pub config: SessionConfigEcho,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToolkitMeta {
    pub logo: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAuthConfig {
    pub id: String,
    pub auth_scheme: String,
    pub is_composio_managed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToolkitAccount {
    pub id: String,
    pub user_id: String,
    /// `ACTIVE`, `INITIATED`, …
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    pub auth_config: AccountAuthConfig,
}

/// One item of `GET …/{id}/toolkits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToolkitItem {
    pub name: String,
    pub slug: String,
    pub enabled: bool,
    pub is_no_auth: bool,
    pub composio_managed_auth_schemes: Vec<String>,
    pub meta: SessionToolkitMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_account: Option<SessionToolkitAccount>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<SessionRequest, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn absent_null_and_values_are_told_apart() {
        let r = parse(json!({"toolkits": null, "tags": ["readOnlyHint"], "user_id": "u"})).unwrap();
        assert_eq!(r.toolkits, Nullable::Null);
        assert_eq!(
            r.tags,
            Nullable::Value(ListOr::List(vec!["readOnlyHint".into()]))
        );
        assert_eq!(r.workbench, Nullable::Absent);
        // Serialising keeps the distinction: absent keys are left out, `null` stays.
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(
            back,
            json!({"user_id": "u", "toolkits": null, "tags": ["readOnlyHint"]})
        );
    }

    #[test]
    fn two_shaped_keys_accept_both_shapes_and_say_which_they_accept() {
        let r = parse(json!({
            "toolkits": {"disable": ["exa"]},
            "tools": {"gmail": ["GMAIL_SEND_EMAIL"], "linear": {"tags": ["readOnlyHint"]}},
            "connected_accounts": {"gmail": "ca_1", "github": ["ca_2"]},
            "manage_connections": false,
            "instant": false,
            "premium_usage": {"return_premium_charge": true},
            "proxy_execute": {"enable": true},
            "preload": {"tools": "all"},
            "hooks": [{"type": "before_execute", "id": "h", "applies_to": {"toolkits": ["gmail"]},
                       "handler": {"type": "prompt_injection_check", "action": "block"}}]
        }))
        .unwrap();
        assert!(matches!(
            r.manage_connections,
            Nullable::Value(BoolOr::Bool(false))
        ));
        assert_eq!(
            r.preload,
            Nullable::Value(PreloadRequest {
                tools: Nullable::Value(OneOrMany::One("all".into()))
            })
        );
        let Nullable::Value(accounts) = &r.connected_accounts else {
            panic!()
        };
        assert_eq!(accounts["gmail"], OneOrMany::One("ca_1".into()));
        let Nullable::Value(hooks) = &r.hooks else {
            panic!()
        };
        assert_eq!(
            hooks[0].applies_to,
            HookScope::Toolkits(vec!["gmail".into()])
        );

        let err = parse(json!({"toolkits": "gmail"})).unwrap_err();
        assert_eq!(err, "expected a list of slugs or an object, got a string");
        let err = parse(json!({"manage_connections": "yes"})).unwrap_err();
        assert_eq!(err, "expected a boolean or an object, got a string");
        let err = parse(
            json!({"hooks": [{"type": "t", "id": "i", "applies_to": "some",
                                           "handler": {"type": "x"}}]}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "expected \"all\" or {\"toolkits\": [...]}, got \"some\""
        );
    }

    #[test]
    fn the_echo_uses_response_spelling() {
        let echo = SessionConfigEcho {
            user_id: "u".into(),
            toolkits: Some(SelectionEcho {
                enabled: Some(vec!["gmail".into()]),
                ..SelectionEcho::default()
            }),
            auth_configs: None,
            instant: InstantEcho::Off(false),
            manage_connections: ManageConnectionsEcho {
                enabled: true,
                callback_url: None,
                enable_wait_for_connections: false,
                enable_connection_removal: true,
            },
            tools: None,
            tags: None,
            workbench: WorkbenchEcho {
                enable: true,
                tool_execution_enabled: None,
                proxy_execution_enabled: true,
                auto_offload_threshold: 20000,
                sandbox_size: "standard".into(),
            },
            multi_account: None,
            proxy_execute: None,
            preload: PreloadEcho {
                tools: PreloadToolsEcho::Word("all".into()),
            },
            connected_accounts: None,
            search: EnableEcho::default(),
            execute: ExecuteEcho::default(),
        };
        assert_eq!(
            serde_json::to_value(&echo).unwrap(),
            json!({
                "user_id": "u", "toolkits": {"enabled": ["gmail"]}, "instant": false,
                "manage_connections": {"enabled": true, "enable_wait_for_connections": false,
                                       "enable_connection_removal": true},
                "workbench": {"enable": true, "proxy_execution_enabled": true,
                              "auto_offload_threshold": 20000, "sandbox_size": "standard"},
                "preload": {"tools": "all"}, "search": {}, "execute": {}
            })
        );
    }
}
