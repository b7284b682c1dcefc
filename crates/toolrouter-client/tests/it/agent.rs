//! A model's tool calls, end to end: read from each provider's response, executed through the
//! session (meta tools and app tools on the server, custom tools in this process), answered in
//! the provider's result format. Compared with traces `provider_handle_tool_calls` and
//! `custom_tools_flow`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use expect_test::expect;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use toolrouter_client::provider::{Anthropic, Gemini, OpenAiChat, OpenAiResponses, Provider};
use toolrouter_client::{CustomTool, CustomToolkit, Session, SessionConfig, ToolError};

use crate::stand_in::{Reply, StandIn, completed, page, session_json, tool};

fn search_schema() -> Value {
    json!({"type": "object", "properties": {
        "queries": {"type": "array", "items": {"type": "object", "properties": {
            "use_case": {"type": "string"}, "known_fields": {"type": "string"}},
            "required": ["use_case"]}}},
        "required": ["queries"]})
}

fn issue_schema() -> Value {
    json!({"type": "object", "properties": {
        "owner": {"type": "string"}, "repo": {"type": "string"}, "title": {"type": "string"},
        "body": {"type": "string"}, "labels": {"type": "array", "items": {"type": "string"}}},
        "required": ["owner", "repo", "title"]})
}

async fn plain_session(s: &StandIn) -> Session {
    s.push(Reply::json(
        201,
        session_json("trs_p", &format!("{}/mcp", s.origin()), json!({})),
    ));
    let session = s
        .client()
        .create("user_123", SessionConfig::new())
        .await
        .unwrap();
    s.push(Reply::ok(page(
        vec![
            tool("COMPOSIO_SEARCH_TOOLS", search_schema()),
            tool("GITHUB_CREATE_ISSUE", issue_schema()),
        ],
        None,
    )));
    session.tools().await.unwrap();
    s.take();
    session
}

#[tokio::test]
async fn openai_chat_calls_run_in_order_and_answer_as_tool_messages() {
    let s = StandIn::start().await;
    let session = plain_session(&s).await;
    let completion = json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
    "role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "COMPOSIO_SEARCH_TOOLS",
         "arguments": "{\"queries\":[{\"use_case\":\"send email\"}]}"}},
        {"id": "call_2", "type": "function", "function": {"name": "COMPOSIO_MULTI_EXECUTE_TOOL",
         "arguments": "{\"tools\":[{\"tool_slug\":\"GMAIL_SEND_EMAIL\",\"arguments\":{\"to\":\"x@y.z\"}}]}"}},
        {"id": "call_3", "type": "function", "function": {"name": "GITHUB_CREATE_ISSUE",
         "arguments": "{\"owner\": \"octocat\", \"ti"}}
    ]}}]});
    s.push(Reply::ok(completed(json!({"results": [{"index": 1}]}))))
        .push(Reply::ok(
            json!({"data": {"results": [{"response": {"successful": true,
            "data": {"id": "m1"}}, "tool_slug": "GMAIL_SEND_EMAIL", "index": 0}],
            "total_count": 1, "success_count": 1, "error_count": 0},
            "error": null, "log_id": "log_2", "result_type": "completed"}),
        ));
    let messages = session
        .handle_tool_calls(&OpenAiChat::new(), &completion)
        .await
        .unwrap();
    // Trace `provider_handle_tool_calls`: one `/execute` per call, meta tools included; the
    // call whose JSON was cut off is answered without running anything.
    expect![[r#"
        POST /api/v3.1/tool_router/session/trs_p/execute
        {
          "arguments": {
            "queries": [
              {
                "use_case": "send email"
              }
            ]
          },
          "tool_slug": "COMPOSIO_SEARCH_TOOLS"
        }

        POST /api/v3.1/tool_router/session/trs_p/execute
        {
          "arguments": {
            "tools": [
              {
                "arguments": {
                  "to": "x@y.z"
                },
                "tool_slug": "GMAIL_SEND_EMAIL"
              }
            ]
          },
          "tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL"
        }

    "#]]
    .assert_eq(&s.trace());
    expect![[r#"
        [
          {
            "content": "{\"data\":{\"results\":[{\"index\":1}]},\"error\":null,\"successful\":true}",
            "role": "tool",
            "tool_call_id": "call_1"
          },
          {
            "content": "{\"data\":{\"error_count\":0,\"results\":[{\"index\":0,\"response\":{\"data\":{\"id\":\"m1\"},\"successful\":true},\"tool_slug\":\"GMAIL_SEND_EMAIL\"}],\"success_count\":1,\"total_count\":1},\"error\":null,\"successful\":true}",
            "role": "tool",
            "tool_call_id": "call_2"
          },
          {
            "content": "{\"data\":{},\"error\":\"the arguments are not a valid JSON object (EOF while parsing a string at line 1 column 24); send them again as one\",\"successful\":false}",
            "role": "tool",
            "tool_call_id": "call_3"
          }
        ]"#]]
    .assert_eq(&serde_json::to_string_pretty(&messages).unwrap());
}

#[tokio::test]
async fn strict_mode_nulls_mean_not_given() {
    let s = StandIn::start().await;
    let session = plain_session(&s).await;
    let openai = OpenAiChat::new().strict(true);
    // A strict model sends every property; `body` and `labels` were optional.
    let completion = json!({"choices": [{"message": {"tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "GITHUB_CREATE_ISSUE",
         "arguments": "{\"owner\":\"o\",\"repo\":\"r\",\"title\":\"t\",\"body\":null,\"labels\":null}"}}
    ]}}]});
    s.push(Reply::ok(completed(json!({"number": 1}))));
    session
        .handle_tool_calls(&openai, &completion)
        .await
        .unwrap();
    let seen = s.take();
    assert_eq!(
        seen[0].body.as_ref().unwrap()["arguments"],
        json!({"owner": "o", "repo": "r", "title": "t"})
    );
}

#[tokio::test]
async fn every_provider_round_trips_through_the_session() {
    let s = StandIn::start().await;
    let session = plain_session(&s).await;
    let issue = json!({"owner": "octocat", "repo": "hello-world", "title": "Bug"});
    let cases: [(&dyn Provider, Value); 3] = [
        (
            &OpenAiResponses::new(),
            json!({"output": [{"type": "function_call", "id": "fc_1", "call_id": "call_r",
                   "name": "GITHUB_CREATE_ISSUE", "arguments": issue.to_string()}]}),
        ),
        (
            &Anthropic::new(),
            json!({"role": "assistant", "stop_reason": "tool_use", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "GITHUB_CREATE_ISSUE",
                 "input": issue}]}),
        ),
        (
            &Gemini::new(),
            json!({"candidates": [{"content": {"role": "model", "parts": [
                {"functionCall": {"name": "GITHUB_CREATE_ISSUE", "args": issue}}]}}]}),
        ),
    ];
    let mut answers = Vec::new();
    for (provider, response) in cases {
        s.push(Reply::ok(
            json!({"data": {}, "error": "Not Found", "log_id": "l",
                                "result_type": "failed"}),
        ));
        answers.push(
            session
                .handle_tool_calls(provider, &response)
                .await
                .unwrap(),
        );
        let seen = s.take();
        assert_eq!(seen.len(), 1, "{}", provider.name());
        assert_eq!(
            seen[0].body.as_ref().unwrap(),
            &json!({"tool_slug": "GITHUB_CREATE_ISSUE", "arguments": issue}),
            "{}",
            provider.name()
        );
    }
    expect![[r#"
        [
          [
            {
              "call_id": "call_r",
              "output": "{\"data\":{},\"error\":\"Not Found\",\"successful\":false}",
              "type": "function_call_output"
            }
          ],
          [
            {
              "content": [
                {
                  "content": "{\"data\":{},\"error\":\"Not Found\",\"successful\":false}",
                  "is_error": true,
                  "tool_use_id": "toolu_1",
                  "type": "tool_result"
                }
              ],
              "role": "user"
            }
          ],
          [
            {
              "parts": [
                {
                  "functionResponse": {
                    "name": "GITHUB_CREATE_ISSUE",
                    "response": {
                      "data": {},
                      "error": "Not Found",
                      "successful": false
                    }
                  }
                }
              ],
              "role": "user"
            }
          ]
        ]"#]]
    .assert_eq(&serde_json::to_string_pretty(&answers).unwrap());
}

#[derive(Deserialize, JsonSchema)]
struct GrepInput {
    /// Pattern to search for
    pattern: String,
}

/// The custom tools of trace `custom_tools_flow`, counting the runs of GREP.
fn custom_config(grep_runs: &Arc<AtomicUsize>) -> SessionConfig {
    let runs = Arc::clone(grep_runs);
    let grep = CustomTool::new(
        "GREP",
        "Search for a pattern in local files.",
        move |input: GrepInput, _ctx| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move {
                if input.pattern == "fail" {
                    return Err(ToolError::msg("no such file"));
                }
                Ok(json!({"matches": [format!("src/lib.rs: {}", input.pattern)]}))
            }
        },
    );
    // Uses the session: fetches mail through the server, then filters here.
    let important = CustomTool::new(
        "GET_IMPORTANT_EMAILS",
        "Get important emails.",
        |input: GrepInput, ctx| async move {
            let fetched = ctx
                .execute("GMAIL_FETCH_EMAILS", json!({"q": input.pattern}))
                .await
                .map_err(ToolError::msg)?;
            Ok(json!({"important": fetched.data, "user": ctx.user_id()}))
        },
    )
    .extends_toolkit("gmail")
    .preload(true);
    let search_code = CustomTool::new(
        "SEARCH_CODE",
        "Search developer resources.",
        |input: GrepInput, _ctx| async move { Ok(json!({"code": input.pattern})) },
    );
    SessionConfig::new()
        .custom_tool(grep)
        .custom_tool(important)
        .custom_toolkit(
            CustomToolkit::new("DEV_TOOLS", "Dev Tools", "Local dev utilities").tool(search_code),
        )
}

/// The create answer of trace `custom_tools_flow`: the final slugs the server assigned.
fn custom_session(s: &StandIn) -> Value {
    let mut answer = session_json("trs_c", &format!("{}/mcp", s.origin()), json!({}));
    let schema = json!({"type": "object", "properties": {"pattern": {"type": "string"}}});
    let echo = |slug: &str, original: &str, name: &str| {
        json!({"slug": slug, "original_slug": original, "name": name, "description": "d",
               "input_schema": schema})
    };
    answer["experimental"] = json!({
        "assistive_prompt": null,
        "custom_tools": [echo("LOCAL_GREP", "GREP", "Grep"),
                         echo("LOCAL_GMAIL_GET_IMPORTANT_EMAILS", "GET_IMPORTANT_EMAILS",
                              "Get Important Emails")],
        "custom_toolkits": [{"slug": "DEV_TOOLS", "name": "Dev Tools", "description": "d",
                             "tools": [echo("LOCAL_DEV_TOOLS_SEARCH_CODE", "SEARCH_CODE",
                                            "Search Code")]}]
    });
    answer
}

#[tokio::test]
async fn custom_tools_run_here_and_their_definitions_travel_with_every_call() {
    let s = StandIn::start().await;
    let grep_runs = Arc::new(AtomicUsize::new(0));
    s.push(Reply::json(201, custom_session(&s)));
    let session = s
        .client()
        .create("user_123", custom_config(&grep_runs))
        .await
        .unwrap();
    // The create body: the definitions, with `input_schema` from the Rust type.
    let created = s.take();
    expect![[r#"
        {
          "custom_toolkits": [
            {
              "description": "Local dev utilities",
              "name": "Dev Tools",
              "slug": "DEV_TOOLS",
              "tools": [
                {
                  "description": "Search developer resources.",
                  "input_schema": {
                    "properties": {
                      "pattern": {
                        "description": "Pattern to search for",
                        "type": "string"
                      }
                    },
                    "required": [
                      "pattern"
                    ],
                    "type": "object"
                  },
                  "name": "Search Code",
                  "slug": "SEARCH_CODE"
                }
              ]
            }
          ],
          "custom_tools": [
            {
              "description": "Search for a pattern in local files.",
              "input_schema": {
                "properties": {
                  "pattern": {
                    "description": "Pattern to search for",
                    "type": "string"
                  }
                },
                "required": [
                  "pattern"
                ],
                "type": "object"
              },
              "name": "Grep",
              "slug": "GREP"
            },
            {
              "description": "Get important emails.",
              "extends_toolkit": "gmail",
              "input_schema": {
                "properties": {
                  "pattern": {
                    "description": "Pattern to search for",
                    "type": "string"
                  }
                },
                "required": [
                  "pattern"
                ],
                "type": "object"
              },
              "name": "Get Important Emails",
              "preload": true,
              "slug": "GET_IMPORTANT_EMAILS"
            }
          ]
        }"#]]
    .assert_eq(
        &serde_json::to_string_pretty(&created[0].body.as_ref().unwrap()["experimental"]).unwrap(),
    );
    let definitions = created[0].body.as_ref().unwrap()["experimental"].clone();

    // The preloaded custom tool is listed after the server's tools, marked direct.
    s.push(Reply::ok(page(
        vec![tool("COMPOSIO_SEARCH_TOOLS", search_schema())],
        None,
    )));
    let tools = session.tools().await.unwrap();
    let listed: Vec<(&str, &str)> = tools
        .iter()
        .map(|t| (t.slug.as_str(), t.description.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "COMPOSIO_SEARCH_TOOLS",
                "Description of COMPOSIO_SEARCH_TOOLS"
            ),
            (
                "LOCAL_GMAIL_GET_IMPORTANT_EMAILS",
                "[Direct tool - call directly, no search needed beforehand.]\nGet important emails."
            )
        ]
    );
    s.take();

    // The model calls a custom tool (by its final slug, in any case, or by its own slug), a
    // custom tool that itself executes through the server, and an app tool.
    let message = json!({"content": [
        {"type": "tool_use", "id": "t1", "name": "LOCAL_GREP", "input": {"pattern": "TODO"}},
        {"type": "tool_use", "id": "t2", "name": "search_code", "input": {"pattern": "fn"}},
        {"type": "tool_use", "id": "t3", "name": "LOCAL_GREP", "input": {"pattern": "fail"}},
        {"type": "tool_use", "id": "t4", "name": "LOCAL_GMAIL_GET_IMPORTANT_EMAILS",
         "input": {"pattern": "urgent"}},
        {"type": "tool_use", "id": "t5", "name": "GMAIL_SEND_EMAIL", "input": {}}
    ]});
    s.push(Reply::ok(completed(json!({"messages": ["m1"]}))))
        .push(Reply::ok(completed(json!({"id": "sent"}))));
    let results = session
        .handle_tool_calls(&Anthropic::new(), &message)
        .await
        .unwrap();
    assert_eq!(grep_runs.load(Ordering::SeqCst), 2);
    let contents: Vec<String> = results[0]["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| format!("{} {}", b["tool_use_id"], b["content"].as_str().unwrap()))
        .collect();
    expect![[r#"
        "t1" {"data":{"matches":["src/lib.rs: TODO"]},"error":null,"successful":true}
        "t2" {"data":{"code":"fn"},"error":null,"successful":true}
        "t3" {"data":{},"error":"no such file","successful":false}
        "t4" {"data":{"important":{"messages":["m1"]},"user":"user_123"},"error":null,"successful":true}
        "t5" {"data":{"id":"sent"},"error":null,"successful":true}"#]]
    .assert_eq(&contents.join("\n"));
    // Only the two server-side executions reached the server, each with the definitions.
    let seen = s.take();
    let slugs: Vec<&str> = seen
        .iter()
        .map(|r| r.body.as_ref().unwrap()["tool_slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["GMAIL_FETCH_EMAILS", "GMAIL_SEND_EMAIL"]);
    for r in &seen {
        assert_eq!(r.body.as_ref().unwrap()["experimental"], definitions);
    }

    // Search re-sends them too.
    s.push(Reply::ok(json!({"success": true, "results": []})));
    session.search("grep").await.unwrap();
    assert_eq!(
        s.take()[0].body.as_ref().unwrap()["experimental"],
        definitions
    );
}

#[tokio::test]
async fn multi_execute_runs_custom_items_here_and_the_rest_on_the_server() {
    let s = StandIn::start().await;
    let grep_runs = Arc::new(AtomicUsize::new(0));
    s.push(Reply::json(201, custom_session(&s)));
    let session = s
        .client()
        .create("user_123", custom_config(&grep_runs))
        .await
        .unwrap();
    s.take();
    // The server numbers the items it got from 0.
    s.push(Reply::ok(json!({"data": {"results": [
            {"response": {"successful": true, "data": {"id": "m1"}}, "tool_slug": "GMAIL_SEND_EMAIL", "index": 0},
            {"response": {"successful": false, "data": {}, "error": "404"}, "tool_slug": "GITHUB_GET_REPO", "index": 1, "error": "404"}],
        "total_count": 2, "success_count": 1, "error_count": 1, "extra": "kept"},
        "error": "1 out of 2 tools failed", "log_id": "log_m", "result_type": "completed"})));
    let result = session
        .execute(
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"tools": [
                {"tool_slug": "GMAIL_SEND_EMAIL", "arguments": {"to": "a@b.c"}},
                {"tool_slug": "LOCAL_GREP", "arguments": {"pattern": "x"}},
                {"tool_slug": "GITHUB_GET_REPO", "arguments": {"repo": "r"}}
            ], "sync_response_to_workbench": false, "thought": "both"}),
        )
        .await
        .unwrap();
    let seen = s.take();
    assert_eq!(seen.len(), 1);
    let sent = seen[0].body.as_ref().unwrap();
    assert_eq!(sent["tool_slug"], "COMPOSIO_MULTI_EXECUTE_TOOL");
    assert_eq!(
        sent["arguments"],
        json!({"tools": [
            {"tool_slug": "GMAIL_SEND_EMAIL", "arguments": {"to": "a@b.c"}},
            {"tool_slug": "GITHUB_GET_REPO", "arguments": {"repo": "r"}}
        ], "sync_response_to_workbench": false, "thought": "both"})
    );
    expect![[r#"
        {
          "data": {
            "error_count": 1,
            "extra": "kept",
            "results": [
              {
                "index": 0,
                "response": {
                  "data": {
                    "id": "m1"
                  },
                  "successful": true
                },
                "tool_slug": "GMAIL_SEND_EMAIL"
              },
              {
                "index": 1,
                "response": {
                  "data": {
                    "matches": [
                      "src/lib.rs: x"
                    ]
                  },
                  "successful": true
                },
                "tool_slug": "LOCAL_GREP"
              },
              {
                "error": "404",
                "index": 2,
                "response": {
                  "data": {},
                  "error": "404",
                  "successful": false
                },
                "tool_slug": "GITHUB_GET_REPO"
              }
            ],
            "success_count": 2,
            "total_count": 3
          },
          "error": "1 out of 3 tools failed",
          "successful": false
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&result.to_model_json()).unwrap());

    // Only custom items: nothing is sent.
    let result = session
        .execute(
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"tools": [{"tool_slug": "LOCAL_GREP", "arguments": {"pattern": "y"}}]}),
        )
        .await
        .unwrap();
    assert!(result.successful);
    assert_eq!(result.data["total_count"], 1);
    assert!(s.take().is_empty());
}

#[tokio::test]
async fn a_reused_session_brings_its_own_custom_tools() {
    let s = StandIn::start().await;
    let grep_runs = Arc::new(AtomicUsize::new(0));
    s.push(Reply::ok(custom_session(&s)));
    let grep = CustomTool::new("GREP", "Search.", |i: GrepInput, _ctx| async move {
        Ok(json!({"p": i.pattern}))
    });
    let session = s
        .client()
        .sessions()
        .use_session_with("trs_c", vec![grep], vec![])
        .await
        .unwrap();
    expect![[r#"
        POST /api/v3.1/tool_router/session/trs_c/attach
        {
          "experimental": {
            "custom_tools": [
              {
                "description": "Search.",
                "input_schema": {
                  "properties": {
                    "pattern": {
                      "description": "Pattern to search for",
                      "type": "string"
                    }
                  },
                  "required": [
                    "pattern"
                  ],
                  "type": "object"
                },
                "name": "Grep",
                "slug": "GREP"
              }
            ]
          }
        }

    "#]]
    .assert_eq(&s.trace());
    let r = session
        .execute("local_grep", json!({"pattern": "z"}))
        .await
        .unwrap();
    assert_eq!(r.data, json!({"p": "z"}));
    assert!(s.take().is_empty());
    assert_eq!(grep_runs.load(Ordering::SeqCst), 0);
}
