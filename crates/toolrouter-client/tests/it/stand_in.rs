//! A stand-in for the toolrouter server on `127.0.0.1:0`: it records every request the client
//! sends and answers with the replies the test queued, in order, so a test can compare the
//! client's requests with the official SDKs' (the traces in CONTRACT.md's `traces/`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, Uri};
use serde_json::{Value, json};
use toolrouter_client::Client;

/// What the stand-in answers to one request.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Value,
    delay: Duration,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    /// Answer only after `delay` (to exercise timeouts).
    pub(crate) fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// The contract's error envelope.
    pub(crate) fn error(status: u16, slug: &str, message: &str) -> Reply {
        Reply::json(
            status,
            json!({"error": {"message": message, "code": u32::from(status) * 10, "slug": slug,
                             "status": status, "request_id": "req_from_body",
                             "suggested_fix": "", "errors": []}}),
        )
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Value>,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `METHOD /path?query` and the pretty JSON body, as the traces show requests.
    pub(crate) fn render(&self) -> String {
        let mut out = format!("{} {}", self.method, self.path);
        if let Some(q) = &self.query {
            out.push('?');
            out.push_str(q);
        }
        if let Some(body) = &self.body {
            out.push('\n');
            out.push_str(&serde_json::to_string_pretty(body).expect("JSON"));
        }
        out
    }
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
}

/// A running stand-in; stops when dropped.
pub(crate) struct StandIn {
    origin: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    pub(crate) async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the stand-in serves");
        });
        StandIn {
            origin: format!("http://{addr}"),
            shared,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// A client for this stand-in with key `k_test` and no retry delays to wait for.
    pub(crate) fn client(&self) -> Client {
        Client::builder()
            .api_key("k_test")
            .base_url(self.origin.clone())
            .max_retries(0)
            .build()
            .expect("a client")
    }

    pub(crate) fn push(&self, reply: Reply) -> &Self {
        self.shared
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(reply);
        self
    }

    /// The requests received since the last call.
    pub(crate) fn take(&self) -> Vec<Seen> {
        std::mem::take(
            &mut *self
                .shared
                .seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The requests received since the last call, rendered and separated by blank lines.
    pub(crate) fn trace(&self) -> String {
        let seen = self.take();
        let mut out: Vec<String> = seen.iter().map(Seen::render).collect();
        out.push(String::new());
        out.join("\n\n")
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let body = (!body.is_empty())
        .then(|| serde_json::from_slice(&body).expect("the client sends JSON bodies"));
    shared
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Seen {
            method,
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers,
            body,
        });
    let reply = shared
        .replies
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front()
        .unwrap_or_else(|| Reply::error(599, "no_reply", "the stand-in had no reply queued"));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder()
        .status(reply.status)
        .header("content-type", "application/json");
    for (k, v) in &reply.headers {
        response = response.header(*k, v);
    }
    response
        .body(Body::from(reply.body.to_string()))
        .expect("a valid reply")
}

// ---------------------------------------------------------------------------------------------
// Contract-shaped answers (CONTRACT.md Appendix A), as the fake server in the traces sends them.

/// A session view (A.2) with `config` extended by `config_extra` and the given MCP URL.
pub(crate) fn session_json(id: &str, mcp_url: &str, config_extra: Value) -> Value {
    let mut config = json!({
        "user_id": "user_123",
        "manage_connections": {"enabled": true, "enable_wait_for_connections": false,
                               "enable_connection_removal": true},
        "workbench": {"enable": true, "proxy_execution_enabled": true,
                      "auto_offload_threshold": 20000, "sandbox_size": "standard"},
        "preload": {"tools": []}, "search": {}, "execute": {},
        "instant": {"return_instant_charge": false, "return_prices_in_search": false}
    });
    if let (Value::Object(c), Value::Object(extra)) = (&mut config, config_extra) {
        c.extend(extra);
    }
    json!({
        "session_id": id,
        "mcp": {"type": "http", "url": mcp_url},
        "tool_router_tools": ["COMPOSIO_SEARCH_TOOLS", "COMPOSIO_GET_TOOL_SCHEMAS",
                              "COMPOSIO_MULTI_EXECUTE_TOOL", "COMPOSIO_MANAGE_CONNECTIONS",
                              "COMPOSIO_REMOTE_WORKBENCH", "COMPOSIO_REMOTE_BASH_TOOL"],
        "config": config,
        "config_version": 1,
        "warnings": [],
        "experimental": {"assistive_prompt": "Use COMPOSIO_SEARCH_TOOLS first."}
    })
}

/// A tool object (A.9) with the given input schema.
pub(crate) fn tool(slug: &str, input: Value) -> Value {
    let toolkit = slug.split('_').next().unwrap_or("x").to_ascii_lowercase();
    let mut tool = json!({
        "slug": slug, "name": slug, "description": format!("Description of {slug}"),
        "human_description": null,
        "toolkit": {"slug": toolkit, "name": toolkit, "logo": ""},
        "output_parameters": {"type": "object", "properties": {}},
        "no_auth": false, "available_versions": ["20250101_00"], "version": "20250101_00",
        "scopes": [], "tags": [], "is_deprecated": false,
        "deprecated": {"displayName": slug, "version": "20250101_00",
                       "available_versions": ["20250101_00"], "is_deprecated": false,
                       "toolkit": {"logo": ""}}
    });
    tool["input_parameters"] = input;
    tool
}

/// A page of a paginated list.
pub(crate) fn page(items: Vec<Value>, next_cursor: Option<&str>) -> Value {
    let mut page = json!({"next_cursor": next_cursor, "total_pages": 1, "current_page": 1,
                          "total_items": items.len()});
    page["items"] = Value::Array(items);
    page
}

/// An execute answer (A.12) that completed with `data`.
pub(crate) fn completed(data: Value) -> Value {
    let mut answer = json!({"error": null, "log_id": "log_1", "result_type": "completed"});
    answer["data"] = data;
    answer
}

/// A connected account (A.17) in `status`.
pub(crate) fn account(id: &str, status: &str) -> Value {
    json!({
        "id": id, "user_id": "user_123", "status": status, "status_reason": null,
        "toolkit": {"slug": "github"},
        "auth_config": {"id": "ac_github", "auth_scheme": "OAUTH2", "is_composio_managed": true,
                        "is_disabled": false},
        "authScheme": "OAUTH2", "word_id": "github_red-castle", "alias": null,
        "state": {"authScheme": "OAUTH2", "val": {"status": status}},
        "data": {}, "params": {}, "is_disabled": false,
        "created_at": "2026-11-22T02:09:05.000Z", "updated_at": "2026-11-22T02:09:06.000Z"
    })
}
