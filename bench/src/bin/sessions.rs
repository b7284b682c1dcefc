//! Measures the Tool Router session API end to end, in process over real HTTP (the server on
//! 127.0.0.1:0, a keep-alive reqwest client, a loopback axum upstream):
//!
//! 1. sessions created per second, on SQLite and (with `--pg URL`) PostgreSQL, 16 in flight;
//! 2. `GET …/{sid}/tools?limit=500` p50/p99 for a session preloading all 500 tools of a
//!    synthetic toolkit;
//! 3. the latency `/execute` adds over calling the same upstream directly with the same kind of
//!    client (p50 and p99 of each, and their difference). Target: ≤ 0.3 ms added at p99;
//! 4. COMPOSIO_MULTI_EXECUTE_TOOL with 50 calls to an upstream answering after 50 ms each:
//!    total time. Target: ≤ 100 ms.
//!
//! `cargo run --release -p toolrouter-bench --bin sessions -- [--creates N] [--calls N] [--pg URL]`
//! (the lead runs it on a quiet machine; debug builds with small counts only check it works).
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(clippy::print_stderr, reason = "usage errors go to stderr")]

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use toolrouter_app::{App, AppConfig, ToolCatalog};
use toolrouter_bench::metrics::{micros, percentile};
use toolrouter_catalog::Catalog;
use toolrouter_exec::OutboundPolicy;
use toolrouter_http::HttpConfig;
use toolrouter_store::{ConnectOptions, PgStore, StoreConfig};
use toolrouter_vault::Keyring;

const KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const SESSIONS: &str = "/api/v3.1/tool_router/session";
const TOOLS: usize = 500;
const MULTI: usize = 50;

struct Args {
    creates: usize,
    calls: usize,
    pg: Option<String>,
}

fn parse_args() -> Option<Args> {
    let mut args = Args {
        creates: 2000,
        calls: 5000,
        pg: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next()?;
        match flag.as_str() {
            "--creates" => args.creates = value.parse().ok()?,
            "--calls" => args.calls = value.parse().ok()?,
            "--pg" => args.pg = Some(value),
            _ => return None,
        }
    }
    Some(args)
}

/// The loopback upstream: `/ping` answers at once, `/slow` after 50 ms.
async fn upstream() -> String {
    let router = axum::Router::new()
        .route(
            "/ping",
            axum::routing::get(|| async { axum::Json(json!({"ok": true, "n": 1})) }),
        )
        .route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                axum::Json(json!({"ok": true}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    origin
}

/// One no-auth toolkit of 500 tools: `SYNTH_PING`, `SYNTH_SLOW` and 498 more like the first.
fn catalog(origin: &str) -> ToolCatalog {
    let mut tools = vec![
        json!({"slug": "SYNTH_PING", "name": "Ping", "description": "Ping the synthetic service and return its answer.",
               "input": {"type": "object"}, "http": {"method": "GET", "path": "/ping"}}),
        json!({"slug": "SYNTH_SLOW", "name": "Slow", "description": "Call the synthetic service's slow endpoint (50 ms).",
               "input": {"type": "object"}, "http": {"method": "GET", "path": "/slow"}}),
    ];
    for i in 2..TOOLS {
        tools.push(json!({
            "slug": format!("SYNTH_RECORD_{i}"), "name": format!("Record {i}"),
            "description": format!("Fetch record number {i} of the synthetic service and return it with its fields."),
            "input": {"type": "object", "properties": {"id": {"type": "string", "description": "The record id."}}},
            "http": {"method": "GET", "path": "/ping"}
        }));
    }
    let def = json!({"slug": "synth", "name": "Synth", "description": "A synthetic service for benchmarks.",
                     "base_url": "https://synth.invalid", "auth_schemes": [], "tools": tools});
    ToolCatalog::new(
        Catalog::from_sources([("synth.json".to_owned(), def.to_string())]).expect("toolkit"),
        BTreeMap::from([("synth".to_owned(), origin.to_owned())]),
    )
    .expect("catalog")
}

struct Server {
    base: String,
    key: String,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(store: &StoreConfig, origin: &str, files: &std::path::Path) -> Server {
    let store = toolrouter_store::connect(
        store,
        &ConnectOptions {
            max_connections: 16,
            ..ConnectOptions::default()
        },
    )
    .await
    .expect("store");
    let mut config = AppConfig {
        files_root: files.to_owned(),
        ..AppConfig::default()
    };
    config.exec.policy = OutboundPolicy::public_only().allow_host("127.0.0.1");
    let app = App::new(
        store,
        Arc::new(Keyring::parse(KEY).expect("key")),
        catalog(origin),
        &config,
    );
    let boot = app
        .bootstrap()
        .await
        .expect("bootstrap")
        .expect("fresh database");
    let key = secrecy::ExposeSecret::expose_secret(&boot.key.key).to_owned();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
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
        client: reqwest::Client::new(),
        _stop: tx,
    }
}

impl Server {
    async fn post(&self, path: &str, body: &Value) -> Value {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("x-api-key", &self.key)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = res.status();
        let out: Value = res.json().await.expect("json");
        assert!(status.is_success(), "{path}: {status} {out}");
        out
    }

    async fn get(&self, path: &str) -> Value {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("request");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.expect("json")
    }

    async fn session(&self, body: &Value) -> String {
        self.post(SESSIONS, body).await["session_id"]
            .as_str()
            .expect("session id")
            .to_owned()
    }
}

/// Sessions per second with 16 creations in flight.
async fn creates(server: &Arc<Server>, n: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per = n.div_ceil(16);
    for w in 0..16 {
        let server = server.clone();
        tasks.spawn(async move {
            for i in 0..per {
                server
                    .session(&json!({"user_id": format!("user_{w}_{i}"), "toolkits": ["synth"]}))
                    .await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (per * 16) as f64 / started.elapsed().as_secs_f64()
}

fn report(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    let p50 = percentile(&mut samples, 50.0);
    let p99 = percentile(&mut samples, 99.0);
    println!("{name}: p50 {}, p99 {}", micros(p50), micros(p99));
    (p50, p99)
}

async fn run(args: Args) {
    let origin = upstream().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = StoreConfig::Sqlite {
        path: dir.path().join("bench.db"),
    };
    let server = Arc::new(start(&sqlite, &origin, &dir.path().join("files")).await);

    // 1. Session creation.
    let rate = creates(&server, args.creates).await;
    println!("sessions created per second (SQLite, 16 in flight): {rate:.0}");
    if let Some(url) = &args.pg {
        let schema = format!("bench_{}", std::process::id());
        let pg = StoreConfig::Postgres {
            url: url.clone(),
            schema: Some(schema.clone()),
        };
        let pg_server = Arc::new(start(&pg, &origin, &dir.path().join("files-pg")).await);
        let rate = creates(&pg_server, args.creates).await;
        println!("sessions created per second (PostgreSQL, 16 in flight): {rate:.0}");
        drop(pg_server);
        if let Err(e) = PgStore::drop_schema(url, &schema).await {
            eprintln!("could not drop schema {schema}: {e}");
        }
    }

    // 2. GET …/tools for a session allowing (and preloading) 500 tools.
    let sid = server
        .session(&json!({"user_id": "lister", "toolkits": ["synth"], "preload": {"tools": "all"}}))
        .await;
    let path = format!("{SESSIONS}/{sid}/tools?limit=500");
    let listed = server.get(&path).await;
    let count = listed["items"].as_array().map_or(0, Vec::len);
    assert!(count >= TOOLS, "the session lists {count} tools");
    let rounds = (args.calls / 10).max(10);
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        server.get(&path).await;
        samples.push(t.elapsed());
    }
    report(&format!("GET …/tools ({count} tools)"), samples);

    // 3. /execute over calling the upstream directly.
    let sid = server
        .session(&json!({"user_id": "runner", "toolkits": ["synth"]}))
        .await;
    let exec = format!("{SESSIONS}/{sid}/execute");
    let ping = json!({"tool_slug": "SYNTH_PING", "arguments": {}});
    let direct_client = reqwest::Client::new();
    let direct_url = format!("{origin}/ping");
    for _ in 0..100 {
        direct_client
            .get(&direct_url)
            .send()
            .await
            .expect("upstream")
            .bytes()
            .await
            .expect("body");
        server.post(&exec, &ping).await;
    }
    let (mut direct, mut routed) = (
        Vec::with_capacity(args.calls),
        Vec::with_capacity(args.calls),
    );
    for _ in 0..args.calls {
        let t = Instant::now();
        direct_client
            .get(&direct_url)
            .send()
            .await
            .expect("upstream")
            .bytes()
            .await
            .expect("body");
        direct.push(t.elapsed());
        let t = Instant::now();
        let out = server.post(&exec, &ping).await;
        routed.push(t.elapsed());
        assert_eq!(out["result_type"], "completed", "{out}");
    }
    let (d50, d99) = report("upstream directly", direct);
    let (r50, r99) = report("through /execute", routed);
    println!(
        "added by /execute: p50 {}, p99 {}",
        micros(r50.saturating_sub(d50)),
        micros(r99.saturating_sub(d99))
    );

    // 4. COMPOSIO_MULTI_EXECUTE_TOOL: 50 calls of 50 ms each.
    let items: Vec<Value> = (0..MULTI)
        .map(|_| json!({"tool_slug": "SYNTH_SLOW", "arguments": {}}))
        .collect();
    let multi = json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"tools": items}});
    server.post(&exec, &multi).await;
    let mut totals = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = server.post(&exec, &multi).await;
        totals.push(t.elapsed());
        assert_eq!(out["data"]["success_count"], MULTI, "{out}");
    }
    let (m50, _) = report(
        &format!("COMPOSIO_MULTI_EXECUTE_TOOL, {MULTI} × 50 ms (5 runs)"),
        totals,
    );
    println!("multi-execute total (median of 5): {} ms", m50.as_millis());
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        eprintln!("usage: sessions [--creates N] [--calls N] [--pg postgres://…]");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(args));
    ExitCode::SUCCESS
}
