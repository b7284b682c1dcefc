//! The Rust SDK's session flows beyond tools, against the real server in the world of
//! `client.rs`: a proxied call with the user's KeyCo key, the session's file mount (upload,
//! list, download, delete through signed URLs) and the history of the session's
//! configuration. Kept apart from `client.rs` so each file stays about one thing.

use serde_json::json;
use toolrouter_client::api::proxy::ProxyParameter;
use toolrouter_client::{Error, ProxyRequest, SessionConfig, SessionUpdate};

use crate::client::{KEYCO_KEY, World};

#[tokio::test]
async fn proxy_execute_calls_the_toolkit_api_with_the_users_key() {
    let w = World::start().await;
    let s = w
        .client()
        .create("user_px", SessionConfig::new().toolkits(["keyco"]))
        .await
        .unwrap();
    let request = s.authorize("keyco").await.unwrap();
    w.submit_keyco_form(&request.redirect_url).await;

    let mut req = ProxyRequest::new("keyco", "GET", "/whoami");
    req.parameters.push(ProxyParameter {
        name: "x-trace".to_owned(),
        value: json!("t1"),
        location: "header".to_owned(),
    });
    let r = s.proxy_execute(req).await.unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.data, json!({"login": "octo"}));
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.contains("json")),
        "{:?}",
        r.headers
    );
    assert_eq!(
        w.upstream
            .whoami_auth
            .lock()
            .unwrap()
            .last()
            .map(String::as_str),
        Some(format!("Bearer {KEYCO_KEY}").as_str()),
        "the stand-in got the user's key"
    );

    // An endpoint outside the toolkit's base URL is refused, and nothing is sent.
    let seen = w.upstream.whoami_auth.lock().unwrap().len();
    let e = s
        .proxy_execute(ProxyRequest::new(
            "keyco",
            "GET",
            "https://elsewhere.example/api/whoami",
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadRequest(_)), "{e:?}");
    assert_eq!(w.upstream.whoami_auth.lock().unwrap().len(), seen);
}

#[tokio::test]
async fn files_upload_list_download_and_delete() {
    let w = World::start().await;
    let s = w
        .client()
        .create("user_files", SessionConfig::new().toolkits(["echoco"]))
        .await
        .unwrap();
    let files = s.files();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let up = files
        .upload(
            "reports/q1.bin",
            bytes.clone(),
            Some("application/octet-stream"),
        )
        .await
        .unwrap();
    assert_eq!(up.mount_relative_path, "reports/q1.bin");
    // The signed URL works without the API key, and is not under the API.
    assert!(!up.upload_url.contains("/api/v3.1/"), "{}", up.upload_url);
    files
        .upload("notes.txt", b"hello".to_vec(), Some("text/plain"))
        .await
        .unwrap();

    let listed = files.list(Some("reports/"), None, None).await.unwrap();
    let paths: Vec<&str> = listed
        .items
        .iter()
        .map(|i| i.mount_relative_path.as_str())
        .collect();
    assert_eq!(paths, ["reports/q1.bin"]);
    assert_eq!(listed.items[0].size, 3000);
    let all = files.list(None, None, None).await.unwrap();
    assert_eq!(all.items.len(), 2, "{all:?}");

    assert_eq!(files.download("reports/q1.bin").await.unwrap(), bytes);
    assert_eq!(files.download("notes.txt").await.unwrap(), b"hello");

    let gone = files.delete("reports/q1.bin").await.unwrap();
    assert_eq!(gone.mount_relative_path, "reports/q1.bin");
    let listed = files.list(Some("reports/"), None, None).await.unwrap();
    assert!(listed.items.is_empty(), "{listed:?}");
    let e = files.download("reports/q1.bin").await.unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn config_history_shows_each_version_with_the_newest_current() {
    let w = World::start().await;
    let mut s = w
        .client()
        .create("user_hist", SessionConfig::new().toolkits(["echoco"]))
        .await
        .unwrap();
    s.update(
        SessionUpdate::new()
            .toolkits(["echoco", "keyco"])
            .expected_config_version(1),
    )
    .await
    .unwrap();

    let page = s.list_config_history(Some(10), None).await.unwrap();
    let versions: Vec<(i64, bool)> = page
        .items
        .iter()
        .map(|v| (v.version, v.is_current))
        .collect();
    assert_eq!(versions, [(2, true), (1, false)], "{page:?}");

    // One at a time, following the cursor.
    let first = s.list_config_history(Some(1), None).await.unwrap();
    assert_eq!(first.items[0].version, 2);
    let cursor = first.next_cursor.expect("a second page");
    let second = s.list_config_history(Some(1), Some(&cursor)).await.unwrap();
    assert_eq!(second.items[0].version, 1);
    assert!(!second.items[0].is_current);
}
