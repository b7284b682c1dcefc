//! The Rust SDK (`toolrouter-client`) against the real server: every client method, one seed
//! flow after another, on `toolrouter serve` over a temporary SQLite database, with two
//! operator toolkits whose API is a local stand-in (one without auth, one taking an API key
//! through the hosted connect page). The CLI tests (`cli.rs`) reuse this world.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use toolrouter_client::provider::{Anthropic, OpenAiChat};
use toolrouter_client::{
    AuthorizeOptions, Client, ConfigKey, CustomTool, Error, ExecuteDirect, ExecuteOptions,
    ResultType, SearchQueryBody, SearchRequest, SessionConfig, SessionUpdate, ToolError,
    ToolkitsQuery, ToolsQuery,
};

use crate::process::Proc;

/// The API key the stand-in accepts for `keyco`.
pub(crate) const KEYCO_KEY: &str = "keyco-planted-key-123";

/// The third-party API both toolkits call.
#[derive(Clone, Default)]
pub(crate) struct Upstream {
    echoes: Arc<AtomicUsize>,
    pub(crate) whoami_auth: Arc<Mutex<Vec<String>>>,
}

impl Upstream {
    pub(crate) fn echoes(&self) -> usize {
        self.echoes.load(Ordering::SeqCst)
    }
}

async fn echo(
    State(u): State<Upstream>,
    Query(q): Query<BTreeMap<String, String>>,
) -> axum::Json<Value> {
    u.echoes.fetch_add(1, Ordering::SeqCst);
    axum::Json(json!({"echo": q.get("msg"), "upstream": "stand-in"}))
}

async fn whoami(State(u): State<Upstream>, headers: HeaderMap) -> (StatusCode, axum::Json<Value>) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    u.whoami_auth.lock().unwrap().push(auth.clone());
    if auth == format!("Bearer {KEYCO_KEY}") {
        (StatusCode::OK, axum::Json(json!({"login": "octo"})))
    } else {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "bad key"})),
        )
    }
}

/// A running server with the stand-in toolkits, and its first API key.
pub(crate) struct World {
    pub(crate) p: Proc,
    pub(crate) key: String,
    pub(crate) data: PathBuf,
    pub(crate) upstream: Upstream,
    _dir: tempfile::TempDir,
}

impl World {
    pub(crate) async fn start() -> World {
        let upstream = Upstream::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/api/echo", get(echo))
            .route("/api/whoami", get(whoami))
            .with_state(upstream.clone());
        // Its own thread and runtime: the CLI tests block the test's thread on the binary.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await
            })
        });

        let dir = tempfile::tempdir().unwrap();
        let kits = dir.path().join("toolkits");
        std::fs::create_dir(&kits).unwrap();
        let echoco = json!({
            "slug": "echoco", "name": "EchoCo", "description": "Echoes messages back; needs no account.",
            "base_url": format!("{origin}/api"),
            "tools": [{"slug": "ECHOCO_ECHO", "name": "Echo a message",
                       "description": "Echo a message back to the caller, unchanged.",
                       "input": {"type": "object", "required": ["msg"],
                                 "properties": {"msg": {"type": "string", "description": "The message to echo."}}},
                       "http": {"method": "GET", "path": "/echo"}}]
        });
        let keyco = json!({
            "slug": "keyco", "name": "KeyCo", "description": "A test service taking an API key.",
            "base_url": format!("{origin}/api"),
            "auth_schemes": [{"type": "API_KEY",
                "fields": [{"name": "api_key", "display_name": "API key", "secret": true}],
                "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {api_key}"}]}],
            "tools": [{"slug": "KEYCO_WHOAMI", "name": "Who am I",
                       "description": "Return the authenticated KeyCo user.",
                       "input": {"type": "object"}, "http": {"method": "GET", "path": "/whoami"}}]
        });
        std::fs::write(kits.join("echoco.json"), echoco.to_string()).unwrap();
        std::fs::write(kits.join("keyco.json"), keyco.to_string()).unwrap();
        let data = dir.path().join("data");
        let p = Proc::serve(
            &data,
            &[
                "--toolkits-dir",
                kits.to_str().unwrap(),
                "--outbound-allow",
                "127.0.0.1",
            ],
        )
        .await;
        let key = std::fs::read_to_string(data.join("api-key"))
            .unwrap()
            .trim()
            .to_owned();
        World {
            p,
            key,
            data,
            upstream,
            _dir: dir,
        }
    }

    pub(crate) fn client(&self) -> Client {
        Client::new(&self.key, &self.p.base).unwrap()
    }

    /// Submits the hosted connect page's form for `keyco`, as the user's browser would.
    pub(crate) async fn submit_keyco_form(&self, redirect_url: &str) {
        let res = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(redirect_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("api_key={KEYCO_KEY}"))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let page = res.text().await.unwrap();
        assert!(status == 200 || status == 303, "{status} {page}");
    }
}

#[tokio::test]
async fn sessions_tools_and_execution_against_the_real_server() {
    let w = World::start().await;
    let c = w.client();

    // Create, with a preloaded tool: the model sees it first, then the meta tools.
    let s = c
        .create(
            "user_1",
            SessionConfig::new()
                .toolkits(["echoco", "keyco"])
                .preload_tools(["ECHOCO_ECHO"]),
        )
        .await
        .unwrap();
    assert!(s.id().starts_with("trs_"), "{}", s.id());
    assert_eq!(s.user_id(), "user_1");
    assert_eq!(s.config_version(), 1);
    let tools = s.tools().await.unwrap();
    let slugs: Vec<&str> = tools.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs.first(), Some(&"ECHOCO_ECHO"), "{slugs:?}");
    assert!(slugs.contains(&"COMPOSIO_SEARCH_TOOLS"), "{slugs:?}");
    assert!(slugs.contains(&"COMPOSIO_MULTI_EXECUTE_TOOL"), "{slugs:?}");
    // In a provider's format, ready for the request.
    let openai = OpenAiChat::new();
    let formatted = s.tools_for(&openai).await.unwrap();
    assert_eq!(formatted.len(), tools.len());
    assert_eq!(formatted[0]["type"], "function");
    assert_eq!(formatted[0]["function"]["name"], "ECHOCO_ECHO");
    assert_eq!(
        formatted[0]["function"]["parameters"]["required"],
        json!(["msg"])
    );

    // The session's toolkits and whether the user is connected.
    let page = s.toolkits().await.unwrap();
    let mut kits: Vec<(&str, Option<bool>)> = page
        .items
        .iter()
        .map(|t| (t.slug.as_str(), t.connection.as_ref().map(|c| c.is_active)))
        .collect();
    kits.sort_unstable();
    assert_eq!(kits, [("echoco", None), ("keyco", Some(false))]);
    let only = s
        .toolkits_with(ToolkitsQuery::new().toolkits(["keyco"]))
        .await
        .unwrap();
    assert_eq!(only.items.len(), 1);
    assert_eq!(only.items[0].name, "KeyCo");

    // Execute: the stand-in is called, the result comes back with a log id.
    let r = s
        .execute("ECHOCO_ECHO", json!({"msg": "hello"}))
        .await
        .unwrap();
    assert!(r.successful, "{r:?}");
    assert_eq!(r.result_type, ResultType::Completed);
    assert_eq!(r.data["echo"], "hello", "{r:?}");
    assert!(r.log_id.as_deref().is_some_and(|l| !l.is_empty()), "{r:?}");
    assert_eq!(w.upstream.echoes(), 1);
    // A tool of a toolkit the user has not connected: a failed result, not an error.
    let r = s.execute("KEYCO_WHOAMI", json!({})).await.unwrap();
    assert!(!r.successful, "{r:?}");
    assert_eq!(r.result_type, ResultType::Failed);
    assert!(r.error.as_deref().is_some_and(|e| !e.is_empty()), "{r:?}");
    // A meta tool through /execute_meta.
    let r = s
        .execute_meta(
            "COMPOSIO_SEARCH_TOOLS",
            json!({"queries": [{"use_case": "echo a message back"}]}),
        )
        .await
        .unwrap();
    assert!(r.successful, "{r:?}");

    // Search.
    let found = s.search("echo a message back").await.unwrap();
    assert!(found.success, "{found:?}");
    assert_eq!(found.results.len(), 1);
    assert!(
        found.results[0]
            .primary_tool_slugs
            .contains(&"ECHOCO_ECHO".to_owned()),
        "{found:?}"
    );
    assert_eq!(found.tool_schemas["ECHOCO_ECHO"].toolkit, "echoco");

    // A model's tool calls, run and answered in the provider's format.
    let completion = json!({"choices": [{"message": {"role": "assistant", "content": null,
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "ECHOCO_ECHO", "arguments": "{\"msg\":\"via model\"}"}}]}}]});
    let messages = s.handle_tool_calls(&openai, &completion).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["role"], "tool");
    assert_eq!(messages[0]["tool_call_id"], "call_1");
    let content: Value = serde_json::from_str(messages[0]["content"].as_str().unwrap()).unwrap();
    assert_eq!(content["data"]["echo"], "via model", "{content}");
    assert_eq!(w.upstream.echoes(), 2);

    // MCP: the session's URL on this server, with the key attached (same origin).
    let mcp = s.mcp();
    assert_eq!(mcp.url, format!("{}/tool_router/{}/mcp", w.p.base, s.id()));
    let headers: Vec<(&str, &str)> = mcp.headers().collect();
    assert_eq!(headers, [("x-api-key", w.key.as_str())]);
    assert!(s.mcp_checked().is_ok());
}

#[tokio::test]
async fn reuse_list_delete_and_typed_errors() {
    let w = World::start().await;
    let c = w.client();
    let first = c.create("user_2", SessionConfig::new()).await.unwrap();
    let second = c
        .create("user_2", SessionConfig::new().disable_toolkits(["keyco"]))
        .await
        .unwrap();
    c.create("someone_else", SessionConfig::new())
        .await
        .unwrap();

    let reused = c.sessions().use_session(first.id()).await.unwrap();
    assert_eq!(reused.id(), first.id());
    assert_eq!(reused.user_id(), "user_2");
    let listed: Vec<String> = c
        .sessions()
        .list("user_2")
        .await
        .unwrap()
        .iter()
        .map(|s| s.id().to_owned())
        .collect();
    assert_eq!(listed, [second.id(), first.id()], "newest first");

    second.delete().await.unwrap();
    let gone = c.sessions().use_session(second.id()).await.unwrap_err();
    assert!(matches!(gone, Error::NotFound(_)), "{gone:?}");
    assert_eq!(gone.status(), Some(404));
    let api = gone.api().unwrap();
    assert!(
        api.slug.as_deref().is_some_and(|s| s.contains("not_found")),
        "{api:?}"
    );
    assert!(api.message.contains(second.id()), "{api:?}");
    assert!(gone.request_id().is_some_and(|r| !r.is_empty()));
    assert_eq!(c.sessions().list("user_2").await.unwrap().len(), 1);

    // Unknown toolkits are refused with the envelope's details.
    let bad = c
        .create("user_2", SessionConfig::new().toolkits(["no_such_kit"]))
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(400), "{bad:?}");
    assert!(bad.to_string().contains("no_such_kit"), "{bad}");

    // A wrong key.
    let wrong = Client::new(format!("trk_{}", "A".repeat(43)), &w.p.base).unwrap();
    let e = wrong.sessions().list("user_2").await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    assert!(!e.to_string().contains(&w.key));
}

#[tokio::test]
async fn authorize_waits_for_the_connect_page_then_tools_run_with_the_account() {
    let w = World::start().await;
    let c = w.client();
    let s = c
        .create("user_3", SessionConfig::new().toolkits(["keyco"]))
        .await
        .unwrap();
    let request = s.authorize("keyco").await.unwrap();
    assert!(request.id.starts_with("ca_"), "{}", request.id);
    assert!(
        request
            .redirect_url
            .starts_with(&format!("{}/link/", w.p.base)),
        "{}",
        request.redirect_url
    );
    assert_eq!(request.status, "INITIATED");
    let request = request.poll_interval(Duration::from_millis(100));

    // Nobody opened the link yet.
    let e = request
        .wait_for_connection(Duration::from_millis(300))
        .await
        .unwrap_err();
    match e {
        Error::ConnectionTimeout { id, status, .. } => {
            assert_eq!(id, request.id);
            assert_eq!(status, "INITIATED");
        }
        other => panic!("{other:?}"),
    }

    // The user submits the form while we wait.
    let waiting = tokio::spawn({
        let request = request.clone();
        async move { request.wait_for_connection(Duration::from_secs(20)).await }
    });
    w.submit_keyco_form(&request.redirect_url).await;
    let account = waiting.await.unwrap().unwrap();
    assert_eq!(account.id, request.id);
    assert_eq!(account.status, "ACTIVE");
    assert_eq!(account.toolkit.slug, "keyco");
    assert_eq!(account.user_id, "user_3");
    let shown = serde_json::to_string(&account).unwrap();
    assert!(
        !shown.contains(KEYCO_KEY),
        "the key is never shown: {shown}"
    );

    let page = s.toolkits().await.unwrap();
    let keyco = page.items.iter().find(|t| t.slug == "keyco").unwrap();
    let connection = keyco.connection.as_ref().unwrap();
    assert!(connection.is_active);
    assert_eq!(
        connection.connected_account,
        Some((request.id.clone(), "ACTIVE".to_owned()))
    );

    let r = s.execute("KEYCO_WHOAMI", json!({})).await.unwrap();
    assert!(r.successful, "{r:?}");
    assert_eq!(r.data["login"], "octo");
    assert_eq!(
        w.upstream
            .whoami_auth
            .lock()
            .unwrap()
            .last()
            .map(String::as_str),
        Some(format!("Bearer {KEYCO_KEY}").as_str())
    );
}

#[tokio::test]
async fn custom_tools_run_in_process_beside_server_tools() {
    let w = World::start().await;
    let c = w.client();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let shout = CustomTool::new(
        "SHOUT",
        "Upper-case a text.",
        move |args: BTreeMap<String, String>, _ctx| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let text = args
                    .get("text")
                    .ok_or_else(|| ToolError::msg("text is required"))?;
                Ok(json!({"shouted": text.to_uppercase()}))
            }
        },
    )
    .preload(true);
    let s = c
        .create(
            "user_4",
            SessionConfig::new().toolkits(["echoco"]).custom_tool(shout),
        )
        .await
        .unwrap();
    let tools = s.tools().await.unwrap();
    assert!(
        tools.iter().any(|t| t.slug == "LOCAL_SHOUT"),
        "{:?}",
        tools.iter().map(|t| &t.slug).collect::<Vec<_>>()
    );

    let r = s
        .execute("LOCAL_SHOUT", json!({"text": "quiet"}))
        .await
        .unwrap();
    assert!(r.successful, "{r:?}");
    assert_eq!(r.data["shouted"], "QUIET");
    assert_eq!(r.log_id, None, "ran here, not on the server");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // One multi-execute with a custom tool and a server tool: each runs where it lives.
    let r = s
        .execute(
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"tools": [
                {"tool_slug": "ECHOCO_ECHO", "arguments": {"msg": "server"}},
                {"tool_slug": "LOCAL_SHOUT", "arguments": {"text": "local"}}]}),
        )
        .await
        .unwrap();
    assert!(r.successful, "{r:?}");
    let results = r.data["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{r:?}");
    assert_eq!(results[0]["tool_slug"], "ECHOCO_ECHO");
    assert_eq!(results[1]["response"]["data"]["shouted"], "LOCAL", "{r:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(w.upstream.echoes(), 1);
}

#[tokio::test]
async fn updates_attach_and_options_reach_the_server() {
    let w = World::start().await;
    let c = w.client();
    let mut s = c
        .create("user_5", SessionConfig::new().toolkits(["echoco"]))
        .await
        .unwrap();

    // An update changes the stored configuration; this handle shows it.
    s.update(
        SessionUpdate::new()
            .toolkits(["echoco", "keyco"])
            .expected_config_version(1),
    )
    .await
    .unwrap();
    assert_eq!(s.config_version(), 2);
    let enabled = s.info().config.toolkits.as_ref().unwrap().enabled.clone();
    assert_eq!(enabled, Some(vec!["echoco".to_owned(), "keyco".to_owned()]));
    // A stale expected version is a typed conflict, and nothing changes.
    let stale = s
        .clone()
        .update(
            SessionUpdate::new()
                .clear(ConfigKey::Toolkits)
                .expected_config_version(1),
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, Error::Conflict(_)), "{stale:?}");
    let reread = c.sessions().use_session(s.id()).await.unwrap();
    assert_eq!(reread.config_version(), 2);

    // Another process reuses the session with its own custom tool (attach).
    let count = CustomTool::new(
        "COUNT",
        "Count the characters of a text.",
        |args: BTreeMap<String, String>, _ctx| async move {
            Ok(json!({"chars": args.get("text").map_or(0, |t| t.chars().count())}))
        },
    );
    let attached = c
        .sessions()
        .use_session_with(s.id(), vec![count], Vec::new())
        .await
        .unwrap();
    let r = attached
        .execute("LOCAL_COUNT", json!({"text": "héllo"}))
        .await
        .unwrap();
    assert_eq!(r.data["chars"], 5, "{r:?}");

    // Search with several queries.
    let found = s
        .search_with(SearchRequest {
            queries: vec![
                SearchQueryBody {
                    use_case: "echo a message back".to_owned(),
                    known_fields: None,
                },
                SearchQueryBody {
                    use_case: "who am I on keyco".to_owned(),
                    known_fields: None,
                },
            ],
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(found.results.len(), 2, "{found:?}");
    assert_eq!(found.results[1].index, 2);

    // A link with an alias; the account carries it once connected.
    let request = s
        .authorize_with("keyco", AuthorizeOptions::new().alias("work"))
        .await
        .unwrap();
    w.submit_keyco_form(&request.redirect_url).await;
    let account = request
        .wait_for_connection(Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(account.alias.as_deref(), Some("work"));
    let r = s
        .execute_with(
            "KEYCO_WHOAMI",
            json!({}),
            ExecuteOptions::new().account(&account.id),
        )
        .await
        .unwrap();
    assert!(r.successful, "{r:?}");
}

#[tokio::test]
async fn direct_tool_access_lists_and_executes_without_a_session() {
    let w = World::start().await;
    let c = w.client();

    // One toolkit's tools, with their schemas.
    let tools = c
        .tools()
        .list(&ToolsQuery::new().toolkits(["echoco"]))
        .await
        .unwrap();
    let slugs: Vec<&str> = tools.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, ["ECHOCO_ECHO"]);
    assert_eq!(tools[0].toolkit.slug, "echoco");
    assert!(tools[0].no_auth, "{:?}", tools[0]);
    assert_eq!(tools[0].input_parameters["required"], json!(["msg"]));
    assert_eq!(
        tools[0].input_parameters["properties"]["msg"]["type"],
        "string"
    );
    // By slug, and by search within toolkits, one result.
    let by_slug = c
        .tools()
        .list(&ToolsQuery::new().tools(["KEYCO_WHOAMI"]))
        .await
        .unwrap();
    assert_eq!(by_slug.len(), 1);
    assert_eq!(by_slug[0].toolkit.slug, "keyco");
    assert!(!by_slug[0].no_auth);
    let found = c
        .tools()
        .list(
            &ToolsQuery::new()
                .toolkits(["echoco", "keyco"])
                .search("echo a message back")
                .limit(1),
        )
        .await
        .unwrap();
    let found: Vec<&str> = found.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(found, ["ECHOCO_ECHO"]);
    assert_eq!(
        c.tools().get("KEYCO_WHOAMI").await.unwrap().name,
        "Who am I"
    );

    // The same tools in a provider's format.
    let formatted = c
        .tools()
        .list_for(&Anthropic::new(), &ToolsQuery::new().toolkits(["echoco"]))
        .await
        .unwrap();
    assert_eq!(formatted.len(), 1);
    assert_eq!(formatted[0]["name"], "ECHOCO_ECHO");
    assert_eq!(formatted[0]["input_schema"]["required"], json!(["msg"]));

    // A no-auth tool for a user: the stand-in is called, the result comes back.
    let r = c
        .tools()
        .execute(
            "ECHOCO_ECHO",
            ExecuteDirect::for_user("direct_user").arguments(json!({"msg": "direct"})),
        )
        .await
        .unwrap();
    assert!(r.successful, "{r:?}");
    assert_eq!(r.result_type, ResultType::Completed);
    assert_eq!(r.data["echo"], "direct", "{r:?}");
    assert_eq!(r.data["upstream"], "stand-in", "{r:?}");
    assert!(r.log_id.as_deref().is_some_and(|l| !l.is_empty()), "{r:?}");
    assert_eq!(w.upstream.echoes(), 1);

    // A keyco tool for a user without a connected account: refused, nothing called.
    let e = c
        .tools()
        .execute("KEYCO_WHOAMI", ExecuteDirect::for_user("direct_user"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadRequest(_)), "{e:?}");
    let api = e.api().unwrap();
    assert_eq!(
        api.slug.as_deref(),
        Some("connected_account_required"),
        "{api:?}"
    );
    assert!(api.message.contains("keyco"), "{api:?}");
    assert!(w.upstream.whoami_auth.lock().unwrap().is_empty());

    // Once the user has connected keyco (through a session's connect page), the direct
    // call uses that account, by user id or by account id.
    let s = c
        .create("direct_user", SessionConfig::new().toolkits(["keyco"]))
        .await
        .unwrap();
    let request = s.authorize("keyco").await.unwrap();
    w.submit_keyco_form(&request.redirect_url).await;
    let account = request
        .wait_for_connection(Duration::from_secs(20))
        .await
        .unwrap();
    let r = c
        .tools()
        .execute("KEYCO_WHOAMI", ExecuteDirect::for_user("direct_user"))
        .await
        .unwrap();
    assert!(r.successful, "{r:?}");
    assert_eq!(r.data["login"], "octo", "{r:?}");
    let r = c
        .tools()
        .execute("KEYCO_WHOAMI", ExecuteDirect::for_account(&account.id))
        .await
        .unwrap();
    assert!(r.successful, "{r:?}");
    assert_eq!(
        w.upstream.whoami_auth.lock().unwrap().as_slice(),
        [format!("Bearer {KEYCO_KEY}"), format!("Bearer {KEYCO_KEY}")]
    );
    // Another user's account is refused.
    let e = c
        .tools()
        .execute(
            "KEYCO_WHOAMI",
            ExecuteDirect::for_account(&account.id).user_id("someone_else"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e:?}");

    // An unknown tool is a typed error, for listing one and for executing.
    let e = c.tools().get("NO_SUCH_TOOL").await.unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    let e = c
        .tools()
        .execute("NO_SUCH_TOOL", ExecuteDirect::for_user("direct_user"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert!(e.to_string().contains("NO_SUCH_TOOL"), "{e}");
    assert_eq!(w.upstream.echoes(), 1);
}
