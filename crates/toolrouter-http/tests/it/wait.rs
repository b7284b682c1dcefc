//! COMPOSIO_WAIT_FOR_CONNECTIONS over HTTP: opt-in, answers at once when connected or when its
//! (short) timeout passes, and returns as soon as the user finishes connecting during the wait.

use serde_json::{Value, json};

use super::proxy::{API_KEY, SESSIONS, catalog, connect, provider, send, session, start};

fn wait_call(toolkits: &[&str], timeout: u64) -> Value {
    json!({"tool_slug": "COMPOSIO_WAIT_FOR_CONNECTIONS",
           "arguments": {"toolkits": toolkits, "timeout_seconds": timeout}})
}

#[tokio::test]
async fn waiting_for_connections_reports_each_toolkit() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    let plain = session(&s, &key, json!({"user_id": "u1"})).await;
    let (st, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{plain}/execute"),
        wait_call(&["keyed"], 1),
    )
    .await;
    assert_eq!(st, 400, "opt-in only: {out}");

    let sid = session(
        &s,
        &key,
        json!({"user_id": "u1", "toolkits": ["keyed"],
               "manage_connections": {"enable": true, "enable_wait_for_connections": true}}),
    )
    .await;
    let exec = format!("{SESSIONS}/{sid}/execute");
    let (_, tools) = {
        let (st, _, out) = s
            .call("GET", &format!("{SESSIONS}/{sid}/tools"), Some(&key), None)
            .await;
        (st, out)
    };
    assert!(
        tools.to_string().contains("COMPOSIO_WAIT_FOR_CONNECTIONS"),
        "{tools}"
    );

    // Nothing connected: the timeout passes and the answer says so.
    let (st, out) = send(&s, &key, &exec, wait_call(&["keyed", "nope"], 1)).await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(out["data"]["all_connected"], false);
    assert_eq!(out["data"]["results"]["keyed"]["status"], "not_connected");
    assert_eq!(out["data"]["results"]["nope"]["status"], "failed");

    // The user connects while the agent waits: the wait ends with the account.
    let waiting = send(&s, &key, &exec, wait_call(&["keyed"], 50));
    let connecting = connect(&s, &key, "u1", API_KEY);
    let ((st, out), account) = tokio::join!(waiting, connecting);
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["data"]["all_connected"], true, "{out}");
    assert_eq!(out["data"]["results"]["keyed"]["status"], "active");
    assert_eq!(
        out["data"]["results"]["keyed"]["connected_account_id"],
        json!(account)
    );

    for (args, fragment) in [
        (json!({}), "`toolkits`"),
        (json!({"toolkits": []}), "`toolkits`"),
        (
            json!({"toolkits": ["keyed"], "timeout_seconds": -1}),
            "`timeout_seconds`",
        ),
    ] {
        let (_, out) = send(
            &s,
            &key,
            &exec,
            json!({"tool_slug": "COMPOSIO_WAIT_FOR_CONNECTIONS", "arguments": args}),
        )
        .await;
        assert_eq!(out["result_type"], "failed", "{out}");
        assert!(out["error"].as_str().unwrap().contains(fragment), "{out}");
    }
}
