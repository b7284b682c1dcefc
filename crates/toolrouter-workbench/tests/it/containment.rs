//! Attacks on the sandbox; every one must be contained.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

use toolrouter_workbench::{ExecOptions, RestartCause, SandboxSpec, WorkbenchError};

use crate::harness::{Harness, eventually, processes_of, session};

#[tokio::test]
async fn another_sessions_files_are_out_of_reach() {
    let h = Harness::new().await;
    let (a, b) = (session(), session());
    h.eval(&a, "open('/mnt/files/secret.txt', 'w').write('a-secret')")
        .await;
    let a_dir = h.wb.files_dir(&a);
    let probe = format!(
        "import os\nresults = {{}}\nfor p in [{a:?}, {a_file:?}, {root:?}]:\n    try:\n        \
         results[p] = os.listdir(p) if os.path.isdir(p) else open(p).read()\n    except OSError as e:\n        \
         results[p] = type(e).__name__\n(sorted(os.listdir('/mnt/files')), [results[k] for k in sorted(results)])",
        a = a_dir.to_str().unwrap(),
        a_file = a_dir.join("secret.txt").to_str().unwrap(),
        root = h.config.files_root.to_str().unwrap(),
    );
    let out = h.eval(&b, &probe).await;
    assert_eq!(
        out,
        "([], ['FileNotFoundError', 'FileNotFoundError', 'FileNotFoundError'])"
    );
    // And on the host, the two directories belong to different uids and are private.
    let (ma, mb) = (
        std::fs::metadata(&a_dir).unwrap(),
        std::fs::metadata(h.wb.files_dir(&b)).unwrap(),
    );
    assert_ne!(ma.uid(), mb.uid());
    assert_eq!(ma.permissions().mode() & 0o777, 0o700);
    assert_eq!(mb.permissions().mode() & 0o777, 0o700);
    assert_eq!(ma.uid(), h.wb.sandbox_info(&a).await.unwrap().uid);
    assert_eq!(
        h.eval(&a, "import os\nos.getuid()").await,
        ma.uid().to_string()
    );
    h.wb.shutdown().await;
}

/// Variable set in the environment of [`decoy_probe_child`] by its parent test.
const DECOY_ENV: &str = "TOOLROUTER_TEST_MASTER_KEY";
const DECOY_DATA: &str = "TOOLROUTER_TEST_DATA_DIR";

/// Runs [`decoy_probe_child`] in a child process whose environment holds decoy secrets (the
/// test process stands in for the server; changing its own environment would race the other
/// test threads), next to a decoy data directory with a database and a master key.
#[test]
fn the_servers_environment_and_data_are_out_of_reach() {
    let data = tempfile::tempdir().unwrap();
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, content) in [
        ("toolrouter.db", "SQLite format 3 decoy"),
        ("master.key", "decoy-master-key-material"),
    ] {
        let path = data.path().join(name);
        std::fs::write(&path, content).unwrap();
        // World-readable on purpose: only the sandbox's view of the filesystem protects them.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "containment::decoy_probe_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DECOY_ENV, "decoy-4f1c9a7e2b5d8e3f6a0b1c2d")
        .env(DECOY_DATA, data.path())
        .env(
            "DATABASE_URL",
            "postgres://toolrouter:decoy-db-password@127.0.0.1/toolrouter",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "the probe ran: {stdout}");
}

/// Only meaningful as the child of [`the_servers_environment_and_data_are_out_of_reach`];
/// without its decoys it has nothing to check. Egress is on (the configuration that adds to
/// the sandbox's environment): only the proxy variables may join bubblewrap's usual ones.
#[tokio::test]
async fn decoy_probe_child() {
    let Ok(data) = std::env::var(DECOY_DATA) else {
        return;
    };
    assert!(std::env::var(DECOY_ENV).is_ok());
    let h = Harness::with_egress(toolrouter_exec::EgressConfig::default(), |_| {}).await;
    let s = session();
    let code = format!(
        "import os\ndef read(p):\n    try:\n        return open(p, 'rb').read().decode('latin-1')\n    \
         except OSError as e:\n        return type(e).__name__\n\
         seen = {{p: read(p) for p in ['/proc/1/environ', '/proc/self/environ', '/proc/1/cmdline', \
         {db:?}, {key:?}]}}\nseen['os.environ'] = repr(dict(os.environ))\nseen",
        db = format!("{data}/toolrouter.db"),
        key = format!("{data}/master.key"),
    );
    let out = h.py(&s, &code).await;
    assert_eq!(out.error, None);
    let seen = out.results;
    assert!(seen.contains("'/proc/self/environ': 'PATH="), "{seen}");
    assert!(
        seen.contains("'/proc/1/environ': ''"),
        "bwrap's pid 1 has none: {seen}"
    );
    assert_eq!(
        h.eval(&s, "sorted(os.environ)").await,
        "['HOME', 'HTTPS_PROXY', 'HTTP_PROXY', 'LANG', 'PATH', 'PWD', 'TMPDIR', 'http_proxy', 'https_proxy']"
    );
    assert!(
        seen.contains("toolrouter.db': 'FileNotFoundError'"),
        "{seen}"
    );
    assert!(seen.contains("master.key': 'FileNotFoundError'"), "{seen}");
    assert!(
        !seen.contains(DECOY_ENV) && !seen.contains("decoy"),
        "{seen}"
    );
    // Nothing from this process's environment is visible (values long enough to be telling).
    for (key, value) in std::env::vars() {
        // The data directory's path is in the probe's own code.
        if value.len() >= 8 && key != DECOY_DATA {
            assert!(!seen.contains(&value), "{key}={value} leaked: {seen}");
        }
    }
    h.wb.shutdown().await;
}

#[tokio::test]
async fn writes_outside_files_and_tmp_fail() {
    let h = Harness::new().await;
    let s = session();
    let code = "import os\ndef write(p):\n    try:\n        with open(p, 'w') as f:\n            f.write('x')\n        \
                return 'written'\n    except OSError as e:\n        return type(e).__name__\n\
                targets = ['/usr/evil', '/etc/evil', '/evil', '/opt/workbench/driver.py', '/opt/workbench/evil', \
                '/run/workbench/evil', '/mnt/evil', '/dev/evil', '/proc/sys/kernel/hostname', '/sys/evil', \
                '/usr/bin/python3', '/mnt/files/ok', '/tmp/ok']\n{t: write(t) for t in targets}";
    let out = h.eval(&s, code).await;
    for target in [
        "/usr/evil",
        "/etc/evil",
        "/evil",
        "/opt/workbench/driver.py",
        "/opt/workbench/evil",
        "/run/workbench/evil",
        "/mnt/evil",
        "/dev/evil",
        "/proc/sys/kernel/hostname",
        "/sys/evil",
        "/usr/bin/python3",
    ] {
        assert!(
            !out.contains(&format!("'{target}': 'written'")),
            "{target} was writable: {out}"
        );
    }
    assert!(
        out.contains("'/mnt/files/ok': 'written'") && out.contains("'/tmp/ok': 'written'"),
        "{out}"
    );
    assert!(!std::path::Path::new("/evil").exists() && !std::path::Path::new("/usr/evil").exists());
    // Root-level chmod/chown tricks fail too.
    let out = h.eval(&s, "import os\ntry:\n    os.chown('/mnt/files/ok', 0, 0)\n    r = 'chowned'\nexcept OSError as e:\n    r = 'refused'\nr").await;
    assert_eq!(out, "'refused'");
    h.wb.shutdown().await;
}

#[tokio::test]
async fn a_fork_bomb_hits_the_pids_limit() {
    let h = Harness::new().await;
    let (s, other) = (session(), session());
    let code = "import os, time\npids, err = [], None\ntry:\n    for _ in range(100000):\n        pid = os.fork()\n        \
                if pid == 0:\n            time.sleep(60)\n            os._exit(0)\n        pids.append(pid)\nexcept OSError as e:\n    \
                err = e.errno\nfor p in pids:\n    os.kill(p, 9)\n    os.waitpid(p, 0)\n(len(pids), err)";
    let out = h.eval(&s, code).await;
    let (count, errno) = out
        .trim_matches(|c| c == '(' || c == ')')
        .split_once(", ")
        .unwrap();
    let count: u32 = count.parse().unwrap();
    assert!(count > 10 && count < h.config.pids_max, "{out}");
    assert_eq!(errno, "11", "EAGAIN: {out}");
    // The classic bash bomb keeps running in the background, pinned at the pids limit; the
    // sandbox and its neighbours keep answering, and stopping the sandbox ends it.
    let uid = h.wb.sandbox_info(&s).await.unwrap().uid;
    h.bash(&s, ":(){ :|:& };:").await;
    assert_eq!(h.eval(&other, "1 + 1").await, "2");
    assert_eq!(h.eval(&s, "1 + 1").await, "2");
    assert!(!processes_of(uid).is_empty());
    h.wb.stop(&s).await;
    assert!(processes_of(uid).is_empty(), "the bomb is gone");
    h.wb.shutdown().await;
}

#[tokio::test]
async fn memory_beyond_the_tier_kills_the_sandbox_and_files_survive() {
    let h = Harness::new().await;
    let s = session();
    h.eval(
        &s,
        "open('/mnt/files/notes.txt', 'w').write('before the crash')\nstate = 1",
    )
    .await;
    // The standard tier has 1 GiB; this touches 1.5 GiB.
    let out = h.py(&s, "hog = b'\\x01' * (1536 << 20)\nlen(hog)").await;
    let error = out.error.expect("an error");
    assert!(
        error.contains("MemoryError: the sandbox ran out of memory (the standard tier has 1 GiB)"),
        "{error}"
    );
    let out = h
        .py(
            &s,
            "('state' in globals(), open('/mnt/files/notes.txt').read())",
        )
        .await;
    assert_eq!(out.restarted, Some(RestartCause::OutOfMemory));
    assert_eq!(out.results, "(False, 'before the crash')");
    h.wb.shutdown().await;
}

#[tokio::test]
async fn a_cpu_spin_does_not_starve_another_sandbox() {
    let h = Harness::new().await;
    let (spinner, neighbour) = (session(), session());
    assert_eq!(
        h.eval(&neighbour, "import os\nlen(os.sched_getaffinity(0))")
            .await,
        "1",
        "standard = 1 vCPU"
    );
    let wb = h.wb.clone();
    let spin_session = spinner.clone();
    let spin = tokio::spawn(async move {
        let options = ExecOptions {
            timeout: Some(Duration::from_secs(60)),
            ..ExecOptions::default()
        };
        wb.python(
            &spin_session,
            SandboxSpec::default(),
            "open('/mnt/files/spinning', 'w').close()\nwhile True:\n    pass",
            options,
        )
        .await
    });
    let marker = h.wb.files_dir(&spinner).join("spinning");
    eventually("the spinner started", || marker.exists()).await;
    for i in 0..20 {
        assert_eq!(
            h.eval(&neighbour, &format!("{i} * 2")).await,
            (i * 2).to_string()
        );
    }
    assert!(
        !spin.is_finished(),
        "the spinner is still spinning while its neighbour answers"
    );
    // Deleting the session ends the spinning call at once.
    h.wb.destroy(&spinner).await.unwrap();
    assert!(matches!(
        spin.await.unwrap(),
        Err(WorkbenchError::SessionDeleted)
    ));
    h.wb.shutdown().await;
}

#[tokio::test]
async fn the_network_is_unreachable() {
    let h = Harness::new().await;
    let s = session();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let code = format!(
        "import socket\ndef attempt(f):\n    try:\n        f()\n        return 'ok'\n    except OSError as e:\n        \
         return type(e).__name__\ndef connect(addr):\n    s = socket.socket()\n    s.settimeout(3)\n    s.connect(addr)\n\
         (attempt(lambda: connect(('127.0.0.1', {port}))), attempt(lambda: connect(('1.1.1.1', 80))), \
         attempt(lambda: socket.getaddrinfo('example.com', 443)), sorted(n for _, n in socket.if_nameindex()))"
    );
    let out = h.eval(&s, &code).await;
    assert!(!out.contains("'ok'"), "{out}");
    assert!(out.ends_with("['lo'])"), "only loopback: {out}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the host listener saw nothing"
    );
    // Egress is off by default: no proxy socket, no proxy variables, nothing on the relay port.
    assert_eq!(
        h.eval(
            &s,
            "import os
(os.path.exists('/run/workbench/egress.sock'), sorted(os.environ),              attempt(lambda: connect(('127.0.0.1', 3128))))"
        )
        .await,
        "(False, ['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR'], 'ConnectionRefusedError')"
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn ptrace_mount_unshare_and_friends_are_denied() {
    let h = Harness::new().await;
    let s = session();
    let code = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n\
                def errno(r):\n    return 'allowed' if r == 0 else os.strerror(ctypes.get_errno())\n\
                r = {\n  'ptrace': errno(libc.ptrace(0, 0, 0, 0)),\n  \
                'mount': errno(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)),\n  \
                'unshare_user': errno(libc.unshare(0x10000000)),\n  'unshare_ns': errno(libc.unshare(0x00020000)),\n  \
                'unshare_net': errno(libc.unshare(0x40000000)),\n  \
                'setns': errno(libc.setns(os.open('/proc/self/ns/net', os.O_RDONLY), 0)),\n  \
                'keyctl': errno(libc.syscall(250, 0, 0, 0, 0, 0)),\n  'bpf': errno(libc.syscall(321, 0, 0, 0)),\n  \
                'perf_event_open': errno(libc.syscall(298, 0, 0, -1, -1, 0)),\n  \
                'chroot': errno(libc.chroot(b'/tmp')),\n}\n\
                status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n\
                r['CapEff'] = status['CapEff'].strip()\nr['NoNewPrivs'] = status['NoNewPrivs'].strip()\n\
                r['Seccomp'] = status['Seccomp'].strip()\nr";
    let out = h.eval(&s, code).await;
    assert!(!out.contains("'allowed'"), "{out}");
    for denied in [
        "ptrace",
        "mount",
        "unshare_user",
        "unshare_ns",
        "unshare_net",
        "setns",
        "keyctl",
        "bpf",
        "perf_event_open",
        "chroot",
    ] {
        assert!(
            out.contains(&format!("'{denied}': 'Operation not permitted'")),
            "{denied}: {out}"
        );
    }
    assert!(out.contains("'CapEff': '0000000000000000'"), "{out}");
    assert!(
        out.contains("'NoNewPrivs': '1'") && out.contains("'Seccomp': '2'"),
        "{out}"
    );
    // The userns tools fail too; threads and subprocesses still work (clone3 falls back).
    let out = h.bash(&s, "unshare -Ur true; echo rc=$?").await;
    assert!(out.stdout.contains("rc=1"), "{out:?}");
    let threads = "import threading, subprocess\nt = threading.Thread(target=lambda: None)\nt.start()\nt.join()\n\
                   subprocess.run(['true']).returncode";
    assert_eq!(h.eval(&s, threads).await, "0");
    h.wb.shutdown().await;
}
