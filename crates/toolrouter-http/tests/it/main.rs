//! The HTTP transport end to end, in process: a real server on 127.0.0.1:0 over a real SQLite
//! store, driven with a real HTTP client. Covers authentication, project isolation, the error
//! envelope for every kind of failure, request ids, limits, health and metrics.

mod approvals;
mod auth;
mod catalog;
mod custom;
mod proxy;
mod session_exec;
mod sessions;
mod wait;
mod workbench;

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolrouter_app::{App, AppConfig, ToolCatalog};
use toolrouter_catalog::Catalog;
use toolrouter_http::HttpConfig;
use toolrouter_store::{ConnectOptions, SqliteStore};
use toolrouter_vault::Keyring;

/// The built-in toolkits, as the server loads them without `--toolkits-dir`.
fn builtin_catalog() -> ToolCatalog {
    ToolCatalog::new(Catalog::builtin().unwrap(), Default::default()).unwrap()
}

struct Server {
    base: String,
    app: App,
    client: reqwest::Client,
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

async fn start(config: HttpConfig) -> (Server, String) {
    start_with(config, builtin_catalog()).await
}

/// A server over `catalog`.
async fn start_with(config: HttpConfig, catalog: ToolCatalog) -> (Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    let keyring = Keyring::parse("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
    let app = App::new(
        Arc::new(store),
        Arc::new(keyring),
        catalog,
        &AppConfig::default(),
    );
    serve_app(app, &config, dir).await
}

/// Bootstraps `app` (a fresh database: the first key) and serves it on 127.0.0.1:0 until the
/// returned server is dropped; `dir` holds its files and lives as long.
async fn serve_app(app: App, config: &HttpConfig, dir: tempfile::TempDir) -> (Server, String) {
    let boot = app
        .bootstrap()
        .await
        .unwrap()
        .expect("fresh database bootstraps");
    let key = secrecy::ExposeSecret::expose_secret(&boot.key.key).to_owned();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = toolrouter_http::router(app.clone(), config);
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
    let server = Server {
        base,
        app,
        client: reqwest::Client::new(),
        stop: Some(tx),
        _dir: dir,
    };
    (server, key)
}

impl Server {
    async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, value)
    }
}

/// Asserts the contract's envelope and returns its `error` object.
fn envelope(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &Value) -> Value {
    let err = body
        .get("error")
        .unwrap_or_else(|| panic!("no envelope: {body}"))
        .clone();
    assert_eq!(err["status"], json!(status.as_u16()), "{body}");
    assert!(err["code"].is_u64(), "{body}");
    assert!(
        err["slug"].is_string() && err["message"].is_string(),
        "{body}"
    );
    let rid = headers["x-request-id"].to_str().unwrap();
    assert_eq!(err["request_id"], json!(rid), "{body}");
    err
}

#[tokio::test]
async fn missing_wrong_and_revoked_keys_are_401_in_the_envelope() {
    let (s, key) = start(HttpConfig::default()).await;
    let (st, h, b) = s.call("GET", "/api/v3.1/project", None, None).await;
    assert_eq!(st, 401);
    assert_eq!(envelope(st, &h, &b)["slug"], "missing_api_key");

    let wrong = format!("trk_{}", "A".repeat(43));
    for bad in [wrong.as_str(), "nonsense", ""] {
        let (st, h, b) = s.call("GET", "/api/v3.1/project", Some(bad), None).await;
        assert_eq!(st, 401, "{bad}");
        let slug = envelope(st, &h, &b)["slug"].clone();
        assert!(
            slug == "invalid_api_key" || slug == "missing_api_key",
            "{slug}"
        );
    }

    let (st, _, b) = s
        .call(
            "POST",
            "/api/v3.1/api_keys",
            Some(&key),
            Some(r#"{"name":"ci"}"#),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let second = b["key"].as_str().unwrap().to_owned();
    let id = b["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s.call("GET", "/api/v3.1/project", Some(&second), None)
            .await
            .0,
        200
    );
    let (st, _, b) = s
        .call(
            "DELETE",
            &format!("/api/v3.1/api_keys/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (st, b),
        (StatusCode::OK, json!({"id": id, "deleted": true}))
    );
    // Revocation through this process takes effect at once, cache or not.
    let (st, h, b) = s
        .call("GET", "/api/v3.1/project", Some(&second), None)
        .await;
    assert_eq!(st, 401);
    assert_eq!(envelope(st, &h, &b)["slug"], "invalid_api_key");
}

#[tokio::test]
async fn one_project_cannot_read_or_change_another() {
    let (s, key_a) = start(HttpConfig::default()).await;
    // A second project, with its own key.
    let project_b = toolrouter_core::Project {
        id: toolrouter_core::ProjectId::generate(),
        name: "b".into(),
        created_at: toolrouter_core::Timestamp::now(),
    };
    let store = toolrouter_store::SqliteStore::open(
        &s._dir.path().join("t.db"),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    toolrouter_store::Store::project_create(&store, &project_b)
        .await
        .unwrap();
    let issued = s.app.api_key_create(&project_b.id, "b-key").await.unwrap();
    let key_b = secrecy::ExposeSecret::expose_secret(&issued.key).to_owned();

    let (_, _, proj) = s.call("GET", "/api/v3.1/project", Some(&key_b), None).await;
    assert_eq!(proj["id"], json!(project_b.id.as_str()));
    let (_, _, who) = s
        .call("GET", "/api/v3.1/auth/whoami", Some(&key_b), None)
        .await;
    assert_eq!(
        who,
        json!({"project_id": project_b.id.as_str(), "api_key_id": issued.record.id.as_str()})
    );

    let (_, _, a_keys) = s
        .call("GET", "/api/v3.1/api_keys", Some(&key_a), None)
        .await;
    let a_key_id = a_keys["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, _, b_keys) = s
        .call("GET", "/api/v3.1/api_keys", Some(&key_b), None)
        .await;
    assert_eq!(b_keys["items"].as_array().unwrap().len(), 1);
    assert_ne!(b_keys["items"][0]["id"], json!(a_key_id));
    // Listing never shows key material, only the prefix.
    assert!(!b_keys.to_string().contains(&key_b[12..]));

    let (st, h, b) = s
        .call(
            "DELETE",
            &format!("/api/v3.1/api_keys/{a_key_id}"),
            Some(&key_b),
            None,
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(envelope(st, &h, &b)["slug"], "not_found");
    // A's key still works.
    assert_eq!(
        s.call("GET", "/api/v3.1/project", Some(&key_a), None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn bad_bodies_get_precise_400s() {
    let (s, key) = start(HttpConfig::default()).await;
    let cases = [
        (
            r#"{"name": 1}"#,
            "validation_failed",
            "name: invalid type: integer `1`, expected a string",
        ),
        (
            r#"{"nam": "x"}"#,
            "validation_failed",
            "missing field `name`",
        ),
        (r#"{"name": "#, "invalid_json", "EOF while parsing"),
        (
            r#"{"name": "   "}"#,
            "validation_failed",
            "`name` must be 1 to 100 characters",
        ),
    ];
    for (body, slug, fragment) in cases {
        let (st, h, b) = s
            .call("POST", "/api/v3.1/api_keys", Some(&key), Some(body))
            .await;
        assert_eq!(st, 400, "{body}: {b}");
        let err = envelope(st, &h, &b);
        assert_eq!(err["slug"], slug, "{body}: {b}");
        assert!(
            err["message"].as_str().unwrap().contains(fragment),
            "{body}: {b}"
        );
    }
    // Nothing was stored by the failed attempts.
    let (_, _, keys) = s.call("GET", "/api/v3.1/api_keys", Some(&key), None).await;
    assert_eq!(keys["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn layer_errors_are_envelopes_too() {
    let (s, key) = start(HttpConfig {
        body_limit: 64,
        ..HttpConfig::default()
    })
    .await;
    let (st, h, b) = s.call("GET", "/no/such/route", None, None).await;
    assert_eq!(st, 404);
    assert_eq!(envelope(st, &h, &b)["slug"], "route_not_found");

    let (st, h, b) = s.call("PUT", "/api/v3.1/project", Some(&key), None).await;
    assert_eq!(st, 405);
    assert_eq!(envelope(st, &h, &b)["slug"], "method_not_allowed");

    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(200));
    let (st, h, b) = s
        .call("POST", "/api/v3.1/api_keys", Some(&key), Some(&big))
        .await;
    assert_eq!(st, 413, "{b}");
    assert_eq!(envelope(st, &h, &b)["slug"], "payload_too_large");

    let res = s
        .client
        .post(format!("{}/api/v3.1/api_keys", s.base))
        .header("x-api-key", &key)
        .header("content-type", "text/plain")
        .body("name")
        .send()
        .await
        .unwrap();
    let st = res.status();
    let h = res.headers().clone();
    let b: Value = res.json().await.unwrap();
    assert_eq!(st, 415);
    assert_eq!(envelope(st, &h, &b)["slug"], "unsupported_media_type");
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_generated_otherwise() {
    let (s, _) = start(HttpConfig::default()).await;
    let res = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-request-id"],
        "0123456789abcdef0123456789abcdef"
    );
    let res = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let rid = res.headers()["x-request-id"].to_str().unwrap();
    assert!(rid.starts_with("req_") && rid.len() == 36, "{rid}");
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let (s, key) = start(HttpConfig::default()).await;
    assert_eq!(
        s.call("GET", "/healthz", None, None).await.2,
        json!({"status": "ok"})
    );
    assert_eq!(
        s.call("GET", "/readyz", None, None).await.2,
        json!({"status": "ready", "database": "sqlite"})
    );
    s.call("GET", "/api/v3.1/project", Some(&key), None).await;
    s.call("GET", "/api/v3.1/project", None, None).await;
    let text = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        r#"http_requests_total{method="GET",route="/api/v3.1/project",status="200"}"#,
        r#"http_requests_total{method="GET",route="/api/v3.1/project",status="401"}"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/api/v3.1/project",status="200",le="0.005"}"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(!text.contains(&key[4..]), "metrics must never carry a key");
}
