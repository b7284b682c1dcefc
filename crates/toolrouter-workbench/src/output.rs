//! What callers pass in and get back: the sandbox a session wants ([`SandboxSpec`]), per-call
//! options, and the results of the two meta tools. These are domain types shaped after
//! CONTRACT §6.3 (`COMPOSIO_REMOTE_WORKBENCH`, `COMPOSIO_REMOTE_BASH_TOOL`); the session layer
//! maps them to the wire.

use std::time::Duration;

use toolrouter_core::session::SandboxSize;

/// The sandbox a session wants, from its `workbench` config. Passed on every call: a different
/// `size` than the running sandbox's recreates the sandbox (keeping `/mnt/files`), and the
/// permission flags apply to the next tool call made from code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxSpec {
    pub size: SandboxSize,
    /// `run_composio_tool` is allowed (`workbench.enable_tool_execution`, default true).
    pub tool_execution: bool,
    /// `proxy_execute` is allowed (`workbench.enable_proxy_execution`, default true).
    pub proxy_execution: bool,
}

impl Default for SandboxSpec {
    fn default() -> Self {
        SandboxSpec {
            size: SandboxSize::Standard,
            tool_execution: true,
            proxy_execution: true,
        }
    }
}

/// Per-call options; `None` takes the workbench default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// Wall-clock limit for the call (default [`crate::WorkbenchConfig::call_timeout`]).
    pub timeout: Option<Duration>,
    /// Outputs longer than this many bytes of UTF-8 go to a file (default
    /// [`crate::WorkbenchConfig::offload_threshold`]); capped at 4 MiB.
    pub offload_threshold: Option<usize>,
}

/// Why the interpreter a call ran in is not the one the previous call saw. Reported once, on
/// the first result after the restart: Python variables are gone, `/mnt/files` is intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartCause {
    /// The sandbox exceeded its tier's memory and was killed by the kernel.
    OutOfMemory,
    /// A call overran its limit and did not stop when interrupted, so the sandbox was killed.
    Unresponsive,
    /// The interpreter was killed by a signal (`kill -9` from inside, for example).
    Killed { signal: i32 },
    /// The interpreter exited (`os._exit`, a crash).
    Exited { code: i32 },
    /// The session's `sandbox_size` changed.
    TierChanged,
    /// The sandbox was stopped after being idle.
    Idle,
    /// The server stopped the sandbox ([`crate::Workbench::stop`]).
    Stopped,
    /// The interpreter broke the protocol with the server (for example, code wrote to the
    /// driver's private pipe), so it was killed.
    Broken,
}

impl RestartCause {
    /// One sentence for the agent, e.g. to prepend to `stderr`.
    pub fn notice(self) -> String {
        let why = match self {
            RestartCause::OutOfMemory => "it ran out of memory for its tier".to_owned(),
            RestartCause::Unresponsive => {
                "a call did not stop after its time limit and was killed".to_owned()
            }
            RestartCause::Killed { signal } => format!("it was killed by signal {signal}"),
            RestartCause::Exited { code } => format!("it exited with status {code}"),
            RestartCause::TierChanged => "the sandbox size changed".to_owned(),
            RestartCause::Idle => "it was stopped after being idle".to_owned(),
            RestartCause::Stopped => "the server stopped it".to_owned(),
            RestartCause::Broken => "its connection to the server broke".to_owned(),
        };
        format!(
            "interpreter restarted: {why}; Python variables and imports were lost, files under \
             /mnt/files are intact"
        )
    }
}

/// Result of `COMPOSIO_REMOTE_WORKBENCH`. A syntax error or exception is a result (`error`), not
/// a failure of the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PythonOutput {
    /// `repr()` of the cell's trailing expression, or empty (first `offload_threshold` bytes).
    pub results: String,
    pub stdout: String,
    pub stderr: String,
    /// Traceback, timeout or crash report.
    pub error: Option<String>,
    /// Set when `results`/`stdout`/`stderr` were longer than the limit: the whole text, as a
    /// path inside the sandbox (under `/mnt/files/.composio/output/`).
    pub results_file_path: Option<String>,
    pub stdout_file_path: Option<String>,
    pub stderr_file_path: Option<String>,
    /// The call hit its time limit.
    pub timed_out: bool,
    /// Short id of the sandbox instance; changes on every restart.
    pub sandbox_id_suffix: String,
    /// Set on the first call after the interpreter was restarted.
    pub restarted: Option<RestartCause>,
}

/// Result of `COMPOSIO_REMOTE_BASH_TOOL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BashOutput {
    pub stdout: String,
    pub stderr: String,
    /// Lines in the whole of stdout/stderr (including any part offloaded to a file).
    pub stdout_lines: u64,
    pub stderr_lines: u64,
    /// `None` when the command was interrupted or could not start.
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub stdout_file_path: Option<String>,
    pub stderr_file_path: Option<String>,
    pub timed_out: bool,
    pub sandbox_id_suffix: String,
    pub restarted: Option<RestartCause>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices() {
        let check = |cause: RestartCause, why: &str| {
            assert_eq!(
                cause.notice(),
                format!(
                    "interpreter restarted: {why}; Python variables and imports were lost, files \
                     under /mnt/files are intact"
                )
            );
        };
        check(
            RestartCause::OutOfMemory,
            "it ran out of memory for its tier",
        );
        check(
            RestartCause::Killed { signal: 9 },
            "it was killed by signal 9",
        );
        check(RestartCause::Exited { code: 3 }, "it exited with status 3");
        check(RestartCause::TierChanged, "the sandbox size changed");
        check(RestartCause::Idle, "it was stopped after being idle");
    }
}
