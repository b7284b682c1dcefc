//! The per-session MCP endpoint: every Tool Router session's `mcp.url`
//! (`<origin>/tool_router/{session_id}/mcp`) serves MCP over Streamable HTTP, built on rmcp.
//!
//! `tools/list` is the session's tool list and `tools/call` the session's execute (meta tools
//! included), both through `toolrouter_app::App`, so the MCP endpoint and the REST API cannot
//! disagree. A URL alone grants nothing: the same `x-api-key` header as the REST API is required,
//! and the session must exist in the caller's project (a deleted one stops answering).
//!
//! Any replica on the same database answers any request: a request without an
//! `Mcp-Session-Id`, or with one this replica does not hold (another replica issued it, or this
//! one restarted), is served statelessly (JSON responses), as if it were the client's first. On
//! top of that, `initialize` opens an MCP session held in this replica's memory (`live.rs`),
//! which is what a server needs to talk to the client first: it pushes
//! `notifications/tools/list_changed` when the Tool Router session's configuration changes, and
//! asks the user through elicitation when the session's permissions say "ask". Protocol
//! versions 2025-03-26 … 2026-07-28 are negotiated by rmcp. [`service`] returns a tower service
//! the http crate mounts; this crate does not know axum. Its error responses (401, 403, 404)
//! carry a `toolrouter_app::AppError` in the response extensions, which the http crate's
//! envelope layer renders as the contract's error envelope.

use std::time::Duration;

mod endpoint;
mod live;
mod permissions;
mod server;
mod tools;

pub use endpoint::{McpService, service};

/// The credential header, the same as the REST API's.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Settings of the MCP endpoint, built by the binary from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpConfig {
    /// `Host` values (a host name, or `host:port`) the endpoint answers, against DNS rebinding:
    /// a web page whose host name was re-pointed at this server still sends its own name.
    /// `None` accepts any host (for deployments behind a proxy that checks it).
    pub allowed_hosts: Option<Vec<String>>,
    /// Browser origins (`scheme://host[:port]`) allowed to call the endpoint. Requests without
    /// an `Origin` header (every non-browser MCP client) always pass. Empty: any origin.
    pub allowed_origins: Vec<String>,
    /// MCP sessions this replica holds at most; an `initialize` beyond it is answered
    /// statelessly (the client works, without notifications or elicitation).
    pub max_sessions: usize,
    /// An MCP session that got no request for this long is closed (an open notification
    /// stream does not count); its client's next request is answered statelessly.
    pub session_idle: Duration,
    /// How often the configuration version of sessions with MCP clients here is read, to see
    /// changes made through another replica (this replica's own changes are pushed at once).
    pub change_poll: Duration,
}

impl McpConfig {
    /// The loopback names, for a server only this machine reaches.
    pub fn loopback() -> McpConfig {
        McpConfig {
            allowed_hosts: Some(vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "[::1]".to_owned(),
            ]),
            allowed_origins: Vec::new(),
            max_sessions: 2_000,
            session_idle: Duration::from_secs(30 * 60),
            change_poll: Duration::from_secs(5),
        }
    }
}

impl Default for McpConfig {
    fn default() -> Self {
        McpConfig::loopback()
    }
}
