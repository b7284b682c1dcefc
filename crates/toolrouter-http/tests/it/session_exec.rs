//! Running tools in a session over HTTP (`POST …/{sid}/execute`, CONTRACT.md §4.7, A.12)
//! against a local stand-in provider the catalog's base-URL override points at: what the
//! provider receives, the `{result_type, data, error, log_id}` answer for success, provider
//! failure and invalid arguments, and the envelopes for tools the session does not allow.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use toolrouter_app::{App, AppConfig, ToolCatalog};
use toolrouter_catalog::Catalog;
use toolrouter_http::HttpConfig;
use toolrouter_store::{ConnectOptions, SqliteStore};
use toolrouter_vault::Keyring;

use super::{Server, envelope, serve_app};

const SESSIONS: &str = "/api/v3.1/tool_router/session";

/// What the stand-in provider saw: (path, body) per request.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// A provider answering `POST /items` with `{id, echo}` and `POST /broken` with a 500.
async fn provider() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let router = axum::Router::new()
        .route(
            "/items",
            post(
                |State(seen): State<Seen>, axum::Json(body): axum::Json<Value>| async move {
                    seen.lock()
                        .unwrap()
                        .push(("/items".to_owned(), body.clone()));
                    axum::Json(json!({"id": "item_1", "echo": body}))
                },
            ),
        )
        .route(
            "/broken",
            post(
                |State(seen): State<Seen>, axum::Json(body): axum::Json<Value>| async move {
                    seen.lock().unwrap().push(("/broken".to_owned(), body));
                    (
                        http::StatusCode::INTERNAL_SERVER_ERROR,
                        axum::Json(json!({"message": "database on fire"})),
                    )
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (origin, seen)
}

/// A no-auth toolkit `echoer` whose base URL is overridden to `origin`.
fn catalog(origin: &str) -> ToolCatalog {
    let echoer = json!({
        "slug": "echoer", "name": "Echoer", "description": "A test service echoing items.",
        "base_url": "https://echoer.invalid",
        "auth_schemes": [],
        "tools": [
            {"slug": "ECHOER_CREATE_ITEM", "name": "Create item", "description": "Create one item in the echo service and return it with its new id.",
             "input": {"type": "object", "required": ["name"],
                       "properties": {"name": {"type": "string", "description": "Name of the item."},
                                      "count": {"type": "integer", "minimum": 1, "description": "How many."}}},
             "http": {"method": "POST", "path": "/items"}},
            {"slug": "ECHOER_BROKEN", "name": "Broken", "description": "Call an endpoint of the echo service that always fails with a server error.",
             "input": {"type": "object", "properties": {"x": {"type": "string", "description": "Anything."}}},
             "http": {"method": "POST", "path": "/broken"}}
        ]
    });
    let keyed = json!({
        "slug": "keyed", "name": "Keyed", "description": "A test service taking an API key.",
        "base_url": "https://keyed.invalid",
        "auth_schemes": [{"type": "API_KEY",
                          "fields": [{"name": "api_key", "display_name": "API key", "secret": true}],
                          "inject": [{"in": "header", "name": "x-api-key", "value": "{api_key}"}]}],
        "tools": [{"slug": "KEYED_WHOAMI", "name": "Who am I",
                   "description": "Return the user the API key belongs to, with their name.",
                   "input": {"type": "object"}, "http": {"method": "GET", "path": "/whoami"}}]
    });
    let sources = [
        ("echoer.json".to_owned(), echoer.to_string()),
        ("keyed.json".to_owned(), keyed.to_string()),
    ];
    let overrides = BTreeMap::from([("echoer".to_owned(), origin.to_owned())]);
    ToolCatalog::new(Catalog::from_sources(sources).unwrap(), overrides).unwrap()
}

/// A server over `catalog` whose tool calls may reach 127.0.0.1.
async fn start_local(catalog: ToolCatalog) -> (Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db"), &ConnectOptions::default())
        .await
        .unwrap();
    let keyring = Keyring::parse("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
    let mut config = AppConfig::default();
    config.exec.policy = toolrouter_exec::OutboundPolicy::public_only().allow_host("127.0.0.1");
    let app = App::new(Arc::new(store), Arc::new(keyring), catalog, &config);
    serve_app(app, &HttpConfig::default(), dir).await
}

async fn session(s: &Server, key: &str, body: Value) -> String {
    let (st, _, out) = s
        .call("POST", SESSIONS, Some(key), Some(&body.to_string()))
        .await;
    assert_eq!(st, 201, "{out}");
    out["session_id"].as_str().unwrap().to_owned()
}

async fn execute(s: &Server, key: &str, sid: &str, body: Value) -> (u16, Value) {
    let (st, h, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{sid}/execute"),
            Some(key),
            Some(&body.to_string()),
        )
        .await;
    if !st.is_success() {
        envelope(st, &h, &out);
    }
    (st.as_u16(), out)
}

/// The four keys every SDK needs, with `data` an object and `log_id` a string.
fn assert_result_shape(out: &Value) {
    let keys: Vec<&str> = out
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in ["result_type", "data", "error", "log_id"] {
        assert!(keys.contains(&k), "missing {k}: {out}");
    }
    assert!(out["data"].is_object(), "{out}");
    assert!(out["log_id"].as_str().unwrap().starts_with("log_"), "{out}");
}

#[tokio::test]
async fn an_allowed_tool_runs_against_the_provider_and_answers_completed() {
    let (origin, seen) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let sid = session(&s, &key, json!({"user_id": "u1", "toolkits": ["echoer"]})).await;
    let (st, out) = execute(
        &s,
        &key,
        &sid,
        json!({"tool_slug": "ECHOER_CREATE_ITEM", "arguments": {"name": "lamp", "count": 2}}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_result_shape(&out);
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(out["error"], Value::Null);
    assert_eq!(out["data"]["id"], "item_1", "{out}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![("/items".to_owned(), json!({"name": "lamp", "count": 2}))]
    );
}

#[tokio::test]
async fn a_provider_failure_is_a_200_failed_result() {
    let (origin, seen) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let sid = session(&s, &key, json!({"user_id": "u1"})).await;
    let (st, out) = execute(
        &s,
        &key,
        &sid,
        json!({"tool_slug": "ECHOER_BROKEN", "arguments": {"x": "y"}}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_result_shape(&out);
    assert_eq!(out["result_type"], "failed", "{out}");
    assert!(out["error"].is_string(), "{out}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_arguments_fail_naming_the_fields_and_reach_no_provider() {
    let (origin, seen) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let sid = session(&s, &key, json!({"user_id": "u1"})).await;
    let (st, out) = execute(
        &s,
        &key,
        &sid,
        json!({"tool_slug": "ECHOER_CREATE_ITEM", "arguments": {"count": 0}}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_result_shape(&out);
    assert_eq!(out["result_type"], "failed", "{out}");
    let error = out["error"].as_str().unwrap();
    assert!(error.contains("\"name\""), "{error}");
    assert!(error.contains("`count`"), "{error}");
    // No arguments at all is `{}`: still validated.
    let (_, out) = execute(&s, &key, &sid, json!({"tool_slug": "ECHOER_CREATE_ITEM"})).await;
    assert_eq!(out["result_type"], "failed", "{out}");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn tools_the_session_does_not_allow_or_that_do_not_exist_are_envelopes() {
    let (origin, seen) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let sid = session(
        &s,
        &key,
        json!({"user_id": "u1", "tools": {"echoer": {"enable": ["ECHOER_BROKEN"]}}}),
    )
    .await;
    let (st, out) = execute(
        &s,
        &key,
        &sid,
        json!({"tool_slug": "ECHOER_CREATE_ITEM", "arguments": {"name": "a"}}),
    )
    .await;
    assert_eq!(st, 403, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ECHOER_CREATE_ITEM"),
        "{out}"
    );
    let (st, out) = execute(&s, &key, &sid, json!({"tool_slug": "NOPE_TOOL"})).await;
    assert_eq!(st, 404, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("NOPE_TOOL")
    );
    let (st, _) = execute(
        &s,
        &key,
        "trs_doesnotexist",
        json!({"tool_slug": "ECHOER_BROKEN"}),
    )
    .await;
    assert_eq!(st, 404);
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn multi_execute_runs_every_item_and_answers_in_input_order() {
    let (origin, seen) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let sid = session(&s, &key, json!({"user_id": "u1"})).await;
    let tools: Vec<Value> = (0..6)
        .map(|i| match i {
            2 => json!({"tool_slug": "ECHOER_BROKEN", "arguments": {}}),
            4 => json!({"tool_slug": "ECHOER_MISSPELT", "arguments": {}}),
            _ => json!({"tool_slug": "ECHOER_CREATE_ITEM", "arguments": {"name": format!("n{i}")}}),
        })
        .collect();
    let (st, out) = execute(
        &s,
        &key,
        &sid,
        json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL",
               "arguments": {"tools": tools, "sync_response_to_workbench": false}}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_result_shape(&out);
    assert_eq!(out["result_type"], "failed", "{out}");
    assert_eq!(out["error"], "2 out of 6 tools failed");
    let data = &out["data"];
    assert_eq!(
        (
            data["total_count"].clone(),
            data["success_count"].clone(),
            data["error_count"].clone()
        ),
        (json!(6), json!(4), json!(2))
    );
    let results = data["results"].as_array().unwrap();
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["index"], json!(i), "{out}");
    }
    assert_eq!(results[0]["response"]["successful"], true);
    assert_eq!(
        results[3]["response"]["data"]["echo"],
        json!({"name": "n3"})
    );
    assert_eq!(results[2]["response"]["successful"], false);
    assert!(
        results[4]["error"]
            .as_str()
            .unwrap()
            .contains("ECHOER_MISSPELT")
    );
    // Four items reached the provider: three creates and the broken one.
    assert_eq!(seen.lock().unwrap().len(), 4);

    let too_many: Vec<Value> = (0..51)
        .map(|_| json!({"tool_slug": "ECHOER_BROKEN", "arguments": {}}))
        .collect();
    let (st, out) = execute(
        &s,
        &key,
        &sid,
        json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"tools": too_many}}),
    )
    .await;
    assert_eq!((st, out["result_type"].clone()), (200, json!("failed")));
    assert_eq!(seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn get_tool_schemas_through_execute_meta_suggests_close_matches() {
    let (origin, _) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let sid = session(
        &s,
        &key,
        json!({"user_id": "u1", "tools": {"echoer": {"disable": ["ECHOER_BROKEN"]}}}),
    )
    .await;
    let (st, _, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{sid}/execute_meta"),
            Some(&key),
            Some(
                &json!({"slug": "COMPOSIO_GET_TOOL_SCHEMAS",
                        "arguments": {"tool_slugs": ["ECHOER_CREATE_ITEM", "ECHOER_CREAT_ITEMS", "ECHOER_BROKEN"]}})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    assert_result_shape(&out);
    let schemas = &out["data"]["tool_schemas"];
    assert_eq!(
        schemas["ECHOER_CREATE_ITEM"]["input_schema"]["required"],
        json!(["name"])
    );
    assert_eq!(schemas["ECHOER_CREATE_ITEM"]["toolkit"], "echoer");
    let missing = out["data"]["not_found"].as_array().unwrap();
    assert_eq!(missing.len(), 2, "{out}");
    assert_eq!(missing[0]["suggestions"], json!(["ECHOER_CREATE_ITEM"]));
    // A disabled tool is neither shown nor suggested.
    assert!(!out.to_string().contains("\"ECHOER_BROKEN\":"), "{out}");
    assert_eq!(missing[1]["tool_slug"], "ECHOER_BROKEN");
    assert!(
        !missing[1]["suggestions"]
            .as_array()
            .unwrap()
            .contains(&json!("ECHOER_BROKEN"))
    );

    // `/execute_meta` refuses app tools.
    let (st, h, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{sid}/execute_meta"),
            Some(&key),
            Some(&json!({"slug": "ECHOER_CREATE_ITEM", "arguments": {"name": "x"}}).to_string()),
        )
        .await;
    assert_eq!(st, 400, "{out}");
    envelope(st, &h, &out);
}

#[tokio::test]
async fn search_answers_every_key_the_ts_sdk_parses_and_hides_disallowed_tools() {
    let (origin, _) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let sid = session(
        &s,
        &key,
        json!({"user_id": "u1", "tools": {"echoer": {"disable": ["ECHOER_BROKEN"]}}}),
    )
    .await;
    let body = json!({"queries": [{"use_case": "create an item in the echo service"},
                                  {"use_case": "call the endpoint that always fails"}],
                      "toolkits": ["echoer"]});
    let (st, _, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{sid}/search"),
            Some(&key),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    for k in [
        "success",
        "error",
        "results",
        "tool_schemas",
        "toolkit_connection_statuses",
        "next_steps_guidance",
        "session",
        "time_info",
    ] {
        assert!(out.get(k).is_some(), "missing {k}: {out}");
    }
    assert!(!out.to_string().contains("ECHOER_BROKEN"), "{out}");
    let first = &out["results"][0];
    assert_eq!(first["index"], 1);
    assert_eq!(
        first["primary_tool_slugs"][0], "ECHOER_CREATE_ITEM",
        "{out}"
    );
    assert_eq!(first["toolkits"], json!(["echoer"]));
    let schema = &out["tool_schemas"]["ECHOER_CREATE_ITEM"];
    assert_eq!(
        (schema["tool_slug"].clone(), schema["toolkit"].clone()),
        (json!("ECHOER_CREATE_ITEM"), json!("echoer"))
    );
    assert_eq!(schema["input_schema"]["required"], json!(["name"]));
    let status = &out["toolkit_connection_statuses"][0];
    assert_eq!(status["toolkit"], "echoer");
    assert_eq!(status["has_active_connection"], true);
    assert!(status["status_message"].is_string() && status["description"].is_string());
    assert_eq!(out["session"]["id"], json!(sid));
    assert!(out["time_info"]["current_time_utc_epoch_seconds"].is_i64());

    // The same search as the COMPOSIO_SEARCH_TOOLS meta tool, in the §4.7 envelope.
    let (st, out) = execute(
        &s,
        &key,
        &sid,
        json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS",
               "arguments": {"queries": [{"use_case": "create an item", "known_fields": "name:lamp"}]}}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_result_shape(&out);
    assert_eq!(
        out["data"]["results"][0]["primary_tool_slugs"][0], "ECHOER_CREATE_ITEM",
        "{out}"
    );
    // Eight queries are too many.
    let many: Vec<Value> = (0..8).map(|_| json!({"use_case": "x"})).collect();
    let (st, h, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{sid}/search"),
            Some(&key),
            Some(&json!({"queries": many}).to_string()),
        )
        .await;
    assert_eq!(st, 400, "{out}");
    envelope(st, &h, &out);
}

#[tokio::test]
async fn link_issues_a_connect_link_for_an_allowed_toolkit_only() {
    let (origin, _) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let body = json!({"toolkit": {"slug": "keyed"},
                      "auth_config": {"type": "use_custom_auth", "authScheme": "API_KEY", "name": "K"}});
    let (st, _, created) = s
        .call(
            "POST",
            "/api/v3.1/auth_configs",
            Some(&key),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(st, 201, "{created}");
    let sid = session(&s, &key, json!({"user_id": "u1", "toolkits": ["keyed"]})).await;
    let (st, _, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{sid}/link"),
            Some(&key),
            Some(&json!({"toolkit": "keyed"}).to_string()),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    let ca = out["connected_account_id"].as_str().unwrap().to_owned();
    assert!(ca.starts_with("ca_"), "{out}");
    assert!(
        out["redirect_url"].as_str().unwrap().starts_with("http"),
        "{out}"
    );
    assert!(out["link_token"].is_string());
    let (st, _, account) = s
        .call(
            "GET",
            &format!("/api/v3.1/connected_accounts/{ca}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(st, 200, "{account}");
    assert_eq!(account["status"], "INITIATED", "{account}");

    // A toolkit outside the session's allowlist gets no link.
    let (st, h, out) = s
        .call(
            "POST",
            &format!("{SESSIONS}/{sid}/link"),
            Some(&key),
            Some(&json!({"toolkit": "echoer"}).to_string()),
        )
        .await;
    assert_eq!(st, 403, "{out}");
    envelope(st, &h, &out);

    // Without a connection, running a keyed tool is a failed result telling what to do.
    let (st, out) = execute(&s, &key, &sid, json!({"tool_slug": "KEYED_WHOAMI"})).await;
    assert_eq!(st, 200, "{out}");
    assert_result_shape(&out);
    assert_eq!(out["result_type"], "failed", "{out}");
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("COMPOSIO_MANAGE_CONNECTIONS"),
        "{out}"
    );

    // COMPOSIO_MANAGE_CONNECTIONS: a link for the missing toolkit, a failure for the other.
    let (st, out) = execute(
        &s,
        &key,
        &sid,
        json!({"tool_slug": "COMPOSIO_MANAGE_CONNECTIONS",
               "arguments": {"toolkits": ["keyed", "echoer"]}}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_result_shape(&out);
    let results = &out["data"]["results"];
    assert_eq!(results["keyed"]["status"], "initiated", "{out}");
    assert!(results["keyed"]["redirect_url"].is_string(), "{out}");
    assert_eq!(results["echoer"]["status"], "failed", "{out}");
    assert_eq!(
        out["data"]["summary"],
        json!({"total_toolkits": 2, "active_connections": 0,
               "initiated_connections": 1, "failed_connections": 1})
    );
    assert_eq!(out["result_type"], "failed");
}

/// Seeds: with the workbench disabled, "direct workbench calls are rejected with a 400 error";
/// any meta tool the session does not expose is refused the same way, naming it.
#[tokio::test]
async fn a_disabled_meta_tool_is_a_400_naming_it() {
    let (origin, _seen) = provider().await;
    let (s, key) = start_local(catalog(&origin)).await;
    let sid = session(
        &s,
        &key,
        json!({"user_id": "u1", "workbench": {"enable": false}}),
    )
    .await;
    for slug in ["COMPOSIO_REMOTE_WORKBENCH", "COMPOSIO_REMOTE_BASH_TOOL"] {
        let (st, out) = execute(
            &s,
            &key,
            &sid,
            json!({"tool_slug": slug, "arguments": {"code_to_execute": "1", "command": "true"}}),
        )
        .await;
        assert_eq!(st, 400, "{out}");
        assert!(
            out["error"]["message"].as_str().unwrap().contains(slug),
            "{out}"
        );
    }
}
