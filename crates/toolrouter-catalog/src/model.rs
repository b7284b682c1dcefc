//! The toolkit definition format: what a toolkit file on disk (or compiled into the binary) says.
//!
//! These types are the single source of truth for `docs/toolkit-format.md`. They deserialize with
//! `deny_unknown_fields` so that a typo in a definition is an error at load, never a silently
//! ignored mapping. Semantic checks (slug conventions, path parameters that exist, ...) live in
//! [`crate::validate`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::schema::Schema;

/// One toolkit: a third-party service and the tools that call it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolkitDef {
    /// Lower-case identifier, `[a-z0-9_]+`, e.g. `github`.
    pub slug: String,
    /// Display name, e.g. `GitHub`.
    pub name: String,
    /// What the service is, written for an LLM choosing between toolkits.
    pub description: String,
    /// Free-form category slugs, e.g. `developer-tools`, `email`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// URL of the toolkit's logo.
    #[serde(default)]
    pub logo: String,
    /// Base URL every tool path is appended to. May contain `{field}` placeholders filled from
    /// non-secret connection fields (e.g. `https://{subdomain}.atlassian.net`).
    pub base_url: String,
    /// Auth schemes the service accepts, in order of preference. Empty means `NO_AUTH`.
    #[serde(default)]
    pub auth_schemes: Vec<AuthScheme>,
    /// Headers sent with every request of this toolkit (API version pins, `Accept`, ...).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Definition version, semver-like.
    #[serde(default = "default_version")]
    pub version: String,
    pub tools: Vec<ToolDef>,
}

fn default_version() -> String {
    "1.0.0".to_owned()
}

/// The kinds of authentication a toolkit can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthKind {
    Oauth2,
    ApiKey,
    BearerToken,
    Basic,
    NoAuth,
}

impl AuthKind {
    /// Wire spelling, as in `auth_scheme` fields of the contract.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::Oauth2 => "OAUTH2",
            AuthKind::ApiKey => "API_KEY",
            AuthKind::BearerToken => "BEARER_TOKEN",
            AuthKind::Basic => "BASIC",
            AuthKind::NoAuth => "NO_AUTH",
        }
    }
}

/// One way to authenticate against the service.
///
/// `fields` are what a user (or the operator, for OAuth apps) must supply; `inject` says where
/// the resulting credential goes on each request. Placeholders in `inject[].value` are
/// `{field_name}` of a connection field (or `{access_token}` for OAuth2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthScheme {
    #[serde(rename = "type")]
    pub kind: AuthKind,
    /// OAuth2 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Spec>,
    /// Fields a user fills in when connecting (API key, subdomain, username, ...).
    #[serde(default)]
    pub fields: Vec<AuthField>,
    /// Where the credential goes on each request. For `BASIC`, leave empty: the
    /// `Authorization: Basic base64(username:password)` header is built from the `username`
    /// and `password` fields.
    #[serde(default)]
    pub inject: Vec<Injection>,
}

/// OAuth2 authorization-code settings of a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Spec {
    pub authorize_url: String,
    pub token_url: String,
    /// Refresh endpoint when different from `token_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_url: Option<String>,
    #[serde(default)]
    pub default_scopes: Vec<String>,
    /// How scopes are joined in the authorize URL (`" "` unless the provider says otherwise).
    #[serde(default = "space")]
    pub scope_separator: String,
    /// Whether the provider supports PKCE (S256). toolrouter always sends it when true.
    #[serde(default = "yes")]
    pub pkce: bool,
    /// Extra query parameters on the authorize URL (e.g. `access_type=offline`).
    #[serde(default)]
    pub authorize_params: BTreeMap<String, String>,
    /// How the client authenticates at the token endpoint.
    #[serde(default)]
    pub client_auth: ClientAuth,
}

fn space() -> String {
    " ".to_owned()
}

fn yes() -> bool {
    true
}

/// Client authentication at an OAuth2 token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    #[default]
    Body,
    /// HTTP Basic with `client_id:client_secret`.
    Basic,
}

/// A field a user or operator supplies for an auth scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthField {
    /// Machine name, `[a-z0-9_]+`, used in `{placeholders}`.
    pub name: String,
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    /// Secret fields are stored encrypted and never returned.
    #[serde(default)]
    pub secret: bool,
    #[serde(default = "yes")]
    pub required: bool,
}

/// Where a credential value is placed on an outgoing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Injection {
    #[serde(rename = "in")]
    pub location: InjectLocation,
    /// Header or query parameter name.
    pub name: String,
    /// Value template, e.g. `Bearer {access_token}` or `{api_key}`.
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectLocation {
    Header,
    Query,
}

/// One tool: an operation an agent can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolDef {
    /// `TOOLKIT_VERB_OBJECT`, upper snake case, toolkit prefix, at most 60 characters.
    pub slug: String,
    /// Short human title, e.g. `Create an issue`.
    pub name: String,
    /// What the tool does, when to use it and what it returns, written for an LLM.
    pub description: String,
    /// MCP annotations (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`)
    /// and free tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Provider scopes the tool needs (OAuth2).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// JSON Schema (type object) of the arguments.
    pub input: Schema,
    /// JSON Schema of the shaped result (`data`); `{"type":"object"}` when absent.
    #[serde(default)]
    pub output: Schema,
    #[serde(default = "default_version")]
    pub version: String,
    #[serde(default)]
    pub deprecated: bool,
    /// How arguments become an HTTP request.
    pub http: HttpMapping,
}

/// The HTTP side of a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMapping {
    pub method: HttpMethod,
    /// Path template appended to the toolkit base URL, `{arg}` placeholders are percent-encoded
    /// argument values (`{+arg}` keeps `/` unencoded, for file paths).
    pub path: String,
    /// Explicit placement of arguments. An argument not listed goes to the path when the
    /// template names it, else to the query for GET/DELETE/HEAD, else to the body.
    #[serde(default)]
    pub params: Vec<ParamMapping>,
    /// Constant query parameters.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Constant headers (added after the toolkit's headers).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How the body is encoded.
    #[serde(default)]
    pub body: BodyEncoding,
    /// Constant JSON merged into the body before arguments are placed (a GraphQL `query`, a
    /// fixed `type` field, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub const_body: Option<Value>,
    /// A named built-in transform applied to the arguments before mapping (e.g.
    /// `gmail_raw_message`), for APIs whose body cannot be expressed as plain placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
    #[serde(default)]
    pub response: ResponseShape,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
        }
    }

    /// Whether unlisted arguments default to the query string.
    pub fn args_default_to_query(self) -> bool {
        matches!(
            self,
            HttpMethod::Get | HttpMethod::Delete | HttpMethod::Head
        )
    }
}

/// Where one argument goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamMapping {
    /// Argument name (a property of the input schema).
    pub arg: String,
    #[serde(rename = "in")]
    pub location: ParamLocation,
    /// Wire name when it differs from the argument name. For `body`, a dotted path nests the
    /// value (`message.text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For arrays in the query: how they are written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<ArrayStyle>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    Path,
    Query,
    Header,
    /// A key of the request body object.
    Body,
    /// The whole request body is this argument's value.
    BodyRoot,
}

/// How an array argument is written into the query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayStyle {
    /// `a,b,c` in one parameter (the default).
    Comma,
    /// `k=a&k=b`.
    Repeat,
    /// `k[]=a&k[]=b`.
    Brackets,
}

/// Body encodings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`, nested objects as `a[b]=c` (Stripe style).
    Form,
}

/// How a provider response becomes the tool result's `data`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseShape {
    /// JSON pointer of the part of the body to return (empty: the whole body).
    #[serde(default)]
    pub root: String,
    /// When the body is not an object (an array, a string), wrap it under this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap: Option<String>,
    /// A provider that answers HTTP 200 with an error flag: `ok_pointer` names a boolean that must
    /// be true (Slack's `/ok`); `error_pointer` names the error text, and when `ok_pointer` is
    /// absent a non-null value there alone means failure (GraphQL's `/errors/0/message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_pointer: Option<String>,
}

/// How to fetch the next page; surfaced to the agent as a hint in the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    pub style: PaginationStyle,
    /// The argument that carries the cursor / page / offset on the next call.
    pub param: String,
    /// JSON pointer to the next cursor in the response body (cursor style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaginationStyle {
    /// An opaque cursor read from the response at `next`.
    Cursor,
    /// A page number incremented by the caller.
    Page,
    /// An item offset.
    Offset,
    /// RFC 8288 `Link: <…>; rel="next"` (GitHub).
    LinkHeader,
}

/// MCP tool annotation tags recognised in `ToolDef::tags`.
pub const MCP_HINT_TAGS: [&str; 4] = [
    "readOnlyHint",
    "destructiveHint",
    "idempotentHint",
    "openWorldHint",
];
