//! Measures the per-session MCP endpoint end to end, in process over real HTTP (the server on
//! 127.0.0.1:0, keep-alive reqwest clients sending the JSON-RPC POSTs any Streamable HTTP client
//! sends, a loopback axum upstream):
//!
//! 1. `tools/list` requests per second and p50/p99 latency at 64 concurrent clients, for a
//!    session preloading 10 tools (plus its meta tools). Target: ≥ 5,000 req/s on 2 cores;
//! 2. `tools/call` of a tool whose upstream (loopback) answers at once: the same figures.
//!
//! `cargo run --release -p toolrouter-bench --bin mcp -- [--requests N] [--clients N]`
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
use toolrouter_store::{ConnectOptions, StoreConfig};
use toolrouter_vault::Keyring;

const KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const SESSIONS: &str = "/api/v3.1/tool_router/session";
const TOOLS: usize = 20;
const PRELOADED: usize = 10;

struct Args {
    requests: usize,
    clients: usize,
}

fn parse_args() -> Option<Args> {
    let mut args = Args {
        requests: 50_000,
        clients: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next()?;
        match flag.as_str() {
            "--requests" => args.requests = value.parse().ok()?,
            "--clients" => args.clients = value.parse().ok().filter(|c| *c > 0)?,
            _ => return None,
        }
    }
    Some(args)
}

/// The loopback upstream: `/ping` answers at once.
async fn upstream() -> String {
    let router = axum::Router::new().route(
        "/ping",
        axum::routing::get(|| async { axum::Json(json!({"ok": true, "n": 1})) }),
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

/// One no-auth toolkit: `SYNTH_TOOL_0` … `SYNTH_TOOL_19`, each a GET of the upstream's `/ping`.
fn catalog(origin: &str) -> ToolCatalog {
    let tools: Vec<Value> = (0..TOOLS)
        .map(|i| {
            json!({
                "slug": format!("SYNTH_TOOL_{i}"), "name": format!("Tool {i}"),
                "description": format!("Fetch record kind {i} of the synthetic service and return it with its fields."),
                "tags": ["readOnlyHint", "idempotentHint"],
                "input": {"type": "object", "properties": {"id": {"type": "string", "description": "The record id."}}},
                "http": {"method": "GET", "path": "/ping"}
            })
        })
        .collect();
    let def = json!({"slug": "synth", "name": "Synth", "description": "A synthetic service for benchmarks.",
                     "base_url": "https://synth.invalid", "auth_schemes": [], "tools": tools});
    ToolCatalog::new(
        Catalog::from_sources([("synth.json".to_owned(), def.to_string())]).expect("toolkit"),
        BTreeMap::from([("synth".to_owned(), origin.to_owned())]),
    )
    .expect("catalog")
}

/// Starts the server; returns the session's `mcp.url`, the key and a stop handle.
async fn start(
    origin: &str,
    dir: &std::path::Path,
) -> (String, String, tokio::sync::oneshot::Sender<()>) {
    let store = toolrouter_store::connect(
        &StoreConfig::Sqlite {
            path: dir.join("bench.db"),
        },
        &ConnectOptions {
            max_connections: 16,
            ..ConnectOptions::default()
        },
    )
    .await
    .expect("store");
    let mut config = AppConfig {
        files_root: dir.join("files"),
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
    let preload: Vec<String> = (0..PRELOADED).map(|i| format!("SYNTH_TOOL_{i}")).collect();
    let session: Value = reqwest::Client::new()
        .post(format!("{base}{SESSIONS}"))
        .header("x-api-key", &key)
        .json(&json!({"user_id": "bench", "toolkits": ["synth"], "preload": {"tools": preload}}))
        .send()
        .await
        .expect("create session")
        .json()
        .await
        .expect("session json");
    let url = session["mcp"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no mcp.url: {session}"))
        .to_owned();
    (url, key, tx)
}

/// POSTs one JSON-RPC message the way a Streamable HTTP client does.
async fn post(client: &reqwest::Client, url: &str, key: &str, body: &str) -> reqwest::Response {
    client
        .post(url)
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

/// One JSON-RPC request; panics unless it answered a result.
async fn rpc(client: &reqwest::Client, url: &str, key: &str, body: &str) -> Value {
    let res = post(client, url, key, body).await;
    let status = res.status();
    let out: Value = res.json().await.expect("json");
    assert!(
        status.is_success() && out.get("result").is_some(),
        "{status} {out}"
    );
    out
}

/// One request of the load loop: the load generator checks the status and that the answer is a
/// JSON-RPC result without parsing it (parsing 16 tool schemas per answer would measure the
/// generator, which shares the two cores with the server).
async fn rpc_raw(client: &reqwest::Client, url: &str, key: &str, body: &str) {
    let res = post(client, url, key, body).await;
    let status = res.status();
    let out = res.bytes().await.expect("body");
    assert!(
        status.is_success() && out.windows(9).any(|w| w == b"\"result\":"),
        "{status} {}",
        String::from_utf8_lossy(&out)
    );
}

/// `requests` POSTs of `body` from `clients` concurrent clients (one connection each):
/// requests per second and every latency.
async fn load(
    url: &str,
    key: &str,
    body: &str,
    requests: usize,
    clients: usize,
) -> (f64, Vec<Duration>) {
    let per = requests.div_ceil(clients);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (url, key, body) = (url.to_owned(), key.to_owned(), body.to_owned());
        tasks.spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let mut samples = Vec::with_capacity(per);
            for _ in 0..per {
                let t = Instant::now();
                rpc_raw(&client, &url, &key, &body).await;
                samples.push(t.elapsed());
            }
            samples
        });
    }
    let mut all = Vec::with_capacity(per * clients);
    while let Some(done) = tasks.join_next().await {
        all.extend(done.expect("client task"));
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    (rate, all)
}

fn report(name: &str, rate: f64, mut samples: Vec<Duration>) {
    let p50 = percentile(&mut samples, 50.0);
    let p99 = percentile(&mut samples, 99.0);
    println!(
        "{name}: {rate:.0} req/s, p50 {}, p99 {} ({} requests)",
        micros(p50),
        micros(p99),
        samples.len()
    );
}

async fn run(args: Args) {
    let origin = upstream().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, key, _stop) = start(&origin, dir.path()).await;
    let client = reqwest::Client::new();

    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let listed = rpc(&client, &url, &key, &list).await;
    let count = listed["result"]["tools"].as_array().map_or(0, Vec::len);
    assert!(count > PRELOADED, "the session lists {count} tools");
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "SYNTH_TOOL_0", "arguments": {"id": "r1"}}})
    .to_string();
    let called = rpc(&client, &url, &key, &call).await;
    assert_eq!(called["result"]["isError"], false, "{called}");

    // Warm-up: connections, caches, the validator of the tool's input schema.
    let warm = (args.requests / 20).max(args.clients);
    load(&url, &key, &list, warm, args.clients).await;
    load(&url, &key, &call, warm, args.clients).await;

    let (rate, samples) = load(&url, &key, &list, args.requests, args.clients).await;
    report(
        &format!("tools/list ({count} tools), {} clients", args.clients),
        rate,
        samples,
    );
    let (rate, samples) = load(&url, &key, &call, args.requests, args.clients).await;
    report(
        &format!("tools/call (loopback upstream), {} clients", args.clients),
        rate,
        samples,
    );
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        eprintln!("usage: mcp [--requests N] [--clients N]");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(args));
    ExitCode::SUCCESS
}
