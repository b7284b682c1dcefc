//! The two ways a sandbox is built, and which one this host gets.
//!
//! **Bubblewrap** (the default): `bwrap` started with an *empty* environment (its pid-1 reaper
//! keeps the environment bwrap was started with, readable as `/proc/1/environ`), as the slot's
//! unprivileged uid, with every namespace unshared (an empty network namespace: no network),
//! no capabilities, no further user namespaces, a read-only system, `/tmp` a tmpfs, the session
//! files at `/mnt/files`, the bridge socket at `/run/workbench/bridge.sock`, and the seccomp
//! filters. When the operator enables egress, the network namespace stays empty; only the egress
//! proxy's socket is added (read-only, `/run/workbench/egress.sock`) with the `HTTP(S)_PROXY`
//! variables naming the driver's loopback relay to it.
//!
//! **Fallback** (no usable bubblewrap): the interpreter runs directly as the slot's uid, in a
//! new session, confined by landlock (read-only system paths, read-write files and a private
//! temp dir, nothing else; no signals or abstract sockets outside), the same seccomp filters
//! plus a ban on non-unix sockets, and rlimits (`RLIMIT_AS` stands in for the memory cgroup when
//! there is none). It shares the host's pid and mount namespaces, so it is weaker: code sees
//! host paths (the files directory by its host path) and process ids.

use std::fmt;
use std::io::{self, Seek, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope,
};
use nix::fcntl::OFlag;
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::unistd::pipe2;
use tokio::process::Command;

use crate::config::{Egress, WorkbenchConfig};
use crate::seccomp::Filters;
use crate::spawn::{ChildSetup, Launcher};

/// How sandboxes are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxKind {
    Bubblewrap,
    /// landlock + seccomp + rlimits.
    Landlock,
}

/// How tiers are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    CgroupV2,
    CgroupV1,
    /// Per-process rlimits only: memory is `RLIMIT_AS`, CPU is not limited beyond affinity.
    Rlimits,
}

/// The isolation actually in force, for `/readyz` and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isolation {
    pub sandbox: SandboxKind,
    pub limits: LimitKind,
}

impl Isolation {
    /// Bubblewrap and cgroups: everything the design asks for.
    pub fn is_full(self) -> bool {
        self.sandbox == SandboxKind::Bubblewrap && self.limits != LimitKind::Rlimits
    }

    /// `bubblewrap+cgroup-v1`, `landlock+rlimits`, …
    pub fn as_str(self) -> &'static str {
        match (self.sandbox, self.limits) {
            (SandboxKind::Bubblewrap, LimitKind::CgroupV2) => "bubblewrap+cgroup-v2",
            (SandboxKind::Bubblewrap, LimitKind::CgroupV1) => "bubblewrap+cgroup-v1",
            (SandboxKind::Bubblewrap, LimitKind::Rlimits) => "bubblewrap+rlimits",
            (SandboxKind::Landlock, LimitKind::CgroupV2) => "landlock+cgroup-v2",
            (SandboxKind::Landlock, LimitKind::CgroupV1) => "landlock+cgroup-v1",
            (SandboxKind::Landlock, LimitKind::Rlimits) => "landlock+rlimits",
        }
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the sandbox's driver finds things, as paths *inside* the sandbox.
#[derive(Debug, Clone)]
pub(crate) struct InnerPaths {
    pub(crate) files: String,
    pub(crate) tmp: String,
    pub(crate) bridge: String,
    /// The egress proxy's socket, when the sandbox has egress.
    pub(crate) egress: Option<String>,
}

/// Host paths of one sandbox instance.
#[derive(Debug, Clone)]
pub(crate) struct HostPaths {
    pub(crate) files: PathBuf,
    pub(crate) driver: PathBuf,
    /// Bridge socket.
    pub(crate) bridge: PathBuf,
    /// The fallback's private temp dir.
    pub(crate) tmp: PathBuf,
}

const DRIVER_INSIDE: &str = "/opt/workbench/driver.py";
const BRIDGE_INSIDE: &str = "/run/workbench/bridge.sock";
const FILES_INSIDE: &str = "/mnt/files";
const EGRESS_INSIDE: &str = "/run/workbench/egress.sock";
/// The loopback port inside the sandbox where the driver relays to the egress proxy.
pub(crate) const EGRESS_PORT: u16 = 3128;
/// The variables HTTP clients (urllib, requests, pip, curl) read their proxy from.
const PROXY_VARS: [&str; 4] = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"];
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The bubblewrap command line for one sandbox. Adds the seccomp descriptors and the info pipe
/// to `setup`; returns the read end of that pipe, on which bwrap reports the host pid of the
/// sandbox's pid 1 (see [`read_ns_init`]).
pub(crate) fn bwrap_command(
    config: &WorkbenchConfig,
    filters: &Filters,
    paths: &HostPaths,
    tmp_bytes: u64,
    setup: &mut ChildSetup,
) -> io::Result<(Command, InnerPaths, OwnedFd)> {
    let mut cmd = Command::new(&config.bwrap);
    base_bwrap_args(&mut cmd, config);
    cmd.arg("--size")
        .arg(tmp_bytes.to_string())
        .args(["--tmpfs", "/tmp"]);
    // Shared memory for multiprocessing; the rest of /dev becomes read-only below.
    cmd.arg("--size")
        .arg(tmp_bytes.to_string())
        .args(["--tmpfs", "/dev/shm"]);
    cmd.arg("--bind").arg(&paths.files).arg(FILES_INSIDE);
    cmd.arg("--ro-bind").arg(&paths.driver).arg(DRIVER_INSIDE);
    cmd.arg("--bind").arg(&paths.bridge).arg(BRIDGE_INSIDE);
    let egress = match &config.egress {
        Egress::Disabled => None,
        Egress::Proxy { socket } => {
            cmd.arg("--ro-bind").arg(socket).arg(EGRESS_INSIDE);
            let url = format!("http://127.0.0.1:{EGRESS_PORT}");
            for var in PROXY_VARS {
                cmd.arg("--setenv").arg(var).arg(&url);
            }
            Some(EGRESS_INSIDE.to_owned())
        }
    };
    // bwrap's root is a tmpfs the sandbox uid owns: seal it (and /dev) once everything is
    // mounted, so /mnt/files, /tmp and /dev/shm are the only writable places.
    cmd.args(["--remount-ro", "/dev", "--remount-ro", "/"]);
    cmd.args(["--chdir", FILES_INSIDE]);
    cmd.args(["--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp"]);
    for program in filters.raw() {
        let fd = memfd_with(&program)?;
        cmd.arg("--add-seccomp-fd").arg(fd.as_raw_fd().to_string());
        setup.inherit.push(fd);
    }
    let (info_read, info_write) = pipe2(OFlag::O_CLOEXEC)?;
    cmd.arg("--info-fd").arg(info_write.as_raw_fd().to_string());
    setup.inherit.push(info_write);
    cmd.arg("--")
        .arg(&config.python)
        .args(["-I", "-u", "-B", DRIVER_INSIDE]);
    let inner = InnerPaths {
        files: FILES_INSIDE.to_owned(),
        tmp: "/tmp".to_owned(),
        bridge: BRIDGE_INSIDE.to_owned(),
        egress,
    };
    Ok((cmd, inner, info_read))
}

/// Reads bwrap's `--info-fd` report (`{"child-pid": N, …}`) until bwrap closes the pipe; `N`
/// is the host pid of the sandbox's pid 1. Killing that process (rather than bwrap) lets the
/// kernel tear the pid namespace down and every parent reap its child, so no zombie is left
/// for the host's init.
pub(crate) async fn read_ns_init(info: OwnedFd) -> io::Result<i32> {
    use tokio::io::AsyncReadExt;
    let mut pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(info)?;
    let mut text = String::new();
    pipe.read_to_string(&mut text).await?;
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("child-pid")?.as_i64())
        .and_then(|p| i32::try_from(p).ok())
        .ok_or_else(|| io::Error::other(format!("unexpected bwrap info: {text:?}")))
}

/// Flags shared by real sandboxes and the start-up probe.
fn base_bwrap_args(cmd: &mut Command, config: &WorkbenchConfig) {
    // An empty environment for bwrap itself: its pid 1 would otherwise expose the server's.
    cmd.env_clear();
    cmd.args([
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "workbench",
        "--clearenv",
        "--setenv",
        "PATH",
        PATH,
        "--setenv",
        "LANG",
        "C.UTF-8",
    ]);
    for path in &config.system_paths {
        match std::fs::read_link(path) {
            Ok(target) => {
                cmd.arg("--symlink").arg(target).arg(path);
            }
            Err(_) if path.exists() => {
                cmd.arg("--ro-bind").arg(path).arg(path);
            }
            Err(_) => {}
        }
    }
    cmd.args(["--proc", "/proc", "--dev", "/dev"]);
}

/// A memfd holding `bytes`, positioned at the start (bwrap reads it to the end).
fn memfd_with(bytes: &[u8]) -> io::Result<OwnedFd> {
    let fd = memfd_create(c"workbench-seccomp", MFdFlags::MFD_CLOEXEC)?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file.into())
}

/// The fallback command line for one sandbox. Adds landlock, seccomp and its own session and
/// parent-death signal to `setup`.
pub(crate) fn fallback_command(
    config: &WorkbenchConfig,
    filters: &Filters,
    paths: &HostPaths,
    setup: &mut ChildSetup,
) -> io::Result<(Command, InnerPaths)> {
    setup.landlock = Some(landlock_ruleset(config, paths)?);
    setup.seccomp = filters.programs.clone();
    setup.new_session = true;
    setup.parent_death_signal = true;
    let mut cmd = Command::new(&config.python);
    cmd.env_clear()
        .env("PATH", PATH)
        .env("LANG", "C.UTF-8")
        .env("HOME", &paths.tmp)
        .env("TMPDIR", &paths.tmp)
        .current_dir(&paths.files)
        .arg("-I")
        .arg("-u")
        .arg("-B")
        .arg(&paths.driver);
    let inner = InnerPaths {
        files: path_str(&paths.files)?,
        tmp: path_str(&paths.tmp)?,
        bridge: path_str(&paths.bridge)?,
        // No network namespace to hold a relay: the fallback never gets egress.
        egress: None,
    };
    Ok((cmd, inner))
}

fn path_str(p: &Path) -> io::Result<String> {
    p.to_str().map(str::to_owned).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not UTF-8", p.display()),
        )
    })
}

fn landlock_ruleset(
    config: &WorkbenchConfig,
    paths: &HostPaths,
) -> io::Result<landlock::RulesetCreated> {
    let abi = ABI::V6;
    let err = |e: landlock::RulesetError| io::Error::other(format!("landlock: {e}"));
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let file_rw = AccessFs::from_file(abi);
    let mut rules: Vec<(PathBuf, landlock::BitFlags<AccessFs>)> = Vec::new();
    for p in &config.system_paths {
        rules.push((p.clone(), read));
    }
    rules.push((config.python.clone(), read));
    rules.push((paths.driver.clone(), read & file_rw));
    rules.push((paths.files.clone(), all));
    rules.push((paths.tmp.clone(), all));
    rules.push(("/dev/null".into(), file_rw));
    rules.push(("/dev/zero".into(), read & file_rw));
    rules.push(("/dev/urandom".into(), read & file_rw));
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .map_err(err)?
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .map_err(err)?
        .create()
        .map_err(err)?;
    for (path, access) in rules {
        // Missing optional paths are skipped, as in the bubblewrap case.
        let Ok(fd) = PathFd::new(&path) else { continue };
        let access = if path.is_dir() {
            access
        } else {
            access & file_rw
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(err)?;
    }
    Ok(ruleset)
}

/// Whether bubblewrap can build a sandbox here: runs the interpreter once in a sandbox with the
/// real flags, as `uid`. `Err` carries bwrap's complaint.
pub(crate) async fn probe_bwrap(
    config: &WorkbenchConfig,
    launcher: &Launcher,
    uid: u32,
) -> Result<(), String> {
    if !config.bwrap.exists() {
        return Err(format!(
            "{} does not exist (install the bubblewrap package)",
            config.bwrap.display()
        ));
    }
    let mut cmd = Command::new(&config.bwrap);
    base_bwrap_args(&mut cmd, config);
    cmd.arg("--")
        .arg(&config.python)
        .args(["-I", "-S", "-c", "pass"]);
    cmd.uid(uid)
        .gid(uid)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = launcher
        .spawn(cmd)
        .await
        .map_err(|e| format!("could not run bwrap: {e}"))?;
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .map_err(|_| "the probe sandbox did not finish in 15 s".to_owned())?
        .map_err(|e| format!("waiting for the probe sandbox: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} ({})",
            String::from_utf8_lossy(&out.stderr).trim(),
            out.status
        ))
    }
}
