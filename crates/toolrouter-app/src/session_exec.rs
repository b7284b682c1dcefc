//! Using a Tool Router session: running tools (`POST …/{sid}/execute` and `/execute_meta`,
//! CONTRACT.md §4.7, A.12/A.13), searching (`/search`, A.11) and connect links (`/link`, A.14).
//!
//! Meta tools implemented here: COMPOSIO_SEARCH_TOOLS (the `/search` answer as `data`),
//! COMPOSIO_GET_TOOL_SCHEMAS (close-match suggestions for unknown slugs),
//! COMPOSIO_MULTI_EXECUTE_TOOL (≤ 50 app tools in parallel, results in input order, §6.4 item
//! shape) and COMPOSIO_MANAGE_CONNECTIONS (status per toolkit, links for missing ones);
//! COMPOSIO_WAIT_FOR_CONNECTIONS is `wait.rs`, the workbench tools `workbench.rs`. The others
//! answer a `failed` result saying they are not available yet. Every run is logged
//! (`execution_log.rs`) and app tools go through `run_session_tool`. A meta tool the session
//! does not expose is 403. Search, schemas and suggestions never name a tool the session's
//! filters do not allow.
//!
//! Decisions for an app tool, in the order they are checked:
//! * an unknown session is 404, an unknown tool slug is 404 (`not_found`) naming the slug;
//! * a tool the session's filters do not allow is 403 (`forbidden`) naming the tool: it is a
//!   configuration problem of the integrator, not something the agent should see as a result,
//!   and `/execute` must never run a tool `GET …/tools` and search would hide;
//! * arguments that do not match the tool's input schema are a `failed` result (200) whose
//!   error names every offending field: the arguments come from a model, which can read the
//!   message and retry, and the SDKs' agent loops throw on a non-2xx answer;
//! * a missing, inactive or ambiguous connected account is a `failed` result too, telling the
//!   agent to connect (COMPOSIO_MANAGE_CONNECTIONS) or to choose an account;
//! * everything else (the provider's own failures included) is the result of
//!   [`App::run_tool`], the one executor, with the account chosen by the session's
//!   `connected_accounts` / `auth_configs` / `multi_account` settings and the call's `account`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::Value;
use toolrouter_core::ErrorCode;
use toolrouter_core::selection::MultiAccount;
use toolrouter_core::session::{ApprovalNeed, MetaTool, Session, SessionConfig, ToolInfo};

use crate::auth::accounts::AccountChoice;
use crate::execute::ToolResult;
use crate::{App, AppError, AppResult, Caller, CatalogTool};

/// `POST …/{sid}/execute` for an app tool.
#[derive(Debug, Clone, Default)]
pub struct SessionExecution {
    pub tool_slug: String,
    /// `{}` when the caller sent none.
    pub arguments: Value,
    /// An account id or alias (multi-account sessions).
    pub account: Option<String>,
    /// The result goes to an agent (an agentic provider's `enable_auto_workbench_offload`, or
    /// MCP): results over the session's `workbench.auto_offload_threshold` are saved to a file.
    pub workbench_offload: bool,
    /// The caller has the user's approval for this call (an answered approval question, or an
    /// MCP elicitation). Without it a call the session's approval rules ask about is refused.
    pub approved: bool,
}

/// How `run_session_tool` runs one app tool.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunOptions {
    /// An account id or alias (multi-account sessions).
    pub(crate) account: Option<String>,
    /// The result goes to an agent (see `large_result`).
    pub(crate) for_agent: bool,
    /// The user approved this call (see `approval`).
    pub(crate) approved: bool,
}

impl RunOptions {
    /// A call an agent made through a meta tool.
    pub(crate) fn agent() -> RunOptions {
        RunOptions {
            for_agent: true,
            ..RunOptions::default()
        }
    }
}

/// Compiled input schemas by `slug@version`; `None` when a schema does not compile (then the
/// call is not validated here and the executor's own checks apply).
type ValidatorCache = Mutex<HashMap<String, Option<Arc<jsonschema::Validator>>>>;

static VALIDATORS: LazyLock<ValidatorCache> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn validator(tool: &CatalogTool) -> Option<Arc<jsonschema::Validator>> {
    let def = tool.tool();
    let key = format!("{}@{}", def.slug, def.version);
    let mut cache = VALIDATORS.lock().unwrap_or_else(|p| p.into_inner());
    cache
        .entry(key)
        .or_insert_with(|| match jsonschema::validator_for(def.input.value()) {
            Ok(v) => Some(Arc::new(v)),
            Err(e) => {
                tracing::warn!(tool = %def.slug, error = %e, "input schema does not compile");
                None
            }
        })
        .clone()
}

/// Every way `arguments` break the tool's input schema, each naming the field.
pub fn argument_problems(tool: &CatalogTool, arguments: &Value) -> Vec<String> {
    let Some(v) = validator(tool) else {
        return Vec::new();
    };
    v.iter_errors(arguments)
        .map(|e| {
            let path = e.instance_path.to_string();
            if path.is_empty() || path == "/" {
                e.to_string()
            } else {
                format!("`{}`: {e}", path.trim_start_matches('/').replace('/', "."))
            }
        })
        .collect()
}

/// What the session says about a toolkit's account.
pub fn account_choice(
    config: &SessionConfig,
    toolkit: &str,
    explicit: Option<String>,
) -> AccountChoice {
    let key = toolkit.to_ascii_lowercase();
    AccountChoice {
        accounts: config.connected_accounts.get(&key).cloned(),
        auth_config: config.auth_configs.get(&key).cloned(),
        explicit: explicit
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty()),
        multi_account: config
            .multi_account
            .as_ref()
            .filter(|m| m.enabled)
            .map(|m| MultiAccount {
                require_explicit_selection: m.require_explicit_selection.unwrap_or(false),
                max_accounts_per_toolkit: m
                    .max_accounts_per_toolkit
                    .unwrap_or(MultiAccount::DEFAULT_ACCOUNTS),
            }),
    }
}

/// A call that did not run (refused, invalid, unapproved): a failed result with its own log id.
pub(crate) fn failed(message: String) -> ToolResult {
    ToolResult {
        data: serde_json::json!({}),
        error: Some(message),
        successful: false,
        log_id: crate::execution_log::log_id(),
        account: None,
    }
}

/// An account problem the agent can act on, as the text of a failed result.
fn account_failure(e: &AppError) -> Option<String> {
    match e.code {
        ErrorCode::ConnectedAccountRequired
        | ErrorCode::ConnectedAccountNotActive
        | ErrorCode::AccountSelectionRequired => {
            let mut text = e.message.clone();
            if !e.errors.is_empty() {
                text.push_str(&format!(" (accounts: {})", e.errors.join(", ")));
            }
            if e.code == ErrorCode::AccountSelectionRequired {
                text.push_str(". Call again with `account` set to one of them.");
            } else {
                text.push_str(
                    ". Connect the toolkit first with COMPOSIO_MANAGE_CONNECTIONS (or the \
                     session's link endpoint), then retry.",
                );
            }
            Some(text)
        }
        _ => None,
    }
}

impl App {
    /// The session's app tool `slug`, if it exists and the session allows it.
    pub fn session_tool(&self, config: &SessionConfig, slug: &str) -> AppResult<CatalogTool> {
        let wanted = slug.trim().to_ascii_uppercase();
        let tool = self.catalog().tool(&wanted).ok_or_else(|| {
            AppError::new(ErrorCode::NotFound, format!("No tool `{}`.", slug.trim()))
                .with_fix("Find tools with COMPOSIO_SEARCH_TOOLS or GET …/{session}/tools.")
        })?;
        let info = ToolInfo {
            toolkit: &tool.toolkit().slug,
            slug: &tool.tool().slug,
            tags: &tool.tool().tags,
        };
        if !config.allows_tool(&info) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!(
                    "Tool `{}` (toolkit `{}`) is not enabled in this session.",
                    tool.tool().slug,
                    tool.toolkit().slug
                ),
            )
            .with_fix(
                "Allow it in the session's `toolkits` / `tools` / `tags` settings (PATCH the \
                 session), or use a tool the session lists.",
            ));
        }
        Ok(tool)
    }

    /// `POST …/{sid}/execute` (app or meta tool) and `POST …/{sid}/execute_meta` (`meta_only`:
    /// an app slug is then a 400).
    pub async fn session_execute(
        &self,
        caller: &Caller,
        id: &str,
        req: SessionExecution,
        meta_only: bool,
    ) -> AppResult<ToolResult> {
        let session = self.session_find(caller, id).await?;
        self.session_execute_in(caller, session, req, meta_only)
            .await
    }

    /// [`App::session_execute`] on a session the caller already loaded (with
    /// [`App::session_find`]): the MCP endpoint reads the session for its 404 check and runs
    /// the call on that read.
    pub async fn session_execute_in(
        &self,
        caller: &Caller,
        session: Session,
        req: SessionExecution,
        meta_only: bool,
    ) -> AppResult<ToolResult> {
        let config = Arc::new(session.config);
        let arguments = match req.arguments {
            Value::Null => Value::Object(Default::default()),
            v => v,
        };
        if let Some(meta) = MetaTool::parse(req.tool_slug.trim()) {
            if !config.meta_tools().contains(&meta) {
                // A 400, as the seeds say of a disabled workbench's direct calls.
                return Err(AppError::new(
                    ErrorCode::BadRequest,
                    format!(
                        "Meta tool `{}` is not enabled in this session.",
                        meta.slug()
                    ),
                )
                .with_fix("Enable it in the session configuration (PATCH the session)."));
            }
            let sid = session.id.to_string();
            let started = std::time::Instant::now();
            let result = self
                .run_meta(caller, &sid, &config, meta, &arguments, req.approved)
                .await;
            if let Ok(r) = &result {
                self.log_session_run(
                    caller,
                    &sid,
                    &config,
                    meta.slug(),
                    &arguments,
                    None,
                    r,
                    started,
                );
            }
            return result;
        }
        if meta_only {
            return Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!("`slug`: `{}` is not a meta tool.", req.tool_slug.trim()),
            )
            .with_fix("Run app tools with POST …/{session}/execute."));
        }
        let sid = session.id.to_string();
        self.run_session_tool(
            caller,
            &sid,
            &config,
            &req.tool_slug,
            arguments,
            RunOptions {
                account: req.account,
                for_agent: req.workbench_offload,
                approved: req.approved,
            },
        )
        .await
    }

    /// One app tool of the session, checked, validated and run (not yet logged: callers use
    /// `run_session_tool`, which logs and offloads large results).
    pub(crate) async fn run_session_tool_unlogged(
        &self,
        caller: &Caller,
        config: &SessionConfig,
        slug: &str,
        arguments: Value,
        account: Option<String>,
        approved: bool,
    ) -> AppResult<ToolResult> {
        let tool = self.session_tool(config, slug)?;
        let need = config.approval_need(ToolInfo {
            toolkit: &tool.toolkit().slug,
            slug: &tool.tool().slug,
            tags: &tool.tool().tags,
        });
        // An approval answers a question; it never lifts a refusal.
        match need {
            ApprovalNeed::None => {}
            ApprovalNeed::Deny(why) => return Ok(failed(why)),
            ApprovalNeed::Ask { .. } if approved => {}
            ApprovalNeed::Ask { .. } => {
                return Ok(failed(format!(
                    "{} needs the user's approval in this session, and this way of running \
                         it cannot ask. Run it on its own (the session's execute asks the user \
                         and runs it once they approve).",
                    tool.tool().slug
                )));
            }
        }
        let problems = argument_problems(&tool, &arguments);
        if !problems.is_empty() {
            return Ok(failed(format!(
                "Invalid arguments for {}: {}",
                tool.tool().slug,
                problems.join("; ")
            )));
        }
        let choice = account_choice(config, &tool.toolkit().slug, account);
        let account = match self
            .account_for_call(&caller.project_id, Some(&config.user_id), &tool, &choice)
            .await
        {
            Ok(a) => a,
            Err(e) => match account_failure(&e) {
                Some(text) => return Ok(failed(text)),
                None => return Err(e),
            },
        };
        Ok(self.run_tool(&tool, account, &arguments).await)
    }

    async fn run_meta(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &Arc<SessionConfig>,
        meta: MetaTool,
        arguments: &Value,
        approved: bool,
    ) -> AppResult<ToolResult> {
        match meta {
            MetaTool::GetToolSchemas => Ok(self.meta_tool_schemas(config, arguments)),
            MetaTool::ManageConnections => Ok(self
                .meta_manage_connections(caller, session_id, config, arguments)
                .await),
            MetaTool::SearchTools => Ok(match search_queries(arguments) {
                Ok(queries) => {
                    let data = self.search_in(caller, session_id, config, &queries).await?;
                    ToolResult {
                        successful: data["success"] == Value::Bool(true),
                        error: data["error"].as_str().map(str::to_owned),
                        data,
                        log_id: failed(String::new()).log_id,
                        account: None,
                    }
                }
                Err(e) => failed(e),
            }),
            MetaTool::MultiExecuteTool => Ok(self
                .meta_multi_execute(caller, session_id, config, arguments, approved)
                .await),
            MetaTool::RemoteWorkbench => {
                self.meta_remote_workbench(caller, session_id, config, arguments)
                    .await
            }
            MetaTool::RemoteBashTool => {
                self.meta_remote_bash(caller, session_id, config, arguments)
                    .await
            }
            MetaTool::WaitForConnections => Ok(self
                .meta_wait_for_connections(caller, session_id, config, arguments)
                .await),
            other => Ok(failed(format!(
                "{} is not available on this server yet.",
                other.slug()
            ))),
        }
    }

    /// COMPOSIO_GET_TOOL_SCHEMAS: schemas of the named tools the session allows; unknown (or
    /// not allowed) slugs get close-match suggestions among the tools the session allows.
    fn meta_tool_schemas(&self, config: &SessionConfig, arguments: &Value) -> ToolResult {
        let Some(slugs) = arguments.get("tool_slugs").and_then(Value::as_array) else {
            return failed("`tool_slugs`: required, an array of tool slugs.".to_owned());
        };
        let with_output = arguments
            .get("include")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|v| v.as_str() == Some("output_schema")));
        let mut schemas = serde_json::Map::new();
        let mut missing = Vec::new();
        for slug in slugs {
            let Some(slug) = slug.as_str() else {
                return failed("`tool_slugs`: every item must be a string.".to_owned());
            };
            match self.session_tool(config, slug) {
                Ok(t) => {
                    let def = t.tool();
                    let mut entry = serde_json::json!({
                        "tool_slug": def.slug,
                        "toolkit": t.toolkit().slug,
                        "name": def.name,
                        "description": def.description,
                        "input_schema": def.input.value(),
                    });
                    if with_output {
                        entry["output_schema"] = def.output.value().clone();
                    }
                    schemas.insert(def.slug.clone(), entry);
                }
                Err(_) => missing.push(serde_json::json!({
                    "tool_slug": slug,
                    "suggestions": self.close_matches(config, slug),
                })),
            }
        }
        let error = (!missing.is_empty()).then(|| {
            format!(
                "{} of {} tool slugs are unknown or not enabled in this session; see `not_found` for close matches.",
                missing.len(),
                slugs.len()
            )
        });
        ToolResult {
            successful: schemas.len() == slugs.len(),
            data: serde_json::json!({"tool_schemas": schemas, "not_found": missing}),
            error,
            log_id: failed(String::new()).log_id,
            account: None,
        }
    }

    /// `POST …/{sid}/search`: per query the best tools the session allows.
    pub async fn session_search(
        &self,
        caller: &Caller,
        id: &str,
        queries: &[SearchQuery],
    ) -> AppResult<Value> {
        if queries.is_empty() || queries.len() > SEARCH_MAX_QUERIES {
            return Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!(
                    "`queries`: give 1 to {SEARCH_MAX_QUERIES} queries, not {}.",
                    queries.len()
                ),
            ));
        }
        if let Some(i) = queries.iter().position(|q| q.use_case.trim().is_empty()) {
            return Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!("`queries[{i}].use_case`: required, a non-empty string."),
            ));
        }
        let session = self.session_find(caller, id).await?;
        self.search_in(caller, &session.id.to_string(), &session.config, queries)
            .await
    }

    /// The A.11 answer for a loaded session. Never names a tool the session does not allow.
    async fn search_in(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &SessionConfig,
        queries: &[SearchQuery],
    ) -> AppResult<Value> {
        let allow = |tk: &toolrouter_catalog::ToolkitDef, t: &toolrouter_catalog::ToolDef| {
            config.allows_tool(&ToolInfo {
                toolkit: &tk.slug,
                slug: &t.slug,
                tags: &t.tags,
            })
        };
        let mut results = Vec::new();
        let mut schemas = serde_json::Map::new();
        let mut toolkits: Vec<Arc<toolrouter_catalog::ToolkitDef>> = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            let text = match &q.known_fields {
                Some(k) if !k.trim().is_empty() => format!("{} {k}", q.use_case),
                _ => q.use_case.clone(),
            };
            let hits = self
                .catalog()
                .search_tools(&text, SEARCH_PRIMARY + SEARCH_RELATED, &allow);
            let mut query_toolkits: Vec<String> = Vec::new();
            for (rank, hit) in hits.iter().enumerate() {
                let tk = hit.toolkit();
                if !query_toolkits.contains(&tk.slug) {
                    query_toolkits.push(tk.slug.clone());
                }
                if !toolkits.iter().any(|t| t.slug == tk.slug) {
                    toolkits.push(tk.clone());
                }
                let def = hit.tool();
                let full = rank < SEARCH_PRIMARY;
                let entry = schemas.entry(def.slug.clone()).or_insert_with(|| {
                    serde_json::json!({
                        "toolkit": tk.slug,
                        "tool_slug": def.slug,
                        "description": def.description,
                        "hasFullSchema": false,
                        "schemaRef": {
                            "tool": MetaTool::GetToolSchemas.slug(),
                            "args": {"tool_slugs": [def.slug]},
                            "message": "Fetch the input schema before calling this tool.",
                        },
                    })
                });
                if full {
                    entry["input_schema"] = def.input.value().clone();
                    entry["hasFullSchema"] = Value::Bool(true);
                    if let Some(o) = entry.as_object_mut() {
                        o.remove("schemaRef");
                    }
                }
            }
            let slugs: Vec<String> = hits.iter().map(|h| h.tool().slug.clone()).collect();
            let (primary, related) = slugs.split_at(slugs.len().min(SEARCH_PRIMARY));
            results.push(serde_json::json!({
                "index": i + 1,
                "use_case": q.use_case,
                "primary_tool_slugs": primary,
                "related_tool_slugs": related,
                "toolkits": query_toolkits,
                "error": if slugs.is_empty() { Value::from("No tool of this session matches this use case.") } else { Value::Null },
            }));
        }
        let mut statuses = Vec::new();
        let mut missing = Vec::new();
        for tk in &toolkits {
            let choice = account_choice(config, &tk.slug, None);
            let (active, message) = match self
                .account_resolve(&caller.project_id, &config.user_id, tk, &choice)
                .await
            {
                Ok(crate::auth::accounts::Resolved::NoAuth) => {
                    (true, "No authentication needed.".to_owned())
                }
                Ok(crate::auth::accounts::Resolved::Account(a)) => {
                    (true, format!("Connected (account {}).", a.id))
                }
                Ok(crate::auth::accounts::Resolved::ChoiceRequired(_)) => (
                    true,
                    "Several accounts are connected: pass `account` when executing.".to_owned(),
                ),
                Ok(crate::auth::accounts::Resolved::NeedsConnection(_)) | Err(_) => {
                    missing.push(tk.slug.clone());
                    (
                        false,
                        format!("No active connection for {}: connect it first.", tk.slug),
                    )
                }
            };
            statuses.push(serde_json::json!({
                "toolkit": tk.slug,
                "description": tk.description,
                "has_active_connection": active,
                "status_message": message,
            }));
        }
        let mut steps = Vec::new();
        if !missing.is_empty() {
            steps.push(format!(
                "Connect {} with {} before running their tools.",
                missing.join(", "),
                MetaTool::ManageConnections.slug()
            ));
        }
        steps.push(format!(
            "Call the primary tools with the schemas in `tool_schemas`; fetch other schemas with {}.",
            MetaTool::GetToolSchemas.slug()
        ));
        steps.push(format!(
            "Run independent calls together with {}.",
            MetaTool::MultiExecuteTool.slug()
        ));
        let failed_count = results.iter().filter(|r| !r["error"].is_null()).count();
        let now = toolrouter_core::Timestamp::now();
        Ok(serde_json::json!({
            "success": failed_count == 0,
            "error": (failed_count > 0).then(|| format!(
                "{failed_count} out of {} searches failed, see `results[].error`.",
                queries.len()
            )),
            "results": results,
            "tool_schemas": schemas,
            "toolkit_connection_statuses": statuses,
            "next_steps_guidance": steps,
            "session": {
                "id": session_id,
                "generate_id": false,
                "instructions": "Pass this id as `session_id` to later meta tool calls.",
            },
            "time_info": {
                "current_time_utc": now.to_rfc3339(),
                "current_time_utc_epoch_seconds": now.millis() / 1000,
                "message": "Times are UTC; convert to the user's timezone when presenting them.",
            },
        }))
    }

    /// `POST …/{sid}/link`: a connect link for the session's user and a toolkit the session
    /// allows, on the session's pinned auth config (else as account selection chooses), going
    /// back to the call's `callback_url`, else the session's `manage_connections.callback_url`.
    pub async fn session_link(
        &self,
        caller: &Caller,
        id: &str,
        toolkit: &str,
        alias: Option<String>,
        callback_url: Option<String>,
    ) -> AppResult<crate::auth::accounts::IssuedLink> {
        let session = self.session_find(caller, id).await?;
        self.link_in(caller, &session.config, toolkit, alias, callback_url)
            .await
    }

    async fn link_in(
        &self,
        caller: &Caller,
        config: &SessionConfig,
        toolkit: &str,
        alias: Option<String>,
        callback_url: Option<String>,
    ) -> AppResult<crate::auth::accounts::IssuedLink> {
        let toolkit = self.catalog().toolkit(toolkit.trim())?;
        if !config.allows_toolkit(&toolkit.slug) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!("Toolkit `{}` is not enabled in this session.", toolkit.slug),
            )
            .with_fix("Allow it in the session's `toolkits` setting (PATCH the session)."));
        }
        let choice = account_choice(config, &toolkit.slug, None);
        let callback_url = callback_url
            .filter(|u| !u.trim().is_empty())
            .or_else(|| config.manage_connections.callback_url.clone());
        let req = crate::auth::accounts::LinkRequest {
            auth_config_id: String::new(),
            user_id: config.user_id.clone(),
            callback_url,
            alias,
            multi_account: choice.multi_account,
        };
        self.account_link_for_toolkit(caller, &toolkit.slug, choice.auth_config, req)
            .await
    }

    /// COMPOSIO_MANAGE_CONNECTIONS: the connection state of each named toolkit, with a connect
    /// link for each one the user has not connected (or for all, with `reinitiate_all`).
    async fn meta_manage_connections(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &SessionConfig,
        arguments: &Value,
    ) -> ToolResult {
        let Some(list) = arguments.get("toolkits").and_then(Value::as_array) else {
            return failed("`toolkits`: required, an array of toolkit slugs.".to_owned());
        };
        let reinitiate = arguments
            .get("reinitiate_all")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut results = serde_json::Map::new();
        let (mut active, mut initiated, mut failures) = (0usize, 0usize, 0usize);
        for slug in list {
            let Some(slug) = slug.as_str().map(|s| s.trim().to_ascii_lowercase()) else {
                return failed("`toolkits`: every item must be a string.".to_owned());
            };
            let entry = match self.catalog().toolkit(&slug) {
                Ok(tk) if config.allows_toolkit(&tk.slug) => {
                    let choice = account_choice(config, &tk.slug, None);
                    let resolved = self
                        .account_resolve(&caller.project_id, &config.user_id, &tk, &choice)
                        .await;
                    match resolved {
                        Ok(crate::auth::accounts::Resolved::NoAuth) => {
                            active += 1;
                            serde_json::json!({"status": "active", "message": "No authentication needed."})
                        }
                        Ok(crate::auth::accounts::Resolved::Account(a)) if !reinitiate => {
                            active += 1;
                            serde_json::json!({"status": "active", "connected_account_id": a.id.to_string()})
                        }
                        _ => match self.link_in(caller, config, &tk.slug, None, None).await {
                            Ok(link) => {
                                initiated += 1;
                                serde_json::json!({
                                    "status": "initiated",
                                    "redirect_url": link.redirect_url,
                                    "connected_account_id": link.account.id.to_string(),
                                    "message": "Ask the user to open redirect_url and connect.",
                                })
                            }
                            Err(e) => {
                                failures += 1;
                                serde_json::json!({"status": "failed", "message": e.message})
                            }
                        },
                    }
                }
                _ => {
                    failures += 1;
                    serde_json::json!({"status": "failed",
                                       "message": format!("Toolkit `{slug}` is unknown or not enabled in this session.")})
                }
            };
            results.insert(slug, entry);
        }
        let message = if initiated > 0 {
            "Share each redirect_url with the user; the toolkits are usable once they connect."
        } else {
            "Connection state of the requested toolkits."
        };
        ToolResult {
            successful: failures == 0,
            error: (failures > 0).then(|| {
                format!(
                    "{failures} out of {} toolkits could not be handled",
                    list.len()
                )
            }),
            data: serde_json::json!({
                "message": message,
                "results": results,
                "summary": {
                    "total_toolkits": list.len(),
                    "active_connections": active,
                    "initiated_connections": initiated,
                    "failed_connections": failures,
                },
                "session": {"id": session_id, "instructions": "Pass this id as `session_id` to later meta tool calls."},
            }),
            log_id: failed(String::new()).log_id,
            account: None,
        }
    }

    /// Up to five slugs of tools the session allows, closest to `slug` first.
    fn close_matches(&self, config: &SessionConfig, slug: &str) -> Vec<String> {
        let wanted = slug.trim().to_ascii_uppercase();
        let mut scored: Vec<(usize, String)> = self
            .catalog()
            .snapshot()
            .iter()
            .flat_map(|tk| {
                tk.tools
                    .iter()
                    .filter(|t| {
                        config.allows_tool(&ToolInfo {
                            toolkit: &tk.slug,
                            slug: &t.slug,
                            tags: &t.tags,
                        })
                    })
                    .map(|t| t.slug.clone())
                    .collect::<Vec<_>>()
            })
            .map(|s| (edit_distance(&wanted, &s), s))
            .filter(|(d, s)| *d <= s.len().max(wanted.len()) / 2)
            .collect();
        scored.sort();
        scored.into_iter().take(5).map(|(_, s)| s).collect()
    }

    /// COMPOSIO_MULTI_EXECUTE_TOOL: up to [`MULTI_EXECUTE_MAX`] app tools in parallel, results in
    /// input order (CONTRACT.md §6.3/§6.4).
    async fn meta_multi_execute(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &Arc<SessionConfig>,
        arguments: &Value,
        approved: bool,
    ) -> ToolResult {
        let Some(items) = arguments.get("tools").and_then(Value::as_array) else {
            return failed("`tools`: required, an array of {tool_slug, arguments}.".to_owned());
        };
        if items.is_empty() || items.len() > MULTI_EXECUTE_MAX {
            return failed(format!(
                "`tools`: give 1 to {MULTI_EXECUTE_MAX} tools, not {}.",
                items.len()
            ));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (index, item) in items.iter().enumerate() {
            let slug = item
                .get("tool_slug")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let args = item.get("arguments").cloned().unwrap_or(Value::Null);
            let (app, caller, config) = (self.clone(), caller.clone(), config.clone());
            let sid = session_id.to_owned();
            // The items were approved with the batch (MCP asks about each before it runs).
            let options = RunOptions {
                approved,
                ..RunOptions::agent()
            };
            tasks.spawn(async move {
                let outcome = if slug.trim().is_empty() {
                    Err(format!("`tools[{index}].tool_slug`: required."))
                } else if MetaTool::parse(slug.trim()).is_some() {
                    Err(format!(
                        "`tools[{index}]`: meta tools cannot run inside {}.",
                        MetaTool::MultiExecuteTool.slug()
                    ))
                } else if !(args.is_object() || args.is_null()) {
                    Err(format!("`tools[{index}].arguments`: must be an object."))
                } else {
                    let args = if args.is_null() {
                        Value::Object(Default::default())
                    } else {
                        args
                    };
                    app.run_session_tool(&caller, &sid, &config, &slug, args, options)
                        .await
                        .map_err(|e| e.message)
                };
                (index, slug, outcome)
            });
        }
        let mut results: Vec<(usize, Value, bool)> = Vec::with_capacity(items.len());
        while let Some(joined) = tasks.join_next().await {
            let Ok((index, slug, outcome)) = joined else {
                continue;
            };
            let (entry, ok) = match outcome {
                Ok(r) => (
                    serde_json::json!({
                        "tool_slug": slug,
                        "index": index,
                        "response": {"successful": r.successful, "data": r.data, "error": r.error},
                    }),
                    r.successful,
                ),
                Err(message) => (
                    serde_json::json!({"tool_slug": slug, "index": index, "error": message}),
                    false,
                ),
            };
            results.push((index, entry, ok));
        }
        results.sort_by_key(|(i, _, _)| *i);
        let total = items.len();
        let success = results.iter().filter(|(_, _, ok)| *ok).count();
        let errors = total - success;
        ToolResult {
            successful: errors == 0,
            data: serde_json::json!({
                "results": results.into_iter().map(|(_, e, _)| e).collect::<Vec<_>>(),
                "total_count": total,
                "success_count": success,
                "error_count": errors,
            }),
            error: (errors > 0).then(|| format!("{errors} out of {total} tools failed")),
            log_id: failed(String::new()).log_id,
            account: None,
        }
    }
}

/// Most queries one search takes (A.11).
pub const SEARCH_MAX_QUERIES: usize = 7;
/// Tools a query ranks as primary (with full schemas), then as related.
const SEARCH_PRIMARY: usize = 3;
const SEARCH_RELATED: usize = 5;

/// One search query (`queries[]` of A.11 / COMPOSIO_SEARCH_TOOLS).
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub use_case: String,
    pub known_fields: Option<String>,
}

/// The queries of a COMPOSIO_SEARCH_TOOLS call, or what is wrong with them.
pub(crate) fn search_queries(arguments: &Value) -> Result<Vec<SearchQuery>, String> {
    let Some(list) = arguments.get("queries").and_then(Value::as_array) else {
        return Err("`queries`: required, an array of {use_case, known_fields?}.".to_owned());
    };
    list.iter()
        .enumerate()
        .map(|(i, q)| {
            let use_case = q
                .get("use_case")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if use_case.trim().is_empty() {
                return Err(format!(
                    "`queries[{i}].use_case`: required, a non-empty string."
                ));
            }
            Ok(SearchQuery {
                use_case: use_case.to_owned(),
                known_fields: q
                    .get("known_fields")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// Most tools one COMPOSIO_MULTI_EXECUTE_TOOL call runs.
pub const MULTI_EXECUTE_MAX: usize = 50;

/// Levenshtein distance over bytes (slugs are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
