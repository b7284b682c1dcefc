//! The execution log: every tool run, meta tool call and proxy call is recorded with the
//! `log_id` the caller saw, who ran it (project, session, user, account), how it went (success,
//! error, duration) and its arguments with secret values replaced by `"[redacted]"`.
//!
//! Writing must not slow executions down, so a call only pushes its entry onto an unbounded
//! channel; one background task per `App` drains it and writes whatever has queued up within
//! [`BATCH_WINDOW`] as one batch (one statement), so a burst of calls — a 50-item
//! multi-execute — costs one commit, and a steady stream of calls at most ten a second (each
//! write takes CPU from the calls running beside it: at 10 ms windows the log writes were what
//! set the `/execute` p99, see BENCHMARKS.md). A failed write is logged and dropped: the log is
//! for debugging, never a reason to fail a call. Reads through this process first ask for
//! everything queued before them to be written at once ([`App::execution_log_flush`]), so a
//! caller always sees its own executions; the server flushes before it exits.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};
use toolrouter_core::{ProjectId, Timestamp};
pub use toolrouter_store::ExecutionFilter;
use toolrouter_store::{ExecutionRecord, PageRequest as StorePage, Store};

use toolrouter_core::session::SessionConfig;

use crate::execute::ToolResult;
use crate::large_result::offload_limit;
use crate::page::{Page, PageRequest};
use crate::session::{bad_cursor, keyset_page};
use crate::session_exec::RunOptions;
use crate::{App, AppError, AppResult, Caller};

/// Largest page of `GET …/{sid}/executions`.
pub const EXECUTIONS_MAX_LIMIT: u64 = 100;

/// The replacement of a secret value.
pub const REDACTED: &str = "[redacted]";

/// Most entries written in one statement.
const MAX_BATCH: usize = 256;

/// How long the writer lets entries gather after the first of a batch (a flush ends it early).
const BATCH_WINDOW: Duration = Duration::from_millis(100);

/// A new `log_…` id: UUIDv7, so ids sort by time.
pub(crate) fn log_id() -> String {
    format!("log_{}", uuid::Uuid::now_v7().simple())
}

/// One execution, as recorded.
#[derive(Debug, Clone)]
pub(crate) struct ExecutionEntry {
    pub(crate) log_id: String,
    pub(crate) project_id: ProjectId,
    pub(crate) session_id: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) tool_slug: String,
    pub(crate) connected_account_id: Option<String>,
    pub(crate) successful: bool,
    pub(crate) error: Option<String>,
    pub(crate) duration: Duration,
    /// Already redacted.
    pub(crate) arguments: Value,
}

impl ExecutionEntry {
    /// Takes outcome, account and (redacted) arguments from a finished run.
    pub(crate) fn fill(
        &mut self,
        result: &ToolResult,
        arguments: &Value,
        schema: Option<&Value>,
        started: Instant,
    ) {
        self.log_id = result.log_id.clone();
        self.connected_account_id = result.account.as_ref().map(|a| a.id.to_string());
        self.successful = result.successful;
        self.error = result.error.clone();
        self.duration = started.elapsed();
        self.arguments = redact(arguments, schema);
    }

    pub(crate) fn new(
        caller: &Caller,
        session_id: Option<String>,
        user_id: Option<String>,
        tool_slug: &str,
    ) -> ExecutionEntry {
        ExecutionEntry {
            log_id: String::new(),
            project_id: caller.project_id.clone(),
            session_id,
            user_id,
            tool_slug: tool_slug.to_owned(),
            connected_account_id: None,
            successful: false,
            error: None,
            duration: Duration::ZERO,
            arguments: Value::Object(Default::default()),
        }
    }
}

/// Whether a key names a secret (`api_key`, `X-Auth-Token`, `client_secret`, `password`, …).
pub fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const PARTS: &[&str] = &[
        "token",
        "password",
        "passwd",
        "passphrase",
        "secret",
        "apikey",
        "authorization",
        "credential",
        "privatekey",
        "accesskey",
        "cookie",
        "bearer",
        "signature",
    ];
    PARTS.iter().any(|p| k.contains(p)) || k == "auth" || k == "pin" || k == "otp"
}

/// Whether a JSON Schema property is marked secret (`writeOnly`, `format: password`, or a
/// `secret` / `x-secret` flag).
fn schema_marks_secret(schema: &Value) -> bool {
    schema.get("writeOnly") == Some(&Value::Bool(true))
        || schema.get("secret") == Some(&Value::Bool(true))
        || schema.get("x-secret") == Some(&Value::Bool(true))
        || schema.get("format").and_then(Value::as_str) == Some("password")
}

/// `arguments` with the values of secret-looking keys, and of properties `schema` marks
/// secret, replaced by [`REDACTED`], at any depth.
pub fn redact(arguments: &Value, schema: Option<&Value>) -> Value {
    match arguments {
        Value::Object(map) => {
            let props = schema
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object);
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let sub = props.and_then(|p| p.get(k));
                        let secret = is_secret_key(k) || sub.is_some_and(schema_marks_secret);
                        let value = if secret && !v.is_null() {
                            Value::String(REDACTED.to_owned())
                        } else {
                            redact(v, sub)
                        };
                        (k.clone(), value)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => {
            let sub = schema.and_then(|s| s.get("items"));
            Value::Array(items.iter().map(|v| redact(v, sub)).collect())
        }
        other => other.clone(),
    }
}

enum Message {
    Entry(Box<ExecutionRecord>),
    Flush(oneshot::Sender<()>),
}

/// The channel to the writer task, started on first use (it needs a runtime, which `App::new`
/// may not have).
#[derive(Debug)]
pub(crate) struct ExecutionLog {
    tx: mpsc::UnboundedSender<Message>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Message>>>,
    /// Cuts the writer's gathering window short when a flush is asked for (entries never wake
    /// it: it drains them when the window ends).
    flush_now: Arc<Notify>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Message::Entry(_) => "Entry",
            Message::Flush(_) => "Flush",
        })
    }
}

impl ExecutionLog {
    pub(crate) fn new() -> ExecutionLog {
        let (tx, rx) = mpsc::unbounded_channel();
        ExecutionLog {
            tx,
            rx: Mutex::new(Some(rx)),
            flush_now: Arc::new(Notify::new()),
        }
    }

    fn send(&self, store: &Arc<dyn Store>, message: Message) {
        let start = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(rx) = start {
            match tokio::runtime::Handle::try_current() {
                // The writer holds the store, not the App: when the App goes, the channel
                // closes and the writer ends after draining it.
                Ok(rt) => {
                    rt.spawn(writer(store.clone(), rx, self.flush_now.clone()));
                }
                Err(_) => {
                    tracing::warn!("no async runtime: the execution log is not written");
                    return;
                }
            }
        }
        let flush = matches!(message, Message::Flush(_));
        let _ = self.tx.send(message);
        if flush {
            self.flush_now.notify_one();
        }
    }
}

async fn writer(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    flush_now: Arc<Notify>,
) {
    let mut batch: Vec<ExecutionRecord> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = rx.recv().await {
        if matches!(first, Message::Entry(_)) {
            // Let the calls of a burst gather: one statement per window instead of one per call
            // keeps the database work (and its thread) off the next calls' path. A flush is
            // answered at once.
            tokio::select! {
                () = tokio::time::sleep(BATCH_WINDOW) => {}
                () = flush_now.notified() => {}
            }
        }
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Entry(r) => batch.push(*r),
                Message::Flush(done) => waiting.push(done),
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            if let Err(e) = store.execution_insert(&batch).await {
                tracing::error!(error = %e, count = batch.len(), "execution log write failed");
            }
            batch.clear();
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

/// One execution on the wire of `GET …/{sid}/executions`.
pub type Execution = ExecutionRecord;

impl App {
    /// Queues an execution for the log. Never blocks and never fails the call.
    pub(crate) fn log_execution(&self, entry: ExecutionEntry) {
        tracing::debug!(
            log_id = %entry.log_id,
            tool = %entry.tool_slug,
            session = entry.session_id.as_deref(),
            account = entry.connected_account_id.as_deref(),
            successful = entry.successful,
            duration_ms = entry.duration.as_millis() as u64,
            "execution"
        );
        let record = ExecutionRecord {
            log_id: entry.log_id,
            project_id: entry.project_id,
            session_id: entry.session_id,
            user_id: entry.user_id,
            tool_slug: entry.tool_slug,
            connected_account_id: entry.connected_account_id,
            successful: entry.successful,
            error: entry.error,
            duration_ms: i64::try_from(entry.duration.as_millis()).unwrap_or(i64::MAX),
            arguments: entry.arguments,
            created_at: Timestamp::now(),
        };
        self.inner
            .execution_log
            .send(&self.inner.store, Message::Entry(Box::new(record)));
    }

    /// Records a run of `slug` in a session (meta tools, and app tools through
    /// [`App::run_session_tool`]).
    #[expect(clippy::too_many_arguments, reason = "one record's fields, all needed")]
    pub(crate) fn log_session_run(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &SessionConfig,
        slug: &str,
        arguments: &Value,
        schema: Option<&Value>,
        result: &ToolResult,
        started: Instant,
    ) {
        let mut entry = ExecutionEntry::new(
            caller,
            Some(session_id.to_owned()),
            Some(config.user_id.clone()),
            slug,
        );
        entry.fill(result, arguments, schema, started);
        self.log_execution(entry);
    }

    /// One app tool of a session: checked, validated and run, its result offloaded to a
    /// session file when too large (with the session's threshold for agents, see
    /// `large_result`), and logged.
    pub(crate) async fn run_session_tool(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &SessionConfig,
        slug: &str,
        arguments: Value,
        options: RunOptions,
    ) -> AppResult<ToolResult> {
        let started = Instant::now();
        let known = self.catalog().tool(&slug.trim().to_ascii_uppercase());
        let logged_args = redact(&arguments, known.as_ref().map(|t| t.tool().input.value()));
        let canonical = known.map_or_else(|| slug.trim().to_owned(), |t| t.tool().slug.clone());
        let mut result = self
            .run_session_tool_unlogged(
                caller,
                config,
                slug,
                arguments,
                options.account,
                options.approved,
            )
            .await?;
        let limit = offload_limit(self.inner.large_result_bytes, config, options.for_agent);
        self.offload_large_result(session_id, limit, &mut result)
            .await;
        let mut entry = ExecutionEntry::new(
            caller,
            Some(session_id.to_owned()),
            Some(config.user_id.clone()),
            &canonical,
        );
        entry.fill(&result, &Value::Null, None, started);
        entry.arguments = logged_args;
        self.log_execution(entry);
        Ok(result)
    }

    /// Waits until everything this process queued for the log before the call is written.
    pub async fn execution_log_flush(&self) {
        let (done, wait) = oneshot::channel();
        self.inner
            .execution_log
            .send(&self.inner.store, Message::Flush(done));
        let _ = wait.await;
    }

    /// `GET …/{sid}/executions` (our extension): the session's executions, newest first.
    pub async fn session_executions(
        &self,
        caller: &Caller,
        session_id: &str,
        page: &PageRequest,
    ) -> AppResult<Page<Execution>> {
        let session = self.session_find(caller, session_id).await?;
        let filter = ExecutionFilter {
            session_id: Some(session.id.to_string()),
            user_id: None,
        };
        self.execution_list(caller, &filter, page).await
    }

    /// The project's executions matching `filter`, newest first, after everything this process
    /// queued before the call is written.
    pub async fn execution_list(
        &self,
        caller: &Caller,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> AppResult<Page<Execution>> {
        let limit = page.limit_within(EXECUTIONS_MAX_LIMIT)?;
        let cursor = match page
            .cursor
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(c) if c.starts_with("log_") && c.len() <= 64 => Some(c.to_owned()),
            Some(_) => return Err(bad_cursor()),
        };
        self.execution_log_flush().await;
        let found = self
            .store()
            .execution_list(
                &caller.project_id,
                filter,
                &StorePage {
                    cursor,
                    limit: u32::try_from(limit).unwrap_or(u32::MAX),
                },
            )
            .await
            .map_err(|e| AppError::from_store("execution list", &e))?;
        Ok(keyset_page(found, limit, |r| r))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_looking_keys_and_schema_marked_fields_are_redacted_at_any_depth() {
        let schema = json!({"type": "object", "properties": {
            "pin": {"type": "string"},
            "code": {"type": "string", "format": "password"},
            "vault": {"type": "object", "properties": {"word": {"type": "string", "writeOnly": true}}},
            "items": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string", "x-secret": true}}}}
        }});
        let args = json!({
            "name": "lamp", "max_results": 5, "code": "1234", "pin": "42",
            "api_key": "k", "X-Auth-Token": "t", "client_secret": "s", "Authorization": "Bearer b",
            "password": null,
            "vault": {"word": "w", "label": "open"},
            "items": [{"x": "hidden", "y": "shown"}],
            "headers": {"cookie": "c=1", "accept": "json"}
        });
        assert_eq!(
            redact(&args, Some(&schema)),
            json!({
                "name": "lamp", "max_results": 5, "code": REDACTED, "pin": REDACTED,
                "api_key": REDACTED, "X-Auth-Token": REDACTED, "client_secret": REDACTED,
                "Authorization": REDACTED, "password": null,
                "vault": {"word": REDACTED, "label": "open"},
                "items": [{"x": REDACTED, "y": "shown"}],
                "headers": {"cookie": REDACTED, "accept": "json"}
            })
        );
        assert_eq!(redact(&json!([1, "a"]), None), json!([1, "a"]));
    }
}
