//! One running sandbox: its process, cgroup, bridge socket and driver connection, from start to
//! teardown. The supervisor decides *when* sandboxes start and stop; this module knows *how*.
//!
//! Teardown is complete on every path: `stop` kills the process tree (the pid namespace goes
//! with bwrap's pid 1; the cgroup is killed and removed; in the fallback without cgroups every
//! process of the slot's uid is killed) and removes the slot's runtime directory. `Drop` does
//! the same, synchronously, for sandboxes that were never stopped explicitly.

use std::io;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sched::CpuSet;
use nix::sys::resource::Resource;
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::net::UnixListener;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use toolrouter_core::SessionId;
use toolrouter_core::session::SandboxSize;

use crate::bridge::{self, BridgeContext, Permissions, Token, ToolBridge};
use crate::cgroup::{self, Cgroups, Limits, SandboxCgroup};
use crate::config::WorkbenchConfig;
use crate::driver::{DriverIo, Outcome, Request};
use crate::error::WorkbenchError;
use crate::files;
use crate::isolation::{self, HostPaths, Isolation, LimitKind, SandboxKind};
use crate::output::{RestartCause, SandboxSpec};
use crate::seccomp::Filters;
use crate::spawn::{ChildSetup, Launcher};

const GIB: u64 = 1 << 30;
/// Where offloaded outputs go, relative to the files directory (the path Composio's prompts
/// tell agents about).
const OFFLOAD_DIR: &str = ".composio/output";
/// Bytes of the driver's stderr kept for start-up error messages.
const STDERR_TAIL_BYTES: usize = 4096;

/// Everything sandboxes share, fixed at workbench start.
pub(crate) struct Shared {
    pub(crate) config: WorkbenchConfig,
    pub(crate) isolation: Isolation,
    pub(crate) cgroups: Option<Cgroups>,
    pub(crate) filters: Filters,
    pub(crate) launcher: Launcher,
    pub(crate) driver_path: PathBuf,
    pub(crate) host_cpus: Vec<usize>,
    pub(crate) bridge: Arc<dyn ToolBridge>,
}

impl Drop for Shared {
    /// The last sandbox is gone with the workbench: remove its cgroup parent(s).
    fn drop(&mut self) {
        if let Some(cgroups) = &self.cgroups {
            cgroups.remove();
        }
    }
}

impl Shared {
    pub(crate) fn files_dir(&self, session: &SessionId) -> PathBuf {
        self.config.files_root.join(session.as_str())
    }

    fn slot_dir(&self, slot: u32) -> PathBuf {
        self.config.runtime_dir.join(format!("slot-{slot}"))
    }

    pub(crate) fn uid(&self, slot: u32) -> u32 {
        self.config.uid_base + slot
    }
}

pub(crate) struct Sandbox {
    pub(crate) id: String,
    pub(crate) slot: u32,
    pub(crate) size: SandboxSize,
    pub(crate) started: Instant,
    shared: Arc<Shared>,
    child: Child,
    pids: Pids,
    io: DriverIo,
    cgroup: Option<SandboxCgroup>,
    bridge_task: JoinHandle<()>,
    stderr_tail: Arc<std::sync::Mutex<Vec<u8>>>,
    permissions: Arc<Permissions>,
    /// Set once torn down, so `Drop` does nothing more.
    stopped: bool,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("id", &self.id)
            .field("slot", &self.slot)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

fn start_err<'a>(
    session: &'a SessionId,
    step: &'static str,
) -> impl FnOnce(io::Error) -> WorkbenchError + 'a {
    move |source| WorkbenchError::Start {
        session: session.clone(),
        step,
        source,
    }
}

impl Sandbox {
    /// Starts a sandbox for `session` in `slot` and waits until its driver is ready.
    pub(crate) async fn start(
        shared: &Arc<Shared>,
        session: &SessionId,
        slot: u32,
        spec: SandboxSpec,
    ) -> Result<Sandbox, WorkbenchError> {
        let config = &shared.config;
        let begun = Instant::now();
        let uid = shared.uid(slot);
        let (vcpus, gib) = spec.size.resources();
        let limits = Limits {
            vcpus,
            memory_bytes: u64::from(gib) * GIB,
            pids_max: config.pids_max,
        };
        let mut id_bytes = [0u8; 8];
        getrandom::fill(&mut id_bytes)
            .map_err(|e| start_err(session, "random id")(io::Error::other(e.to_string())))?;
        let id = bridge::hex(&id_bytes);
        let slot_dir = shared.slot_dir(slot);
        let paths = HostPaths {
            files: shared.files_dir(session),
            driver: shared.driver_path.clone(),
            bridge: slot_dir.join("bridge.sock"),
            tmp: slot_dir.join("tmp"),
        };

        // Directories and the cgroup: blocking filesystem work.
        let cgroup = {
            let (shared, paths, leaf) = (
                Arc::clone(shared),
                paths.clone(),
                format!("sbx-{slot}-{id}"),
            );
            tokio::task::spawn_blocking(move || -> io::Result<Option<SandboxCgroup>> {
                files::prepare(&paths.files, uid)?;
                files::delete(&slot_dir)?;
                files::ensure_dir(&slot_dir, files::TRAVERSE_ONLY)?;
                if shared.isolation.sandbox == SandboxKind::Landlock {
                    files::ensure_dir(&paths.tmp, 0o700)?;
                    chown(&paths.tmp, Some(uid), Some(uid))?;
                }
                shared
                    .cgroups
                    .as_ref()
                    .map(|c| c.create(&leaf, limits))
                    .transpose()
            })
            .await
            .map_err(|e| start_err(session, "prepare")(io::Error::other(e)))?
            .map_err(start_err(session, "prepare directories and cgroup"))?
        };

        let mut guard = StartGuard {
            cgroup,
            slot_dir: Some(shared.slot_dir(slot)),
        };
        let token = Token::generate().map_err(start_err(session, "token"))?;
        let listener =
            UnixListener::bind(&paths.bridge).map_err(start_err(session, "bridge socket"))?;
        chown(&paths.bridge, Some(uid), Some(uid)).map_err(start_err(session, "bridge socket"))?;
        std::fs::set_permissions(&paths.bridge, std::fs::Permissions::from_mode(0o600))
            .map_err(start_err(session, "bridge socket"))?;

        let mut setup = ChildSetup {
            cgroup_procs: match &guard.cgroup {
                Some(c) => c.procs_files().map_err(start_err(session, "cgroup"))?,
                None => Vec::new(),
            },
            rlimits: rlimits(config, shared.isolation, limits),
            cpus: Some(
                cpu_set(&cgroup::affinity(&shared.host_cpus, slot, vcpus))
                    .map_err(start_err(session, "cpu affinity"))?,
            ),
            ..ChildSetup::default()
        };
        let (mut cmd, inner, info) = match shared.isolation.sandbox {
            SandboxKind::Bubblewrap => isolation::bwrap_command(
                config,
                &shared.filters,
                &paths,
                limits.memory_bytes,
                &mut setup,
            )
            .map(|(cmd, inner, info)| (cmd, inner, Some(info))),
            SandboxKind::Landlock => {
                isolation::fallback_command(config, &shared.filters, &paths, &mut setup)
                    .map(|(cmd, inner)| (cmd, inner, None))
            }
        }
        .map_err(start_err(session, "build the command"))?;
        cmd.uid(uid)
            .gid(uid)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        setup.apply(&mut cmd);
        let mut child = shared
            .launcher
            .spawn(cmd)
            .await
            .map_err(start_err(session, "spawn"))?;
        let ns_init = match info {
            Some(info) => {
                match tokio::time::timeout(config.start_timeout, isolation::read_ns_init(info))
                    .await
                {
                    Ok(Ok(pid)) => Some(pid),
                    Ok(Err(e)) => return Err(start_err(session, "bwrap info")(e)),
                    Err(_) => {
                        return Err(start_err(session, "bwrap info")(io::Error::from(
                            io::ErrorKind::TimedOut,
                        )));
                    }
                }
            }
            None => None,
        };
        let pids = Pids {
            child: child.id().map_or(0, |p| p as i32),
            ns_init,
        };

        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(start_err(session, "spawn")(io::Error::other(
                "child pipes missing",
            )));
        };
        let stderr_tail = Arc::new(std::sync::Mutex::new(Vec::new()));
        tokio::spawn(drain_stderr(stderr, Arc::clone(&stderr_tail)));
        let permissions = Arc::new(Permissions {
            tools: AtomicBool::new(spec.tool_execution),
            proxy: AtomicBool::new(spec.proxy_execution),
        });
        let bridge_task = tokio::spawn(bridge::serve(
            listener,
            BridgeContext {
                session: session.clone(),
                token: token.clone(),
                uid,
                permissions: Arc::clone(&permissions),
                bridge: Arc::clone(&shared.bridge),
            },
        ));
        let mut io = DriverIo::new(stdin, stdout);
        let init = json!({
            "op": "init",
            "token": token.as_str(),
            "bridge": inner.bridge,
            "files": inner.files,
            "tmp": inner.tmp,
            "offload_dir": OFFLOAD_DIR,
            "egress": inner.egress.as_ref().map(|socket| json!({
                "socket": socket,
                "port": isolation::EGRESS_PORT,
            })),
        });
        if let Err(e) = io.handshake(init, config.start_timeout).await {
            bridge_task.abort();
            kill_tree(pids, shared.isolation);
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            // Let the stderr drain catch bwrap's or Python's last words.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let tail =
                String::from_utf8_lossy(&stderr_tail.lock().unwrap_or_else(|p| p.into_inner()))
                    .trim()
                    .to_owned();
            tracing::warn!(session = %session, error = %e, stderr = %tail, "workbench sandbox failed to start");
            let detail = if tail.is_empty() {
                e.to_string()
            } else {
                format!("{e}: {tail}")
            };
            return Err(start_err(session, "driver start-up")(io::Error::new(
                e.kind(),
                detail,
            )));
        }
        let cgroup = guard.cgroup.take();
        guard.slot_dir = None;
        tracing::debug!(
            session = %session,
            sandbox = %id,
            slot,
            size = spec.size.as_str(),
            start_ms = begun.elapsed().as_secs_f64() * 1e3,
            "workbench sandbox started"
        );
        Ok(Sandbox {
            id,
            slot,
            size: spec.size,
            started: Instant::now(),
            shared: Arc::clone(shared),
            child,
            pids,
            io,
            cgroup,
            bridge_task,
            stderr_tail,
            permissions,
            stopped: false,
        })
    }

    pub(crate) fn set_permissions(&self, spec: SandboxSpec) {
        self.permissions
            .tools
            .store(spec.tool_execution, Ordering::Relaxed);
        self.permissions
            .proxy
            .store(spec.proxy_execution, Ordering::Relaxed);
    }

    pub(crate) async fn call<T: serde::de::DeserializeOwned>(
        &mut self,
        request: Request<'_>,
        limit: Duration,
    ) -> Outcome<T> {
        self.io
            .call(request, limit, self.shared.config.interrupt_grace)
            .await
    }

    /// `Some(cause)` when the sandbox has died since the last call.
    pub(crate) fn exited(&mut self) -> Option<RestartCause> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(self.cause(Some(status))),
            Ok(None) => None,
            Err(_) => Some(self.cause(None)),
        }
    }

    /// Why the sandbox died, after its driver went away: waits briefly for the exit status.
    pub(crate) async fn death_cause(&mut self) -> RestartCause {
        let status = match tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => None,
        };
        self.cause(status)
    }

    fn cause(&self, status: Option<ExitStatus>) -> RestartCause {
        if self.cgroup.as_ref().is_some_and(|c| c.oom_kills() > 0) {
            return RestartCause::OutOfMemory;
        }
        match status {
            Some(s) if s.signal().is_some() => RestartCause::Killed {
                signal: s.signal().unwrap_or(9),
            },
            // bwrap reports a child killed by signal n as status 128 + n.
            Some(s)
                if self.shared.isolation.sandbox == SandboxKind::Bubblewrap
                    && s.code().is_some_and(|c| c > 128) =>
            {
                RestartCause::Killed {
                    signal: s.code().unwrap_or(137) - 128,
                }
            }
            Some(s) => RestartCause::Exited {
                code: s.code().unwrap_or(-1),
            },
            None => RestartCause::Killed { signal: 9 },
        }
    }

    pub(crate) fn pids(&self) -> Pids {
        self.pids
    }

    /// Memory charged to this sandbox (cgroup modes only).
    pub(crate) fn memory_bytes(&self) -> Option<u64> {
        self.cgroup.as_ref().and_then(SandboxCgroup::memory_bytes)
    }

    /// The last bytes the driver wrote to stderr (diagnostics).
    pub(crate) fn stderr_tail(&self) -> String {
        String::from_utf8_lossy(&self.stderr_tail.lock().unwrap_or_else(|p| p.into_inner()))
            .into_owned()
    }

    /// Kills everything and removes the cgroup and runtime directory.
    pub(crate) async fn stop(mut self) {
        self.stopped = true;
        self.bridge_task.abort();
        if matches!(self.child.try_wait(), Ok(None)) {
            kill_tree(self.pids, self.shared.isolation);
        }
        if tokio::time::timeout(Duration::from_secs(2), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        }
        if self.cgroup.is_none() && self.shared.isolation.sandbox == SandboxKind::Landlock {
            kill_uid(&self.shared.launcher, self.shared.uid(self.slot)).await;
        }
        let cgroup = self.cgroup.take();
        let slot_dir = self.shared.slot_dir(self.slot);
        let cleanup = tokio::task::spawn_blocking(move || cleanup(cgroup.as_ref(), &slot_dir));
        let _ = cleanup.await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        self.bridge_task.abort();
        if matches!(self.child.try_wait(), Ok(None)) {
            kill_tree(self.pids, self.shared.isolation);
        }
        let _ = self.child.start_kill();
        if self.cgroup.is_none() && self.shared.isolation.sandbox == SandboxKind::Landlock {
            self.shared
                .launcher
                .detach(kill_uid_command(self.shared.uid(self.slot)));
        }
        cleanup(
            self.cgroup.take().as_ref(),
            &self.shared.slot_dir(self.slot),
        );
    }
}

/// Host pids of a sandbox: our child (bwrap, or the fallback's interpreter) and, with bwrap,
/// the sandbox's pid 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pids {
    pub(crate) child: i32,
    pub(crate) ns_init: Option<i32>,
}

/// SIGKILLs a sandbox's processes. With bwrap it kills the namespace's pid 1, so the kernel
/// kills and reaps everything inside and bwrap itself exits and is reaped by us; killing bwrap
/// first would leave its pid 1 as a zombie for the host's init. The pid-1 pid is used only
/// while it is still bwrap's child, so a recycled pid is never signalled; callers ensure our
/// child is not yet reaped.
pub(crate) fn kill_tree(pids: Pids, isolation: Isolation) {
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    if let Some(init) = pids.ns_init
        && parent_of(init) == Some(pids.child)
    {
        let _ = kill(Pid::from_raw(init), Signal::SIGKILL);
        return;
    }
    if pids.child <= 0 {
        return;
    }
    // The fallback's interpreter leads its own process group.
    if isolation.sandbox == SandboxKind::Landlock {
        let _ = killpg(Pid::from_raw(pids.child), Signal::SIGKILL);
    }
    let _ = kill(Pid::from_raw(pids.child), Signal::SIGKILL);
}

fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may contain spaces and parentheses.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn cleanup(cgroup: Option<&SandboxCgroup>, slot_dir: &std::path::Path) {
    if let Some(c) = cgroup {
        c.destroy();
    }
    if let Err(e) = files::delete(slot_dir) {
        tracing::warn!(dir = %slot_dir.display(), error = %e, "could not remove a sandbox runtime directory");
    }
}

/// Undoes a half-finished start.
struct StartGuard {
    cgroup: Option<SandboxCgroup>,
    slot_dir: Option<PathBuf>,
}

impl Drop for StartGuard {
    fn drop(&mut self) {
        if let Some(dir) = self.slot_dir.take() {
            cleanup(self.cgroup.take().as_ref(), &dir);
        }
    }
}

/// `bash -c 'kill -9 -1'` as `uid`: kills every process of the slot's uid (the fallback
/// without cgroups has no other handle on processes that left the session).
fn kill_uid_command(uid: u32) -> Command {
    let mut cmd = Command::new("/bin/bash");
    cmd.env_clear()
        .args(["-c", "kill -9 -1"])
        .uid(uid)
        .gid(uid)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

async fn kill_uid(launcher: &Launcher, uid: u32) {
    if let Ok(mut child) = launcher.spawn(kill_uid_command(uid)).await {
        let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
    }
}

fn rlimits(config: &WorkbenchConfig, isolation: Isolation, limits: Limits) -> Vec<(Resource, u64)> {
    let mut r = vec![
        (Resource::RLIMIT_NOFILE, config.max_open_files),
        (Resource::RLIMIT_FSIZE, config.max_file_bytes),
        (Resource::RLIMIT_CORE, 0),
        // Per uid, and each slot has its own uid: a second fork-bomb guard next to pids.max.
        (Resource::RLIMIT_NPROC, u64::from(config.pids_max)),
    ];
    if isolation.limits == LimitKind::Rlimits {
        // No memory cgroup: bound the address space instead. Virtual, so generous.
        r.push((Resource::RLIMIT_AS, limits.memory_bytes + GIB));
    }
    r
}

fn cpu_set(cpus: &[usize]) -> io::Result<CpuSet> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu)?;
    }
    Ok(set)
}

async fn drain_stderr(
    mut stderr: tokio::process::ChildStderr,
    tail: Arc<std::sync::Mutex<Vec<u8>>>,
) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stderr.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
        t.extend_from_slice(&buf[..n]);
        if t.len() > STDERR_TAIL_BYTES {
            let cut = t.len() - STDERR_TAIL_BYTES;
            t.drain(..cut);
        }
    }
}
