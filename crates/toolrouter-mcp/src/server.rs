//! The MCP server: rmcp builds a [`SessionServer`] per request in stateless mode and one per
//! MCP session in session mode; either way the Tool Router session it serves comes from each
//! request's [`SessionScope`] extension, put there by the endpoint after authentication (so
//! every request sees the session as stored now). Every answer is the app's: `tools/list` is
//! `App::session_tools`, `tools/call` is `App::session_execute` (both on the session the
//! endpoint has just read), `initialize` carries the session's assistive prompt as
//! `instructions`. In an MCP session the server also tells its client when the tool list
//! changes (`live.rs`) and asks the user when a call needs approval (`permissions.rs`).
//!
//! Errors: a call the agent can correct (a tool the session does not allow, an unknown slug,
//! approval refused) is an `isError` result it can read; what it cannot correct (the session
//! vanished, storage down) is a JSON-RPC error with the error table's code.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientResult, ElicitRequest, ErrorCode as RpcCode,
    Extensions, Implementation, InitializeRequestParams, InitializeResult, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ServerCapabilities, ServerConfig, ServerRequest,
};
use rmcp::service::{PeerRequestOptions, RequestContext, ServiceError};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use toolrouter_app::approval::gated_calls;
use toolrouter_app::execution_log::redact;
use toolrouter_app::page::PageRequest;
use toolrouter_app::session::TOOLS_MAX_LIMIT;
use toolrouter_app::session_exec::SessionExecution;
use toolrouter_app::{App, AppError};
use toolrouter_core::session::{ApprovalNeed, Session};

use crate::endpoint::SessionScope;
use crate::live::Live;
use crate::permissions::{Answer, answer, fallback, question};
use crate::tools::{call_result, is_shortened, mcp_name, mcp_tool, refused};

/// How long a tool call waits for the user's answer to its approval question.
const APPROVAL_WAIT: Duration = Duration::from_secs(10 * 60);

/// Serves one session's tools over MCP.
#[derive(Debug, Clone)]
pub(crate) struct SessionServer {
    app: App,
    /// Set when this server is an MCP session's (session mode).
    mcp: Option<McpSession>,
}

/// What an MCP session keeps between its requests.
#[derive(Debug, Clone)]
struct McpSession {
    live: Arc<Live>,
    /// Tools the user approved for the rest of this MCP session.
    approved: Arc<Mutex<HashSet<String>>>,
}

impl SessionServer {
    /// The server of one stateless request.
    pub(crate) fn stateless(app: App) -> SessionServer {
        SessionServer { app, mcp: None }
    }

    /// The server of one MCP session.
    pub(crate) fn in_session(app: App, live: Arc<Live>) -> SessionServer {
        SessionServer {
            app,
            mcp: Some(McpSession {
                live,
                approved: Arc::default(),
            }),
        }
    }

    /// The tool slug an MCP name stands for: itself, or the catalog slug it shortens.
    fn slug_of(&self, name: &str) -> String {
        if is_shortened(name)
            && self.app.catalog().tool(name).is_none()
            && let Some(slug) = self
                .app
                .catalog()
                .tool_slugs()
                .into_iter()
                .find(|s| mcp_name(s) == name)
        {
            return slug;
        }
        name.to_owned()
    }

    /// Whether an app tool call may run: the session's permissions, and when they say "ask",
    /// the user's answer, or the fallback when the user cannot be asked. `Err` is the reason
    /// it may not, for the agent.
    async fn approve(
        &self,
        scope: &SessionScope,
        slug: &str,
        arguments: &Value,
        context: &RequestContext<RoleServer>,
    ) -> Result<(), String> {
        let config = &scope.session.config;
        let once = match self.app.approval_need_of(&scope.session, slug) {
            ApprovalNeed::None => return Ok(()),
            ApprovalNeed::Deny(why) => return Err(why),
            ApprovalNeed::Ask { once } => once,
        };
        let Some(mcp) = self.mcp.as_ref().filter(|_| can_elicit(context)) else {
            return fallback(config, slug);
        };
        let approved = || mcp.approved.lock().unwrap_or_else(PoisonError::into_inner);
        if approved().contains(slug) {
            return Ok(());
        }
        // Secret-looking values are not shown, as in the execution log.
        let known = self.app.catalog().tool(slug);
        let shown = redact(arguments, known.as_ref().map(|t| t.tool().input.value()));
        let ask = ServerRequest::ElicitRequest(ElicitRequest::new(question(slug, &shown)));
        let reply = match context
            .peer
            .send_request_with_option(ask, PeerRequestOptions::with_timeout(APPROVAL_WAIT))
            .await
        {
            Ok(handle) => handle.await_response().await,
            Err(e) => Err(e),
        };
        match reply {
            Ok(ClientResult::ElicitResult(result)) => match answer(&result, slug, once) {
                Answer::Run { remember } => {
                    if remember {
                        approved().insert(slug.to_owned());
                    }
                    Ok(())
                }
                Answer::Refuse(why) => Err(why),
            },
            Err(ServiceError::Timeout { .. }) => Err(format!(
                "Nobody answered the approval question for tool `{slug}` within {} minutes; \
                 it did not run.",
                APPROVAL_WAIT.as_secs() / 60
            )),
            // The client said it could answer and then did not: as if it could not.
            other => {
                tracing::warn!(
                    tool = slug,
                    reply = ?other,
                    "elicitation failed; using the fallback"
                );
                fallback(config, slug)
            }
        }
    }
}

/// Whether the client of this request can be asked: it declared form elicitation, on a
/// protocol version where servers may still send requests of their own.
fn can_elicit(context: &RequestContext<RoleServer>) -> bool {
    let form = context
        .client_capabilities()
        .and_then(|c| c.elicitation)
        .is_some_and(|e| e.form.is_some() || e.url.is_none());
    form && context
        .protocol_version()
        .is_some_and(|v| v < ProtocolVersion::V_2026_07_28)
}

fn scope(extensions: &Extensions) -> Result<SessionScope, ErrorData> {
    extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionScope>())
        .cloned()
        .ok_or_else(|| {
            // Only reachable if the service is mounted without its endpoint checks.
            ErrorData::internal_error("The MCP request has no session.", None)
        })
}

/// An app error as a JSON-RPC error, with the table's code and slug.
fn protocol_error(e: &AppError) -> ErrorData {
    ErrorData::new(
        RpcCode(e.code.jsonrpc()),
        e.message.clone(),
        Some(json!({
            "slug": e.code.slug(),
            "suggested_fix": e.suggested_fix,
        })),
    )
}

/// Whether the agent can act on the error (then it is an `isError` result, not a protocol
/// error): the request's own problems, not the server's or the session's existence.
fn agent_correctable(e: &AppError) -> bool {
    use toolrouter_core::ErrorCode as C;
    e.code.status() < 500
        && !matches!(
            e.code,
            C::SessionNotFound | C::MissingApiKey | C::InvalidApiKey | C::RateLimited
        )
}

impl ServerHandler for SessionServer {
    #[expect(
        deprecated,
        reason = "logging is deprecated from 2026-07-28 on, but clients of older versions call it"
    )]
    fn get_info(&self) -> ServerConfig {
        // Only an MCP session has a stream a `tools/list_changed` can travel on; a stateless
        // client re-lists when it needs to.
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_logging();
        let capabilities = if self.mcp.is_some() {
            capabilities.enable_tool_list_changed().build()
        } else {
            capabilities.build()
        };
        InitializeResult::new(capabilities)
            .with_server_info(Implementation::new("toolrouter", env!("CARGO_PKG_VERSION")))
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        context.peer.set_peer_info(request.clone());
        let mut info = self.negotiate_initialize(&request)?;
        let scope = scope(&context.extensions)?;
        // The endpoint has just read the session.
        info.instructions = Some(self.app.session_prompt(&scope.session));
        if let Some(mcp) = &self.mcp {
            mcp.live.watch(context.peer, &scope.caller, &scope.session);
        }
        Ok(info)
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let scope = scope(&context.extensions)?;
        let page = PageRequest {
            limit: Some(TOOLS_MAX_LIMIT),
            cursor: request.and_then(|r| r.cursor),
        };
        let page = self
            .app
            .session_tools_of(&scope.session, &page)
            .map_err(|e| protocol_error(&e))?;
        let mut result = ListToolsResult::with_all_items(page.items.iter().map(mcp_tool).collect());
        result.next_cursor = page.next_cursor;
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let scope = scope(&context.extensions)?;
        let slug = self.slug_of(&request.name);
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        for (tool, args) in gated_calls(slug.trim(), &arguments) {
            if let Err(why) = self.approve(&scope, &tool, &args, &context).await {
                let why = if tool == slug.trim() {
                    why
                } else {
                    format!("Nothing in this {} call ran: {why}", slug.trim())
                };
                return Ok(refused(&why, None).into());
            }
        }
        let run = SessionExecution {
            tool_slug: slug,
            arguments,
            account: None,
            // MCP clients are agents.
            workbench_offload: true,
            // Every app tool of the call passed `approve` above.
            approved: true,
        };
        match self
            .app
            .session_execute_in(&scope.caller, Session::clone(&scope.session), run, false)
            .await
        {
            Ok(result) => Ok(call_result(result).into()),
            Err(e) if agent_correctable(&e) => {
                Ok(refused(&e.message, e.suggested_fix.as_deref()).into())
            }
            Err(e) => Err(protocol_error(&e)),
        }
    }

    /// Accepted and kept nowhere: the server sends no log notifications, so every level means
    /// the same.
    #[expect(
        deprecated,
        reason = "logging is deprecated from 2026-07-28 on, but clients of older versions call it"
    )]
    async fn set_level(
        &self,
        _request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }
}
