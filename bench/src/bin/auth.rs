//! Measures the per-call cost of credentials and the coalescing of token refreshes:
//!
//! 1. decrypt + inject: open an account's sealed credentials (XChaCha20-Poly1305, JSON) and plan
//!    the request that carries them (header injection), as every tool call does. Target: at
//!    most 20 µs per call.
//! 2. refresh coalescing: 100 concurrent tool calls on an account whose access token just
//!    expired, through the real `App` on SQLite, against a local token endpoint that counts
//!    requests. Target: exactly 1 refresh.
//!
//! `cargo run --release -p toolrouter-bench --bin auth -- [--calls N]`
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(clippy::print_stderr, reason = "usage errors go to stderr")]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use toolrouter_app::auth::configs::{AuthConfigKind, NewAuthConfig};
use toolrouter_app::execute::ToolExecution;
use toolrouter_app::{App, AppConfig, Caller, ToolCatalog};
use toolrouter_catalog::Catalog;
use toolrouter_core::{AccountStatus, ConnectedAccount, ConnectedAccountId, Timestamp};
use toolrouter_exec::{Credentials, OutboundPolicy, PlanInput, plan};
use toolrouter_store::{ConnectOptions, StoreConfig};
use toolrouter_vault::{Keyring, SecretFields};

const KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e6)
}

/// Part 1: open + plan, per call.
fn decrypt_and_inject(calls: usize) -> (Duration, Duration, Duration) {
    let ring = Keyring::parse(KEY).expect("valid key");
    let id = ConnectedAccountId::generate();
    let aad = ConnectedAccount::aad(&id);
    let mut fields = SecretFields::new();
    fields.insert(
        "access_token",
        SecretString::from(format!("gho_{}", "x".repeat(36))),
    );
    fields.insert(
        "refresh_token",
        SecretString::from(format!("ghr_{}", "y".repeat(76))),
    );
    let sealed = ring.seal_fields(&aad, &fields).expect("seal");
    let catalog = Catalog::builtin().expect("built-in catalog");
    let (toolkit, tool) = catalog
        .toolkit("github")
        .and_then(|tk| {
            tk.tools
                .iter()
                .find(|t| t.http.path == "/user")
                .or_else(|| tk.tools.first())
                .map(|t| (tk.clone(), t.clone()))
        })
        .expect("github toolkit");
    let scheme = toolkit
        .auth_schemes
        .iter()
        .find(|s| s.kind == toolrouter_catalog::AuthKind::Oauth2)
        .expect("github has OAuth2")
        .clone();
    let args = json!({});
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        let opened = ring.open_fields(&aad, &sealed).expect("open");
        let mut creds = Credentials::new();
        for (k, v) in opened.iter() {
            creds = creds.with_secret(k.to_owned(), v.clone());
        }
        let input = PlanInput {
            toolkit: &toolkit,
            tool: &tool,
            arguments: &args,
            base_url: &toolkit.base_url,
            auth: Some(&scheme),
            credentials: &creds,
        };
        let planned = plan(&input).expect("plan");
        black_box(planned.headers.get("authorization"));
        times.push(start.elapsed());
    }
    times.sort();
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.iter().sum::<Duration>() / calls as u32,
    )
}

/// A minimal HTTP/1.1 server: `POST /token` (a refresh; counted, 20 ms) and `GET /api/me`.
async fn token_server(refreshes: Arc<AtomicU32>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                continue;
            };
            let refreshes = refreshes.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read headers (and a small body).
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&buf).into_owned();
                let body = if text.starts_with("POST /token") {
                    let n = refreshes.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    json!({"access_token": format!("bench_at_{n}"), "token_type": "Bearer",
                           "expires_in": 3600, "refresh_token": format!("bench_rt_{n}")})
                    .to_string()
                } else {
                    json!({"login": "bench"}).to_string()
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    addr
}

/// Part 2: 100 concurrent calls on an expired token through the real App.
async fn coalescing() -> (u32, Duration) {
    let refreshes = Arc::new(AtomicU32::new(0));
    let addr = token_server(refreshes.clone()).await;
    let origin = format!("http://{addr}");
    let def = json!({
        "slug": "benchco", "name": "BenchCo", "description": "A stand-in service for the benchmark.",
        "base_url": format!("{origin}/api"),
        "auth_schemes": [{"type": "OAUTH2",
            "oauth2": {"authorize_url": format!("{origin}/authorize"), "token_url": format!("{origin}/token")},
            "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {access_token}"}]}],
        "tools": [{"slug": "BENCHCO_ME", "name": "Me", "description": "The authenticated user.",
                   "input": {"type": "object"}, "http": {"method": "GET", "path": "/me"}}]
    });
    let catalog = ToolCatalog::new(
        Catalog::from_sources([("benchco.json".to_owned(), def.to_string())]).expect("toolkit"),
        BTreeMap::new(),
    )
    .expect("catalog");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = toolrouter_store::connect(
        &StoreConfig::Sqlite {
            path: dir.path().join("bench.db"),
        },
        &ConnectOptions::default(),
    )
    .await
    .expect("sqlite");
    let ring = Arc::new(Keyring::parse(KEY).expect("key"));
    let config = AppConfig {
        exec: toolrouter_exec::ExecutorConfig {
            policy: OutboundPolicy::public_only().allow_host("127.0.0.1"),
            ..toolrouter_exec::ExecutorConfig::default()
        },
        ..AppConfig::default()
    };
    let app = App::new(store.clone(), ring.clone(), catalog, &config);
    let boot = app.bootstrap().await.expect("bootstrap").expect("fresh");
    let caller = Caller {
        project_id: boot.project.id.clone(),
        key_id: boot.key.record.id.clone(),
    };
    let ac = app
        .auth_config_create(
            &caller,
            NewAuthConfig {
                toolkit: "benchco".into(),
                kind: AuthConfigKind::Custom,
                name: None,
                auth_scheme: Some("OAUTH2".into()),
                credentials: BTreeMap::from([
                    ("client_id".to_owned(), SecretString::from("bench")),
                    (
                        "client_secret".to_owned(),
                        SecretString::from("bench-secret"),
                    ),
                ]),
                scopes: None,
            },
        )
        .await
        .expect("auth config");
    let id = ConnectedAccountId::generate();
    let mut secrets = SecretFields::new();
    secrets.insert("access_token", SecretString::from("expired_at"));
    secrets.insert("refresh_token", SecretString::from("bench_rt_first"));
    let now = Timestamp::now();
    let account = ConnectedAccount {
        sealed: Some(
            ring.seal_fields(&ConnectedAccount::aad(&id), &secrets)
                .expect("seal"),
        ),
        id,
        project_id: caller.project_id.clone(),
        user_id: "bench-user".into(),
        toolkit: "benchco".into(),
        auth_config_id: ac.config.id.clone(),
        status: AccountStatus::Active,
        status_reason: None,
        alias: None,
        disabled: false,
        params: BTreeMap::new(),
        expires_at: Some(Timestamp(now.millis() - 1000)),
        version: 1,
        callback_url: None,
        link_hash: None,
        link_expires_at: None,
        connected_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    store.account_insert(&account).await.expect("account");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let app = app.clone();
        let caller = caller.clone();
        tasks.push(tokio::spawn(async move {
            app.tool_execute(
                &caller,
                "BENCHCO_ME",
                ToolExecution {
                    user_id: Some("bench-user".into()),
                    arguments: json!({}),
                    ..ToolExecution::default()
                },
            )
            .await
        }));
    }
    for t in tasks {
        let r = t.await.expect("join").expect("execute");
        assert!(r.successful, "{r:?}");
    }
    (refreshes.load(Ordering::SeqCst), start.elapsed())
}

fn main() -> ExitCode {
    let mut calls = 100_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--calls", Some(n)) if n.parse::<usize>().is_ok() => {
                calls = n.parse().unwrap_or(calls)
            }
            _ => {
                eprintln!("usage: auth [--calls N]");
                return ExitCode::FAILURE;
            }
        }
    }
    let (p50, p99, mean) = decrypt_and_inject(calls);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (refreshes, wall) = rt.block_on(coalescing());
    println!("`cargo run --release -p toolrouter-bench --bin auth -- --calls {calls}`\n");
    println!("| measure | result | target |");
    println!("|---|---|---|");
    println!(
        "| decrypt + header injection, p50 ({calls} calls) | {} µs | ≤ 20 µs |",
        us(p50)
    );
    println!("| decrypt + header injection, p99 | {} µs | |", us(p99));
    println!("| decrypt + header injection, mean | {} µs | |", us(mean));
    println!(
        "| refreshes for 100 concurrent calls on an expired token | {refreshes} | exactly 1 |"
    );
    println!(
        "| wall time of those 100 calls (SQLite, loopback) | {:.1} ms | |",
        wall.as_secs_f64() * 1e3
    );
    if refreshes == 1 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
