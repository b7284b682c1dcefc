//! Toolkits and tools as the API shows them (Composio v3.1 shapes): the `Tool` object of
//! CONTRACT.md §5.1/A.9 with every key the spec requires, toolkit listings and details, and the
//! paginated envelope every list shares.
//!
//! Auth-scheme details describe which fields exist; they never carry a credential.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{items, next_cursor, total_pages, current_page, total_items}`: every paginated list.
/// `next_cursor` is `null` on the last page, never a truthy value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub total_pages: u64,
    pub current_page: u64,
    pub total_items: u64,
}

/// A tool (schema `Tool` / `ToolDetails`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub human_description: Option<String>,
    pub toolkit: ToolToolkit,
    /// JSON Schema (`"type": "object"`) of the arguments.
    pub input_parameters: Value,
    /// JSON Schema of the result's `data`.
    pub output_parameters: Value,
    pub no_auth: bool,
    pub available_versions: Vec<String>,
    pub version: String,
    pub scopes: Vec<String>,
    pub tags: Vec<String>,
    pub is_deprecated: bool,
    pub deprecated: ToolDeprecated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolToolkit {
    pub slug: String,
    pub name: String,
    pub logo: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolDeprecated {
    #[serde(rename = "displayName")]
    pub display_name: String,
    pub version: String,
    pub available_versions: Vec<String>,
    pub is_deprecated: bool,
    pub toolkit: ToolDeprecatedToolkit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolDeprecatedToolkit {
    pub logo: String,
}

/// A toolkit category: `id` filters listings (`?category=`), `name` is for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolkitMeta {
    pub logo: String,
    pub description: String,
    pub categories: Vec<Category>,
    pub tools_count: u64,
    pub triggers_count: u64,
    pub available_versions: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_url: Option<String>,
}

/// One item of `GET /api/v3.1/toolkits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolkitItem {
    pub slug: String,
    pub name: String,
    pub meta: ToolkitMeta,
    pub is_local_toolkit: bool,
    /// `OAUTH2`, `API_KEY`, `BEARER_TOKEN`, `BASIC`, `NO_AUTH`.
    pub auth_schemes: Vec<String>,
    pub composio_managed_auth_schemes: Vec<String>,
    pub no_auth: bool,
}

/// `GET /api/v3.1/toolkits/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolkitDetail {
    pub slug: String,
    pub name: String,
    pub enabled: bool,
    pub is_local_toolkit: bool,
    pub auth_schemes: Vec<String>,
    pub composio_managed_auth_schemes: Vec<String>,
    pub no_auth: bool,
    /// The API the tools call, as the definition gives it.
    pub base_url: String,
    pub meta: ToolkitMeta,
    pub auth_config_details: Vec<AuthConfigDetail>,
}

/// The fields one auth scheme asks for: when an auth config is created (an OAuth app's
/// client), and when a user connects an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfigDetail {
    /// The scheme, e.g. `OAUTH2`.
    pub mode: String,
    /// Display name, e.g. `OAuth 2.0`.
    pub name: String,
    pub fields: AuthConfigFields,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfigFields {
    pub auth_config_creation: FieldGroup,
    pub connected_account_initiation: FieldGroup,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldGroup {
    pub required: Vec<AuthFieldInfo>,
    pub optional: Vec<AuthFieldInfo>,
}

/// A field's description, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthFieldInfo {
    pub name: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub required: bool,
    pub default: Option<String>,
    /// Whether the value is a secret (stored encrypted, never returned).
    pub is_secret: bool,
}
