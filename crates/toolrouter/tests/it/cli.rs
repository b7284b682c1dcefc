//! The client subcommands (`sessions`, `tools`, `connect`) as a user runs them: the real binary
//! against a real server, with the API key found in the server's data dir (the newcomer's
//! path), checking both the human tables and the `--json` output scripts read.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::client::World;
use crate::process::{clean_env, exe};

/// `toolrouter ARGS --base-url <server> --data-dir <server's data dir>`, with no key in the
/// environment: the key comes from `<data-dir>/api-key`.
fn command(w: &World, args: &[&str]) -> Command {
    let mut cmd = Command::new(exe());
    clean_env(&mut cmd);
    cmd.env_remove("COMPOSIO_API_KEY")
        .env_remove("COMPOSIO_BASE_URL")
        .args(args)
        .arg("--base-url")
        .arg(&w.p.base)
        .arg("--data-dir")
        .arg(&w.data);
    cmd
}

fn run(w: &World, args: &[&str]) -> Output {
    command(w, args).output().expect("run toolrouter")
}

/// Runs and expects success; returns stdout.
fn ok(w: &World, args: &[&str]) -> String {
    let o = run(w, args);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

/// Runs and expects failure; returns stderr.
fn fails(w: &World, args: &[&str]) -> String {
    let o = run(w, args);
    assert!(!o.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn sessions_and_tools_commands_print_tables_and_json() {
    let w = World::start().await;

    let created = json(&ok(
        &w,
        &[
            "sessions",
            "create",
            "--user-id",
            "cli_user",
            "--toolkits",
            "echoco,keyco",
            "--json",
        ],
    ));
    let id = created["session_id"].as_str().unwrap().to_owned();
    assert_eq!(created["config"]["user_id"], "cli_user");
    assert_eq!(
        created["config"]["toolkits"]["enabled"],
        serde_json::json!(["echoco", "keyco"])
    );

    // The human view of one session: a field/value table.
    let shown = ok(&w, &["sessions", "get", &id]);
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["FIELD", "VALUE"]
    );
    assert!(
        lines.contains(&format!("session         {id}").as_str()),
        "{shown}"
    );
    assert!(lines.contains(&"user            cli_user"), "{shown}");
    assert!(lines.contains(&"toolkits        echoco, keyco"), "{shown}");
    let mcp = format!("mcp url         {}/tool_router/{id}/mcp", w.p.base);
    assert!(lines.contains(&mcp.as_str()), "{shown}");

    // A second session, then the list: newest first, one row each, columns aligned.
    let second = json(&ok(
        &w,
        &["sessions", "create", "--user-id", "cli_user", "--json"],
    ))["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let table = ok(&w, &["sessions", "list", "--user-id", "cli_user"]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["SESSION", "USER", "VERSION", "TOOLKITS", "MCP", "URL"]
    );
    assert_eq!(
        rows[1][..4],
        [second.as_str(), "cli_user", "1", "all"],
        "{table}"
    );
    assert_eq!(
        rows[2][..5],
        [id.as_str(), "cli_user", "1", "echoco,", "keyco"],
        "{table}"
    );
    assert_eq!(rows.len(), 3, "{table}");
    let col = |line: &str, word: &str| line.find(word).unwrap();
    let header = table.lines().next().unwrap();
    assert_eq!(
        col(header, "USER"),
        col(table.lines().nth(1).unwrap(), "cli_user")
    );
    let listed = json(&ok(
        &w,
        &["sessions", "list", "--user-id", "cli_user", "--json"],
    ));
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), id.as_str()]);
    assert_eq!(
        ok(&w, &["sessions", "list", "--user-id", "nobody"]).trim(),
        "no sessions for user nobody"
    );

    // Search: a table of found tools with their toolkit and connection.
    let found = ok(
        &w,
        &["tools", "search", "echo a message back", "--session", &id],
    );
    let first = found.lines().nth(1).unwrap_or_default();
    assert_eq!(
        found
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["TOOL", "TOOLKIT", "CONNECTED", "DESCRIPTION"]
    );
    assert!(
        first.starts_with("ECHOCO_ECHO") && first.contains("echoco"),
        "{found}"
    );
    let found = json(&ok(
        &w,
        &[
            "tools",
            "search",
            "echo a message back",
            "--session",
            &id,
            "--json",
        ],
    ));
    assert_eq!(found["success"], true);
    assert_eq!(found["results"][0]["primary_tool_slugs"][0], "ECHOCO_ECHO");

    // Run: JSON for scripts, and a readable summary by default.
    let ran = json(&ok(
        &w,
        &[
            "tools",
            "run",
            "ECHOCO_ECHO",
            "--args",
            r#"{"msg": "from the cli"}"#,
            "--session",
            &id,
            "--json",
        ],
    ));
    assert_eq!(ran["successful"], true, "{ran}");
    assert_eq!(ran["result_type"], "completed");
    assert_eq!(ran["data"]["echo"], "from the cli");
    assert!(ran["log_id"].as_str().is_some_and(|l| !l.is_empty()));
    let human = ok(
        &w,
        &[
            "tools",
            "run",
            "ECHOCO_ECHO",
            "--args",
            r#"{"msg": "hi"}"#,
            "--session",
            &id,
        ],
    );
    assert!(human.starts_with("ECHOCO_ECHO: completed (log "), "{human}");
    assert!(human.contains(r#""echo": "hi""#), "{human}");
    assert_eq!(w.upstream.echoes(), 2);

    // With --user-id a session is created (and announced) for the run.
    let o = run(
        &w,
        &[
            "tools",
            "run",
            "ECHOCO_ECHO",
            "--args",
            r#"{"msg": "x"}"#,
            "--user-id",
            "u9",
            "--json",
        ],
    );
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("created session trs_") && stderr.contains("for user u9"),
        "{stderr}"
    );

    // A failed run exits non-zero, after printing the result.
    let o = run(
        &w,
        &["tools", "run", "KEYCO_WHOAMI", "--session", &id, "--json"],
    );
    assert!(!o.status.success());
    assert_eq!(
        json(&String::from_utf8_lossy(&o.stdout))["successful"],
        false
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("KEYCO_WHOAMI failed"));

    // Bad input is named.
    let e = fails(
        &w,
        &[
            "tools",
            "run",
            "ECHOCO_ECHO",
            "--args",
            "nope",
            "--session",
            &id,
        ],
    );
    assert!(e.contains("--args is not valid JSON"), "{e}");
    let e = fails(
        &w,
        &[
            "tools",
            "run",
            "ECHOCO_ECHO",
            "--args",
            "[1]",
            "--session",
            &id,
        ],
    );
    assert!(e.contains("--args must be a JSON object"), "{e}");
    let e = fails(&w, &["tools", "run", "ECHOCO_ECHO"]);
    assert!(e.contains("--session") && e.contains("--user-id"), "{e}");

    // Delete, then the session is gone: the server's 404 reaches the user.
    assert_eq!(
        ok(&w, &["sessions", "delete", &second]).trim(),
        format!("deleted session {second}")
    );
    let e = fails(&w, &["sessions", "get", &second]);
    assert!(e.contains("not found: 404") && e.contains(&second), "{e}");
}

#[tokio::test]
async fn connect_prints_the_link_and_waits_until_active() {
    let w = World::start().await;
    let mut child = command(
        &w,
        &["connect", "keyco", "--user-id", "cli_connect", "--json"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let link = json(&line);
    assert_eq!(link["toolkit"], "keyco");
    assert_eq!(link["status"], "INITIATED");
    let url = link["redirect_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/link/", w.p.base)), "{url}");

    w.submit_keyco_form(&url).await;
    let mut done = String::new();
    stdout.read_line(&mut done).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    let done = json(&done);
    assert_eq!(done["status"], "ACTIVE");
    assert_eq!(done["connected_account_id"], link["connected_account_id"]);
    // Not a terminal: one plain waiting line, no spinner control characters.
    assert!(
        stderr.contains("waiting for keyco to be connected…"),
        "{stderr}"
    );
    assert!(!stderr.contains('\r'), "{stderr:?}");

    // The human form prints the link; --no-wait returns at once.
    let shown = ok(
        &w,
        &[
            "connect",
            "keyco",
            "--session",
            done["session_id"].as_str().unwrap(),
            "--no-wait",
        ],
    );
    assert!(
        shown.starts_with("Open this link to connect keyco for user cli_connect:"),
        "{shown}"
    );
    assert!(shown.contains(&format!("{}/link/", w.p.base)), "{shown}");

    // Waiting gives up after --timeout with the account's status.
    let e = fails(
        &w,
        &[
            "connect",
            "keyco",
            "--user-id",
            "cli_connect",
            "--timeout",
            "1",
        ],
    );
    assert!(e.contains("was still INITIATED"), "{e}");
}

#[test]
fn without_a_key_anywhere_the_error_says_where_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(exe());
    clean_env(&mut cmd);
    let o = cmd
        .env_remove("COMPOSIO_API_KEY")
        .args(["sessions", "list", "--user-id", "u", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("no API key: pass --api-key, set TOOLROUTER_API_KEY"),
        "{e}"
    );
    assert!(e.contains("api-key"), "{e}");
}

/// The client subcommands are built on the SDK alone, so they behave like any SDK program and
/// work against a remote server: no server-side crate is named in `src/cli/`.
#[test]
fn client_commands_use_only_the_sdk() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for server_side in [
            "toolrouter_app",
            "toolrouter_store",
            "toolrouter_http",
            "toolrouter_vault",
            "toolrouter_exec",
            "toolrouter_catalog",
            "toolrouter_core",
            "toolrouter_workbench",
            "toolrouter_mcp",
        ] {
            assert!(
                !text.contains(server_side),
                "{} uses {server_side}; client commands use toolrouter_client only",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 2,
        "found only {checked} files in {}",
        dir.display()
    );
}
