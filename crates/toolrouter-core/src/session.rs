//! A Tool Router session and its configuration: the stored model ([`SessionConfig`]), how a
//! create or update request changes it ([`change`]), and what a configuration allows
//! ([`filter`]: which app tools, which meta tools, which tools are preloaded).
//!
//! The model is stored as JSON (its serde form is a storage format, not a wire format: the API
//! crate has its own request and echo spellings). Every rule a configuration must satisfy on its
//! own is checked here, so a stored configuration is always a valid one; rules that need the
//! catalog (do these slugs exist?) or storage (is this account the user's?) are the app's, fed by
//! [`SessionConfig::slug_refs`].

pub mod approval;
pub mod change;
pub mod filter;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AuthConfigId, ConnectedAccountId, ProjectId, SessionId, Timestamp};

pub use approval::{ApprovalDecision, ApprovalNeed};
pub use change::{ConfigChange, Field};
pub use filter::{MetaTool, ToolInfo};

/// A stored session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub project_id: ProjectId,
    pub config: SessionConfig,
    /// Starts at 1; every accepted change increments it (the compare-and-swap token of updates).
    pub config_version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One entry of a session's configuration history.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigVersion {
    pub version: i64,
    pub config: SessionConfig,
    pub created_at: Timestamp,
}

/// MCP tool annotation hints, the vocabulary of tag filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tag {
    #[serde(rename = "readOnlyHint")]
    ReadOnly,
    #[serde(rename = "createHint")]
    Create,
    #[serde(rename = "updateHint")]
    Update,
    #[serde(rename = "destructiveHint")]
    Destructive,
    #[serde(rename = "idempotentHint")]
    Idempotent,
    #[serde(rename = "openWorldHint")]
    OpenWorld,
}

impl Tag {
    pub const ALL: [Tag; 6] = [
        Tag::ReadOnly,
        Tag::Create,
        Tag::Update,
        Tag::Destructive,
        Tag::Idempotent,
        Tag::OpenWorld,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tag::ReadOnly => "readOnlyHint",
            Tag::Create => "createHint",
            Tag::Update => "updateHint",
            Tag::Destructive => "destructiveHint",
            Tag::Idempotent => "idempotentHint",
            Tag::OpenWorld => "openWorldHint",
        }
    }

    /// Case-insensitive, so `readonlyhint` is `readOnlyHint`.
    pub fn parse(s: &str) -> Option<Tag> {
        Tag::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Tags a tool must have (at least one of `enabled`) and must not have (any of `disabled`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Vec<Tag>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Vec<Tag>>,
    /// Tools with one of these tags need the user's approval (see `approval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Vec<Tag>>,
}

/// An allowlist or a denylist of toolkit (or tool) slugs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListFilter {
    Enabled(Vec<String>),
    Disabled(Vec<String>),
}

/// Which toolkits the session may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toolkits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<ListFilter>,
    /// Toolkits whose tool calls need the user's approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Vec<String>>,
}

/// How one toolkit's tools are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolSelection {
    Enabled(Vec<String>),
    Disabled(Vec<String>),
    /// By annotation tags, instead of the global `tags` for this toolkit.
    Tags(TagFilter),
}

/// The `tools` entry of one toolkit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolkitTools {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<ToolSelection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Vec<String>>,
}

/// `manage_connections`: whether the agent can connect accounts in-chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManageConnections {
    pub enabled: bool,
    /// Where the connect page sends the user after authenticating.
    pub callback_url: Option<String>,
    /// Exposes `COMPOSIO_WAIT_FOR_CONNECTIONS`.
    pub wait_for_connections: bool,
    /// Allows the "remove" action of `COMPOSIO_MANAGE_CONNECTIONS`.
    pub connection_removal: bool,
}

impl Default for ManageConnections {
    fn default() -> Self {
        ManageConnections {
            enabled: true,
            callback_url: None,
            wait_for_connections: false,
            connection_removal: true,
        }
    }
}

/// Compute tier of the workbench sandbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxSize {
    #[default]
    Standard,
    Medium,
    Large,
    Xlarge,
}

impl SandboxSize {
    pub const ALL: [SandboxSize; 4] = [
        SandboxSize::Standard,
        SandboxSize::Medium,
        SandboxSize::Large,
        SandboxSize::Xlarge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SandboxSize::Standard => "standard",
            SandboxSize::Medium => "medium",
            SandboxSize::Large => "large",
            SandboxSize::Xlarge => "xlarge",
        }
    }

    /// `(vCPU, GiB of memory)`.
    pub fn resources(self) -> (u32, u32) {
        match self {
            SandboxSize::Standard => (1, 1),
            SandboxSize::Medium => (2, 2),
            SandboxSize::Large => (4, 4),
            SandboxSize::Xlarge => (8, 8),
        }
    }

    pub fn parse(s: &str) -> Option<SandboxSize> {
        SandboxSize::ALL
            .into_iter()
            .find(|z| z.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// `workbench`: the per-session sandbox behind `COMPOSIO_REMOTE_WORKBENCH` and
/// `COMPOSIO_REMOTE_BASH_TOOL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Workbench {
    pub enabled: bool,
    /// Whether code in the sandbox may run Composio tools (unset: yes).
    pub tool_execution: Option<bool>,
    /// Whether code in the sandbox may make proxied requests (unset: yes). Kept unset unless
    /// given, because "given true" conflicts with `proxy_execute.enable: false`.
    pub proxy_execution: Option<bool>,
    /// Results longer than this many characters are written to a sandbox file instead.
    pub auto_offload_threshold: u64,
    pub sandbox_size: SandboxSize,
}

impl Workbench {
    pub const DEFAULT_AUTO_OFFLOAD_THRESHOLD: u64 = 20_000;
}

impl Default for Workbench {
    fn default() -> Self {
        Workbench {
            enabled: true,
            tool_execution: None,
            proxy_execution: None,
            auto_offload_threshold: Workbench::DEFAULT_AUTO_OFFLOAD_THRESHOLD,
            sandbox_size: SandboxSize::Standard,
        }
    }
}

/// `multi_account`: several connected accounts per toolkit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MultiAccountConfig {
    pub enabled: bool,
    /// 2 to 10; unset: [`crate::selection::MultiAccount::DEFAULT_ACCOUNTS`].
    pub max_accounts_per_toolkit: Option<u8>,
    pub require_explicit_selection: Option<bool>,
}

/// Which app tools are listed directly, without a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preload {
    Tools(Vec<String>),
    /// Every tool the session's filters allow (which must include a positive filter).
    All,
}

impl Default for Preload {
    fn default() -> Self {
        Preload::Tools(Vec::new())
    }
}

/// `instant` (Python) / `premium_usage` (TypeScript): usage of the operator's shared accounts.
/// toolrouter stores and echoes it; no shared accounts exist yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instant {
    Disabled,
    Enabled(InstantConfig),
}

impl Default for Instant {
    fn default() -> Self {
        Instant::Enabled(InstantConfig::default())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstantConfig {
    pub toolkits: Option<ListFilter>,
    pub tools: BTreeMap<String, ListFilter>,
    pub return_charge: bool,
    pub return_prices_in_search: bool,
}

/// What session MCP does with a call that needs approval when the client cannot ask the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElicitationFallback {
    Deny,
    Allow,
}

impl ElicitationFallback {
    pub const ALL: [ElicitationFallback; 2] =
        [ElicitationFallback::Deny, ElicitationFallback::Allow];

    pub fn as_str(self) -> &'static str {
        match self {
            ElicitationFallback::Deny => "deny",
            ElicitationFallback::Allow => "allow",
        }
    }
}

/// Default approval behaviour of `experimental.permissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionDefault {
    AllowAll,
    AskEveryCall,
    AskOncePerSession,
}

impl PermissionDefault {
    pub const ALL: [PermissionDefault; 3] = [
        PermissionDefault::AllowAll,
        PermissionDefault::AskEveryCall,
        PermissionDefault::AskOncePerSession,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionDefault::AllowAll => "allow_all",
            PermissionDefault::AskEveryCall => "ask_every_call",
            PermissionDefault::AskOncePerSession => "ask_once_per_session",
        }
    }
}

/// A per-tool override of `experimental.permissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionOverride {
    AlwaysAllow,
    AlwaysDeny,
    AskOnce,
    AskAlways,
}

impl PermissionOverride {
    pub const ALL: [PermissionOverride; 4] = [
        PermissionOverride::AlwaysAllow,
        PermissionOverride::AlwaysDeny,
        PermissionOverride::AskOnce,
        PermissionOverride::AskAlways,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionOverride::AlwaysAllow => "always_allow",
            PermissionOverride::AlwaysDeny => "always_deny",
            PermissionOverride::AskOnce => "ask_once",
            PermissionOverride::AskAlways => "ask_always",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    pub default: PermissionDefault,
    /// Keyed by `TOOL_SLUG` or `TOOL_SLUG:connected_account_id`.
    #[serde(default)]
    pub overrides: BTreeMap<String, PermissionOverride>,
}

/// `experimental`: settings that may change without notice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Experimental {
    /// IANA time zone the assistive prompt states (`assistive_prompt_config.user_timezone`).
    pub user_timezone: Option<String>,
    pub permissions: Option<Permissions>,
    /// Base URL of connect links created from this session.
    pub link_url_overwrite: Option<String>,
    pub fast_mode: Option<bool>,
    /// Exposes `COMPOSIO_SUBMIT_FEEDBACK`.
    pub submit_feedback: Option<bool>,
    pub no_elicitation_support_fallback: Option<ElicitationFallback>,
    pub session_config_id: Option<String>,
}

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookPoint {
    BeforeExecute,
    AfterExecute,
}

/// What a hook checks; a hit blocks the call (the only action there is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookCheck {
    /// A natural-language condition, e.g. "Sending email outside example.org".
    Condition(String),
    PromptInjection,
}

/// A Python 0.30 `hooks` entry: a check run before or after tool execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub point: HookPoint,
    /// Toolkits it applies to; `None` is every toolkit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<Vec<String>>,
    pub check: HookCheck,
}

/// A session's whole configuration, always valid on its own (see [`change`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// The project's identifier of the user whose accounts the session uses.
    pub user_id: String,
    /// `None`: every toolkit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<Toolkits>,
    /// Per-toolkit tool selection, keyed by toolkit slug.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, ToolkitTools>,
    /// Global tag filter (a toolkit's own `tags` selection replaces it for that toolkit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagFilter>,
    /// Auth config to use per toolkit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auth_configs: BTreeMap<String, AuthConfigId>,
    /// Connected accounts to use per toolkit (one unless multi-account is enabled).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connected_accounts: BTreeMap<String, Vec<ConnectedAccountId>>,
    #[serde(default)]
    pub manage_connections: ManageConnections,
    #[serde(default)]
    pub workbench: Workbench,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_account: Option<MultiAccountConfig>,
    /// `proxy_execute.enable`; exposes `COMPOSIO_PROXY_EXECUTE` when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_execute: Option<bool>,
    #[serde(default)]
    pub preload: Preload,
    /// `search.enable`; unset means enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<bool>,
    /// `execute.enable_multi_execute`; unset means enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_execute: Option<bool>,
    #[serde(default)]
    pub instant: Instant,
    #[serde(default)]
    pub experimental: Experimental,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
}

impl SessionConfig {
    /// The configuration of a session created with nothing but a user id.
    pub fn new(user_id: impl Into<String>) -> SessionConfig {
        SessionConfig {
            user_id: user_id.into(),
            toolkits: None,
            tools: BTreeMap::new(),
            tags: None,
            auth_configs: BTreeMap::new(),
            connected_accounts: BTreeMap::new(),
            manage_connections: ManageConnections::default(),
            workbench: Workbench::default(),
            multi_account: None,
            proxy_execute: None,
            preload: Preload::default(),
            search: None,
            multi_execute: None,
            instant: Instant::default(),
            experimental: Experimental::default(),
            hooks: Vec::new(),
        }
    }

    /// Account-selection settings when multi-account mode is on.
    pub fn multi_account(&self) -> Option<crate::selection::MultiAccount> {
        let m = self.multi_account.as_ref().filter(|m| m.enabled)?;
        // Validated when the configuration was built; the fallback is unreachable.
        crate::selection::MultiAccount::new(
            m.require_explicit_selection.unwrap_or(false),
            m.max_accounts_per_toolkit,
        )
        .ok()
    }
}

/// Every slug a configuration names, with where it names it, so the app can check them
/// against the catalog and report all unknown ones at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlugRef {
    /// Where, e.g. `tools.gmail.enable`.
    pub field: String,
    pub slug: String,
    pub kind: SlugKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlugKind {
    Toolkit,
    /// A tool; when `toolkit` is set, the tool must belong to it.
    Tool {
        toolkit: Option<String>,
    },
}

/// One thing wrong with a configuration: which field, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

/// Every problem found in a requested configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ConfigError {}

/// Longest custom tool slug the server assigns.
pub const MAX_LOCAL_SLUG_LEN: usize = 60;

/// Checks a custom tool or toolkit slug as the caller sent it: `[A-Za-z0-9_-]+`, not starting
/// with `LOCAL_` or `COMPOSIO_` (those name server-assigned and meta tools).
pub fn check_custom_slug(slug: &str) -> Result<(), String> {
    if slug.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if !slug
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(format!(
            "`{slug}` may contain only letters, digits, `_` and `-`"
        ));
    }
    let upper = slug.to_ascii_uppercase();
    for reserved in ["LOCAL_", "COMPOSIO_"] {
        if upper.starts_with(reserved) {
            return Err(format!(
                "`{slug}` must not start with `{reserved}` (reserved for server-assigned and meta tools)"
            ));
        }
    }
    Ok(())
}

/// The slug the server assigns a custom tool: `LOCAL_<TOOL>`, or `LOCAL_<TOOLKIT>_<TOOL>` for a
/// tool of a custom toolkit or one extending a catalog toolkit; upper-case. `None` when it would
/// exceed [`MAX_LOCAL_SLUG_LEN`].
pub fn local_tool_slug(toolkit: Option<&str>, slug: &str) -> Option<String> {
    let mut out = String::from("LOCAL_");
    if let Some(tk) = toolkit {
        out.push_str(tk);
        out.push('_');
    }
    out.push_str(slug);
    let out = out.to_ascii_uppercase();
    (out.len() <= MAX_LOCAL_SLUG_LEN).then_some(out)
}
