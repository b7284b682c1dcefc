//! Sessions between the wire and the app: request bodies (request spelling, CONTRACT.md A.1/A.4)
//! become core config changes, and sessions become responses (echo spelling, A.2). This is the
//! one place the two spellings meet, so `toolkits.enable` → `config.toolkits.enabled` and its
//! siblings are translated exactly once.

use std::collections::BTreeMap;

use toolrouter_api::catalog::Paginated;
use toolrouter_api::session::{
    AccountAuthConfig, BoolOr, ConfigHistoryItem, CustomToolEcho, CustomToolRequest,
    CustomToolkitEcho, CustomToolkitRequest, EnableEcho, EnableRequest, ExecuteEcho,
    ExperimentalRequest, HookRequest, HookScope, InstantEcho, InstantEchoSettings, InstantRequest,
    ListOr, ManageConnectionsEcho, McpServer, MultiAccountEcho, Nullable, OneOrMany, PreloadEcho,
    PreloadToolsEcho, SelectionEcho, SelectionRequest, SessionConfigEcho, SessionExperimental,
    SessionRequest, SessionResponse, SessionToolkitAccount, SessionToolkitItem, SessionToolkitMeta,
    SessionWarning, TagsEcho, TagsRequest, WorkbenchEcho,
};
use toolrouter_app::session::{
    AssignedCustomTools, AssignedTool, CustomTool, CustomToolkit, CustomTools, HistoryEntry,
    SessionToolkit, SessionView,
};
use toolrouter_app::{App, AppError};
use toolrouter_core::ErrorCode;
use toolrouter_core::session::change::{
    ExperimentalChange, HookChange, InstantChange, InstantSettingsChange, ListChange,
    ManageConnectionsChange, MultiAccountChange, PermissionsChange, PreloadTools, TagsChange,
    ToolsChange, WorkbenchChange,
};
use toolrouter_core::session::{
    ConfigChange, Field, Instant, ListFilter, Preload, SessionConfig, Tag, TagFilter, ToolSelection,
};

use crate::ApiError;
use crate::origin::Origin;

// ---------------------------------------------------------------------------------------------
// Requests.

/// Absent → keep, `null` → reset, a value → set.
fn field<T, U>(n: &Nullable<T>, f: impl FnOnce(&T) -> U) -> Field<U> {
    match n {
        Nullable::Absent => Field::Keep,
        Nullable::Null => Field::Reset,
        Nullable::Value(v) => Field::Set(f(v)),
    }
}

/// For settings objects with a single key (`search: {enable}`): the object's absence, `null`,
/// and its key's absence, `null` or value, read as one field.
fn inner<T, U: Clone>(n: &Nullable<T>, get: impl FnOnce(&T) -> &Nullable<U>) -> Field<U> {
    match n {
        Nullable::Absent => Field::Keep,
        Nullable::Null => Field::Reset,
        Nullable::Value(v) => field(get(v), Clone::clone),
    }
}

fn copy<T: Clone>(n: &Nullable<T>) -> Field<T> {
    field(n, Clone::clone)
}

fn list_change(s: &ListOr<SelectionRequest>) -> ListChange {
    match s {
        ListOr::List(l) => ListChange {
            enable: Some(l.clone()),
            ..ListChange::default()
        },
        ListOr::Object(o) => ListChange {
            enable: o.enable.clone(),
            disable: o.disable.clone(),
            require_approval: o.require_approval.clone(),
        },
    }
}

fn tags_change(t: &ListOr<TagsRequest>) -> TagsChange {
    match t {
        ListOr::List(l) => TagsChange {
            enable: Some(l.clone()),
            ..TagsChange::default()
        },
        ListOr::Object(o) => TagsChange {
            enable: o.enable.clone(),
            disable: o.disable.clone(),
            require_approval: o.require_approval.clone(),
        },
    }
}

fn tools_change(s: &ListOr<SelectionRequest>) -> ToolsChange {
    match s {
        ListOr::List(l) => ToolsChange {
            enable: Some(l.clone()),
            ..ToolsChange::default()
        },
        ListOr::Object(o) => ToolsChange {
            enable: o.enable.clone(),
            disable: o.disable.clone(),
            tags: o.tags.as_ref().map(tags_change),
            require_approval: o.require_approval.clone(),
        },
    }
}

fn instant_change(i: &BoolOr<InstantRequest>) -> InstantChange {
    match i {
        BoolOr::Bool(false) => InstantChange::Disabled,
        BoolOr::Bool(true) => InstantChange::Enabled(InstantSettingsChange::default()),
        BoolOr::Object(o) => InstantChange::Enabled(InstantSettingsChange {
            toolkits: o.toolkits.as_ref().map(|t| ListChange {
                enable: t.enable.clone(),
                disable: t.disable.clone(),
                require_approval: None,
            }),
            tools: o
                .tools
                .iter()
                .flatten()
                .map(|(k, t)| {
                    (
                        k.clone(),
                        ListChange {
                            enable: t.enable.clone(),
                            disable: t.disable.clone(),
                            require_approval: None,
                        },
                    )
                })
                .collect(),
            return_charge: o.return_instant_charge.or(o.return_premium_charge),
            return_prices_in_search: o.return_prices_in_search,
        }),
    }
}

fn experimental_change(e: &ExperimentalRequest) -> ExperimentalChange {
    ExperimentalChange {
        user_timezone: inner(&e.assistive_prompt_config, |a| &a.user_timezone),
        permissions: field(&e.permissions, |p| PermissionsChange {
            default: p.default.clone(),
            overrides: p.overrides.clone().unwrap_or_default(),
        }),
        link_url_overwrite: copy(&e.link_url_overwrite),
        fast_mode: copy(&e.fast_mode),
        submit_feedback: inner(&e.submit_feedback, |s| &s.enable),
        no_elicitation_support_fallback: copy(&e.no_elicitation_support_fallback),
        session_config_id: copy(&e.session_config_id),
    }
}

fn hook_change(h: &HookRequest) -> HookChange {
    HookChange {
        point: h.kind.clone(),
        id: h.id.clone(),
        name: h.name.clone(),
        toolkits: match &h.applies_to {
            HookScope::All => None,
            HookScope::Toolkits(t) => Some(t.clone()),
        },
        handler: h.handler.kind.clone(),
        condition: h.handler.condition.clone(),
        action: h.handler.action.clone().unwrap_or_default(),
    }
}

/// The configuration change a create or update body asks for.
pub(crate) fn config_change(r: &SessionRequest) -> ConfigChange {
    // `premium_usage` is TypeScript's `instant`; a body carries one or the other.
    let instant = if r.instant.is_absent() {
        &r.premium_usage
    } else {
        &r.instant
    };
    ConfigChange {
        toolkits: field(&r.toolkits, list_change),
        tools: field(&r.tools, |m| {
            m.iter()
                .map(|(k, v)| (k.clone(), tools_change(v)))
                .collect()
        }),
        tags: field(&r.tags, tags_change),
        auth_configs: copy(&r.auth_configs),
        connected_accounts: field(&r.connected_accounts, |m| {
            m.iter()
                .map(|(k, v)| {
                    let ids = match v {
                        OneOrMany::One(id) => vec![id.clone()],
                        OneOrMany::Many(ids) => ids.clone(),
                    };
                    (k.clone(), ids)
                })
                .collect()
        }),
        manage_connections: field(&r.manage_connections, |m| match m {
            BoolOr::Bool(b) => ManageConnectionsChange {
                enable: Field::Set(*b),
                ..ManageConnectionsChange::default()
            },
            BoolOr::Object(o) => ManageConnectionsChange {
                enable: copy(&o.enable),
                callback_url: copy(&o.callback_url),
                wait_for_connections: copy(&o.enable_wait_for_connections),
                connection_removal: copy(&o.enable_connection_removal),
            },
        }),
        workbench: field(&r.workbench, |w| WorkbenchChange {
            enable: copy(&w.enable),
            tool_execution: copy(&w.enable_tool_execution),
            proxy_execution: copy(&w.enable_proxy_execution),
            auto_offload_threshold: copy(&w.auto_offload_threshold),
            sandbox_size: copy(&w.sandbox_size),
        }),
        multi_account: field(&r.multi_account, |m| MultiAccountChange {
            enable: copy(&m.enable),
            max_accounts_per_toolkit: copy(&m.max_accounts_per_toolkit),
            require_explicit_selection: copy(&m.require_explicit_selection),
        }),
        proxy_execute: match &r.proxy_execute {
            Nullable::Absent => Field::Keep,
            Nullable::Null => Field::Reset,
            Nullable::Value(BoolOr::Bool(b)) => Field::Set(*b),
            Nullable::Value(BoolOr::Object(o)) => copy(&o.enable),
        },
        preload: match &r.preload {
            Nullable::Absent => Field::Keep,
            Nullable::Null => Field::Reset,
            Nullable::Value(p) => field(&p.tools, |t| match t {
                OneOrMany::One(word) => PreloadTools::Named(word.clone()),
                OneOrMany::Many(list) => PreloadTools::List(list.clone()),
            }),
        },
        search: inner(&r.search, |s: &EnableRequest| &s.enable),
        multi_execute: inner(&r.execute, |e| &e.enable_multi_execute),
        instant: field(instant, instant_change),
        experimental: field(&r.experimental, experimental_change),
        hooks: field(&r.hooks, |h| h.iter().map(hook_change).collect()),
    }
}

fn custom_tool(t: &CustomToolRequest) -> CustomTool {
    CustomTool {
        slug: t.slug.clone(),
        name: t.name.clone(),
        description: t.description.clone(),
        input_schema: t.input_schema.clone(),
        output_schema: t.output_schema.clone(),
        extends_toolkit: t.extends_toolkit.clone(),
        preload: t.preload,
    }
}

/// Custom tools and toolkits of a create or attach body.
pub(crate) fn custom_tools(
    tools: Option<&Vec<CustomToolRequest>>,
    toolkits: Option<&Vec<CustomToolkitRequest>>,
) -> CustomTools {
    CustomTools {
        tools: tools.into_iter().flatten().map(custom_tool).collect(),
        toolkits: toolkits
            .into_iter()
            .flatten()
            .map(|tk| CustomToolkit {
                slug: tk.slug.clone(),
                name: tk.name.clone(),
                description: tk.description.clone(),
                preload: tk.preload,
                tools: tk
                    .tools
                    .iter()
                    .map(|t| CustomTool {
                        extends_toolkit: None,
                        ..custom_tool(t)
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Whether the body names the direct-tools preset; any other preset is refused.
pub(crate) fn direct_tools_preset(r: &SessionRequest) -> Result<bool, ApiError> {
    match r.session_preset.as_deref().map(str::trim) {
        None | Some("") => Ok(false),
        Some(p) if p.eq_ignore_ascii_case("direct_tools") => Ok(true),
        Some(p) => Err(ApiError(
            AppError::new(
                ErrorCode::ValidationFailed,
                format!("`session_preset`: `{p}` is not a preset; the only one is `direct_tools`"),
            )
            .with_fix("Leave `session_preset` out, or send `direct_tools`."),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Responses.

fn tag_names(tags: &[Tag]) -> Vec<String> {
    tags.iter().map(|t| t.as_str().to_owned()).collect()
}

fn tags_echo(f: &TagFilter) -> TagsEcho {
    TagsEcho {
        enabled: f.enabled.as_deref().map(tag_names),
        disabled: f.disabled.as_deref().map(tag_names),
        require_approval: f.require_approval.as_deref().map(tag_names),
    }
}

fn list_echo(f: Option<&ListFilter>, require_approval: Option<&Vec<String>>) -> SelectionEcho {
    let (enabled, disabled) = match f {
        Some(ListFilter::Enabled(l)) => (Some(l.clone()), None),
        Some(ListFilter::Disabled(l)) => (None, Some(l.clone())),
        None => (None, None),
    };
    SelectionEcho {
        enabled,
        disabled,
        tags: None,
        require_approval: require_approval.cloned(),
    }
}

fn non_empty<K: Ord + Clone, V, U>(
    m: &BTreeMap<K, V>,
    f: impl Fn(&V) -> U,
) -> Option<BTreeMap<K, U>> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), f(v))).collect())
}

/// The configuration in echo spelling.
pub(crate) fn config_echo(c: &SessionConfig) -> SessionConfigEcho {
    let mc = &c.manage_connections;
    let wb = &c.workbench;
    SessionConfigEcho {
        user_id: c.user_id.clone(),
        toolkits: c
            .toolkits
            .as_ref()
            .map(|t| list_echo(t.filter.as_ref(), t.require_approval.as_ref())),
        auth_configs: non_empty(&c.auth_configs, ToString::to_string),
        instant: match &c.instant {
            Instant::Disabled => InstantEcho::Off(false),
            Instant::Enabled(i) => InstantEcho::On(InstantEchoSettings {
                toolkits: i.toolkits.as_ref().map(|f| list_echo(Some(f), None)),
                tools: non_empty(&i.tools, |f| list_echo(Some(f), None)),
                return_instant_charge: i.return_charge,
                return_prices_in_search: i.return_prices_in_search,
            }),
        },
        manage_connections: ManageConnectionsEcho {
            enabled: mc.enabled,
            callback_url: mc.callback_url.clone(),
            enable_wait_for_connections: mc.wait_for_connections,
            enable_connection_removal: mc.connection_removal,
        },
        tools: non_empty(&c.tools, |t| {
            let mut echo = SelectionEcho {
                require_approval: t.require_approval.clone(),
                ..SelectionEcho::default()
            };
            match &t.selection {
                Some(ToolSelection::Enabled(l)) => echo.enabled = Some(l.clone()),
                Some(ToolSelection::Disabled(l)) => echo.disabled = Some(l.clone()),
                Some(ToolSelection::Tags(f)) => echo.tags = Some(tags_echo(f)),
                None => {}
            }
            echo
        }),
        tags: c.tags.as_ref().map(tags_echo),
        workbench: WorkbenchEcho {
            enable: wb.enabled,
            tool_execution_enabled: wb.tool_execution,
            proxy_execution_enabled: wb.proxy_execution.unwrap_or(true),
            auto_offload_threshold: wb.auto_offload_threshold,
            sandbox_size: wb.sandbox_size.as_str().to_owned(),
        },
        multi_account: c.multi_account.as_ref().map(|m| MultiAccountEcho {
            enable: Some(m.enabled),
            max_accounts_per_toolkit: m.max_accounts_per_toolkit,
            require_explicit_selection: m.require_explicit_selection,
        }),
        proxy_execute: c.proxy_execute.map(|b| EnableEcho { enable: Some(b) }),
        preload: PreloadEcho {
            tools: match &c.preload {
                Preload::All => PreloadToolsEcho::Word("all".to_owned()),
                Preload::Tools(l) => PreloadToolsEcho::List(l.clone()),
            },
        },
        connected_accounts: non_empty(&c.connected_accounts, |ids| {
            ids.iter().map(ToString::to_string).collect()
        }),
        search: EnableEcho { enable: c.search },
        execute: ExecuteEcho {
            enable_multi_execute: c.multi_execute,
        },
    }
}

fn tool_echo(t: &AssignedTool, standalone: bool) -> CustomToolEcho {
    CustomToolEcho {
        slug: t.slug.clone(),
        name: t.def.name.clone(),
        description: t.def.description.clone(),
        input_schema: t.def.input_schema.clone(),
        output_schema: t.def.output_schema.clone(),
        extends_toolkit: standalone.then(|| t.def.extends_toolkit.clone()),
        original_slug: t.def.slug.clone(),
        preload: t.def.preload,
    }
}

fn custom_echo(c: &AssignedCustomTools) -> (Vec<CustomToolEcho>, Vec<CustomToolkitEcho>) {
    let tools = c.tools.iter().map(|t| tool_echo(t, true)).collect();
    let toolkits = c
        .toolkits
        .iter()
        .map(|tk| CustomToolkitEcho {
            slug: tk.slug.clone(),
            name: tk.name.clone(),
            description: tk.description.clone(),
            tools: tk.tools.iter().map(|t| tool_echo(t, false)).collect(),
            preload: tk.preload,
        })
        .collect();
    (tools, toolkits)
}

/// The MCP endpoint of a session, on the origin the client used.
pub(crate) fn mcp_url(origin: &Origin, session_id: &str) -> String {
    format!("{}/tool_router/{session_id}/mcp", origin.0)
}

/// A session as create, get, update and attach answer it.
pub(crate) fn session_response(v: &SessionView, origin: &Origin) -> SessionResponse {
    let s = &v.session;
    let (custom_tools, custom_toolkits) = match &v.custom {
        Some(c) => {
            let (t, tk) = custom_echo(c);
            (Some(t), Some(tk))
        }
        None => (None, None),
    };
    SessionResponse {
        session_id: s.id.to_string(),
        mcp: McpServer {
            kind: "http".to_owned(),
            url: mcp_url(origin, s.id.as_str()),
        },
        tool_router_tools: v.tool_slugs.clone(),
        config: config_echo(&s.config),
        config_version: s.config_version,
        experimental: Some(SessionExperimental {
            assistive_prompt: Some(v.assistive_prompt.clone()),
            custom_tools,
            custom_toolkits,
            no_elicitation_support_fallback: s
                .config
                .experimental
                .no_elicitation_support_fallback
                .map(|f| f.as_str().to_owned()),
        }),
        warnings: v
            .warnings
            .iter()
            .map(|w| SessionWarning {
                code: w.code.to_owned(),
                message: w.message.clone(),
            })
            .collect(),
    }
}

pub(crate) fn history_item(h: &HistoryEntry) -> ConfigHistoryItem {
    ConfigHistoryItem {
        version: h.version,
        created_at: h.created_at.to_rfc3339(),
        is_current: h.is_current,
        config: config_echo(&h.config),
    }
}

pub(crate) fn toolkit_item(app: &App, t: &SessionToolkit) -> SessionToolkitItem {
    let tk = &t.toolkit;
    SessionToolkitItem {
        name: tk.name.clone(),
        slug: tk.slug.clone(),
        enabled: t.enabled,
        is_no_auth: crate::views::no_auth(tk),
        composio_managed_auth_schemes: crate::views::managed_auth_schemes(app, tk),
        meta: SessionToolkitMeta {
            logo: tk.logo.clone(),
            description: tk.description.clone(),
        },
        connected_account: t.account.as_ref().map(|(a, config)| SessionToolkitAccount {
            id: a.id.to_string(),
            user_id: a.user_id.clone(),
            // A disabled account reads INACTIVE, as in the connected-accounts API.
            status: if a.disabled {
                "INACTIVE".to_owned()
            } else {
                a.status.as_str().to_owned()
            },
            created_at: a.created_at.to_rfc3339(),
            auth_config: AccountAuthConfig {
                id: a.auth_config_id.to_string(),
                auth_scheme: config
                    .as_ref()
                    .map(|c| c.auth_scheme.clone())
                    .unwrap_or_default(),
                is_composio_managed: config.as_ref().is_some_and(|c| c.managed),
            },
        }),
    }
}

/// A page of sessions.
pub(crate) fn session_page(
    page: toolrouter_app::page::Page<SessionView>,
    origin: &Origin,
) -> Paginated<SessionResponse> {
    crate::views::page(page, |v| session_response(v, origin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn echo_of(body: Value) -> Value {
        let req: SessionRequest = serde_json::from_value(body).unwrap();
        let mut change = config_change(&req);
        if direct_tools_preset(&req).unwrap() {
            change.apply_direct_tools_preset();
        }
        let config = SessionConfig::create(req.user_id.as_deref().unwrap_or("u"), &change)
            .unwrap_or_else(|e| panic!("{e}"));
        serde_json::to_value(config_echo(&config)).unwrap()
    }

    #[test]
    fn request_spelling_becomes_echo_spelling() {
        expect_test::expect![[r#"
            {
              "auth_configs": {
                "github": "ac_gh"
              },
              "connected_accounts": {
                "gmail": [
                  "ca_work"
                ]
              },
              "execute": {
                "enable_multi_execute": false
              },
              "instant": {
                "return_instant_charge": true,
                "return_prices_in_search": false
              },
              "manage_connections": {
                "callback_url": "https://app.example/cb",
                "enable_connection_removal": true,
                "enable_wait_for_connections": true,
                "enabled": true
              },
              "multi_account": {
                "enable": false,
                "max_accounts_per_toolkit": 3
              },
              "preload": {
                "tools": [
                  "GMAIL_FETCH_EMAILS"
                ]
              },
              "proxy_execute": {
                "enable": true
              },
              "search": {},
              "tags": {
                "disabled": [
                  "destructiveHint"
                ],
                "enabled": [
                  "readOnlyHint"
                ]
              },
              "toolkits": {
                "enabled": [
                  "gmail",
                  "github"
                ]
              },
              "tools": {
                "gmail": {
                  "enabled": [
                    "GMAIL_FETCH_EMAILS"
                  ]
                },
                "linear": {
                  "tags": {
                    "enabled": [
                      "readOnlyHint"
                    ]
                  }
                },
                "slack": {
                  "disabled": [
                    "SLACK_DELETE_MESSAGE"
                  ]
                }
              },
              "user_id": "user_123",
              "workbench": {
                "auto_offload_threshold": 300,
                "enable": true,
                "proxy_execution_enabled": false,
                "sandbox_size": "xlarge"
              }
            }"#]]
        .assert_eq(
            &serde_json::to_string_pretty(&echo_of(json!({
                "user_id": "user_123",
                "toolkits": ["gmail", "github"],
                "tools": {
                    "gmail": ["GMAIL_FETCH_EMAILS"],
                    "slack": {"disable": ["SLACK_DELETE_MESSAGE"]},
                    "linear": {"tags": ["readOnlyHint"]}
                },
                "tags": {"enable": ["readOnlyHint"], "disable": ["destructiveHint"]},
                "auth_configs": {"github": "ac_gh"},
                "connected_accounts": {"gmail": "ca_work"},
                "manage_connections": {"enable": true, "callback_url": "https://app.example/cb",
                                       "enable_wait_for_connections": true},
                "workbench": {"enable": true, "enable_proxy_execution": false,
                              "auto_offload_threshold": 300, "sandbox_size": "xlarge"},
                "multi_account": {"max_accounts_per_toolkit": 3},
                "proxy_execute": true,
                "premium_usage": {"return_premium_charge": true},
                "preload": {"tools": ["gmail_fetch_emails"]},
                "execute": {"enable_multi_execute": false}
            })))
            .unwrap(),
        );
    }

    #[test]
    fn defaults_match_the_traces() {
        assert_eq!(
            echo_of(json!({"user_id": "user_123", "manage_connections": {"enable": true}})),
            json!({
                "user_id": "user_123",
                "manage_connections": {"enabled": true, "enable_wait_for_connections": false,
                                       "enable_connection_removal": true},
                "workbench": {"enable": true, "proxy_execution_enabled": true,
                              "auto_offload_threshold": 20000, "sandbox_size": "standard"},
                "preload": {"tools": []}, "search": {}, "execute": {},
                "instant": {"return_instant_charge": false, "return_prices_in_search": false}
            })
        );
        assert_eq!(echo_of(json!({"instant": false}))["instant"], json!(false));
        let direct =
            echo_of(json!({"toolkits": {"enable": ["gmail"]}, "session_preset": "direct_tools"}));
        assert_eq!(direct["preload"], json!({"tools": "all"}));
        assert_eq!(direct["search"], json!({"enable": false}));
        assert_eq!(direct["execute"], json!({"enable_multi_execute": false}));
        assert_eq!(direct["workbench"]["enable"], json!(false));
        assert_eq!(direct["manage_connections"]["enabled"], json!(false));
    }

    #[test]
    fn unknown_presets_are_refused() {
        let req: SessionRequest =
            serde_json::from_value(json!({"session_preset": "fast"})).unwrap();
        let err = direct_tools_preset(&req).unwrap_err().0;
        assert!(err.message.contains("`session_preset`"), "{}", err.message);
    }
}
