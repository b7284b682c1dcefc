//! Operator toolkits with the real binary: `toolkits import-openapi` on the real Box document
//! (strict and partial), serving the result with `--toolkits-dir`, `toolkits list`, and start
//! refusing bad definitions and bad base-URL overrides with the file, tool and field named.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::process::{Proc, clean_env, exe};

/// A document of `shared/bench/openapi/`, checked out beside the repository. Missing fails the
/// test: a silently skipped import test would hide a broken import.
fn spec(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/bench/openapi")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing (the bench specs must be checked out beside the repository)",
        path.display()
    );
    path
}

/// Runs the binary in `dir` with a clean `TOOLROUTER_*` environment plus `env`.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(exe());
    clean_env(&mut cmd);
    cmd.current_dir(dir).args(args).envs(env.iter().copied());
    cmd.output().expect("run toolrouter")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `imported N of M operations` → (N, M).
fn summary(stdout: &str) -> (usize, usize) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("imported "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!((words[2], words[4]), ("of", "operations"), "{line}");
    (words[1].parse().unwrap(), words[3].parse().unwrap())
}

#[test]
fn a_strict_import_with_skipped_operations_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let box_spec = spec("box.json");
    let out = run_in(
        dir.path(),
        &[
            "toolkits",
            "import-openapi",
            box_spec.to_str().unwrap(),
            "--slug",
            "box",
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let (imported, total) = summary(&stdout);
    let skipped: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("skipped "))
        .collect();
    assert!(!skipped.is_empty() && imported < total, "{stdout}");
    assert_eq!(
        skipped.len(),
        total - imported,
        "one line per skipped operation"
    );
    // Each line says which operation and why: `skipped METHOD /path (id): reason`.
    for line in &skipped {
        let rest = line.strip_prefix("skipped ").unwrap();
        assert!(rest.contains(" /") && rest.contains(": "), "{line}");
    }
    let stderr = text(&out.stderr);
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(stderr.contains("--allow-partial"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file is written"
    );
}

#[tokio::test]
async fn a_partial_import_is_served_from_the_toolkits_dir() {
    let dir = tempfile::tempdir().unwrap();
    let toolkits = dir.path().join("toolkits");
    std::fs::create_dir(&toolkits).unwrap();
    let box_spec = spec("box.json");
    let out = run_in(
        &toolkits,
        &[
            "toolkits",
            "import-openapi",
            box_spec.to_str().unwrap(),
            "--slug",
            "box",
            "--allow-partial",
            "--name",
            "Box",
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let (imported, total) = summary(&stdout);
    assert!(imported < total, "{stdout}");
    // Written to `<slug>.json` by default, as pretty JSON.
    let written = std::fs::read_to_string(toolkits.join("box.json")).unwrap();
    assert!(
        written.starts_with("{\n  \"slug\": \"box\""),
        "{}",
        &written[..40]
    );
    let def: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(def["name"], "Box");
    let tools = def["tools"].as_array().unwrap();
    assert_eq!(tools.len(), imported);
    assert!(
        stdout.contains(&format!("wrote box.json ({imported} tools)")),
        "{stdout}"
    );

    let listed = run_in(
        dir.path(),
        &[
            "toolkits",
            "list",
            "--json",
            "--toolkits-dir",
            toolkits.to_str().unwrap(),
        ],
        &[],
    );
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "box");
    assert_eq!(
        entry,
        Some(&json!({"slug": "box", "name": "Box", "tools": imported}))
    );

    let data = dir.path().join("data");
    let p = Proc::serve(&data, &["--toolkits-dir", toolkits.to_str().unwrap()]).await;
    let key = std::fs::read_to_string(data.join("api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let (st, page) = p
        .get("/api/v3.1/tools?toolkit_slug=box&limit=1000", Some(&key))
        .await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["total_items"], json!(imported));
    let served: Vec<&Value> = page["items"].as_array().unwrap().iter().collect();
    for (tool, def) in served.iter().zip(tools) {
        assert_eq!(tool["slug"], def["slug"]);
        assert_eq!(tool["toolkit"]["slug"], "box");
        assert_eq!(tool["input_parameters"], def["input"]);
    }
    let first = tools[0]["slug"].as_str().unwrap();
    let (st, one) = p.get(&format!("/api/v3.1/tools/{first}"), Some(&key)).await;
    assert_eq!((st, &one["slug"]), (200, &json!(first)));
    let (st, tk) = p.get("/api/v3.1/toolkits/box", Some(&key)).await;
    assert_eq!((st, &tk["meta"]["tools_count"]), (200, &json!(imported)));
}

#[test]
fn importing_under_a_built_in_slug_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let box_spec = spec("box.json");
    let out = run_in(
        dir.path(),
        &[
            "toolkits",
            "import-openapi",
            box_spec.to_str().unwrap(),
            "--slug",
            "github",
            "--allow-partial",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("`github` is a built-in toolkit"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn write_toolkit(dir: &Path, file: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(file), text).unwrap();
}

/// `serve` that must stop at start: its stderr.
fn serve_fails(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> String {
    let data = dir.join("data");
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run_in(dir, &args, env);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "serve must refuse to start: {stderr}"
    );
    assert!(
        !data.exists(),
        "nothing is created before the catalog loads"
    );
    stderr
}

#[test]
fn a_bad_operator_definition_stops_the_server_naming_file_tool_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let toolkits = dir.path().join("toolkits");
    write_toolkit(
        &toolkits,
        "demo.json",
        r#"{"slug": "demo", "name": "Demo", "description": "A demo service.",
            "base_url": "https://demo.test",
            "tools": [{"slug": "DEMO_GET_ITEM", "name": "Get item",
                       "description": "Fetch one item by its id and return it.",
                       "input": {"type": "object", "properties": {}},
                       "http": {"method": "GET", "path": "/items/{id}"}}]}"#,
    );
    // Files that are not `*.json` are not definitions.
    write_toolkit(&toolkits, "README.md", "not a toolkit");
    let stderr = serve_fails(
        dir.path(),
        &["--toolkits-dir", toolkits.to_str().unwrap()],
        &[],
    );
    let file = toolkits.join("demo.json");
    assert!(
        stderr.contains(&format!(
            "{}: tool DEMO_GET_ITEM: field `http.path`",
            file.display()
        )),
        "{stderr}"
    );

    // Broken JSON names the position; the environment variable works like the flag.
    write_toolkit(
        &toolkits,
        "demo.json",
        "{\"slug\": \"demo\",\n  \"name\": }",
    );
    let stderr = serve_fails(
        dir.path(),
        &[],
        &[("TOOLROUTER_TOOLKITS_DIR", toolkits.to_str().unwrap())],
    );
    assert!(
        stderr.contains(&format!("{}: field `line 2 column", file.display())),
        "{stderr}"
    );

    // A clash with a built-in toolkit.
    write_toolkit(
        &toolkits,
        "demo.json",
        r#"{"slug": "gmail", "name": "Mine", "description": "Not Gmail at all.",
            "base_url": "https://demo.test",
            "tools": [{"slug": "GMAIL_PING", "name": "Ping",
                       "description": "Check that the service answers at all.",
                       "input": {"type": "object"}, "http": {"method": "GET", "path": "/ping"}}]}"#,
    );
    let stderr = serve_fails(
        dir.path(),
        &["--toolkits-dir", toolkits.to_str().unwrap()],
        &[],
    );
    assert!(
        stderr.contains("toolkit `gmail` is already defined"),
        "{stderr}"
    );

    // A directory that does not exist.
    let missing = dir.path().join("nowhere");
    let stderr = serve_fails(
        dir.path(),
        &["--toolkits-dir", missing.to_str().unwrap()],
        &[],
    );
    assert!(
        stderr.contains("cannot read the toolkits directory"),
        "{stderr}"
    );
}

#[tokio::test]
async fn toolkit_base_url_overrides_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[toolkit_base_urls]\ngmail = \"http://127.0.0.1:9\"\nnope = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let stderr = serve_fails(dir.path(), &["--config", cfg.to_str().unwrap()], &[]);
    assert!(stderr.contains("no toolkit `nope`"), "{stderr}");

    let stderr = serve_fails(
        dir.path(),
        &[],
        &[("TOOLROUTER_TOOLKIT_BASE_URLS", "gmail")],
    );
    assert!(stderr.contains("`gmail` must be SLUG=URL"), "{stderr}");

    let stderr = serve_fails(dir.path(), &["--toolkit-base-url", "slack=ftp://x"], &[]);
    assert!(
        stderr.contains("is not an absolute http(s) URL"),
        "{stderr}"
    );

    // Valid overrides in both forms start the server.
    std::fs::write(
        &cfg,
        "[toolkit_base_urls]\ngmail = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let p = Proc::serve(
        &dir.path().join("data"),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--toolkit-base-url",
            "slack=http://127.0.0.1:9",
        ],
    )
    .await;
    assert!(p.logs().contains("toolrouter ready"), "{}", p.logs());
}
