//! Server benchmarks for the foundation: idle RSS, start-to-ready on an existing database, and
//! the cheapest authenticated route under load from a second process (`wrk`), on SQLite and
//! PostgreSQL. Prints a Markdown table for BENCHMARKS.md.
//!
//! Usage (after `cargo build --release -p toolrouter`):
//! `cargo run --release -p toolrouter-bench --bin server -- [--bin target/release/toolrouter]
//!  [--pg postgres://postgres@127.0.0.1:5432/test] [--duration 10] [--connections 64]`
#![expect(clippy::print_stdout, reason = "a benchmark prints its report")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Args {
    bin: PathBuf,
    pg: Option<String>,
    duration: u64,
    connections: u32,
    starts: usize,
    /// wrk's threads: each is a load-generating process thread competing with the server for
    /// the same two cores.
    wrk_threads: u32,
}

fn parse_args() -> Args {
    let mut a = Args {
        bin: PathBuf::from("target/release/toolrouter"),
        pg: None,
        duration: 10,
        connections: 64,
        starts: 20,
        wrk_threads: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => a.bin = value().into(),
            "--pg" => a.pg = Some(value()),
            "--duration" => a.duration = value().parse().expect("seconds"),
            "--connections" => a.connections = value().parse().expect("count"),
            "--starts" => a.starts = value().parse().expect("count"),
            "--wrk-threads" => a.wrk_threads = value().parse().expect("count"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server and returns once its "ready" log line names the bound address.
fn start(bin: &Path, data: &Path, extra: &[&str]) -> (Server, Duration) {
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--log",
            "warn,toolrouter=info",
        ])
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .env_remove("TOOLROUTER_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn toolrouter (build it with cargo build --release -p toolrouter)");
    let stderr = child.stderr.take().expect("piped");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before ready")
            .expect("read log");
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if v["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("toolrouter ready on"))
        {
            break v["addr"]
                .as_str()
                .expect("addr")
                .parse()
                .expect("socket addr");
        }
    };
    let ready = t0.elapsed();
    // Keep draining logs so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Server { child, addr }, ready)
}

fn http_get(addr: SocketAddr, path: &str, key: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: x\r\nx-api-key: {key}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Load {
    rps: f64,
    p50: String,
    p99: String,
    errors: String,
}

fn wrk(addr: SocketAddr, path: &str, key: &str, args: &Args) -> Load {
    let out = Command::new("wrk")
        .args([
            &format!("-t{}", args.wrk_threads),
            &format!("-c{}", args.connections),
            &format!("-d{}s", args.duration),
            "--latency",
        ])
        .args(["-H", &format!("x-api-key: {key}")])
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("run wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_owned()))
            .unwrap_or_else(|| "-".to_owned())
    };
    let errors = text
        .lines()
        .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    Load {
        rps: field("Requests/sec:").parse().unwrap_or(0.0),
        p50: field("50%"),
        p99: field("99%"),
        errors: if errors.is_empty() {
            "none".to_owned()
        } else {
            errors
        },
    }
}

fn main() {
    let args = parse_args();
    let dir = std::env::temp_dir().join(format!("toolrouter-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rows = Vec::new();

    let mut backends: Vec<(&str, Vec<String>)> = vec![("SQLite", vec![])];
    if let Some(pg) = &args.pg {
        let schema = format!("bench_{}", std::process::id());
        backends.push((
            "PostgreSQL",
            vec![
                "--database-url".into(),
                pg.clone(),
                "--database-schema".into(),
                schema,
            ],
        ));
    }
    for (name, extra) in &backends {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let data = dir.join(name);
        // First start creates the database, the project and the key.
        drop(start(&args.bin, &data, &extra));
        let key = std::fs::read_to_string(data.join("api-key"))
            .expect("api-key file")
            .trim()
            .to_owned();
        let mut readies = Vec::new();
        for _ in 0..args.starts {
            let (s, ready) = start(&args.bin, &data, &extra);
            readies.push(ready.as_secs_f64() * 1000.0);
            drop(s);
        }
        let (server, _) = start(&args.bin, &data, &extra);
        std::thread::sleep(Duration::from_secs(2));
        let idle_rss = rss_kib(server.child.id());
        assert!(http_get(server.addr, "/api/v3.1/auth/whoami", &key).starts_with("HTTP/1.1 200"));
        let whoami = wrk(server.addr, "/api/v3.1/auth/whoami", &key, &args);
        let project = wrk(server.addr, "/api/v3.1/project", &key, &args);
        let loaded_rss = rss_kib(server.child.id());
        rows.push(format!(
            "| {name} | {:.1} MB | {:.1} MB | {:.1} ms | {:.0} | {} | {} | {:.0} | {} | {} | {} / {} |",
            idle_rss as f64 / 1024.0,
            loaded_rss as f64 / 1024.0,
            median(readies),
            whoami.rps,
            whoami.p50,
            whoami.p99,
            project.rps,
            project.p50,
            project.p99,
            whoami.errors,
            project.errors,
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "wrk -t{} -c{} -d{}s from a second process on the same 2-core machine; start-to-ready = median of {} starts on an existing database\n",
        args.wrk_threads, args.connections, args.duration, args.starts
    );
    println!(
        "| backend | idle RSS | RSS after load | start to ready (p50) | whoami req/s | p50 | p99 | /project req/s | p50 | p99 | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
