//! Spawning the real `toolrouter` binary for tests: waits for its "ready" log line, learns the
//! bound address from it (tests always listen on port 0), and keeps stdout and stderr for
//! assertions.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_toolrouter")
}

/// Runs a short command to completion, with a clean `TOOLROUTER_*` environment.
pub(crate) fn bin(args: &[&str]) -> Output {
    let mut cmd = Command::new(exe());
    clean_env(&mut cmd);
    cmd.args(args).output().expect("run toolrouter")
}

pub(crate) fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("TOOLROUTER_") {
            cmd.env_remove(k);
        }
    }
}

/// The PostgreSQL URL for tests; fails (never skips silently) when missing, as the store suite.
pub(crate) fn pg_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(u) => Some(u),
        Err(_) if std::env::var("TOOLROUTER_SKIP_PG").as_deref() == Ok("1") => {
            #[expect(
                clippy::print_stderr,
                reason = "an explicit skip must be visible in test output"
            )]
            {
                eprintln!("SKIPPED: PostgreSQL binary test (TOOLROUTER_SKIP_PG=1)");
            }
            None
        }
        Err(_) => {
            panic!("TEST_DATABASE_URL is not set (or set TOOLROUTER_SKIP_PG=1 to skip explicitly)")
        }
    }
}

pub(crate) struct Proc {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) base: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    client: reqwest::Client,
}

fn collect(mut r: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
}

impl Proc {
    /// `toolrouter serve` on 127.0.0.1:0 with JSON logs; returns once it is ready.
    pub(crate) async fn serve(data_dir: &Path, extra: &[&str]) -> Proc {
        let mut cmd = Command::new(exe());
        clean_env(&mut cmd);
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn toolrouter");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        collect(child.stdout.take().unwrap(), stdout.clone());
        let err_pipe = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<(SocketAddr, bool)>();
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&line);
                log.lock().unwrap().push('\n');
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(msg) = v["message"].as_str()
                    && msg.starts_with("toolrouter ready on ")
                {
                    let addr = v["addr"].as_str().unwrap().parse().unwrap();
                    let _ = tx.send((addr, msg.contains("https://")));
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let (addr, tls) = loop {
            if let Ok(found) = rx.try_recv() {
                break found;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "toolrouter exited early ({status}): {}",
                    stderr.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "toolrouter not ready: {}",
                stderr.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let scheme = if tls { "https" } else { "http" };
        Proc {
            child,
            addr,
            base: format!("{scheme}://{addr}"),
            stdout,
            stderr,
            client: reqwest::Client::new(),
        }
    }

    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub(crate) fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub(crate) async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub(crate) fn signal_term(&mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok);
    }

    pub(crate) fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("wait")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
