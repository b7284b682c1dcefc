//! Approvals through MCP elicitation: where the session's `experimental.permissions` say "ask",
//! a client holding an MCP session that declared elicitation is asked (approve, always
//! approve, deny, decline) — for a tool called directly or in a COMPOSIO_MULTI_EXECUTE_TOOL
//! batch — and the stand-in provider shows whether the tool ran. Clients that cannot be asked
//! get the fallback (`tools.rs` covers rmcp's default client; here a request without an MCP
//! session).

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use super::{Connected, Server, start};

fn args(v: Value) -> rmcp::model::JsonObject {
    match v {
        Value::Object(map) => map,
        other => panic!("arguments must be an object, not {other}"),
    }
}

/// A session of the echo toolkit with `permissions`; its `mcp.url`.
async fn asking_session(s: &Server, permissions: Value) -> String {
    let (_, url) = s
        .session(json!({
            "user_id": "u1",
            "toolkits": {"enable": ["echoer"]},
            "experimental": {"permissions": permissions}
        }))
        .await;
    url
}

/// Calls ECHOER_CREATE_ITEM with `name`: `Ok` when it ran, else the error result's `error`.
async fn create(c: &Connected, name: &str) -> Result<(), String> {
    let out = c
        .client
        .call_tool(
            CallToolRequestParams::new("ECHOER_CREATE_ITEM")
                .with_arguments(args(json!({ "name": name }))),
        )
        .await
        .unwrap();
    let error = out.structured_content.as_ref().unwrap()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if out.is_error == Some(true) {
        Err(error)
    } else {
        Ok(())
    }
}

fn questions(c: &Connected) -> Vec<String> {
    c.questions.lock().unwrap().clone()
}

fn ran(s: &Server) -> Vec<Value> {
    s.seen.lock().unwrap().clone()
}

#[tokio::test]
async fn the_user_is_asked_and_their_answer_decides() {
    let s = start().await;
    let url = asking_session(&s, json!({"default": "ask_every_call"})).await;

    let approving = s.client(&url, Some("approve")).await;
    assert_eq!(create(&approving, "lamp").await, Ok(()));
    assert_eq!(ran(&s), [json!({"name": "lamp"})]);
    assert_eq!(
        questions(&approving),
        [r#"Allow ECHOER_CREATE_ITEM to run with arguments {"name":"lamp"}?"#]
    );
    // Every call is asked about; meta tools never are.
    assert_eq!(create(&approving, "desk").await, Ok(()));
    assert_eq!(questions(&approving).len(), 2);
    let search = approving
        .client
        .call_tool(
            CallToolRequestParams::new("COMPOSIO_SEARCH_TOOLS")
                .with_arguments(args(json!({"queries": [{"use_case": "create an item"}]}))),
        )
        .await
        .unwrap();
    assert_eq!(search.is_error, Some(false), "{search:?}");
    assert_eq!(questions(&approving).len(), 2);

    for (decision, says) in [
        ("deny", "denied"),
        ("decline", "declined"),
        ("cancel", "cancelled"),
    ] {
        let refusing = s.client(&url, Some(decision)).await;
        let error = create(&refusing, "chair").await.unwrap_err();
        assert!(
            error.contains(says) && error.contains("did not run"),
            "{decision}: {error}"
        );
        assert_eq!(questions(&refusing).len(), 1, "{decision}");
    }
    assert_eq!(ran(&s).len(), 2, "refused calls reach nothing");
}

#[tokio::test]
async fn approvals_are_remembered_for_the_mcp_session_when_the_rule_or_user_says_so() {
    let s = start().await;
    // ask_once_per_session: one approval, then the tool runs without asking.
    let url = asking_session(&s, json!({"default": "ask_once_per_session"})).await;
    let c = s.client(&url, Some("approve")).await;
    assert_eq!(create(&c, "a").await, Ok(()));
    assert_eq!(create(&c, "b").await, Ok(()));
    assert_eq!(questions(&c).len(), 1);
    // Another MCP session is asked again.
    let again = s.client(&url, Some("approve")).await;
    assert_eq!(create(&again, "c").await, Ok(()));
    assert_eq!(questions(&again).len(), 1);

    // ask_every_call, but the user chose always_approve.
    let url = asking_session(&s, json!({"default": "ask_every_call"})).await;
    let c = s.client(&url, Some("always_approve")).await;
    assert_eq!(create(&c, "d").await, Ok(()));
    assert_eq!(create(&c, "e").await, Ok(()));
    assert_eq!(questions(&c).len(), 1);

    // An override asking once, under a default that allows everything else.
    let url = asking_session(
        &s,
        json!({"default": "allow_all", "overrides": {"ECHOER_CREATE_ITEM": "ask_once"}}),
    )
    .await;
    let c = s.client(&url, Some("approve")).await;
    assert_eq!(create(&c, "f").await, Ok(()));
    assert_eq!(create(&c, "g").await, Ok(()));
    assert_eq!(questions(&c).len(), 1);
    assert_eq!(ran(&s).len(), 7);
}

#[tokio::test]
async fn a_batch_is_asked_about_tool_by_tool() {
    let s = start().await;
    let url = asking_session(&s, json!({"default": "ask_every_call"})).await;
    let batch = |name: &str| {
        CallToolRequestParams::new("COMPOSIO_MULTI_EXECUTE_TOOL").with_arguments(args(json!({
            "tools": [{"tool_slug": "ECHOER_CREATE_ITEM", "arguments": {"name": name}}],
            "sync_response_to_workbench": false
        })))
    };
    let approving = s.client(&url, Some("approve")).await;
    let out = approving.client.call_tool(batch("lamp")).await.unwrap();
    assert_eq!(out.is_error, Some(false), "{out:?}");
    assert_eq!(
        questions(&approving),
        [r#"Allow ECHOER_CREATE_ITEM to run with arguments {"name":"lamp"}?"#]
    );
    assert_eq!(ran(&s), [json!({"name": "lamp"})]);

    let denying = s.client(&url, Some("deny")).await;
    let out = denying.client.call_tool(batch("desk")).await.unwrap();
    assert_eq!(out.is_error, Some(true), "{out:?}");
    let error = out.structured_content.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.starts_with("Nothing in this COMPOSIO_MULTI_EXECUTE_TOOL call ran"),
        "{error}"
    );
    assert_eq!(ran(&s).len(), 1, "the denied batch reached nothing");
}

#[tokio::test]
async fn without_an_mcp_session_the_fallback_decides() {
    let s = start().await;
    let url = asking_session(&s, json!({"default": "ask_every_call"})).await;
    // A client that declares elicitation but sends its call without an MCP session (as to
    // another replica): nobody can be asked, and no fallback means no.
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "ECHOER_CREATE_ITEM", "arguments": {"name": "x"}}})
    .to_string();
    let (st, _, body) = s
        .post(
            &url,
            Some(&s.key),
            &[("mcp-protocol-version", "2025-11-25")],
            &call,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["result"]["isError"], true, "{body}");
    let error = body["result"]["structuredContent"]["error"]
        .as_str()
        .unwrap();
    assert!(error.contains("no_elicitation_support_fallback"), "{error}");
    assert!(ran(&s).is_empty());
}
