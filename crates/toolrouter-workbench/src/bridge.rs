//! Tools from code: the host end of `run_composio_tool(...)` and `proxy_execute(...)`.
//!
//! Each sandbox gets its own unix socket, bind-mounted into it and owned by its uid; the
//! session layer answers the requests through [`ToolBridge`] (and applies the session's tool
//! filters there). A request must carry the sandbox's capability token: 32 random bytes that the
//! host hands only to the driver process, over its stdin, never in the environment or argv.
//! The socket also checks the peer's uid. Credentials never cross this socket into the sandbox:
//! tools run on the host and only their results go back.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinSet;
use toolrouter_core::SessionId;

/// Largest request a sandbox may send (arguments of one tool call).
const MAX_REQUEST_BYTES: u64 = 16 << 20;

/// A `run_composio_tool(slug, arguments)` call from sandboxed code.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub slug: String,
    pub arguments: Value,
}

/// Where a proxied request parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterLocation {
    Header,
    Query,
}

/// One `parameters[]` item of a proxied request (CONTRACT §3.12).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProxyParameter {
    pub name: String,
    pub value: String,
    #[serde(rename = "type")]
    pub location: ParameterLocation,
}

/// A `proxy_execute(method, endpoint, toolkit, query_params, body, headers)` call from sandboxed
/// code, in the shape of `POST …/proxy_execute` (CONTRACT §3.12).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyRequest {
    pub toolkit: String,
    pub endpoint: String,
    /// Upper case.
    pub method: String,
    pub body: Option<Value>,
    pub parameters: Vec<ProxyParameter>,
}

/// What the Python helpers return, as the tuple `(data, error)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolReply {
    pub data: Value,
    /// `None` on success.
    pub error: Option<String>,
}

impl ToolReply {
    pub fn ok(data: Value) -> ToolReply {
        ToolReply { data, error: None }
    }

    pub fn error(message: impl Into<String>) -> ToolReply {
        ToolReply {
            data: Value::Null,
            error: Some(message.into()),
        }
    }
}

/// Implemented by the session layer: runs tools and proxied requests on behalf of code in a
/// session's sandbox. Called concurrently (code may use a thread pool). Failures are replies
/// (`ToolReply::error`), which the code sees as the second element of the tuple.
#[async_trait]
pub trait ToolBridge: Send + Sync + 'static {
    async fn run_tool(&self, session: &SessionId, call: ToolCall) -> ToolReply;
    async fn proxy_execute(&self, session: &SessionId, request: ProxyRequest) -> ToolReply;
}

/// A bridge that refuses everything (for tests, benchmarks and tool-less deployments).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTools;

#[async_trait]
impl ToolBridge for NoTools {
    async fn run_tool(&self, _: &SessionId, _: ToolCall) -> ToolReply {
        ToolReply::error("tools are not available in this workbench")
    }

    async fn proxy_execute(&self, _: &SessionId, _: ProxyRequest) -> ToolReply {
        ToolReply::error("proxy execution is not available in this workbench")
    }
}

/// The session's `workbench.enable_tool_execution` / `enable_proxy_execution`, updated on every
/// call so a config change applies without a restart.
#[derive(Debug)]
pub(crate) struct Permissions {
    pub(crate) tools: AtomicBool,
    pub(crate) proxy: AtomicBool,
}

/// A random capability token, hex-encoded.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    pub(crate) fn generate() -> std::io::Result<Token> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Token(hex(&bytes)))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
    fn matches(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything one sandbox's bridge needs.
pub(crate) struct BridgeContext {
    pub(crate) session: SessionId,
    pub(crate) token: Token,
    /// The sandbox's uid as the host sees it.
    pub(crate) uid: u32,
    pub(crate) permissions: Arc<Permissions>,
    pub(crate) bridge: Arc<dyn ToolBridge>,
}

/// Accepts connections until the task is aborted (when the sandbox stops); in-flight requests
/// are aborted with it.
pub(crate) async fn serve(listener: UnixListener, ctx: BridgeContext) {
    let ctx = Arc::new(ctx);
    let mut calls = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    calls.spawn(handle(stream, Arc::clone(&ctx)));
                }
                Err(e) => {
                    tracing::warn!(session = %ctx.session, error = %e, "workbench bridge accept failed");
                    return;
                }
            },
            Some(_) = calls.join_next(), if !calls.is_empty() => {}
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Request {
    Tool {
        slug: String,
        #[serde(default)]
        arguments: Value,
    },
    Proxy {
        toolkit: String,
        endpoint: String,
        method: String,
        #[serde(default)]
        body: Option<Value>,
        #[serde(default)]
        parameters: Vec<ProxyParameter>,
    },
}

async fn handle(mut stream: UnixStream, ctx: Arc<BridgeContext>) {
    let reply = answer(&mut stream, &ctx).await;
    let mut line = serde_json::json!({ "data": reply.data, "error": reply.error }).to_string();
    line.push('\n');
    // The caller may have gone (interrupted); nothing to do about a failed write.
    let _ = stream.write_all(line.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn answer(stream: &mut UnixStream, ctx: &BridgeContext) -> ToolReply {
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == ctx.uid => {}
        _ => return ToolReply::error("refused: not this sandbox"),
    }
    let mut raw = Vec::new();
    if let Err(e) = (&mut *stream)
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut raw)
        .await
    {
        return ToolReply::error(format!("could not read the request: {e}"));
    }
    if raw.len() as u64 > MAX_REQUEST_BYTES {
        return ToolReply::error("request too large (limit 16 MiB)");
    }
    let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(&raw) else {
        return ToolReply::error("malformed request");
    };
    let token = fields.remove("token");
    if !token
        .as_ref()
        .and_then(Value::as_str)
        .is_some_and(|t| ctx.token.matches(t))
    {
        tracing::warn!(session = %ctx.session, "workbench bridge request with a bad token");
        return ToolReply::error("refused: bad capability token");
    }
    let request = match serde_json::from_value::<Request>(Value::Object(fields)) {
        Ok(r) => r,
        Err(e) => return ToolReply::error(format!("malformed request: {e}")),
    };
    match request {
        Request::Tool { slug, arguments } => {
            if !ctx.permissions.tools.load(Ordering::Relaxed) {
                return ToolReply::error(
                    "tool execution from the workbench is disabled for this session \
                     (workbench.enable_tool_execution is false)",
                );
            }
            let arguments = if arguments.is_null() {
                Value::Object(Default::default())
            } else {
                arguments
            };
            ctx.bridge
                .run_tool(&ctx.session, ToolCall { slug, arguments })
                .await
        }
        Request::Proxy {
            toolkit,
            endpoint,
            method,
            body,
            parameters,
        } => {
            if !ctx.permissions.proxy.load(Ordering::Relaxed) {
                return ToolReply::error(
                    "proxy execution from the workbench is disabled for this session \
                     (workbench.enable_proxy_execution is false)",
                );
            }
            let request = ProxyRequest {
                toolkit,
                endpoint,
                method: method.to_ascii_uppercase(),
                body,
                parameters,
            };
            ctx.bridge.proxy_execute(&ctx.session, request).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        let t = Token::generate().unwrap();
        assert_eq!(t.as_str().len(), 64);
        assert!(t.matches(t.as_str()));
        assert!(!t.matches(""));
        assert!(!t.matches(&t.as_str()[1..]));
        let mut other = t.as_str().to_owned();
        other.replace_range(0..1, if other.starts_with('0') { "1" } else { "0" });
        assert!(!t.matches(&other));
        assert_ne!(Token::generate().unwrap(), t);
        assert_eq!(format!("{t:?}"), "Token(…)");
    }
}
