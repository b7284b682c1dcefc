//! Sessions as an operator's server keeps them: stored, so they survive a restart, and handed
//! back with an `mcp.url` on the origin the client used — `https` when the server terminates
//! TLS itself.

use serde_json::{Value, json};

use crate::process::Proc;

#[tokio::test]
async fn sessions_survive_a_restart_and_mcp_urls_say_https_behind_tls() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let tls = [
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ];
    let client = |p: &Proc| {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap()])
            .resolve("localhost", p.addr)
            .build()
            .unwrap()
    };

    let p = Proc::serve(&data, &tls).await;
    let key = std::fs::read_to_string(data.join("api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let base = format!("https://localhost:{}", p.addr.port());
    let res = client(&p)
        .post(format!("{base}/api/v3.1/tool_router/session"))
        .header("x-api-key", &key)
        .json(&json!({"user_id": "user_123", "toolkits": ["gmail"],
                      "workbench": {"sandbox_size": "large"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["session_id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["mcp"]["url"],
        json!(format!("{base}/tool_router/{id}/mcp"))
    );
    drop(p);

    let p = Proc::serve(&data, &tls).await;
    let base = format!("https://localhost:{}", p.addr.port());
    let res = client(&p)
        .get(format!("{base}/api/v3.1/tool_router/session/{id}"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let got: Value = res.json().await.unwrap();
    assert_eq!(got["config"], created["config"]);
    assert_eq!(got["config_version"], 1);
    assert_eq!(got["tool_router_tools"], created["tool_router_tools"]);
}

/// The execution log gathers entries for a moment before writing them: a server stopped right
/// after a call still writes its entry before it exits.
#[tokio::test]
async fn a_call_answered_just_before_sigterm_is_in_the_log_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut p = Proc::serve(&data, &["--workbench", "off"]).await;
    let key = std::fs::read_to_string(data.join("api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let client = reqwest::Client::new();
    let post = |path: String, body: Value| {
        client
            .post(format!("{}{path}", p.base))
            .header("x-api-key", &key)
            .json(&body)
            .send()
    };
    let created: Value = post(
        "/api/v3.1/tool_router/session".to_owned(),
        json!({"user_id": "u1"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let sid = created["session_id"].as_str().unwrap().to_owned();
    let ran: Value = post(
        format!("/api/v3.1/tool_router/session/{sid}/execute_meta"),
        json!({"slug": "COMPOSIO_SEARCH_TOOLS",
               "arguments": {"queries": [{"use_case": "send an email"}]}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let log_id = ran["log_id"].as_str().unwrap().to_owned();
    p.signal_term();
    assert!(p.wait().success(), "clean exit");

    let p = Proc::serve(&data, &["--workbench", "off"]).await;
    let (status, listed) = p
        .get(
            &format!("/api/v3.1/tool_router/session/{sid}/executions"),
            Some(&key),
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["log_id"].as_str())
        .collect();
    assert_eq!(ids, [log_id.as_str()], "{listed}");
}
