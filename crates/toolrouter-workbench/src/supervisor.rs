//! The supervisor: the public [`Workbench`] handle. It starts a session's sandbox on first use,
//! serialises calls per session (one interpreter runs one cell at a time), restarts sandboxes
//! that died (reporting why in the next result), recreates them when the tier changes, stops
//! idle ones, enforces the sandbox cap and the capacity reservations, and tears everything down
//! on session delete and shutdown.
//!
//! Locking: one short `std` mutex over the session map, one over the capacity ledger, and one
//! async mutex per session held for the duration of a call. No lock is held across another
//! session's work.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use toolrouter_core::SessionId;
use toolrouter_core::session::SandboxSize;

use crate::bridge::ToolBridge;
use crate::cgroup::{self, Cgroups};
use crate::config::{Capacity, CgroupPreference, Egress, IsolationPreference, WorkbenchConfig};
use crate::driver::{self, BashReply, ExecReply, MAX_OFFLOAD_THRESHOLD, Outcome, Request};
use crate::error::WorkbenchError;
use crate::files;
use crate::isolation::{self, Isolation, LimitKind, SandboxKind};
use crate::output::{BashOutput, ExecOptions, PythonOutput, RestartCause, SandboxSpec};
use crate::sandbox::{self, Pids, Sandbox, Shared};
use crate::seccomp::Filters;
use crate::spawn::Launcher;

const GIB: u64 = 1 << 30;

/// The workbench: cheap to clone, shared by every session. See the crate docs for the API tour.
#[derive(Clone)]
pub struct Workbench {
    inner: Arc<Inner>,
}

impl fmt::Debug for Workbench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workbench")
            .field("isolation", &self.inner.shared.isolation)
            .finish_non_exhaustive()
    }
}

struct Inner {
    shared: Arc<Shared>,
    sessions: Mutex<HashMap<SessionId, Arc<Entry>>>,
    ledger: Arc<Mutex<Ledger>>,
    shut_down: AtomicBool,
}

/// One session's sandbox state.
struct Entry {
    state: tokio::sync::Mutex<EntryState>,
    last_used: Mutex<Instant>,
    /// Host pids of the running sandbox, so `destroy` and `shutdown` can kill it while a call
    /// holds `state`. Cleared before the process is reaped, so it never names a recycled pid.
    pids: Mutex<Option<Pids>>,
    destroyed: AtomicBool,
}

#[derive(Default)]
struct EntryState {
    running: Option<Running>,
    /// Reported on the next result.
    pending: Option<RestartCause>,
}

struct Running {
    sandbox: Sandbox,
    /// Released (slot and resources) when dropped, after the sandbox is stopped.
    _reservation: Reservation,
}

/// Slots and resources in use.
#[derive(Debug)]
struct Ledger {
    free_slots: BTreeSet<u32>,
    max: u32,
    capacity: Capacity,
    vcpus: u32,
    memory_bytes: u64,
}

struct Reservation {
    ledger: Arc<Mutex<Ledger>>,
    slot: u32,
    vcpus: u32,
    memory_bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut l = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        l.free_slots.insert(self.slot);
        l.vcpus -= self.vcpus;
        l.memory_bytes -= self.memory_bytes;
    }
}

impl Ledger {
    /// Takes `preferred` if free (a returning session keeps its uid), else the lowest slot.
    fn reserve(
        ledger: &Arc<Mutex<Ledger>>,
        size: SandboxSize,
        preferred: Option<u32>,
    ) -> Result<Reservation, WorkbenchError> {
        let (vcpus, gib) = size.resources();
        let memory_bytes = u64::from(gib) * GIB;
        let mut l = ledger.lock().unwrap_or_else(|p| p.into_inner());
        if vcpus > l.capacity.vcpus || memory_bytes > l.capacity.memory_bytes {
            return Err(WorkbenchError::TierTooLarge { size });
        }
        if l.vcpus + vcpus > l.capacity.vcpus
            || l.memory_bytes + memory_bytes > l.capacity.memory_bytes
        {
            return Err(WorkbenchError::CapacityExhausted {
                size: size.as_str(),
                vcpus,
                memory_gib: gib,
                reserved_vcpus: l.vcpus,
                capacity_vcpus: l.capacity.vcpus,
                reserved_gib: l.memory_bytes as f64 / GIB as f64,
                capacity_gib: l.capacity.memory_bytes as f64 / GIB as f64,
            });
        }
        let slot = match preferred.filter(|s| l.free_slots.contains(s)) {
            Some(s) => s,
            None => *l
                .free_slots
                .first()
                .ok_or(WorkbenchError::TooManySandboxes { max: l.max })?,
        };
        l.free_slots.remove(&slot);
        l.vcpus += vcpus;
        l.memory_bytes += memory_bytes;
        Ok(Reservation {
            ledger: Arc::clone(ledger),
            slot,
            vcpus,
            memory_bytes,
        })
    }
}

/// What the workbench is doing, for `/readyz` and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkbenchStatus {
    pub isolation: Isolation,
    pub running: u32,
    pub max_sandboxes: u32,
    /// Sum of the running sandboxes' tiers.
    pub reserved: Capacity,
    pub capacity: Capacity,
    /// Whether sandboxes reach the network through the egress proxy ([`Egress::Proxy`] with
    /// bubblewrap; the fallback never has egress).
    pub egress: bool,
}

impl WorkbenchStatus {
    /// `proxy` or `off`, as `/readyz` and the logs say it.
    pub fn egress_mode(&self) -> &'static str {
        if self.egress { "proxy" } else { "off" }
    }
}

/// One session's running sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxInfo {
    pub sandbox_id_suffix: String,
    pub size: SandboxSize,
    /// The uid code runs as on the host.
    pub uid: u32,
    /// Memory charged to the sandbox's cgroup (`None` without cgroups).
    pub memory_bytes: Option<u64>,
    pub uptime: Duration,
}

/// A finished call before it is shaped into a result.
struct Run<T> {
    reply: Option<T>,
    timed_out: bool,
    /// Why there is no reply (the sandbox died or hung during the call).
    failure: Option<String>,
    sandbox_id: String,
    restarted: Option<RestartCause>,
}

impl Workbench {
    /// Sets up the workbench: directories, the driver script, the isolation probe, the cgroup
    /// parent (sweeping leftovers of a previous run) and the idle reaper. Must run as root
    /// (each sandbox gets its own uid) inside a tokio runtime.
    pub async fn new(
        config: WorkbenchConfig,
        bridge: Arc<dyn ToolBridge>,
    ) -> Result<Workbench, WorkbenchError> {
        let setup = |step| move |source| WorkbenchError::Setup { step, source };
        if !nix::unistd::geteuid().is_root() {
            return Err(setup("privileges")(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the workbench must run as root: each sandbox runs as its own uid",
            )));
        }
        if config.max_sandboxes == 0
            || config.uid_base == 0
            || config.uid_base.checked_add(config.max_sandboxes).is_none()
        {
            return Err(setup("config")(io::Error::new(
                io::ErrorKind::InvalidInput,
                "uid_base must be > 0 and uid_base + max_sandboxes must fit in a uid",
            )));
        }
        if let Egress::Proxy { socket } = &config.egress
            && !socket.exists()
        {
            return Err(setup("egress proxy socket")(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} does not exist: start the egress proxy before the workbench",
                    socket.display()
                ),
            )));
        }
        let driver_path = config.runtime_dir.join("driver.py");
        {
            let (files_root, runtime_dir, driver_path) = (
                config.files_root.clone(),
                config.runtime_dir.clone(),
                driver_path.clone(),
            );
            tokio::task::spawn_blocking(move || -> io::Result<()> {
                files::ensure_dir(&files_root, files::TRAVERSE_ONLY)?;
                files::ensure_dir(&runtime_dir, files::TRAVERSE_ONLY)?;
                let tmp = runtime_dir.join("driver.py.tmp");
                std::fs::write(&tmp, driver::SOURCE)?;
                std::fs::set_permissions(
                    &tmp,
                    std::os::unix::fs::PermissionsExt::from_mode(0o644),
                )?;
                std::fs::rename(&tmp, &driver_path)
            })
            .await
            .map_err(|e| setup("directories")(io::Error::other(e)))?
            .map_err(setup("directories"))?;
        }
        let launcher =
            Launcher::start(tokio::runtime::Handle::current()).map_err(setup("launcher thread"))?;

        let sandbox = match config.isolation {
            IsolationPreference::Fallback => SandboxKind::Landlock,
            preference => match isolation::probe_bwrap(&config, &launcher, config.uid_base).await {
                Ok(()) => SandboxKind::Bubblewrap,
                Err(detail) if preference == IsolationPreference::Bubblewrap => {
                    return Err(WorkbenchError::BubblewrapUnavailable { detail });
                }
                Err(detail) => {
                    tracing::warn!(%detail, "bubblewrap is unusable; workbench sandboxes fall back to landlock + seccomp + rlimits");
                    SandboxKind::Landlock
                }
            },
        };
        let cgroups = match config.cgroups {
            CgroupPreference::Disabled => None,
            CgroupPreference::Auto => {
                let (root, name) = (config.cgroup_root.clone(), config.cgroup_name.clone());
                match tokio::task::spawn_blocking(move || Cgroups::open(&root, &name)).await {
                    Ok(Ok(c)) => Some(c),
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "cgroups are unusable; workbench tiers fall back to rlimits");
                        None
                    }
                    Err(e) => return Err(setup("cgroups")(io::Error::other(e))),
                }
            }
        };
        let limits = match cgroups.as_ref().map(Cgroups::version) {
            Some(cgroup::Version::V2) => LimitKind::CgroupV2,
            Some(cgroup::Version::V1) => LimitKind::CgroupV1,
            None => LimitKind::Rlimits,
        };
        let isolation = Isolation { sandbox, limits };
        let filters =
            Filters::compile(sandbox == SandboxKind::Landlock).map_err(setup("seccomp"))?;
        let egress = egress_on(&config, sandbox);
        if !egress && matches!(config.egress, Egress::Proxy { .. }) {
            tracing::warn!(
                "workbench egress needs bubblewrap (the fallback has no network namespace of its own): sandboxes get no network"
            );
        }
        tracing::info!(isolation = %isolation, egress, "workbench ready");

        let ledger = Ledger {
            free_slots: (0..config.max_sandboxes).collect(),
            max: config.max_sandboxes,
            capacity: config.capacity,
            vcpus: 0,
            memory_bytes: 0,
        };
        let shared = Arc::new(Shared {
            isolation,
            cgroups,
            filters,
            launcher,
            driver_path,
            host_cpus: cgroup::host_cpus(),
            bridge,
            config,
        });
        let inner = Arc::new(Inner {
            shared,
            sessions: Mutex::new(HashMap::new()),
            ledger: Arc::new(Mutex::new(ledger)),
            shut_down: AtomicBool::new(false),
        });
        tokio::spawn(reap_idle(Arc::downgrade(&inner)));
        Ok(Workbench { inner })
    }

    /// The isolation in force (for `/readyz`).
    pub fn isolation(&self) -> Isolation {
        self.inner.shared.isolation
    }

    pub fn status(&self) -> WorkbenchStatus {
        let l = self.inner.ledger.lock().unwrap_or_else(|p| p.into_inner());
        WorkbenchStatus {
            isolation: self.inner.shared.isolation,
            running: l.max - l.free_slots.len() as u32,
            max_sandboxes: l.max,
            reserved: Capacity {
                vcpus: l.vcpus,
                memory_bytes: l.memory_bytes,
            },
            capacity: l.capacity,
            egress: egress_on(
                &self.inner.shared.config,
                self.inner.shared.isolation.sandbox,
            ),
        }
    }

    /// Host directory holding the session's `/mnt/files` (for the files-mount API, CONTRACT
    /// §3.15). It may not exist yet. Files the server writes there are handed to the sandbox's
    /// uid when the sandbox next starts.
    pub fn files_dir(&self, session: &SessionId) -> std::path::PathBuf {
        self.inner.shared.files_dir(session)
    }

    /// Runs Python in the session's persistent interpreter (`COMPOSIO_REMOTE_WORKBENCH`),
    /// starting the sandbox if needed.
    pub async fn python(
        &self,
        session: &SessionId,
        spec: SandboxSpec,
        code: &str,
        options: ExecOptions,
    ) -> Result<PythonOutput, WorkbenchError> {
        let (limit, offload) = self.call_limits(options);
        let run = self
            .run::<ExecReply>(session, spec, Request::Exec { code, offload }, limit)
            .await?;
        let mut out = PythonOutput {
            sandbox_id_suffix: run.sandbox_id,
            restarted: run.restarted,
            timed_out: run.timed_out,
            ..PythonOutput::default()
        };
        match run.reply {
            Some(r) => {
                out.error = match (run.timed_out, r.error) {
                    (true, tb) => Some(timeout_message(limit, tb)),
                    (false, e) => e,
                };
                out.results = r.results;
                out.stdout = r.stdout;
                out.stderr = r.stderr;
                out.results_file_path = r.results_file;
                out.stdout_file_path = r.stdout_file;
                out.stderr_file_path = r.stderr_file;
                debug_assert!(!r.interrupted || run.timed_out);
            }
            None => out.error = run.failure,
        }
        Ok(out)
    }

    /// Runs `bash -c command` in the session's sandbox, in the interpreter's current directory
    /// (`COMPOSIO_REMOTE_BASH_TOOL`).
    pub async fn bash(
        &self,
        session: &SessionId,
        spec: SandboxSpec,
        command: &str,
        options: ExecOptions,
    ) -> Result<BashOutput, WorkbenchError> {
        let (limit, offload) = self.call_limits(options);
        let run = self
            .run::<BashReply>(session, spec, Request::Bash { command, offload }, limit)
            .await?;
        let mut out = BashOutput {
            sandbox_id_suffix: run.sandbox_id,
            restarted: run.restarted,
            timed_out: run.timed_out,
            ..BashOutput::default()
        };
        match run.reply {
            Some(r) => {
                out.error = match (run.timed_out, r.error) {
                    (true, _) => Some(format!(
                        "TimeoutError: the command ran longer than {} and was killed",
                        seconds(limit)
                    )),
                    (false, e) => e,
                };
                out.stdout = r.stdout;
                out.stderr = r.stderr;
                out.stdout_lines = r.stdout_lines;
                out.stderr_lines = r.stderr_lines;
                out.exit_code = r.exit_code;
                out.stdout_file_path = r.stdout_file;
                out.stderr_file_path = r.stderr_file;
                debug_assert!(!r.interrupted || run.timed_out);
            }
            None => out.error = run.failure,
        }
        Ok(out)
    }

    /// Stops the session's sandbox (if any) and deletes its files. For session delete.
    pub async fn destroy(&self, session: &SessionId) -> Result<(), WorkbenchError> {
        let entry = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(session);
        if let Some(entry) = entry {
            entry.destroyed.store(true, Ordering::SeqCst);
            kill_entry(&entry, self.inner.shared.isolation);
            let mut state = entry.state.lock().await;
            if let Some(running) = state.running.take() {
                stop(&entry, running).await;
            }
        }
        let dir = self.files_dir(session);
        tokio::task::spawn_blocking(move || files::delete(&dir))
            .await
            .map_err(io::Error::other)
            .and_then(|r| r)
            .map_err(|source| WorkbenchError::Cleanup {
                session: session.clone(),
                source,
            })
    }

    /// Stops the session's sandbox, keeping its files; the next call starts a fresh one.
    pub async fn stop(&self, session: &SessionId) {
        let entry = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(session)
            .cloned();
        if let Some(entry) = entry {
            let mut state = entry.state.lock().await;
            if let Some(running) = state.running.take() {
                stop(&entry, running).await;
                state.pending = Some(RestartCause::Stopped);
            }
        }
    }

    /// The session's running sandbox, if any (waits for a call in progress).
    pub async fn sandbox_info(&self, session: &SessionId) -> Option<SandboxInfo> {
        let entry = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(session)
            .cloned()?;
        let state = entry.state.lock().await;
        let sandbox = &state.running.as_ref()?.sandbox;
        Some(SandboxInfo {
            sandbox_id_suffix: sandbox.id.clone(),
            size: sandbox.size,
            uid: self.inner.shared.uid(sandbox.slot),
            memory_bytes: sandbox.memory_bytes(),
            uptime: sandbox.started.elapsed(),
        })
    }

    /// Stops every sandbox (files stay) and removes the workbench's cgroups. Later calls fail
    /// with [`WorkbenchError::ShutDown`].
    pub async fn shutdown(&self) {
        self.inner.shut_down.store(true, Ordering::SeqCst);
        let entries: Vec<Arc<Entry>> = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, e)| e)
            .collect();
        for entry in &entries {
            entry.destroyed.store(true, Ordering::SeqCst);
            kill_entry(entry, self.inner.shared.isolation);
        }
        for entry in entries {
            let mut state = entry.state.lock().await;
            if let Some(running) = state.running.take() {
                stop(&entry, running).await;
            }
        }
        if let Some(cgroups) = &self.inner.shared.cgroups {
            cgroups.remove();
        }
    }

    fn call_limits(&self, options: ExecOptions) -> (Duration, usize) {
        let config = &self.inner.shared.config;
        let limit = options.timeout.unwrap_or(config.call_timeout);
        let offload = options
            .offload_threshold
            .unwrap_or(config.offload_threshold)
            .min(MAX_OFFLOAD_THRESHOLD);
        (limit, offload)
    }

    /// The session's entry, created on first use.
    fn entry(&self, session: &SessionId) -> Result<Arc<Entry>, WorkbenchError> {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return Err(WorkbenchError::ShutDown);
        }
        let mut sessions = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Ok(Arc::clone(sessions.entry(session.clone()).or_insert_with(
            || {
                Arc::new(Entry {
                    state: tokio::sync::Mutex::new(EntryState::default()),
                    last_used: Mutex::new(Instant::now()),
                    pids: Mutex::new(None),
                    destroyed: AtomicBool::new(false),
                })
            },
        )))
    }

    async fn run<T: serde::de::DeserializeOwned>(
        &self,
        session: &SessionId,
        spec: SandboxSpec,
        request: Request<'_>,
        limit: Duration,
    ) -> Result<Run<T>, WorkbenchError> {
        let entry = self.entry(session)?;
        let mut state = entry.state.lock().await;
        if entry.destroyed.load(Ordering::SeqCst) {
            return Err(gone(&self.inner));
        }
        entry.touch();
        let restarted = self
            .ensure_running(session, spec, &entry, &mut state)
            .await?;
        if entry.destroyed.load(Ordering::SeqCst) {
            // Deleted while the sandbox was starting (its pids were not known to kill yet).
            if let Some(running) = state.running.take() {
                stop(&entry, running).await;
            }
            return Err(gone(&self.inner));
        }
        let Some(running) = state.running.as_mut() else {
            unreachable!("ensure_running leaves a running sandbox")
        };
        running.sandbox.set_permissions(spec);
        let sandbox_id = running.sandbox.id.clone();
        let size = running.sandbox.size;
        let outcome = running.sandbox.call::<T>(request, limit).await;
        entry.touch();
        let mut run = Run {
            reply: None,
            timed_out: false,
            failure: None,
            sandbox_id,
            restarted,
        };
        let cause = match outcome {
            Outcome::Reply { reply, timed_out } => {
                run.reply = Some(reply);
                run.timed_out = timed_out;
                return Ok(run);
            }
            Outcome::Dead => {
                entry.set_pids(None);
                running.sandbox.death_cause().await
            }
            Outcome::Unresponsive => {
                run.timed_out = true;
                RestartCause::Unresponsive
            }
            Outcome::Garbled(detail) => {
                tracing::warn!(session = %session, %detail, stderr = %running.sandbox.stderr_tail(), "workbench driver broke the protocol");
                RestartCause::Broken
            }
        };
        if let Some(running) = state.running.take() {
            stop(&entry, running).await;
        }
        if entry.destroyed.load(Ordering::SeqCst) {
            return Err(gone(&self.inner));
        }
        state.pending = Some(cause);
        run.failure = Some(failure_message(cause, size, limit));
        Ok(run)
    }

    /// Makes sure `state` has a live sandbox of the right size; returns the restart to report.
    async fn ensure_running(
        &self,
        session: &SessionId,
        spec: SandboxSpec,
        entry: &Entry,
        state: &mut EntryState,
    ) -> Result<Option<RestartCause>, WorkbenchError> {
        let mut notice = state.pending.take();
        if let Some(running) = state.running.as_mut() {
            // `exited` may reap the sandbox: nobody may signal its pids meanwhile.
            let pids = entry.set_pids(None);
            let exited = running.sandbox.exited();
            if exited.is_none() {
                entry.set_pids(pids);
            }
            let replace = match exited {
                Some(cause) => Some(cause),
                None if running.sandbox.size != spec.size => Some(RestartCause::TierChanged),
                None => None,
            };
            if let Some(cause) = replace {
                if let Some(running) = state.running.take() {
                    stop(entry, running).await;
                }
                notice = Some(cause);
            }
        }
        if state.running.is_none() {
            let shared = &self.inner.shared;
            let preferred = files::owner(&shared.files_dir(session))
                .and_then(|uid| uid.checked_sub(shared.config.uid_base))
                .filter(|&slot| slot < shared.config.max_sandboxes);
            let started = match Ledger::reserve(&self.inner.ledger, spec.size, preferred) {
                Ok(reservation) => Sandbox::start(shared, session, reservation.slot, spec)
                    .await
                    .map(|sandbox| Running {
                        sandbox,
                        _reservation: reservation,
                    }),
                Err(e) => Err(e),
            };
            match started {
                Ok(running) => {
                    entry.set_pids(Some(running.sandbox.pids()));
                    state.running = Some(running);
                }
                Err(e) => {
                    // The agent has not seen the restart yet; keep it for the next result.
                    state.pending = notice;
                    return Err(e);
                }
            }
        }
        Ok(notice)
    }
}

impl Entry {
    /// Returns the previous value.
    fn set_pids(&self, pids: Option<Pids>) -> Option<Pids> {
        std::mem::replace(
            &mut *self.pids.lock().unwrap_or_else(|p| p.into_inner()),
            pids,
        )
    }

    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }
}

/// After `destroy` or `shutdown` took the session away mid-call.
fn gone(inner: &Inner) -> WorkbenchError {
    if inner.shut_down.load(Ordering::SeqCst) {
        WorkbenchError::ShutDown
    } else {
        WorkbenchError::SessionDeleted
    }
}

/// Whether sandboxes get egress: configured, and bubblewrap (see [`Egress`]).
fn egress_on(config: &WorkbenchConfig, sandbox: SandboxKind) -> bool {
    matches!(config.egress, Egress::Proxy { .. }) && sandbox == SandboxKind::Bubblewrap
}

/// Kills a session's sandbox without waiting for the call that may hold its state.
fn kill_entry(entry: &Entry, isolation: Isolation) {
    // Killing under the lock: whoever reaps the sandbox takes the pids first, so they are
    // never signalled after being reaped.
    let pids = entry.pids.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(pids) = *pids {
        sandbox::kill_tree(pids, isolation);
    }
}

async fn stop(entry: &Entry, running: Running) {
    entry.set_pids(None);
    let Running {
        sandbox,
        _reservation,
    } = running;
    sandbox.stop().await;
    drop(_reservation);
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

fn timeout_message(limit: Duration, traceback: Option<String>) -> String {
    let mut m = format!(
        "TimeoutError: the cell ran longer than {} and was interrupted (KeyboardInterrupt); \
         variables defined before the interruption are kept",
        seconds(limit)
    );
    if let Some(tb) = traceback {
        m.push('\n');
        m.push_str(&tb);
    }
    m
}

fn failure_message(cause: RestartCause, size: SandboxSize, limit: Duration) -> String {
    let what = match cause {
        RestartCause::OutOfMemory => {
            let (_, gib) = size.resources();
            format!(
                "MemoryError: the sandbox ran out of memory (the {} tier has {gib} GiB) and was \
                 killed",
                size.as_str()
            )
        }
        RestartCause::Unresponsive => format!(
            "TimeoutError: the call ran longer than {} and did not stop when interrupted, so the \
             sandbox was killed",
            seconds(limit)
        ),
        RestartCause::Killed { signal } => format!("the interpreter was killed by signal {signal}"),
        RestartCause::Exited { code } => format!("the interpreter exited with status {code}"),
        RestartCause::Broken => {
            "the interpreter broke its connection to the server and was killed".to_owned()
        }
        RestartCause::TierChanged | RestartCause::Idle | RestartCause::Stopped => {
            "the sandbox was stopped".to_owned()
        }
    };
    format!(
        "{what}. Python variables were lost; files under /mnt/files are intact. The interpreter \
         restarts on the next call."
    )
}

/// Stops sandboxes idle longer than `idle_timeout`. Holds only a weak reference, so it ends
/// with the workbench.
async fn reap_idle(inner: Weak<Inner>) {
    let period = match inner.upgrade() {
        Some(i) => (i.shared.config.idle_timeout / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(30)),
        None => return,
    };
    loop {
        tokio::time::sleep(period).await;
        let Some(inner) = inner.upgrade() else { return };
        if inner.shut_down.load(Ordering::SeqCst) {
            return;
        }
        let idle_timeout = inner.shared.config.idle_timeout;
        let entries: Vec<Arc<Entry>> = inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for entry in entries {
            if entry.idle_for() < idle_timeout {
                continue;
            }
            // A session with a call in progress is not idle.
            let Ok(mut state) = entry.state.try_lock() else {
                continue;
            };
            if let Some(running) = state.running.take() {
                tracing::debug!(sandbox = %running.sandbox.id, "stopping an idle workbench sandbox");
                stop(&entry, running).await;
                state.pending.get_or_insert(RestartCause::Idle);
            }
        }
    }
}
