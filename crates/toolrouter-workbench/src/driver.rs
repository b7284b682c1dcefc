//! The host end of the driver protocol (`driver.py`): JSON lines over the driver's stdin and
//! stdout, one reply per request, matched by id.
//!
//! Time limits are enforced here: when a call overruns, an `interrupt` message makes the driver
//! raise `KeyboardInterrupt` in the running code; if the code still has not answered after the
//! grace period the caller kills the sandbox. A caller that gives up (its future is dropped)
//! interrupts its call the same way, and a reply to an abandoned call is skipped by id.
//! Everything read from the driver is untrusted (code in the sandbox can write to the protocol
//! pipe): lines are bounded and a malformed one ends the sandbox.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::Mutex;

/// The driver source, written into the runtime directory and mounted read-only.
pub(crate) const SOURCE: &str = include_str!("driver.py");

/// Longest reply accepted: three outputs of at most `MAX_OFFLOAD_THRESHOLD` bytes, JSON-escaped
/// (worst case six bytes per byte), plus slack.
const MAX_LINE_BYTES: usize = 3 * 6 * MAX_OFFLOAD_THRESHOLD + (1 << 20);
/// Cap on per-call output kept inline.
pub(crate) const MAX_OFFLOAD_THRESHOLD: usize = 4 << 20;

/// `exec` reply.
#[derive(Debug, Deserialize)]
pub(crate) struct ExecReply {
    pub(crate) results: String,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) error: Option<String>,
    pub(crate) results_file: Option<String>,
    pub(crate) stdout_file: Option<String>,
    pub(crate) stderr_file: Option<String>,
    pub(crate) interrupted: bool,
}

/// `bash` reply.
#[derive(Debug, Deserialize)]
pub(crate) struct BashReply {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) stdout_lines: u64,
    pub(crate) stderr_lines: u64,
    pub(crate) exit_code: Option<i32>,
    pub(crate) error: Option<String>,
    pub(crate) stdout_file: Option<String>,
    pub(crate) stderr_file: Option<String>,
    pub(crate) interrupted: bool,
}

/// A request; `id` is filled in by [`DriverIo::call`].
#[derive(Debug, Clone)]
pub(crate) enum Request<'a> {
    Exec { code: &'a str, offload: usize },
    Bash { command: &'a str, offload: usize },
}

/// How a call ended.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// The driver answered (`timed_out`: only after being interrupted).
    Reply { reply: T, timed_out: bool },
    /// The driver's stdout closed or its stdin broke: the sandbox is gone.
    Dead,
    /// The call overran its limit and ignored the interrupt; the caller must kill the sandbox.
    Unresponsive,
    /// The driver wrote something that is not a reply; the caller must kill the sandbox.
    Garbled(String),
}

#[derive(Debug)]
pub(crate) struct DriverIo {
    stdin: Arc<Mutex<ChildStdin>>,
    stdout: BufReader<ChildStdout>,
    /// A partial line survives a cancelled read here.
    partial: Vec<u8>,
    next_id: u64,
}

enum ReadError {
    Eof,
    Garbled(String),
}

impl DriverIo {
    pub(crate) fn new(stdin: ChildStdin, stdout: ChildStdout) -> DriverIo {
        DriverIo {
            stdin: Arc::new(Mutex::new(stdin)),
            stdout: BufReader::with_capacity(1 << 16, stdout),
            partial: Vec::new(),
            next_id: 0,
        }
    }

    /// Sends `init` and waits for `ready`.
    pub(crate) async fn handshake(&mut self, init: Value, limit: Duration) -> io::Result<()> {
        self.send(&init).await?;
        let line = tokio::time::timeout(limit, self.read_line())
            .await
            .map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, "the driver was not ready in time")
            })?;
        match line {
            Ok(line) => match serde_json::from_slice::<Value>(&line) {
                Ok(v) if v.get("op").and_then(Value::as_str) == Some("ready") => Ok(()),
                _ => Err(io::Error::other(
                    "the driver's first message was not `ready`",
                )),
            },
            Err(ReadError::Eof) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the driver exited during start-up",
            )),
            Err(ReadError::Garbled(e)) => Err(io::Error::other(e)),
        }
    }

    /// Runs one request under `limit`, interrupting it when it overruns.
    pub(crate) async fn call<T: DeserializeOwned>(
        &mut self,
        request: Request<'_>,
        limit: Duration,
        grace: Duration,
    ) -> Outcome<T> {
        self.next_id += 1;
        let id = self.next_id;
        let message = match request {
            Request::Exec { code, offload } => {
                json!({"op": "exec", "id": id, "code": code, "offload": offload})
            }
            Request::Bash { command, offload } => {
                json!({"op": "bash", "id": id, "command": command, "offload": offload})
            }
        };
        if self.send(&message).await.is_err() {
            return Outcome::Dead;
        }
        // If this future is dropped from here on, the guard interrupts the abandoned call.
        let mut guard = InterruptOnDrop {
            stdin: Some(Arc::clone(&self.stdin)),
            id,
        };
        let outcome = match tokio::time::timeout(limit, self.reply::<T>(id)).await {
            Ok(r) => Self::outcome(r, false),
            Err(_) => {
                if self.send(&interrupt(id)).await.is_err() {
                    guard.disarm();
                    return Outcome::Dead;
                }
                match tokio::time::timeout(grace, self.reply::<T>(id)).await {
                    Ok(r) => Self::outcome(r, true),
                    Err(_) => Outcome::Unresponsive,
                }
            }
        };
        guard.disarm();
        outcome
    }

    fn outcome<T>(r: Result<T, ReadError>, timed_out: bool) -> Outcome<T> {
        match r {
            Ok(reply) => Outcome::Reply { reply, timed_out },
            Err(ReadError::Eof) => Outcome::Dead,
            Err(ReadError::Garbled(e)) => Outcome::Garbled(e),
        }
    }

    /// The reply to call `id`, skipping replies to earlier (abandoned) calls.
    async fn reply<T: DeserializeOwned>(&mut self, id: u64) -> Result<T, ReadError> {
        loop {
            let line = self.read_line().await?;
            let value: Value = serde_json::from_slice(&line)
                .map_err(|e| ReadError::Garbled(format!("driver sent invalid JSON: {e}")))?;
            match value.get("id").and_then(Value::as_u64) {
                Some(got) if got == id => {
                    return serde_json::from_value(value).map_err(|e| {
                        ReadError::Garbled(format!("driver reply has the wrong shape: {e}"))
                    });
                }
                Some(got) if got < id => continue,
                _ => {
                    return Err(ReadError::Garbled(
                        "driver reply with an unexpected id".into(),
                    ));
                }
            }
        }
    }

    /// One line, without its newline. Cancel-safe: bytes read so far stay in `partial`.
    async fn read_line(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            let chunk = self.stdout.fill_buf().await.map_err(|_| ReadError::Eof)?;
            if chunk.is_empty() {
                return Err(ReadError::Eof);
            }
            if let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
                self.partial.extend_from_slice(&chunk[..pos]);
                self.stdout.consume(pos + 1);
                return Ok(std::mem::take(&mut self.partial));
            }
            let n = chunk.len();
            self.partial.extend_from_slice(chunk);
            self.stdout.consume(n);
            if self.partial.len() > MAX_LINE_BYTES {
                return Err(ReadError::Garbled(
                    "driver reply exceeds the size limit".into(),
                ));
            }
        }
    }

    async fn send(&self, message: &Value) -> io::Result<()> {
        let mut line = serde_json::to_vec(message).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut stdin = self.stdin.lock().await;
        stdin.write_all(&line).await?;
        stdin.flush().await
    }
}

fn interrupt(id: u64) -> Value {
    json!({"op": "interrupt", "id": id})
}

/// Interrupts an abandoned call (its future was dropped mid-flight).
struct InterruptOnDrop {
    stdin: Option<Arc<Mutex<ChildStdin>>>,
    id: u64,
}

impl InterruptOnDrop {
    fn disarm(&mut self) {
        self.stdin = None;
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        let Some(stdin) = self.stdin.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut line = interrupt(self.id).to_string();
        line.push('\n');
        runtime.spawn(async move {
            let mut stdin = stdin.lock().await;
            // A dead driver is noticed by the next call.
            let _ = stdin.write_all(line.as_bytes()).await;
            let _ = stdin.flush().await;
        });
    }
}
