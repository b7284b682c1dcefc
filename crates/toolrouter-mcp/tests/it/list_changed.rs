//! MCP sessions: `initialize` opens one (`Mcp-Session-Id`), its client hears
//! `notifications/tools/list_changed` when the session's configuration changes (through this
//! server or another replica) or the session is deleted, an MCP session id works only on the
//! session it was opened on, a replica that does not hold the id answers statelessly, and so
//! does a full replica to `initialize`.

use std::time::Duration;

use serde_json::json;
use toolrouter_http::McpConfig;

use super::{SESSIONS, initialize, start, start_with};

fn tool_names(tools: &[rmcp::model::Tool]) -> Vec<String> {
    tools.iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn a_client_hears_when_its_session_changes() {
    // Polling off (an hour): this server's own changes must arrive without it.
    let s = start_with(McpConfig {
        change_poll: Duration::from_secs(3600),
        ..McpConfig::loopback()
    })
    .await;
    let (sid, url) = s
        .session(json!({"user_id": "u1", "toolkits": {"enable": ["echoer"]}}))
        .await;
    let mut c = s.client(&url, None).await;
    let server = c.client.peer_info().expect("initialized");
    let tools = server
        .capabilities
        .tools
        .as_ref()
        .expect("tools capability");
    assert_eq!(tools.list_changed, Some(true), "{:?}", server.capabilities);
    let before = tool_names(&c.client.list_all_tools().await.unwrap());
    assert!(
        !before.contains(&"ECHOER_CREATE_ITEM".to_owned()),
        "{before:?}"
    );

    let (st, out) = s
        .rest(
            "PATCH",
            &format!("{SESSIONS}/{sid}"),
            Some(json!({"preload": {"tools": ["ECHOER_CREATE_ITEM"]}})),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    c.list_changed().await;
    let after = tool_names(&c.client.list_all_tools().await.unwrap());
    assert!(
        after.contains(&"ECHOER_CREATE_ITEM".to_owned()),
        "{after:?}"
    );

    // Deleted: the client hears it, and the endpoint no longer answers for the session.
    let (st, out) = s.rest("DELETE", &format!("{SESSIONS}/{sid}"), None).await;
    assert_eq!(st, 200, "{out}");
    c.list_changed().await;
    assert!(c.client.list_all_tools().await.is_err());
}

#[tokio::test]
async fn changes_made_through_another_replica_reach_the_client() {
    let s = start_with(McpConfig {
        change_poll: Duration::from_millis(100),
        ..McpConfig::loopback()
    })
    .await;
    let other = s.replica().await;
    let (sid, url) = s
        .session(json!({"user_id": "u1", "toolkits": {"enable": ["echoer"]}}))
        .await;
    let mut c = s.client(&url, None).await;
    let before = tool_names(&c.client.list_all_tools().await.unwrap());
    assert!(
        !before.contains(&"ECHOER_CREATE_ITEM".to_owned()),
        "{before:?}"
    );
    let (st, out) = s
        .rest_on(
            &other.base,
            "PATCH",
            &format!("{SESSIONS}/{sid}"),
            Some(json!({"preload": {"tools": ["ECHOER_CREATE_ITEM"]}})),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    c.list_changed().await;
    let after = tool_names(&c.client.list_all_tools().await.unwrap());
    assert!(
        after.contains(&"ECHOER_CREATE_ITEM".to_owned()),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_replica_without_the_mcp_session_answers_statelessly() {
    let s = start().await;
    let other = s.replica().await;
    let (_, url) = s.session(json!({"user_id": "u1"})).await;
    let key = Some(s.key.as_str());
    let (st, h, body) = s.post(&url, key, &[], &initialize("2025-06-18")).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["result"]["capabilities"]["tools"]["listChanged"], true);
    let mcp_id = h["mcp-session-id"].to_str().unwrap().to_owned();
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
    let headers = [
        ("mcp-session-id", mcp_id.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];

    // Here, the MCP session answers (in an SSE stream).
    let (st, h, body) = s.post(&url, key, &headers, &list).await;
    assert_eq!(st, 200, "{body}");
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert!(
        !body["result"]["tools"].as_array().unwrap().is_empty(),
        "{body}"
    );

    // Another replica does not know the id and answers as to a first request (JSON); so does
    // this one for an id it never issued.
    let elsewhere = url.replace(&s.base, &other.base);
    for (url, headers) in [
        (elsewhere.as_str(), headers),
        (
            url.as_str(),
            [("mcp-session-id", "not-issued-here"), headers[1]],
        ),
    ] {
        let (st, h, body) = s.post(url, key, &headers, &list).await;
        assert_eq!(st, 200, "{url}: {body}");
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert!(
            !body["result"]["tools"].as_array().unwrap().is_empty(),
            "{body}"
        );
        // No stream to offer without the MCP session.
        let res = s
            .http
            .get(url)
            .header("x-api-key", &s.key)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", headers[0].1)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 405);
        // Nor one to end: the MCP session lives on where it was opened.
        let res = s
            .http
            .delete(url)
            .header("x-api-key", &s.key)
            .header("mcp-session-id", headers[0].1)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 405);
    }

    // The client ends its MCP session; the id is then unknown here too.
    let res = s
        .http
        .delete(&url)
        .header("x-api-key", &s.key)
        .header("mcp-session-id", &mcp_id)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let (st, h, body) = s.post(&url, key, &headers, &list).await;
    assert_eq!(st, 200, "{body}");
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn an_mcp_session_is_bound_to_its_session() {
    let s = start().await;
    let (_, url) = s.session(json!({"user_id": "u1"})).await;
    let (other_sid, other_url) = s.session(json!({"user_id": "u2"})).await;
    let key = Some(s.key.as_str());
    let (st, h, body) = s.post(&url, key, &[], &initialize("2025-11-25")).await;
    assert_eq!(st, 200, "{body}");
    let mcp_id = h["mcp-session-id"].to_str().unwrap().to_owned();
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
    let headers = [
        ("mcp-session-id", mcp_id.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let (st, _, body) = s.post(&other_url, key, &headers, &list).await;
    assert_eq!(st, 403, "{body}");
    assert_eq!(body["error"]["slug"], "forbidden", "{body}");
    let message: &str = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&mcp_id), "{message}");
    // The key and the session are checked first, on every request.
    let (st, _, body) = s.post(&url, None, &headers, &list).await;
    assert_eq!(st, 401, "{body}");
    let (st, out) = s
        .rest("DELETE", &format!("{SESSIONS}/{other_sid}"), None)
        .await;
    assert_eq!(st, 200, "{out}");
    let (st, _, body) = s.post(&other_url, key, &headers, &list).await;
    assert_eq!(st, 404, "{body}");
    // On its own session it works.
    let (st, _, body) = s.post(&url, key, &headers, &list).await;
    assert_eq!(st, 200, "{body}");
    assert!(body["result"]["tools"].is_array(), "{body}");
}

#[tokio::test]
async fn beyond_max_sessions_initialize_is_answered_statelessly() {
    let s = start_with(McpConfig {
        max_sessions: 1,
        ..McpConfig::loopback()
    })
    .await;
    let (_, url) = s.session(json!({"user_id": "u1"})).await;
    let key = Some(s.key.as_str());
    let (st, h, body) = s.post(&url, key, &[], &initialize("2025-11-25")).await;
    assert_eq!(st, 200, "{body}");
    assert!(h.contains_key("mcp-session-id"));
    let (st, h, body) = s.post(&url, key, &[], &initialize("2025-11-25")).await;
    assert_eq!(st, 200, "{body}");
    assert!(!h.contains_key("mcp-session-id"), "the replica is full");
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
    assert!(
        body["result"]["capabilities"]["tools"]["listChanged"].is_null(),
        "nothing to listen on without an MCP session: {body}"
    );
}
