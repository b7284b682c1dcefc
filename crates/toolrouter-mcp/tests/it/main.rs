//! The per-session MCP endpoint end to end, in process: the whole HTTP application on
//! 127.0.0.1:0 over a real SQLite store, sessions made through the REST API, and rmcp's own
//! Streamable HTTP client speaking MCP to `mcp.url`. Tools run against a local stand-in
//! provider the catalog's base-URL override points at. Raw HTTP covers what a client library
//! hides: status codes, `WWW-Authenticate`, JSON-RPC error codes, protocol versions.

mod endpoint;
mod tools;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use rmcp::ServiceExt;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use toolrouter_app::{AppConfig, ToolCatalog};
use toolrouter_catalog::Catalog;
use toolrouter_http::HttpConfig;
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

struct Server {
    base: String,
    key: String,
    http: reqwest::Client,
    seen: Seen,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start() -> Server {
    let (origin, seen) = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    let keyring = Keyring::parse("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
    let mut config = AppConfig::default();
    config.exec.policy = toolrouter_exec::OutboundPolicy::public_only().allow_host("127.0.0.1");
    config.files_root = dir.path().join("files");
    let app = toolrouter_app::App::new(
        Arc::new(store),
        Arc::new(keyring),
        catalog(&origin),
        &config,
    );
    let boot = app.bootstrap().await.unwrap().unwrap();
    let key = secrecy::ExposeSecret::expose_secret(&boot.key.key).to_owned();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = toolrouter_http::router(app, &HttpConfig::default());
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
    Server {
        base,
        key,
        http: reqwest::Client::new(),
        seen,
        stop: Some(tx),
        _dir: dir,
    }
}

impl Server {
    /// A REST call with the project's key; returns status and JSON body.
    async fn rest(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
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

    /// An MCP client (rmcp) connected to `url` with `key`.
    async fn mcp(&self, url: &str, key: &str) -> RunningService<rmcp::RoleClient, ()> {
        let headers = HashMap::from([(
            http::HeaderName::from_static("x-api-key"),
            http::HeaderValue::from_str(key).unwrap(),
        )]);
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.to_owned()).custom_headers(headers),
        );
        ().serve(transport).await.expect("MCP client connects")
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
        (
            status,
            h,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// A JSON-RPC `initialize` at `version`.
fn initialize(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {},
                      "clientInfo": {"name": "raw", "version": "0"}}})
    .to_string()
}
