//! Tool Router sessions as use cases: create, read, list, update (compare-and-swap on the
//! configuration version, each change kept in the history), delete, attach custom tools, and
//! the session's tool and toolkit lists.
//!
//! The configuration rules that need nothing but the configuration are core's
//! (`SessionConfig::create` / `update`); here are the ones that need the catalog (every slug
//! must exist, and tools must belong to the toolkit they are listed under: one error names all
//! unknown ones) and storage (pinned accounts must be the user's, pinned auth configs the
//! project's). Sessions belong to the caller's project: another project's session id is "not
//! found", exactly like an unknown one.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;
use toolrouter_catalog::ToolkitDef;
use toolrouter_core::session::{
    ConfigChange, ConfigError, ListFilter, Preload, Session, SessionConfig, SlugKind, ToolInfo,
    check_custom_slug, local_tool_slug,
};
use toolrouter_core::{
    AccountStatus, AuthConfig, ConnectedAccount, ErrorCode, ProjectId, SessionId, Timestamp,
};
use toolrouter_store::{AccountFilter, PageRequest as StorePage, SessionUpdate};

use crate::page::{Page, PageRequest};
use crate::{App, AppError, AppResult, Caller, CatalogTool, meta};

/// Largest page of `GET …/{sid}/tools` (the SDKs ask for exactly this).
pub const TOOLS_MAX_LIMIT: u64 = 500;
/// Largest page of `GET …/{sid}/toolkits`.
pub const TOOLKITS_MAX_LIMIT: u64 = 50;
/// Largest page of the configuration history.
pub const HISTORY_MAX_LIMIT: u64 = 100;
/// Largest page of the session listing.
pub const SESSIONS_MAX_LIMIT: u64 = 100;
/// Preloading more tools than this makes a session warn about context usage (the product
/// spec's advice: "generally fewer than 20 tools").
pub const PRELOAD_WARN_AT: usize = 20;

/// How many attempts an update without `expected_config_version` makes when other updates keep
/// winning the race (last writer wins, but never by overwriting blindly).
pub(crate) const UPDATE_ATTEMPTS: usize = 5;

/// An SDK-local custom tool, as sent in `experimental.custom_tools` (or inside a toolkit).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomTool {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    /// A catalog toolkit the tool belongs with (standalone tools only).
    pub extends_toolkit: Option<String>,
    pub preload: Option<bool>,
}

/// An SDK-local custom toolkit (`experimental.custom_toolkits`).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomToolkit {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub preload: Option<bool>,
    pub tools: Vec<CustomTool>,
}

/// The custom tools of a create or attach request. Sessions do not store them: the SDKs send
/// them again with every call that needs them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomTools {
    pub tools: Vec<CustomTool>,
    pub toolkits: Vec<CustomToolkit>,
}

/// A custom tool with the slug the server assigned (`LOCAL_…`); `def.slug` is the original.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignedTool {
    pub slug: String,
    pub def: CustomTool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssignedToolkit {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub preload: Option<bool>,
    pub tools: Vec<AssignedTool>,
}

/// What the response echoes so the SDK can route custom tools by their assigned slugs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignedCustomTools {
    pub tools: Vec<AssignedTool>,
    pub toolkits: Vec<AssignedToolkit>,
}

/// A request to create a session.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    pub user_id: String,
    pub change: ConfigChange,
    /// The direct-tools preset (`session_preset: "direct_tools"`), applied server-side.
    pub direct_tools: bool,
    pub custom: CustomTools,
}

/// A request to update a session.
#[derive(Debug, Clone, Default)]
pub struct SessionPatch {
    pub change: ConfigChange,
    /// Refuse the update (409) unless the stored version is this one.
    pub expected_version: Option<i64>,
    /// Only accepted when it is the session's own user.
    pub user_id: Option<String>,
    /// Presets apply only when a session is created.
    pub direct_tools: bool,
}

/// An advisory about a usable session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWarning {
    pub code: &'static str,
    pub message: String,
}

/// A session with what the API shows alongside it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: Session,
    /// Every tool the session lists: preloaded app tools, then meta tools.
    pub tool_slugs: Vec<String>,
    pub warnings: Vec<SessionWarning>,
    pub assistive_prompt: String,
    /// Only on create and attach, when custom tools were sent.
    pub custom: Option<AssignedCustomTools>,
}

/// One entry of the configuration history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub version: i64,
    pub created_at: Timestamp,
    pub is_current: bool,
    pub config: SessionConfig,
}

/// Filters of the session's toolkit list.
#[derive(Debug, Clone, Default)]
pub struct SessionToolkitQuery {
    /// Exactly these toolkits (allowed by the session or not), in this order.
    pub toolkits: Vec<String>,
    /// `Some(true)`: only toolkits the user has an active account for. `false` filters nothing.
    pub connected: Option<bool>,
    /// Words that must all occur in the slug, name or description.
    pub search: Option<String>,
}

/// A toolkit as a session sees it.
#[derive(Debug, Clone)]
pub struct SessionToolkit {
    pub toolkit: Arc<ToolkitDef>,
    /// Whether the session's filters allow it.
    pub enabled: bool,
    /// The user's account the session would show for it, with its auth config.
    pub account: Option<(ConnectedAccount, Option<AuthConfig>)>,
}

pub(crate) fn session_not_found(id: &str) -> AppError {
    AppError::new(
        ErrorCode::SessionNotFound,
        format!("Session {id} not found"),
    )
    .with_fix(
        "Check the session id and that it belongs to this API key's project; a deleted session \
         cannot be used again, create a new one.",
    )
}

fn config_error(e: &ConfigError) -> AppError {
    let errors: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
    AppError::new(
        ErrorCode::ValidationFailed,
        format!("Invalid session configuration: {}", errors.join("; ")),
    )
    .with_fix("Fix each field named in `errors` and send the request again.")
    .with_errors(errors)
}

/// Why an update was refused as a conflict.
#[derive(Debug, Clone, Copy)]
enum Conflict {
    /// The caller's `expected_config_version` is not the stored one.
    Stale { current: i64, expected: i64 },
    /// Other updates kept winning the race (no expected version was given).
    Busy,
}

fn conflict(id: &SessionId, why: Conflict) -> AppError {
    let message = match why {
        Conflict::Stale { current, expected } => format!(
            "config version mismatch: session {id} is at version {current}, the update expected \
             {expected}"
        ),
        Conflict::Busy => {
            format!("session {id} kept changing while it was being updated; try again")
        }
    };
    AppError::new(ErrorCode::ConfigVersionConflict, message).with_fix(format!(
        "Read the session again (GET /api/v3.1/tool_router/session/{id}), reapply your change to \
         it and send its `config_version` as `expected_config_version`."
    ))
}

fn parse_session_id(id: &str) -> AppResult<SessionId> {
    SessionId::parse(id.trim()).ok_or_else(|| session_not_found(id))
}

pub(crate) fn bad_cursor() -> AppError {
    AppError::new(
        ErrorCode::ValidationFailed,
        "query parameter `cursor` is not a cursor this server issued",
    )
    .with_fix(
        "Pass the `next_cursor` of the previous page unchanged, or leave `cursor` out for the \
         first page.",
    )
}

/// A keyset page from storage as the API's page (`offset` gives the page number).
pub(crate) fn keyset_page<T, U>(
    page: toolrouter_store::Page<T>,
    limit: u64,
    f: impl FnMut(T) -> U,
) -> Page<U> {
    let limit = limit.max(1);
    let total = page.total;
    Page {
        items: page.items.into_iter().map(f).collect(),
        next_cursor: page.next_cursor,
        total_items: usize::try_from(total).unwrap_or(usize::MAX),
        total_pages: usize::try_from(total.div_ceil(limit).max(1)).unwrap_or(usize::MAX),
        current_page: usize::try_from(page.offset / limit + 1).unwrap_or(usize::MAX),
    }
}

fn words(text: Option<&str>) -> Vec<String> {
    text.map(|t| t.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default()
}

/// The account a toolkit entry shows, among the user's accounts for it: the session's pinned
/// account, else the usable one most recently connected, else the newest of any status (so a
/// pending connection shows as `INITIATED`).
fn shown_account<'a>(
    config: &SessionConfig,
    toolkit: &str,
    accounts: &'a [ConnectedAccount],
) -> Option<&'a ConnectedAccount> {
    let mine: Vec<&ConnectedAccount> = accounts.iter().filter(|a| a.toolkit == toolkit).collect();
    if let Some(pinned) = config.connected_accounts.get(toolkit)
        && let Some(a) = pinned
            .iter()
            .find_map(|id| mine.iter().find(|a| &a.id == id))
    {
        return Some(a);
    }
    mine.iter()
        .filter(|a| a.is_usable())
        .max_by_key(|a| (a.connected_at, a.created_at, a.id.clone()))
        .or_else(|| mine.iter().max_by_key(|a| (a.created_at, a.id.clone())))
        .copied()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks one custom tool definition; problems are prefixed with `field`.
fn check_custom_tool(t: &CustomTool, field: &str, problems: &mut Vec<String>) {
    if let Err(e) = check_custom_slug(&t.slug) {
        problems.push(format!("`{field}.slug`: {e}"));
    }
    let len = |s: &str| s.trim().chars().count();
    if !(1..=128).contains(&len(&t.name)) {
        problems.push(format!("`{field}.name`: must be 1 to 128 characters"));
    }
    if !(1..=5120).contains(&len(&t.description)) {
        problems.push(format!(
            "`{field}.description`: must be 1 to 5120 characters"
        ));
    }
    let object = t.input_schema.get("type").and_then(Value::as_str) == Some("object");
    let props = t
        .input_schema
        .get("properties")
        .is_some_and(Value::is_object);
    if !(object && props) {
        problems.push(format!(
            "`{field}.input_schema`: must be a JSON Schema with `\"type\": \"object\"` and a \
             `properties` object"
        ));
    }
    if let Some(out) = &t.output_schema
        && !out.is_object()
    {
        problems.push(format!(
            "`{field}.output_schema`: must be a JSON Schema object, got {}",
            json_kind(out)
        ));
    }
}

impl App {
    /// Every toolkit slug the configuration allows, in the order of its allowlist (else
    /// catalog order).
    fn allowed_toolkits(
        catalog: &[Arc<ToolkitDef>],
        config: &SessionConfig,
    ) -> Vec<Arc<ToolkitDef>> {
        match config.toolkits.as_ref().and_then(|t| t.filter.as_ref()) {
            Some(ListFilter::Enabled(list)) => list
                .iter()
                .filter_map(|s| catalog.iter().find(|tk| &tk.slug == s).cloned())
                .collect(),
            _ => catalog
                .iter()
                .filter(|tk| config.allows_toolkit(&tk.slug))
                .cloned()
                .collect(),
        }
    }

    /// The app tools the session lists directly, as catalog tools.
    fn preloaded_tools(catalog: &[Arc<ToolkitDef>], config: &SessionConfig) -> Vec<CatalogTool> {
        let mut index: HashMap<&str, (usize, usize)> = HashMap::new();
        for (ti, tk) in catalog.iter().enumerate() {
            for (i, t) in tk.tools.iter().enumerate() {
                index.insert(t.slug.as_str(), (ti, i));
            }
        }
        let infos = catalog.iter().flat_map(|tk| {
            tk.tools.iter().map(move |t| ToolInfo {
                toolkit: &tk.slug,
                slug: &t.slug,
                tags: &t.tags,
            })
        });
        config
            .preloaded(infos)
            .iter()
            // A preloaded tool whose toolkit the operator removed is skipped, not an error.
            .filter_map(|slug| index.get(slug.as_str()))
            .filter_map(|&(ti, i)| CatalogTool::new(catalog[ti].clone(), i))
            .collect()
    }

    /// Every tool the session lists: preloaded app tools, then its meta tools.
    fn session_tool_list(&self, config: &SessionConfig) -> Vec<CatalogTool> {
        let catalog = self.catalog().snapshot();
        let mut tools = Self::preloaded_tools(&catalog, config);
        let toolkits: Vec<String> = Self::allowed_toolkits(&catalog, config)
            .iter()
            .map(|tk| tk.slug.clone())
            .collect();
        tools.extend(meta::meta_tools(&config.meta_tools(), &toolkits));
        tools
    }

    fn session_view(&self, session: Session, custom: Option<AssignedCustomTools>) -> SessionView {
        let tools = self.session_tool_list(&session.config);
        let meta = session.config.meta_tools().len();
        let preloaded = tools.len().saturating_sub(meta);
        let mut warnings = Vec::new();
        if preloaded > PRELOAD_WARN_AT {
            let capped = if preloaded >= toolrouter_core::session::filter::PRELOAD_ALL_CAP {
                " (the first ones the filters allow; \"all\" lists at most this many)"
            } else {
                ""
            };
            warnings.push(SessionWarning {
                code: "PRELOAD_TOOLS_HIGH_CONTEXT_USAGE",
                message: format!(
                    "The session preloads {preloaded} tools{capped}; every preloaded schema takes \
                     context on each model call. Preload fewer than {PRELOAD_WARN_AT} and let the \
                     agent find the rest with COMPOSIO_SEARCH_TOOLS."
                ),
            });
        }
        SessionView {
            tool_slugs: tools.iter().map(|t| t.tool().slug.clone()).collect(),
            warnings,
            assistive_prompt: meta::assistive_prompt(&session.config),
            custom,
            session,
        }
    }

    /// Catalog checks: every named slug exists (one error lists every unknown one), tools
    /// belong to the toolkit they are listed under, and explicitly preloaded tools are allowed
    /// by the session's own filters.
    fn check_catalog_refs(&self, config: &SessionConfig) -> AppResult<()> {
        let catalog = self.catalog();
        let mut unknown: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        for r in config.slug_refs() {
            let problem = match &r.kind {
                SlugKind::Toolkit => catalog
                    .toolkit(&r.slug)
                    .is_err()
                    .then(|| format!("`{}`: no toolkit `{}`", r.field, r.slug)),
                SlugKind::Tool { toolkit } => match catalog.tool(&r.slug) {
                    None => Some(format!("`{}`: no tool `{}`", r.field, r.slug)),
                    Some(t) => toolkit
                        .as_deref()
                        .filter(|tk| t.toolkit().slug != *tk)
                        .map(|tk| {
                            format!(
                                "`{}`: `{}` is a tool of `{}`, not of `{tk}`",
                                r.field,
                                r.slug,
                                t.toolkit().slug
                            )
                        }),
                },
            };
            if let Some(p) = problem
                && seen.insert(p.clone())
            {
                unknown.push(p);
            }
        }
        if !unknown.is_empty() {
            return Err(AppError::new(
                ErrorCode::UnknownSlugs,
                format!(
                    "{} unknown toolkit or tool slug(s): {}",
                    unknown.len(),
                    unknown.join("; ")
                ),
            )
            .with_fix(
                "Use slugs from GET /api/v3.1/toolkits and GET /api/v3.1/tools?toolkit_slug=<toolkit>; \
                 list each tool under its own toolkit.",
            )
            .with_errors(unknown));
        }
        if let Preload::Tools(list) = &config.preload {
            let excluded: Vec<String> = list
                .iter()
                .filter_map(|slug| catalog.tool(slug))
                .filter(|t| {
                    !config.allows_tool(&ToolInfo {
                        toolkit: &t.toolkit().slug,
                        slug: &t.tool().slug,
                        tags: &t.tool().tags,
                    })
                })
                .map(|t| {
                    format!(
                        "`preload.tools`: `{}` is excluded by the session's toolkits/tools/tags filters",
                        t.tool().slug
                    )
                })
                .collect();
            if !excluded.is_empty() {
                return Err(AppError::new(
                    ErrorCode::ValidationFailed,
                    format!("Invalid session configuration: {}", excluded.join("; ")),
                )
                .with_fix("Preload only tools the session's filters allow, or widen the filters.")
                .with_errors(excluded));
            }
        }
        Ok(())
    }

    /// Storage checks of what a change pins: connected accounts must be accounts of the
    /// session's user for that toolkit, auth configs the project's for that toolkit.
    async fn check_pins(
        &self,
        project: &ProjectId,
        config: &SessionConfig,
        accounts: bool,
        configs: bool,
    ) -> AppResult<()> {
        let mut problems = Vec::new();
        if accounts {
            for (tk, ids) in &config.connected_accounts {
                for id in ids {
                    let found = self
                        .store()
                        .account_get(project, id)
                        .await
                        .map_err(|e| AppError::from_store("session account check", &e))?;
                    match found {
                        None => problems.push(format!(
                            "`connected_accounts.{tk}`: no connected account {id} in this project"
                        )),
                        Some(a) if a.user_id != config.user_id => problems.push(format!(
                            "`connected_accounts.{tk}`: account {id} belongs to another user, not `{}`",
                            config.user_id
                        )),
                        Some(a) if a.toolkit != *tk => problems.push(format!(
                            "`connected_accounts.{tk}`: account {id} is an account of `{}`",
                            a.toolkit
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
        if configs {
            for (tk, id) in &config.auth_configs {
                let found = self
                    .store()
                    .auth_config_get(project, id)
                    .await
                    .map_err(|e| AppError::from_store("session auth config check", &e))?;
                match found {
                    None => problems.push(format!(
                        "`auth_configs.{tk}`: no auth config {id} in this project"
                    )),
                    Some(c) if c.toolkit != *tk => problems.push(format!(
                        "`auth_configs.{tk}`: auth config {id} is for `{}`",
                        c.toolkit
                    )),
                    Some(_) => {}
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(AppError::new(
            ErrorCode::ValidationFailed,
            format!("Invalid session configuration: {}", problems.join("; ")),
        )
        .with_fix(
            "Pin only the user's own connected accounts (GET /api/v3.1/connected_accounts?user_ids=…) \
             and this project's auth configs (GET /api/v3.1/auth_configs).",
        )
        .with_errors(problems))
    }

    /// Validates custom tools and assigns their `LOCAL_…` slugs. `None` when none were sent.
    pub(crate) fn assign_custom(
        &self,
        custom: &CustomTools,
    ) -> AppResult<Option<AssignedCustomTools>> {
        if custom.tools.is_empty() && custom.toolkits.is_empty() {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let mut assigned = AssignedCustomTools::default();
        let mut slugs: BTreeSet<String> = BTreeSet::new();
        let mut claim = |slug: Option<String>, field: &str, problems: &mut Vec<String>| match slug {
            None => problems.push(format!(
                "`{field}.slug`: the assigned slug would exceed {} characters; shorten it",
                toolrouter_core::session::MAX_LOCAL_SLUG_LEN
            )),
            Some(s) if !slugs.insert(s.clone()) => problems.push(format!(
                "`{field}.slug`: `{s}` is assigned to another custom tool; slugs must be unique \
                     (case-insensitive)"
            )),
            Some(_) => {}
        };
        for (i, t) in custom.tools.iter().enumerate() {
            let field = format!("experimental.custom_tools[{i}]");
            check_custom_tool(t, &field, &mut problems);
            let extends = t
                .extends_toolkit
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase);
            if let Some(tk) = &extends
                && self.catalog().toolkit(tk).is_err()
            {
                problems.push(format!(
                    "`{field}.extends_toolkit`: no toolkit `{tk}` (see GET /api/v3.1/toolkits)"
                ));
            }
            let slug = local_tool_slug(extends.as_deref(), t.slug.trim());
            claim(slug.clone(), &field, &mut problems);
            assigned.tools.push(AssignedTool {
                slug: slug.unwrap_or_default(),
                def: CustomTool {
                    extends_toolkit: extends,
                    ..t.clone()
                },
            });
        }
        for (i, tk) in custom.toolkits.iter().enumerate() {
            let field = format!("experimental.custom_toolkits[{i}]");
            if let Err(e) = check_custom_slug(&tk.slug) {
                problems.push(format!("`{field}.slug`: {e}"));
            }
            let len = |s: &str| s.trim().chars().count();
            if !(1..=128).contains(&len(&tk.name)) {
                problems.push(format!("`{field}.name`: must be 1 to 128 characters"));
            }
            if !(1..=2048).contains(&len(&tk.description)) {
                problems.push(format!(
                    "`{field}.description`: must be 1 to 2048 characters"
                ));
            }
            if !(1..=100).contains(&tk.tools.len()) {
                problems.push(format!("`{field}.tools`: must list 1 to 100 tools"));
            }
            let mut tools = Vec::new();
            for (j, t) in tk.tools.iter().enumerate() {
                let tfield = format!("{field}.tools[{j}]");
                check_custom_tool(t, &tfield, &mut problems);
                let slug = local_tool_slug(Some(tk.slug.trim()), t.slug.trim());
                claim(slug.clone(), &tfield, &mut problems);
                tools.push(AssignedTool {
                    slug: slug.unwrap_or_default(),
                    def: t.clone(),
                });
            }
            assigned.toolkits.push(AssignedToolkit {
                slug: tk.slug.trim().to_owned(),
                name: tk.name.clone(),
                description: tk.description.clone(),
                preload: tk.preload,
                tools,
            });
        }
        if problems.is_empty() {
            return Ok(Some(assigned));
        }
        Err(AppError::new(
            ErrorCode::ValidationFailed,
            format!("Invalid custom tools: {}", problems.join("; ")),
        )
        .with_fix("Fix each custom tool named in `errors` and send the request again.")
        .with_errors(problems))
    }

    /// The session as stored now (never from memory): what changes are made against.
    pub(crate) async fn load_session(&self, caller: &Caller, id: &str) -> AppResult<Session> {
        let sid = parse_session_id(id)?;
        self.store()
            .session_get(&caller.project_id, &sid)
            .await
            .map_err(|e| AppError::from_store("session get", &e))?
            .ok_or_else(|| session_not_found(id))
    }

    /// `POST /tool_router/session`.
    pub async fn session_create(&self, caller: &Caller, req: NewSession) -> AppResult<SessionView> {
        let mut change = req.change;
        if req.direct_tools {
            change.apply_direct_tools_preset();
        }
        let config = SessionConfig::create(&req.user_id, &change).map_err(|e| config_error(&e))?;
        self.check_catalog_refs(&config)?;
        let custom = self.assign_custom(&req.custom)?;
        self.check_pins(&caller.project_id, &config, true, true)
            .await?;
        let now = Timestamp::now();
        let session = Session {
            id: SessionId::generate(),
            project_id: caller.project_id.clone(),
            config,
            config_version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store()
            .session_create(&session)
            .await
            .map_err(|e| AppError::from_store("session create", &e))?;
        tracing::info!(session = %session.id, project = %caller.project_id, "session created");
        Ok(self.session_view(session, custom))
    }

    /// `GET /tool_router/session/{id}`.
    pub async fn session_get(&self, caller: &Caller, id: &str) -> AppResult<SessionView> {
        let session = self.load_session(caller, id).await?;
        Ok(self.session_view(session, None))
    }

    /// The stored session alone (the caller's; unknown or deleted → 404), without the view's
    /// derived tool list and prompt: for the calls that use a session (execute, search, the
    /// MCP endpoint on every request). Served from memory while no session was written
    /// anywhere since it was read (`session_cache.rs`); reads for a change use the database.
    pub async fn session_find(&self, caller: &Caller, id: &str) -> AppResult<Session> {
        let sid = parse_session_id(id)?;
        // Taken before the read: a write committed during it moves the epoch.
        let epoch = self.store().session_epoch();
        if let Some(session) =
            epoch.and_then(|e| self.inner.sessions.get(&caller.project_id, &sid, e))
        {
            return Ok(session);
        }
        let session = self.load_session(caller, id).await?;
        if let Some(e) = epoch {
            self.inner.sessions.put(e, &session);
        }
        Ok(session)
    }

    /// `GET /tool_router/session?user_id=…`: the project's sessions, newest first.
    pub async fn session_list(
        &self,
        caller: &Caller,
        user_id: Option<&str>,
        page: &PageRequest,
    ) -> AppResult<Page<SessionView>> {
        let limit = page.limit_within(SESSIONS_MAX_LIMIT)?;
        let cursor = match page
            .cursor
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(c) => Some(SessionId::parse(c).ok_or_else(bad_cursor)?.to_string()),
        };
        let user = user_id.map(str::trim).filter(|u| !u.is_empty());
        let found = self
            .store()
            .session_list(
                &caller.project_id,
                user,
                &StorePage {
                    cursor,
                    limit: u32::try_from(limit).unwrap_or(u32::MAX),
                },
            )
            .await
            .map_err(|e| AppError::from_store("session list", &e))?;
        Ok(keyset_page(found, limit, |s| self.session_view(s, None)))
    }

    /// `PATCH /tool_router/session/{id}`: applies the change to the stored configuration and
    /// stores it as the next version, if nobody else changed it meanwhile. With
    /// `expected_version`, any other version is a 409; without, a concurrent change is re-read
    /// and the change applied again on top of it.
    pub async fn session_update(
        &self,
        caller: &Caller,
        id: &str,
        patch: &SessionPatch,
    ) -> AppResult<SessionView> {
        if patch.direct_tools {
            return Err(AppError::new(
                ErrorCode::ValidationFailed,
                "`session_preset` applies only when a session is created",
            )
            .with_fix(
                "Set the preset's settings (`search`, `execute`, `preload`, …) one by one.",
            ));
        }
        if let Some(v) = patch.expected_version
            && v < 1
        {
            return Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!("`expected_config_version` must be 1 or more, got {v}"),
            )
            .with_fix("Send the `config_version` of the session as you last read it."));
        }
        let change = &patch.change;
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.load_session(caller, id).await?;
            if let Some(expected) = patch.expected_version
                && expected != current.config_version
            {
                return Err(conflict(
                    &current.id,
                    Conflict::Stale {
                        current: current.config_version,
                        expected,
                    },
                ));
            }
            if let Some(user) = &patch.user_id
                && user.trim() != current.config.user_id
            {
                return Err(AppError::new(
                    ErrorCode::ValidationFailed,
                    "`user_id` of a session cannot be changed",
                )
                .with_fix("Create a new session for the other user."));
            }
            let config = current
                .config
                .update(change)
                .map_err(|e| config_error(&e))?;
            self.check_catalog_refs(&config)?;
            self.check_pins(
                &caller.project_id,
                &config,
                !change.connected_accounts.is_keep(),
                !change.auth_configs.is_keep(),
            )
            .await?;
            match self.write_config(caller, &current, &config).await? {
                SessionUpdate::Updated(s) => {
                    self.session_changed(&s.id);
                    return Ok(self.session_view(*s, None));
                }
                SessionUpdate::NotFound => return Err(session_not_found(id)),
                SessionUpdate::Conflict { current_version } => {
                    if let Some(expected) = patch.expected_version {
                        return Err(conflict(
                            &current.id,
                            Conflict::Stale {
                                current: current_version,
                                expected,
                            },
                        ));
                    }
                }
            }
        }
        Err(conflict(&parse_session_id(id)?, Conflict::Busy))
    }

    /// Stores `config` as the next version of `current`, if `current` is still the stored
    /// version (compare and swap on `config_version`).
    pub(crate) async fn write_config(
        &self,
        caller: &Caller,
        current: &Session,
        config: &SessionConfig,
    ) -> AppResult<SessionUpdate> {
        self.store()
            .session_update(
                &caller.project_id,
                &current.id,
                config,
                current.config_version,
                Timestamp::now(),
            )
            .await
            .map_err(|e| AppError::from_store("session update", &e))
    }

    /// `DELETE /tool_router/session/{id}`. Afterwards the id is unknown to every call.
    pub async fn session_delete(&self, caller: &Caller, id: &str) -> AppResult<SessionId> {
        let sid = parse_session_id(id)?;
        let deleted = self
            .store()
            .session_delete(&caller.project_id, &sid, Timestamp::now())
            .await
            .map_err(|e| AppError::from_store("session delete", &e))?;
        if !deleted {
            return Err(session_not_found(id));
        }
        self.session_changed(&sid);
        // Its sandbox and files go with it (`workbench.rs`).
        self.workbench_forget(&sid).await;
        tracing::info!(session = %sid, project = %caller.project_id, "session deleted");
        Ok(sid)
    }

    /// Ids of the sessions whose configuration this process changes (an update) or removes (a
    /// delete) from now on, for transports that push changes to their clients (the MCP
    /// endpoint's `notifications/tools/list_changed`). Only this process's changes: another
    /// replica's are seen by reading the session's `config_version`. A subscriber that falls
    /// more than a few hundred events behind gets `Lagged` and should re-check what it watches.
    pub fn session_changes(&self) -> tokio::sync::broadcast::Receiver<SessionId> {
        self.inner.session_changes.subscribe()
    }

    pub(crate) fn session_changed(&self, id: &SessionId) {
        // No subscriber (no MCP client holds a session here) is the common case, not an error.
        let _ = self.inner.session_changes.send(id.clone());
    }

    /// `POST /tool_router/session/{id}/attach`: the session, with custom tools given their
    /// slugs (nothing is stored).
    pub async fn session_attach(
        &self,
        caller: &Caller,
        id: &str,
        custom: &CustomTools,
    ) -> AppResult<SessionView> {
        let session = self.load_session(caller, id).await?;
        let assigned = self.assign_custom(custom)?.unwrap_or_default();
        Ok(self.session_view(session, Some(assigned)))
    }

    /// `GET /tool_router/session/{id}/config_history`: newest version first.
    pub async fn session_config_history(
        &self,
        caller: &Caller,
        id: &str,
        page: &PageRequest,
    ) -> AppResult<Page<HistoryEntry>> {
        let limit = page.limit_within(HISTORY_MAX_LIMIT)?;
        let cursor = match page
            .cursor
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(c) => Some(
                c.parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 1)
                    .ok_or_else(bad_cursor)?
                    .to_string(),
            ),
        };
        let session = self.load_session(caller, id).await?;
        let found = self
            .store()
            .session_config_history(
                &caller.project_id,
                &session.id,
                &StorePage {
                    cursor,
                    limit: u32::try_from(limit).unwrap_or(u32::MAX),
                },
            )
            .await
            .map_err(|e| AppError::from_store("session history", &e))?
            .ok_or_else(|| session_not_found(id))?;
        Ok(keyset_page(found, limit, |v| HistoryEntry {
            is_current: v.version == session.config_version,
            version: v.version,
            created_at: v.created_at,
            config: v.config,
        }))
    }

    /// `GET /tool_router/session/{id}/tools`: preloaded app tools, then meta tools.
    pub async fn session_tools(
        &self,
        caller: &Caller,
        id: &str,
        page: &PageRequest,
    ) -> AppResult<Page<CatalogTool>> {
        let session = self.load_session(caller, id).await?;
        self.session_tools_of(&session, page)
    }

    /// [`App::session_tools`] of a session the caller already loaded (with
    /// [`App::session_find`]): the MCP endpoint checks the session on every request and lists
    /// from that read instead of reading it twice.
    pub fn session_tools_of(
        &self,
        session: &Session,
        page: &PageRequest,
    ) -> AppResult<Page<CatalogTool>> {
        page.limit_within(TOOLS_MAX_LIMIT)?;
        page.apply_within(self.session_tool_list(&session.config), TOOLS_MAX_LIMIT)
    }

    /// The assistive system prompt of a loaded session (the view's `assistive_prompt`),
    /// without building the rest of the view.
    pub fn session_prompt(&self, session: &Session) -> String {
        meta::assistive_prompt(&session.config)
    }

    /// The user's connected accounts, for showing connection state.
    ///
    /// Seam: read straight from storage until the accounts use case offers a listing by user.
    async fn accounts_of_user(
        &self,
        project: &ProjectId,
        user_id: &str,
    ) -> AppResult<Vec<ConnectedAccount>> {
        // Enough for any real user; a bound keeps one request from reading without end.
        const MAX_ACCOUNTS: usize = 2000;
        let filter = AccountFilter {
            user_ids: vec![user_id.to_owned()],
            ..AccountFilter::default()
        };
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store()
                .account_list(project, &filter, &StorePage { cursor, limit: 200 })
                .await
                .map_err(|e| AppError::from_store("session accounts", &e))?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) if out.len() < MAX_ACCOUNTS => cursor = Some(c),
                _ => break,
            }
        }
        Ok(out)
    }

    /// `GET /tool_router/session/{id}/toolkits`.
    pub async fn session_toolkits(
        &self,
        caller: &Caller,
        id: &str,
        query: &SessionToolkitQuery,
        page: &PageRequest,
    ) -> AppResult<Page<SessionToolkit>> {
        page.limit_within(TOOLKITS_MAX_LIMIT)?;
        let session = self.load_session(caller, id).await?;
        let config = &session.config;
        let catalog = self.catalog().snapshot();
        let listed: Vec<Arc<ToolkitDef>> = if query.toolkits.is_empty() {
            Self::allowed_toolkits(&catalog, config)
        } else {
            let mut found = Vec::new();
            let mut unknown = Vec::new();
            for slug in &query.toolkits {
                let s = slug.trim().to_ascii_lowercase();
                match catalog.iter().find(|tk| tk.slug == s) {
                    Some(tk) if !found.iter().any(|f: &Arc<ToolkitDef>| f.slug == s) => {
                        found.push(tk.clone());
                    }
                    Some(_) => {}
                    None => unknown.push(format!("`toolkits`: no toolkit `{slug}`")),
                }
            }
            if !unknown.is_empty() {
                return Err(AppError::new(
                    ErrorCode::UnknownSlugs,
                    format!(
                        "{} unknown toolkit slug(s): {}",
                        unknown.len(),
                        unknown.join("; ")
                    ),
                )
                .with_fix("Use toolkit slugs from GET /api/v3.1/toolkits.")
                .with_errors(unknown));
            }
            found
        };
        let wanted = words(query.search.as_deref());
        let matches = |tk: &ToolkitDef| {
            let text = format!("{} {} {}", tk.slug, tk.name, tk.description).to_lowercase();
            wanted.iter().all(|w| text.contains(w.as_str()))
        };
        let accounts = self
            .accounts_of_user(&caller.project_id, &config.user_id)
            .await?;
        let mut items = Vec::new();
        for tk in listed.into_iter().filter(|tk| matches(tk)) {
            let account = shown_account(config, &tk.slug, &accounts).cloned();
            let active = account
                .as_ref()
                .is_some_and(|a| a.status == AccountStatus::Active && !a.disabled);
            if query.connected == Some(true) && !active {
                continue;
            }
            items.push(SessionToolkit {
                enabled: config.allows_toolkit(&tk.slug),
                toolkit: tk,
                account: account.map(|a| (a, None)),
            });
        }
        let mut page = page.apply_within(items, TOOLKITS_MAX_LIMIT)?;
        // Auth configs only for the accounts on this page.
        for item in &mut page.items {
            if let Some((account, config)) = &mut item.account {
                *config = self
                    .store()
                    .auth_config_get(&caller.project_id, &account.auth_config_id)
                    .await
                    .map_err(|e| AppError::from_store("session toolkits", &e))?;
            }
        }
        Ok(page)
    }
}
