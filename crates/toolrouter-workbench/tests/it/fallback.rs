//! The fallbacks: landlock + seccomp + rlimits instead of bubblewrap, and rlimits instead of
//! cgroups. Weaker by design, but the same attacks stay contained.

use std::os::unix::fs::PermissionsExt;

use toolrouter_workbench::{
    CgroupPreference, IsolationPreference, LimitKind, RestartCause, SandboxKind,
};

use crate::harness::{Harness, eventually, processes_of, session};

#[tokio::test]
async fn landlock_fallback_runs_code_and_contains_it() {
    let h = Harness::with(|c| c.isolation = IsolationPreference::Fallback).await;
    assert_eq!(h.wb.isolation().sandbox, SandboxKind::Landlock);
    assert!(!h.wb.isolation().is_full());
    let (s, other) = (session(), session());
    let files = h.wb.files_dir(&s);
    assert_eq!(
        h.eval(&s, "import os\nx = 41\nos.getcwd()").await,
        format!("'{}'", files.display())
    );
    assert_eq!(h.eval(&s, "x + 1").await, "42");
    assert_eq!(
        h.bash(&s, "echo hi > f.txt; cat f.txt").await.stdout,
        "hi\n"
    );
    assert!(files.join("f.txt").exists());
    assert_eq!(
        h.eval(&s, "sorted(os.environ)").await,
        "['HOME', 'LANG', 'PATH', 'TMPDIR']"
    );

    h.eval(&other, "open('secret', 'w').write('s')").await;
    let decoy = tempfile::tempdir().unwrap();
    std::fs::set_permissions(decoy.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(decoy.path().join("master.key"), "decoy").unwrap();
    std::fs::set_permissions(
        decoy.path().join("master.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let code = format!(
        "import ctypes, socket\nlibc = ctypes.CDLL(None, use_errno=True)\ndef attempt(f):\n    try:\n        f()\n        \
         return 'ok'\n    except OSError as e:\n        return type(e).__name__\n\
         [attempt(lambda: open({other:?}).read()), attempt(lambda: open({decoy:?}).read()), \
         attempt(lambda: open('/proc/1/environ').read()), attempt(lambda: open('/etc/passwd').read()), \
         attempt(lambda: open('/usr/evil', 'w')), attempt(lambda: open('/tmp/evil', 'w')), \
         attempt(lambda: socket.socket(socket.AF_INET)), libc.ptrace(0, 0, 0, 0), attempt(lambda: open('mine', 'w'))]",
        other = h.wb.files_dir(&other).join("secret").to_str().unwrap(),
        decoy = decoy.path().join("master.key").to_str().unwrap(),
    );
    assert_eq!(
        h.eval(&s, &code).await,
        "['PermissionError', 'PermissionError', 'PermissionError', 'PermissionError', 'PermissionError', \
         'PermissionError', 'PermissionError', -1, 'ok']"
    );
    let uid = h.wb.sandbox_info(&s).await.unwrap().uid;
    h.wb.shutdown().await;
    eventually("no process of the sandbox is left", || {
        processes_of(uid).is_empty()
    })
    .await;
}

#[tokio::test]
async fn without_cgroups_memory_is_bounded_by_rlimits() {
    let h = Harness::with(|c| c.cgroups = CgroupPreference::Disabled).await;
    assert_eq!(h.wb.isolation().limits, LimitKind::Rlimits);
    assert_eq!(h.wb.isolation().as_str(), "bubblewrap+rlimits");
    let s = session();
    h.eval(&s, "x = 1").await;
    // The address space limit turns the allocation into an ordinary MemoryError.
    let out = h.py(&s, "hog = b'\\x01' * (3 << 30)").await;
    assert!(out.error.unwrap_or_default().contains("MemoryError"));
    let out = h.py(&s, "x").await;
    assert_eq!(
        (out.results.as_str(), out.restarted),
        ("1", None::<RestartCause>)
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn the_fallback_without_cgroups_still_cleans_up_every_process() {
    let h = Harness::with(|c| {
        c.isolation = IsolationPreference::Fallback;
        c.cgroups = CgroupPreference::Disabled;
    })
    .await;
    assert_eq!(h.wb.isolation().as_str(), "landlock+rlimits");
    let s = session();
    // A child that leaves the interpreter's session and process group.
    h.eval(
        &s,
        "import subprocess\nsubprocess.Popen(['setsid', 'sleep', '300'])\n1",
    )
    .await;
    let uid = h.wb.sandbox_info(&s).await.unwrap().uid;
    assert!(processes_of(uid).len() >= 2);
    h.wb.shutdown().await;
    // Processes that left the interpreter's process group become the host init's children
    // when killed; it reaps them.
    eventually("no process of the sandbox is left", || {
        processes_of(uid).is_empty()
    })
    .await;
}
