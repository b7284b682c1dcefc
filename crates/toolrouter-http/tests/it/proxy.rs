//! Proxy calls, the execution log, large results, direct execution and account isolation over
//! HTTP, against a local stand-in provider that records what it receives: credentials are
//! injected but never echoed, requests stay under the toolkit's base URL, every execution is
//! logged with redacted arguments under the `log_id` its answer carried, large results become
//! session files, and a session never uses another user's account.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};
use toolrouter_app::{App, AppConfig, ToolCatalog};
use toolrouter_catalog::Catalog;
use toolrouter_http::HttpConfig;
use toolrouter_store::{ConnectOptions, SqliteStore};
use toolrouter_vault::Keyring;

use super::{Server, envelope, serve_app};

pub(super) const SESSIONS: &str = "/api/v3.1/tool_router/session";
pub(super) const API_KEY: &str = "sk-live-planted-4f9a1c";

/// What the stand-in saw: (method, path?query, x-api-key header, body).
type Seen = Arc<Mutex<Vec<(String, String, Option<String>, String)>>>;

async fn record(
    seen: &Seen,
    method: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: String,
) {
    seen.lock().unwrap().push((
        method.to_owned(),
        uri.to_string(),
        headers
            .get("x-api-key")
            .map(|v| v.to_str().unwrap().to_owned()),
        body,
    ));
}

/// A provider under `/api`: `/whoami` (echoes the key it got — a careless API — and sets a
/// cookie), `/items` (POST echo), `/image` (PNG bytes), `/big` (a 40 KB JSON document).
pub(super) async fn provider() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let router = axum::Router::new()
        .route(
            "/api/whoami",
            get(
                |State(seen): State<Seen>, uri: axum::http::Uri, headers: HeaderMap| async move {
                    record(&seen, "GET", &uri, &headers, String::new()).await;
                    let key = headers
                        .get("x-api-key")
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    (
                        [("set-cookie", "sid=abc"), ("x-request-cost", "1")],
                        axum::Json(json!({"user": "alice", "echoed_key": key})),
                    )
                },
            ),
        )
        .route(
            "/api/items",
            post(
                |State(seen): State<Seen>,
                 uri: axum::http::Uri,
                 headers: HeaderMap,
                 body: String| async move {
                    record(&seen, "POST", &uri, &headers, body.clone()).await;
                    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    (
                        axum::http::StatusCode::CREATED,
                        axum::Json(json!({"created": parsed})),
                    )
                },
            ),
        )
        .route(
            "/api/image",
            get(|| async {
                (
                    [("content-type", "image/png")],
                    vec![0x89u8, b'P', b'N', b'G', 0, 1],
                )
            }),
        )
        .route(
            "/api/big",
            get(|| async {
                let rows: Vec<Value> = (0..1000)
                    .map(|i| json!({"id": i, "text": "lorem ipsum dolor sit amet"}))
                    .collect();
                axum::Json(json!({"rows": rows}))
            }),
        )
        .route(
            "/admin",
            get(
                |State(seen): State<Seen>, uri: axum::http::Uri, headers: HeaderMap| async move {
                    record(&seen, "GET", &uri, &headers, String::new()).await;
                    "secret admin page"
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (origin, seen)
}

/// `keyed` (an API key in `x-api-key`) with its base URL overridden to `<origin>/api`.
pub(super) fn catalog(origin: &str) -> ToolCatalog {
    let keyed = json!({
        "slug": "keyed", "name": "Keyed", "description": "A test service taking an API key.",
        "base_url": "https://keyed.invalid/api",
        "auth_schemes": [{"type": "API_KEY",
                          "fields": [{"name": "api_key", "display_name": "API key", "secret": true}],
                          "inject": [{"in": "header", "name": "x-api-key", "value": "{api_key}"}]}],
        "tools": [
            {"slug": "KEYED_WHOAMI", "name": "Who am I",
             "description": "Return the user the API key belongs to, with their name.",
             "input": {"type": "object"}, "http": {"method": "GET", "path": "/whoami"}},
            {"slug": "KEYED_CREATE_ITEM", "name": "Create item",
             "description": "Create an item protected by a password.",
             "input": {"type": "object", "required": ["name"],
                       "properties": {"name": {"type": "string", "description": "Name."},
                                      "pin_code": {"type": "string", "format": "password", "description": "A PIN."},
                                      "api_token": {"type": "string", "description": "A token."}}},
             "http": {"method": "POST", "path": "/items"}},
            {"slug": "KEYED_BIG", "name": "Big", "description": "Return a large document of rows.",
             "input": {"type": "object"}, "http": {"method": "GET", "path": "/big"}}
        ]
    });
    let sources = [("keyed.json".to_owned(), keyed.to_string())];
    let overrides = BTreeMap::from([("keyed".to_owned(), format!("{origin}/api"))]);
    ToolCatalog::new(Catalog::from_sources(sources).unwrap(), overrides).unwrap()
}

/// A server whose tool calls may reach 127.0.0.1, with session files under its temp dir and a
/// 10 000-byte large-result limit.
pub(super) async fn start(catalog: ToolCatalog) -> (Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    let keyring = Keyring::parse("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
    let mut config = AppConfig {
        files_root: dir.path().join("files"),
        large_result_bytes: 10_000,
        ..AppConfig::default()
    };
    config.exec.policy = toolrouter_exec::OutboundPolicy::public_only().allow_host("127.0.0.1");
    let app = App::new(Arc::new(store), Arc::new(keyring), catalog, &config);
    serve_app(app, &HttpConfig::default(), dir).await
}

pub(super) async fn send(s: &Server, key: &str, path: &str, body: Value) -> (u16, Value) {
    let (st, h, out) = s
        .call("POST", path, Some(key), Some(&body.to_string()))
        .await;
    if !st.is_success() {
        envelope(st, &h, &out);
    }
    (st.as_u16(), out)
}

/// An auth config for `keyed` and an ACTIVE account of `user` holding `api_key`; its id.
pub(super) async fn connect(s: &Server, key: &str, user: &str, api_key: &str) -> String {
    let body = json!({"toolkit": {"slug": "keyed"},
                      "auth_config": {"type": "use_custom_auth", "authScheme": "API_KEY", "name": "K"}});
    let (st, created) = send(s, key, "/api/v3.1/auth_configs", body).await;
    assert_eq!(st, 201, "{created}");
    let config = created["auth_config"]["id"].as_str().unwrap();
    let (st, linked) = send(
        s,
        key,
        "/api/v3.1/connected_accounts/link",
        json!({"auth_config_id": config, "user_id": user}),
    )
    .await;
    assert_eq!(st, 201, "{linked}");
    let token = linked["link_token"].as_str().unwrap();
    let res = s
        .client
        .post(format!("{}/link/{token}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("api_key={api_key}"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    let id = linked["connected_account_id"].as_str().unwrap().to_owned();
    let (_, _, acct) = s
        .call(
            "GET",
            &format!("/api/v3.1/connected_accounts/{id}"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(acct["status"], "ACTIVE", "{acct}");
    id
}

pub(super) async fn session(s: &Server, key: &str, body: Value) -> String {
    let (st, out) = send(s, key, SESSIONS, body).await;
    assert_eq!(st, 201, "{out}");
    out["session_id"].as_str().unwrap().to_owned()
}

async fn executions(s: &Server, key: &str, sid: &str, query: &str) -> Value {
    let (st, _, out) = s
        .call(
            "GET",
            &format!("{SESSIONS}/{sid}/executions{query}"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(st, 200, "{out}");
    out
}

#[tokio::test]
async fn session_proxy_injects_credentials_and_never_returns_them() {
    let (origin, seen) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    connect(&s, &key, "u1", API_KEY).await;
    let sid = session(&s, &key, json!({"user_id": "u1", "toolkits": ["keyed"]})).await;
    let path = format!("{SESSIONS}/{sid}/proxy_execute");

    let (st, out) = send(
        &s,
        &key,
        &path,
        json!({"toolkit_slug": "keyed", "endpoint": "/whoami", "method": "GET",
               "parameters": [{"name": "page", "value": "2", "type": "query"},
                              {"name": "x-trace", "value": 7, "in": "header"}]}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["result_type"], "completed");
    assert_eq!(out["status"], 200);
    assert_eq!(out["data"]["user"], "alice", "{out}");
    assert_eq!(out["headers"]["x-request-cost"], "1", "{out}");
    assert!(out["headers"].get("set-cookie").is_none(), "{out}");
    let text = out.to_string();
    assert!(
        !text.contains(API_KEY),
        "the key must never come back: {text}"
    );
    assert_eq!(out["data"]["echoed_key"], "[REDACTED]");
    let got = seen.lock().unwrap().clone();
    assert_eq!(
        got,
        vec![(
            "GET".to_owned(),
            "/api/whoami?page=2".to_owned(),
            Some(API_KEY.to_owned()),
            String::new()
        )]
    );

    // A JSON body to a relative endpoint without a leading slash; an absolute URL under the
    // base URL is accepted too.
    let (st, out) = send(
        &s,
        &key,
        &path,
        json!({"toolkit_slug": "keyed", "endpoint": format!("{origin}/api/items"), "method": "post",
               "body": {"name": "lamp"}}),
    )
    .await;
    assert_eq!((st, &out["status"]), (200, &json!(201)), "{out}");
    assert_eq!(out["data"]["created"], json!({"name": "lamp"}));

    // Binary bodies come back as `binary_data` with a data: URL.
    let (_, out) = send(
        &s,
        &key,
        &path,
        json!({"toolkit_slug": "keyed", "endpoint": "image", "method": "GET"}),
    )
    .await;
    assert_eq!(out["binary_data"]["content_type"], "image/png", "{out}");
    assert_eq!(out["binary_data"]["size"], 6);
    assert_eq!(
        out["binary_data"]["url"], "data:image/png;base64,iVBORwAB",
        "{out}"
    );
    assert_eq!(out["data"], Value::Null);

    // Outside the base URL: refused before anything is sent.
    let before = seen.lock().unwrap().len();
    for endpoint in [
        format!("{origin}/admin"),
        "../admin".to_owned(),
        "https://example.com/api/whoami".to_owned(),
    ] {
        let (st, out) = send(
            &s,
            &key,
            &path,
            json!({"toolkit_slug": "keyed", "endpoint": endpoint, "method": "GET"}),
        )
        .await;
        assert_eq!(st, 400, "{endpoint}: {out}");
        assert_eq!(out["error"]["slug"], "validation_failed");
        assert!(
            out["error"]["message"]
                .as_str()
                .unwrap()
                .contains("outside the toolkit's base URL"),
            "{out}"
        );
    }
    assert_eq!(seen.lock().unwrap().len(), before, "nothing was sent");

    for (body, status, fragment) in [
        (
            json!({"toolkit_slug": "keyed", "endpoint": "/whoami", "method": "TRACE"}),
            400,
            "`method`",
        ),
        (
            json!({"toolkit_slug": "nope", "endpoint": "/whoami", "method": "GET"}),
            404,
            "nope",
        ),
        (
            json!({"toolkit_slug": "keyed", "endpoint": "/whoami", "method": "GET",
                   "parameters": [{"name": "a", "value": "b", "type": "cookie"}]}),
            400,
            "`parameters[0].type`",
        ),
        (
            json!({"toolkit_slug": "keyed", "endpoint": "/x", "method": "POST",
                   "binary_body": {"url": "https://example.com/file"}}),
            400,
            "`binary_body.url`",
        ),
    ] {
        let (st, out) = send(&s, &key, &path, body.clone()).await;
        assert_eq!(st, status, "{body}: {out}");
        assert!(
            out["error"]["message"].as_str().unwrap().contains(fragment),
            "{body}: {out}"
        );
    }

    // A toolkit the session does not allow is a 403; a user without an account gets the
    // connect error.
    let other = session(
        &s,
        &key,
        json!({"user_id": "u1", "toolkits": {"disable": ["keyed"]}}),
    )
    .await;
    let (st, _) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{other}/proxy_execute"),
        json!({"toolkit_slug": "keyed", "endpoint": "/whoami", "method": "GET"}),
    )
    .await;
    assert_eq!(st, 403);
    let stranger = session(&s, &key, json!({"user_id": "u2"})).await;
    let (st, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{stranger}/proxy_execute"),
        json!({"toolkit_slug": "keyed", "endpoint": "/whoami", "method": "GET"}),
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(out["error"]["slug"], "connected_account_required", "{out}");
}

#[tokio::test]
async fn legacy_proxy_uses_the_named_account() {
    let (origin, seen) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    let account = connect(&s, &key, "u1", API_KEY).await;
    let (st, out) = send(
        &s,
        &key,
        "/api/v3.1/tools/execute/proxy",
        json!({"connected_account_id": account, "endpoint": "/whoami", "method": "GET",
               "parameters": [{"name": "q", "value": "x", "in": "query"}]}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["data"]["user"], "alice");
    assert!(!out.to_string().contains(API_KEY));
    assert_eq!(
        seen.lock().unwrap()[0].1,
        "/api/whoami?q=x",
        "the account's toolkit base URL"
    );
    let (st, out) = send(
        &s,
        &key,
        "/api/v3.1/tools/execute/proxy",
        json!({"endpoint": "/whoami", "method": "GET"}),
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`connected_account_id`"),
        "{out}"
    );
    let (st, _) = send(
        &s,
        &key,
        "/api/v3.1/tools/execute/proxy",
        json!({"connected_account_id": "ca_missing", "endpoint": "/whoami", "method": "GET"}),
    )
    .await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn every_execution_is_logged_with_redacted_arguments() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    let account = connect(&s, &key, "u1", API_KEY).await;
    let sid = session(&s, &key, json!({"user_id": "u1", "toolkits": ["keyed"]})).await;
    let exec = format!("{SESSIONS}/{sid}/execute");

    let (_, created) = send(
        &s,
        &key,
        &exec,
        json!({"tool_slug": "keyed_create_item",
               "arguments": {"name": "lamp", "pin_code": "4321", "api_token": "tok-123",
                             "password": "hunter2"}}),
    )
    .await;
    assert_eq!(created["result_type"], "completed", "{created}");
    let (_, multi) = send(
        &s,
        &key,
        &exec,
        json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL",
               "arguments": {"tools": [{"tool_slug": "KEYED_WHOAMI", "arguments": {}},
                                       {"tool_slug": "KEYED_CREATE_ITEM", "arguments": {}}]}}),
    )
    .await;
    assert_eq!(multi["data"]["error_count"], 1, "{multi}");
    let (_, proxied) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{sid}/proxy_execute"),
        json!({"toolkit_slug": "keyed", "endpoint": "/whoami", "method": "GET",
               "parameters": [{"name": "Authorization", "value": "Bearer zzz", "type": "header"}]}),
    )
    .await;
    assert_eq!(proxied["status"], 200);
    // Direct execution (no session) is logged too, but not in the session's log.
    let (_, direct) = send(
        &s,
        &key,
        "/api/v3.1/tools/execute/KEYED_WHOAMI",
        json!({"user_id": "u1", "arguments": {}}),
    )
    .await;
    assert_eq!(direct["successful"], true, "{direct}");

    let log = executions(&s, &key, &sid, "").await;
    let items = log["items"].as_array().unwrap();
    let slugs: Vec<&str> = items
        .iter()
        .map(|i| i["tool_slug"].as_str().unwrap())
        .collect();
    // Newest first: the proxy call, the multi-execute (after its two items), the first call.
    assert_eq!(slugs.len(), 5, "{log}");
    assert_eq!(slugs[0], "PROXY_EXECUTE");
    assert_eq!(slugs[1], "COMPOSIO_MULTI_EXECUTE_TOOL");
    let mut inner = slugs[2..4].to_vec();
    inner.sort_unstable();
    assert_eq!(inner, ["KEYED_CREATE_ITEM", "KEYED_WHOAMI"]);
    assert_eq!(slugs[4], "KEYED_CREATE_ITEM");
    assert_eq!(log["total_items"], 5);

    let first = &items[4];
    assert_eq!(
        first["log_id"], created["log_id"],
        "the log_id the caller saw"
    );
    assert_eq!(first["session_id"], json!(sid));
    assert_eq!(first["user_id"], "u1");
    assert_eq!(first["connected_account_id"], json!(account));
    assert_eq!(first["successful"], true);
    assert_eq!(first["error"], Value::Null);
    assert!(first["duration_ms"].as_i64().unwrap() >= 0);
    assert_eq!(
        first["arguments"],
        json!({"name": "lamp", "pin_code": "[redacted]", "api_token": "[redacted]",
               "password": "[redacted]"})
    );
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(items[1]["log_id"], multi["log_id"]);
    let failed_item = items[2..4]
        .iter()
        .find(|i| i["tool_slug"] == "KEYED_CREATE_ITEM")
        .unwrap();
    assert_eq!(failed_item["successful"], false);
    assert!(
        failed_item["error"].as_str().unwrap().contains("name"),
        "{failed_item}"
    );
    assert_eq!(
        items[0]["arguments"]["headers"]["Authorization"], "[redacted]",
        "an Authorization header value is a secret: {}",
        items[0]
    );
    let text = log.to_string();
    for secret in ["hunter2", "4321", "tok-123", "Bearer zzz", API_KEY] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }

    // Paging: two per page, newest first, with the usual cursor.
    let page1 = executions(&s, &key, &sid, "?limit=2").await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = executions(&s, &key, &sid, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(page2["items"][0]["log_id"], items[2]["log_id"]);
    assert_eq!(page2["current_page"], 2);
    let (st, _, out) = s
        .call(
            "GET",
            &format!("{SESSIONS}/{sid}/executions?cursor=bogus"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(st, 400, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`cursor`")
    );
    let (st, _, _) = s
        .call(
            "GET",
            &format!("{SESSIONS}/trs_missing/executions"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn large_results_become_session_files_with_a_preview() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    connect(&s, &key, "u1", API_KEY).await;
    let sid = session(&s, &key, json!({"user_id": "u1", "toolkits": ["keyed"]})).await;
    let (st, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{sid}/execute"),
        json!({"tool_slug": "KEYED_BIG", "arguments": {}}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["result_type"], "completed");
    let large = &out["data"]["large_result"];
    let log_id = out["log_id"].as_str().unwrap();
    let path = format!("/mnt/files/.composio/results/{log_id}.json");
    assert_eq!(large["path"], json!(path), "{out}");
    let size = large["size"].as_u64().unwrap();
    assert!(size > 10_000, "{out}");
    let preview = large["preview"].as_str().unwrap();
    assert!(preview.starts_with(r#"{"rows":[{"#), "{preview}");
    assert!(out["data"]["message"].as_str().unwrap().contains(&path));
    // The file holds the whole result, in the session's files directory.
    let session_id = toolrouter_core::SessionId::parse(&sid).unwrap();
    let host = s
        .app
        .session_files_dir(&session_id)
        .join(format!(".composio/results/{log_id}.json"));
    let saved: Value = serde_json::from_slice(&std::fs::read(&host).unwrap()).unwrap();
    assert_eq!(saved["rows"].as_array().unwrap().len(), 1000);
    assert_eq!(std::fs::metadata(&host).unwrap().len(), size);
    assert!(preview.len() < size as usize);

    // Small results are returned whole.
    let (_, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{sid}/execute"),
        json!({"tool_slug": "KEYED_WHOAMI", "arguments": {}}),
    )
    .await;
    assert_eq!(out["data"]["user"], "alice", "{out}");
}

#[tokio::test]
async fn agents_get_results_over_the_sessions_threshold_as_files() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    connect(&s, &key, "u1", API_KEY).await;
    let body = |workbench: bool| {
        json!({"user_id": "u1", "toolkits": ["keyed"],
               "workbench": {"enable": workbench, "auto_offload_threshold": 5}})
    };
    let sid = session(&s, &key, body(true)).await;
    let execute = format!("{SESSIONS}/{sid}/execute");
    let run = |agentic: Option<bool>| {
        let mut call = json!({"tool_slug": "KEYED_WHOAMI", "arguments": {}});
        if let Some(flag) = agentic {
            call["enable_auto_workbench_offload"] = json!(flag);
        }
        call
    };
    // Code calling the SDK directly (no flag, or false) gets the result whole.
    for flag in [None, Some(false)] {
        let (st, out) = send(&s, &key, &execute, run(flag)).await;
        assert_eq!(st, 200, "{out}");
        assert_eq!(out["data"]["user"], "alice", "{out}");
    }
    // An agentic provider's call (the flag) gets a file reference.
    let (_, out) = send(&s, &key, &execute, run(Some(true))).await;
    let large = &out["data"]["large_result"];
    assert!(
        large["path"]
            .as_str()
            .unwrap()
            .starts_with("/mnt/files/.composio/results/"),
        "{out}"
    );
    let message = out["data"]["message"].as_str().unwrap();
    assert!(
        message.contains("the session's 5-character auto_offload_threshold"),
        "{message}"
    );
    // So do MULTI_EXECUTE_TOOL's items.
    let (_, out) = send(
        &s,
        &key,
        &execute,
        json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL",
               "arguments": {"tools": [{"tool_slug": "KEYED_WHOAMI", "arguments": {}}]}}),
    )
    .await;
    let item = &out["data"]["results"][0]["response"]["data"];
    assert!(item["large_result"]["path"].is_string(), "{out}");
    assert!(item.get("user").is_none(), "{out}");
    // Without a workbench the agent could not open the file: the result comes whole.
    let sid = session(&s, &key, body(false)).await;
    let (_, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{sid}/execute"),
        run(Some(true)),
    )
    .await;
    assert_eq!(out["data"]["user"], "alice", "{out}");
}

#[tokio::test]
async fn a_session_never_uses_another_users_account() {
    let (origin, seen) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    let alices = connect(&s, &key, "alice", "alice-key-0001").await;
    let bobs = connect(&s, &key, "bob", "bob-key-0002").await;

    // Pinning Alice's account in Bob's session is refused at creation and on update.
    let (st, out) = send(
        &s,
        &key,
        SESSIONS,
        json!({"user_id": "bob", "connected_accounts": {"keyed": alices}}),
    )
    .await;
    assert_eq!(st, 400, "{out}");
    assert!(out.to_string().contains("belongs to another user"), "{out}");
    let sid = session(&s, &key, json!({"user_id": "bob", "toolkits": ["keyed"]})).await;
    let (st, h, out) = s
        .call(
            "PATCH",
            &format!("{SESSIONS}/{sid}"),
            Some(&key),
            Some(&json!({"connected_accounts": {"keyed": [alices]}}).to_string()),
        )
        .await;
    assert_eq!(st, 400, "{out}");
    envelope(st, &h, &out);

    // Naming Alice's account on a call of Bob's session does not run with it.
    let (st, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{sid}/execute"),
        json!({"tool_slug": "KEYED_WHOAMI", "arguments": {}, "account": alices}),
    )
    .await;
    // Among Bob's accounts there is no such id: a 404 naming it, and nothing is sent.
    assert_eq!(st, 404, "{out}");
    assert!(
        out["error"]["message"].as_str().unwrap().contains(&alices),
        "{out}"
    );
    assert!(seen.lock().unwrap().is_empty());
    // Bob's own calls (execute and proxy) use Bob's key, never Alice's.
    let (_, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{sid}/execute"),
        json!({"tool_slug": "KEYED_WHOAMI", "arguments": {}}),
    )
    .await;
    assert_eq!(out["result_type"], "completed", "{out}");
    let (_, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{sid}/proxy_execute"),
        json!({"toolkit_slug": "keyed", "endpoint": "/whoami", "method": "GET"}),
    )
    .await;
    assert_eq!(out["status"], 200, "{out}");
    let keys: Vec<Option<String>> = seen.lock().unwrap().iter().map(|r| r.2.clone()).collect();
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|k| k.as_deref() == Some("bob-key-0002")),
        "{keys:?}"
    );
    // Direct execution with Alice's account on behalf of Bob is refused.
    let (st, out) = send(
        &s,
        &key,
        "/api/v3.1/tools/execute/KEYED_WHOAMI",
        json!({"user_id": "bob", "connected_account_id": alices}),
    )
    .await;
    assert_eq!(st, 400, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not belong")
    );
    let _ = bobs;
}

#[tokio::test]
async fn direct_execution_validates_selects_and_logs_like_a_session() {
    let (origin, seen) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    let account = connect(&s, &key, "u1", API_KEY).await;
    // Arguments that break the schema: a failed result naming the field; nothing is sent.
    let (st, bad) = send(
        &s,
        &key,
        "/api/v3.1/tools/execute/KEYED_CREATE_ITEM",
        json!({"user_id": "u1", "arguments": {"pin_code": "9999"}}),
    )
    .await;
    assert_eq!(st, 200, "{bad}");
    assert_eq!(bad["successful"], false);
    assert!(bad["error"].as_str().unwrap().contains("name"), "{bad}");
    assert!(seen.lock().unwrap().is_empty());
    // By user id (account selection) and by account id.
    let (_, by_user) = send(
        &s,
        &key,
        "/api/v3.1/tools/execute/KEYED_CREATE_ITEM",
        json!({"user_id": "u1", "arguments": {"name": "lamp", "pin_code": "9999"}}),
    )
    .await;
    assert_eq!(by_user["successful"], true, "{by_user}");
    let (_, by_account) = send(
        &s,
        &key,
        "/api/v3.1/tools/execute/KEYED_WHOAMI",
        json!({"connected_account_id": account}),
    )
    .await;
    assert_eq!(by_account["data"]["user"], "alice", "{by_account}");

    let caller = toolrouter_app::Caller {
        project_id: s.app.project_list().await.unwrap()[0].id.clone(),
        key_id: toolrouter_core::ApiKeyId::generate(),
    };
    let filter = toolrouter_app::execution_log::ExecutionFilter {
        session_id: None,
        user_id: Some("u1".to_owned()),
    };
    let log = s
        .app
        .execution_list(
            &caller,
            &filter,
            &toolrouter_app::page::PageRequest::default(),
        )
        .await
        .unwrap();
    let got: Vec<(String, String, bool, Option<String>)> = log
        .items
        .iter()
        .map(|r| {
            (
                r.log_id.clone(),
                r.tool_slug.clone(),
                r.successful,
                r.connected_account_id.clone(),
            )
        })
        .collect();
    let id = |v: &Value| v["log_id"].as_str().unwrap().to_owned();
    assert_eq!(
        got,
        vec![
            (
                id(&by_account),
                "KEYED_WHOAMI".to_owned(),
                true,
                Some(account.clone())
            ),
            (
                id(&by_user),
                "KEYED_CREATE_ITEM".to_owned(),
                true,
                Some(account.clone())
            ),
            (
                id(&bad),
                "KEYED_CREATE_ITEM".to_owned(),
                false,
                Some(account.clone())
            ),
        ]
    );
    assert!(log.items.iter().all(|r| r.session_id.is_none()));
    assert_eq!(log.items[1].arguments["pin_code"], "[redacted]");
}

#[tokio::test]
async fn unreachable_and_forbidden_destinations() {
    let tool = |slug: &str| {
        json!([{"slug": format!("{slug}_PING"), "name": "Ping", "description": "Ping the service and return its answer.",
                "input": {"type": "object"}, "http": {"method": "GET", "path": "/ping"}}])
    };
    let open = |slug: &str, base: &str| {
        json!({"slug": slug, "name": slug, "description": "A test service without auth.",
               "base_url": base, "auth_schemes": [], "tools": tool(&slug.to_uppercase())})
        .to_string()
    };
    // Port 9 on loopback (allowed by the policy, nothing listens) and the metadata address
    // (never allowed).
    let sources = [
        (
            "gone.json".to_owned(),
            open("gone", "http://127.0.0.1:9/api"),
        ),
        (
            "meta.json".to_owned(),
            open("meta", "http://169.254.169.254/latest"),
        ),
    ];
    let catalog =
        ToolCatalog::new(Catalog::from_sources(sources).unwrap(), BTreeMap::new()).unwrap();
    let (s, key) = start(catalog).await;
    let sid = session(&s, &key, json!({"user_id": "u1"})).await;
    let path = format!("{SESSIONS}/{sid}/proxy_execute");
    let (st, out) = send(
        &s,
        &key,
        &path,
        json!({"toolkit_slug": "gone", "endpoint": "/ping", "method": "GET"}),
    )
    .await;
    assert_eq!(st, 200, "not a 5xx an SDK would retry: {out}");
    assert_eq!(out["status"], 502, "{out}");
    assert!(
        out["data"]["error"].as_str().unwrap().contains("127.0.0.1"),
        "{out}"
    );
    let (st, out) = send(
        &s,
        &key,
        &path,
        json!({"toolkit_slug": "meta", "endpoint": "/meta-data", "method": "GET"}),
    )
    .await;
    assert_eq!(st, 403, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("outbound policy"),
        "{out}"
    );
}
