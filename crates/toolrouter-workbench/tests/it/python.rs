//! The Python interpreter: state, results, output capture, errors, time limits, offloading.

use std::time::Duration;

use toolrouter_workbench::{ExecOptions, RestartCause, SandboxSpec};

use crate::harness::{Harness, session};

#[tokio::test]
async fn state_persists_and_last_expression_is_returned() {
    let h = Harness::new().await;
    let s = session();
    let out = h.py(&s, "x = 41\nprint('hello')\nx + 1").await;
    assert_eq!(out.error, None);
    assert_eq!(out.results, "42");
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.restarted, None);
    assert_eq!(out.sandbox_id_suffix.len(), 16);
    assert_eq!(h.eval(&s, "x * 2").await, "82");
    assert_eq!(h.eval(&s, "def f(a):\n    return a * 3\n").await, "");
    assert_eq!(h.eval(&s, "f('ab')").await, "'ababab'");
    assert_eq!(h.eval(&s, "None").await, "");
    assert_eq!(
        h.eval(&s, "import asyncio\nawait asyncio.sleep(0)\n7")
            .await,
        "7"
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn output_is_captured_at_the_descriptor_level() {
    let h = Harness::new().await;
    let s = session();
    let code = "import os, subprocess, sys\nprint('a')\nos.system('echo b')\n\
                subprocess.run(['sh', '-c', 'echo c; echo d >&2'])\nprint('e', file=sys.stderr)\n\
                os.write(1, b'f\\n')";
    let out = h.py(&s, code).await;
    assert_eq!(out.error, None);
    assert_eq!(out.stdout, "a\nb\nc\nf\n");
    assert_eq!(out.stderr, "d\ne\n");
    // Each call gets its own capture.
    let out = h.py(&s, "print('next')").await;
    assert_eq!(out.stdout, "next\n");
    // Code cannot read the driver's requests: stdin is /dev/null.
    let out = h.py(&s, "input()").await;
    assert!(
        out.error.as_deref().unwrap_or("").contains("EOFError"),
        "{:?}",
        out.error
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn exceptions_and_syntax_errors_are_results() {
    let h = Harness::new().await;
    let s = session();
    let out = h.py(&s, "y = 5\nprint('before')\n1 / 0").await;
    let error = out.error.expect("an error");
    assert!(
        error.contains("ZeroDivisionError: division by zero"),
        "{error}"
    );
    assert!(error.contains("<cell-"), "{error}");
    assert!(
        error.contains("1 / 0"),
        "the traceback shows the source line: {error}"
    );
    assert!(
        !error.contains("driver.py"),
        "driver frames are hidden: {error}"
    );
    assert_eq!(out.stdout, "before\n");
    assert_eq!(h.eval(&s, "y").await, "5");

    let error = h.py(&s, "def f(:\n    pass").await.error.expect("an error");
    assert!(error.contains("SyntaxError"), "{error}");
    let error = h
        .py(&s, "raise SystemExit(3)")
        .await
        .error
        .expect("an error");
    assert!(error.contains("SystemExit: 3"), "{error}");
    // The interpreter is the same one throughout.
    let out = h.py(&s, "y + 1").await;
    assert_eq!((out.results.as_str(), out.restarted), ("6", None));
    h.wb.shutdown().await;
}

#[tokio::test]
async fn a_call_over_its_limit_is_interrupted_and_state_survives() {
    let h = Harness::new().await;
    let s = session();
    h.eval(&s, "x = 1").await;
    let options = ExecOptions {
        timeout: Some(Duration::from_millis(500)),
        ..ExecOptions::default()
    };
    let out = h
        .py_with(
            &s,
            SandboxSpec::default(),
            "print('spinning')\nwhile True:\n    x += 1",
            options,
        )
        .await;
    assert!(out.timed_out);
    let error = out.error.expect("an error");
    assert!(
        error.starts_with("TimeoutError: the cell ran longer than 0.5 s"),
        "{error}"
    );
    assert!(error.contains("KeyboardInterrupt"), "{error}");
    assert_eq!(out.stdout, "spinning\n");
    let out = h.py(&s, "x > 1").await;
    assert_eq!((out.results.as_str(), out.restarted), ("True", None));

    // Bash calls obey the same limit, and their whole process group is killed.
    let out =
        h.wb.bash(
            &s,
            SandboxSpec::default(),
            "sleep 100 & sleep 100; echo never",
            options,
        )
        .await
        .unwrap();
    assert!(out.timed_out);
    assert!(out.error.unwrap_or_default().starts_with("TimeoutError"));
    assert_eq!(out.stdout, "");
    let left = h.eval(&s, "import os\nsum(b'sleep' in open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') if p.isdigit())").await;
    assert_eq!(left, "0", "no sleep process survives the timeout");
    h.wb.shutdown().await;
}

#[tokio::test]
async fn code_that_ignores_the_interrupt_is_killed_and_reported() {
    let h = Harness::new().await;
    let s = session();
    let first = h.py(&s, "x = 1").await;
    let options = ExecOptions {
        timeout: Some(Duration::from_millis(300)),
        ..ExecOptions::default()
    };
    let stubborn = "import time\nwhile True:\n    try:\n        time.sleep(100)\n    except KeyboardInterrupt:\n        pass";
    let out = h
        .py_with(&s, SandboxSpec::default(), stubborn, options)
        .await;
    assert!(out.timed_out);
    let error = out.error.expect("an error");
    assert!(error.contains("did not stop when interrupted"), "{error}");
    let next = h.py(&s, "'x' in globals()").await;
    assert_eq!(next.restarted, Some(RestartCause::Unresponsive));
    assert_eq!(next.results, "False");
    assert_ne!(next.sandbox_id_suffix, first.sandbox_id_suffix);
    h.wb.shutdown().await;
}

#[tokio::test]
async fn an_abandoned_call_is_interrupted() {
    let h = Harness::new().await;
    let s = session();
    h.eval(&s, "import time").await;
    let slow = h.wb.python(
        &s,
        SandboxSpec::default(),
        "time.sleep(60)\nfinished = True",
        ExecOptions::default(),
    );
    // The caller gives up (e.g. its HTTP client went away): the future is dropped mid-call.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), slow)
            .await
            .is_err()
    );
    let out = h.py(&s, "'finished' in globals()").await;
    assert_eq!((out.results.as_str(), out.restarted), ("False", None));
    h.wb.shutdown().await;
}

#[tokio::test]
async fn the_interpreter_dying_is_reported_on_the_next_call() {
    let h = Harness::new().await;
    let s = session();
    h.eval(&s, "open('/mnt/files/kept.txt', 'w').write('kept')\nx = 1")
        .await;
    let out = h
        .py(
            &s,
            "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        )
        .await;
    let error = out.error.expect("an error");
    assert!(error.contains("killed by signal 9"), "{error}");
    let out = h
        .py(&s, "('x' in globals(), open('/mnt/files/kept.txt').read())")
        .await;
    assert_eq!(out.restarted, Some(RestartCause::Killed { signal: 9 }));
    assert_eq!(out.results, "(False, 'kept')");
    assert!(
        out.restarted
            .unwrap()
            .notice()
            .starts_with("interpreter restarted")
    );

    let out = h.py(&s, "import os\nos._exit(3)").await;
    assert!(
        out.error
            .unwrap_or_default()
            .contains("exited with status 3")
    );
    assert_eq!(
        h.py(&s, "1").await.restarted,
        Some(RestartCause::Exited { code: 3 })
    );
    // Reported once.
    assert_eq!(h.py(&s, "1").await.restarted, None);
    h.wb.shutdown().await;
}

#[tokio::test]
async fn long_outputs_are_offloaded_to_files() {
    let h = Harness::new().await;
    let s = session();
    let options = ExecOptions {
        offload_threshold: Some(1000),
        ..ExecOptions::default()
    };
    let out = h
        .py_with(
            &s,
            SandboxSpec::default(),
            "import sys\nprint('x' * 5000)\nprint('e' * 10, file=sys.stderr)\n'y' * 3000",
            options,
        )
        .await;
    assert_eq!(out.error, None);
    assert_eq!(out.stdout, "x".repeat(1000));
    assert_eq!(out.stderr, "e".repeat(10) + "\n");
    assert_eq!(out.stderr_file_path, None);
    let stdout_path = out.stdout_file_path.expect("stdout offloaded");
    let results_path = out.results_file_path.expect("result offloaded");
    assert!(
        stdout_path.starts_with("/mnt/files/.composio/output/stdout_"),
        "{stdout_path}"
    );
    assert_eq!(out.results.len(), 1000);
    // The whole text is on the host, in the session's files, and readable from code.
    let host =
        h.wb.files_dir(&s)
            .join(stdout_path.strip_prefix("/mnt/files/").unwrap());
    assert_eq!(
        std::fs::read_to_string(host).unwrap(),
        "x".repeat(5000) + "\n"
    );
    let len = h
        .eval(&s, &format!("len(open({results_path:?}).read())"))
        .await;
    assert_eq!(len, "3002", "repr() of the string, quotes included");
    h.wb.shutdown().await;
}
