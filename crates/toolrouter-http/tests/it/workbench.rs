//! The workbench wired into sessions, over HTTP against real sandboxes (bubblewrap, as root):
//! `COMPOSIO_REMOTE_WORKBENCH` / `COMPOSIO_REMOTE_BASH_TOOL` through `POST …/{sid}/execute`
//! (state kept between calls, bash in the same directory, exceptions as results, a tier change
//! restarting the interpreter with a notice), tools called from code against a local stand-in
//! (and refused when the session does not allow them), the files mount (list, signed upload and
//! download URLs, delete; tampered, expired and misused URLs; traversal; unknown mounts), files
//! removed with the session, `/readyz` naming the isolation, and an unknown tier refused.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use toolrouter_app::{App, AppConfig, ToolCatalog};
use toolrouter_catalog::Catalog;
use toolrouter_http::HttpConfig;
use toolrouter_store::{ConnectOptions, SqliteStore};
use toolrouter_vault::Keyring;
use toolrouter_workbench::WorkbenchConfig;

use super::{Server, envelope, serve_app};

const SESSIONS: &str = "/api/v3.1/tool_router/session";

/// Bodies the stand-in provider received.
type Seen = Arc<Mutex<Vec<Value>>>;

/// A provider answering `POST /items` with `{id, echo}`.
async fn provider() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let router = axum::Router::new()
        .route(
            "/items",
            post(
                |State(seen): State<Seen>, axum::Json(body): axum::Json<Value>| async move {
                    seen.lock().unwrap().push(body.clone());
                    axum::Json(json!({"id": "item_1", "echo": body}))
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (origin, seen)
}

/// A no-auth toolkit `echoer` sent to `origin`: one tool sessions allow, one they disable.
fn catalog(origin: &str) -> ToolCatalog {
    let echoer = json!({
        "slug": "echoer", "name": "Echoer", "description": "A test service echoing items.",
        "base_url": "https://echoer.invalid",
        "auth_schemes": [],
        "tools": [
            {"slug": "ECHOER_CREATE_ITEM", "name": "Create item", "description": "Create one item in the echo service and return it with its new id.",
             "input": {"type": "object", "required": ["name"],
                       "properties": {"name": {"type": "string", "description": "Name of the item."}}},
             "http": {"method": "POST", "path": "/items"}},
            {"slug": "ECHOER_DELETE_ALL", "name": "Delete all", "description": "Delete every item of the echo service at once, irreversibly.",
             "input": {"type": "object", "properties": {}},
             "http": {"method": "POST", "path": "/items"}}
        ]
    });
    let sources = [("echoer.json".to_owned(), echoer.to_string())];
    let overrides = BTreeMap::from([("echoer".to_owned(), origin.to_owned())]);
    ToolCatalog::new(Catalog::from_sources(sources).unwrap(), overrides).unwrap()
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A server whose session files live in a directory sandbox uids can traverse; with
/// `workbench`, sandboxes run (a private uid range and cgroup name per server, so tests run
/// in parallel).
async fn start(catalog: ToolCatalog, workbench: bool, file_url_ttl: Duration) -> (Server, String) {
    start_with(
        catalog,
        workbench.then_some(|_: &mut WorkbenchConfig| {}),
        file_url_ttl,
    )
    .await
}

async fn start_with(
    catalog: ToolCatalog,
    workbench: Option<impl FnOnce(&mut WorkbenchConfig)>,
    file_url_ttl: Duration,
) -> (Server, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    let keyring = Keyring::parse("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
    let mut config = AppConfig {
        files_root: dir.path().join("files"),
        file_url_ttl,
        ..AppConfig::default()
    };
    config.exec.policy = toolrouter_exec::OutboundPolicy::public_only().allow_host("127.0.0.1");
    let app = App::new(Arc::new(store), Arc::new(keyring), catalog, &config);
    if let Some(tweak) = workbench {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let mut wb = WorkbenchConfig::new(dir.path().join("files"), dir.path().join("run"));
        wb.cgroup_name = format!("toolrouter-http-test-{}-{n}", std::process::id());
        wb.uid_base = 2_000_000 + (std::process::id() % 1000) * 64 + n * 8;
        wb.max_sandboxes = 4;
        wb.interrupt_grace = Duration::from_secs(1);
        tweak(&mut wb);
        app.start_workbench(wb).await.expect("workbench starts");
    }
    serve_app(app, &HttpConfig::default(), dir).await
}

async fn session(s: &Server, key: &str, body: Value) -> String {
    let (st, _, out) = s
        .call("POST", SESSIONS, Some(key), Some(&body.to_string()))
        .await;
    assert_eq!(st, 201, "{out}");
    out["session_id"].as_str().unwrap().to_owned()
}

/// Runs a meta tool; every answer here is a 200 with the §4.7 envelope.
async fn meta(s: &Server, key: &str, sid: &str, slug: &str, arguments: Value) -> Value {
    let body = json!({"tool_slug": slug, "arguments": arguments});
    let (st, _, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{sid}/execute"),
            Some(key),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    for k in ["result_type", "data", "error", "log_id"] {
        assert!(out.get(k).is_some(), "missing {k}: {out}");
    }
    out
}

async fn python(s: &Server, key: &str, sid: &str, code: &str) -> Value {
    meta(
        s,
        key,
        sid,
        "COMPOSIO_REMOTE_WORKBENCH",
        json!({"code_to_execute": code}),
    )
    .await
}

/// Python that must succeed; returns `data`.
async fn eval(s: &Server, key: &str, sid: &str, code: &str) -> Value {
    let out = python(s, key, sid, code).await;
    assert_eq!(out["result_type"], "completed", "{code}: {out}");
    out["data"].clone()
}

async fn bash(s: &Server, key: &str, sid: &str, command: &str) -> Value {
    meta(
        s,
        key,
        sid,
        "COMPOSIO_REMOTE_BASH_TOOL",
        json!({"command": command}),
    )
    .await
}

#[tokio::test]
async fn python_keeps_state_bash_shares_the_directory_and_failures_are_results() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin), true, Duration::from_secs(60)).await;
    let sid = session(&s, &key, json!({"user_id": "u1"})).await;

    let data = eval(&s, &key, &sid, "x = 41\nprint('hello')").await;
    assert_eq!(data["stdout"], "hello\n", "{data}");
    assert_eq!(data["results"], "");
    assert_eq!(data["session"]["id"], sid.as_str());
    assert!(
        data["sandbox_id_suffix"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(eval(&s, &key, &sid, "x + 1").await["results"], "42");

    // Bash runs in the interpreter's working directory, in the same sandbox.
    let cwd = eval(&s, &key, &sid, "import os\nos.getcwd()").await["results"].clone();
    let out = bash(
        &s,
        &key,
        &sid,
        "pwd; echo from-bash > note.txt; echo oops >&2; exit 3",
    )
    .await;
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(
        format!("'{}'", out["data"]["stdout"].as_str().unwrap().trim()),
        cwd.as_str().unwrap()
    );
    assert_eq!(out["data"]["stderr"], "oops\n");
    assert_eq!(out["data"]["stdoutLines"], 1);
    assert_eq!(out["data"]["stderrLines"], 1);
    assert_eq!(out["data"]["exit_code"], 3);
    assert_eq!(
        eval(&s, &key, &sid, "open('note.txt').read()").await["results"],
        "'from-bash\\n'"
    );

    // Exceptions and syntax errors are 200 `failed` results with the traceback; state survives.
    let out = python(&s, &key, &sid, "print('before')\n1/0").await;
    assert_eq!(out["result_type"], "failed");
    assert!(
        out["error"].as_str().unwrap().contains("ZeroDivisionError"),
        "{out}"
    );
    assert_eq!(out["data"]["stdout"], "before\n");
    assert_eq!(out["data"]["error"], out["error"]);
    let out = python(&s, &key, &sid, "def (:").await;
    assert_eq!(out["result_type"], "failed");
    assert!(
        out["error"].as_str().unwrap().contains("SyntaxError"),
        "{out}"
    );
    assert_eq!(eval(&s, &key, &sid, "x").await["results"], "41");

    // A missing argument is a failed result naming it.
    let out = meta(&s, &key, &sid, "COMPOSIO_REMOTE_WORKBENCH", json!({})).await;
    assert_eq!(out["result_type"], "failed");
    assert!(
        out["error"].as_str().unwrap().contains("`code_to_execute`"),
        "{out}"
    );

    // Long output goes to a file under /mnt/files, returned as its path.
    let data = eval(&s, &key, &sid, "print('y' * 50000)").await;
    let path = data["stdout_file_path"].as_str().expect("offloaded");
    assert!(path.starts_with("/mnt/files/"), "{path}");
    assert!(data["stdout"].as_str().unwrap().len() < 50000);

    // A new tier recreates the sandbox: variables are gone (with a notice), files are kept.
    let patch = json!({"workbench": {"sandbox_size": "medium"}});
    let (st, _, out) = s
        .call(
            "PATCH",
            &format!("{SESSIONS}/{sid}"),
            Some(&key),
            Some(&patch.to_string()),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    let out = python(&s, &key, &sid, "open('note.txt').read()").await;
    assert_eq!(out["data"]["results"], "'from-bash\\n'", "{out}");
    let notice = out["data"]["notice"].as_str().unwrap();
    assert!(
        notice.starts_with("interpreter restarted: the sandbox size changed"),
        "{notice}"
    );
    assert!(out["data"]["stderr"].as_str().unwrap().contains(notice));
    let out = python(&s, &key, &sid, "x").await;
    assert!(
        out["error"].as_str().unwrap().contains("NameError"),
        "{out}"
    );
    assert!(out["data"].get("notice").is_none(), "reported once: {out}");

    // A crashed interpreter restarts on the next call, which says so.
    let out = python(&s, &key, &sid, "import os\nos._exit(3)").await;
    assert_eq!(out["result_type"], "failed");
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("exited with status 3"),
        "{out}"
    );
    let data = eval(&s, &key, &sid, "open('note.txt').read()").await;
    assert_eq!(data["results"], "'from-bash\\n'");
    assert!(
        data["notice"]
            .as_str()
            .unwrap()
            .starts_with("interpreter restarted: it exited with status 3"),
        "{data}"
    );

    // /readyz names the isolation in force.
    let (_, _, ready) = s.call("GET", "/readyz", None, None).await;
    let isolation = ready["workbench"]["isolation"].as_str().unwrap();
    assert!(isolation.starts_with("bubblewrap+"), "{ready}");
    assert_eq!(ready["workbench"]["sandboxes"], 1, "{ready}");
    assert_eq!(ready["workbench"]["egress"], "off", "{ready}");
    s.app.workbench_shutdown().await;
}

#[tokio::test]
async fn code_runs_the_sessions_tools_and_only_those() {
    let (origin, seen) = provider().await;
    let (s, key) = start(catalog(&origin), true, Duration::from_secs(60)).await;
    let sid = session(
        &s,
        &key,
        json!({"user_id": "u1", "tools": {"echoer": {"disable": ["ECHOER_DELETE_ALL"]}}}),
    )
    .await;
    let data = eval(
        &s,
        &key,
        &sid,
        "data, error = run_composio_tool('ECHOER_CREATE_ITEM', {'name': 'from-code'})\n\
         (data['id'], data['echo'], error)",
    )
    .await;
    assert_eq!(
        data["results"], "('item_1', {'name': 'from-code'}, None)",
        "{data}"
    );
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![json!({"name": "from-code"})]
    );

    // proxy_execute from code reaches the toolkit's API with the session's account choice.
    let data = eval(
        &s,
        &key,
        &sid,
        "data, error = proxy_execute('POST', '/items', 'echoer', body={'name': 'proxied'})\n\
         (data['status'], data['data']['id'], error)",
    )
    .await;
    assert_eq!(data["results"], "(200, 'item_1', None)", "{data}");
    assert_eq!(seen.lock().unwrap().pop(), Some(json!({"name": "proxied"})));

    // Invalid arguments come back as the error half of the tuple, naming the field.
    let data = eval(
        &s,
        &key,
        &sid,
        "run_composio_tool('ECHOER_CREATE_ITEM', {})[1]",
    )
    .await;
    assert!(data["results"].as_str().unwrap().contains("name"), "{data}");

    // The session's filters apply: a disabled tool, and meta tools, are refused.
    let data = eval(
        &s,
        &key,
        &sid,
        "run_composio_tool('ECHOER_DELETE_ALL', {})[1]",
    )
    .await;
    let error = data["results"].as_str().unwrap();
    assert!(error.contains("not enabled in this session"), "{error}");
    let data = eval(
        &s,
        &key,
        &sid,
        "run_composio_tool('COMPOSIO_REMOTE_WORKBENCH', {'code_to_execute': '1'})[1]",
    )
    .await;
    assert!(
        data["results"].as_str().unwrap().contains("meta tool"),
        "{data}"
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "nothing else reached the provider"
    );

    // `workbench.enable_tool_execution: false` turns tools from code off at once.
    let patch = json!({"workbench": {"enable_tool_execution": false}});
    let (st, _, out) = s
        .call(
            "PATCH",
            &format!("{SESSIONS}/{sid}"),
            Some(&key),
            Some(&patch.to_string()),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    let data = eval(
        &s,
        &key,
        &sid,
        "run_composio_tool('ECHOER_CREATE_ITEM', {'name': 'again'})[1]",
    )
    .await;
    assert!(
        data["results"]
            .as_str()
            .unwrap()
            .contains("enable_tool_execution"),
        "{data}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    s.app.workbench_shutdown().await;
}

async fn post_json(s: &Server, key: &str, path: &str, body: Value) -> (u16, Value) {
    let (st, h, out) = s
        .call("POST", path, Some(key), Some(&body.to_string()))
        .await;
    if !st.is_success() {
        envelope(st, &h, &out);
    }
    (st.as_u16(), out)
}

#[tokio::test]
async fn files_mount_moves_files_in_and_out_through_signed_urls() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin), true, Duration::from_secs(60)).await;
    let sid = session(&s, &key, json!({"user_id": "u1"})).await;
    let mount = format!("{SESSIONS}/{sid}/mounts/files");

    let (st, out) = post_json(
        &s,
        &key,
        &format!("{mount}/upload_url"),
        json!({"mount_relative_path": "/reports/q1.csv", "mimetype": "text/csv"}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["mount_relative_path"], "reports/q1.csv");
    assert_eq!(out["sandbox_mount_prefix"], "/mnt/files");
    assert!(out["expires_at"].as_str().unwrap().ends_with('Z'), "{out}");
    let upload = out["upload_url"].as_str().unwrap().to_owned();
    assert!(upload.starts_with(&s.base), "{upload}");
    assert!(!upload.contains(&key), "the API key is never in a URL");

    // The PUT carries no API key: the signature is the capability.
    let res = s
        .client
        .put(&upload)
        .header("content-type", "text/csv")
        .body("a,b\n1,2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Code in the sandbox sees the upload, and what it writes is listed.
    let data = eval(&s, &key, &sid, "open('/mnt/files/reports/q1.csv').read()").await;
    assert_eq!(data["results"], "'a,b\\n1,2\\n'");
    eval(
        &s,
        &key,
        &sid,
        "open('/mnt/files/reports/q1.csv', 'a').write('3,4\\n')\n\
         open('/mnt/files/out.txt', 'w').write('made in the sandbox')",
    )
    .await;

    let (st, _, out) = s
        .call("GET", &format!("{mount}/items"), Some(&key), None)
        .await;
    assert_eq!(st, 200, "{out}");
    let paths: Vec<&str> = out["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["mount_relative_path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["out.txt", "reports/q1.csv"], "{out}");
    assert!(
        out.get("next_cursor").is_none(),
        "omitted on the last page: {out}"
    );
    let csv = &out["items"][1];
    assert_eq!(csv["size"], 12);
    assert_eq!(csv["sandbox_mount_prefix"], "/mnt/files");
    assert!(csv["last_modified"].as_str().unwrap().ends_with('Z'));

    // Prefix and paging.
    let (_, _, out) = s
        .call(
            "GET",
            &format!("{mount}/items?mount_relative_prefix=/reports"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(out["items"].as_array().unwrap().len(), 1, "{out}");
    let (_, _, first) = s
        .call("GET", &format!("{mount}/items?limit=1"), Some(&key), None)
        .await;
    assert_eq!(first["items"][0]["mount_relative_path"], "out.txt");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, _, second) = s
        .call(
            "GET",
            &format!("{mount}/items?limit=1&cursor={cursor}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(second["items"][0]["mount_relative_path"], "reports/q1.csv");
    assert!(second.get("next_cursor").is_none());

    // An upload while the sandbox runs is handed to the sandbox's uid: code can change it.
    let (_, out) = post_json(
        &s,
        &key,
        &format!("{mount}/upload_url"),
        json!({"mount_relative_path": "late/late.txt"}),
    )
    .await;
    let res = s
        .client
        .put(out["upload_url"].as_str().unwrap())
        .body("a")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let data = eval(
        &s,
        &key,
        &sid,
        "open('/mnt/files/late/late.txt', 'a').write('b')\n\
         open('/mnt/files/late/x', 'w').write('in the uploaded directory')\n\
         open('/mnt/files/late/late.txt').read()",
    )
    .await;
    assert_eq!(data["results"], "'ab'", "{data}");

    // Download what the sandbox changed.
    let (st, out) = post_json(
        &s,
        &key,
        &format!("{mount}/download_url"),
        json!({"mount_relative_path": "reports/q1.csv"}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    let download = out["download_url"].as_str().unwrap().to_owned();
    let res = s.client.get(&download).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "a,b\n1,2\n3,4\n");

    // Misused, tampered and made-up URLs are refused in the envelope.
    let res = s.client.get(&upload).send().await.unwrap();
    assert_eq!(res.status(), 405, "an upload URL cannot be read");
    let (payload, _) = download.rsplit_once('.').unwrap();
    let forged = format!("{payload}.{}", "A".repeat(43));
    for bad in [forged, format!("{}/files/transfer/nonsense", s.base)] {
        let res = s.client.get(&bad).send().await.unwrap();
        let (st, h) = (res.status(), res.headers().clone());
        let body: Value = res.json().await.unwrap();
        assert_eq!(st, 403, "{bad}: {body}");
        assert_eq!(envelope(st, &h, &body)["slug"], "forbidden");
    }
    // Changing the path inside the payload breaks the signature too.
    let (p, sig) = download
        .trim_start_matches(&format!("{}/files/transfer/", s.base))
        .rsplit_once('.')
        .unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut fields: Value = serde_json::from_slice(&b64.decode(p).unwrap()).unwrap();
    fields["f"] = json!("out.txt");
    let altered = b64.encode(fields.to_string());
    let res = s
        .client
        .get(format!("{}/files/transfer/{altered}.{sig}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // Traversal, missing files, directories and other mounts.
    for (path, status, fragment) in [
        ("../escape.txt", 400, "may not use `.` or `..`"),
        ("reports/../../x", 400, "may not use `.` or `..`"),
        ("", 400, "empty"),
        ("reports", 400, "is a directory"),
        ("nope.txt", 404, "No file `nope.txt`"),
    ] {
        let (st, out) = post_json(
            &s,
            &key,
            &format!("{mount}/download_url"),
            json!({"mount_relative_path": path}),
        )
        .await;
        assert_eq!(st, status, "{path}: {out}");
        let message = out["error"]["message"].as_str().unwrap();
        assert!(message.contains(fragment), "{path}: {message}");
    }
    let (st, out) = post_json(
        &s,
        &key,
        &format!("{mount}/upload_url"),
        json!({"mount_relative_path": "../../etc/cron.d/x"}),
    )
    .await;
    assert_eq!(st, 400, "{out}");
    let (st, _, out) = s
        .call(
            "GET",
            &format!("{SESSIONS}/{sid}/mounts/scratch/items"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(st, 404, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the only mount is `files`"),
        "{out}"
    );
    // A link planted by sandboxed code is not followed out of the mount.
    eval(
        &s,
        &key,
        &sid,
        "import os\nos.symlink('/etc/hostname', '/mnt/files/host')",
    )
    .await;
    let (st, out) = post_json(
        &s,
        &key,
        &format!("{mount}/download_url"),
        json!({"mount_relative_path": "host"}),
    )
    .await;
    assert_eq!(st, 400, "{out}");

    // Delete.
    let (st, out) = post_json(
        &s,
        &key,
        &format!("{mount}/delete"),
        json!({"mount_relative_path": "out.txt"}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(
        out,
        json!({"mount_relative_path": "out.txt", "sandbox_mount_prefix": "/mnt/files"})
    );
    let (st, _) = post_json(
        &s,
        &key,
        &format!("{mount}/delete"),
        json!({"mount_relative_path": "out.txt"}),
    )
    .await;
    assert_eq!(st, 404);
    let data = eval(
        &s,
        &key,
        &sid,
        "import os\nos.path.exists('/mnt/files/out.txt')",
    )
    .await;
    assert_eq!(data["results"], "False");

    // Deleting the session deletes its files and stops its URLs.
    let files_dir = s
        .app
        .session_files_dir(&toolrouter_core::SessionId::parse(&sid).unwrap());
    assert!(files_dir.join("reports/q1.csv").exists());
    let (st, _, _) = s
        .call("DELETE", &format!("{SESSIONS}/{sid}"), Some(&key), None)
        .await;
    assert_eq!(st, 200);
    assert!(!files_dir.exists(), "files removed with the session");
    let res = s.client.get(&download).send().await.unwrap();
    assert_eq!(res.status(), 404);
    s.app.workbench_shutdown().await;
}

#[tokio::test]
async fn expired_urls_are_refused_and_the_mount_works_without_sandboxes() {
    let (origin, _) = provider().await;
    // No workbench on this server, and URLs that expire at once.
    let (s, key) = start(catalog(&origin), false, Duration::ZERO).await;
    let sid = session(&s, &key, json!({"user_id": "u1"})).await;
    let mount = format!("{SESSIONS}/{sid}/mounts/files");
    let (_, out) = post_json(
        &s,
        &key,
        &format!("{mount}/upload_url"),
        json!({"mount_relative_path": "a.txt"}),
    )
    .await;
    let res = s
        .client
        .put(out["upload_url"].as_str().unwrap())
        .body("x")
        .send()
        .await
        .unwrap();
    let (st, h) = (res.status(), res.headers().clone());
    let body: Value = res.json().await.unwrap();
    assert_eq!(st, 403, "{body}");
    let err = envelope(st, &h, &body);
    assert!(
        err["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    let (_, _, out) = s
        .call("GET", &format!("{mount}/items"), Some(&key), None)
        .await;
    assert_eq!(out, json!({"items": []}), "nothing was stored");

    // The meta tools say the server runs no workbench.
    let out = python(&s, &key, &sid, "1").await;
    assert_eq!(out["result_type"], "failed");
    assert!(
        out["error"].as_str().unwrap().contains("not running"),
        "{out}"
    );
    let (_, _, ready) = s.call("GET", "/readyz", None, None).await;
    assert!(ready.get("workbench").is_none(), "{ready}");
}

#[tokio::test]
async fn an_unknown_tier_is_a_400_listing_the_tiers() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin), false, Duration::from_secs(60)).await;
    let body = json!({"user_id": "u1", "workbench": {"sandbox_size": "huge"}});
    let (st, out) = post_json(&s, &key, SESSIONS, body).await;
    assert_eq!(st, 400, "{out}");
    let text = out["error"].to_string();
    assert!(text.contains("workbench.sandbox_size"), "{text}");
    for tier in ["standard", "medium", "large", "xlarge"] {
        assert!(text.contains(tier), "{tier} missing: {text}");
    }
}

#[tokio::test]
async fn the_sandbox_cap_is_a_clear_429_and_idle_sandboxes_are_reaped() {
    let (origin, _) = provider().await;
    let (s, key) = start_with(
        catalog(&origin),
        Some(|wb: &mut WorkbenchConfig| {
            wb.max_sandboxes = 1;
            wb.idle_timeout = Duration::from_millis(300);
        }),
        Duration::from_secs(60),
    )
    .await;
    let a = session(&s, &key, json!({"user_id": "u1"})).await;
    let b = session(&s, &key, json!({"user_id": "u2"})).await;
    eval(&s, &key, &a, "x = 1").await;

    let body = json!({"tool_slug": "COMPOSIO_REMOTE_BASH_TOOL", "arguments": {"command": "true"}});
    let (st, h, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{b}/execute"),
            Some(&key),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(st, 429, "{out}");
    let err = envelope(st, &h, &out);
    assert_eq!(err["slug"], "rate_limited");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("all 1 workbench sandboxes are in use"),
        "{out}"
    );

    // The idle sandbox is stopped (its slot freed); its session restarts with a notice.
    let mut reaped = false;
    for _ in 0..100 {
        let (_, _, ready) = s.call("GET", "/readyz", None, None).await;
        if ready["workbench"]["sandboxes"] == 0 {
            reaped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reaped, "the idle sandbox was never stopped");
    let data = eval(&s, &key, &a, "'x' in globals()").await;
    assert_eq!(data["results"], "False", "variables went with the sandbox");
    let notice = data["notice"].as_str().unwrap();
    assert!(
        notice.starts_with("interpreter restarted: it was stopped after being idle"),
        "{notice}"
    );
    s.app.workbench_shutdown().await;
}
