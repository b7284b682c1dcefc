//! Auth configs, connected accounts, links, the connect pages and direct execution on the wire:
//! the Composio shapes the SDKs read (A.17 for accounts), the envelope for bad input, HTML (never
//! the envelope) on the connect pages, and provider failures as results rather than errors.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolrouter_app::ToolCatalog;
use toolrouter_catalog::Catalog;
use toolrouter_http::HttpConfig;

use crate::{envelope, start, start_with};

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn auth_configs_have_the_composio_shapes_and_mask_credentials() {
    let (s, key) = start(HttpConfig::default()).await;
    let body = json!({"toolkit": {"slug": "github"},
                      "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2", "name": "Mine",
                                      "credentials": {"client_id": "Iv1.123", "client_secret": "gh-secret-abcdef123456",
                                                      "scopes": ["repo", "user"]}}});
    let (st, _, created) = s
        .call(
            "POST",
            "/api/v3.1/auth_configs",
            Some(&key),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(st, 201, "{created}");
    let id = created["auth_config"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ac_"));
    assert_eq!(
        created,
        json!({"toolkit": {"slug": "github"},
               "auth_config": {"id": id, "auth_scheme": "OAUTH2", "is_composio_managed": false,
                               "restrict_to_following_tools": []}})
    );
    let (st, _, item) = s
        .call(
            "GET",
            &format!("/api/v3.1/auth_configs/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(item["status"], "ENABLED");
    assert_eq!(item["type"], "custom");
    assert_eq!(item["name"], "Mine");
    assert_eq!(item["toolkit"]["slug"], "github");
    assert_eq!(item["no_of_connections"], 0);
    assert_eq!(item["credentials"]["client_id"], "Iv1.123");
    assert_eq!(item["credentials"]["client_secret"], "gh-s********");
    assert_eq!(item["credentials"]["scopes"], json!(["repo", "user"]));
    assert!(!item.to_string().contains("abcdef123456"));

    // Disable: hidden by default, shown with show_disabled.
    let (st, _, done) = s
        .call(
            "PATCH",
            &format!("/api/v3.1/auth_configs/{id}/DISABLED"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!((st, done), (StatusCode::OK, json!({"success": true})));
    let (_, _, list) = s
        .call("GET", "/api/v3.1/auth_configs", Some(&key), None)
        .await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(list["next_cursor"], Value::Null);
    let (_, _, list) = s
        .call(
            "GET",
            "/api/v3.1/auth_configs?show_disabled=true&toolkit_slug=github",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(list["items"][0]["status"], "DISABLED");
    assert_eq!(list["total_items"], 1);

    let patch = json!({"type": "custom", "name": "Renamed"}).to_string();
    let (st, _, item) = s
        .call(
            "PATCH",
            &format!("/api/v3.1/auth_configs/{id}"),
            Some(&key),
            Some(&patch),
        )
        .await;
    assert_eq!((st, &item["name"]), (StatusCode::OK, &json!("Renamed")));

    let (st, _, _) = s
        .call(
            "DELETE",
            &format!("/api/v3.1/auth_configs/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, h, b) = s
        .call(
            "GET",
            &format!("/api/v3.1/auth_configs/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(
        envelope(st, &h, &b)["message"],
        format!("auth config {id} not found")
    );
}

#[tokio::test]
async fn bad_auth_config_requests_name_the_problem() {
    let (s, key) = start(HttpConfig::default()).await;
    let cases = [
        (
            json!({"toolkit": {"slug": "nope"}}),
            404,
            "not_found",
            "toolkit nope not found",
        ),
        (
            json!({"toolkit": {"slug": "github"}, "auth_config": {"type": "magic"}}),
            400,
            "validation_failed",
            "`auth_config.type` must be",
        ),
        (
            json!({"toolkit": {"slug": "github"}, "auth_config": {"type": "use_composio_managed_auth", "authScheme": "OAUTH2"}}),
            400,
            "no_managed_auth",
            "toolkit `github` has no managed OAUTH2 auth",
        ),
        (
            json!({"toolkit": {"slug": "github"}, "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2"}}),
            400,
            "validation_failed",
            "needs `credentials.client_id`",
        ),
        (
            json!({"toolkit": {"slug": "github"}, "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2",
                                                                  "credentials": {"client_id": "x", "password": "y"}}}),
            400,
            "validation_failed",
            "unknown credential(s) for a OAUTH2 auth config: password",
        ),
        (
            json!({"toolkit": {"slug": "exa"}, "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2"}}),
            400,
            "validation_failed",
            "toolkit `exa` does not support OAUTH2",
        ),
    ];
    for (body, status, slug, fragment) in cases {
        let (st, h, b) = s
            .call(
                "POST",
                "/api/v3.1/auth_configs",
                Some(&key),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(st.as_u16(), status, "{body}: {b}");
        let err = envelope(st, &h, &b);
        assert_eq!(err["slug"], slug, "{b}");
        assert!(err["message"].as_str().unwrap().contains(fragment), "{b}");
    }
    let (_, _, list) = s
        .call("GET", "/api/v3.1/auth_configs", Some(&key), None)
        .await;
    assert_eq!(list["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn connected_accounts_have_the_fields_the_sdks_read() {
    let (s, key) = start(HttpConfig::default()).await;
    let body =
        json!({"toolkit": {"slug": "exa"}, "auth_config": {"type": "use_composio_managed_auth"}});
    let (st, _, created) = s
        .call(
            "POST",
            "/api/v3.1/auth_configs",
            Some(&key),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(st, 201, "{created}");
    assert_eq!(created["auth_config"]["is_composio_managed"], true);
    let config = created["auth_config"]["id"].as_str().unwrap().to_owned();
    let link = json!({"auth_config_id": config, "user_id": "user_1", "alias": "work"}).to_string();
    let (st, _, linked) = s
        .call(
            "POST",
            "/api/v3.1/connected_accounts/link",
            Some(&key),
            Some(&link),
        )
        .await;
    assert_eq!(st, 201, "{linked}");
    assert_eq!(
        keys(&linked),
        [
            "connected_account_id",
            "expires_at",
            "link_token",
            "redirect_url"
        ]
        .map(str::to_owned)
        .into()
    );
    let id = linked["connected_account_id"].as_str().unwrap().to_owned();
    let token = linked["link_token"].as_str().unwrap().to_owned();
    assert_eq!(
        linked["redirect_url"],
        format!("http://127.0.0.1:8080/link/{token}"),
        "on the configured public URL"
    );

    let (_, _, acct) = s
        .call(
            "GET",
            &format!("/api/v3.1/connected_accounts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        keys(&acct),
        [
            "alias",
            "authScheme",
            "auth_config",
            "created_at",
            "data",
            "id",
            "is_disabled",
            "params",
            "state",
            "status",
            "status_reason",
            "toolkit",
            "updated_at",
            "user_id"
        ]
        .map(str::to_owned)
        .into(),
        "test_request_endpoint is absent, not null"
    );
    assert_eq!(acct["status"], "INITIATED");
    assert_eq!(acct["status_reason"], Value::Null);
    assert_eq!(acct["alias"], "work");
    assert_eq!(acct["toolkit"], json!({"slug": "exa"}));
    assert_eq!(
        acct["auth_config"],
        json!({"id": config, "auth_scheme": "API_KEY", "is_composio_managed": true, "is_disabled": false})
    );
    assert_eq!(
        acct["state"],
        json!({"authScheme": "API_KEY", "val": {"status": "INITIATED"}})
    );

    // The user fills the form (on the page, through the real router).
    let res = s
        .client
        .post(format!("{}/link/{token}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("api_key=exa-planted-key-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Your account is connected")
    );
    let (_, _, acct) = s
        .call(
            "GET",
            &format!("/api/v3.1/connected_accounts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(acct["status"], "ACTIVE");
    assert_eq!(acct["state"]["val"]["api_key"], "exa-********");
    assert!(!acct.to_string().contains("0123456789"));

    let (_, _, list) = s
        .call(
            "GET",
            "/api/v3.1/connected_accounts?user_ids=user_1&statuses=ACTIVE&toolkit_slugs=exa",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (st, h, b) = s
        .call(
            "GET",
            "/api/v3.1/connected_accounts?statuses=DONE",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(envelope(st, &h, &b)["slug"], "validation_failed");

    let off = json!({"enabled": false}).to_string();
    let (st, _, _) = s
        .call(
            "PATCH",
            &format!("/api/v3.1/connected_accounts/{id}/status"),
            Some(&key),
            Some(&off),
        )
        .await;
    assert_eq!(st, 200);
    let (_, _, acct) = s
        .call(
            "GET",
            &format!("/api/v3.1/connected_accounts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (&acct["status"], &acct["is_disabled"]),
        (&json!("INACTIVE"), &json!(true))
    );

    // A link with a callback URL nobody allowed.
    let bad =
        json!({"auth_config_id": config, "user_id": "u", "callback_url": "https://evil.test/"})
            .to_string();
    let (st, h, b) = s
        .call(
            "POST",
            "/api/v3.1/connected_accounts/link",
            Some(&key),
            Some(&bad),
        )
        .await;
    assert_eq!(envelope(st, &h, &b)["slug"], "callback_url_not_allowed");
    let allow = json!({"urls": ["https://evil.test/"]}).to_string();
    let (st, _, urls) = s
        .call(
            "PUT",
            "/api/v3.1/project/callback_urls",
            Some(&key),
            Some(&allow),
        )
        .await;
    assert_eq!(
        (st, urls),
        (StatusCode::OK, json!({"urls": ["https://evil.test/"]}))
    );
    let (st, _, _) = s
        .call(
            "POST",
            "/api/v3.1/connected_accounts/link",
            Some(&key),
            Some(&bad),
        )
        .await;
    assert_eq!(st, 201);

    let (st, _, done) = s
        .call(
            "DELETE",
            &format!("/api/v3.1/connected_accounts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!((st, done), (StatusCode::OK, json!({"success": true})));
    let (st, h, b) = s
        .call(
            "GET",
            &format!("/api/v3.1/connected_accounts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(
        envelope(st, &h, &b)["message"],
        format!("connected account {id} not found")
    );
}

#[tokio::test]
async fn connect_pages_are_html_pages_even_when_they_fail() {
    let (s, _) = start(HttpConfig::default()).await;
    for (path, status, text) in [
        ("/link/lk_unknown", 404, "Link not valid"),
        (
            &format!("/link/lk_{}", "A".repeat(43)) as &str,
            404,
            "Link not valid",
        ),
        ("/link/callback?state=forged&code=x", 404, "Link not valid"),
        ("/link/callback", 404, "missing its state"),
    ] {
        let res = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(res.headers()["referrer-policy"], "no-referrer");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body = res.text().await.unwrap();
        assert!(body.contains(text), "{path}: {body}");
        assert!(!body.contains("\"error\""), "never the JSON envelope");
    }
}

#[tokio::test]
async fn execution_failures_at_the_provider_are_results_not_errors() {
    // Exa's requests go to a loopback port the SSRF guard refuses by default.
    let overrides = [("exa".to_owned(), "http://127.0.0.1:9".to_owned())].into();
    let catalog = ToolCatalog::new(Catalog::builtin().unwrap(), overrides).unwrap();
    let (s, key) = start_with(HttpConfig::default(), catalog).await;
    let body =
        json!({"toolkit": {"slug": "exa"}, "auth_config": {"type": "use_composio_managed_auth"}});
    let (_, _, created) = s
        .call(
            "POST",
            "/api/v3.1/auth_configs",
            Some(&key),
            Some(&body.to_string()),
        )
        .await;
    let config = created["auth_config"]["id"].as_str().unwrap().to_owned();
    let link = json!({"auth_config_id": config, "user_id": "u1"}).to_string();
    let (_, _, linked) = s
        .call(
            "POST",
            "/api/v3.1/connected_accounts/link",
            Some(&key),
            Some(&link),
        )
        .await;
    let token = linked["link_token"].as_str().unwrap();
    s.client
        .post(format!("{}/link/{token}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("api_key=k")
        .send()
        .await
        .unwrap();
    let tool = s
        .app
        .catalog()
        .tool_slugs()
        .into_iter()
        .find(|t| t.starts_with("EXA_"))
        .unwrap();
    let run = json!({"user_id": "u1", "arguments": {"query": "rust"}}).to_string();
    let (st, _, out) = s
        .call(
            "POST",
            &format!("/api/v3.1/tools/execute/{tool}"),
            Some(&key),
            Some(&run),
        )
        .await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["successful"], false);
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("refused to connect"),
        "{out}"
    );
    assert!(out["log_id"].as_str().unwrap().starts_with("log_"));
    assert_eq!(
        keys(&out),
        ["data", "error", "log_id", "session_info", "successful"]
            .map(str::to_owned)
            .into()
    );

    for (path, body, status, fragment) in [
        (
            "/api/v3.1/tools/execute/NOPE_TOOL",
            json!({"user_id": "u1"}),
            404,
            "tool NOPE_TOOL not found",
        ),
        (
            &format!("/api/v3.1/tools/execute/{tool}") as &str,
            json!({"arguments": {}}),
            400,
            "give `user_id` or `connected_account_id`",
        ),
        (
            &format!("/api/v3.1/tools/execute/{tool}"),
            json!({"user_id": "u9"}),
            400,
            "has no active connected account",
        ),
        (
            &format!("/api/v3.1/tools/execute/{tool}"),
            json!({"user_id": "u1", "text": "search"}),
            400,
            "`text` is not supported",
        ),
        (
            &format!("/api/v3.1/tools/execute/{tool}"),
            json!({"connected_account_id": "ca_missing"}),
            404,
            "connected account ca_missing not found",
        ),
    ] {
        let (st, h, b) = s
            .call("POST", path, Some(&key), Some(&body.to_string()))
            .await;
        assert_eq!(st.as_u16(), status, "{path} {body}: {b}");
        assert!(
            envelope(st, &h, &b)["message"]
                .as_str()
                .unwrap()
                .contains(fragment),
            "{b}"
        );
    }
}
