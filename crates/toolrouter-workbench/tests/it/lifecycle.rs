//! The supervisor: tiers, idle reaping, the sandbox cap, capacity, delete, stop and shutdown.

use std::time::Duration;

use toolrouter_workbench::{
    Capacity, ExecOptions, RestartCause, SandboxSize, SandboxSpec, WorkbenchError,
};

use crate::harness::{Harness, eventually, processes_of, session};

const GIB: u64 = 1 << 30;

fn spec(size: SandboxSize) -> SandboxSpec {
    SandboxSpec {
        size,
        ..SandboxSpec::default()
    }
}

#[tokio::test]
async fn the_isolation_in_force_is_reported() {
    let h = Harness::new().await;
    let isolation = h.wb.isolation();
    assert!(
        isolation.is_full(),
        "this host supports bubblewrap and cgroups: {isolation}"
    );
    assert!(
        isolation.as_str().starts_with("bubblewrap+cgroup-v"),
        "{isolation}"
    );
    assert_eq!(h.wb.status().isolation, isolation);
}

#[tokio::test]
async fn changing_the_tier_recreates_the_sandbox_and_keeps_files() {
    let h = Harness::new().await;
    let s = session();
    let affinity = "import os\nlen(os.sched_getaffinity(0))";
    h.eval(&s, "open('/mnt/files/kept', 'w').write('yes')\nx = 1")
        .await;
    assert_eq!(h.eval(&s, affinity).await, "1");
    let host_cpus = std::thread::available_parallelism().unwrap().get().min(2);
    let out = h
        .py_with(
            &s,
            spec(SandboxSize::Medium),
            &format!("{affinity}\n"),
            ExecOptions::default(),
        )
        .await;
    assert_eq!(out.restarted, Some(RestartCause::TierChanged));
    assert_eq!(
        out.results,
        host_cpus.to_string(),
        "medium = 2 vCPU, capped at the host's"
    );
    let out = h
        .py_with(
            &s,
            spec(SandboxSize::Medium),
            "('x' in globals(), open('/mnt/files/kept').read())",
            ExecOptions::default(),
        )
        .await;
    assert_eq!(
        (out.results.as_str(), out.restarted),
        ("(False, 'yes')", None)
    );
    let info = h.wb.sandbox_info(&s).await.unwrap();
    assert_eq!(info.size, SandboxSize::Medium);
    assert!(info.memory_bytes.is_some_and(|m| m > 0));
    assert_eq!(
        h.wb.status().reserved,
        Capacity {
            vcpus: 2,
            memory_bytes: 2 * GIB
        }
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn idle_sandboxes_are_stopped_and_restart_on_use() {
    let h = Harness::with(|c| c.idle_timeout = Duration::from_millis(200)).await;
    let s = session();
    h.eval(&s, "x = 1").await;
    let uid = h.wb.sandbox_info(&s).await.unwrap().uid;
    eventually("the idle sandbox is stopped", || h.wb.status().running == 0).await;
    assert!(
        processes_of(uid).is_empty(),
        "no process of the sandbox's uid is left"
    );
    let out = h.py(&s, "'x' in globals()").await;
    assert_eq!(
        (out.results.as_str(), out.restarted),
        ("False", Some(RestartCause::Idle))
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_cap_is_enforced_with_a_clear_error() {
    let h = Harness::with(|c| c.max_sandboxes = 1).await;
    let (a, b) = (session(), session());
    h.eval(&a, "1").await;
    let err =
        h.wb.python(&b, SandboxSpec::default(), "1", ExecOptions::default())
            .await
            .unwrap_err();
    assert!(
        matches!(err, WorkbenchError::TooManySandboxes { max: 1 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "all 1 workbench sandboxes are in use; retry later or raise the workbench's max_sandboxes"
    );
    h.wb.stop(&a).await;
    assert_eq!(h.eval(&b, "2").await, "2");
    h.wb.shutdown().await;
}

#[tokio::test]
async fn reservations_never_exceed_the_capacity() {
    let h = Harness::with(|c| {
        c.capacity = Capacity {
            vcpus: 2,
            memory_bytes: 2 * GIB,
        }
    })
    .await;
    let (a, b, c) = (session(), session(), session());
    let err =
        h.wb.python(&a, spec(SandboxSize::Xlarge), "1", ExecOptions::default())
            .await
            .unwrap_err();
    assert!(
        matches!(
            err,
            WorkbenchError::TierTooLarge {
                size: SandboxSize::Xlarge
            }
        ),
        "{err:?}"
    );
    h.eval(&a, "1").await;
    h.eval(&b, "1").await;
    assert_eq!(
        h.wb.status().reserved,
        Capacity {
            vcpus: 2,
            memory_bytes: 2 * GIB
        }
    );
    let err =
        h.wb.python(&c, SandboxSpec::default(), "1", ExecOptions::default())
            .await
            .unwrap_err();
    assert!(
        matches!(err, WorkbenchError::CapacityExhausted { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "no capacity for a standard sandbox (1 vCPU, 1 GiB): 2 of 2 vCPU and 2.0 of 2.0 GiB are \
         reserved; retry later or pick a smaller sandbox_size"
    );
    // Growing a running sandbox needs room too; the failed attempt keeps nothing.
    let err =
        h.wb.python(&a, spec(SandboxSize::Medium), "1", ExecOptions::default())
            .await
            .unwrap_err();
    assert!(
        matches!(err, WorkbenchError::CapacityExhausted { .. }),
        "{err:?}"
    );
    assert_eq!(
        h.wb.status().reserved,
        Capacity {
            vcpus: 1,
            memory_bytes: GIB
        }
    );
    h.wb.destroy(&b).await.unwrap();
    assert_eq!(h.eval(&c, "3").await, "3");
    h.wb.shutdown().await;
}

#[tokio::test]
async fn destroy_stops_the_sandbox_and_deletes_its_files() {
    let h = Harness::new().await;
    let s = session();
    h.eval(&s, "open('/mnt/files/f', 'w').write('x')").await;
    let dir = h.wb.files_dir(&s);
    let uid = h.wb.sandbox_info(&s).await.unwrap().uid;
    assert!(dir.join("f").exists());
    h.wb.destroy(&s).await.unwrap();
    assert!(!dir.exists());
    assert_eq!(h.wb.status().running, 0);
    assert!(processes_of(uid).is_empty());
    // Destroying twice, or a session that never ran, is fine.
    h.wb.destroy(&s).await.unwrap();
    h.wb.destroy(&session()).await.unwrap();
    // The id can be used again, from scratch.
    assert_eq!(
        h.eval(&s, "import os\nos.listdir('/mnt/files')").await,
        "[]"
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn a_session_back_in_another_slot_keeps_access_to_its_files() {
    let h = Harness::new().await;
    let (a, b) = (session(), session());
    h.eval(
        &a,
        "import os\nos.makedirs('/mnt/files/d/e')\nopen('/mnt/files/d/e/f', 'w').write('mine')",
    )
    .await;
    let first = h.wb.sandbox_info(&a).await.unwrap().uid;
    h.wb.stop(&a).await;
    // b takes a's old slot, so a comes back as another uid.
    h.eval(&b, "1").await;
    assert_eq!(h.wb.sandbox_info(&b).await.unwrap().uid, first);
    let out = h.py(&a, "open('/mnt/files/d/e/f').read()").await;
    assert_eq!(
        (out.results.as_str(), out.restarted),
        ("'mine'", Some(RestartCause::Stopped))
    );
    let second = h.wb.sandbox_info(&a).await.unwrap().uid;
    assert_ne!(first, second);
    h.eval(&a, "open('/mnt/files/d/e/f', 'a').write(' still')")
        .await;
    assert_eq!(
        std::fs::read_to_string(h.wb.files_dir(&a).join("d/e/f")).unwrap(),
        "mine still"
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn shutdown_leaves_no_process_and_no_cgroup() {
    let h = Harness::new().await;
    let sessions = [session(), session(), session()];
    let mut uids = Vec::new();
    for s in &sessions {
        h.eval(
            s,
            "import subprocess\nsubprocess.Popen(['sleep', '300'])\n1",
        )
        .await;
        uids.push(h.wb.sandbox_info(s).await.unwrap().uid);
    }
    assert!(h.cgroup_parents().iter().any(|p| p.exists()));
    h.wb.shutdown().await;
    for uid in uids {
        assert!(processes_of(uid).is_empty(), "uid {uid} has processes left");
    }
    for parent in h.cgroup_parents() {
        assert!(!parent.exists(), "{} is left", parent.display());
    }
    let err =
        h.wb.python(
            &sessions[0],
            SandboxSpec::default(),
            "1",
            ExecOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, WorkbenchError::ShutDown));
    // Files stay for the next start.
    assert!(h.wb.files_dir(&sessions[0]).exists());
}

#[tokio::test]
async fn dropping_the_workbench_also_cleans_up() {
    let h = Harness::new().await;
    let s = session();
    h.eval(
        &s,
        "import subprocess\nsubprocess.Popen(['sleep', '300'])\n1",
    )
    .await;
    let uid = h.wb.sandbox_info(&s).await.unwrap().uid;
    let parents = h.cgroup_parents();
    drop(h);
    eventually("every process of the sandbox is gone", || {
        processes_of(uid).is_empty()
    })
    .await;
    for parent in parents {
        assert!(!parent.exists(), "{} is left", parent.display());
    }
}
