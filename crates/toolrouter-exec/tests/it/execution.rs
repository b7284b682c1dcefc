//! The executor on the wire: what the SSRF guard refuses, and how timeouts, oversized bodies,
//! 401s, network failures, redirects and pagination headers come back as outcomes.

use std::time::Duration;

use expect_test::expect;
use secrecy::SecretString;
use serde_json::{Value, json};
use toolrouter_catalog::model::ToolkitDef;
use toolrouter_exec::{
    Credentials, Executor, ExecutorConfig, FailureKind, NextPage, OutboundPolicy, PlanInput,
    ToolOutcome,
};

use crate::cases::loopback_executor;
use crate::stand_in::{Reply, StandIn};

const KEY: &str = "sk_live_never_shown";

/// A toolkit with one GET tool authenticated by an API key in both a header and the query.
fn toolkit(http: Value) -> ToolkitDef {
    let mut def = json!({
        "slug": "wire", "name": "Wire", "description": "Executor tests.", "base_url": "https://api.wire.test",
        "auth_schemes": [{"type": "API_KEY",
            "fields": [{"name": "api_key", "display_name": "Key", "secret": true}],
            "inject": [{"in": "header", "name": "X-Key", "value": "{api_key}"},
                       {"in": "query", "name": "key", "value": "{api_key}"}]}],
        "tools": [{"slug": "WIRE_GET", "name": "Get", "description": "Fetch a resource of the wire service.",
                   "input": {"type": "object", "properties": {"page": {"type": "integer", "description": "Page."}}}}]
    });
    def["tools"][0]["http"] = http;
    serde_json::from_value(def).expect("toolkit parses")
}

fn get_items() -> ToolkitDef {
    toolkit(json!({"method": "GET", "path": "/items"}))
}

async fn call(
    executor: &Executor,
    tk: &ToolkitDef,
    base_url: &str,
    timeout: Option<Duration>,
) -> ToolOutcome {
    let credentials = Credentials::new().with_secret("api_key", SecretString::from(KEY));
    let input = PlanInput {
        toolkit: tk,
        tool: &tk.tools[0],
        arguments: &json!({"page": 1}),
        base_url,
        auth: tk.auth_schemes.first(),
        credentials: &credentials,
    };
    executor.run(&input, timeout).await
}

fn assert_no_key(outcome: &ToolOutcome) {
    let shown = serde_json::to_string(outcome).expect("serializes");
    assert!(!shown.contains(KEY), "credential in outcome: {shown}");
}

#[tokio::test]
async fn default_policy_refuses_loopback_metadata_and_private_addresses() {
    let stand_in = StandIn::start().await;
    let executor = Executor::new(ExecutorConfig::default()).expect("executor builds");
    let tk = get_items();
    let port = stand_in.addr.port();
    let mut shown = Vec::new();
    for base in [
        stand_in.origin(),
        "http://169.254.169.254".to_owned(),
        "http://10.0.0.1:8080".to_owned(),
        "https://[fd00::1]".to_owned(),
    ] {
        let outcome = call(&executor, &tk, &base, None).await;
        assert_eq!(
            outcome.failure,
            Some(FailureKind::Blocked),
            "{base}: {outcome:?}"
        );
        assert!(!outcome.successful && outcome.status.is_none());
        assert_no_key(&outcome);
        shown.push(
            outcome
                .error
                .unwrap_or_default()
                .replace(&port.to_string(), "PORT"),
        );
    }
    expect![[r#"
        refused to connect to 127.0.0.1 (127.0.0.1): loopback addresses are not reachable by tools unless the operator allows them
        refused to connect to 169.254.169.254 (169.254.169.254): link-local (cloud metadata) addresses are not reachable by tools unless the operator allows them
        refused to connect to 10.0.0.1 (10.0.0.1): private addresses are not reachable by tools unless the operator allows them
        refused to connect to fd00::1 (fd00::1): private (ULA) addresses are not reachable by tools unless the operator allows them"#]]
    .assert_eq(&shown.join("\n"));

    // A name goes through the resolver, which filters what it resolves to: `localhost` has only
    // loopback addresses, so nothing is left to connect to.
    let by_name = call(&executor, &tk, &format!("http://localhost:{port}"), None).await;
    assert_eq!(by_name.failure, Some(FailureKind::Blocked), "{by_name:?}");
    let error = by_name.error.unwrap_or_default();
    assert!(
        error.starts_with("refused to connect to localhost (") && error.contains("loopback"),
        "{error}"
    );

    assert!(
        stand_in.take().is_empty(),
        "a refused destination was contacted"
    );
}

#[tokio::test]
async fn a_401_is_distinguishable_and_errors_never_show_the_credential() {
    let stand_in = StandIn::start().await;
    stand_in.push(Reply::json(
        401,
        &json!({"error": {"message": format!("invalid key {KEY}")}}),
    ));
    let outcome = call(&loopback_executor(), &get_items(), &stand_in.origin(), None).await;
    assert!(outcome.is_unauthorized(), "{outcome:?}");
    assert_eq!(outcome.status, Some(401));
    assert_no_key(&outcome);
    expect!["HTTP 401 Unauthorized: invalid key [REDACTED]"]
        .assert_eq(outcome.error.as_deref().unwrap_or_default());

    stand_in.push(Reply::json(404, &json!({"message": "Not Found"})));
    let outcome = call(&loopback_executor(), &get_items(), &stand_in.origin(), None).await;
    assert!(!outcome.is_unauthorized() && !outcome.successful);
    assert_eq!(outcome.failure, Some(FailureKind::Provider));
    assert_eq!(outcome.data, json!({"message": "Not Found"}));
}

#[tokio::test]
async fn network_failure_is_an_outcome_without_the_credential() {
    // A port that was just free: nothing listens there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let outcome = call(
        &loopback_executor(),
        &get_items(),
        &format!("http://{addr}"),
        None,
    )
    .await;
    assert_eq!(outcome.failure, Some(FailureKind::Network), "{outcome:?}");
    assert_no_key(&outcome);
    let error = outcome.error.unwrap_or_default();
    assert!(error.starts_with("could not reach 127.0.0.1: "), "{error}");
}

#[tokio::test]
async fn slow_providers_time_out_per_call() {
    let stand_in = StandIn::start().await;
    stand_in.push(Reply {
        delay: Duration::from_secs(5),
        ..Reply::json(200, &json!({}))
    });
    let started = std::time::Instant::now();
    let outcome = call(
        &loopback_executor(),
        &get_items(),
        &stand_in.origin(),
        Some(Duration::from_millis(200)),
    )
    .await;
    assert_eq!(outcome.failure, Some(FailureKind::Timeout), "{outcome:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout did not cut the call short"
    );
    expect!["127.0.0.1 did not answer within 200 ms"]
        .assert_eq(outcome.error.as_deref().unwrap_or_default());
}

#[tokio::test]
async fn oversized_responses_are_refused() {
    let stand_in = StandIn::start().await;
    let executor = Executor::new(ExecutorConfig {
        max_response_bytes: 1024,
        policy: OutboundPolicy::public_only().allow_host("127.0.0.1"),
        ..ExecutorConfig::default()
    })
    .expect("executor builds");
    stand_in.push(Reply::json(200, &json!({"blob": "x".repeat(4096)})));
    let outcome = call(&executor, &get_items(), &stand_in.origin(), None).await;
    assert_eq!(outcome.failure, Some(FailureKind::TooLarge), "{outcome:?}");
    expect!["the response from 127.0.0.1 is larger than the 1024-byte limit"]
        .assert_eq(outcome.error.as_deref().unwrap_or_default());

    stand_in.push(Reply::json(200, &json!({"small": true})));
    assert!(
        call(&executor, &get_items(), &stand_in.origin(), None)
            .await
            .successful
    );
}

#[tokio::test]
async fn redirects_are_followed_only_within_the_origin() {
    let provider = StandIn::start().await;
    let elsewhere = StandIn::start().await;
    let executor = loopback_executor();
    let tk = get_items();

    provider.push(Reply::from_case(
        301,
        &Value::Null,
        &[("location".to_owned(), "/moved".to_owned())],
    ));
    provider.push(Reply::json(200, &json!({"moved": true})));
    let outcome = call(&executor, &tk, &provider.origin(), None).await;
    assert_eq!(outcome.data, json!({"moved": true}), "{outcome:?}");
    let seen = provider.take();
    assert_eq!(
        seen.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        ["/items", "/moved"]
    );

    let away = format!("{}/collect", elsewhere.origin());
    provider.push(Reply::from_case(
        302,
        &Value::Null,
        &[("location".to_owned(), away)],
    ));
    let outcome = call(&executor, &tk, &provider.origin(), None).await;
    assert_eq!(
        (outcome.status, outcome.failure),
        (Some(302), Some(FailureKind::Provider)),
        "{outcome:?}"
    );
    assert!(
        elsewhere.take().is_empty(),
        "a cross-origin redirect was followed"
    );
}

#[tokio::test]
async fn link_header_pagination_is_surfaced() {
    let stand_in = StandIn::start().await;
    let tk = toolkit(json!({"method": "GET", "path": "/items",
                            "pagination": {"style": "link_header", "param": "page"}}));
    let next = format!("{}/items?page=2", stand_in.origin());
    stand_in.push(Reply::from_case(
        200,
        &json!([{"id": 1}]),
        &[("link".to_owned(), format!("<{next}>; rel=\"next\""))],
    ));
    let outcome = call(&loopback_executor(), &tk, &stand_in.origin(), None).await;
    assert!(outcome.successful, "{outcome:?}");
    assert_eq!(
        outcome.next_page,
        Some(NextPage {
            param: "page".to_owned(),
            value: Some(json!("2")),
            url: Some(next)
        })
    );
    let seen = stand_in.take();
    let [request] = seen.as_slice() else {
        panic!("one request expected, got {}", seen.len())
    };
    assert_eq!(
        request.query.as_deref(),
        Some(format!("page=1&key={KEY}").as_str())
    );
    assert_eq!(
        request.headers.get("x-key").and_then(|v| v.to_str().ok()),
        Some(KEY)
    );
    assert!(
        request.headers.get("user-agent").is_some(),
        "some APIs refuse requests without one"
    );
}
