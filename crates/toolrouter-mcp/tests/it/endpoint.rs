//! The endpoint over raw HTTP: credentials (401 with `WWW-Authenticate`), unknown and deleted
//! sessions (404), DNS-rebinding hosts (403), JSON-RPC error codes for malformed messages, the
//! protocol versions negotiated, requests without an MCP session answered statelessly (JSON),
//! `ping` and `logging/setLevel`.

use serde_json::{Value, json};

use super::{SESSIONS, initialize, start};

fn envelope_slug(body: &Value) -> &str {
    body["error"]["slug"]
        .as_str()
        .unwrap_or_else(|| panic!("no envelope: {body}"))
}

#[tokio::test]
async fn a_url_alone_grants_nothing() {
    let s = start().await;
    let (_, url) = s.session(json!({"user_id": "u1"})).await;
    let init = initialize("2025-06-18");

    let (st, h, body) = s.post(&url, None, &[], &init).await;
    assert_eq!(st, 401, "{body}");
    let challenge = h["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("x-api-key"), "{challenge}");
    assert_eq!(envelope_slug(&body), "missing_api_key");
    assert!(h.contains_key("x-request-id"));

    let (st, h, body) = s
        .post(
            &url,
            Some("trk_not_a_real_key_at_all_0000000000000000000"),
            &[],
            &init,
        )
        .await;
    assert_eq!(st, 401, "{body}");
    assert!(h.contains_key("www-authenticate"));
    assert_eq!(envelope_slug(&body), "invalid_api_key");

    let (st, _, body) = s.post(&url, Some(&s.key), &[], &init).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");
}

#[tokio::test]
async fn unknown_and_deleted_sessions_are_404() {
    let s = start().await;
    let (sid, url) = s.session(json!({"user_id": "u1"})).await;
    let init = initialize("2025-06-18");
    let unknown = url.replace(&sid, "trs_doesnotexist");
    let (st, _, body) = s.post(&unknown, Some(&s.key), &[], &init).await;
    assert_eq!(st, 404, "{body}");
    assert_eq!(envelope_slug(&body), "session_not_found");

    let (st, _, body) = s.post(&url, Some(&s.key), &[], &init).await;
    assert_eq!(st, 200, "{body}");
    let (st, out) = s.rest("DELETE", &format!("{SESSIONS}/{sid}"), None).await;
    assert_eq!(st, 200, "{out}");
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
    let (st, _, body) = s.post(&url, Some(&s.key), &[], &list).await;
    assert_eq!(
        st, 404,
        "a deleted session's endpoint stops answering: {body}"
    );
    assert_eq!(envelope_slug(&body), "session_not_found");
}

#[tokio::test]
async fn foreign_hosts_are_refused() {
    let s = start().await;
    let (_, url) = s.session(json!({"user_id": "u1"})).await;
    let (st, _, body) = s
        .post(
            &url,
            Some(&s.key),
            &[("host", "attacker.example")],
            &initialize("2025-06-18"),
        )
        .await;
    assert_eq!(st, 403, "{body}");
    assert_eq!(envelope_slug(&body), "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("attacker.example")
    );
}

#[tokio::test]
async fn malformed_messages_get_json_rpc_errors() {
    let s = start().await;
    let (_, url) = s.session(json!({"user_id": "u1"})).await;
    let key = Some(s.key.as_str());
    let (st, _, body) = s.post(&url, key, &[], "{this is not json").await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(body["error"]["code"], -32700, "{body}");
    assert_eq!(body["jsonrpc"], "2.0");

    // Not JSON at all, and not even said to be: 415 in the envelope, saying what to send.
    let res = s
        .http
        .post(&url)
        .header("x-api-key", &s.key)
        .header("content-type", "text/plain")
        .header("accept", "application/json, text/event-stream")
        .body("ping")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    let body: Value = res.json().await.unwrap();
    assert_eq!(envelope_slug(&body), "unsupported_media_type");
    // GET (the notification stream) has no meaning without an MCP session.
    let res = s
        .http
        .get(&url)
        .header("x-api-key", &s.key)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "POST");

    let (st, _, body) = s
        .post(
            &url,
            key,
            &[],
            r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#,
        )
        .await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(
        (body["error"]["code"].clone(), body["id"].clone()),
        (json!(-32600), json!(3))
    );

    let (st, _, body) = s
        .post(
            &url,
            key,
            &[],
            r#"{"jsonrpc":"2.0","id":4,"method":"no/such/method"}"#,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["error"]["code"], -32601, "{body}");

    let (st, _, body) = s
        .post(
            &url,
            key,
            &[],
            r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"arguments":{}}}"#,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["id"], 5);
    assert_eq!(
        body["error"]["code"], -32602,
        "a call without a name: {body}"
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("name"),
        "{body}"
    );
}

#[tokio::test]
async fn protocol_versions_are_negotiated() {
    let s = start().await;
    let (_, url) = s.session(json!({"user_id": "u1"})).await;
    let key = Some(s.key.as_str());
    for version in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let (st, h, body) = s.post(&url, key, &[], &initialize(version)).await;
        assert_eq!(st, 200, "{version}: {body}");
        assert_eq!(body["result"]["protocolVersion"], version, "{body}");
        assert_eq!(body["result"]["serverInfo"]["name"], "toolrouter");
        assert!(
            body["result"]["capabilities"]["tools"].is_object(),
            "{body}"
        );
        assert!(
            h.contains_key("mcp-session-id"),
            "initialize opens an MCP session"
        );
        // Without the MCP session, any replica answers, in JSON.
        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
        let (st, h, body) = s
            .post(&url, key, &[("mcp-protocol-version", version)], &list)
            .await;
        assert_eq!(st, 200, "{version}: {body}");
        assert_eq!(h["content-type"], "application/json");
        assert!(
            body["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "COMPOSIO_SEARCH_TOOLS"),
            "{body}"
        );
    }

    // 2026-07-28 has no initialize: every request carries its version and client capabilities.
    let list = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"}
    }}})
    .to_string();
    let (st, _, body) = s
        .post(
            &url,
            key,
            &[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/list"),
            ],
            &list,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert!(
        body["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    let call = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {
        "name": "COMPOSIO_SEARCH_TOOLS",
        "arguments": {"queries": [{"use_case": "create an item"}]},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"}
        }
    }})
    .to_string();
    let (st, _, body) = s
        .post(
            &url,
            key,
            &[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "COMPOSIO_SEARCH_TOOLS"),
            ],
            &call,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["result"]["resultType"], "complete", "{body}");
    assert_eq!(body["result"]["isError"], false, "{body}");
    assert_eq!(
        body["result"]["structuredContent"]["successful"], true,
        "{body}"
    );
}

#[tokio::test]
async fn ping_and_set_level_answer() {
    let s = start().await;
    let (_, url) = s.session(json!({"user_id": "u1"})).await;
    let key = Some(s.key.as_str());
    let h = [("mcp-protocol-version", "2025-06-18")];
    let (st, _, body) = s
        .post(&url, key, &h, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .await;
    assert_eq!((st, body["result"].clone()), (200, json!({})), "{body}");
    let (st, _, body) = s
        .post(
            &url,
            key,
            &h,
            r#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}}"#,
        )
        .await;
    assert_eq!((st, body["result"].clone()), (200, json!({})), "{body}");
    // Notifications are accepted without a body.
    let res = s
        .http
        .post(&url)
        .header("x-api-key", &s.key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
}
