//! The HTTP side of the endpoint: a tower service that checks, in this order, the `Host` and
//! `Origin` headers (DNS rebinding), the API key and the session, then hands the request to one
//! of two rmcp Streamable HTTP services with the session attached as a request extension:
//!
//! - the stateful one (rmcp's `LocalSessionManager`) takes `initialize`, which opens an MCP
//!   session (`Mcp-Session-Id`; `live.rs`), and every request (POST, the GET stream, DELETE)
//!   carrying an id this replica holds for this Tool Router session;
//! - the stateless one (JSON responses) takes everything else: no `Mcp-Session-Id`, or one this
//!   replica does not hold (another replica issued it, or it restarted, or the session idled
//!   out), and `initialize` when this replica holds `McpConfig::max_sessions` already. So any
//!   replica on the database answers any request; what needs the MCP session (notifications,
//!   elicitation) is there only where the session is.
//!
//! Checks run before rmcp sees the body, so a request without a valid key or for a session that
//! is not the caller's never reaches a handler, whichever service it is bound for. Refusals are
//! plain HTTP statuses (401 with `WWW-Authenticate`, 403, 404) carrying the `AppError` that says
//! what was wrong; the http crate renders it as the error envelope. Everything after that
//! (malformed JSON-RPC, unknown methods, protocol versions) is rmcp's, answered with JSON-RPC
//! error codes.

use std::convert::Infallible;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use toolrouter_app::{App, AppError, Caller};
use toolrouter_core::ErrorCode;
use toolrouter_core::session::Session;

use crate::live::Live;
use crate::server::SessionServer;
use crate::{API_KEY_HEADER, McpConfig};

/// What the checks established, for the handlers (a request extension).
#[derive(Debug, Clone)]
pub(crate) struct SessionScope {
    pub(crate) caller: Caller,
    pub(crate) session: Arc<Session>,
}

type McpResponse = Response<BoxBody<Bytes, Infallible>>;

/// Largest JSON-RPC message accepted (rmcp's own limit).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The MCP session header (rmcp's name for it).
const MCP_SESSION_ID: &str = "mcp-session-id";

/// The endpoint as a tower service (clone per connection; cheap).
#[derive(Clone)]
pub struct McpService {
    app: App,
    config: Arc<McpConfig>,
    stateless: StreamableHttpService<SessionServer, NeverSessionManager>,
    stateful: StreamableHttpService<SessionServer, LocalSessionManager>,
    live: Arc<Live>,
}

impl std::fmt::Debug for McpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The MCP endpoint of every session, to mount at `/tool_router/{session_id}/mcp`: the session
/// id is read from the path's last two segments.
pub fn service(app: App, config: &McpConfig) -> McpService {
    // Hosts and origins are checked here, with messages saying how to allow one; rmcp's own
    // check would refuse with a bare 403.
    let rmcp_config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .disable_allowed_origins();
    let handler_app = app.clone();
    let stateless = StreamableHttpService::new(
        move || Ok(SessionServer::stateless(handler_app.clone())),
        Arc::new(NeverSessionManager::default()),
        rmcp_config
            .clone()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None),
    );
    let mut manager = LocalSessionManager::default();
    manager.session_config.keep_alive = Some(config.session_idle);
    let manager = Arc::new(manager);
    let live = Arc::new(Live::new(app.clone(), Arc::clone(&manager), config));
    let (handler_app, handler_live) = (app.clone(), Arc::clone(&live));
    // Session mode answers with SSE streams (a tool call may ask the client something before
    // its result), kept alive with SSE comments for proxies.
    let stateful = StreamableHttpService::new(
        move || {
            Ok(SessionServer::in_session(
                handler_app.clone(),
                Arc::clone(&handler_live),
            ))
        },
        manager,
        rmcp_config.with_legacy_session_mode(true),
    );
    McpService {
        app,
        config: Arc::new(config.clone()),
        stateless,
        stateful,
        live,
    }
}

impl<B> tower_service::Service<Request<B>> for McpService
where
    B: Body + Send + 'static,
    B::Error: Display,
    B::Data: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}

impl McpService {
    async fn handle<B>(&self, mut req: Request<B>) -> McpResponse
    where
        B: Body + Send + 'static,
        B::Error: Display,
        B::Data: Send + 'static,
    {
        if let Err(e) = check_host(req.uri(), req.headers(), &self.config) {
            return refusal(e);
        }
        if let Err(e) = check_origin(req.headers(), &self.config) {
            return refusal(e);
        }
        let Some(session_id) = session_id_of(req.uri().path()) else {
            return refusal(
                AppError::new(
                    ErrorCode::RouteNotFound,
                    format!("No MCP endpoint at {}", req.uri().path()),
                )
                .with_fix("Use the session's `mcp.url`: /tool_router/{session_id}/mcp."),
            );
        };
        let key = req
            .headers()
            .get(API_KEY_HEADER)
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        let caller = match self.app.authenticate(key).await {
            Ok(c) => c,
            Err(e) => return refusal(e),
        };
        let session = match self.app.session_find(&caller, &session_id).await {
            Ok(s) => s,
            Err(e) => return refusal(e),
        };
        let mcp_id = req
            .headers()
            .get(MCP_SESSION_ID)
            .and_then(|v| v.to_str().ok());
        let in_session = match self.live.holds(mcp_id, &caller, &session).await {
            Ok(held) => held,
            Err(e) => return refusal(e),
        };
        let scope = SessionScope {
            caller,
            session: Arc::new(session),
        };
        req.extensions_mut().insert(scope.clone());
        let json_post = req.method() == http::Method::POST
            && req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !json_post {
            // rmcp refuses other methods (405) and content types (415) itself; GET (the
            // notification stream) and DELETE have a meaning only in an MCP session.
            return self.dispatch(in_session, req).await;
        }
        // rmcp answers a body that is not a JSON-RPC message with a bare 415; JSON-RPC clients
        // expect -32700 (not JSON) or -32600 (not a valid request), so those are answered here.
        let (parts, body) = req.into_parts();
        let bytes = match read_body(body).await {
            Ok(bytes) => bytes,
            Err(e) => return refusal(e),
        };
        if let Some(rejected) = malformed_json_rpc(&bytes) {
            return rejected;
        }
        let initialize = is_initialize(&bytes);
        if initialize && self.live.has_room().await {
            // Always a new MCP session, whatever id the client still sends.
            let mut parts = parts;
            parts.headers.remove(MCP_SESSION_ID);
            let res = self
                .stateful
                .handle(Request::from_parts(parts, Full::new(bytes)))
                .await;
            if let Some(id) = res
                .headers()
                .get(MCP_SESSION_ID)
                .and_then(|v| v.to_str().ok())
            {
                self.live.bind(id, &scope.caller, &scope.session).await;
            }
            return res;
        }
        let in_session = in_session && !initialize;
        self.dispatch(in_session, Request::from_parts(parts, Full::new(bytes)))
            .await
    }

    async fn dispatch<B>(&self, in_session: bool, req: Request<B>) -> McpResponse
    where
        B: Body + Send + 'static,
        B::Error: Display,
        B::Data: Send + 'static,
    {
        if !in_session {
            return self.stateless.handle(req).await;
        }
        let delete = req.method() == http::Method::DELETE;
        let mut res = self.stateful.handle(req).await;
        if delete && res.status() == StatusCode::ACCEPTED {
            // rmcp says 202 for an ended MCP session; clients expect 200 or 204 (the Python SDK
            // logs anything else as a failed termination).
            *res.status_mut() = StatusCode::NO_CONTENT;
        }
        res
    }
}

/// Whether a (well-formed) JSON-RPC body is an `initialize` request.
fn is_initialize(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .is_ok_and(|v| v.get("method").and_then(|m| m.as_str()) == Some("initialize"))
}

/// The whole body, at most [`MAX_BODY`] bytes.
async fn read_body<B>(body: B) -> Result<Bytes, AppError>
where
    B: Body + Send + 'static,
    B::Error: Display,
{
    use bytes::{Buf, BufMut};
    let mut body = Box::pin(body);
    let mut out = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            AppError::new(
                ErrorCode::BadRequest,
                format!("The request body could not be read: {e}"),
            )
        })?;
        if let Ok(mut data) = frame.into_data() {
            if out.len() + data.remaining() > MAX_BODY {
                return Err(AppError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("An MCP message may be at most {MAX_BODY} bytes."),
                ));
            }
            while data.has_remaining() {
                let chunk = data.chunk();
                let n = chunk.len();
                out.put_slice(chunk);
                data.advance(n);
            }
        }
    }
    Ok(out.freeze())
}

/// A JSON-RPC error response for a body that is not a JSON-RPC message, or `None` when it is one.
fn malformed_json_rpc(body: &[u8]) -> Option<McpResponse> {
    let (code, message, id) = json_rpc_problem(body)?;
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message},
    });
    let mut res = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
    // A request that could not be read is a bad HTTP request; one with the wrong params is
    // answered like any JSON-RPC error.
    if code != INVALID_PARAMS {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Some(res)
}

const INVALID_PARAMS: i32 = -32602;

/// MCP methods whose requests rmcp would take for unknown custom methods when their params are
/// wrong (then "method not found" would mislead).
const STANDARD_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "logging/setLevel",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
];

/// What is wrong with a body that is not a JSON-RPC message: code, message, request id.
fn json_rpc_problem(body: &[u8]) -> Option<(i32, String, serde_json::Value)> {
    use rmcp::model::{ClientJsonRpcMessage, ClientRequest};
    if let Ok(message) = serde_json::from_slice::<ClientJsonRpcMessage>(body) {
        let ClientJsonRpcMessage::Request(req) = &message else {
            return None;
        };
        let ClientRequest::CustomRequest(custom) = &req.request else {
            return None;
        };
        if !STANDARD_METHODS.contains(&custom.method.as_str()) {
            return None;
        }
        let detail = match custom.method.as_str() {
            "tools/call" => serde_json::from_value::<rmcp::model::CallToolRequestParams>(
                custom.params.clone().unwrap_or(serde_json::Value::Null),
            )
            .err()
            .map(|e| format!(": {e}"))
            .unwrap_or_default(),
            _ => String::new(),
        };
        let id = serde_json::to_value(&req.id).unwrap_or(serde_json::Value::Null);
        return Some((
            INVALID_PARAMS,
            format!(
                "Invalid params for `{}`{detail}. See the MCP schema for this method.",
                custom.method
            ),
            id,
        ));
    }
    Some(match serde_json::from_slice::<serde_json::Value>(body) {
        Err(e) => (
            -32700,
            format!("Parse error: the body is not JSON ({e})."),
            serde_json::Value::Null,
        ),
        Ok(v) => {
            let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
            let why = if v.is_array() {
                "batches are not supported; send one JSON-RPC message per request".to_owned()
            } else if v.get("jsonrpc").and_then(|j| j.as_str()) != Some("2.0") {
                "`jsonrpc` must be \"2.0\"".to_owned()
            } else if v.get("method").is_some_and(|m| !m.is_string()) {
                "`method` must be a string".to_owned()
            } else {
                "it is not a JSON-RPC request, notification or response, or its `params` do not \
                 match the method"
                    .to_owned()
            };
            (-32600, format!("Invalid Request: {why}."), id)
        }
    })
}

/// `…/tool_router/{session_id}/mcp` (a trailing slash allowed) → the session id.
pub(crate) fn session_id_of(path: &str) -> Option<String> {
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let last = segments.next()?;
    let id = segments.next()?;
    let parent = segments.next()?;
    (last == "mcp" && parent == "tool_router" && !id.is_empty()).then(|| id.to_owned())
}

/// A refusal before MCP starts: the status of the error's row, the error for the envelope
/// layer, and for 401 the challenge saying which header carries the credential.
fn refusal(e: AppError) -> McpResponse {
    let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = Response::new(Empty::<Bytes>::new().boxed());
    *res.status_mut() = status;
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("ApiKey realm=\"toolrouter\", header=\"x-api-key\""),
        );
    }
    res.extensions_mut().insert(e);
    res
}

/// `host[:port]`, lower-cased, brackets kept for IPv6.
fn split_authority(authority: &str) -> (String, Option<u16>) {
    let authority = authority.trim().to_ascii_lowercase();
    match http::uri::Authority::try_from(authority.as_str()) {
        Ok(a) => (a.host().to_owned(), a.port_u16()),
        Err(_) => (authority, None),
    }
}

fn check_host(uri: &http::Uri, headers: &HeaderMap, config: &McpConfig) -> Result<(), AppError> {
    let Some(allowed) = &config.allowed_hosts else {
        return Ok(());
    };
    let presented = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()));
    let Some(presented) = presented else {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            "The MCP endpoint needs a `Host` header.",
        ));
    };
    let (host, port) = split_authority(&presented);
    let ok = allowed.iter().any(|a| {
        let (a_host, a_port) = split_authority(a);
        a_host == host && a_port.is_none_or(|p| Some(p) == port)
    });
    if ok {
        return Ok(());
    }
    tracing::warn!(host = %presented, "MCP request for a host that is not allowed (possible DNS rebinding)");
    Err(AppError::new(
        ErrorCode::Forbidden,
        format!("Host `{host}` is not allowed to reach the MCP endpoint."),
    )
    .with_fix(
        "The operator allows public host names with `--mcp-allowed-host` \
         (TOOLROUTER_MCP_ALLOWED_HOSTS, `mcp_allowed_hosts` in the config file).",
    ))
}

/// `scheme://host:port` with the scheme's default port filled in, or `None` if malformed.
fn normalized_origin(value: &str) -> Option<(String, String, u16)> {
    let uri = http::Uri::try_from(value.trim()).ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let port = authority.port_u16().or(match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some((scheme, authority.host().to_ascii_lowercase(), port))
}

fn check_origin(headers: &HeaderMap, config: &McpConfig) -> Result<(), AppError> {
    if config.allowed_origins.is_empty() {
        return Ok(());
    }
    let Some(origin) = headers.get(http::header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let presented = normalized_origin(origin);
    if presented.is_some()
        && config
            .allowed_origins
            .iter()
            .any(|a| normalized_origin(a) == presented)
    {
        return Ok(());
    }
    tracing::warn!(%origin, "MCP request from a browser origin that is not allowed");
    Err(AppError::new(
        ErrorCode::Forbidden,
        format!("Origin `{origin}` is not allowed to call the MCP endpoint."),
    )
    .with_fix(
        "The operator allows browser origins with `--mcp-allowed-origin` \
         (TOOLROUTER_MCP_ALLOWED_ORIGINS, `mcp_allowed_origins` in the config file).",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_comes_from_the_path() {
        let cases = [
            ("/tool_router/trs_abc/mcp", Some("trs_abc")),
            ("/tool_router/trs_abc/mcp/", Some("trs_abc")),
            ("/prefix/tool_router/trs_abc/mcp", Some("trs_abc")),
            ("/tool_router//mcp", None),
            ("/tool_router/trs_abc/sse", None),
            ("/other/trs_abc/mcp", None),
            ("/mcp", None),
        ];
        for (path, want) in cases {
            assert_eq!(session_id_of(path).as_deref(), want, "{path}");
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn hosts_are_checked_by_name_and_optional_port() {
        let config = McpConfig {
            allowed_hosts: Some(vec![
                "localhost".into(),
                "tools.example.com:8443".into(),
                "[::1]".into(),
            ]),
            ..McpConfig::loopback()
        };
        let uri: http::Uri = "/tool_router/x/mcp".parse().unwrap();
        let check = |host: &str| check_host(&uri, &headers(&[("host", host)]), &config).is_ok();
        assert!(check("localhost:8080"));
        assert!(check("LOCALHOST"));
        assert!(check("[::1]:9000"));
        assert!(check("tools.example.com:8443"));
        assert!(!check("tools.example.com"));
        assert!(!check("evil.example.com"));
        let refused = check_host(&uri, &headers(&[("host", "evil.example")]), &config).unwrap_err();
        assert_eq!(refused.code, ErrorCode::Forbidden);
        assert!(
            refused.message.contains("evil.example"),
            "{}",
            refused.message
        );
        let any = McpConfig {
            allowed_hosts: None,
            ..McpConfig::loopback()
        };
        assert!(check_host(&uri, &headers(&[("host", "evil.example")]), &any).is_ok());
    }

    #[test]
    fn origins_are_checked_only_when_listed() {
        let open = McpConfig::loopback();
        assert!(check_origin(&headers(&[("origin", "https://evil.example")]), &open).is_ok());
        let listed = McpConfig {
            allowed_origins: vec!["https://app.example.com".into()],
            ..McpConfig::loopback()
        };
        let check = |o: &str| check_origin(&headers(&[("origin", o)]), &listed).is_ok();
        assert!(check("https://app.example.com"));
        assert!(check("https://app.example.com:443"));
        assert!(!check("http://app.example.com"));
        assert!(!check("https://evil.example"));
        assert!(!check("null"));
        assert!(check_origin(&HeaderMap::new(), &listed).is_ok());
    }

    #[test]
    fn malformed_messages_get_json_rpc_codes() {
        let code = |body: &str| json_rpc_problem(body.as_bytes()).map(|(c, _, id)| (c, id));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#), None);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            None
        );
        assert_eq!(code("{not json"), Some((-32700, serde_json::Value::Null)));
        assert_eq!(
            code(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#),
            Some((-32600, serde_json::Value::Null))
        );
        assert_eq!(
            code(r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#),
            Some((-32600, serde_json::json!(7)))
        );
        let (c, message, id) =
            json_rpc_problem(br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{}}"#)
                .unwrap();
        assert_eq!((c, id), (INVALID_PARAMS, serde_json::json!(9)));
        assert!(message.contains("`name`"), "{message}");
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"vendor/thing","params":{}}"#),
            None,
            "unknown methods are rmcp's to refuse"
        );
        let res = malformed_json_rpc(b"{").unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            res.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
    }

    #[test]
    fn unauthorized_refusals_carry_a_challenge_and_the_error() {
        let res = refusal(AppError::new(
            ErrorCode::MissingApiKey,
            "No API key was sent.",
        ));
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.headers()[http::header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("x-api-key")
        );
        assert_eq!(
            res.extensions().get::<AppError>().unwrap().code,
            ErrorCode::MissingApiKey
        );
        let res = refusal(AppError::new(ErrorCode::SessionNotFound, "gone"));
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers().get(http::header::WWW_AUTHENTICATE).is_none());
    }
}
