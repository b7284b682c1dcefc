//! A workbench per test: private directories, uid range and cgroup name.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use toolrouter_core::SessionId;
use toolrouter_exec::EgressConfig;
use toolrouter_workbench::{
    BashOutput, Egress, ExecOptions, NoTools, PythonOutput, SandboxSpec, ToolBridge, Workbench,
    WorkbenchConfig,
};

static NEXT: AtomicU32 = AtomicU32::new(0);

pub(crate) struct Harness {
    pub(crate) wb: Workbench,
    pub(crate) config: WorkbenchConfig,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub(crate) async fn new() -> Harness {
        Harness::with(|_| {}).await
    }

    pub(crate) async fn with(tweak: impl FnOnce(&mut WorkbenchConfig)) -> Harness {
        Harness::with_bridge(tweak, Arc::new(NoTools)).await
    }

    /// A workbench whose sandboxes have egress through the exec crate's proxy, started as the
    /// binary starts it (serving only this workbench's uids), on a socket in the test's
    /// directory.
    pub(crate) async fn with_egress(
        proxy: EgressConfig,
        tweak: impl FnOnce(&mut WorkbenchConfig),
    ) -> Harness {
        Harness::with(|c| {
            let socket = c.runtime_dir.with_file_name("egress.sock");
            let listener = toolrouter_exec::bind_egress_socket(&socket).expect("egress socket");
            let proxy = EgressConfig {
                peer_uids: Some(c.uid_base..c.uid_base + c.max_sandboxes),
                ..proxy
            };
            tokio::spawn(toolrouter_exec::serve_egress(
                listener,
                proxy,
                std::future::pending(),
            ));
            c.egress = Egress::Proxy { socket };
            tweak(c);
        })
        .await
    }

    pub(crate) async fn with_bridge(
        tweak: impl FnOnce(&mut WorkbenchConfig),
        bridge: Arc<dyn ToolBridge>,
    ) -> Harness {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = tempfile::tempdir().unwrap();
        // Sandbox uids must traverse to their files directory and socket.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let mut config = WorkbenchConfig::new(dir.path().join("files"), dir.path().join("run"));
        config.cgroup_name = format!("toolrouter-wb-test-{}-{n}", std::process::id());
        config.uid_base = 300_000 + (std::process::id() % 500) * 2000 + n * 16;
        config.max_sandboxes = 16;
        config.interrupt_grace = Duration::from_secs(1);
        tweak(&mut config);
        let wb = Workbench::new(config.clone(), bridge)
            .await
            .expect("workbench starts");
        Harness {
            wb,
            config,
            _dir: dir,
        }
    }

    pub(crate) async fn py(&self, session: &SessionId, code: &str) -> PythonOutput {
        self.py_with(
            session,
            SandboxSpec::default(),
            code,
            ExecOptions::default(),
        )
        .await
    }

    pub(crate) async fn py_with(
        &self,
        session: &SessionId,
        spec: SandboxSpec,
        code: &str,
        options: ExecOptions,
    ) -> PythonOutput {
        self.wb
            .python(session, spec, code, options)
            .await
            .expect("call runs")
    }

    /// Runs code that must succeed; returns its result.
    pub(crate) async fn eval(&self, session: &SessionId, code: &str) -> String {
        let out = self.py(session, code).await;
        assert_eq!(
            out.error, None,
            "code failed: {code}\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        out.results
    }

    pub(crate) async fn bash(&self, session: &SessionId, command: &str) -> BashOutput {
        self.wb
            .bash(
                session,
                SandboxSpec::default(),
                command,
                ExecOptions::default(),
            )
            .await
            .expect("call runs")
    }

    /// Path of the cgroup parent in the v1 memory hierarchy (or the v2 one).
    pub(crate) fn cgroup_parents(&self) -> Vec<PathBuf> {
        let root = &self.config.cgroup_root;
        ["memory", "cpu", "pids", ""]
            .iter()
            .map(|h| root.join(h).join(&self.config.cgroup_name))
            .collect()
    }
}

pub(crate) fn session() -> SessionId {
    SessionId::generate()
}

/// Host pids of live processes running as `uid`. Zombies do not count: they have exited and
/// hold nothing but a pid until their parent reaps them (bwrap leaves its pid 1 to the host's
/// init, which reaps it in its own time).
pub(crate) fn processes_of(uid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        let real_uid = field("Uid:").and_then(|l| l.split_whitespace().next());
        let zombie = field("State:").is_some_and(|s| s.starts_with('Z'));
        if real_uid == Some(uid.to_string().as_str()) && !zombie {
            found.push(pid);
        }
    }
    found
}

/// Polls `cond` until it holds; panics after a generous deadline (not a timing assertion:
/// the deadline only turns a hang into a failure).
pub(crate) async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..600 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}
