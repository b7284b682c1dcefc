//! Measures the workbench on this machine through its public API: cold start to first result,
//! warm round trips (Python and bash), idle memory per sandbox, and 20 sandboxes at once
//! (concurrent cold starts, then concurrent warm calls), and the warm round trip through the
//! API (`POST …/{sid}/execute` of `COMPOSIO_REMOTE_WORKBENCH` over HTTP, with the Rust client,
//! against the real server in process). Prints Markdown.
//!
//! Needs root, bubblewrap and cgroups (the isolation in force is printed with the results):
//! `cargo run --release -p toolrouter-bench --bin workbench -- [--cold N] [--warm N] [--sandboxes N]
//! [--api N] [--no-cgroups]`
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(clippy::print_stderr, reason = "usage errors go to stderr")]

use std::os::unix::fs::PermissionsExt;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use toolrouter_bench::metrics::{micros, percentile};
use toolrouter_core::SessionId;
use toolrouter_workbench::{
    Capacity, CgroupPreference, ExecOptions, NoTools, SandboxSpec, Workbench, WorkbenchConfig,
};

struct Args {
    cold: usize,
    warm: usize,
    sandboxes: usize,
    /// Warm calls through the HTTP API.
    api: usize,
    /// Rlimits instead of cgroups, to show what joining cgroups costs a cold start.
    no_cgroups: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        cold: 40,
        warm: 2000,
        sandboxes: 20,
        api: 2000,
        no_cgroups: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = || -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--cold" => args.cold = number()?,
            "--warm" => args.warm = number()?,
            "--sandboxes" => args.sandboxes = number()?,
            "--api" => args.api = number()?,
            "--no-cgroups" => args.no_cgroups = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// Sums a `/proc/<pid>/…` field (in kB) over the live processes of `uid`.
fn uid_memory_kib(uid: u32, file: &str, field: &str) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let owner = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next());
        if owner != Some(uid.to_string().as_str()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path().join(file)) else {
            continue;
        };
        let kib = text
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        total += kib;
    }
    total
}

async fn call(wb: &Workbench, session: &SessionId, code: &str) -> Duration {
    let start = Instant::now();
    let out = wb
        .python(
            session,
            SandboxSpec::default(),
            code,
            ExecOptions::default(),
        )
        .await
        .expect("call runs");
    let took = start.elapsed();
    assert_eq!(out.error, None, "{code}: {:?}", out.error);
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("workbench bench: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).expect("chmod");
    let mut config = WorkbenchConfig::new(dir.path().join("files"), dir.path().join("run"));
    if args.no_cgroups {
        config.cgroups = CgroupPreference::Disabled;
    }
    config.cgroup_name = format!("toolrouter-wb-bench-{}", std::process::id());
    config.max_sandboxes = args.sandboxes.max(1) as u32 + 1;
    // Every sandbox here is a 1 vCPU / 1 GiB "standard": reserve room for all of them.
    config.capacity = Capacity {
        vcpus: config.max_sandboxes,
        ..Capacity::detect()
    };
    let wb = match Workbench::new(config.clone(), Arc::new(NoTools)).await {
        Ok(wb) => wb,
        Err(e) => {
            eprintln!("workbench bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let host_cpus = std::thread::available_parallelism().map_or(1, |n| n.get());

    // Cold start: a new session's first call, sandbox start included.
    let mut cold = Vec::with_capacity(args.cold);
    for _ in 0..args.cold {
        let s = SessionId::generate();
        cold.push(call(&wb, &s, "1").await);
        wb.destroy(&s).await.expect("destroy");
    }

    // Warm round trips on one sandbox.
    let s = SessionId::generate();
    for i in 0..50 {
        call(&wb, &s, &format!("y = {i} * 2\ny")).await;
    }
    let mut warm = Vec::with_capacity(args.warm);
    for i in 0..args.warm {
        warm.push(call(&wb, &s, &format!("y = {i} * 2\ny")).await);
    }
    let mut warm_bash = Vec::with_capacity(200);
    for _ in 0..200 {
        let start = Instant::now();
        wb.bash(&s, SandboxSpec::default(), "true", ExecOptions::default())
            .await
            .expect("bash runs");
        warm_bash.push(start.elapsed());
    }
    wb.destroy(&s).await.expect("destroy");

    // N sandboxes at once: concurrent cold starts.
    let sessions: Vec<SessionId> = (0..args.sandboxes).map(|_| SessionId::generate()).collect();
    let start = Instant::now();
    let handles: Vec<_> = sessions
        .iter()
        .map(|s| {
            let (wb, s) = (wb.clone(), s.clone());
            tokio::spawn(async move { call(&wb, &s, "1").await })
        })
        .collect();
    let mut concurrent_cold = Vec::new();
    for h in handles {
        concurrent_cold.push(h.await.expect("task"));
    }
    let all_up = start.elapsed();
    assert_eq!(wb.status().running as usize, args.sandboxes);

    // Idle memory, after the sandboxes settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (mut cgroup_bytes, mut rss_kib, mut pss_kib, mut counted) = (0u64, 0u64, 0u64, 0u64);
    for s in &sessions {
        let info = wb.sandbox_info(s).await.expect("running");
        cgroup_bytes += info.memory_bytes.unwrap_or(0);
        rss_kib += uid_memory_kib(info.uid, "status", "VmRSS:");
        pss_kib += uid_memory_kib(info.uid, "smaps_rollup", "Pss:");
        counted += 1;
    }
    let counted = counted.max(1);

    // Concurrent warm calls: every sandbox busy at once.
    let per_client = 200;
    let start = Instant::now();
    let handles: Vec<_> = sessions
        .iter()
        .map(|s| {
            let (wb, s) = (wb.clone(), s.clone());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(per_client);
                for i in 0..per_client {
                    times.push(call(&wb, &s, &format!("y = {i} * 2\ny")).await);
                }
                times
            })
        })
        .collect();
    let mut concurrent_warm = Vec::new();
    for h in handles {
        concurrent_warm.extend(h.await.expect("task"));
    }
    let concurrent_wall = start.elapsed();
    let throughput = concurrent_warm.len() as f64 / concurrent_wall.as_secs_f64();
    wb.shutdown().await;

    let mut api = through_the_api(&dir, args.api, args.no_cgroups).await;

    println!("## Workbench (`{}`, {host_cpus} CPUs)\n", wb.isolation());
    println!("| measure | p50 | p90 | p99 | max | n |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, samples: &mut Vec<Duration>, fmt: fn(Duration) -> String| {
        let n = samples.len();
        let (p50, p90, p99, max) = (
            percentile(samples, 50.0),
            percentile(samples, 90.0),
            percentile(samples, 99.0),
            percentile(samples, 100.0),
        );
        println!(
            "| {name} | {} | {} | {} | {} | {n} |",
            fmt(p50),
            fmt(p90),
            fmt(p99),
            fmt(max)
        );
    };
    row("cold start → first result (sequential)", &mut cold, millis);
    row("warm Python round trip (`y = i * 2; y`)", &mut warm, micros);
    row("warm bash round trip (`true`)", &mut warm_bash, micros);
    row(
        &format!("cold start, {} at once", args.sandboxes),
        &mut concurrent_cold,
        millis,
    );
    row(
        &format!(
            "warm Python round trip, {} sandboxes at once",
            args.sandboxes
        ),
        &mut concurrent_warm,
        micros,
    );
    row(
        "warm exec round trip through the API (HTTP `POST …/execute`, `y = i * 2; y`)",
        &mut api,
        micros,
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| {} sandboxes started concurrently, all answered after | {} |",
        args.sandboxes,
        millis(all_up)
    );
    println!(
        "| idle memory per sandbox, cgroup-charged (incl. page cache, tmpfs) | {} |",
        mib(cgroup_bytes / counted)
    );
    println!(
        "| idle memory per sandbox, RSS of its processes | {} |",
        mib(rss_kib * 1024 / counted)
    );
    println!(
        "| idle memory per sandbox, PSS of its processes | {} |",
        mib(pss_kib * 1024 / counted)
    );
    println!(
        "| concurrent warm throughput ({} sandboxes × {per_client} calls) | {throughput:.0} calls/s |",
        args.sandboxes
    );
    println!();
    println!(
        "Command: `cargo run --release -p toolrouter-bench --bin workbench -- --cold {} --warm {} --sandboxes {} --api {}{}` (as root)",
        args.cold,
        args.warm,
        args.sandboxes,
        args.api,
        if args.no_cgroups { " --no-cgroups" } else { "" }
    );
    ExitCode::SUCCESS
}

/// Warm `COMPOSIO_REMOTE_WORKBENCH` calls through the whole server: the Rust client's HTTP
/// request, authentication, session load, the meta tool, the sandbox and the JSON answer.
async fn through_the_api(dir: &tempfile::TempDir, calls: usize, no_cgroups: bool) -> Vec<Duration> {
    use toolrouter_app::{App, AppConfig, ToolCatalog};

    let store = toolrouter_store::connect(
        &toolrouter_store::StoreConfig::Sqlite {
            path: dir.path().join("api.db"),
        },
        &toolrouter_store::ConnectOptions::default(),
    )
    .await
    .expect("sqlite");
    let ring = toolrouter_vault::Keyring::parse("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
        .expect("key");
    let catalog = ToolCatalog::new(
        toolrouter_catalog::Catalog::builtin().expect("catalog"),
        Default::default(),
    )
    .expect("catalog");
    let config = AppConfig {
        files_root: dir.path().join("api-files"),
        ..AppConfig::default()
    };
    let app = App::new(store, Arc::new(ring), catalog, &config);
    let mut wb = WorkbenchConfig::new(dir.path().join("api-files"), dir.path().join("api-run"));
    if no_cgroups {
        wb.cgroups = CgroupPreference::Disabled;
    }
    wb.cgroup_name = format!("toolrouter-wb-bench-api-{}", std::process::id());
    wb.uid_base = 210_000;
    wb.max_sandboxes = 2;
    app.start_workbench(wb).await.expect("workbench starts");
    let boot = app.bootstrap().await.expect("bootstrap").expect("fresh");
    let key = secrecy::ExposeSecret::expose_secret(&boot.key.key).to_owned();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = toolrouter_http::router(app.clone(), &toolrouter_http::HttpConfig::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(toolrouter_http::serve(
        listener,
        router,
        None,
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(1),
    ));
    let client = toolrouter_client::Client::new(key, base).expect("client");
    let session = client
        .create("bench", toolrouter_client::SessionConfig::new())
        .await
        .expect("session");
    let run = async |i: usize| {
        let code = format!("y = {i} * 2\ny");
        let start = Instant::now();
        let out = session
            .execute(
                "COMPOSIO_REMOTE_WORKBENCH",
                serde_json::json!({"code_to_execute": code}),
            )
            .await
            .expect("execute");
        let took = start.elapsed();
        assert!(out.successful, "{:?}", out.error);
        took
    };
    for i in 0..50 {
        run(i).await;
    }
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        samples.push(run(i).await);
    }
    app.workbench_shutdown().await;
    let _ = stop.send(());
    let _ = server.await;
    samples
}
