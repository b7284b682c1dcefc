//! The Rust SDK for toolrouter, a self-hosted server wire-compatible with Composio's Tool
//! Router; it also talks to Composio itself.
//!
//! It mirrors the official Python and TypeScript SDKs: a [`Client`] creates a [`Session`] for
//! one of your users; the session lists [`tools`](Session::tools) for your LLM (in any
//! [`provider`] format), runs the model's tool calls
//! ([`handle_tool_calls`](Session::handle_tool_calls)), connects the user's accounts
//! ([`authorize`](Session::authorize)) and gives MCP clients an endpoint
//! ([`mcp`](Session::mcp)). Tools you write in Rust join the session as [`CustomTool`]s and
//! run in your process. The requests on the wire are the ones the official SDKs send, so the
//! same server serves all three. For a one-off call without a session, [`Client::tools`]
//! lists and executes catalog tools directly.
//!
//! # Creating a session
//!
//! ```no_run
//! # async fn run() -> Result<(), toolrouter_client::Error> {
//! use toolrouter_client::{Client, SessionConfig};
//!
//! // TOOLROUTER_API_KEY / TOOLROUTER_BASE_URL (or COMPOSIO_API_KEY / COMPOSIO_BASE_URL).
//! let client = Client::from_env()?;
//!
//! // Every toolkit, discovered by the agent through COMPOSIO_SEARCH_TOOLS.
//! let session = client.create("user_123", SessionConfig::new()).await?;
//!
//! // Only some toolkits, or all but some.
//! let session = client
//!     .create("user_123", SessionConfig::new().toolkits(["github", "gmail", "slack"]))
//!     .await?;
//! let session = client
//!     .create("user_123", SessionConfig::new().disable_toolkits(["exa", "firecrawl"]))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Preloading tools, and the direct-tools preset
//!
//! ```no_run
//! # async fn run(client: toolrouter_client::Client) -> Result<(), toolrouter_client::Error> {
//! use toolrouter_client::{ManageConnections, SessionConfig, SessionPreset, Workbench};
//!
//! let session = client
//!     .create(
//!         "user_123",
//!         SessionConfig::new()
//!             .toolkits(["gmail"])
//!             .preload_tools(["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]),
//!     )
//!     .await?;
//! for tool in session.tools().await? {
//!     println!("{}", tool.slug); // the two Gmail tools, then COMPOSIO_SEARCH_TOOLS, …
//! }
//!
//! // Only the listed tools, plus the meta tools asked for again.
//! let session = client
//!     .create(
//!         "user_123",
//!         SessionConfig::new()
//!             .toolkits(["gmail"])
//!             .tools("gmail", ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"])
//!             .preset(SessionPreset::DirectTools)
//!             .manage_connections(ManageConnections::new().enable(true))
//!             .workbench(Workbench::new().enable(true)),
//!     )
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Auth configs, accounts and the workbench
//!
//! ```no_run
//! # async fn run(client: toolrouter_client::Client) -> Result<(), toolrouter_client::Error> {
//! use toolrouter_client::{SandboxSize, SessionConfig, Workbench};
//!
//! let config = SessionConfig::new()
//!     .auth_config("github", "ac_your_github_config")
//!     .auth_config("slack", "ac_your_slack_config")
//!     .connected_account("gmail", "ca_work_gmail")
//!     .connected_account("github", "ca_personal_github")
//!     .workbench(Workbench::new().sandbox_size(SandboxSize::Large));
//! let session = client.create("user_123", config).await?;
//!
//! let no_workbench = client
//!     .create("user_123", SessionConfig::new().workbench(false))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Session methods
//!
//! ```no_run
//! # async fn run(session: toolrouter_client::Session) -> Result<(), toolrouter_client::Error> {
//! use std::time::Duration;
//! use toolrouter_client::AuthorizeOptions;
//!
//! // MCP: the URL and the headers an MCP client must send.
//! let mcp = session.mcp();
//! println!("{}", mcp.url);
//!
//! // Connect an account outside the chat.
//! let request = session
//!     .authorize_with(
//!         "github",
//!         AuthorizeOptions::new().callback_url("https://myapp.com/callback"),
//!     )
//!     .await?;
//! println!("{}", request.redirect_url);
//! let account = request.wait_for_connection(Duration::from_secs(60)).await?;
//!
//! // Which toolkits the user is connected to.
//! for toolkit in session.toolkits().await?.items {
//!     let status = match &toolkit.connection {
//!         Some(c) if c.is_active => c.connected_account.as_ref().map_or("", |a| &a.0),
//!         _ => "Not connected",
//!     };
//!     println!("{}: {status}", toolkit.name);
//! }
//! # Ok(()) }
//! ```
//!
//! # Reusing and listing sessions
//!
//! ```no_run
//! # async fn run(client: toolrouter_client::Client) -> Result<(), toolrouter_client::Error> {
//! let session = client.sessions().use_session("trs_…").await?;
//! for s in client.sessions().list("user_123").await? {
//!     println!("{} (version {})", s.id(), s.config_version());
//! }
//! session.delete().await?;
//! # Ok(()) }
//! ```
//!
//! # An agent loop (OpenAI Chat Completions)
//!
//! ```no_run
//! # async fn call_openai(_: &serde_json::Value) -> serde_json::Value { serde_json::Value::Null }
//! # async fn run(session: toolrouter_client::Session) -> Result<(), toolrouter_client::Error> {
//! use serde_json::json;
//! use toolrouter_client::provider::{OpenAiChat, Provider};
//!
//! let openai = OpenAiChat::new();
//! let tools = session.tools_for(&openai).await?;
//! let mut messages = vec![json!({"role": "user", "content": "Star the toolrouter repo"})];
//! loop {
//!     let completion = call_openai(&json!({"model": "gpt-4o", "messages": messages,
//!                                          "tools": tools})).await;
//!     let results = session.handle_tool_calls(&openai, &completion).await?;
//!     if results.is_empty() {
//!         break; // the model answered in text
//!     }
//!     messages.push(completion["choices"][0]["message"].clone());
//!     messages.extend(results);
//! }
//! # Ok(()) }
//! ```
//!
//! # Custom tools
//!
//! ```no_run
//! # async fn run(client: toolrouter_client::Client) -> Result<(), toolrouter_client::Error> {
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//! use serde_json::json;
//! use toolrouter_client::{CustomTool, CustomToolkit, SessionConfig};
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct GrepInput {
//!     /// Pattern to search for
//!     pattern: String,
//! }
//!
//! let grep = CustomTool::new(
//!     "GREP",
//!     "Search for a pattern in local files.",
//!     |input: GrepInput, _ctx| async move { Ok(json!({"pattern": input.pattern, "matches": []})) },
//! );
//! // Runs with the user's Gmail connection: its handler can call Gmail tools through `ctx`.
//! let important = CustomTool::new(
//!     "GET_IMPORTANT_EMAILS",
//!     "Get important emails.",
//!     |input: GrepInput, ctx| async move {
//!         let found = ctx
//!             .execute("GMAIL_FETCH_EMAILS", json!({"query": input.pattern}))
//!             .await
//!             .map_err(toolrouter_client::ToolError::msg)?;
//!         Ok(found.data)
//!     },
//! )
//! .extends_toolkit("gmail")
//! .preload(true);
//! let dev = CustomToolkit::new("DEV_TOOLS", "Dev Tools", "Local dev utilities").tool(grep);
//!
//! let session = client
//!     .create(
//!         "user_123",
//!         SessionConfig::new().custom_tool(important).custom_toolkit(dev),
//!     )
//!     .await?;
//! // The model sees LOCAL_GMAIL_GET_IMPORTANT_EMAILS; calling it runs the closure above.
//! let result = session
//!     .execute("LOCAL_DEV_TOOLS_GREP", json!({"pattern": "TODO"}))
//!     .await?;
//! # Ok(()) }
//! ```

mod client;
mod config;
mod custom;
mod error;
pub mod provider;
mod session;
mod session_extra;
mod tools;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use config::{
    ConfigKey, ElicitationFallback, InstantUsage, ManageConnections, MultiAccount, SandboxSize,
    SessionConfig, SessionPreset, SessionUpdate, Tag, Tags, Workbench,
};
pub use custom::{CustomTool, CustomToolkit, ToolContext, ToolError};
pub use error::{ApiError, Error};
pub use session::{
    AuthorizeOptions, ConnectionRequest, ExecuteOptions, McpConfig, ResultType, Session,
    SessionToolkit, Sessions, ToolResult, ToolkitConnection, ToolkitPage, ToolkitsQuery,
};
pub use session_extra::{ProxyRequest, SessionFiles};
pub use tools::{ExecuteDirect, Tools, ToolsQuery};

/// The wire types shared with the server, for the values sessions return.
pub use toolrouter_api as api;
/// The wire types of searching, linking and answering approvals, which this API takes and
/// returns as they are.
pub use toolrouter_api::session_exec::{
    AclConfigForShared, SearchQueryBody, SearchRequest, SearchResponse, UserInputResponse,
};
