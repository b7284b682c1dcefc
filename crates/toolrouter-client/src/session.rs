//! Sessions: create, reuse, list and delete them, and everything a session does — list its
//! tools and toolkits, execute (server-side or in-process for custom tools), search, connect
//! accounts, hand out its MCP endpoint, and answer a model's tool calls.
//!
//! Each method sends exactly the requests the official SDKs send for the same call
//! (CONTRACT.md §3), so a server that works with them works with this client and the other
//! way round. Custom tool definitions are re-sent with every search and execute because the
//! server does not keep them (§3.10).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use toolrouter_api::auth::ConnectedAccountView;
use toolrouter_api::catalog::{
    Paginated, Tool, ToolDeprecated, ToolDeprecatedToolkit, ToolToolkit,
};
use toolrouter_api::session::{
    AttachRequest, PreloadToolsEcho, SessionConfigEcho, SessionDeleted, SessionResponse,
    SessionToolkitItem,
};
use toolrouter_api::session_exec::{
    AclConfigForShared, ExecuteMetaRequest, ExecuteRequest, ExecuteResponse, LinkExperimental,
    LinkRequest, LinkResponse, SearchQueryBody, SearchRequest, SearchResponse, ToolRun,
    UserInputResponse,
};

use crate::client::{Call, Client};
use crate::config::{SessionConfig, SessionUpdate};
use crate::custom::{CustomSet, CustomTool, CustomToolkit, Routes, ToolContext};
use crate::error::Error;
use crate::provider::{Provider, ToolCall, ToolOutcome};

/// The meta tool whose items may include custom tools, split between here and the server.
const MULTI_EXECUTE: &str = "COMPOSIO_MULTI_EXECUTE_TOOL";

/// What the SDKs put before the description of a custom tool listed directly (§3.10).
const DIRECT_TOOL_PREFIX: &str = "[Direct tool - call directly, no search needed beforehand.]\n";

/// How a tool run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    Completed,
    /// The tool ran and failed, or the user did not approve it.
    Failed,
    /// A hook blocked the call.
    Blocked,
}

impl ResultType {
    /// The wire name: `completed`, `failed` or `blocked`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultType::Completed => "completed",
            ResultType::Failed => "failed",
            ResultType::Blocked => "blocked",
        }
    }
}

/// The result of running a tool. A failed run is a result, not an [`Error`]: the model reads
/// the error and can react.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub data: Value,
    pub error: Option<String>,
    pub successful: bool,
    pub result_type: ResultType,
    /// The server's execution log id (none for custom tools, which run here).
    pub log_id: Option<String>,
    /// `{amount, currency, charged_by}` when the session reports instant charges.
    pub instant_charge: Option<Value>,
}

impl ToolResult {
    pub(crate) fn local(data: Value, error: Option<String>) -> ToolResult {
        ToolResult {
            successful: error.is_none(),
            result_type: if error.is_none() {
                ResultType::Completed
            } else {
                ResultType::Failed
            },
            data,
            error,
            log_id: None,
            instant_charge: None,
        }
    }

    fn from_wire(tool: &str, r: ExecuteResponse) -> Result<ToolResult, Error> {
        let ran = |run: ToolRun, result_type: ResultType| {
            let error = match result_type {
                // A failure always says why, even when the server did not.
                ResultType::Failed => {
                    Some(run.error.unwrap_or_else(|| "the tool failed".to_owned()))
                }
                _ => run.error,
            };
            ToolResult {
                data: match run.data {
                    Value::Null => json!({}),
                    d => d,
                },
                successful: result_type == ResultType::Completed,
                error,
                result_type,
                log_id: Some(run.log_id).filter(|l| !l.is_empty()),
                instant_charge: run.instant_charge,
            }
        };
        Ok(match r {
            ExecuteResponse::Completed(run) => ran(run, ResultType::Completed),
            ExecuteResponse::Failed(run) => ran(run, ResultType::Failed),
            ExecuteResponse::Blocked(b) => ToolResult {
                data: json!({}),
                error: Some(b.message.unwrap_or_else(|| "blocked".to_owned())),
                successful: false,
                result_type: ResultType::Blocked,
                log_id: b.log_id,
                instant_charge: None,
            },
            ExecuteResponse::InputRequired(q) => {
                return Err(Error::InputRequired {
                    tool: tool.to_owned(),
                    input_requests: match q.input_requests {
                        Value::Null => json!({}),
                        v => v,
                    },
                    request_state: q.request_state,
                });
            }
        })
    }

    /// What the model is shown: `{"data", "error", "successful"}`.
    pub fn to_model_json(&self) -> Value {
        json!({"data": self.data, "error": self.error, "successful": self.successful})
    }
}

/// Options of [`Session::execute_with`].
#[derive(Debug, Clone, Default)]
pub struct ExecuteOptions {
    account: Option<String>,
    input_responses: Option<BTreeMap<String, UserInputResponse>>,
    request_state: Option<String>,
}

impl ExecuteOptions {
    pub fn new() -> Self {
        ExecuteOptions::default()
    }

    /// The connected account (id or alias) to use, in a multi-account session.
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// Answers to an [`Error::InputRequired`], keyed by its question ids, with its
    /// `request_state`.
    pub fn input_responses(
        mut self,
        responses: BTreeMap<String, UserInputResponse>,
        request_state: Option<String>,
    ) -> Self {
        self.input_responses = Some(responses);
        self.request_state = request_state;
        self
    }
}

/// Options of [`Session::authorize_with`].
#[derive(Debug, Clone, Default)]
pub struct AuthorizeOptions {
    callback_url: Option<String>,
    alias: Option<String>,
    experimental: Option<LinkExperimental>,
}

impl AuthorizeOptions {
    pub fn new() -> Self {
        AuthorizeOptions::default()
    }

    /// Where the connect page sends the user afterwards.
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// A name for the new account, to tell several apart.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// Make the account `SHARED` with these users (experimental).
    pub fn shared(mut self, acl: AclConfigForShared) -> Self {
        self.experimental = Some(LinkExperimental {
            account_type: Some("SHARED".to_owned()),
            acl_config_for_shared: Some(acl),
        });
        self
    }
}

/// Filters of [`Session::toolkits_with`]; all optional.
#[derive(Debug, Clone, Default)]
pub struct ToolkitsQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    toolkits: Option<Vec<String>>,
    is_connected: Option<bool>,
    search: Option<String>,
}

impl ToolkitsQuery {
    pub fn new() -> Self {
        ToolkitsQuery::default()
    }

    /// Page size, at most 50 (the server's default is 20).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The `next_cursor` of the previous page.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Only these toolkits (overrides the session's own toolkit filter).
    pub fn toolkits<S: Into<String>>(mut self, toolkits: impl IntoIterator<Item = S>) -> Self {
        self.toolkits = Some(toolkits.into_iter().map(Into::into).collect());
        self
    }

    /// Only toolkits with (or without) an active connection.
    pub fn is_connected(mut self, connected: bool) -> Self {
        self.is_connected = Some(connected);
        self
    }

    /// Only toolkits whose name, slug or description matches.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }
}

/// A toolkit's connection, as the SDKs present it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolkitConnection {
    /// Whether the connected account is `ACTIVE`.
    pub is_active: bool,
    /// `(id, status)` of the account in use, if any.
    pub connected_account: Option<(String, String)>,
    /// `(id, is_composio_managed, auth scheme)` of its auth config.
    pub auth_config: Option<(String, bool, String)>,
}

/// One toolkit of a session and whether the user is connected to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionToolkit {
    pub slug: String,
    pub name: String,
    pub enabled: bool,
    pub is_no_auth: bool,
    pub logo: String,
    pub description: String,
    /// `None` for toolkits that need no authentication.
    pub connection: Option<ToolkitConnection>,
}

impl From<SessionToolkitItem> for SessionToolkit {
    fn from(t: SessionToolkitItem) -> Self {
        let connection = (!t.is_no_auth).then(|| {
            let account = t.connected_account.as_ref();
            ToolkitConnection {
                is_active: account.is_some_and(|a| a.status == "ACTIVE"),
                connected_account: account.map(|a| (a.id.clone(), a.status.clone())),
                auth_config: account.map(|a| {
                    (
                        a.auth_config.id.clone(),
                        a.auth_config.is_composio_managed,
                        a.auth_config.auth_scheme.clone(),
                    )
                }),
            }
        });
        SessionToolkit {
            slug: t.slug,
            name: t.name,
            enabled: t.enabled,
            is_no_auth: t.is_no_auth,
            logo: t.meta.logo,
            description: t.meta.description,
            connection,
        }
    }
}

/// A page of toolkits.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolkitPage {
    pub items: Vec<SessionToolkit>,
    /// Pass to [`ToolkitsQuery::cursor`] for the next page; `None` on the last.
    pub next_cursor: Option<String>,
    pub total_pages: u64,
}

/// Where an MCP client reaches the session, and the headers it must send.
#[derive(Clone)]
pub struct McpConfig {
    /// `http` (Streamable HTTP).
    pub kind: String,
    pub url: String,
    headers: Vec<(String, SecretString)>,
}

impl McpConfig {
    /// The credential headers (`x-api-key`). Empty when the URL is not on the API's origin,
    /// so the key never goes to a host the client was not configured for.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose_secret()))
    }
}

impl fmt::Debug for McpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("McpConfig")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("headers", &names)
            .finish()
    }
}

/// A connection being made: send the user to [`redirect_url`](Self::redirect_url), then
/// [`wait_for_connection`](Self::wait_for_connection).
#[derive(Debug, Clone)]
pub struct ConnectionRequest {
    client: Client,
    /// The connected account being created (`ca_…`).
    pub id: String,
    /// The connect page the user opens.
    pub redirect_url: String,
    /// `INITIATED` until waited for.
    pub status: String,
    poll_every: Duration,
}

impl ConnectionRequest {
    /// How often [`wait_for_connection`](Self::wait_for_connection) asks. Default: 1 s.
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_every = every;
        self
    }

    /// Waits until the account is `ACTIVE` (returned), ends in `FAILED`, `EXPIRED` or
    /// `REVOKED` ([`Error::ConnectionFailed`]), or `timeout` passes
    /// ([`Error::ConnectionTimeout`]). Asks at once, then every poll interval.
    pub async fn wait_for_connection(
        &self,
        timeout: Duration,
    ) -> Result<ConnectedAccountView, Error> {
        let started = Instant::now();
        loop {
            let account: Value = self
                .client
                .send(Call::get(
                    &["connected_accounts", &self.id],
                    "connected account",
                ))
                .await?;
            let status = account
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            match status.as_str() {
                "ACTIVE" => {
                    return serde_json::from_value(account).map_err(|source| Error::Decode {
                        method: "GET".to_owned(),
                        path: self.client.path(&["connected_accounts", &self.id]),
                        what: "connected account",
                        source,
                    });
                }
                "FAILED" | "EXPIRED" | "REVOKED" => {
                    return Err(Error::ConnectionFailed {
                        id: self.id.clone(),
                        reason: account
                            .get("status_reason")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        status,
                    });
                }
                _ => {}
            }
            if started.elapsed() + self.poll_every > timeout {
                return Err(Error::ConnectionTimeout {
                    id: self.id.clone(),
                    status,
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(self.poll_every).await;
        }
    }
}

/// The session's custom tools and where their names lead.
#[derive(Debug)]
struct Custom {
    set: CustomSet,
    routes: Routes,
}

impl Custom {
    fn new(set: CustomSet, info: &SessionResponse) -> Custom {
        let routes = Routes::build(&set, info.experimental.as_ref(), preload_all(&info.config));
        Custom { set, routes }
    }
}

fn preload_all(config: &SessionConfigEcho) -> bool {
    matches!(&config.preload.tools, PreloadToolsEcho::Word(w) if w == "all")
}

/// A Tool Router session. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    client: Client,
    info: Arc<SessionResponse>,
    custom: Arc<Custom>,
    /// Input schemas of the tools last listed, by upper-cased slug, to read the model's calls.
    schemas: Arc<Mutex<HashMap<String, Value>>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.info.session_id)
            .field("user_id", &self.info.config.user_id)
            .field("config_version", &self.info.config_version)
            .field("custom_tools", &self.custom.routes.entries.len())
            .finish()
    }
}

impl Session {
    fn new(client: Client, info: SessionResponse, set: CustomSet) -> Session {
        let custom = Custom::new(set, &info);
        Session {
            client,
            info: Arc::new(info),
            custom: Arc::new(custom),
            schemas: Arc::default(),
        }
    }

    /// The client the session sends its requests with.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The session id (`trs_…`).
    pub fn id(&self) -> &str {
        &self.info.session_id
    }

    pub fn user_id(&self) -> &str {
        &self.info.config.user_id
    }

    /// The session as the server last described it (configuration in response spelling).
    pub fn info(&self) -> &SessionResponse {
        &self.info
    }

    /// Increases with every update; see [`SessionUpdate::expected_config_version`].
    pub fn config_version(&self) -> i64 {
        self.info.config_version
    }

    /// The system prompt explaining the meta tools, when the server sent one.
    pub fn assistive_prompt(&self) -> Option<&str> {
        self.info
            .experimental
            .as_ref()
            .and_then(|e| e.assistive_prompt.as_deref())
    }

    /// The MCP endpoint. The API key is attached only when the URL is on the API's origin
    /// (scheme, host and port), as in the official SDKs (CONTRACT.md §7).
    pub fn mcp(&self) -> McpConfig {
        let url = self.info.mcp.url.clone();
        let headers = if self.client.same_origin(&url) {
            self.client.credential_headers()
        } else {
            Vec::new()
        };
        McpConfig {
            kind: self.info.mcp.kind.clone(),
            url,
            headers,
        }
    }

    /// Like [`mcp`](Self::mcp), but an error when the key cannot be attached (the SDKs'
    /// `mcp=True`).
    pub fn mcp_checked(&self) -> Result<McpConfig, Error> {
        let mcp = self.mcp();
        if mcp.headers.is_empty() {
            return Err(Error::McpDestination {
                mcp_url: mcp.url,
                base_url: self.client.base_url().to_string(),
            });
        }
        Ok(mcp)
    }

    /// The tools to give the model: the meta tools the session enables and the preloaded app
    /// tools, in the server's order, then preloaded custom tools the server did not list.
    pub async fn tools(&self) -> Result<Vec<Tool>, Error> {
        let mut tools: Vec<Tool> = self
            .client
            .all_pages(|| {
                Call::get(&["tool_router", "session", self.id(), "tools"], "tool list")
                    .query("limit", "500")
            })
            .await?;
        let listed: HashSet<String> = tools.iter().map(|t| t.slug.to_ascii_uppercase()).collect();
        for route in self.custom.routes.entries.iter().filter(|r| r.preload) {
            if !listed.contains(&route.slug.to_ascii_uppercase()) {
                tools.push(listed_custom_tool(route));
            }
        }
        let mut schemas = self.schemas.lock().unwrap_or_else(PoisonError::into_inner);
        for t in &tools {
            schemas.insert(t.slug.to_ascii_uppercase(), t.input_parameters.clone());
        }
        Ok(tools)
    }

    /// [`tools`](Self::tools) in `provider`'s format, ready for its request's `tools` field.
    pub async fn tools_for<P: Provider + ?Sized>(&self, provider: &P) -> Result<Vec<Value>, Error> {
        Ok(provider.tools(&self.tools().await?))
    }

    /// The first page of the session's toolkits and their connection state.
    pub async fn toolkits(&self) -> Result<ToolkitPage, Error> {
        self.toolkits_with(ToolkitsQuery::default()).await
    }

    /// [`toolkits`](Self::toolkits) filtered or paged.
    pub async fn toolkits_with(&self, query: ToolkitsQuery) -> Result<ToolkitPage, Error> {
        let mut call = Call::get(
            &["tool_router", "session", self.id(), "toolkits"],
            "toolkit list",
        );
        if let Some(l) = query.limit {
            call = call.query("limit", l.to_string());
        }
        if let Some(c) = query.cursor {
            call = call.query("cursor", c);
        }
        if let Some(t) = query.toolkits {
            call = call.query("toolkits", t.join(","));
        }
        if let Some(c) = query.is_connected {
            call = call.query("is_connected", c.to_string());
        }
        if let Some(s) = query.search {
            call = call.query("search", s);
        }
        let page: Paginated<SessionToolkitItem> = self.client.send(call).await?;
        Ok(ToolkitPage {
            items: page.items.into_iter().map(SessionToolkit::from).collect(),
            next_cursor: page.next_cursor.filter(|c| !c.is_empty()),
            total_pages: page.total_pages,
        })
    }

    /// Runs a tool: an app tool or meta tool on the server, a custom tool here.
    pub async fn execute(&self, slug: &str, arguments: Value) -> Result<ToolResult, Error> {
        self.execute_with(slug, arguments, ExecuteOptions::default())
            .await
    }

    /// [`execute`](Self::execute) with options: the account to use in a multi-account
    /// session, answers to an approval ([`Error::InputRequired`]).
    pub async fn execute_with(
        &self,
        slug: &str,
        arguments: Value,
        options: ExecuteOptions,
    ) -> Result<ToolResult, Error> {
        if let Some(route) = self.custom.routes.find(slug) {
            return Ok(route
                .tool
                .run(arguments, ToolContext::new(self.clone()))
                .await);
        }
        if slug.eq_ignore_ascii_case(MULTI_EXECUTE)
            && let Some(result) = self.multi_execute_split(&arguments, &options).await?
        {
            return Ok(result);
        }
        self.execute_remote(slug, arguments, options).await
    }

    async fn execute_remote(
        &self,
        slug: &str,
        arguments: Value,
        options: ExecuteOptions,
    ) -> Result<ToolResult, Error> {
        let body = ExecuteRequest {
            tool_slug: slug.to_owned(),
            // Always sent, `{}` when there are none, as the SDKs do.
            arguments: Some(if arguments.is_null() {
                json!({})
            } else {
                arguments
            }),
            account: options.account,
            input_responses: options.input_responses,
            request_state: options.request_state,
            experimental: self.custom.set.experimental(),
            ..ExecuteRequest::default()
        };
        let call = Call::post(
            &["tool_router", "session", self.id(), "execute"],
            "execution result",
        )
        .json(&body)
        .once();
        let answer: ExecuteResponse = self.client.send(call).await?;
        ToolResult::from_wire(slug, answer)
    }

    /// `COMPOSIO_MULTI_EXECUTE_TOOL` with custom tools among its items: those run here, the
    /// rest in one server call, and the results are merged in the items' order (CONTRACT.md
    /// §6.4). `None` when no item is a custom tool, so the call goes to the server unchanged.
    async fn multi_execute_split(
        &self,
        arguments: &Value,
        options: &ExecuteOptions,
    ) -> Result<Option<ToolResult>, Error> {
        let Some(items) = arguments.get("tools").and_then(Value::as_array) else {
            return Ok(None);
        };
        let slug_of = |item: &Value| {
            item.get("tool_slug")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let is_local = |item: &Value| self.custom.routes.find(&slug_of(item)).is_some();
        if !items.iter().any(is_local) {
            return Ok(None);
        }
        let mut results: Vec<Option<Value>> = vec![None; items.len()];
        let mut remote_at = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let slug = slug_of(item);
            let Some(route) = self.custom.routes.find(&slug) else {
                remote_at.push(i);
                continue;
            };
            let args = item.get("arguments").cloned().unwrap_or_else(|| json!({}));
            let r = route.tool.run(args, ToolContext::new(self.clone())).await;
            let mut response = json!({"successful": r.successful, "data": r.data});
            let mut entry = json!({"tool_slug": slug, "index": i});
            if let Some(e) = r.error {
                response["error"] = json!(e);
                entry["error"] = json!(e);
            }
            entry["response"] = response;
            results[i] = Some(entry);
        }
        let mut data = Map::new();
        let mut remote_error = None;
        if !remote_at.is_empty() {
            let mut remote_args = arguments.clone();
            remote_args["tools"] =
                Value::Array(remote_at.iter().map(|&i| items[i].clone()).collect());
            let remote = self
                .execute_remote(MULTI_EXECUTE, remote_args, options.clone())
                .await?;
            if let Value::Object(d) = remote.data {
                data = d;
            }
            let remote_results = data
                .remove("results")
                .and_then(|r| match r {
                    Value::Array(a) => Some(a),
                    _ => None,
                })
                .unwrap_or_default();
            if remote_results.is_empty() && !remote.successful {
                remote_error = remote.error;
            }
            for (pos, mut r) in remote_results.into_iter().enumerate() {
                // The server numbers its subset; put each result back at its item's place.
                let sub = r
                    .get("index")
                    .and_then(Value::as_u64)
                    .and_then(|i| usize::try_from(i).ok())
                    .unwrap_or(pos);
                if let Some(&at) = remote_at.get(sub) {
                    r["index"] = json!(at);
                    results[at] = Some(r);
                }
            }
            for &at in &remote_at {
                results[at].get_or_insert_with(|| {
                    let e = remote_error
                        .clone()
                        .unwrap_or_else(|| "the server returned no result for this tool".into());
                    json!({"tool_slug": slug_of(&items[at]), "index": at,
                           "response": {"successful": false, "data": {}, "error": e}, "error": e})
                });
            }
        }
        let results: Vec<Value> = results.into_iter().flatten().collect();
        let total = results.len();
        let succeeded = results
            .iter()
            .filter(|r| r["response"]["successful"] == json!(true))
            .count();
        let failed = total - succeeded;
        data.insert("results".into(), Value::Array(results));
        data.insert("total_count".into(), json!(total));
        data.insert("success_count".into(), json!(succeeded));
        data.insert("error_count".into(), json!(failed));
        let error = remote_error
            .or_else(|| (failed > 0).then(|| format!("{failed} out of {total} tools failed")));
        Ok(Some(ToolResult::local(Value::Object(data), error)))
    }

    /// Runs a meta tool through `/execute_meta` (Python's `session.execute_meta`).
    pub async fn execute_meta(&self, slug: &str, arguments: Value) -> Result<ToolResult, Error> {
        let body = ExecuteMetaRequest {
            slug: slug.to_owned(),
            arguments: Some(arguments),
            input_responses: None,
            request_state: None,
            experimental: self.custom.set.experimental(),
        };
        let call = Call::post(
            &["tool_router", "session", self.id(), "execute_meta"],
            "execution result",
        )
        .json(&body)
        .once();
        let answer: ExecuteResponse = self.client.send(call).await?;
        ToolResult::from_wire(slug, answer)
    }

    /// Finds tools for a task, e.g. `"send an email"`.
    pub async fn search(&self, query: &str) -> Result<SearchResponse, Error> {
        self.search_with(SearchRequest {
            queries: vec![SearchQueryBody {
                use_case: query.to_owned(),
                known_fields: None,
            }],
            ..SearchRequest::default()
        })
        .await
    }

    /// A search with several queries, a model hint or a strategy. The session's custom tools
    /// are added to `experimental` when it is left empty.
    pub async fn search_with(&self, mut request: SearchRequest) -> Result<SearchResponse, Error> {
        if request.experimental.is_none() {
            request.experimental = self.custom.set.experimental();
        }
        let call = Call::post(
            &["tool_router", "session", self.id(), "search"],
            "search result",
        )
        .json(&request);
        self.client.send(call).await
    }

    /// Starts connecting the user's account for `toolkit` (e.g. `github`).
    pub async fn authorize(&self, toolkit: &str) -> Result<ConnectionRequest, Error> {
        self.authorize_with(toolkit, AuthorizeOptions::default())
            .await
    }

    /// [`authorize`](Self::authorize) with a callback URL, an alias or sharing settings.
    pub async fn authorize_with(
        &self,
        toolkit: &str,
        options: AuthorizeOptions,
    ) -> Result<ConnectionRequest, Error> {
        let body = LinkRequest {
            toolkit: toolkit.to_owned(),
            alias: options.alias,
            callback_url: options.callback_url.filter(|u| !u.is_empty()),
            experimental: options.experimental,
        };
        let call = Call::post(&["tool_router", "session", self.id(), "link"], "link")
            .json(&body)
            .once();
        let link: LinkResponse = self.client.send(call).await?;
        Ok(ConnectionRequest {
            client: self.client.clone(),
            id: link.connected_account_id,
            redirect_url: link.redirect_url,
            status: "INITIATED".to_owned(),
            poll_every: Duration::from_secs(1),
        })
    }

    /// Changes the session's configuration; this handle then shows the new one.
    pub async fn update(&mut self, update: SessionUpdate) -> Result<(), Error> {
        let call = Call::new(
            Method::PATCH,
            &["tool_router", "session", self.id()],
            "session",
        )
        .json(&update.to_request())
        .once();
        let mut info: SessionResponse = self.client.send(call).await?;
        // `experimental` (the assistive prompt, the custom tools' final slugs) is sent on
        // create and attach only; an update leaves it as it was.
        if info.experimental.is_none() {
            info.experimental = self.info.experimental.clone();
        }
        self.custom = Arc::new(Custom::new(self.custom.set.clone(), &info));
        self.info = Arc::new(info);
        Ok(())
    }

    /// Deletes the session; it cannot be used afterwards.
    pub async fn delete(&self) -> Result<(), Error> {
        self.client.sessions().delete(self.id()).await
    }

    /// Runs the tool calls in a model `response` (in `provider`'s format) and returns the
    /// messages that carry the results back, in the calls' order, ready to append to the
    /// conversation.
    pub async fn handle_tool_calls<P: Provider + ?Sized>(
        &self,
        provider: &P,
        response: &Value,
    ) -> Result<Vec<Value>, Error> {
        let calls = provider.tool_calls(response)?;
        let outcomes = self.run_tool_calls(calls).await?;
        Ok(provider.tool_results(&outcomes))
    }

    /// Runs tool calls one after the other (custom tools here, the rest on the server).
    ///
    /// Arguments that are not a JSON object (e.g. truncated JSON from the model) become a
    /// failed result the model can correct, without running anything. For tools listed by
    /// [`tools`](Self::tools), a `null` sent for an optional property whose schema does not
    /// admit `null` is left out, as strict-mode models say "not given" that way.
    pub async fn run_tool_calls(&self, calls: Vec<ToolCall>) -> Result<Vec<ToolOutcome>, Error> {
        let mut outcomes = Vec::with_capacity(calls.len());
        for call in calls {
            let result = match &call.arguments {
                Value::Object(_) => {
                    let mut arguments = call.arguments.clone();
                    if let Some(schema) = self
                        .schemas
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(&call.name.to_ascii_uppercase())
                    {
                        crate::provider::drop_unset_nulls(&mut arguments, schema);
                    }
                    self.execute(&call.name, arguments).await?
                }
                Value::Null => self.execute(&call.name, json!({})).await?,
                Value::String(raw) => {
                    let why = serde_json::from_str::<Value>(raw)
                        .err()
                        .map_or_else(|| "not an object".to_owned(), |e| e.to_string());
                    ToolResult::local(
                        json!({}),
                        Some(format!(
                            "the arguments are not a valid JSON object ({why}); send them again as one"
                        )),
                    )
                }
                other => ToolResult::local(
                    json!({}),
                    Some(format!("the arguments must be a JSON object, not {other}")),
                ),
            };
            outcomes.push(ToolOutcome { call, result });
        }
        Ok(outcomes)
    }

    #[cfg(test)]
    pub(crate) fn detached_for_tests() -> Session {
        let info: SessionResponse = serde_json::from_value(json!({
            "session_id": "trs_test", "mcp": {"type": "http", "url": "http://127.0.0.1:9/mcp"},
            "tool_router_tools": [], "config_version": 1, "warnings": [],
            "config": {"user_id": "u", "instant": false,
                "manage_connections": {"enabled": true, "enable_wait_for_connections": false,
                                       "enable_connection_removal": true},
                "workbench": {"enable": true, "proxy_execution_enabled": true,
                              "auto_offload_threshold": 20000, "sandbox_size": "standard"},
                "preload": {"tools": []}, "search": {}, "execute": {}}
        }))
        .expect("a valid session");
        let client = Client::new("k", "http://127.0.0.1:9").expect("a valid client");
        Session::new(client, info, CustomSet::default())
    }
}

/// A preloaded custom tool as a `Tool`, so it can be converted like any other.
fn listed_custom_tool(route: &crate::custom::Route) -> Tool {
    let def = route.tool.definition();
    let (toolkit_slug, toolkit_name) = route.toolkit.clone();
    Tool {
        slug: route.slug.clone(),
        name: def.name.clone(),
        description: format!("{DIRECT_TOOL_PREFIX}{}", def.description),
        human_description: None,
        toolkit: ToolToolkit {
            slug: toolkit_slug,
            name: toolkit_name,
            logo: String::new(),
        },
        input_parameters: def.input_schema.clone(),
        output_parameters: def.output_schema.clone().unwrap_or_else(|| json!({})),
        no_auth: def.extends_toolkit.is_none(),
        available_versions: Vec::new(),
        version: "local".to_owned(),
        scopes: Vec::new(),
        tags: Vec::new(),
        is_deprecated: false,
        deprecated: ToolDeprecated {
            display_name: def.name.clone(),
            version: "local".to_owned(),
            available_versions: Vec::new(),
            is_deprecated: false,
            toolkit: ToolDeprecatedToolkit {
                logo: String::new(),
            },
        },
    }
}

/// Sessions by id: reuse, list and delete.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    client: &'a Client,
}

impl Sessions<'_> {
    /// An existing session (the SDKs' `composio.use(id)`); 404 ([`Error::NotFound`]) when it
    /// does not exist or was deleted.
    pub async fn use_session(&self, id: &str) -> Result<Session, Error> {
        let info: SessionResponse = self
            .client
            .send(Call::get(&["tool_router", "session", id], "session"))
            .await?;
        Ok(Session::new(
            self.client.clone(),
            info,
            CustomSet::default(),
        ))
    }

    /// An existing session with custom tools attached (they are not stored with the session,
    /// so a process that reuses a session brings its own).
    pub async fn use_session_with(
        &self,
        id: &str,
        tools: Vec<CustomTool>,
        toolkits: Vec<CustomToolkit>,
    ) -> Result<Session, Error> {
        let set = CustomSet { tools, toolkits };
        if set.is_empty() {
            return self.use_session(id).await;
        }
        set.validate()?;
        let body = AttachRequest {
            experimental: Some(set.definitions()),
        };
        let call = Call::post(&["tool_router", "session", id, "attach"], "session").json(&body);
        let info: SessionResponse = self.client.send(call).await?;
        Ok(Session::new(self.client.clone(), info, set))
    }

    /// Every session of `user_id`, newest first (a toolrouter extension: Composio has no
    /// listing).
    pub async fn list(&self, user_id: &str) -> Result<Vec<Session>, Error> {
        let infos: Vec<SessionResponse> = self
            .client
            .all_pages(|| {
                Call::get(&["tool_router", "session"], "session list").query("user_id", user_id)
            })
            .await?;
        let sessions = infos
            .into_iter()
            .map(|info| Session::new(self.client.clone(), info, CustomSet::default()))
            .collect();
        Ok(sessions)
    }

    /// Deletes a session.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        let call = Call::new(Method::DELETE, &["tool_router", "session", id], "deletion");
        let answer: SessionDeleted = self.client.send(call).await?;
        if !answer.deleted {
            return Err(Error::Protocol(format!(
                "the server answered deleted: false for session {id}"
            )));
        }
        Ok(())
    }
}

impl Client {
    /// Creates a session for `user_id` (the SDKs' `composio.create`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), toolrouter_client::Error> {
    /// use toolrouter_client::{Client, SessionConfig};
    ///
    /// let client = Client::from_env()?;
    /// let session = client
    ///     .create("user_123", SessionConfig::new().toolkits(["github", "gmail"]))
    ///     .await?;
    /// println!("{}", session.mcp().url);
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, user_id: &str, config: SessionConfig) -> Result<Session, Error> {
        if user_id.is_empty() {
            return Err(Error::Config("the user id is empty".to_owned()));
        }
        config.custom.validate()?;
        let body = config.to_request(user_id);
        let info: SessionResponse = self
            .send(Call::post(&["tool_router", "session"], "session").json(&body))
            .await?;
        Ok(Session::new(self.clone(), info, config.custom))
    }

    /// Existing sessions: reuse, list, delete.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { client: self }
    }
}
