//! Approvals on the REST execute: a tool the session's `require_approval` or
//! `experimental.permissions` asks about is answered `input_required` and runs only once the
//! same call comes back with the user's approval (the Python SDK's round trip, CONTRACT §3.8);
//! the stand-in upstream shows what actually ran.

use serde_json::{Value, json};

use super::proxy::{API_KEY, SESSIONS, catalog, connect, provider, send, session, start};

fn create_item(name: &str) -> Value {
    json!({"tool_slug": "KEYED_CREATE_ITEM",
           "arguments": {"name": name, "api_token": "tok-never-shown-77"}})
}

fn answered(call: &Value, state: &Value, action: &str, decision: &str) -> Value {
    let mut call = call.clone();
    call["input_responses"] =
        json!({"approval": {"action": action, "content": {"decision": decision}}});
    call["request_state"] = state.clone();
    call
}

#[tokio::test]
async fn require_approval_pauses_until_the_user_approves() {
    let (origin, seen) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    connect(&s, &key, "u1", API_KEY).await;
    let sid = session(
        &s,
        &key,
        json!({"user_id": "u1", "toolkits": {"enable": ["keyed"], "require_approval": ["keyed"]}}),
    )
    .await;
    let execute = format!("{SESSIONS}/{sid}/execute");
    let items_posted = || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(m, p, _, _)| m == "POST" && p.ends_with("/items"))
            .count()
    };

    // 1. The question: nothing runs, secrets are not shown.
    let call = create_item("first");
    let (st, asked) = send(&s, &key, &execute, call.clone()).await;
    assert_eq!(st, 200, "{asked}");
    assert_eq!(asked["result_type"], "input_required", "{asked}");
    let question = &asked["input_requests"]["approval"];
    assert_eq!(question["type"], "elicitation");
    assert_eq!(question["mode"], "form");
    let message = question["message"].as_str().unwrap();
    assert!(
        message.contains("KEYED_CREATE_ITEM") && message.contains("first"),
        "{message}"
    );
    assert!(!asked.to_string().contains("tok-never-shown-77"), "{asked}");
    assert_eq!(
        question["requested_schema"]["properties"]["decision"]["enum"],
        json!(["approve", "always_approve", "deny"])
    );
    let state = &asked["request_state"];
    assert!(state.is_string(), "{asked}");
    assert_eq!(items_posted(), 0);

    // 2. The state binds the call: other arguments, or a forged state, are refused.
    let (st, out) = send(
        &s,
        &key,
        &execute,
        answered(&create_item("other"), state, "accept", "approve"),
    )
    .await;
    assert_eq!(st, 400, "{out}");
    assert!(out.to_string().contains("request_state"), "{out}");
    let (st, out) = send(
        &s,
        &key,
        &execute,
        answered(&call, &json!("1.forged"), "accept", "approve"),
    )
    .await;
    assert_eq!(st, 400, "{out}");
    let (st, out) = send(
        &s,
        &key,
        &execute,
        answered(&call, state, "accept", "perhaps"),
    )
    .await;
    assert_eq!(st, 400, "{out}");
    assert!(out.to_string().contains("decision"), "{out}");
    assert_eq!(items_posted(), 0);

    // 3. Declined (or denied): a failed result, nothing ran.
    for (action, decision) in [("decline", "approve"), ("accept", "deny")] {
        let (st, out) = send(&s, &key, &execute, answered(&call, state, action, decision)).await;
        assert_eq!(st, 200, "{out}");
        assert_eq!(out["result_type"], "failed", "{out}");
        assert!(
            out["error"].as_str().unwrap().contains("did not approve"),
            "{out}"
        );
    }
    assert_eq!(items_posted(), 0);

    // 4. Approved: it runs, once; the next call asks again.
    let (_, out) = send(
        &s,
        &key,
        &execute,
        answered(&call, state, "accept", "approve"),
    )
    .await;
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(out["data"]["created"]["name"], "first", "{out}");
    assert_eq!(items_posted(), 1);
    let (_, again) = send(&s, &key, &execute, create_item("second")).await;
    assert_eq!(again["result_type"], "input_required", "{again}");

    // 5. MULTI_EXECUTE_TOOL asks once about the tools of its batch; nothing runs before.
    let batch = json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL",
                       "arguments": {"tools": [
                           {"tool_slug": "KEYED_CREATE_ITEM", "arguments": {"name": "in-batch"}}]}});
    let (_, asked) = send(&s, &key, &execute, batch.clone()).await;
    assert_eq!(asked["result_type"], "input_required", "{asked}");
    let message = asked["input_requests"]["approval"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.starts_with("Allow COMPOSIO_MULTI_EXECUTE_TOOL to run KEYED_CREATE_ITEM"),
        "{message}"
    );
    assert_eq!(items_posted(), 1);
    let (_, out) = send(
        &s,
        &key,
        &execute,
        answered(&batch, &asked["request_state"], "accept", "approve"),
    )
    .await;
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(
        out["data"]["results"][0]["response"]["successful"], true,
        "{out}"
    );
    assert_eq!(items_posted(), 2);

    // 6. "Always approve" is recorded in the session's permissions (a new config version):
    //    later calls of that tool just run.
    let call = create_item("third");
    let (_, asked) = send(&s, &key, &execute, call.clone()).await;
    let (_, out) = send(
        &s,
        &key,
        &execute,
        answered(&call, &asked["request_state"], "accept", "always_approve"),
    )
    .await;
    assert_eq!(out["result_type"], "completed", "{out}");
    let (_, out) = send(&s, &key, &execute, create_item("fourth")).await;
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(items_posted(), 4);
    let (_, _, history) = s
        .call(
            "GET",
            &format!("{SESSIONS}/{sid}/config_history?limit=1"),
            Some(&key),
            None,
        )
        .await;
    let latest = &history["items"][0];
    assert_eq!(latest["version"], 2, "{history}");
    // Other tools of the toolkit still ask.
    let (_, out) = send(
        &s,
        &key,
        &execute,
        json!({"tool_slug": "KEYED_WHOAMI", "arguments": {}}),
    )
    .await;
    assert_eq!(out["result_type"], "input_required", "{out}");
}

#[tokio::test]
async fn permissions_ask_once_per_session_and_always_deny() {
    let (origin, seen) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    connect(&s, &key, "u1", API_KEY).await;
    let sid = session(
        &s,
        &key,
        json!({"user_id": "u1", "toolkits": ["keyed"],
               "experimental": {"permissions": {"default": "ask_once_per_session",
                                                "overrides": {"KEYED_WHOAMI": "always_deny"}}}}),
    )
    .await;
    let execute = format!("{SESSIONS}/{sid}/execute");
    let (_, out) = send(
        &s,
        &key,
        &execute,
        json!({"tool_slug": "KEYED_WHOAMI", "arguments": {}}),
    )
    .await;
    assert_eq!(out["result_type"], "failed", "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("always_deny"),
        "{out}"
    );
    assert!(seen.lock().unwrap().is_empty());

    let call = create_item("once");
    let (_, asked) = send(&s, &key, &execute, call.clone()).await;
    assert_eq!(asked["result_type"], "input_required", "{asked}");
    let (_, out) = send(
        &s,
        &key,
        &execute,
        answered(&call, &asked["request_state"], "accept", "approve"),
    )
    .await;
    assert_eq!(out["result_type"], "completed", "{out}");
    // Asked once: the approval covers the rest of the session.
    let (_, out) = send(&s, &key, &execute, create_item("twice")).await;
    assert_eq!(out["result_type"], "completed", "{out}");
}
