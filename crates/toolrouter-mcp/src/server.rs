//! The MCP server of one request: rmcp builds a [`SessionServer`] per request (stateless mode)
//! and the session it serves comes from the request's [`SessionScope`] extension, put there by
//! the endpoint after authentication. Every answer is the app's: `tools/list` is
//! `App::session_tools`, `tools/call` is `App::session_execute` (both on the session the
//! endpoint has just read), `initialize` carries the
//! session's assistive prompt as `instructions`.
//!
//! Errors: a call the agent can correct (a tool the session does not allow, an unknown slug,
//! approval refused) is an `isError` result it can read; what it cannot correct (the session
//! vanished, storage down) is a JSON-RPC error with the error table's code.

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ErrorCode as RpcCode, Extensions, Implementation,
    InitializeRequestParams, InitializeResult, ListToolsResult, PaginatedRequestParams,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use toolrouter_app::page::PageRequest;
use toolrouter_app::session::TOOLS_MAX_LIMIT;
use toolrouter_app::session_exec::SessionExecution;
use toolrouter_app::{App, AppError};
use toolrouter_core::session::{MetaTool, Session};

use crate::endpoint::SessionScope;
use crate::permissions::{Approval, approval};
use crate::tools::{call_result, is_shortened, mcp_name, mcp_tool, refused};

/// Serves one session's tools over MCP.
#[derive(Debug, Clone)]
pub(crate) struct SessionServer {
    app: App,
}

impl SessionServer {
    pub(crate) fn new(app: App) -> SessionServer {
        SessionServer { app }
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
        // Stateless: no client holds a stream a `tools/list_changed` could travel on, so it is
        // not advertised; clients re-list when they need to.
        InitializeResult::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build(),
        )
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
        // The endpoint has just read the session; stateless serving runs this per request.
        info.instructions = Some(self.app.session_prompt(&scope.session));
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
        if MetaTool::parse(slug.trim()).is_none()
            && let Approval::Refuse(why) = approval(&scope.session.config, slug.trim())
        {
            return Ok(refused(&why, None).into());
        }
        let run = SessionExecution {
            tool_slug: slug,
            arguments: Value::Object(request.arguments.unwrap_or_default()),
            account: None,
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

    /// Accepted and kept nowhere: the server sends no log notifications (there is no stream to
    /// send them on in stateless mode), so every level means the same.
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
