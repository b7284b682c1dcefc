//! Starting sandbox processes: what runs between `fork` and `exec`, and the one thread that
//! forks.
//!
//! This is the only module with `unsafe`: `pre_exec` is unsafe because its closure runs in the
//! forked child of a multi-threaded process. The closure only makes async-signal-safe system
//! calls on values prepared before the fork (pre-opened cgroup files, a stack `CpuSet`, compiled
//! BPF, a created landlock ruleset): no allocation, no locks.
//!
//! All sandboxes are forked by one dedicated thread ([`Launcher`]). Parent-death signals
//! (bubblewrap's `--die-with-parent`, the fallback's `PR_SET_PDEATHSIG`) fire when the *thread*
//! that forked exits, and runtime threads come and go; this thread lives exactly as long as the
//! workbench, so sandboxes die with the workbench and never earlier.
#![expect(
    unsafe_code,
    reason = "Command::pre_exec is unsafe; the closure is restricted to async-signal-safe calls"
)]

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::thread;

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use seccompiler::BpfProgram;
use tokio::process::{Child, Command};

/// What the child does to itself before `exec`, in this order.
#[derive(Debug, Default)]
pub(crate) struct ChildSetup {
    /// `cgroup.procs` files to join (by writing "0", meaning "the writer").
    pub(crate) cgroup_procs: Vec<File>,
    pub(crate) rlimits: Vec<(Resource, u64)>,
    pub(crate) cpus: Option<CpuSet>,
    /// Descriptors to pass through `exec` (their close-on-exec flag is cleared in the child
    /// only, so no other child inherits them).
    pub(crate) inherit: Vec<OwnedFd>,
    /// Start a new session (no controlling terminal; the fallback has no bwrap to do it).
    pub(crate) new_session: bool,
    /// Die when the launcher thread dies (the fallback; bwrap does this itself).
    pub(crate) parent_death_signal: bool,
    pub(crate) landlock: Option<landlock::RulesetCreated>,
    /// Seccomp programs installed last (the fallback; bwrap installs them itself).
    pub(crate) seccomp: Vec<BpfProgram>,
}

impl ChildSetup {
    /// Installs the setup on `cmd`.
    pub(crate) fn apply(self, cmd: &mut Command) {
        let ChildSetup {
            cgroup_procs,
            rlimits,
            cpus,
            inherit,
            new_session,
            parent_death_signal,
            mut landlock,
            seccomp,
        } = self;
        let child = move || -> io::Result<()> {
            for file in &cgroup_procs {
                nix::unistd::write(file, b"0")?;
            }
            for &(resource, limit) in &rlimits {
                setrlimit(resource, limit, limit)?;
            }
            if let Some(set) = &cpus {
                sched_setaffinity(Pid::from_raw(0), set)?;
            }
            for fd in &inherit {
                fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
            }
            if new_session {
                nix::unistd::setsid()?;
            }
            if parent_death_signal {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            }
            if let Some(ruleset) = landlock.take() {
                // restrict_self also sets no_new_privs, which seccomp needs below.
                ruleset
                    .restrict_self()
                    .map_err(|_| io::Error::from_raw_os_error(nix::libc::EPERM))?;
            }
            for program in &seccomp {
                seccompiler::apply_filter(program)
                    .map_err(|_| io::Error::from_raw_os_error(nix::libc::EPERM))?;
            }
            Ok(())
        };
        // SAFETY: the closure runs between fork and exec. It performs only system calls
        // (write, setrlimit, sched_setaffinity, fcntl, setsid, prctl, landlock_restrict_self,
        // seccomp) on data allocated before the fork, and its error paths build `io::Error`s
        // from raw OS codes, which does not allocate.
        unsafe {
            cmd.pre_exec(child);
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The thread that forks every sandbox (see the module docs).
#[derive(Debug)]
pub(crate) struct Launcher {
    jobs: mpsc::Sender<Job>,
}

impl Launcher {
    pub(crate) fn start(runtime: tokio::runtime::Handle) -> io::Result<Launcher> {
        let (jobs, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("workbench-launcher".into())
            .spawn(move || {
                // tokio registers children with the runtime's SIGCHLD handling when spawned inside it.
                let _runtime = runtime.enter();
                for job in rx {
                    job();
                }
            })?;
        Ok(Launcher { jobs })
    }

    /// Starts `cmd` without waiting for it (cleanup from `Drop`); tokio reaps it.
    pub(crate) fn detach(&self, mut cmd: Command) {
        let _ = self.jobs.send(Box::new(move || {
            let _ = cmd.spawn();
        }));
    }

    pub(crate) async fn spawn(&self, mut cmd: Command) -> io::Result<Child> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let gone = || io::Error::other("the workbench launcher thread has stopped");
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(cmd.spawn());
            }))
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}
