//! `tools/list` and `tools/call` through rmcp's client: the list equals the REST tool list,
//! app tools run against the stand-in provider, failures are `isError` results, and an agent
//! with nothing but MCP can search for a tool and run it through the meta tools.

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use super::{SESSIONS, start};

fn args(v: Value) -> rmcp::model::JsonObject {
    match v {
        Value::Object(map) => map,
        other => panic!("arguments must be an object, not {other}"),
    }
}

#[tokio::test]
async fn tools_list_is_the_session_tool_list() {
    let s = start().await;
    let (sid, url) = s
        .session(json!({
            "user_id": "u1",
            "toolkits": {"enable": ["echoer"]},
            "preload": {"tools": ["ECHOER_CREATE_ITEM", "ECHOER_BROKEN"]}
        }))
        .await;
    let client = s.mcp(&url, &s.key).await;
    let server = client.peer_info().expect("initialized");
    assert_eq!(
        server.server_info.as_ref().map(|i| i.name.as_str()),
        Some("toolrouter")
    );
    assert!(
        server
            .instructions
            .as_deref()
            .is_some_and(|i| !i.is_empty()),
        "the assistive prompt is the server's instructions"
    );

    let listed = client.list_all_tools().await.unwrap();
    let (st, rest) = s
        .rest("GET", &format!("{SESSIONS}/{sid}/tools?limit=500"), None)
        .await;
    assert_eq!(st, 200, "{rest}");
    let rest_slugs: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), rest_slugs.len());
    for (tool, slug) in listed.iter().zip(&rest_slugs) {
        assert!(tool.name.len() <= 64, "{}", tool.name);
        assert_eq!(tool.name, *slug);
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")));
    }
    assert_eq!(&rest_slugs[..2], ["ECHOER_CREATE_ITEM", "ECHOER_BROKEN"]);
    assert!(
        rest_slugs.contains(&"COMPOSIO_SEARCH_TOOLS"),
        "{rest_slugs:?}"
    );

    let create = listed
        .iter()
        .find(|t| t.name == "ECHOER_CREATE_ITEM")
        .unwrap();
    let a = create.annotations.as_ref().unwrap();
    assert_eq!(
        (a.read_only_hint, a.idempotent_hint, a.open_world_hint),
        (Some(false), Some(true), Some(true))
    );
    assert_eq!(create.input_schema["required"], json!(["name"]));
    let broken = listed.iter().find(|t| t.name == "ECHOER_BROKEN").unwrap();
    assert_eq!(
        broken.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn tools_call_runs_the_tool_and_reports_failures_as_results() {
    let s = start().await;
    let (_, url) = s
        .session(json!({
            "user_id": "u1",
            "toolkits": {"enable": ["echoer"]},
            "preload": {"tools": ["ECHOER_CREATE_ITEM"]}
        }))
        .await;
    let client = s.mcp(&url, &s.key).await;

    let out = client
        .call_tool(
            CallToolRequestParams::new("ECHOER_CREATE_ITEM")
                .with_arguments(args(json!({"name": "lamp"}))),
        )
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(false), "{out:?}");
    let structured = out.structured_content.clone().unwrap();
    assert_eq!(structured["successful"], true);
    assert_eq!(structured["data"]["id"], "item_1");
    assert_eq!(structured["data"]["echo"], json!({"name": "lamp"}));
    let text = &out.content[0].as_text().unwrap().text;
    assert_eq!(serde_json::from_str::<Value>(text).unwrap(), structured);
    assert_eq!(s.seen.lock().unwrap().as_slice(), [json!({"name": "lamp"})]);

    // The provider's failure, bad arguments and a tool the session does not allow are results.
    let out = client
        .call_tool(CallToolRequestParams::new("ECHOER_BROKEN"))
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(true), "{out:?}");
    assert_eq!(
        out.structured_content.as_ref().unwrap()["successful"],
        false
    );
    let out = client
        .call_tool(
            CallToolRequestParams::new("ECHOER_CREATE_ITEM")
                .with_arguments(args(json!({"count": 2}))),
        )
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(true));
    let error = out.structured_content.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("name"), "{error}");
    let out = client
        .call_tool(CallToolRequestParams::new("GITHUB_GET_REPO"))
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(true));
    let error = out.structured_content.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("not enabled in this session"), "{error}");
    let out = client
        .call_tool(CallToolRequestParams::new("NO_SUCH_TOOL_AT_ALL"))
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(true));
    assert_eq!(
        s.seen.lock().unwrap().len(),
        1,
        "refused calls reach nothing"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn an_agent_searches_then_executes_through_meta_tools_alone() {
    let s = start().await;
    let (_, url) = s
        .session(json!({"user_id": "u1", "toolkits": {"enable": ["echoer"]}}))
        .await;
    let client = s.mcp(&url, &s.key).await;
    let names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.into_owned())
        .collect();
    assert!(
        names.contains(&"COMPOSIO_SEARCH_TOOLS".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"COMPOSIO_MULTI_EXECUTE_TOOL".to_owned()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"ECHOER_CREATE_ITEM".to_owned()),
        "not preloaded"
    );

    let found = client
        .call_tool(
            CallToolRequestParams::new("COMPOSIO_SEARCH_TOOLS").with_arguments(args(json!({
                "queries": [{"use_case": "create an item", "known_fields": "name:lamp"}]
            }))),
        )
        .await
        .unwrap();
    assert_eq!(found.is_error, Some(false), "{found:?}");
    let data = &found.structured_content.unwrap()["data"];
    let slug = data["results"][0]["primary_tool_slugs"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no tool found: {data}"))
        .to_owned();
    assert_eq!(slug, "ECHOER_CREATE_ITEM");

    let ran = client
        .call_tool(
            CallToolRequestParams::new("COMPOSIO_MULTI_EXECUTE_TOOL").with_arguments(args(json!({
                "tools": [{"tool_slug": slug, "arguments": {"name": "lamp"}}],
                "sync_response_to_workbench": false
            }))),
        )
        .await
        .unwrap();
    assert_eq!(ran.is_error, Some(false), "{ran:?}");
    let data = &ran.structured_content.unwrap()["data"];
    assert_eq!(
        data["results"][0]["response"]["data"]["id"], "item_1",
        "{data}"
    );
    assert_eq!(s.seen.lock().unwrap().as_slice(), [json!({"name": "lamp"})]);

    // A direct call of the found tool works too: the session allows it though it is not listed.
    let direct = client
        .call_tool(CallToolRequestParams::new(slug).with_arguments(args(json!({"name": "desk"}))))
        .await
        .unwrap();
    assert_eq!(direct.is_error, Some(false), "{direct:?}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn approvals_without_elicitation_follow_the_fallback() {
    let s = start().await;
    let (_, deny_url) = s
        .session(json!({
            "user_id": "u1",
            "toolkits": {"enable": ["echoer"]},
            "experimental": {"permissions": {"default": "ask_every_call"}}
        }))
        .await;
    let client = s.mcp(&deny_url, &s.key).await;
    let out = client
        .call_tool(
            CallToolRequestParams::new("ECHOER_CREATE_ITEM")
                .with_arguments(args(json!({"name": "x"}))),
        )
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(true));
    let error = out.structured_content.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("approval"), "{error}");
    // Meta tools that run no app tool (search) are not gated.
    let out = client
        .call_tool(
            CallToolRequestParams::new("COMPOSIO_SEARCH_TOOLS")
                .with_arguments(args(json!({"queries": [{"use_case": "create an item"}]}))),
        )
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(false), "{out:?}");
    client.cancel().await.unwrap();
    assert!(s.seen.lock().unwrap().is_empty());

    let (_, allow_url) = s
        .session(json!({
            "user_id": "u1",
            "toolkits": {"enable": ["echoer"]},
            "experimental": {"permissions": {"default": "ask_every_call"},
                             "no_elicitation_support_fallback": "allow"}
        }))
        .await;
    let client = s.mcp(&allow_url, &s.key).await;
    let out = client
        .call_tool(
            CallToolRequestParams::new("ECHOER_CREATE_ITEM")
                .with_arguments(args(json!({"name": "x"}))),
        )
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(false), "{out:?}");
    assert_eq!(s.seen.lock().unwrap().len(), 1);
    client.cancel().await.unwrap();
}
