//! Session flows on the wire: create (one body per option, as in the `create_*` traces),
//! tools, toolkits, reuse, list, update, delete, execute, search, authorize and wait, MCP
//! headers, and how failures surface.

use std::collections::BTreeMap;
use std::time::Duration;

use expect_test::expect;
use serde_json::json;
use toolrouter_client::UserInputResponse;
use toolrouter_client::{
    AuthorizeOptions, Client, ConfigKey, Error, ExecuteOptions, ManageConnections, MultiAccount,
    ResultType, SandboxSize, SessionConfig, SessionPreset, SessionUpdate, Tag, Tags, ToolkitsQuery,
    Workbench,
};

use crate::stand_in::{Reply, StandIn, account, completed, page, session_json, tool};

fn mcp_url(s: &StandIn, id: &str) -> String {
    format!("{}/tool_router/{id}/mcp", s.origin())
}

#[tokio::test]
async fn create_sends_what_the_sdks_send_for_each_option() {
    let s = StandIn::start().await;
    let client = s.client();
    let configs = [
        // create_default
        SessionConfig::new(),
        // create_toolkits_list / create_toolkits_enable
        SessionConfig::new().toolkits(["github", "gmail", "slack"]),
        // create_toolkits_disable
        SessionConfig::new().disable_toolkits(["exa", "firecrawl"]),
        // create_tools_and_tags
        SessionConfig::new()
            .tools("gmail", ["GMAIL_SEND_EMAIL", "GMAIL_SEARCH"])
            .tools("github", ["GITHUB_CREATE_ISSUE"])
            .disable_tools("slack", ["SLACK_DELETE_MESSAGE"])
            .toolkit_tags("linear", [Tag::ReadOnlyHint])
            .toolkit_tags(
                "notion",
                Tags::new()
                    .enable([Tag::ReadOnlyHint])
                    .disable([Tag::DestructiveHint]),
            )
            .tags(
                Tags::new()
                    .enable([Tag::ReadOnlyHint])
                    .disable([Tag::DestructiveHint]),
            ),
        // create_direct_tools_with_meta
        SessionConfig::new()
            .toolkits(["gmail"])
            .tools("gmail", ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"])
            .preset(SessionPreset::DirectTools)
            .manage_connections(true)
            .workbench(true),
        // create_sandbox_full
        SessionConfig::new().workbench(
            Workbench::new()
                .enable(true)
                .proxy_execution(false)
                .auto_offload_threshold(300)
                .sandbox_size(SandboxSize::Xlarge),
        ),
        // create_multi_account, create_connected_accounts_string, create_auth_configs
        SessionConfig::new()
            .multi_account(MultiAccount::enabled().max_accounts_per_toolkit(3))
            .connected_account("gmail", "ca_work_gmail")
            .connected_account("github", "ca_personal_github")
            .auth_config("github", "ac_your_github_config"),
        // create_manage_connections_dict, create_experimental_assistive, create_preload_all
        SessionConfig::new()
            .toolkits(["gmail"])
            .manage_connections(ManageConnections::new().callback_url("https://myapp.com/callback"))
            .assistive_prompt_timezone("America/New_York")
            .preload_all(),
    ];
    for (i, config) in configs.into_iter().enumerate() {
        let id = format!("trs_{i}");
        s.push(Reply::json(
            201,
            session_json(&id, &mcp_url(&s, &id), json!({})),
        ));
        let created = client.create("user_123", config).await.unwrap();
        assert_eq!(created.id(), id);
    }
    let seen = s.take();
    let first = &seen[0];
    assert_eq!(first.header("x-api-key"), Some("k_test"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.header("accept"), Some("application/json"));
    assert!(
        first
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("toolrouter-client/"))
    );
    let ids: Vec<&str> = seen
        .iter()
        .filter_map(|r| r.header("x-request-id"))
        .collect();
    assert_eq!(ids.len(), seen.len());
    assert!(ids.iter().all(|id| id.len() == 32) && ids[0] != ids[1]);
    let rendered: Vec<String> = seen.iter().map(|r| r.render()).collect();
    expect![[r#"
        POST /api/v3.1/tool_router/session
        {
          "manage_connections": {
            "enable": true
          },
          "user_id": "user_123"
        }

        POST /api/v3.1/tool_router/session
        {
          "manage_connections": {
            "enable": true
          },
          "toolkits": {
            "enable": [
              "github",
              "gmail",
              "slack"
            ]
          },
          "user_id": "user_123"
        }

        POST /api/v3.1/tool_router/session
        {
          "manage_connections": {
            "enable": true
          },
          "toolkits": {
            "disable": [
              "exa",
              "firecrawl"
            ]
          },
          "user_id": "user_123"
        }

        POST /api/v3.1/tool_router/session
        {
          "manage_connections": {
            "enable": true
          },
          "tags": {
            "disable": [
              "destructiveHint"
            ],
            "enable": [
              "readOnlyHint"
            ]
          },
          "tools": {
            "github": {
              "enable": [
                "GITHUB_CREATE_ISSUE"
              ]
            },
            "gmail": {
              "enable": [
                "GMAIL_SEND_EMAIL",
                "GMAIL_SEARCH"
              ]
            },
            "linear": {
              "tags": {
                "enable": [
                  "readOnlyHint"
                ]
              }
            },
            "notion": {
              "tags": {
                "disable": [
                  "destructiveHint"
                ],
                "enable": [
                  "readOnlyHint"
                ]
              }
            },
            "slack": {
              "disable": [
                "SLACK_DELETE_MESSAGE"
              ]
            }
          },
          "user_id": "user_123"
        }

        POST /api/v3.1/tool_router/session
        {
          "execute": {
            "enable_multi_execute": false
          },
          "manage_connections": {
            "enable": true
          },
          "preload": {
            "tools": "all"
          },
          "search": {
            "enable": false
          },
          "toolkits": {
            "enable": [
              "gmail"
            ]
          },
          "tools": {
            "gmail": {
              "enable": [
                "GMAIL_FETCH_EMAILS",
                "GMAIL_CREATE_EMAIL_DRAFT"
              ]
            }
          },
          "user_id": "user_123",
          "workbench": {
            "enable": true
          }
        }

        POST /api/v3.1/tool_router/session
        {
          "manage_connections": {
            "enable": true
          },
          "user_id": "user_123",
          "workbench": {
            "auto_offload_threshold": 300.0,
            "enable": true,
            "enable_proxy_execution": false,
            "sandbox_size": "xlarge"
          }
        }

        POST /api/v3.1/tool_router/session
        {
          "auth_configs": {
            "github": "ac_your_github_config"
          },
          "connected_accounts": {
            "github": [
              "ca_personal_github"
            ],
            "gmail": [
              "ca_work_gmail"
            ]
          },
          "manage_connections": {
            "enable": true
          },
          "multi_account": {
            "enable": true,
            "max_accounts_per_toolkit": 3,
            "require_explicit_selection": true
          },
          "user_id": "user_123"
        }

        POST /api/v3.1/tool_router/session
        {
          "experimental": {
            "assistive_prompt_config": {
              "user_timezone": "America/New_York"
            }
          },
          "manage_connections": {
            "callback_url": "https://myapp.com/callback",
            "enable": true
          },
          "preload": {
            "tools": "all"
          },
          "toolkits": {
            "enable": [
              "gmail"
            ]
          },
          "user_id": "user_123"
        }"#]]
    .assert_eq(&rendered.join("\n\n"));
}

#[tokio::test]
async fn tools_follow_cursors_until_the_last_page() {
    let s = StandIn::start().await;
    s.push(Reply::json(
        201,
        session_json("trs_a", &mcp_url(&s, "trs_a"), json!({})),
    ));
    let session = s
        .client()
        .create("user_123", SessionConfig::new())
        .await
        .unwrap();
    s.take();
    let schema = json!({"type": "object", "properties": {"queries": {"type": "array"}}});
    s.push(Reply::ok(page(
        vec![tool("COMPOSIO_SEARCH_TOOLS", schema.clone())],
        Some("c2"),
    )))
    .push(Reply::ok(page(
        vec![tool("GMAIL_SEND_EMAIL", schema.clone())],
        Some(""),
    )));
    let tools = session.tools().await.unwrap();
    let slugs: Vec<&str> = tools.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, ["COMPOSIO_SEARCH_TOOLS", "GMAIL_SEND_EMAIL"]);
    expect![[r#"
        GET /api/v3.1/tool_router/session/trs_a/tools?limit=500

        GET /api/v3.1/tool_router/session/trs_a/tools?limit=500&cursor=c2

    "#]]
    .assert_eq(&s.trace());
    // A server that hands back a cursor it already gave cannot make the client loop.
    s.push(Reply::ok(page(vec![], Some("same"))))
        .push(Reply::ok(page(vec![], Some("same"))));
    assert!(session.tools().await.unwrap().is_empty());
    assert_eq!(s.take().len(), 2);
}

#[tokio::test]
async fn toolkits_send_only_the_filters_given_and_read_connections_like_the_sdks() {
    let s = StandIn::start().await;
    s.push(Reply::json(
        201,
        session_json("trs_t", &mcp_url(&s, "trs_t"), json!({})),
    ));
    let session = s
        .client()
        .create("user_123", SessionConfig::new())
        .await
        .unwrap();
    s.take();
    let items = json!([
        {"name": "Gmail", "slug": "gmail", "enabled": true, "is_no_auth": false,
         "composio_managed_auth_schemes": ["OAUTH2"],
         "meta": {"logo": "https://logo/gmail.png", "description": "gmail toolkit"},
         "connected_account": {"id": "ca_1", "user_id": "user_123", "status": "ACTIVE",
                               "created_at": "2026-11-22T02:08:31.000Z",
                               "auth_config": {"id": "ac_gmail", "auth_scheme": "OAUTH2",
                                               "is_composio_managed": true}}},
        {"name": "Github", "slug": "github", "enabled": true, "is_no_auth": false,
         "composio_managed_auth_schemes": ["OAUTH2"],
         "meta": {"logo": "", "description": "github toolkit"}},
        {"name": "Exa", "slug": "exa", "enabled": true, "is_no_auth": true,
         "composio_managed_auth_schemes": [], "meta": {"logo": "", "description": "exa"}}
    ]);
    s.push(Reply::ok(
        json!({"items": items, "next_cursor": null, "total_pages": 1,
                            "current_page": 1, "total_items": 3}),
    ))
    .push(Reply::ok(
        json!({"items": [], "next_cursor": "n2", "total_pages": 2,
                               "current_page": 1, "total_items": 0}),
    ));
    let all = session.toolkits().await.unwrap();
    let filtered = session
        .toolkits_with(
            ToolkitsQuery::new()
                .limit(5)
                .cursor("abc")
                .toolkits(["gmail", "github"])
                .is_connected(true)
                .search("mail"),
        )
        .await
        .unwrap();
    // The query string is byte for byte the Python SDK's (trace `session_toolkits`).
    expect![[r#"
        GET /api/v3.1/tool_router/session/trs_t/toolkits

        GET /api/v3.1/tool_router/session/trs_t/toolkits?limit=5&cursor=abc&toolkits=gmail%2Cgithub&is_connected=true&search=mail

    "#]]
    .assert_eq(&s.trace());
    let shown: Vec<String> = all
        .items
        .iter()
        .map(|t| format!("{}: {:?}", t.name, t.connection))
        .collect();
    expect![[r#"
        Gmail: Some(ToolkitConnection { is_active: true, connected_account: Some(("ca_1", "ACTIVE")), auth_config: Some(("ac_gmail", true, "OAUTH2")) })
        Github: Some(ToolkitConnection { is_active: false, connected_account: None, auth_config: None })
        Exa: None"#]]
    .assert_eq(&shown.join("\n"));
    assert_eq!(filtered.next_cursor.as_deref(), Some("n2"));
    assert_eq!(filtered.total_pages, 2);
}

#[tokio::test]
async fn sessions_are_reused_listed_updated_and_deleted() {
    let s = StandIn::start().await;
    let client = s.client();
    s.push(Reply::ok(session_json(
        "trs_u",
        &mcp_url(&s, "trs_u"),
        json!({}),
    )));
    let mut session = client.sessions().use_session("trs_u").await.unwrap();
    assert_eq!(session.user_id(), "user_123");
    assert_eq!(
        session.assistive_prompt(),
        Some("Use COMPOSIO_SEARCH_TOOLS first.")
    );

    s.push(Reply::ok(page(
        vec![session_json("trs_1", &mcp_url(&s, "trs_1"), json!({}))],
        Some("p2"),
    )))
    .push(Reply::ok(page(
        vec![session_json("trs_2", &mcp_url(&s, "trs_2"), json!({}))],
        None,
    )));
    let listed = client.sessions().list("user 123").await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id()).collect();
    assert_eq!(ids, ["trs_1", "trs_2"]);

    // The update answer has no `experimental`: what create said is kept.
    let mut updated = session_json(
        "trs_u",
        &mcp_url(&s, "trs_u"),
        json!({
            "toolkits": {"enabled": ["gmail"]}, "preload": {"tools": ["GMAIL_FETCH_EMAILS"]}
        }),
    );
    updated["config_version"] = json!(2);
    updated.as_object_mut().unwrap().remove("experimental");
    s.push(Reply::ok(updated));
    session
        .update(
            SessionUpdate::new()
                .toolkits(["gmail"])
                .manage_connections(ManageConnections::new().clear_callback_url())
                .workbench(Workbench::new().sandbox_size(SandboxSize::Medium))
                .preload_tools(["GMAIL_FETCH_EMAILS"])
                .clear(ConfigKey::Tags)
                .expected_config_version(1),
        )
        .await
        .unwrap();
    assert_eq!(session.config_version(), 2);
    assert!(session.assistive_prompt().is_some());

    s.push(Reply::ok(json!({"session_id": "trs_u", "deleted": true})))
        .push(Reply::ok(json!({"session_id": "trs_x", "deleted": false})));
    session.delete().await.unwrap();
    let err = client.sessions().delete("trs_x").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server's answer breaks the contract: the server answered deleted: false for session trs_x"
    );
    // As trace `session_update`, plus our listing.
    expect![[r#"
        GET /api/v3.1/tool_router/session/trs_u

        GET /api/v3.1/tool_router/session?user_id=user+123

        GET /api/v3.1/tool_router/session?user_id=user+123&cursor=p2

        PATCH /api/v3.1/tool_router/session/trs_u
        {
          "expected_config_version": 1,
          "manage_connections": {
            "callback_url": null
          },
          "preload": {
            "tools": [
              "GMAIL_FETCH_EMAILS"
            ]
          },
          "tags": null,
          "toolkits": {
            "enable": [
              "gmail"
            ]
          },
          "workbench": {
            "sandbox_size": "medium"
          }
        }

        DELETE /api/v3.1/tool_router/session/trs_u

        DELETE /api/v3.1/tool_router/session/trs_x

    "#]]
    .assert_eq(&s.trace());
}

#[tokio::test]
async fn failures_are_typed_by_status_and_keep_the_request_id() {
    let s = StandIn::start().await;
    let client = s.client();
    s.push(
        Reply::error(404, "session_not_found", "Session trs_gone not found")
            .header("x-request-id", "req_from_header"),
    );
    let err = client.sessions().use_session("trs_gone").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(err.request_id(), Some("req_from_header"));
    assert_eq!(
        err.to_string(),
        "not found: 404 Session trs_gone not found [request id req_from_header]"
    );

    // Without the header, the envelope's id; the slug and code are kept.
    s.push(Reply::error(401, "invalid_api_key", "Invalid API key"));
    let err = client.sessions().use_session("trs_x").await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)));
    let api = err.api().unwrap();
    assert_eq!(api.request_id.as_deref(), Some("req_from_body"));
    assert_eq!(api.slug.as_deref(), Some("invalid_api_key"));

    // A body that is not the envelope: the id the client sent identifies the request.
    s.take();
    s.push(Reply::json(502, json!("bad gateway")));
    let err = client.sessions().use_session("trs_x").await.unwrap_err();
    assert!(matches!(err, Error::Server(_)));
    let sent = s.take()[0].header("x-request-id").unwrap().to_owned();
    assert_eq!(err.request_id(), Some(sent.as_str()));

    // A 2xx that is not the contract's shape.
    s.push(Reply::ok(json!({"session_id": 7})));
    let err = client.sessions().use_session("trs_x").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the answer to GET /api/v3.1/tool_router/session/trs_x is not a valid session"
    );

    // Nothing listens: a transport error naming the request.
    let closed = Client::new("k", "http://127.0.0.1:9").unwrap();
    let err = closed.sessions().use_session("trs_x").await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");

    // A request slower than the configured timeout.
    let impatient = Client::builder()
        .api_key("k")
        .base_url(s.origin())
        .timeout(Duration::from_millis(50))
        .max_retries(0)
        .build()
        .unwrap();
    s.push(Reply::ok(json!({})).delay(Duration::from_millis(500)));
    let err = impatient.sessions().use_session("trs_x").await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn retries_repeat_safe_calls_only() {
    let s = StandIn::start().await;
    let client = Client::builder()
        .api_key("k_test")
        .base_url(s.origin())
        .max_retries(2)
        .build()
        .unwrap();
    // A GET is repeated after a 503, with the same request id, as soon as the server asks.
    s.push(Reply::error(503, "unavailable", "busy").header("retry-after-ms", "5"))
        .push(Reply::ok(session_json(
            "trs_r",
            &mcp_url(&s, "trs_r"),
            json!({}),
        )));
    let session = client.sessions().use_session("trs_r").await.unwrap();
    let seen = s.take();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].header("x-request-id"),
        seen[1].header("x-request-id")
    );

    // The server can say not to.
    s.push(
        Reply::error(503, "unavailable", "busy")
            .header("retry-after-ms", "5")
            .header("x-should-retry", "false"),
    );
    assert!(client.sessions().use_session("trs_r").await.is_err());
    assert_eq!(s.take().len(), 1);

    // An execution is never repeated: it may have had side effects.
    s.push(Reply::error(503, "unavailable", "busy").header("retry-after-ms", "5"));
    let err = session
        .execute("GMAIL_SEND_EMAIL", json!({"to": "a@b.c"}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server(_)));
    assert_eq!(s.take().len(), 1);

    // Nor is an update.
    let mut session = session;
    s.push(Reply::error(409, "conflict", "config version 2 != 1").header("retry-after-ms", "5"));
    let err = session
        .update(SessionUpdate::new().expected_config_version(1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)));
    assert_eq!(s.take().len(), 1);
}

#[tokio::test]
async fn executions_searches_and_approvals() {
    let s = StandIn::start().await;
    s.push(Reply::json(
        201,
        session_json("trs_e", &mcp_url(&s, "trs_e"), json!({})),
    ));
    let session = s
        .client()
        .create("user_123", SessionConfig::new())
        .await
        .unwrap();
    s.take();

    s.push(Reply::ok(completed(json!({"id": "m1"}))))
        .push(Reply::ok(
            json!({"data": {}, "error": "boom", "log_id": "log_2",
                               "result_type": "failed"}),
        ));
    let ok = session
        .execute("GMAIL_SEND_EMAIL", json!({"to": "x@y.z"}))
        .await
        .unwrap();
    assert!(ok.successful);
    assert_eq!(ok.log_id.as_deref(), Some("log_1"));
    let failed = session.execute("FAIL_TOOL", json!(null)).await.unwrap();
    assert_eq!(
        (
            failed.successful,
            failed.error.as_deref(),
            failed.result_type
        ),
        (false, Some("boom"), ResultType::Failed)
    );

    // An approval: nothing ran; answering sends the answers and the state back.
    s.push(Reply::ok(
        json!({"result_type": "input_required", "request_state": "opaque",
        "input_requests": {"req_1": {"type": "elicitation", "mode": "form",
            "message": "Send this email?", "requested_schema": {"type": "object"}}}}),
    ))
    .push(Reply::ok(completed(json!({"sent": true}))));
    let err = session
        .execute("GMAIL_SEND_EMAIL", json!({"to": "x@y.z"}))
        .await
        .unwrap_err();
    let Error::InputRequired {
        input_requests,
        request_state,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(input_requests["req_1"]["message"], "Send this email?");
    let answers = BTreeMap::from([(
        "req_1".to_owned(),
        UserInputResponse {
            action: "accept".to_owned(),
            content: Some(json!({"decision": "approve"})),
        },
    )]);
    session
        .execute_with(
            "GMAIL_SEND_EMAIL",
            json!({"to": "x@y.z"}),
            ExecuteOptions::new()
                .account("ca_work")
                .input_responses(answers, request_state),
        )
        .await
        .unwrap();

    s.push(Reply::ok(completed(json!({"results": []}))));
    session
        .execute_meta(
            "COMPOSIO_SEARCH_TOOLS",
            json!({"queries": [{"use_case": "x"}]}),
        )
        .await
        .unwrap();

    let search_answer = json!({
        "success": true, "error": null,
        "results": [{"index": 1, "use_case": "send an email",
                     "primary_tool_slugs": ["GMAIL_SEND_EMAIL"],
                     "related_tool_slugs": ["GMAIL_FETCH_EMAILS"], "toolkits": ["gmail"],
                     "difficulty": "easy", "error": null, "memory": {}}],
        "tool_schemas": {"GMAIL_SEND_EMAIL": {"toolkit": "gmail", "tool_slug": "GMAIL_SEND_EMAIL",
                         "description": "Send an email", "hasFullSchema": true,
                         "input_schema": {"type": "object"}}},
        "toolkit_connection_statuses": [{"toolkit": "gmail", "description": "Gmail",
                                         "has_active_connection": false,
                                         "status_message": "connect gmail"}],
        "next_steps_guidance": ["connect gmail"],
        "session": {"id": "trs_e", "generate_id": false, "instructions": "reuse this id"},
        "time_info": {"current_time_utc": "2026-11-22T02:09:09.000Z",
                      "current_time_utc_epoch_seconds": 1_795_000_000, "message": "UTC"}
    });
    s.push(Reply::ok(search_answer));
    let found = session.search("send an email").await.unwrap();
    assert_eq!(found.results[0].primary_tool_slugs, ["GMAIL_SEND_EMAIL"]);
    assert_eq!(
        found.tool_schemas["GMAIL_SEND_EMAIL"].has_full_schema,
        Some(true)
    );
    expect![[r#"
        POST /api/v3.1/tool_router/session/trs_e/execute
        {
          "arguments": {
            "to": "x@y.z"
          },
          "tool_slug": "GMAIL_SEND_EMAIL"
        }

        POST /api/v3.1/tool_router/session/trs_e/execute
        {
          "arguments": {},
          "tool_slug": "FAIL_TOOL"
        }

        POST /api/v3.1/tool_router/session/trs_e/execute
        {
          "arguments": {
            "to": "x@y.z"
          },
          "tool_slug": "GMAIL_SEND_EMAIL"
        }

        POST /api/v3.1/tool_router/session/trs_e/execute
        {
          "account": "ca_work",
          "arguments": {
            "to": "x@y.z"
          },
          "input_responses": {
            "req_1": {
              "action": "accept",
              "content": {
                "decision": "approve"
              }
            }
          },
          "request_state": "opaque",
          "tool_slug": "GMAIL_SEND_EMAIL"
        }

        POST /api/v3.1/tool_router/session/trs_e/execute_meta
        {
          "arguments": {
            "queries": [
              {
                "use_case": "x"
              }
            ]
          },
          "slug": "COMPOSIO_SEARCH_TOOLS"
        }

        POST /api/v3.1/tool_router/session/trs_e/search
        {
          "queries": [
            {
              "use_case": "send an email"
            }
          ]
        }

    "#]]
    .assert_eq(&s.trace());
}

#[tokio::test]
async fn authorize_then_wait_polls_until_a_final_status() {
    let s = StandIn::start().await;
    s.push(Reply::json(
        201,
        session_json("trs_l", &mcp_url(&s, "trs_l"), json!({})),
    ));
    let session = s
        .client()
        .create("user_123", SessionConfig::new())
        .await
        .unwrap();
    s.take();

    let link = |ca: &str| {
        Reply::json(
            201,
            json!({"link_token": format!("lk_{ca}"), "connected_account_id": ca,
                   "redirect_url": format!("https://connect.example/link/lk_{ca}")}),
        )
    };
    // Trace `authorize_and_wait`: INITIATED, then ACTIVE.
    s.push(link("ca_1"))
        .push(Reply::ok(account("ca_1", "INITIATED")))
        .push(Reply::ok(account("ca_1", "ACTIVE")));
    let request = session
        .authorize("github")
        .await
        .unwrap()
        .poll_interval(Duration::from_millis(10));
    assert_eq!(request.redirect_url, "https://connect.example/link/lk_ca_1");
    assert_eq!(request.status, "INITIATED");
    let connected = request
        .wait_for_connection(Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        (connected.id.as_str(), connected.status.as_str()),
        ("ca_1", "ACTIVE")
    );

    // Trace `authorize_with_options`; the account then fails.
    let mut failed = account("ca_2", "FAILED");
    failed["status_reason"] = json!("the user denied access");
    s.push(link("ca_2")).push(Reply::ok(failed));
    let request = session
        .authorize_with(
            "github",
            AuthorizeOptions::new()
                .alias("work")
                .callback_url("https://myapp.com/callback"),
        )
        .await
        .unwrap();
    let err = request
        .wait_for_connection(Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "connected account ca_2 ended in status FAILED: the user denied access"
    );

    // Still pending when the time is up.
    s.push(link("ca_3"))
        .push(Reply::ok(account("ca_3", "INITIATED")))
        .push(Reply::ok(account("ca_3", "INITIALIZING")));
    let request = session
        .authorize("github")
        .await
        .unwrap()
        .poll_interval(Duration::from_millis(30));
    let err = request
        .wait_for_connection(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ConnectionTimeout { status, .. } if status == "INITIALIZING"),
        "{err:?}"
    );

    expect![[r#"
        POST /api/v3.1/tool_router/session/trs_l/link
        {
          "toolkit": "github"
        }

        GET /api/v3.1/connected_accounts/ca_1

        GET /api/v3.1/connected_accounts/ca_1

        POST /api/v3.1/tool_router/session/trs_l/link
        {
          "alias": "work",
          "callback_url": "https://myapp.com/callback",
          "toolkit": "github"
        }

        GET /api/v3.1/connected_accounts/ca_2

        POST /api/v3.1/tool_router/session/trs_l/link
        {
          "toolkit": "github"
        }

        GET /api/v3.1/connected_accounts/ca_3

        GET /api/v3.1/connected_accounts/ca_3

    "#]]
    .assert_eq(&s.trace());
}

#[tokio::test]
async fn mcp_headers_go_only_to_the_api_origin() {
    let s = StandIn::start().await;
    let client = s.client();
    s.push(Reply::json(
        201,
        session_json("trs_m", &mcp_url(&s, "trs_m"), json!({})),
    ));
    let same = client
        .create("user_123", SessionConfig::new())
        .await
        .unwrap();
    let mcp = same.mcp_checked().unwrap();
    assert_eq!(mcp.kind, "http");
    assert_eq!(mcp.url, mcp_url(&s, "trs_m"));
    assert_eq!(mcp.headers().collect::<Vec<_>>(), [("x-api-key", "k_test")]);
    assert!(!format!("{mcp:?}").contains("k_test"));

    // `localhost` is another origin than `127.0.0.1`, as in the SDKs.
    let elsewhere = s.origin().replace("127.0.0.1", "localhost");
    s.push(Reply::json(
        201,
        session_json(
            "trs_n",
            &format!("{elsewhere}/tool_router/trs_n/mcp"),
            json!({}),
        ),
    ));
    let other = client
        .create("user_123", SessionConfig::new())
        .await
        .unwrap();
    assert_eq!(other.mcp().headers().count(), 0);
    assert!(matches!(
        other.mcp_checked(),
        Err(Error::McpDestination { .. })
    ));
}

#[tokio::test]
async fn nothing_is_sent_for_a_config_the_server_would_refuse() {
    let s = StandIn::start().await;
    let client = s.client();
    assert!(matches!(
        client.create("", SessionConfig::new()).await,
        Err(Error::Config(_))
    ));
    assert!(matches!(
        client.sessions().use_session("..").await,
        Err(Error::Config(_))
    ));
    assert!(s.take().is_empty());
}
