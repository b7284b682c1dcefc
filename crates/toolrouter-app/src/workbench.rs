//! The workbench inside sessions: `COMPOSIO_REMOTE_WORKBENCH` and `COMPOSIO_REMOTE_BASH_TOOL`
//! (CONTRACT §6.3) run through the session's execute path, and tools called from sandboxed code
//! (`run_composio_tool`, `proxy_execute`) come back here as the session's own calls.
//!
//! * The sandboxes are optional: [`App::start_workbench`] (the binary, when enabled) builds the
//!   [`Workbench`] over the app's `files_root`, so `/mnt/files` is the same directory as the
//!   files mount and large results. Without it the two meta tools answer a `failed` result
//!   saying the server runs no workbench.
//! * Every call passes the session's current `workbench` settings: a changed `sandbox_size`
//!   recreates the sandbox (files kept), the tool/proxy permissions apply at once, and
//!   `auto_offload_threshold` is the per-call offload limit.
//! * Code's exceptions, syntax errors, timeouts and crashes are results (`failed`, with stdout,
//!   stderr and the traceback in `data`); the first result after a restarted interpreter carries
//!   the "interpreter restarted" notice (in `notice`, and first in `stderr`). A full server
//!   (sandbox cap or capacity) is a 429 telling the caller to retry; a tier larger than the
//!   server's capacity is a 400 naming `workbench.sandbox_size`.
//! * Tools from code ([`SessionBridge`]) run exactly as `/execute` would for the session: its
//!   tool filters, account selection and execution log apply; meta tools are refused; the
//!   session is re-read on every call, so a deleted session's code can no longer run anything.
//!   Which project a session belongs to is remembered from the caller of its workbench calls
//!   (storage is always asked with the owning project).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use async_trait::async_trait;
use serde_json::{Value, json};
use toolrouter_core::session::{MetaTool, SessionConfig};
use toolrouter_core::{ErrorCode, SessionId};
use toolrouter_workbench::{
    BashOutput, ExecOptions, ParameterLocation, ProxyRequest, PythonOutput, SandboxSpec,
    ToolBridge, ToolCall, ToolReply, Workbench, WorkbenchConfig, WorkbenchError, WorkbenchStatus,
};

use crate::execute::ToolResult;
use crate::proxy::{ParamIn, ProxyCall};
use crate::{App, AppError, AppResult, Caller, Inner};

/// The app's handle on the sandboxes: set once by [`App::start_workbench`].
#[derive(Debug, Default)]
pub(crate) struct WorkbenchSlot {
    workbench: OnceLock<Workbench>,
    /// The caller of each session's latest workbench call: whose project the session's tool
    /// calls from code run in.
    callers: Mutex<HashMap<SessionId, Caller>>,
}

impl WorkbenchSlot {
    fn remember(&self, session: &SessionId, caller: &Caller) {
        let mut callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        if callers.get(session) != Some(caller) {
            callers.insert(session.clone(), caller.clone());
        }
    }

    fn caller(&self, session: &SessionId) -> Option<Caller> {
        self.callers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(session)
            .cloned()
    }

    fn forget(&self, session: &SessionId) {
        self.callers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(session);
    }
}

/// The sandbox a session's configuration asks for.
fn spec(config: &SessionConfig) -> SandboxSpec {
    let w = &config.workbench;
    SandboxSpec {
        size: w.sandbox_size,
        tool_execution: w.tool_execution.unwrap_or(true),
        proxy_execution: w
            .proxy_execution
            .unwrap_or(config.proxy_execute != Some(false)),
    }
}

fn options(config: &SessionConfig) -> ExecOptions {
    ExecOptions {
        timeout: None,
        offload_threshold: Some(
            usize::try_from(config.workbench.auto_offload_threshold).unwrap_or(usize::MAX),
        ),
    }
}

fn failed_result(data: Value, message: String) -> ToolResult {
    ToolResult {
        data,
        error: Some(message),
        successful: false,
        log_id: crate::execution_log::log_id(),
        account: None,
    }
}

/// `session` as the meta tools' results carry it.
fn session_ref(session_id: &str) -> Value {
    json!({
        "id": session_id,
        "instructions": "Pass this id as `session_id` to later meta tool calls.",
    })
}

/// The workbench error as the caller sees it. Failures to start are logged with their cause.
fn workbench_error(session: &SessionId, e: &WorkbenchError) -> AppError {
    match e {
        WorkbenchError::TooManySandboxes { .. } | WorkbenchError::CapacityExhausted { .. } => {
            AppError::new(ErrorCode::RateLimited, e.to_string())
                .with_fix("Retry in a minute; idle sandboxes are stopped automatically.")
        }
        WorkbenchError::TierTooLarge { .. } => AppError::new(
            ErrorCode::ValidationFailed,
            format!("`workbench.sandbox_size`: {e}"),
        )
        .with_fix("PATCH the session with a smaller `workbench.sandbox_size`."),
        WorkbenchError::SessionDeleted => AppError::new(
            ErrorCode::SessionNotFound,
            format!("Session {session} was deleted while the workbench call ran."),
        ),
        other => {
            tracing::error!(session = %session, error = %other, source = ?std::error::Error::source(other), "workbench call failed");
            AppError::new(
                ErrorCode::Internal,
                "The workbench sandbox could not run this call; the server log has the cause.",
            )
            .with_fix("Retry; if it keeps failing, ask the operator to check the workbench.")
        }
    }
}

/// `stderr` with the restart notice first, and the notice itself.
fn with_notice(
    stderr: String,
    restarted: Option<toolrouter_workbench::RestartCause>,
) -> (String, Option<String>) {
    match restarted {
        Some(cause) => {
            let notice = cause.notice();
            (format!("[{notice}]\n{stderr}"), Some(notice))
        }
        None => (stderr, None),
    }
}

fn insert_some(map: &mut serde_json::Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), Value::String(v));
    }
}

/// The keys both meta tools' results end with, and the §4.7 outcome: `failed` exactly when
/// the code or command reported an error.
fn finish(
    mut data: serde_json::Map<String, Value>,
    error: Option<String>,
    notice: Option<String>,
    sandbox_id_suffix: String,
    session_id: &str,
) -> ToolResult {
    insert_some(&mut data, "error", error.clone());
    insert_some(&mut data, "notice", notice);
    data.insert("sandbox_id_suffix".into(), Value::String(sandbox_id_suffix));
    data.insert("session".into(), session_ref(session_id));
    match error {
        Some(e) => failed_result(Value::Object(data), e),
        None => ToolResult {
            data: Value::Object(data),
            error: None,
            successful: true,
            log_id: crate::execution_log::log_id(),
            account: None,
        },
    }
}

/// The REMOTE_WORKBENCH result (§6.3).
fn python_result(out: PythonOutput, session_id: &str) -> ToolResult {
    let (stderr, notice) = with_notice(out.stderr, out.restarted);
    let mut data = serde_json::Map::new();
    data.insert("results".into(), Value::String(out.results));
    data.insert("stdout".into(), Value::String(out.stdout));
    data.insert("stderr".into(), Value::String(stderr));
    insert_some(&mut data, "results_file_path", out.results_file_path);
    insert_some(&mut data, "stdout_file_path", out.stdout_file_path);
    insert_some(&mut data, "stderr_file_path", out.stderr_file_path);
    finish(data, out.error, notice, out.sandbox_id_suffix, session_id)
}

/// The REMOTE_BASH_TOOL result (§6.3, with `exit_code`). A non-zero exit status is a result
/// like any other; only a command that could not run or was interrupted is `failed`.
fn bash_result(out: BashOutput, session_id: &str) -> ToolResult {
    let (stderr, notice) = with_notice(out.stderr, out.restarted);
    let mut data = serde_json::Map::new();
    data.insert("stdout".into(), Value::String(out.stdout));
    data.insert("stderr".into(), Value::String(stderr));
    data.insert("stdoutLines".into(), json!(out.stdout_lines));
    data.insert("stderrLines".into(), json!(out.stderr_lines));
    data.insert("exit_code".into(), json!(out.exit_code));
    insert_some(&mut data, "stdout_file_path", out.stdout_file_path);
    insert_some(&mut data, "stderr_file_path", out.stderr_file_path);
    finish(data, out.error, notice, out.sandbox_id_suffix, session_id)
}

/// A required string argument, or the message naming it.
fn required_string<'a>(arguments: &'a Value, field: &str) -> Result<&'a str, String> {
    match arguments.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("`{field}`: required, a non-empty string.")),
    }
}

fn not_running() -> ToolResult {
    failed_result(
        json!({}),
        "The workbench is not running on this server (the operator turned it off, or the server \
         cannot run sandboxes), so code cannot run here. Use the session's other tools instead."
            .to_owned(),
    )
}

impl App {
    /// Starts the sandboxes (once; the binary calls this when the workbench is enabled). The
    /// workbench's files root is the app's, so `/mnt/files` is the files mount.
    pub async fn start_workbench(&self, mut config: WorkbenchConfig) -> Result<(), WorkbenchError> {
        config.files_root = self.inner.files_root.clone();
        let bridge = Arc::new(SessionBridge {
            app: Arc::downgrade(&self.inner),
        });
        let workbench = Workbench::new(config, bridge).await?;
        if let Err(extra) = self.inner.workbench.workbench.set(workbench) {
            extra.shutdown().await;
        }
        Ok(())
    }

    /// The running workbench, if the server has one.
    pub fn workbench(&self) -> Option<&Workbench> {
        self.inner.workbench.workbench.get()
    }

    /// For `/readyz`: the isolation in force and the sandboxes running.
    pub fn workbench_status(&self) -> Option<WorkbenchStatus> {
        self.workbench().map(Workbench::status)
    }

    /// Stops every sandbox (server shutdown); files stay.
    pub async fn workbench_shutdown(&self) {
        if let Some(wb) = self.workbench() {
            wb.shutdown().await;
        }
    }

    /// COMPOSIO_REMOTE_WORKBENCH for a loaded session.
    pub(crate) async fn meta_remote_workbench(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &SessionConfig,
        arguments: &Value,
    ) -> AppResult<ToolResult> {
        let code = match required_string(arguments, "code_to_execute") {
            Ok(c) => c,
            Err(m) => return Ok(failed_result(json!({}), m)),
        };
        let Some(wb) = self.workbench() else {
            return Ok(not_running());
        };
        let sid = session_id_of(session_id)?;
        self.inner.workbench.remember(&sid, caller);
        let out = wb
            .python(&sid, spec(config), code, options(config))
            .await
            .map_err(|e| workbench_error(&sid, &e))?;
        Ok(python_result(out, session_id))
    }

    /// COMPOSIO_REMOTE_BASH_TOOL for a loaded session.
    pub(crate) async fn meta_remote_bash(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &SessionConfig,
        arguments: &Value,
    ) -> AppResult<ToolResult> {
        let command = match required_string(arguments, "command") {
            Ok(c) => c,
            Err(m) => return Ok(failed_result(json!({}), m)),
        };
        let Some(wb) = self.workbench() else {
            return Ok(not_running());
        };
        let sid = session_id_of(session_id)?;
        self.inner.workbench.remember(&sid, caller);
        let out = wb
            .bash(&sid, spec(config), command, options(config))
            .await
            .map_err(|e| workbench_error(&sid, &e))?;
        Ok(bash_result(out, session_id))
    }

    /// Session delete: stops the sandbox and deletes the session's files (also when the
    /// server runs no workbench: uploads and large results live there too). Failures are
    /// logged; the session is deleted either way.
    pub(crate) async fn workbench_forget(&self, session: &SessionId) {
        self.inner.workbench.forget(session);
        let result = match self.workbench() {
            Some(wb) => wb.destroy(session).await.map_err(|e| e.to_string()),
            None => {
                let dir = self.session_files_dir(session);
                tokio::task::spawn_blocking(move || match std::fs::remove_dir_all(&dir) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                    _ => Ok(()),
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
            }
        };
        if let Err(e) = result {
            tracing::error!(session = %session, error = %e, "could not delete the session's files");
        }
    }
}

fn session_id_of(id: &str) -> AppResult<SessionId> {
    SessionId::parse(id).ok_or_else(|| {
        AppError::new(
            ErrorCode::SessionNotFound,
            format!("Session {id} not found"),
        )
    })
}

/// Tools called from a session's sandboxed code, run as the session's own calls.
struct SessionBridge {
    app: Weak<Inner>,
}

impl SessionBridge {
    /// The app, the session's caller and its current configuration; or the reply saying why not.
    async fn context(
        &self,
        session: &SessionId,
    ) -> Result<(App, Caller, SessionConfig), ToolReply> {
        let inner = self
            .app
            .upgrade()
            .ok_or_else(|| ToolReply::error("the server is shutting down"))?;
        let app = App { inner };
        let caller = app
            .inner
            .workbench
            .caller(session)
            .ok_or_else(|| ToolReply::error("this session is no longer active"))?;
        let loaded = app
            .session_get(&caller, session.as_str())
            .await
            .map_err(|e| ToolReply::error(e.message))?;
        Ok((app, caller, loaded.session.config))
    }
}

#[async_trait]
impl ToolBridge for SessionBridge {
    async fn run_tool(&self, session: &SessionId, call: ToolCall) -> ToolReply {
        let (app, caller, config) = match self.context(session).await {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if MetaTool::parse(call.slug.trim()).is_some() {
            return ToolReply::error(format!(
                "`{}` is a meta tool; run_composio_tool runs app tools only",
                call.slug.trim()
            ));
        }
        if !call.arguments.is_object() {
            return ToolReply::error("`arguments` must be a dict");
        }
        match app
            .run_session_tool(
                &caller,
                session.as_str(),
                &config,
                &call.slug,
                call.arguments,
                crate::session_exec::RunOptions::default(),
            )
            .await
        {
            Ok(r) if r.successful => ToolReply::ok(r.data),
            Ok(r) => ToolReply {
                data: r.data,
                error: Some(r.error.unwrap_or_else(|| "the tool failed".to_owned())),
            },
            Err(e) => ToolReply::error(e.message),
        }
    }

    async fn proxy_execute(&self, session: &SessionId, request: ProxyRequest) -> ToolReply {
        let (app, caller, _) = match self.context(session).await {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        let call = ProxyCall {
            endpoint: request.endpoint,
            method: request.method,
            body: request.body,
            binary_body: None,
            parameters: request
                .parameters
                .into_iter()
                .map(|p| {
                    let place = match p.location {
                        ParameterLocation::Header => ParamIn::Header,
                        ParameterLocation::Query => ParamIn::Query,
                    };
                    (p.name, p.value, place)
                })
                .collect(),
        };
        match app
            .session_proxy_execute(&caller, session.as_str(), &request.toolkit, call)
            .await
        {
            Ok(r) => {
                let headers: serde_json::Map<String, Value> = r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                let mut data = json!({"status": r.status, "data": r.data, "headers": headers});
                if let Some((bytes, content_type)) = r.binary {
                    use base64::Engine as _;
                    data["binary_data"] = json!({
                        "content_type": content_type,
                        "size": bytes.len(),
                        "base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
                    });
                }
                ToolReply::ok(data)
            }
            Err(e) => ToolReply::error(e.message),
        }
    }
}
