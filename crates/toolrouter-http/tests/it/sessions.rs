//! Tool Router sessions over HTTP (`/api/v3.1/tool_router/session…`): the response shapes the
//! SDKs need (CONTRACT.md §11), every worked example of the product spec as `GET …/tools`
//! lists it, request-versus-echo spelling, PATCH semantics (`null`, merges, 409 on a stale
//! version, one winner among concurrent updates), the configuration history, one error naming
//! every unknown slug, and project isolation.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolrouter_core::{
    AccountStatus, AuthConfig, AuthConfigId, AuthConfigOrigin, ConnectedAccount,
    ConnectedAccountId, Project, ProjectId, Timestamp,
};
use toolrouter_http::HttpConfig;
use toolrouter_store::{AuthStore, ConnectOptions, SqliteStore, Store};

use super::{Server, envelope, start};

const SESSIONS: &str = "/api/v3.1/tool_router/session";

const DEFAULT_META: [&str; 6] = [
    "COMPOSIO_SEARCH_TOOLS",
    "COMPOSIO_GET_TOOL_SCHEMAS",
    "COMPOSIO_MULTI_EXECUTE_TOOL",
    "COMPOSIO_MANAGE_CONNECTIONS",
    "COMPOSIO_REMOTE_WORKBENCH",
    "COMPOSIO_REMOTE_BASH_TOOL",
];

async fn ok(s: &Server, key: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let text = body.map(|b| b.to_string());
    let (st, _, out) = s.call(method, path, Some(key), text.as_deref()).await;
    assert!(st.is_success(), "{method} {path}: {st} {out}");
    out
}

/// Asserts an error status and returns the envelope's `error` object.
async fn fails(
    s: &Server,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let text = body.map(|b| b.to_string());
    let (st, h, out) = s.call(method, path, Some(key), text.as_deref()).await;
    assert_eq!(st.as_u16(), status, "{method} {path}: {out}");
    envelope(st, &h, &out)
}

async fn create(s: &Server, key: &str, body: Value) -> Value {
    let (st, _, out) = s
        .call("POST", SESSIONS, Some(key), Some(&body.to_string()))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    out
}

fn sid(session: &Value) -> String {
    session["session_id"].as_str().unwrap().to_owned()
}

fn slugs(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// What `session.tools()` sees: every page of `GET …/tools?limit=500`.
async fn listed_tools(s: &Server, key: &str, id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("{SESSIONS}/{id}/tools?limit=500"),
            Some(c) => format!("{SESSIONS}/{id}/tools?limit=500&cursor={c}"),
        };
        let page = ok(s, key, "GET", &path, None).await;
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => cursor = Some(c.to_owned()),
            _ => break,
        }
    }
    out
}

/// A second project with its own key.
async fn second_project(s: &Server) -> (ProjectId, String) {
    let project = Project {
        id: ProjectId::generate(),
        name: "b".into(),
        created_at: Timestamp::now(),
    };
    let store = SqliteStore::open(&s._dir.path().join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    store.project_create(&project).await.unwrap();
    let issued = s.app.api_key_create(&project.id, "b-key").await.unwrap();
    (
        project.id,
        secrecy::ExposeSecret::expose_secret(&issued.key).to_owned(),
    )
}

async fn project_of(s: &Server, key: &str) -> ProjectId {
    let p = ok(s, key, "GET", "/api/v3.1/project", None).await;
    ProjectId::parse(p["id"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_default_session_has_every_key_the_sdks_read() {
    let (s, key) = start(HttpConfig::default()).await;
    // Exactly what both SDKs send for `composio.create("user_123")`.
    let created = create(
        &s,
        &key,
        json!({"user_id": "user_123", "manage_connections": {"enable": true}}),
    )
    .await;
    let id = sid(&created);
    assert!(id.starts_with("trs_"), "{id}");
    assert_eq!(
        created["mcp"],
        json!({"type": "http", "url": format!("{}/tool_router/{id}/mcp", s.base)}),
        "same origin as the API base URL"
    );
    assert_eq!(created["tool_router_tools"], json!(DEFAULT_META));
    assert_eq!(created["config_version"], 1);
    assert_eq!(created["warnings"], json!([]));
    assert!(
        created["experimental"]["assistive_prompt"]
            .as_str()
            .unwrap()
            .contains("COMPOSIO_SEARCH_TOOLS")
    );
    assert_eq!(
        created["config"],
        json!({
            "user_id": "user_123",
            "manage_connections": {"enabled": true, "enable_wait_for_connections": false,
                                   "enable_connection_removal": true},
            "workbench": {"enable": true, "proxy_execution_enabled": true,
                          "auto_offload_threshold": 20000, "sandbox_size": "standard"},
            "preload": {"tools": []}, "search": {}, "execute": {},
            "instant": {"return_instant_charge": false, "return_prices_in_search": false}
        })
    );

    // `composio.use(id)` reads the same session back.
    let got = ok(&s, &key, "GET", &format!("{SESSIONS}/{id}"), None).await;
    for k in [
        "session_id",
        "mcp",
        "tool_router_tools",
        "config",
        "config_version",
    ] {
        assert_eq!(got[k], created[k], "{k}");
    }

    // Every listed tool has what Python and TypeScript read (§5.1).
    let tools = listed_tools(&s, &key, &id).await;
    assert_eq!(slugs(&Value::Array(tools.clone())), DEFAULT_META);
    for t in &tools {
        let slug = t["slug"].as_str().unwrap();
        assert!(
            t["name"].is_string() && t["description"].is_string(),
            "{slug}"
        );
        assert_eq!(t["input_parameters"]["type"], "object", "{slug}");
        assert_eq!(t["toolkit"]["slug"], "composio", "{slug}");
        assert!(t["toolkit"]["name"].is_string() && t["toolkit"]["logo"].is_string());
        for k in [
            "output_parameters",
            "no_auth",
            "available_versions",
            "version",
            "scopes",
            "tags",
            "is_deprecated",
            "deprecated",
        ] {
            assert!(t.get(k).is_some(), "{slug}: {k}");
        }
    }
    let search = &tools[0]["description"];
    assert!(
        search.as_str().unwrap().contains("gmail") && search.as_str().unwrap().contains("github"),
        "the search tool names the session's toolkits: {search}"
    );
}

#[tokio::test]
async fn the_mcp_url_follows_the_origin_the_client_used() {
    let (s, key) = start(HttpConfig::default()).await;
    let res = s
        .client
        .post(format!("{}{SESSIONS}", s.base))
        .header("x-api-key", &key)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "tools.example.com")
        .json(&json!({"user_id": "u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["mcp"]["url"],
        json!(format!(
            "https://tools.example.com/tool_router/{}/mcp",
            sid(&body)
        ))
    );
}

/// The worked examples of "Configuring sessions", with the bodies the SDKs send for them.
#[tokio::test]
async fn every_seed_example_lists_the_documented_tools() {
    let (s, key) = start(HttpConfig::default()).await;
    let direct = json!({
        "user_id": "user_123",
        "toolkits": {"enable": ["gmail"]},
        "manage_connections": {"enable": false},
        "tools": {"gmail": {"enable": ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]}},
        "workbench": {"enable": false},
        "preload": {"tools": "all"},
        "search": {"enable": false},
        "execute": {"enable_multi_execute": false}
    });
    let mut direct_with_meta = direct.clone();
    direct_with_meta["manage_connections"] = json!({"enable": true});
    direct_with_meta["workbench"] = json!({"enable": true});
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "default",
            json!({"user_id": "user_123", "manage_connections": {"enable": true}}),
            DEFAULT_META.to_vec(),
        ),
        (
            "toolkits as a list",
            json!({"user_id": "user_123", "toolkits": ["github", "gmail", "slack"]}),
            DEFAULT_META.to_vec(),
        ),
        (
            "toolkits denylist",
            json!({"user_id": "user_123", "toolkits": {"disable": ["exa", "firecrawl"]}}),
            DEFAULT_META.to_vec(),
        ),
        (
            "preload a list",
            json!({
                "user_id": "user_123", "toolkits": {"enable": ["gmail"]},
                "manage_connections": {"enable": true},
                "preload": {"tools": ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]}
            }),
            [
                &["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"][..],
                &DEFAULT_META[..],
            ]
            .concat(),
        ),
        (
            "direct tools preset",
            direct.clone(),
            vec!["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"],
        ),
        (
            "direct tools preset with manage connections and workbench",
            direct_with_meta,
            vec![
                "GMAIL_FETCH_EMAILS",
                "GMAIL_CREATE_EMAIL_DRAFT",
                "COMPOSIO_MANAGE_CONNECTIONS",
                "COMPOSIO_REMOTE_WORKBENCH",
                "COMPOSIO_REMOTE_BASH_TOOL",
            ],
        ),
        (
            "direct tools preset by name (server-side expansion)",
            json!({
                "user_id": "user_123", "toolkits": ["gmail"],
                "tools": {"gmail": {"enable": ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]}},
                "session_preset": "direct_tools"
            }),
            vec!["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"],
        ),
        (
            "workbench disabled",
            json!({"user_id": "user_123", "workbench": {"enable": false}}),
            DEFAULT_META[..4].to_vec(),
        ),
        (
            "wait for connections and proxy execute",
            json!({
                "user_id": "user_123",
                "manage_connections": {"enable": true, "enable_wait_for_connections": true},
                "proxy_execute": {"enable": true}
            }),
            vec![
                "COMPOSIO_SEARCH_TOOLS",
                "COMPOSIO_GET_TOOL_SCHEMAS",
                "COMPOSIO_MULTI_EXECUTE_TOOL",
                "COMPOSIO_MANAGE_CONNECTIONS",
                "COMPOSIO_WAIT_FOR_CONNECTIONS",
                "COMPOSIO_REMOTE_WORKBENCH",
                "COMPOSIO_REMOTE_BASH_TOOL",
                "COMPOSIO_PROXY_EXECUTE",
            ],
        ),
    ];
    for (name, body, want) in cases {
        let created = create(&s, &key, body).await;
        let tools = listed_tools(&s, &key, &sid(&created)).await;
        let got = slugs(&Value::Array(tools.clone()));
        assert_eq!(got, want, "{name}");
        assert_eq!(created["tool_router_tools"], json!(want), "{name}");
        for t in tools
            .iter()
            .filter(|t| t["slug"].as_str().unwrap().starts_with("GMAIL_"))
        {
            assert_eq!(t["toolkit"]["slug"], "gmail");
            assert_eq!(t["input_parameters"]["type"], "object");
        }
    }
}

#[tokio::test]
async fn requests_are_echoed_in_response_spelling() {
    let (s, key) = start(HttpConfig::default()).await;
    let created = create(
        &s,
        &key,
        json!({
            "user_id": "user_123",
            "toolkits": ["gmail", "GitHub"],
            "tools": {
                "gmail": ["gmail_send_email", "GMAIL_SEARCH"],
                "github": {"tags": {"enable": ["readOnlyHint"], "disable": ["destructiveHint"]}}
            },
            "tags": ["readOnlyHint"],
            "manage_connections": {"enable": true, "callback_url": "https://example.com/callback",
                                   "enable_wait_for_connections": true},
            "workbench": {"enable": true, "enable_proxy_execution": false,
                          "auto_offload_threshold": 300, "sandbox_size": "xlarge"},
            "multi_account": {"enable": true, "max_accounts_per_toolkit": 3,
                              "require_explicit_selection": true},
            "instant": false,
            "experimental": {"assistive_prompt_config": {"user_timezone": "America/New_York"}}
        }),
    )
    .await;
    let config = &created["config"];
    assert_eq!(config["toolkits"], json!({"enabled": ["gmail", "github"]}));
    assert_eq!(
        config["tools"],
        json!({
            "gmail": {"enabled": ["GMAIL_SEND_EMAIL", "GMAIL_SEARCH"]},
            "github": {"tags": {"enabled": ["readOnlyHint"], "disabled": ["destructiveHint"]}}
        })
    );
    assert_eq!(config["tags"], json!({"enabled": ["readOnlyHint"]}));
    assert_eq!(
        config["manage_connections"],
        json!({"enabled": true, "callback_url": "https://example.com/callback",
               "enable_wait_for_connections": true, "enable_connection_removal": true})
    );
    assert_eq!(
        config["workbench"],
        json!({"enable": true, "proxy_execution_enabled": false,
               "auto_offload_threshold": 300, "sandbox_size": "xlarge"})
    );
    assert_eq!(
        config["multi_account"],
        json!({"enable": true, "max_accounts_per_toolkit": 3, "require_explicit_selection": true})
    );
    assert_eq!(config["instant"], json!(false));
    assert!(
        created["experimental"]["assistive_prompt"]
            .as_str()
            .unwrap()
            .contains("America/New_York")
    );
    // TypeScript's `premium_usage` is the same setting.
    let ts = create(&s, &key, json!({"user_id": "u", "premium_usage": false})).await;
    assert_eq!(ts["config"]["instant"], json!(false));
}

#[tokio::test]
async fn updates_follow_null_semantics_and_record_history() {
    let (s, key) = start(HttpConfig::default()).await;
    let created = create(
        &s,
        &key,
        json!({"user_id": "user_123", "manage_connections": {"enable": true,
               "callback_url": "https://example.com/cb"}}),
    )
    .await;
    let id = sid(&created);
    let path = format!("{SESSIONS}/{id}");

    // The Python trace's first update.
    let v2 = ok(
        &s,
        &key,
        "PATCH",
        &path,
        Some(json!({
            "toolkits": {"enable": ["gmail"]},
            "manage_connections": {"callback_url": null},
            "workbench": {"sandbox_size": "medium"},
            "preload": {"tools": ["GMAIL_FETCH_EMAILS"]},
            "expected_config_version": 1
        })),
    )
    .await;
    assert_eq!(v2["config_version"], 2);
    let c = &v2["config"];
    assert_eq!(c["toolkits"], json!({"enabled": ["gmail"]}));
    assert_eq!(
        c["manage_connections"],
        json!({"enabled": true, "enable_wait_for_connections": false,
               "enable_connection_removal": true}),
        "null removed only the callback URL"
    );
    assert_eq!(c["workbench"]["sandbox_size"], "medium");
    assert_eq!(c["workbench"]["enable"], true, "untouched keys stay");
    assert_eq!(c["preload"], json!({"tools": ["GMAIL_FETCH_EMAILS"]}));
    assert_eq!(
        v2["tool_router_tools"],
        json!([&["GMAIL_FETCH_EMAILS"][..], &DEFAULT_META[..]].concat())
    );

    // `toolkits: null` restores "every toolkit"; `hooks: null` is accepted (Python 0.30).
    let v3 = ok(
        &s,
        &key,
        "PATCH",
        &path,
        Some(json!({"toolkits": null, "hooks": null})),
    )
    .await;
    assert_eq!(v3["config_version"], 3);
    assert!(v3["config"].get("toolkits").is_none(), "{}", v3["config"]);
    assert_eq!(
        v3["config"]["preload"],
        json!({"tools": ["GMAIL_FETCH_EMAILS"]})
    );

    // A supplied map replaces the stored one.
    let v4 = ok(
        &s,
        &key,
        "PATCH",
        &path,
        Some(json!({"tools": {"gmail": ["GMAIL_FETCH_EMAILS"]}})),
    )
    .await;
    let v5 = ok(
        &s,
        &key,
        "PATCH",
        &path,
        Some(json!({"tools": {"slack": {"disable": ["SLACK_DELETE_MESSAGE"]}}})),
    )
    .await;
    assert_eq!(
        v4["config"]["tools"],
        json!({"gmail": {"enabled": ["GMAIL_FETCH_EMAILS"]}})
    );
    assert_eq!(
        v5["config"]["tools"],
        json!({"slack": {"disabled": ["SLACK_DELETE_MESSAGE"]}})
    );

    // A stale expected version is a 409 and changes nothing.
    let err = fails(
        &s,
        &key,
        "PATCH",
        &path,
        Some(json!({"tags": ["readOnlyHint"], "expected_config_version": 1})),
        409,
    )
    .await;
    assert_eq!(err["slug"], "config_version_conflict");
    assert!(
        err["message"].as_str().unwrap().contains("version 5"),
        "{err}"
    );
    let now = ok(&s, &key, "GET", &path, None).await;
    assert_eq!(now["config_version"], 5);
    assert!(now["config"].get("tags").is_none());

    // A refused update stores nothing either.
    fails(
        &s,
        &key,
        "PATCH",
        &path,
        Some(json!({"workbench": {"sandbox_size": "huge"}})),
        400,
    )
    .await;
    fails(
        &s,
        &key,
        "PATCH",
        &path,
        Some(json!({"user_id": "someone_else"})),
        400,
    )
    .await;
    let err = fails(
        &s,
        &key,
        "PATCH",
        &path,
        Some(json!({"session_preset": "direct_tools"})),
        400,
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("only when a session is created")
    );
    assert_eq!(ok(&s, &key, "GET", &path, None).await["config_version"], 5);

    // The history: newest first, `is_current` only on the live version, cursor pages.
    let first = ok(
        &s,
        &key,
        "GET",
        &format!("{path}/config_history?limit=2"),
        None,
    )
    .await;
    let versions = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["version"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(versions(&first), [5, 4]);
    assert_eq!(first["items"][0]["is_current"], true);
    assert_eq!(first["items"][1]["is_current"], false);
    assert_eq!(
        (
            &first["total_items"],
            &first["total_pages"],
            &first["current_page"]
        ),
        (&json!(5), &json!(3), &json!(1))
    );
    assert!(
        first["items"][0]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(first["items"][1]["config"], v4["config"]);
    let mut all = versions(&first);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page = ok(
            &s,
            &key,
            "GET",
            &format!("{path}/config_history?limit=2&cursor={cursor}"),
            None,
        )
        .await;
        all.extend(versions(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => {
                assert_eq!(page["current_page"], 3);
                assert_eq!(page["next_cursor"], Value::Null);
                break;
            }
        }
    }
    assert_eq!(all, [5, 4, 3, 2, 1]);
    let last = ok(&s, &key, "GET", &format!("{path}/config_history"), None).await;
    assert_eq!(last["items"][4]["config"], created["config"]);
}

#[tokio::test]
async fn of_two_concurrent_updates_at_one_version_exactly_one_wins() {
    let (s, key) = start(HttpConfig::default()).await;
    for round in 0..3 {
        let id = sid(&create(&s, &key, json!({"user_id": format!("u{round}")})).await);
        let path = format!("{SESSIONS}/{id}");
        let a = json!({"workbench": {"sandbox_size": "large"}, "expected_config_version": 1})
            .to_string();
        let b = json!({"workbench": {"sandbox_size": "medium"}, "expected_config_version": 1})
            .to_string();
        let (ra, rb) = tokio::join!(
            s.call("PATCH", &path, Some(&key), Some(&a)),
            s.call("PATCH", &path, Some(&key), Some(&b))
        );
        let mut statuses = [ra.0.as_u16(), rb.0.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{} / {}", ra.2, rb.2);
        let winner = if ra.0 == StatusCode::OK { &ra.2 } else { &rb.2 };
        let stored = ok(&s, &key, "GET", &path, None).await;
        assert_eq!(stored["config_version"], 2);
        assert_eq!(stored["config"], winner["config"]);
    }
}

#[tokio::test]
async fn one_error_names_every_unknown_slug() {
    let (s, key) = start(HttpConfig::default()).await;
    let err = fails(
        &s,
        &key,
        "POST",
        SESSIONS,
        Some(json!({
            "user_id": "u",
            "toolkits": ["gmail", "nope", "github"],
            "tools": {
                "gmail": ["GMAIL_SEND_EMAIL", "GMAIL_NOT_A_TOOL"],
                "github": ["GMAIL_FETCH_EMAILS"],
                "nada": ["NADA_X"]
            },
            "preload": {"tools": ["ALSO_NOT_A_TOOL"]}
        })),
        400,
    )
    .await;
    assert_eq!(err["slug"], "unknown_slugs");
    expect_test::expect![[r#"
        [
          "`toolkits.enable`: no toolkit `nope`",
          "`tools.github.enable`: `GMAIL_FETCH_EMAILS` is a tool of `gmail`, not of `github`",
          "`tools.gmail.enable`: no tool `GMAIL_NOT_A_TOOL`",
          "`tools`: no toolkit `nada`",
          "`tools.nada.enable`: no tool `NADA_X`",
          "`preload.tools`: no tool `ALSO_NOT_A_TOOL`"
        ]"#]]
    .assert_eq(&serde_json::to_string_pretty(&err["errors"]).unwrap());
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("6 unknown toolkit or tool slug(s)")
    );
    assert!(
        err["suggested_fix"]
            .as_str()
            .unwrap()
            .contains("/api/v3.1/tools")
    );
}

#[tokio::test]
async fn invalid_configurations_say_what_and_where() {
    let (s, key) = start(HttpConfig::default()).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"user_id": "u", "workbench": {"sandbox_size": "huge"}}),
            "`workbench.sandbox_size`: `huge` is not a sandbox size; use `standard`, `medium`, `large`, `xlarge`",
        ),
        (
            json!({"user_id": "u", "toolkits": {"enable": ["gmail"], "disable": ["exa"]}}),
            "`toolkits`: give either `enable` (an allowlist) or `disable` (a denylist), not both",
        ),
        (
            json!({"user_id": "u", "multi_account": {"enable": true},
                   "preload": {"tools": ["GMAIL_FETCH_EMAILS"]}}),
            "`preload.tools`: preloading is not supported when `multi_account.enable` is true; remove `preload.tools` or turn multi-account off",
        ),
        (
            json!({"user_id": "u", "toolkits": {"disable": ["exa"]}, "preload": {"tools": "all"}}),
            "`preload.tools`: \"all\" needs a positive filter to bound it: set `toolkits.enable`, `tools.<toolkit>.enable` or `tags.enable`",
        ),
        (
            json!({"user_id": "u", "toolkits": ["github"], "preload": {"tools": ["GMAIL_FETCH_EMAILS"]}}),
            "`preload.tools`: `GMAIL_FETCH_EMAILS` is excluded by the session's toolkits/tools/tags filters",
        ),
        (
            json!({"user_id": "u", "connected_accounts": {"gmail": ["ca_a", "ca_b"]}}),
            "`connected_accounts.gmail`: lists 2 accounts; only one account per toolkit unless `multi_account.enable` is true",
        ),
        (
            json!({"user_id": ""}),
            "`user_id`: is required and must not be empty",
        ),
        (json!({}), "`user_id`: is required and must not be empty"),
    ];
    for (body, want) in cases {
        let err = fails(&s, &key, "POST", SESSIONS, Some(body.clone()), 400).await;
        assert_eq!(err["slug"], "validation_failed", "{body}");
        assert_eq!(err["errors"], json!([want]), "{body}");
    }
    // A shape the wire does not allow is named with its path.
    let err = fails(
        &s,
        &key,
        "POST",
        SESSIONS,
        Some(json!({"user_id": "u", "toolkits": "gmail"})),
        400,
    )
    .await;
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("toolkits") && message.contains("expected a list of slugs or an object"),
        "{message}"
    );
}

#[tokio::test]
async fn pinned_accounts_must_be_the_users_own() {
    let (s, key) = start(HttpConfig::default()).await;
    let project = project_of(&s, &key).await;
    let store = SqliteStore::open(&s._dir.path().join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    let (config, account) = connect(&store, &project, "gmail", "alice").await;

    let err = fails(
        &s,
        &key,
        "POST",
        SESSIONS,
        Some(json!({
            "user_id": "bob",
            "connected_accounts": {"gmail": [account.id.as_str()], "github": ["ca_missing"]},
            "auth_configs": {"github": config.id.as_str()}
        })),
        400,
    )
    .await;
    let errors: Vec<&str> = err["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        errors,
        [
            "`connected_accounts.github`: no connected account ca_missing in this project"
                .to_owned(),
            format!(
                "`connected_accounts.gmail`: account {} belongs to another user, not `bob`",
                account.id
            ),
            format!(
                "`auth_configs.github`: auth config {} is for `gmail`",
                config.id
            ),
        ]
    );
    let ok_session = create(
        &s,
        &key,
        json!({"user_id": "alice", "connected_accounts": {"gmail": account.id.as_str()},
               "auth_configs": {"gmail": config.id.as_str()}}),
    )
    .await;
    assert_eq!(
        ok_session["config"]["connected_accounts"],
        json!({"gmail": [account.id.as_str()]}),
        "a single id is stored as a list"
    );
}

/// Stores an auth config and an ACTIVE account for `user` (what a finished connect flow leaves).
async fn connect(
    store: &SqliteStore,
    project: &ProjectId,
    toolkit: &str,
    user: &str,
) -> (AuthConfig, ConnectedAccount) {
    let now = Timestamp::now();
    let config = AuthConfig {
        id: AuthConfigId::generate(),
        project_id: project.clone(),
        toolkit: toolkit.to_owned(),
        name: format!("{toolkit} config"),
        auth_scheme: "OAUTH2".to_owned(),
        managed: false,
        origin: AuthConfigOrigin::Api,
        disabled: false,
        scopes: Vec::new(),
        fields: BTreeMap::new(),
        sealed: None,
        created_at: now,
        updated_at: now,
    };
    store.auth_config_insert(&config).await.unwrap();
    let account = ConnectedAccount {
        id: ConnectedAccountId::generate(),
        project_id: project.clone(),
        user_id: user.to_owned(),
        toolkit: toolkit.to_owned(),
        auth_config_id: config.id.clone(),
        status: AccountStatus::Active,
        status_reason: None,
        alias: None,
        disabled: false,
        params: BTreeMap::new(),
        sealed: None,
        expires_at: None,
        version: 1,
        callback_url: None,
        link_hash: None,
        link_expires_at: None,
        connected_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    store.account_insert(&account).await.unwrap();
    (config, account)
}

#[tokio::test]
async fn the_toolkit_list_shows_filters_and_connection_state() {
    let (s, key) = start(HttpConfig::default()).await;
    let project = project_of(&s, &key).await;
    let store = SqliteStore::open(&s._dir.path().join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    let (config, account) = connect(&store, &project, "gmail", "user_123").await;
    connect(&store, &project, "github", "someone_else").await;

    let id = sid(&create(
        &s,
        &key,
        json!({"user_id": "user_123", "toolkits": ["slack", "gmail", "github", "exa"]}),
    )
    .await);
    let path = format!("{SESSIONS}/{id}/toolkits");
    let page = ok(&s, &key, "GET", &path, None).await;
    assert_eq!(slugs(&page["items"]), ["slack", "gmail", "github", "exa"]);
    assert_eq!(
        (
            &page["total_items"],
            &page["total_pages"],
            &page["next_cursor"]
        ),
        (&json!(4), &json!(1), &Value::Null)
    );
    let gmail = &page["items"][1];
    assert_eq!(gmail["name"], "Gmail");
    assert_eq!(gmail["enabled"], true);
    assert_eq!(gmail["is_no_auth"], false);
    assert!(gmail["composio_managed_auth_schemes"].is_array());
    assert!(gmail["meta"]["logo"].is_string() && gmail["meta"]["description"].is_string());
    let ca = &gmail["connected_account"];
    assert_eq!(ca["id"], account.id.as_str());
    assert_eq!(ca["user_id"], "user_123");
    assert_eq!(ca["status"], "ACTIVE");
    assert!(ca["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        ca["auth_config"],
        json!({"id": config.id.as_str(), "auth_scheme": "OAUTH2", "is_composio_managed": false})
    );
    assert!(
        page["items"][2].get("connected_account").is_none(),
        "another user's account is not shown"
    );

    let connected = ok(&s, &key, "GET", &format!("{path}?is_connected=true"), None).await;
    assert_eq!(slugs(&connected["items"]), ["gmail"]);
    let searched = ok(&s, &key, "GET", &format!("{path}?search=mail"), None).await;
    assert_eq!(slugs(&searched["items"]), ["gmail"]);
    // `toolkits` overrides the session's configuration (and says whether it is enabled).
    let named = ok(
        &s,
        &key,
        "GET",
        &format!("{path}?toolkits=notion%2Cgmail"),
        None,
    )
    .await;
    assert_eq!(slugs(&named["items"]), ["notion", "gmail"]);
    assert_eq!(named["items"][0]["enabled"], false);
    let err = fails(
        &s,
        &key,
        "GET",
        &format!("{path}?toolkits=gmail,nope,nada"),
        None,
        400,
    )
    .await;
    assert_eq!(err["slug"], "unknown_slugs");
    assert_eq!(err["errors"].as_array().unwrap().len(), 2);

    // Twenty per page by default, at most 50, cursor to the end.
    let all = sid(&create(&s, &key, json!({"user_id": "user_123"})).await);
    let all_path = format!("{SESSIONS}/{all}/toolkits");
    let first = ok(&s, &key, "GET", &all_path, None).await;
    let total = first["total_items"].as_u64().unwrap() as usize;
    assert_eq!(first["items"].as_array().unwrap().len(), total.min(20));
    let mut seen = slugs(&first["items"]);
    let mut next = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = next {
        let page = ok(
            &s,
            &key,
            "GET",
            &format!("{all_path}?limit=5&cursor={c}"),
            None,
        )
        .await;
        seen.extend(slugs(&page["items"]));
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), total);
    fails(&s, &key, "GET", &format!("{all_path}?limit=51"), None, 400).await;
}

#[tokio::test]
async fn tool_pages_end_without_a_cursor() {
    let (s, key) = start(HttpConfig::default()).await;
    let id = sid(&create(
        &s,
        &key,
        json!({"user_id": "u", "toolkits": ["gmail"], "preload": {"tools": "all"}}),
    )
    .await);
    let created = ok(&s, &key, "GET", &format!("{SESSIONS}/{id}"), None).await;
    assert_eq!(
        created["warnings"][0]["code"], "PRELOAD_TOOLS_HIGH_CONTEXT_USAGE",
        "every gmail tool is more than the advised 20"
    );
    let everything = listed_tools(&s, &key, &id).await;
    let mut walked = Vec::new();
    let mut path = format!("{SESSIONS}/{id}/tools?limit=7");
    loop {
        let page = ok(&s, &key, "GET", &path, None).await;
        walked.extend(slugs(&page["items"]));
        match &page["next_cursor"] {
            Value::String(c) => path = format!("{SESSIONS}/{id}/tools?limit=7&cursor={c}"),
            Value::Null => break,
            other => panic!("next_cursor {other}"),
        }
    }
    assert_eq!(walked, slugs(&Value::Array(everything)));
    let err = fails(
        &s,
        &key,
        "GET",
        &format!("{SESSIONS}/{id}/tools?limit=501"),
        None,
        400,
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("between 1 and 500")
    );
}

#[tokio::test]
async fn deleted_and_foreign_sessions_are_not_found() {
    let (s, key_a) = start(HttpConfig::default()).await;
    let (_, key_b) = second_project(&s).await;
    let id = sid(&create(&s, &key_a, json!({"user_id": "u"})).await);
    let path = format!("{SESSIONS}/{id}");

    // Project B cannot see, change, list or delete project A's session.
    for (method, p, body) in [
        ("GET", path.clone(), None),
        (
            "PATCH",
            path.clone(),
            Some(json!({"tags": ["readOnlyHint"]})),
        ),
        ("DELETE", path.clone(), None),
        ("GET", format!("{path}/tools"), None),
        ("GET", format!("{path}/toolkits"), None),
        ("GET", format!("{path}/config_history"), None),
        ("POST", format!("{path}/attach"), Some(json!({}))),
    ] {
        let err = fails(&s, &key_b, method, &p, body, 404).await;
        assert_eq!(err["slug"], "session_not_found", "{method} {p}");
        assert_eq!(err["message"], format!("Session {id} not found"));
    }
    let listed = ok(&s, &key_b, "GET", SESSIONS, None).await;
    assert_eq!(listed["items"], json!([]));
    assert_eq!(
        ok(&s, &key_a, "GET", &path, None).await["config_version"],
        1
    );

    // Unknown and malformed ids are 404s too.
    for bad in ["trs_does_not_exist", "not_a_session"] {
        let err = fails(&s, &key_a, "GET", &format!("{SESSIONS}/{bad}"), None, 404).await;
        assert_eq!(err["message"], format!("Session {bad} not found"));
    }

    // Delete: the contract's body, then the session is gone for every call.
    let deleted = ok(&s, &key_a, "DELETE", &path, None).await;
    assert_eq!(deleted, json!({"session_id": id, "deleted": true}));
    for (method, p) in [
        ("GET", path.clone()),
        ("DELETE", path.clone()),
        ("GET", format!("{path}/tools")),
    ] {
        fails(&s, &key_a, method, &p, None, 404).await;
    }
}

#[tokio::test]
async fn sessions_are_listed_per_user_newest_first() {
    let (s, key) = start(HttpConfig::default()).await;
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(sid(&create(&s, &key, json!({"user_id": "alice"})).await));
    }
    create(&s, &key, json!({"user_id": "bob"})).await;
    alice.reverse();

    let first = ok(
        &s,
        &key,
        "GET",
        &format!("{SESSIONS}?user_id=alice&limit=2"),
        None,
    )
    .await;
    assert_eq!(
        first["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(sid)
            .collect::<Vec<_>>(),
        alice[..2]
    );
    assert_eq!(
        (
            &first["total_items"],
            &first["total_pages"],
            &first["current_page"]
        ),
        (&json!(3), &json!(2), &json!(1))
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok(
        &s,
        &key,
        "GET",
        &format!("{SESSIONS}?user_id=alice&limit=2&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(sid(&second["items"][0]), alice[2]);
    assert_eq!(second["current_page"], 2);
    assert_eq!(second["next_cursor"], Value::Null);
    let everyone = ok(&s, &key, "GET", SESSIONS, None).await;
    assert_eq!(everyone["total_items"], 4);
    fails(
        &s,
        &key,
        "GET",
        &format!("{SESSIONS}?cursor=garbage"),
        None,
        400,
    )
    .await;
}

#[tokio::test]
async fn custom_tools_get_local_slugs_on_create_and_attach() {
    let (s, key) = start(HttpConfig::default()).await;
    let schema = json!({"type": "object", "properties": {"pattern": {"type": "string"}},
                        "required": ["pattern"]});
    // The custom-tools flow of the SDK traces.
    let experimental = json!({
        "custom_tools": [
            {"slug": "GREP", "name": "Grep", "description": "Search local files.",
             "input_schema": schema},
            {"slug": "GET_IMPORTANT_EMAILS", "name": "Get Important Emails",
             "description": "Get important emails.", "input_schema": schema,
             "extends_toolkit": "gmail", "preload": true}
        ],
        "custom_toolkits": [
            {"slug": "DEV_TOOLS", "name": "Dev Tools", "description": "Local dev utilities",
             "tools": [{"slug": "SEARCH_CODE", "name": "Search Code",
                        "description": "Search developer resources.", "input_schema": schema}]}
        ]
    });
    let created = create(
        &s,
        &key,
        json!({"user_id": "u", "experimental": experimental.clone()}),
    )
    .await;
    let e = &created["experimental"];
    assert_eq!(
        (
            &e["custom_tools"][0]["slug"],
            &e["custom_tools"][0]["original_slug"],
            &e["custom_tools"][0]["extends_toolkit"]
        ),
        (&json!("LOCAL_GREP"), &json!("GREP"), &Value::Null)
    );
    assert_eq!(
        e["custom_tools"][1]["slug"],
        "LOCAL_GMAIL_GET_IMPORTANT_EMAILS"
    );
    assert_eq!(e["custom_tools"][1]["extends_toolkit"], "gmail");
    assert_eq!(e["custom_tools"][1]["preload"], true);
    assert_eq!(e["custom_toolkits"][0]["slug"], "DEV_TOOLS");
    assert_eq!(
        e["custom_toolkits"][0]["tools"][0],
        json!({"slug": "LOCAL_DEV_TOOLS_SEARCH_CODE", "name": "Search Code",
               "description": "Search developer resources.", "input_schema": schema,
               "original_slug": "SEARCH_CODE"})
    );
    // Custom tools are not stored: the SDK sends them again.
    let id = sid(&created);
    let got = ok(&s, &key, "GET", &format!("{SESSIONS}/{id}"), None).await;
    assert!(got["experimental"].get("custom_tools").is_none());
    let attached = ok(
        &s,
        &key,
        "POST",
        &format!("{SESSIONS}/{id}/attach"),
        Some(json!({"experimental": experimental})),
    )
    .await;
    assert_eq!(attached["experimental"]["custom_tools"], e["custom_tools"]);
    assert_eq!(attached["config"], created["config"]);

    let err = fails(
        &s,
        &key,
        "POST",
        &format!("{SESSIONS}/{id}/attach"),
        Some(json!({"experimental": {"custom_tools": [
            {"slug": "LOCAL_X", "name": "X", "description": "x", "input_schema": schema},
            {"slug": "Y", "name": "", "description": "y", "input_schema": {"type": "string"},
             "extends_toolkit": "nope"}
        ]}})),
        400,
    )
    .await;
    assert_eq!(err["errors"].as_array().unwrap().len(), 4, "{err}");
}
