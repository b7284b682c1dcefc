//! How a create or update request changes a session configuration.
//!
//! Both requests carry the same keys (CONTRACT.md A.1/A.4), so both are one [`ConfigChange`]:
//! creating applies it to [`SessionConfig::new`], updating to the stored configuration. Every
//! key is a [`Field`]: absent keeps the current value, JSON `null` resets it to the default
//! ("remove the stored override"), a value replaces it. Maps (`tools`, `auth_configs`,
//! `connected_accounts`) and lists are replaced whole; the settings objects
//! (`manage_connections`, `workbench`, `multi_account`, `experimental`) are merged key by key,
//! so `{"workbench": {"sandbox_size": "large"}}` changes only the tier.
//!
//! Values arrive as the caller spelled them (slugs in any case, tags and tiers as strings) and
//! are normalised here: toolkit slugs lower-case, tool slugs upper-case, duplicates dropped.
//! Every problem is collected, so one answer lists them all.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    ConfigError, ElicitationFallback, Experimental, Hook, HookCheck, HookPoint, Instant,
    InstantConfig, ListFilter, ManageConnections, PermissionDefault, PermissionOverride,
    Permissions, Preload, Problem, SandboxSize, SessionConfig, SlugKind, SlugRef, Tag, TagFilter,
    ToolSelection, ToolkitTools, Toolkits, Workbench,
};
use crate::selection::MultiAccount;
use crate::{AuthConfigId, ConnectedAccountId};

/// One key of a change: absent, `null`, or a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Field<T> {
    /// Absent: keep the current value.
    #[default]
    Keep,
    /// `null`: back to the default.
    Reset,
    Set(T),
}

impl<T> Field<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Field::Keep)
    }

    /// `Some(value)` for a value, `None` for `null`; `Keep` leaves `current` alone.
    fn merge_into(&self, current: &mut Option<T>)
    where
        T: Clone,
    {
        match self {
            Field::Keep => {}
            Field::Reset => *current = None,
            Field::Set(v) => *current = Some(v.clone()),
        }
    }

    /// For settings with a fixed default: `null` restores `default`.
    fn merge_default(&self, current: &mut T, default: T)
    where
        T: Clone,
    {
        match self {
            Field::Keep => {}
            Field::Reset => *current = default,
            Field::Set(v) => *current = v.clone(),
        }
    }
}

/// `toolkits`, or one `instant` toolkit list: `enable` xor `disable`, plus approvals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListChange {
    pub enable: Option<Vec<String>>,
    pub disable: Option<Vec<String>>,
    pub require_approval: Option<Vec<String>>,
}

/// `tags`, globally or for one toolkit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagsChange {
    pub enable: Option<Vec<String>>,
    pub disable: Option<Vec<String>>,
    pub require_approval: Option<Vec<String>>,
}

/// One toolkit's `tools` entry: exactly one of `enable`, `disable`, `tags`, plus approvals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolsChange {
    pub enable: Option<Vec<String>>,
    pub disable: Option<Vec<String>>,
    pub tags: Option<TagsChange>,
    pub require_approval: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManageConnectionsChange {
    pub enable: Field<bool>,
    pub callback_url: Field<String>,
    pub wait_for_connections: Field<bool>,
    pub connection_removal: Field<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkbenchChange {
    pub enable: Field<bool>,
    pub tool_execution: Field<bool>,
    pub proxy_execution: Field<bool>,
    pub auto_offload_threshold: Field<f64>,
    /// One of [`SandboxSize::ALL`], any case.
    pub sandbox_size: Field<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MultiAccountChange {
    pub enable: Field<bool>,
    pub max_accounts_per_toolkit: Field<i64>,
    pub require_explicit_selection: Field<bool>,
}

/// `preload.tools`: a list of slugs, or a word (only `"all"` means something).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreloadTools {
    List(Vec<String>),
    Named(String),
}

/// `instant` / `premium_usage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstantChange {
    Disabled,
    Enabled(InstantSettingsChange),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstantSettingsChange {
    pub toolkits: Option<ListChange>,
    pub tools: BTreeMap<String, ListChange>,
    pub return_charge: Option<bool>,
    pub return_prices_in_search: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionsChange {
    pub default: String,
    pub overrides: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExperimentalChange {
    /// `assistive_prompt_config.user_timezone` (`assistive_prompt_config: null` resets it too).
    pub user_timezone: Field<String>,
    pub permissions: Field<PermissionsChange>,
    pub link_url_overwrite: Field<String>,
    pub fast_mode: Field<bool>,
    pub submit_feedback: Field<bool>,
    pub no_elicitation_support_fallback: Field<String>,
    pub session_config_id: Field<String>,
}

/// One `hooks` entry as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookChange {
    /// `before_execute` or `after_execute`.
    pub point: String,
    pub id: String,
    pub name: Option<String>,
    /// `None`: `applies_to: "all"`.
    pub toolkits: Option<Vec<String>>,
    /// `condition_check` or `prompt_injection_check`.
    pub handler: String,
    pub condition: Option<String>,
    /// Only `block` exists.
    pub action: String,
}

/// Everything a create or update request can change. See the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigChange {
    pub toolkits: Field<ListChange>,
    pub tools: Field<BTreeMap<String, ToolsChange>>,
    pub tags: Field<TagsChange>,
    pub auth_configs: Field<BTreeMap<String, String>>,
    pub connected_accounts: Field<BTreeMap<String, Vec<String>>>,
    pub manage_connections: Field<ManageConnectionsChange>,
    pub workbench: Field<WorkbenchChange>,
    pub multi_account: Field<MultiAccountChange>,
    pub proxy_execute: Field<bool>,
    pub preload: Field<PreloadTools>,
    pub search: Field<bool>,
    pub multi_execute: Field<bool>,
    pub instant: Field<InstantChange>,
    pub experimental: Field<ExperimentalChange>,
    pub hooks: Field<Vec<HookChange>>,
}

impl ConfigChange {
    /// The direct-tools preset (`session_preset="direct_tools"` in the SDKs, which send its
    /// expansion): preload every allowed tool and switch the meta tools off, except where the
    /// request says otherwise. Search and multi-execute are always off, as the SDKs send them.
    pub fn apply_direct_tools_preset(&mut self) {
        if self.manage_connections.is_keep() {
            self.manage_connections = Field::Set(ManageConnectionsChange {
                enable: Field::Set(false),
                ..ManageConnectionsChange::default()
            });
        }
        if self.workbench.is_keep() {
            self.workbench = Field::Set(WorkbenchChange {
                enable: Field::Set(false),
                ..WorkbenchChange::default()
            });
        }
        if self.preload.is_keep() {
            self.preload = Field::Set(PreloadTools::Named("all".to_owned()));
        }
        self.search = Field::Set(false);
        self.multi_execute = Field::Set(false);
    }
}

/// Longest accepted `user_id`.
pub const MAX_USER_ID_LEN: usize = 256;

#[derive(Debug, Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError { problems: self.0 })
        }
    }
}

fn one_of(values: impl IntoIterator<Item = &'static str>) -> String {
    values
        .into_iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Trimmed, cased, de-duplicated slugs (order kept); empty ones are problems.
fn slugs(list: &[String], field: &str, upper: bool, p: &mut Problems) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for s in list {
        let s = s.trim();
        if s.is_empty() {
            p.push(field, "contains an empty slug");
            continue;
        }
        let s = if upper {
            s.to_ascii_uppercase()
        } else {
            s.to_ascii_lowercase()
        };
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    out
}

fn toolkit_slugs(list: &[String], field: &str, p: &mut Problems) -> Vec<String> {
    slugs(list, field, false, p)
}

fn tool_slugs(list: &[String], field: &str, p: &mut Problems) -> Vec<String> {
    slugs(list, field, true, p)
}

fn toolkit_key(key: &str, field: &str, p: &mut Problems) -> Option<String> {
    let k = key.trim().to_ascii_lowercase();
    if k.is_empty() {
        p.push(field, "has an empty toolkit slug as a key");
        return None;
    }
    Some(k)
}

fn list_filter(
    enable: Option<&Vec<String>>,
    disable: Option<&Vec<String>>,
    field: &str,
    upper: bool,
    p: &mut Problems,
) -> Option<ListFilter> {
    match (enable, disable) {
        (Some(_), Some(_)) => {
            p.push(
                field,
                "give either `enable` (an allowlist) or `disable` (a denylist), not both",
            );
            None
        }
        (Some(e), None) => Some(ListFilter::Enabled(slugs(
            e,
            &format!("{field}.enable"),
            upper,
            p,
        ))),
        (None, Some(d)) => Some(ListFilter::Disabled(slugs(
            d,
            &format!("{field}.disable"),
            upper,
            p,
        ))),
        (None, None) => None,
    }
}

fn toolkits_from(c: &ListChange, field: &str, p: &mut Problems) -> Option<Toolkits> {
    let filter = list_filter(c.enable.as_ref(), c.disable.as_ref(), field, false, p);
    let require_approval = c
        .require_approval
        .as_ref()
        .map(|r| toolkit_slugs(r, &format!("{field}.require_approval"), p));
    if c.enable.is_none() && c.disable.is_none() && require_approval.is_none() {
        p.push(
            field,
            "give `enable` (a list of toolkit slugs), `disable`, or `require_approval`; \
             use `null` to allow every toolkit",
        );
        return None;
    }
    Some(Toolkits {
        filter,
        require_approval,
    })
}

fn tags(list: &[String], field: &str, p: &mut Problems) -> Vec<Tag> {
    let mut out: Vec<Tag> = Vec::new();
    for s in list {
        match Tag::parse(s) {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => p.push(
                field,
                format!(
                    "`{s}` is not a tag; use {}",
                    one_of(Tag::ALL.map(Tag::as_str))
                ),
            ),
        }
    }
    out
}

fn tag_filter(c: &TagsChange, field: &str, p: &mut Problems) -> Option<TagFilter> {
    let f = TagFilter {
        enabled: c
            .enable
            .as_ref()
            .map(|l| tags(l, &format!("{field}.enable"), p)),
        disabled: c
            .disable
            .as_ref()
            .map(|l| tags(l, &format!("{field}.disable"), p)),
        require_approval: c
            .require_approval
            .as_ref()
            .map(|l| tags(l, &format!("{field}.require_approval"), p)),
    };
    (f != TagFilter::default()).then_some(f)
}

fn toolkit_tools(c: &ToolsChange, field: &str, p: &mut Problems) -> Option<ToolkitTools> {
    let given = [c.enable.is_some(), c.disable.is_some(), c.tags.is_some()]
        .iter()
        .filter(|g| **g)
        .count();
    if given > 1 {
        p.push(field, "give only one of `enable`, `disable` and `tags`");
        return None;
    }
    let selection = if let Some(e) = &c.enable {
        Some(ToolSelection::Enabled(tool_slugs(
            e,
            &format!("{field}.enable"),
            p,
        )))
    } else if let Some(d) = &c.disable {
        Some(ToolSelection::Disabled(tool_slugs(
            d,
            &format!("{field}.disable"),
            p,
        )))
    } else {
        c.tags.as_ref().map(|t| {
            ToolSelection::Tags(tag_filter(t, &format!("{field}.tags"), p).unwrap_or_default())
        })
    };
    let require_approval = c
        .require_approval
        .as_ref()
        .map(|r| tool_slugs(r, &format!("{field}.require_approval"), p));
    if selection.is_none() && require_approval.is_none() {
        p.push(
            field,
            "give `enable` (a list of tool slugs), `disable`, `tags` or `require_approval`",
        );
        return None;
    }
    Some(ToolkitTools {
        selection,
        require_approval,
    })
}

fn http_url(url: &str, field: &str, p: &mut Problems) -> Option<String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.starts_with('/') && !url.contains(char::is_whitespace) =>
        {
            Some(url.to_owned())
        }
        _ => {
            p.push(field, format!("`{url}` is not an absolute http(s) URL"));
            None
        }
    }
}

fn parse_enum<T: Copy>(
    value: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    field: &str,
    what: &str,
    p: &mut Problems,
) -> Option<T> {
    let found = all
        .iter()
        .copied()
        .find(|v| name(*v).eq_ignore_ascii_case(value.trim()));
    if found.is_none() {
        p.push(
            field,
            format!(
                "`{value}` is not a {what}; use {}",
                one_of(all.iter().map(|v| name(*v)))
            ),
        );
    }
    found
}

impl SessionConfig {
    /// The configuration of a new session for `user_id`, with `change` applied.
    pub fn create(user_id: &str, change: &ConfigChange) -> Result<SessionConfig, ConfigError> {
        let mut p = Problems::default();
        let user = user_id.trim();
        if user.is_empty() {
            p.push("user_id", "is required and must not be empty");
        } else if user.chars().count() > MAX_USER_ID_LEN {
            p.push(
                "user_id",
                format!("must be at most {MAX_USER_ID_LEN} characters"),
            );
        }
        let mut config = SessionConfig::new(user);
        config.apply(change, &mut p);
        config.check(&mut p);
        p.finish(config)
    }

    /// This configuration with `change` applied; `self` is untouched either way.
    pub fn update(&self, change: &ConfigChange) -> Result<SessionConfig, ConfigError> {
        let mut p = Problems::default();
        let mut config = self.clone();
        config.apply(change, &mut p);
        config.check(&mut p);
        p.finish(config)
    }

    fn apply(&mut self, c: &ConfigChange, p: &mut Problems) {
        match &c.toolkits {
            Field::Keep => {}
            Field::Reset => self.toolkits = None,
            Field::Set(t) => self.toolkits = toolkits_from(t, "toolkits", p),
        }
        match &c.tools {
            Field::Keep => {}
            Field::Reset => self.tools.clear(),
            Field::Set(map) => {
                let mut tools = BTreeMap::new();
                for (key, value) in map {
                    let field = format!("tools.{key}");
                    let Some(tk) = toolkit_key(key, "tools", p) else {
                        continue;
                    };
                    if let Some(t) = toolkit_tools(value, &field, p)
                        && tools.insert(tk.clone(), t).is_some()
                    {
                        p.push("tools", format!("names toolkit `{tk}` more than once"));
                    }
                }
                self.tools = tools;
            }
        }
        match &c.tags {
            Field::Keep => {}
            Field::Reset => self.tags = None,
            Field::Set(t) => self.tags = tag_filter(t, "tags", p),
        }
        match &c.auth_configs {
            Field::Keep => {}
            Field::Reset => self.auth_configs.clear(),
            Field::Set(map) => {
                let mut out = BTreeMap::new();
                for (key, id) in map {
                    let Some(tk) = toolkit_key(key, "auth_configs", p) else {
                        continue;
                    };
                    match AuthConfigId::parse(id.trim()) {
                        Some(id) => {
                            out.insert(tk, id);
                        }
                        None => p.push(
                            format!("auth_configs.{key}"),
                            format!("`{id}` is not an auth config id (`ac_…`)"),
                        ),
                    }
                }
                self.auth_configs = out;
            }
        }
        match &c.connected_accounts {
            Field::Keep => {}
            Field::Reset => self.connected_accounts.clear(),
            Field::Set(map) => {
                let mut out = BTreeMap::new();
                for (key, ids) in map {
                    let Some(tk) = toolkit_key(key, "connected_accounts", p) else {
                        continue;
                    };
                    let mut parsed: Vec<ConnectedAccountId> = Vec::new();
                    for id in ids {
                        match ConnectedAccountId::parse(id.trim()) {
                            Some(id) if !parsed.contains(&id) => parsed.push(id),
                            Some(_) => {}
                            None => p.push(
                                format!("connected_accounts.{key}"),
                                format!("`{id}` is not a connected account id (`ca_…`)"),
                            ),
                        }
                    }
                    // An empty list pins nothing: the same as leaving the toolkit out.
                    if !parsed.is_empty() {
                        out.insert(tk, parsed);
                    }
                }
                self.connected_accounts = out;
            }
        }
        match &c.manage_connections {
            Field::Keep => {}
            Field::Reset => self.manage_connections = ManageConnections::default(),
            Field::Set(m) => {
                let d = ManageConnections::default();
                let cur = &mut self.manage_connections;
                m.enable.merge_default(&mut cur.enabled, d.enabled);
                m.wait_for_connections
                    .merge_default(&mut cur.wait_for_connections, d.wait_for_connections);
                m.connection_removal
                    .merge_default(&mut cur.connection_removal, d.connection_removal);
                match &m.callback_url {
                    Field::Keep => {}
                    Field::Reset => cur.callback_url = None,
                    Field::Set(url) => {
                        cur.callback_url = http_url(url, "manage_connections.callback_url", p);
                    }
                }
            }
        }
        match &c.workbench {
            Field::Keep => {}
            Field::Reset => self.workbench = Workbench::default(),
            Field::Set(w) => {
                let d = Workbench::default();
                let cur = &mut self.workbench;
                w.enable.merge_default(&mut cur.enabled, d.enabled);
                w.tool_execution.merge_into(&mut cur.tool_execution);
                w.proxy_execution.merge_into(&mut cur.proxy_execution);
                match &w.auto_offload_threshold {
                    Field::Keep => {}
                    Field::Reset => cur.auto_offload_threshold = d.auto_offload_threshold,
                    Field::Set(n) if n.is_finite() && *n >= 0.0 && *n <= 1e15 => {
                        // Checked range: the cast is exact for whole numbers and rounds others.
                        cur.auto_offload_threshold = n.round() as u64;
                    }
                    Field::Set(n) => p.push(
                        "workbench.auto_offload_threshold",
                        format!("must be a non-negative number of characters, got {n}"),
                    ),
                }
                match &w.sandbox_size {
                    Field::Keep => {}
                    Field::Reset => cur.sandbox_size = SandboxSize::default(),
                    Field::Set(s) => {
                        if let Some(z) = parse_enum(
                            s,
                            &SandboxSize::ALL,
                            SandboxSize::as_str,
                            "workbench.sandbox_size",
                            "sandbox size",
                            p,
                        ) {
                            cur.sandbox_size = z;
                        }
                    }
                }
            }
        }
        match &c.multi_account {
            Field::Keep => {}
            Field::Reset => self.multi_account = None,
            Field::Set(m) => {
                let mut cur = self.multi_account.take().unwrap_or_default();
                m.enable.merge_default(&mut cur.enabled, false);
                m.require_explicit_selection
                    .merge_into(&mut cur.require_explicit_selection);
                match &m.max_accounts_per_toolkit {
                    Field::Keep => {}
                    Field::Reset => cur.max_accounts_per_toolkit = None,
                    Field::Set(n) => match u8::try_from(*n).ok().filter(|n| {
                        (MultiAccount::MIN_ACCOUNTS..=MultiAccount::MAX_ACCOUNTS).contains(n)
                    }) {
                        Some(n) => cur.max_accounts_per_toolkit = Some(n),
                        None => p.push(
                            "multi_account.max_accounts_per_toolkit",
                            format!(
                                "must be between {} and {}, got {n}",
                                MultiAccount::MIN_ACCOUNTS,
                                MultiAccount::MAX_ACCOUNTS
                            ),
                        ),
                    },
                }
                self.multi_account = Some(cur);
            }
        }
        match &c.proxy_execute {
            Field::Keep => {}
            Field::Reset => self.proxy_execute = None,
            Field::Set(b) => self.proxy_execute = Some(*b),
        }
        match &c.preload {
            Field::Keep => {}
            Field::Reset => self.preload = Preload::default(),
            Field::Set(PreloadTools::List(list)) => {
                self.preload = Preload::Tools(tool_slugs(list, "preload.tools", p));
            }
            Field::Set(PreloadTools::Named(word)) if word.trim().eq_ignore_ascii_case("all") => {
                self.preload = Preload::All;
            }
            Field::Set(PreloadTools::Named(word)) => p.push(
                "preload.tools",
                format!("must be a list of tool slugs or \"all\", got \"{word}\""),
            ),
        }
        c.search.merge_into(&mut self.search);
        c.multi_execute.merge_into(&mut self.multi_execute);
        match &c.instant {
            Field::Keep => {}
            Field::Reset => self.instant = Instant::default(),
            Field::Set(InstantChange::Disabled) => self.instant = Instant::Disabled,
            Field::Set(InstantChange::Enabled(s)) => {
                let toolkits = s.toolkits.as_ref().and_then(|t| {
                    let f = list_filter(
                        t.enable.as_ref(),
                        t.disable.as_ref(),
                        "instant.toolkits",
                        false,
                        p,
                    );
                    if f.is_none() && t.enable.is_none() && t.disable.is_none() {
                        p.push("instant.toolkits", "give `enable` or `disable`");
                    }
                    f
                });
                let mut tools = BTreeMap::new();
                for (key, t) in &s.tools {
                    let field = format!("instant.tools.{key}");
                    let Some(tk) = toolkit_key(key, "instant.tools", p) else {
                        continue;
                    };
                    match list_filter(t.enable.as_ref(), t.disable.as_ref(), &field, true, p) {
                        Some(f) => {
                            tools.insert(tk, f);
                        }
                        None if t.enable.is_none() && t.disable.is_none() => {
                            p.push(field, "give `enable` or `disable`");
                        }
                        None => {}
                    }
                }
                self.instant = Instant::Enabled(InstantConfig {
                    toolkits,
                    tools,
                    return_charge: s.return_charge.unwrap_or(false),
                    return_prices_in_search: s.return_prices_in_search.unwrap_or(false),
                });
            }
        }
        match &c.experimental {
            Field::Keep => {}
            Field::Reset => self.experimental = Experimental::default(),
            Field::Set(e) => self.apply_experimental(e, p),
        }
        match &c.hooks {
            Field::Keep => {}
            Field::Reset => self.hooks.clear(),
            Field::Set(list) => {
                let mut hooks: Vec<Hook> = Vec::new();
                for (i, h) in list.iter().enumerate() {
                    if let Some(hook) = hook_from(h, &format!("hooks[{i}]"), p) {
                        if hooks.iter().any(|x| x.id == hook.id) {
                            p.push(
                                format!("hooks[{i}].id"),
                                format!("`{}` is used by another hook", hook.id),
                            );
                        }
                        hooks.push(hook);
                    }
                }
                self.hooks = hooks;
            }
        }
    }

    fn apply_experimental(&mut self, e: &ExperimentalChange, p: &mut Problems) {
        let cur = &mut self.experimental;
        match &e.user_timezone {
            Field::Keep => {}
            Field::Reset => cur.user_timezone = None,
            Field::Set(tz) => {
                let tz = tz.trim();
                // IANA names are `Area/Location` (or `UTC`): letters, digits, `_`, `-`, `+`, `/`.
                let plausible = !tz.is_empty()
                    && tz.len() <= 64
                    && tz
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-+/".contains(&b));
                if plausible {
                    cur.user_timezone = Some(tz.to_owned());
                } else {
                    p.push(
                        "experimental.assistive_prompt_config.user_timezone",
                        format!("`{tz}` is not an IANA time zone name such as `America/New_York`"),
                    );
                }
            }
        }
        match &e.permissions {
            Field::Keep => {}
            Field::Reset => cur.permissions = None,
            Field::Set(perm) => {
                let default = parse_enum(
                    &perm.default,
                    &PermissionDefault::ALL,
                    PermissionDefault::as_str,
                    "experimental.permissions.default",
                    "permission default",
                    p,
                );
                let mut overrides = BTreeMap::new();
                for (key, value) in &perm.overrides {
                    if let Some(o) = parse_enum(
                        value,
                        &PermissionOverride::ALL,
                        PermissionOverride::as_str,
                        &format!("experimental.permissions.overrides.{key}"),
                        "permission override",
                        p,
                    ) {
                        overrides.insert(key.trim().to_owned(), o);
                    }
                }
                if let Some(default) = default {
                    cur.permissions = Some(Permissions { default, overrides });
                }
            }
        }
        match &e.link_url_overwrite {
            Field::Keep => {}
            Field::Reset => cur.link_url_overwrite = None,
            Field::Set(url) => {
                cur.link_url_overwrite = http_url(url, "experimental.link_url_overwrite", p);
            }
        }
        e.fast_mode.merge_into(&mut cur.fast_mode);
        e.submit_feedback.merge_into(&mut cur.submit_feedback);
        match &e.no_elicitation_support_fallback {
            Field::Keep => {}
            Field::Reset => cur.no_elicitation_support_fallback = None,
            Field::Set(v) => {
                if let Some(f) = parse_enum(
                    v,
                    &ElicitationFallback::ALL,
                    ElicitationFallback::as_str,
                    "experimental.no_elicitation_support_fallback",
                    "fallback",
                    p,
                ) {
                    cur.no_elicitation_support_fallback = Some(f);
                }
            }
        }
        match &e.session_config_id {
            Field::Keep => {}
            Field::Reset => cur.session_config_id = None,
            Field::Set(id) if id.trim().is_empty() => p.push(
                "experimental.session_config_id",
                "must not be empty; use `null` to remove it",
            ),
            Field::Set(id) => cur.session_config_id = Some(id.trim().to_owned()),
        }
    }

    /// The rules that relate several settings. Runs on the result of every change, so no
    /// sequence of updates can store a configuration `create` would refuse.
    fn check(&self, p: &mut Problems) {
        let multi = self.multi_account.as_ref().filter(|m| m.enabled);
        let preloads = match &self.preload {
            Preload::All => true,
            Preload::Tools(t) => !t.is_empty(),
        };
        if multi.is_some() && preloads {
            p.push(
                "preload.tools",
                "preloading is not supported when `multi_account.enable` is true; \
                 remove `preload.tools` or turn multi-account off",
            );
        }
        if self.preload == Preload::All && !self.has_positive_filter() {
            p.push(
                "preload.tools",
                "\"all\" needs a positive filter to bound it: set `toolkits.enable`, \
                 `tools.<toolkit>.enable` or `tags.enable`",
            );
        }
        let max = match multi {
            None => 1,
            Some(m) => m
                .max_accounts_per_toolkit
                .unwrap_or(MultiAccount::DEFAULT_ACCOUNTS),
        };
        for (tk, ids) in &self.connected_accounts {
            if ids.len() > usize::from(max) {
                let hint = if multi.is_some() {
                    format!(
                        "at most {max} accounts per toolkit (`multi_account.max_accounts_per_toolkit`)"
                    )
                } else {
                    "only one account per toolkit unless `multi_account.enable` is true".to_owned()
                };
                p.push(
                    format!("connected_accounts.{tk}"),
                    format!("lists {} accounts; {hint}", ids.len()),
                );
            }
        }
        if self.proxy_execute == Some(false) && self.workbench.proxy_execution == Some(true) {
            p.push(
                "workbench.enable_proxy_execution",
                "cannot be true while `proxy_execute.enable` is false; change one of them",
            );
        }
    }

    /// Every catalog slug this configuration names, for the app to check.
    pub fn slug_refs(&self) -> Vec<SlugRef> {
        let mut out = Vec::new();
        let toolkit = |field: String, slug: &str, out: &mut Vec<SlugRef>| {
            out.push(SlugRef {
                field,
                slug: slug.to_owned(),
                kind: SlugKind::Toolkit,
            });
        };
        fn tool(out: &mut Vec<SlugRef>, field: String, slug: &str, toolkit: Option<&str>) {
            out.push(SlugRef {
                field,
                slug: slug.to_owned(),
                kind: SlugKind::Tool {
                    toolkit: toolkit.map(str::to_owned),
                },
            });
        }
        if let Some(t) = &self.toolkits {
            match &t.filter {
                Some(ListFilter::Enabled(l)) => {
                    l.iter()
                        .for_each(|s| toolkit("toolkits.enable".into(), s, &mut out));
                }
                Some(ListFilter::Disabled(l)) => {
                    l.iter()
                        .for_each(|s| toolkit("toolkits.disable".into(), s, &mut out));
                }
                None => {}
            }
            for s in t.require_approval.iter().flatten() {
                toolkit("toolkits.require_approval".into(), s, &mut out);
            }
        }
        for (tk, t) in &self.tools {
            toolkit("tools".into(), tk, &mut out);
            let (field, list) = match &t.selection {
                Some(ToolSelection::Enabled(l)) => ("enable", l.as_slice()),
                Some(ToolSelection::Disabled(l)) => ("disable", l.as_slice()),
                _ => ("", &[][..]),
            };
            for s in list {
                tool(&mut out, format!("tools.{tk}.{field}"), s, Some(tk));
            }
            for s in t.require_approval.iter().flatten() {
                tool(
                    &mut out,
                    format!("tools.{tk}.require_approval"),
                    s,
                    Some(tk),
                );
            }
        }
        for tk in self.auth_configs.keys() {
            toolkit("auth_configs".into(), tk, &mut out);
        }
        for tk in self.connected_accounts.keys() {
            toolkit("connected_accounts".into(), tk, &mut out);
        }
        if let Preload::Tools(list) = &self.preload {
            for s in list {
                tool(&mut out, "preload.tools".into(), s, None);
            }
        }
        if let Instant::Enabled(i) = &self.instant {
            match &i.toolkits {
                Some(ListFilter::Enabled(l) | ListFilter::Disabled(l)) => {
                    l.iter()
                        .for_each(|s| toolkit("instant.toolkits".into(), s, &mut out));
                }
                None => {}
            }
            for (tk, f) in &i.tools {
                toolkit("instant.tools".into(), tk, &mut out);
                let (ListFilter::Enabled(l) | ListFilter::Disabled(l)) = f;
                for s in l {
                    tool(&mut out, format!("instant.tools.{tk}"), s, Some(tk));
                }
            }
        }
        for (i, h) in self.hooks.iter().enumerate() {
            for s in h.toolkits.iter().flatten() {
                toolkit(format!("hooks[{i}].applies_to.toolkits"), s, &mut out);
            }
        }
        out
    }
}

fn hook_from(h: &HookChange, field: &str, p: &mut Problems) -> Option<Hook> {
    let before = p.0.len();
    let point = match h.point.trim() {
        "before_execute" => Some(HookPoint::BeforeExecute),
        "after_execute" => Some(HookPoint::AfterExecute),
        other => {
            p.push(
                format!("{field}.type"),
                format!("`{other}` is not a hook type; use `before_execute` or `after_execute`"),
            );
            None
        }
    };
    let id = h.id.trim();
    if id.is_empty() {
        p.push(format!("{field}.id"), "must not be empty");
    }
    if h.action.trim() != "block" {
        p.push(
            format!("{field}.handler.action"),
            format!(
                "`{}` is not an action; the only action is `block`",
                h.action
            ),
        );
    }
    let check = match h.handler.trim() {
        "condition_check" => match h.condition.as_deref().map(str::trim) {
            Some(c) if !c.is_empty() => Some(HookCheck::Condition(c.to_owned())),
            _ => {
                p.push(
                    format!("{field}.handler.condition"),
                    "is required for a `condition_check` handler",
                );
                None
            }
        },
        "prompt_injection_check" => Some(HookCheck::PromptInjection),
        other => {
            p.push(
                format!("{field}.handler.type"),
                format!(
                    "`{other}` is not a handler type; use `condition_check` or `prompt_injection_check`"
                ),
            );
            None
        }
    };
    let toolkits = h
        .toolkits
        .as_ref()
        .map(|l| toolkit_slugs(l, &format!("{field}.applies_to.toolkits"), p));
    if p.0.len() != before {
        return None;
    }
    Some(Hook {
        id: id.to_owned(),
        name: h.name.clone().filter(|n| !n.trim().is_empty()),
        point: point?,
        toolkits,
        check: check?,
    })
}
