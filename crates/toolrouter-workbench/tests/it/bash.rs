//! The bash tool: same sandbox and directory as Python, line counts, exit codes, offloading.

use toolrouter_workbench::{ExecOptions, SandboxSpec};

use crate::harness::{Harness, session};

#[tokio::test]
async fn bash_runs_in_the_same_sandbox_and_directory() {
    let h = Harness::new().await;
    let s = session();
    assert_eq!(h.bash(&s, "pwd").await.stdout, "/mnt/files\n");
    h.eval(&s, "import os\nos.makedirs('/tmp/work')\nos.chdir('/tmp/work')\nopen('marker', 'w').write('m')").await;
    let out = h
        .bash(&s, "pwd; cat marker; echo; echo oops >&2; exit 3")
        .await;
    assert_eq!(out.stdout, "/tmp/work\nm\n");
    assert_eq!(out.stderr, "oops\n");
    assert_eq!(
        (out.stdout_lines, out.stderr_lines, out.exit_code),
        (2, 1, Some(3))
    );
    assert_eq!(out.error, None);
    // Files written by bash are seen by Python.
    h.bash(&s, "echo from-bash > /mnt/files/b.txt").await;
    assert_eq!(
        h.eval(&s, "open('/mnt/files/b.txt').read()").await,
        "'from-bash\\n'"
    );
    let out = h.bash(&s, "printf 'no newline'").await;
    assert_eq!((out.stdout.as_str(), out.stdout_lines), ("no newline", 1));
    let out = h.bash(&s, "true").await;
    assert_eq!((out.stdout_lines, out.exit_code), (0, Some(0)));
    h.wb.shutdown().await;
}

#[tokio::test]
async fn long_bash_output_is_offloaded_and_counted_whole() {
    let h = Harness::new().await;
    let s = session();
    let options = ExecOptions {
        offload_threshold: Some(100),
        ..ExecOptions::default()
    };
    let out =
        h.wb.bash(&s, SandboxSpec::default(), "seq 1 100000", options)
            .await
            .unwrap();
    assert_eq!(out.stdout_lines, 100_000);
    assert_eq!(out.stdout.len(), 100);
    let path = out.stdout_file_path.expect("offloaded");
    let host =
        h.wb.files_dir(&s)
            .join(path.strip_prefix("/mnt/files/").unwrap());
    let text = std::fs::read_to_string(host).unwrap();
    assert_eq!(text.lines().count(), 100_000);
    assert!(text.ends_with("100000\n"));
    h.wb.shutdown().await;
}
