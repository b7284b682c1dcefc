//! The workbench's configuration: plain data the binary fills in once (library crates never read
//! the environment). [`WorkbenchConfig::new`] gives the defaults described on each field, so an
//! operator only has to choose where session files and runtime sockets live.

use std::path::PathBuf;
use std::time::Duration;

/// Which sandbox mechanism to use. `Auto` picks bubblewrap when a probe sandbox starts, and
/// otherwise the landlock + seccomp + rlimits fallback; the choice is logged and reported by
/// [`crate::Workbench::isolation`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IsolationPreference {
    #[default]
    Auto,
    /// Fail at start-up unless bubblewrap works.
    Bubblewrap,
    /// Always use the fallback (for hosts without user namespaces, and for testing it).
    Fallback,
}

/// Which resource controller to use for tiers. `Auto` prefers cgroup v2, then v1, then rlimits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CgroupPreference {
    #[default]
    Auto,
    /// Never touch cgroups; limits are per-process rlimits only.
    Disabled,
}

/// Network egress from sandboxes.
///
/// `Disabled` (the default): sandboxes get an empty network namespace (bubblewrap) or a seccomp
/// filter refusing every non-unix socket (fallback); code reaches nothing but the tool bridge.
///
/// `Proxy`: the operator runs an HTTP(S) forward proxy on a host unix socket (the binary runs
/// `toolrouter_exec::serve_egress`, which applies the address policy). Each bubblewrap sandbox
/// keeps its own empty network namespace; the socket is bind-mounted read-only at
/// `/run/workbench/egress.sock`, the driver relays `127.0.0.1:3128` inside the sandbox to it,
/// and `HTTP_PROXY`/`HTTPS_PROXY` (and the lower-case forms) point there, so `urllib`,
/// `requests`, `pip` and `curl` work and nothing else leaves. The landlock fallback has no
/// network namespace of its own to put a relay in, so it stays without network (a warning at
/// start-up; [`crate::WorkbenchStatus::egress`] says so). The socket must exist when the
/// workbench starts and be connectable by the sandbox uids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Egress {
    #[default]
    Disabled,
    /// HTTP(S) through the egress proxy listening on this host unix socket.
    Proxy { socket: PathBuf },
}

/// Host resources that sandbox tiers may reserve in total (admission control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub vcpus: u32,
    pub memory_bytes: u64,
}

impl Capacity {
    /// CPU oversubscription of [`Capacity::detect`]: tier vCPUs are CFS quotas, and most
    /// sandboxes idle most of the time, so CPU is shared; memory limits are hard and are not
    /// oversubscribed.
    pub const CPU_OVERCOMMIT: u32 = 8;
    /// Memory [`Capacity::detect`] leaves to the server and the page cache.
    pub const HOST_RESERVE_BYTES: u64 = 1 << 30;

    /// `CPU_OVERCOMMIT` × the CPUs this process may run on, and physical memory minus
    /// `HOST_RESERVE_BYTES`.
    pub fn detect() -> Capacity {
        let cpus = crate::cgroup::host_cpus().len() as u32;
        let memory = crate::cgroup::host_memory_bytes().unwrap_or(4 << 30);
        Capacity {
            vcpus: cpus.max(1) * Self::CPU_OVERCOMMIT,
            memory_bytes: memory.saturating_sub(Self::HOST_RESERVE_BYTES).max(1 << 30),
        }
    }
}

/// Everything the workbench needs to know; see [`WorkbenchConfig::new`] for defaults.
///
/// The workbench creates `files_root` and `runtime_dir` itself (mode 0711: traversable, not
/// listable); their parent directories must be traversable by the sandbox uids too, because
/// bubblewrap runs as those uids when it mounts a session's files.
#[derive(Debug, Clone)]
pub struct WorkbenchConfig {
    /// Each session's files live in `<files_root>/<session id>` and appear as `/mnt/files` in
    /// its sandbox. On disk, so they survive restarts, OOM kills and server restarts.
    pub files_root: PathBuf,
    /// Driver script, per-slot bridge sockets and fallback temp dirs. Recreated at start-up.
    pub runtime_dir: PathBuf,
    /// The interpreter inside the sandbox (default `/usr/bin/python3`). A lean interpreter
    /// matters: site-packages are imported on every cold start.
    pub python: PathBuf,
    /// `bwrap` (default: looked up in `/usr/bin`, `/usr/local/bin`, `/bin`).
    pub bwrap: PathBuf,
    /// Read-only system paths visible in the sandbox (symlinks such as `/bin -> usr/bin` are
    /// recreated as symlinks; missing paths are skipped).
    pub system_paths: Vec<PathBuf>,
    pub isolation: IsolationPreference,
    pub cgroups: CgroupPreference,
    /// The cgroup filesystem root (default `/sys/fs/cgroup`).
    pub cgroup_root: PathBuf,
    /// Name of this workbench's cgroup under each hierarchy; everything below it is owned by
    /// this workbench and swept at start-up. Under systemd, point this inside a delegated
    /// subtree (`Delegate=yes`).
    pub cgroup_name: String,
    /// Sandbox `n` runs as uid and gid `uid_base + n`. The range
    /// `uid_base .. uid_base + max_sandboxes` must be used by nothing else on the host.
    pub uid_base: u32,
    /// Sandboxes running at once (default 64). Further sessions get
    /// [`crate::WorkbenchError::TooManySandboxes`].
    pub max_sandboxes: u32,
    /// Total tier reservations allowed (default [`Capacity::detect`]).
    pub capacity: Capacity,
    /// A sandbox unused this long is stopped; its files stay (default 15 min).
    pub idle_timeout: Duration,
    /// Per-call limit when the caller gives none (default 180 s, as Composio's cells).
    pub call_timeout: Duration,
    /// After a timed-out call is interrupted (SIGINT), how long the code has to stop before the
    /// sandbox is killed (default 3 s).
    pub interrupt_grace: Duration,
    /// Spawn to "ready" limit (default 20 s).
    pub start_timeout: Duration,
    /// Output longer than this many bytes of UTF-8 is written to a file under
    /// `/mnt/files/.composio/output/` and returned as a path, when the caller gives no limit
    /// (default 20 000, Composio's `auto_offload_threshold`).
    pub offload_threshold: usize,
    /// Processes and threads per sandbox (cgroup `pids.max`, and `RLIMIT_NPROC` for the
    /// sandbox's own uid). Default 256.
    pub pids_max: u32,
    /// Largest file a sandbox may write (`RLIMIT_FSIZE`, default 1 GiB).
    pub max_file_bytes: u64,
    /// Open files per process (`RLIMIT_NOFILE`, default 4096).
    pub max_open_files: u64,
    /// Network access for sandboxed code (default none; see [`Egress`]).
    pub egress: Egress,
}

impl WorkbenchConfig {
    pub fn new(files_root: impl Into<PathBuf>, runtime_dir: impl Into<PathBuf>) -> WorkbenchConfig {
        WorkbenchConfig {
            files_root: files_root.into(),
            runtime_dir: runtime_dir.into(),
            python: PathBuf::from("/usr/bin/python3"),
            bwrap: find_bwrap(),
            system_paths: [
                "/usr",
                "/bin",
                "/sbin",
                "/lib",
                "/lib32",
                "/lib64",
                "/libx32",
                "/etc/alternatives",
                "/etc/ssl",
                "/etc/ca-certificates",
                "/etc/ld.so.cache",
                "/etc/localtime",
                "/etc/python3",
                "/etc/python3.11",
                "/etc/mime.types",
            ]
            .into_iter()
            .map(PathBuf::from)
            .collect(),
            isolation: IsolationPreference::Auto,
            cgroups: CgroupPreference::Auto,
            cgroup_root: PathBuf::from("/sys/fs/cgroup"),
            cgroup_name: "toolrouter-workbench".to_owned(),
            uid_base: 200_000,
            max_sandboxes: 64,
            capacity: Capacity::detect(),
            idle_timeout: Duration::from_secs(15 * 60),
            call_timeout: Duration::from_secs(180),
            interrupt_grace: Duration::from_secs(3),
            start_timeout: Duration::from_secs(20),
            offload_threshold: 20_000,
            pids_max: 256,
            max_file_bytes: 1 << 30,
            max_open_files: 4096,
            egress: Egress::Disabled,
        }
    }
}

fn find_bwrap() -> PathBuf {
    ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/bwrap"))
}
