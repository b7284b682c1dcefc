//! Session options as builders: [`SessionConfig`] for `create` and [`SessionUpdate`] for
//! `update`, one setter per option of the seeds and CONTRACT.md A.1/A.4.
//!
//! Both build the shared wire body (`toolrouter_api::session::SessionRequest`), so a key the
//! caller did not set is never sent. What the official SDKs do on the client before sending
//! is done here too, in [`SessionConfig::to_request`], so a session created from Rust is
//! configured exactly like one created from Python or TypeScript (CONTRACT.md §3.1):
//! `manage_connections.enable` defaults to true and is always sent, a given `workbench` always
//! carries `enable`, multi-account mode asks for explicit selection unless told otherwise,
//! and the direct-tools preset is expanded into the settings it stands for. An update sends
//! only what was set, and `null` only for what [`SessionUpdate::clear`] names, because `null`
//! means "remove the stored setting" (§1.4, §3.13).

use toolrouter_api::session::{
    AssistivePromptRequest, BoolOr, EnableRequest, ExecuteRequest, HookRequest, InstantRequest,
    ListOr, ManageConnectionsRequest, MultiAccountRequest, Nullable, OneOrMany, PermissionsRequest,
    PreloadRequest, SelectionRequest, SessionRequest, TagsRequest, WorkbenchRequest,
};

use crate::custom::{CustomSet, CustomTool, CustomToolkit};

/// An MCP tool annotation hint, used to filter tools by what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// The tool only reads.
    ReadOnlyHint,
    /// The tool may destroy data.
    DestructiveHint,
    /// Calling it twice has the effect of calling it once.
    IdempotentHint,
    /// It reaches outside (the web, other users).
    OpenWorldHint,
    /// It creates something.
    CreateHint,
    /// It changes something.
    UpdateHint,
}

impl Tag {
    /// The wire name, e.g. `readOnlyHint`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::ReadOnlyHint => "readOnlyHint",
            Tag::DestructiveHint => "destructiveHint",
            Tag::IdempotentHint => "idempotentHint",
            Tag::OpenWorldHint => "openWorldHint",
            Tag::CreateHint => "createHint",
            Tag::UpdateHint => "updateHint",
        }
    }
}

fn tag_names(tags: impl IntoIterator<Item = Tag>) -> Vec<String> {
    tags.into_iter().map(|t| t.as_str().to_owned()).collect()
}

fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    items.into_iter().map(Into::into).collect()
}

/// Tag filters: tools must have one of the `enable`d tags and none of the `disable`d ones.
/// A list of tags converts into an `enable` filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags(TagsRequest);

impl Tags {
    pub fn new() -> Self {
        Tags::default()
    }

    /// Tools must have at least one of these.
    pub fn enable(mut self, tags: impl IntoIterator<Item = Tag>) -> Self {
        self.0.enable = Some(tag_names(tags));
        self
    }

    /// Tools must have none of these.
    pub fn disable(mut self, tags: impl IntoIterator<Item = Tag>) -> Self {
        self.0.disable = Some(tag_names(tags));
        self
    }

    /// Calls of tools with these tags wait for the user's approval (experimental).
    pub fn require_approval(mut self, tags: impl IntoIterator<Item = Tag>) -> Self {
        self.0.require_approval = Some(tag_names(tags));
        self
    }
}

impl<const N: usize> From<[Tag; N]> for Tags {
    fn from(tags: [Tag; N]) -> Self {
        Tags::new().enable(tags)
    }
}

impl From<Vec<Tag>> for Tags {
    fn from(tags: Vec<Tag>) -> Self {
        Tags::new().enable(tags)
    }
}

/// The workbench sandbox's compute tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxSize {
    /// 1 vCPU, 1 GB (the default).
    Standard,
    /// 2 vCPU, 2 GB.
    Medium,
    /// 4 vCPU, 4 GB.
    Large,
    /// 8 vCPU, 8 GB.
    Xlarge,
}

impl SandboxSize {
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxSize::Standard => "standard",
            SandboxSize::Medium => "medium",
            SandboxSize::Large => "large",
            SandboxSize::Xlarge => "xlarge",
        }
    }
}

/// Connection management: the `COMPOSIO_MANAGE_CONNECTIONS` meta tool and its links.
/// `true`/`false` convert into an enable switch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManageConnections(ManageConnectionsRequest);

impl ManageConnections {
    pub fn new() -> Self {
        ManageConnections::default()
    }

    pub fn enable(mut self, on: bool) -> Self {
        self.0.enable = Nullable::Value(on);
        self
    }

    /// Where the connect page sends the user after authenticating.
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.0.callback_url = Nullable::Value(url.into());
        self
    }

    /// In an update: remove the stored callback URL (sends `callback_url: null`).
    pub fn clear_callback_url(mut self) -> Self {
        self.0.callback_url = Nullable::Null;
        self
    }

    /// Expose `COMPOSIO_WAIT_FOR_CONNECTIONS` so the agent can wait for the user to connect.
    pub fn wait_for_connections(mut self, on: bool) -> Self {
        self.0.enable_wait_for_connections = Nullable::Value(on);
        self
    }

    /// Allow the agent to remove connected accounts.
    pub fn connection_removal(mut self, on: bool) -> Self {
        self.0.enable_connection_removal = Nullable::Value(on);
        self
    }
}

impl From<bool> for ManageConnections {
    fn from(on: bool) -> Self {
        ManageConnections::new().enable(on)
    }
}

/// The workbench: a persistent per-session sandbox with `COMPOSIO_REMOTE_WORKBENCH` and
/// `COMPOSIO_REMOTE_BASH_TOOL`. `true`/`false` convert into an enable switch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workbench(WorkbenchRequest);

impl Workbench {
    pub fn new() -> Self {
        Workbench::default()
    }

    pub fn enable(mut self, on: bool) -> Self {
        self.0.enable = Nullable::Value(on);
        self
    }

    /// Whether code in the workbench may execute tools.
    pub fn tool_execution(mut self, on: bool) -> Self {
        self.0.enable_tool_execution = Nullable::Value(on);
        self
    }

    /// Whether code in the workbench may make proxied API calls.
    pub fn proxy_execution(mut self, on: bool) -> Self {
        self.0.enable_proxy_execution = Nullable::Value(on);
        self
    }

    /// Tool results longer than this many characters are saved to a workbench file.
    pub fn auto_offload_threshold(mut self, chars: u32) -> Self {
        self.0.auto_offload_threshold = Nullable::Value(f64::from(chars));
        self
    }

    pub fn sandbox_size(mut self, size: SandboxSize) -> Self {
        self.0.sandbox_size = Nullable::Value(size.as_str().to_owned());
        self
    }
}

impl From<bool> for Workbench {
    fn from(on: bool) -> Self {
        Workbench::new().enable(on)
    }
}

/// Several connected accounts per toolkit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MultiAccount(MultiAccountRequest);

impl MultiAccount {
    pub fn new() -> Self {
        MultiAccount::default()
    }

    /// `new().enable(true)`.
    pub fn enabled() -> Self {
        MultiAccount::new().enable(true)
    }

    pub fn enable(mut self, on: bool) -> Self {
        self.0.enable = Nullable::Value(on);
        self
    }

    /// 2 to 10.
    pub fn max_accounts_per_toolkit(mut self, n: u8) -> Self {
        self.0.max_accounts_per_toolkit = Nullable::Value(i64::from(n));
        self
    }

    /// Whether the agent must name the account (defaults to true when enabled).
    pub fn require_explicit_selection(mut self, on: bool) -> Self {
        self.0.require_explicit_selection = Nullable::Value(on);
        self
    }
}

/// Instant usage (Composio's hosted accounts; Python's `instant`). `false` turns it off.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantUsage(BoolOr<InstantRequest>);

impl InstantUsage {
    /// On, restricted by nothing but the session's own filters.
    pub fn new() -> Self {
        InstantUsage(BoolOr::Object(InstantRequest::default()))
    }

    fn settings(&mut self) -> &mut InstantRequest {
        if let BoolOr::Bool(_) = self.0 {
            self.0 = BoolOr::Object(InstantRequest::default());
        }
        match &mut self.0 {
            BoolOr::Object(o) => o,
            BoolOr::Bool(_) => unreachable!("replaced just above"),
        }
    }

    /// Only these toolkits may use instant accounts.
    pub fn enable_toolkits<S: Into<String>>(
        mut self,
        toolkits: impl IntoIterator<Item = S>,
    ) -> Self {
        self.settings().toolkits = Some(SelectionRequest {
            enable: Some(strings(toolkits)),
            ..SelectionRequest::default()
        });
        self
    }

    /// These toolkits may not use instant accounts.
    pub fn disable_toolkits<S: Into<String>>(
        mut self,
        toolkits: impl IntoIterator<Item = S>,
    ) -> Self {
        self.settings().toolkits = Some(SelectionRequest {
            disable: Some(strings(toolkits)),
            ..SelectionRequest::default()
        });
        self
    }

    /// Report each execution's charge in its result.
    pub fn return_instant_charge(mut self, on: bool) -> Self {
        self.settings().return_instant_charge = Some(on);
        self
    }

    /// Show prices in search results (experimental).
    pub fn return_prices_in_search(mut self, on: bool) -> Self {
        self.settings().return_prices_in_search = Some(on);
        self
    }
}

impl Default for InstantUsage {
    fn default() -> Self {
        InstantUsage::new()
    }
}

impl From<bool> for InstantUsage {
    fn from(on: bool) -> Self {
        if on {
            InstantUsage::new()
        } else {
            InstantUsage(BoolOr::Bool(false))
        }
    }
}

/// A preset that rewrites the defaults of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionPreset {
    /// Every tool the filters allow is listed directly, and the meta tools (search,
    /// multi-execute, connection management, workbench) are off unless re-enabled.
    DirectTools,
}

/// What a session does when an approval is needed and the MCP client cannot ask the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElicitationFallback {
    Deny,
    Allow,
}

impl ElicitationFallback {
    fn as_str(self) -> &'static str {
        match self {
            ElicitationFallback::Deny => "deny",
            ElicitationFallback::Allow => "allow",
        }
    }
}

/// A top-level option, to remove its stored value in an update ([`SessionUpdate::clear`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKey {
    Toolkits,
    AuthConfigs,
    ConnectedAccounts,
    InstantUsage,
    ManageConnections,
    Tools,
    Tags,
    Workbench,
    MultiAccount,
    ProxyExecute,
    Preload,
    Search,
    Execute,
    Experimental,
    Hooks,
}

fn entry<T: Default>(n: &mut Nullable<T>) -> &mut T {
    if !matches!(n, Nullable::Value(_)) {
        *n = Nullable::Value(T::default());
    }
    match n {
        Nullable::Value(v) => v,
        _ => unreachable!("set just above"),
    }
}

/// The `toolkits` selection as an object, creating it (and turning a bare list into its
/// object form) when needed.
fn toolkit_selection(req: &mut SessionRequest) -> &mut SelectionRequest {
    let sel = match std::mem::take(&mut req.toolkits) {
        Nullable::Value(ListOr::Object(o)) => o,
        Nullable::Value(ListOr::List(list)) => SelectionRequest {
            enable: Some(list),
            ..SelectionRequest::default()
        },
        Nullable::Absent | Nullable::Null => SelectionRequest::default(),
    };
    req.toolkits = Nullable::Value(ListOr::Object(sel));
    match &mut req.toolkits {
        Nullable::Value(ListOr::Object(o)) => o,
        _ => unreachable!("set just above"),
    }
}

fn preload_all() -> PreloadRequest {
    PreloadRequest {
        tools: Nullable::Value(OneOrMany::One("all".to_owned())),
    }
}

/// Setters shared by [`SessionConfig`] and [`SessionUpdate`]: the same option sets the same
/// wire key in both.
macro_rules! session_setters {
    () => {
        /// Only these toolkits (slugs such as `github`); replaces a `disable_toolkits`.
        pub fn toolkits<S: Into<String>>(mut self, toolkits: impl IntoIterator<Item = S>) -> Self {
            let sel = toolkit_selection(&mut self.req);
            sel.enable = Some(strings(toolkits));
            sel.disable = None;
            self
        }

        /// Every toolkit but these; replaces a `toolkits`.
        pub fn disable_toolkits<S: Into<String>>(
            mut self,
            toolkits: impl IntoIterator<Item = S>,
        ) -> Self {
            let sel = toolkit_selection(&mut self.req);
            sel.disable = Some(strings(toolkits));
            sel.enable = None;
            self
        }

        /// Calls of these toolkits' tools wait for the user's approval (experimental).
        pub fn toolkits_requiring_approval<S: Into<String>>(
            mut self,
            toolkits: impl IntoIterator<Item = S>,
        ) -> Self {
            toolkit_selection(&mut self.req).require_approval = Some(strings(toolkits));
            self
        }

        /// Only these tools of `toolkit` (replaces what was set for that toolkit).
        pub fn tools<S: Into<String>>(
            mut self,
            toolkit: impl Into<String>,
            tools: impl IntoIterator<Item = S>,
        ) -> Self {
            entry(&mut self.req.tools).insert(
                toolkit.into(),
                ListOr::Object(SelectionRequest {
                    enable: Some(strings(tools)),
                    ..SelectionRequest::default()
                }),
            );
            self
        }

        /// Every tool of `toolkit` but these (replaces what was set for that toolkit).
        pub fn disable_tools<S: Into<String>>(
            mut self,
            toolkit: impl Into<String>,
            tools: impl IntoIterator<Item = S>,
        ) -> Self {
            entry(&mut self.req.tools).insert(
                toolkit.into(),
                ListOr::Object(SelectionRequest {
                    disable: Some(strings(tools)),
                    ..SelectionRequest::default()
                }),
            );
            self
        }

        /// Filter `toolkit`'s tools by tags (replaces what was set for that toolkit).
        pub fn toolkit_tags(mut self, toolkit: impl Into<String>, tags: impl Into<Tags>) -> Self {
            entry(&mut self.req.tools).insert(
                toolkit.into(),
                ListOr::Object(SelectionRequest {
                    tags: Some(ListOr::Object(tags.into().0)),
                    ..SelectionRequest::default()
                }),
            );
            self
        }

        /// Filter every tool by tags.
        pub fn tags(mut self, tags: impl Into<Tags>) -> Self {
            self.req.tags = Nullable::Value(ListOr::Object(tags.into().0));
            self
        }

        /// Use this auth config (`ac_…`) for `toolkit`'s connections.
        pub fn auth_config(mut self, toolkit: impl Into<String>, id: impl Into<String>) -> Self {
            entry(&mut self.req.auth_configs).insert(toolkit.into(), id.into());
            self
        }

        /// Use this connected account (`ca_…`) for `toolkit`.
        pub fn connected_account(self, toolkit: impl Into<String>, id: impl Into<String>) -> Self {
            self.connected_accounts(toolkit, [id.into()])
        }

        /// Use these connected accounts for `toolkit` (more than one needs multi-account).
        pub fn connected_accounts<S: Into<String>>(
            mut self,
            toolkit: impl Into<String>,
            ids: impl IntoIterator<Item = S>,
        ) -> Self {
            entry(&mut self.req.connected_accounts)
                .insert(toolkit.into(), OneOrMany::Many(strings(ids)));
            self
        }

        /// Connection management; `false` turns `COMPOSIO_MANAGE_CONNECTIONS` off.
        pub fn manage_connections(mut self, settings: impl Into<ManageConnections>) -> Self {
            self.req.manage_connections = Nullable::Value(BoolOr::Object(settings.into().0));
            self
        }

        /// The workbench; `false` turns it off.
        pub fn workbench(mut self, settings: impl Into<Workbench>) -> Self {
            self.req.workbench = Nullable::Value(settings.into().0);
            self
        }

        pub fn multi_account(mut self, settings: MultiAccount) -> Self {
            self.req.multi_account = Nullable::Value(settings.0);
            self
        }

        /// Expose `COMPOSIO_PROXY_EXECUTE` (authenticated raw API calls).
        pub fn proxy_execute(mut self, on: bool) -> Self {
            self.req.proxy_execute = Nullable::Value(BoolOr::Object(EnableRequest {
                enable: Nullable::Value(on),
            }));
            self
        }

        /// InstantUsage usage settings; `false` turns it off.
        pub fn instant(mut self, settings: impl Into<InstantUsage>) -> Self {
            self.req.instant = Nullable::Value(settings.into().0);
            self
        }

        /// List these tools directly in `tools()` (keep it under about 20).
        pub fn preload_tools<S: Into<String>>(
            mut self,
            tools: impl IntoIterator<Item = S>,
        ) -> Self {
            self.req.preload = Nullable::Value(PreloadRequest {
                tools: Nullable::Value(OneOrMany::Many(strings(tools))),
            });
            self
        }

        /// List every tool the filters allow directly (needs a toolkit, tool or tag filter).
        pub fn preload_all(mut self) -> Self {
            self.req.preload = Nullable::Value(preload_all());
            self
        }

        /// Whether `COMPOSIO_SEARCH_TOOLS` and `COMPOSIO_GET_TOOL_SCHEMAS` are listed.
        pub fn search(mut self, on: bool) -> Self {
            self.req.search = Nullable::Value(EnableRequest {
                enable: Nullable::Value(on),
            });
            self
        }

        /// Whether `COMPOSIO_MULTI_EXECUTE_TOOL` is listed.
        pub fn multi_execute(mut self, on: bool) -> Self {
            self.req.execute = Nullable::Value(ExecuteRequest {
                enable_multi_execute: Nullable::Value(on),
            });
            self
        }

        /// The user's IANA time zone, for the assistive prompt (e.g. `America/New_York`).
        pub fn assistive_prompt_timezone(mut self, tz: impl Into<String>) -> Self {
            entry(&mut self.req.experimental).assistive_prompt_config =
                Nullable::Value(AssistivePromptRequest {
                    user_timezone: Nullable::Value(tz.into()),
                });
            self
        }

        /// Per-tool approval rules (experimental).
        pub fn permissions(mut self, permissions: PermissionsRequest) -> Self {
            entry(&mut self.req.experimental).permissions = Nullable::Value(permissions);
            self
        }

        /// Base URL for connection links created by this session (experimental).
        pub fn link_url_overwrite(mut self, url: impl Into<String>) -> Self {
            entry(&mut self.req.experimental).link_url_overwrite = Nullable::Value(url.into());
            self
        }

        /// Faster, less thorough search (experimental).
        pub fn fast_mode(mut self, on: bool) -> Self {
            entry(&mut self.req.experimental).fast_mode = Nullable::Value(on);
            self
        }

        /// Expose `COMPOSIO_SUBMIT_FEEDBACK` (experimental).
        pub fn submit_feedback(mut self, on: bool) -> Self {
            entry(&mut self.req.experimental).submit_feedback = Nullable::Value(EnableRequest {
                enable: Nullable::Value(on),
            });
            self
        }

        /// What happens to a call needing approval when the MCP client cannot ask the user.
        pub fn no_elicitation_support_fallback(mut self, fallback: ElicitationFallback) -> Self {
            entry(&mut self.req.experimental).no_elicitation_support_fallback =
                Nullable::Value(fallback.as_str().to_owned());
            self
        }

        /// Apply a saved session config (experimental; excludes filters and custom tools).
        pub fn session_config_id(mut self, id: impl Into<String>) -> Self {
            entry(&mut self.req.experimental).session_config_id = Nullable::Value(id.into());
            self
        }

        /// Execution hooks (sent verbatim; Python 0.30's `hooks`).
        pub fn hooks(mut self, hooks: Vec<HookRequest>) -> Self {
            self.req.hooks = Nullable::Value(hooks);
            self
        }
    };
}

/// Options for [`Client::create`](crate::Client::create). Everything is optional: the default
/// session offers every toolkit through the meta tools.
///
/// ```
/// use toolrouter_client::{SessionConfig, Tag, Tags, Workbench, SandboxSize};
///
/// let config = SessionConfig::new()
///     .toolkits(["github", "gmail", "slack"])
///     .tools("gmail", ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"])
///     .toolkit_tags("linear", [Tag::ReadOnlyHint])
///     .tags(Tags::new().disable([Tag::DestructiveHint]))
///     .auth_config("github", "ac_your_github_config")
///     .connected_account("gmail", "ca_work_gmail")
///     .workbench(Workbench::new().sandbox_size(SandboxSize::Large));
/// ```
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    req: SessionRequest,
    preset: Option<SessionPreset>,
    pub(crate) custom: CustomSet,
}

impl SessionConfig {
    pub fn new() -> Self {
        SessionConfig::default()
    }

    session_setters!();

    /// Apply a preset ([`SessionPreset::DirectTools`]); options set explicitly still win.
    pub fn preset(mut self, preset: SessionPreset) -> Self {
        self.preset = Some(preset);
        self
    }

    /// A custom tool, run in this process when the model calls it.
    pub fn custom_tool(mut self, tool: CustomTool) -> Self {
        self.custom.tools.push(tool);
        self
    }

    /// A custom toolkit, whose tools run in this process.
    pub fn custom_toolkit(mut self, toolkit: CustomToolkit) -> Self {
        self.custom.toolkits.push(toolkit);
        self
    }

    /// The create body for `user_id`, with the official SDKs' client-side defaults applied.
    pub fn to_request(&self, user_id: &str) -> SessionRequest {
        let mut req = self.req.clone();
        req.user_id = Some(user_id.to_owned());
        if self.preset == Some(SessionPreset::DirectTools) {
            // The preset is not sent as such: it is rewritten into what it means, as the SDKs do.
            if req.manage_connections.is_absent() {
                req.manage_connections = Nullable::Value(BoolOr::Bool(false));
            }
            if req.workbench.is_absent() {
                req.workbench = Nullable::Value(Workbench::from(false).0);
            }
            if req.preload.is_absent() {
                req.preload = Nullable::Value(preload_all());
            }
            req.search = Nullable::Value(EnableRequest {
                enable: Nullable::Value(false),
            });
            req.execute = Nullable::Value(ExecuteRequest {
                enable_multi_execute: Nullable::Value(false),
            });
        }
        // Always sent, `enable` defaulting to true.
        let mut manage = match std::mem::take(&mut req.manage_connections) {
            Nullable::Value(BoolOr::Object(m)) => m,
            Nullable::Value(BoolOr::Bool(b)) => ManageConnections::from(b).0,
            Nullable::Absent | Nullable::Null => ManageConnectionsRequest::default(),
        };
        if !matches!(manage.enable, Nullable::Value(_)) {
            manage.enable = Nullable::Value(true);
        }
        req.manage_connections = Nullable::Value(BoolOr::Object(manage));
        if let Nullable::Value(w) = &mut req.workbench
            && !matches!(w.enable, Nullable::Value(_))
        {
            w.enable = Nullable::Value(true);
        }
        if let Nullable::Value(m) = &mut req.multi_account
            && m.enable == Nullable::Value(true)
            && !matches!(m.require_explicit_selection, Nullable::Value(_))
        {
            m.require_explicit_selection = Nullable::Value(true);
        }
        if !self.custom.is_empty() {
            let defs = self.custom.definitions();
            let exp = entry(&mut req.experimental);
            exp.custom_tools = defs.custom_tools;
            exp.custom_toolkits = defs.custom_toolkits;
        }
        req
    }
}

/// Changes for [`Session::update`](crate::Session::update): only what is set is sent.
///
/// ```
/// use toolrouter_client::{ConfigKey, ManageConnections, SandboxSize, SessionUpdate, Workbench};
///
/// let update = SessionUpdate::new()
///     .toolkits(["gmail"])
///     .manage_connections(ManageConnections::new().clear_callback_url())
///     .workbench(Workbench::new().sandbox_size(SandboxSize::Medium))
///     .clear(ConfigKey::Tags)
///     .expected_config_version(1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SessionUpdate {
    req: SessionRequest,
}

impl SessionUpdate {
    pub fn new() -> Self {
        SessionUpdate::default()
    }

    session_setters!();

    /// Remove the stored value of `key`, restoring its default (sends `key: null`); e.g.
    /// `Toolkits` makes every toolkit available again.
    pub fn clear(mut self, key: ConfigKey) -> Self {
        let r = &mut self.req;
        match key {
            ConfigKey::Toolkits => r.toolkits = Nullable::Null,
            ConfigKey::AuthConfigs => r.auth_configs = Nullable::Null,
            ConfigKey::ConnectedAccounts => r.connected_accounts = Nullable::Null,
            ConfigKey::InstantUsage => r.instant = Nullable::Null,
            ConfigKey::ManageConnections => r.manage_connections = Nullable::Null,
            ConfigKey::Tools => r.tools = Nullable::Null,
            ConfigKey::Tags => r.tags = Nullable::Null,
            ConfigKey::Workbench => r.workbench = Nullable::Null,
            ConfigKey::MultiAccount => r.multi_account = Nullable::Null,
            ConfigKey::ProxyExecute => r.proxy_execute = Nullable::Null,
            ConfigKey::Preload => r.preload = Nullable::Null,
            ConfigKey::Search => r.search = Nullable::Null,
            ConfigKey::Execute => r.execute = Nullable::Null,
            ConfigKey::Experimental => r.experimental = Nullable::Null,
            ConfigKey::Hooks => r.hooks = Nullable::Null,
        }
        self
    }

    /// Refuse the update (409, [`Error::Conflict`](crate::Error::Conflict)) unless the session
    /// is still at this `config_version`.
    pub fn expected_config_version(mut self, version: i64) -> Self {
        self.req.expected_config_version = Some(version);
        self
    }

    /// The PATCH body.
    pub fn to_request(&self) -> SessionRequest {
        self.req.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(req: &SessionRequest, expected: &Expect) {
        expected.assert_eq(&serde_json::to_string_pretty(req).unwrap());
    }

    #[test]
    fn the_default_body_is_the_sdks_one() {
        check(
            &SessionConfig::new().to_request("user_123"),
            &expect![[r#"
                {
                  "user_id": "user_123",
                  "manage_connections": {
                    "enable": true
                  }
                }"#]],
        );
    }

    #[test]
    fn the_direct_tools_preset_is_expanded_and_explicit_options_win() {
        let base = SessionConfig::new()
            .toolkits(["gmail"])
            .tools("gmail", ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"])
            .preset(SessionPreset::DirectTools);
        check(
            &base.to_request("user_123"),
            &expect![[r#"
                {
                  "user_id": "user_123",
                  "toolkits": {
                    "enable": [
                      "gmail"
                    ]
                  },
                  "manage_connections": {
                    "enable": false
                  },
                  "tools": {
                    "gmail": {
                      "enable": [
                        "GMAIL_FETCH_EMAILS",
                        "GMAIL_CREATE_EMAIL_DRAFT"
                      ]
                    }
                  },
                  "workbench": {
                    "enable": false
                  },
                  "preload": {
                    "tools": "all"
                  },
                  "search": {
                    "enable": false
                  },
                  "execute": {
                    "enable_multi_execute": false
                  }
                }"#]],
        );
        let with_meta = base
            .manage_connections(ManageConnections::new().enable(true))
            .workbench(true);
        let req = with_meta.to_request("user_123");
        assert_eq!(
            serde_json::to_value(&req.manage_connections).unwrap(),
            serde_json::json!({"enable": true})
        );
        assert_eq!(
            serde_json::to_value(&req.workbench).unwrap(),
            serde_json::json!({"enable": true})
        );
    }

    #[test]
    fn every_option_lands_on_its_wire_key() {
        let config = SessionConfig::new()
            .disable_toolkits(["exa", "firecrawl"])
            .auth_config("github", "ac_github")
            .auth_config("slack", "ac_slack")
            .connected_account("gmail", "ca_work_gmail")
            .connected_accounts("github", ["ca_1", "ca_2"])
            .instant(
                InstantUsage::new()
                    .enable_toolkits(["exa"])
                    .return_instant_charge(true),
            )
            .manage_connections(
                ManageConnections::new()
                    .callback_url("https://myapp.com/callback")
                    .wait_for_connections(true),
            )
            .tools("gmail", ["GMAIL_SEND_EMAIL"])
            .disable_tools("slack", ["SLACK_DELETE_MESSAGE"])
            .toolkit_tags(
                "notion",
                Tags::new()
                    .enable([Tag::ReadOnlyHint])
                    .disable([Tag::DestructiveHint]),
            )
            .tags([Tag::ReadOnlyHint, Tag::IdempotentHint])
            .workbench(
                Workbench::new()
                    .proxy_execution(false)
                    .auto_offload_threshold(300)
                    .sandbox_size(SandboxSize::Xlarge),
            )
            .proxy_execute(true)
            .multi_account(MultiAccount::enabled().max_accounts_per_toolkit(3))
            .assistive_prompt_timezone("America/New_York")
            .no_elicitation_support_fallback(ElicitationFallback::Deny)
            .preload_tools(["GMAIL_SEND_EMAIL"])
            .search(true)
            .multi_execute(true);
        check(
            &config.to_request("user_123"),
            &expect![[r#"
                {
                  "user_id": "user_123",
                  "toolkits": {
                    "disable": [
                      "exa",
                      "firecrawl"
                    ]
                  },
                  "auth_configs": {
                    "github": "ac_github",
                    "slack": "ac_slack"
                  },
                  "connected_accounts": {
                    "github": [
                      "ca_1",
                      "ca_2"
                    ],
                    "gmail": [
                      "ca_work_gmail"
                    ]
                  },
                  "instant": {
                    "toolkits": {
                      "enable": [
                        "exa"
                      ]
                    },
                    "return_instant_charge": true
                  },
                  "manage_connections": {
                    "enable": true,
                    "callback_url": "https://myapp.com/callback",
                    "enable_wait_for_connections": true
                  },
                  "tools": {
                    "gmail": {
                      "enable": [
                        "GMAIL_SEND_EMAIL"
                      ]
                    },
                    "notion": {
                      "tags": {
                        "enable": [
                          "readOnlyHint"
                        ],
                        "disable": [
                          "destructiveHint"
                        ]
                      }
                    },
                    "slack": {
                      "disable": [
                        "SLACK_DELETE_MESSAGE"
                      ]
                    }
                  },
                  "tags": {
                    "enable": [
                      "readOnlyHint",
                      "idempotentHint"
                    ]
                  },
                  "workbench": {
                    "enable": true,
                    "enable_proxy_execution": false,
                    "auto_offload_threshold": 300.0,
                    "sandbox_size": "xlarge"
                  },
                  "proxy_execute": {
                    "enable": true
                  },
                  "multi_account": {
                    "enable": true,
                    "max_accounts_per_toolkit": 3,
                    "require_explicit_selection": true
                  },
                  "experimental": {
                    "assistive_prompt_config": {
                      "user_timezone": "America/New_York"
                    },
                    "no_elicitation_support_fallback": "deny"
                  },
                  "preload": {
                    "tools": [
                      "GMAIL_SEND_EMAIL"
                    ]
                  },
                  "search": {
                    "enable": true
                  },
                  "execute": {
                    "enable_multi_execute": true
                  }
                }"#]],
        );
    }

    #[test]
    fn enable_and_disable_toolkits_replace_each_other() {
        let req = SessionConfig::new()
            .toolkits(["a"])
            .toolkits_requiring_approval(["a"])
            .disable_toolkits(["b"])
            .to_request("u");
        assert_eq!(
            serde_json::to_value(&req.toolkits).unwrap(),
            serde_json::json!({"disable": ["b"], "require_approval": ["a"]})
        );
    }

    #[test]
    fn an_update_sends_only_what_was_set_and_null_only_when_cleared() {
        check(
            &SessionUpdate::new()
                .toolkits(["gmail"])
                .manage_connections(ManageConnections::new().clear_callback_url())
                .workbench(Workbench::new().sandbox_size(SandboxSize::Medium))
                .preload_tools(["GMAIL_FETCH_EMAILS"])
                .clear(ConfigKey::Tags)
                .expected_config_version(1)
                .to_request(),
            &expect![[r#"
                {
                  "toolkits": {
                    "enable": [
                      "gmail"
                    ]
                  },
                  "manage_connections": {
                    "callback_url": null
                  },
                  "tags": null,
                  "workbench": {
                    "sandbox_size": "medium"
                  },
                  "preload": {
                    "tools": [
                      "GMAIL_FETCH_EMAILS"
                    ]
                  },
                  "expected_config_version": 1
                }"#]],
        );
    }
}
