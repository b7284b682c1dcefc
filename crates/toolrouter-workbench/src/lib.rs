//! The workbench: per-session sandboxes running a persistent Python interpreter and bash, for
//! the `COMPOSIO_REMOTE_WORKBENCH` and `COMPOSIO_REMOTE_BASH_TOOL` meta tools. The only crate in
//! toolrouter that spawns processes.
//!
//! # API for the session layer
//!
//! ```no_run
//! # async fn tour(session_id: toolrouter_core::SessionId) -> Result<(), toolrouter_workbench::WorkbenchError> {
//! use std::sync::Arc;
//! use toolrouter_workbench::{ExecOptions, NoTools, SandboxSize, SandboxSpec, Workbench, WorkbenchConfig};
//!
//! // Once, at start-up (as root). The session layer passes its own `ToolBridge`.
//! let config = WorkbenchConfig::new("/var/lib/toolrouter/files", "/run/toolrouter-workbench");
//! let workbench = Workbench::new(config, Arc::new(NoTools)).await?;
//! let readyz = workbench.isolation().as_str(); // "bubblewrap+cgroup-v2", …
//!
//! // Per call: the session's current workbench config.
//! let spec = SandboxSpec { size: SandboxSize::Standard, tool_execution: true, proxy_execution: true };
//! let out = workbench.python(&session_id, spec, "x = 41\nx + 1", ExecOptions::default()).await?;
//! assert_eq!(out.results, "42");
//! let out = workbench.bash(&session_id, spec, "ls /mnt/files", ExecOptions::default()).await?;
//!
//! workbench.destroy(&session_id).await?; // session deleted: sandbox stopped, files deleted
//! workbench.shutdown().await; // server shutting down
//! # let _ = (readyz, out); Ok(()) }
//! ```
//!
//! * [`Workbench::python`] / [`Workbench::bash`] start the session's sandbox on first use and
//!   return [`PythonOutput`] / [`BashOutput`], domain types shaped after CONTRACT §6.3; the
//!   session layer maps them to the wire (`stdoutLines`, `sandbox_id_suffix`, …). Exceptions,
//!   syntax errors, timeouts and crashes of the code are results (`error`), not `Err`.
//!   `restarted` is set on the first result after the interpreter was replaced (crash, OOM, tier
//!   change, idle stop): surface [`RestartCause::notice`] to the agent.
//! * Pass the session's current [`SandboxSpec`] on every call: a new `size` recreates the
//!   sandbox on that call (files kept); the tool/proxy flags apply at once.
//! * Code calls tools with the preloaded `run_composio_tool(slug, arguments)` and
//!   `proxy_execute(method, endpoint, toolkit, query_params, body, headers)`, both returning
//!   `(data, error)`. They arrive at the session layer's [`ToolBridge`], which applies the
//!   session's tool filters and runs the tool; nothing secret ever enters the sandbox.
//! * [`Workbench::files_dir`] is the host directory behind `/mnt/files` (for the files-mount
//!   endpoints); it survives restarts and OOM kills and is deleted by [`Workbench::destroy`].
//! * `Err` means the call could not run: [`WorkbenchError::TooManySandboxes`] and
//!   [`WorkbenchError::CapacityExhausted`] (retry later; map to 503/429), start failures, a
//!   deleted session or a shut-down workbench.
//!
//! # Guarantees
//!
//! See `isolation.rs` for the sandbox layers (bubblewrap with an empty environment, all
//! namespaces, per-slot uid, read-only system, seccomp; or the landlock fallback), `cgroup.rs`
//! for tiers, `supervisor.rs` for the lifecycle and `driver.py` for the interpreter protocol.
//! The integration tests (`tests/it`) attack the sandbox: other sessions' files, the server's
//! data and environment, writes outside `/mnt/files` and `/tmp`, fork bombs, memory beyond the
//! tier, CPU starvation, the network, ptrace, mount and unshare.

mod bridge;
mod cgroup;
mod config;
mod driver;
mod error;
mod files;
mod isolation;
pub mod mount;
mod output;
mod sandbox;
mod seccomp;
mod spawn;
mod supervisor;

pub use bridge::{
    NoTools, ParameterLocation, ProxyParameter, ProxyRequest, ToolBridge, ToolCall, ToolReply,
};
pub use config::{Capacity, CgroupPreference, Egress, IsolationPreference, WorkbenchConfig};
pub use error::WorkbenchError;
pub use isolation::{Isolation, LimitKind, SandboxKind};
pub use output::{BashOutput, ExecOptions, PythonOutput, RestartCause, SandboxSpec};
pub use supervisor::{SandboxInfo, Workbench, WorkbenchStatus};
pub use toolrouter_core::session::SandboxSize;

/// Whether this process can run sandboxes (each runs as its own uid, so it must be root): the
/// binary's `auto` mode asks this.
pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}
