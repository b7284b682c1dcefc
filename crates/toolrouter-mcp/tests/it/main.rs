//! The per-session MCP endpoint end to end, in process: the whole HTTP application on
//! 127.0.0.1:0 over a real SQLite store, sessions made through the REST API, and rmcp's own
//! Streamable HTTP client speaking MCP to `mcp.url`. Tools run against a local stand-in
//! provider the catalog's base-URL override points at. Raw HTTP covers what a client library
//! hides: status codes, `WWW-Authenticate`, JSON-RPC error codes, protocol versions. A second
//! server on the same database plays another replica.

mod approvals;
mod endpoint;
mod list_changed;
mod tools;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use rmcp::model::{
    ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability,
    FormElicitationCapability, ProtocolVersion,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};
use toolrouter_app::{App, AppConfig, ToolCatalog};
use toolrouter_catalog::Catalog;
use toolrouter_http::{HttpConfig, McpConfig};
use toolrouter_store::{ConnectOptions, SqliteStore};
use toolrouter_vault::Keyring;

const SESSIONS: &str = "/api/v3.1/tool_router/session";

/// What the stand-in provider saw: request bodies of `POST /items`.
type Seen = Arc<Mutex<Vec<Value>>>;

/// A provider answering `POST /items` with `{id, echo}` and `POST /broken` with a 500.
async fn provider() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let router = axum::Router::new()
        .route(
            "/items",
            post(
                |State(seen): State<Seen>, axum::Json(body): axum::Json<Value>| async move {
                    seen.lock().unwrap().push(body.clone());
                    axum::Json(json!({"id": "item_1", "echo": body}))
                },
            ),
        )
        .route(
            "/broken",
            post(|| async {
                (
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({"message": "database on fire"})),
                )
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (origin, seen)
}

/// The built-in toolkits plus a no-auth toolkit `echoer` whose base URL is `origin`.
fn catalog(origin: &str) -> ToolCatalog {
    let echoer = json!({
        "slug": "echoer", "name": "Echoer", "description": "A test service echoing items.",
        "base_url": "https://echoer.invalid",
        "auth_schemes": [],
        "tools": [
            {"slug": "ECHOER_CREATE_ITEM", "name": "Create item",
             "description": "Create one item in the echo service and return it with its new id.",
             "tags": ["idempotentHint", "openWorldHint"],
             "input": {"type": "object", "required": ["name"],
                       "properties": {"name": {"type": "string", "description": "Name of the item."}}},
             "http": {"method": "POST", "path": "/items"}},
            {"slug": "ECHOER_BROKEN", "name": "Broken",
             "description": "Call an endpoint of the echo service that always fails with a server error.",
             "tags": ["readOnlyHint"],
             "input": {"type": "object", "properties": {"x": {"type": "string", "description": "Anything."}}},
             "http": {"method": "POST", "path": "/broken"}}
        ]
    });
    let catalog = Catalog::builtin_with([("echoer.json".to_owned(), echoer.to_string())]).unwrap();
    let overrides = BTreeMap::from([("echoer".to_owned(), origin.to_owned())]);
    ToolCatalog::new(catalog, overrides).unwrap()
}

/// Stops a server when dropped.
struct Stop(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            let _ = stop.send(());
        }
    }
}

struct Server {
    base: String,
    key: String,
    http: reqwest::Client,
    seen: Seen,
    origin: String,
    mcp_config: McpConfig,
    _stop: Stop,
    dir: tempfile::TempDir,
}

/// Another replica: a server of its own on the same database.
struct Replica {
    base: String,
    _stop: Stop,
}

/// An app over the database in `dir`, with the stand-in provider at `origin`.
async fn app(dir: &std::path::Path, origin: &str) -> App {
    let store = SqliteStore::open(&dir.join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    let keyring = Keyring::parse("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
    let mut config = AppConfig::default();
    config.exec.policy = toolrouter_exec::OutboundPolicy::public_only().allow_host("127.0.0.1");
    config.files_root = dir.join("files");
    App::new(Arc::new(store), Arc::new(keyring), catalog(origin), &config)
}

/// The whole HTTP application over `app` on 127.0.0.1:0: its base URL and its stop guard.
fn serve(app: App, mcp: &McpConfig) -> (String, Stop) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = HttpConfig {
        mcp: mcp.clone(),
        ..HttpConfig::default()
    };
    let router = toolrouter_http::router(app, &config);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(toolrouter_http::serve(
        listener,
        router,
        None,
        async {
            let _ = rx.await;
        },
        Duration::from_secs(1),
    ));
    (base, Stop(Some(tx)))
}

async fn start() -> Server {
    start_with(McpConfig::loopback()).await
}

async fn start_with(mcp_config: McpConfig) -> Server {
    let (origin, seen) = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), &origin).await;
    let boot = app.bootstrap().await.unwrap().unwrap();
    let key = secrecy::ExposeSecret::expose_secret(&boot.key.key).to_owned();
    let (base, stop) = serve(app, &mcp_config);
    Server {
        base,
        key,
        http: reqwest::Client::new(),
        seen,
        origin,
        mcp_config,
        _stop: stop,
        dir,
    }
}

/// An MCP client for the tests: it declares form elicitation and answers every approval
/// question with `decision` (`decline`/`cancel` are those actions, anything else is accepted
/// with that `decision`), or declares no elicitation when `decision` is `None`. It records the
/// questions and sends one `()` per `tools/list_changed` notification.
struct TestClient {
    decision: Option<&'static str>,
    questions: Arc<Mutex<Vec<String>>>,
    changed: tokio::sync::mpsc::UnboundedSender<()>,
}

impl ClientHandler for TestClient {
    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        // A version with MCP sessions (2026-07-28 has none, and no server-to-client requests).
        info.protocol_version = ProtocolVersion::V_2025_11_25;
        if self.decision.is_some() {
            info.capabilities.elicitation =
                Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
        }
        info
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { message, .. } = request else {
            panic!("approvals are asked in form mode: {request:?}");
        };
        self.questions.lock().unwrap().push(message);
        Ok(match self.decision {
            Some("decline") => ElicitResult::new(ElicitationAction::Decline),
            Some("cancel") => ElicitResult::new(ElicitationAction::Cancel),
            Some(decision) => ElicitResult::new(ElicitationAction::Accept)
                .with_content(json!({ "decision": decision })),
            None => panic!("asked a client that declared no elicitation"),
        })
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.changed.send(());
    }
}

/// A connected [`TestClient`], with what it saw.
struct Connected {
    client: RunningService<RoleClient, TestClient>,
    questions: Arc<Mutex<Vec<String>>>,
    changed: tokio::sync::mpsc::UnboundedReceiver<()>,
}

impl Connected {
    /// Waits for the next `tools/list_changed` (a bound only against hanging forever).
    async fn list_changed(&mut self) {
        tokio::time::timeout(Duration::from_secs(30), self.changed.recv())
            .await
            .expect("a tools/list_changed notification")
            .expect("the client is running");
    }
}

fn key_header(key: &str) -> HashMap<http::HeaderName, http::HeaderValue> {
    HashMap::from([(
        http::HeaderName::from_static("x-api-key"),
        http::HeaderValue::from_str(key).unwrap(),
    )])
}

/// A JSON-RPC body, or the last JSON-RPC message of an SSE body (session mode answers so).
fn json_or_sse(text: &str) -> Value {
    if let Ok(v) = serde_json::from_str(text) {
        return v;
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .next_back()
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

impl Server {
    /// A REST call with the project's key; returns status and JSON body.
    async fn rest(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.rest_on(&self.base, method, path, body).await
    }

    /// A REST call with the project's key to the server at `base` (this one or a replica).
    async fn rest_on(
        &self,
        base: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .header("x-api-key", &self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates a session; returns its `mcp.url` (which must be on this server's origin).
    async fn session(&self, body: Value) -> (String, String) {
        let (st, out) = self.rest("POST", SESSIONS, Some(body)).await;
        assert_eq!(st, 201, "{out}");
        let url = out["mcp"]["url"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&self.base), "{url} is not on {}", self.base);
        (out["session_id"].as_str().unwrap().to_owned(), url)
    }

    /// An MCP client (rmcp's, as configured by default) connected to `url` with `key`.
    async fn mcp(&self, url: &str, key: &str) -> RunningService<RoleClient, ()> {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.to_owned())
                .custom_headers(key_header(key)),
        );
        ().serve(transport).await.expect("MCP client connects")
    }

    /// A [`TestClient`] answering approvals with `decision`, connected to `url`.
    async fn client(&self, url: &str, decision: Option<&'static str>) -> Connected {
        let (tx, changed) = tokio::sync::mpsc::unbounded_channel();
        let questions = Arc::<Mutex<Vec<String>>>::default();
        let handler = TestClient {
            decision,
            questions: questions.clone(),
            changed: tx,
        };
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.to_owned())
                .custom_headers(key_header(&self.key)),
        );
        let client = handler.serve(transport).await.expect("MCP client connects");
        Connected {
            client,
            questions,
            changed,
        }
    }

    /// Another replica on this server's database.
    async fn replica(&self) -> Replica {
        let app = app(self.dir.path(), &self.origin).await;
        let (base, stop) = serve(app, &self.mcp_config);
        Replica { base, _stop: stop }
    }

    /// One raw JSON-RPC POST to `url`; returns status, headers and the body.
    async fn post(
        &self,
        url: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_owned());
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let h = res.headers().clone();
        let text = res.text().await.unwrap();
        (status, h, json_or_sse(&text))
    }
}

/// A JSON-RPC `initialize` at `version`.
fn initialize(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {},
                      "clientInfo": {"name": "raw", "version": "0"}}})
    .to_string()
}
