//! Each provider's conversions, checked against its documented format: real tool schemas from
//! the built-in catalog (`tests/fixtures/tools.json`: a meta tool, GitHub, Gmail, Discord's
//! nested nullable objects, GitHub's free-form workflow inputs, Linear's integer enum and date
//! format) and canned model responses in each provider's shape.

use expect_test::{Expect, expect, expect_file};
use serde_json::{Value, json};
use toolrouter_api::catalog::Tool;

use super::*;

fn fixtures() -> Vec<Tool> {
    serde_json::from_str(include_str!("../../tests/fixtures/tools.json")).expect("valid tools")
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

fn check_calls(provider: &dyn Provider, response: &Value, expected: &Expect) {
    let calls = provider.tool_calls(response).unwrap();
    let shown: Vec<String> = calls
        .iter()
        .map(|c| format!("{:?} {} {}", c.id, c.name, c.arguments))
        .collect();
    expected.assert_eq(&shown.join("\n"));
}

/// One successful and one failed result, for the calls `provider` finds in `response`.
fn outcomes(provider: &dyn Provider, response: &Value) -> Vec<ToolOutcome> {
    provider
        .tool_calls(response)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, call)| ToolOutcome {
            call,
            result: if i == 0 {
                ToolResult::local(json!({"number": 42}), None)
            } else {
                ToolResult::local(json!({}), Some("Not Found".to_owned()))
            },
        })
        .collect()
}

fn openai_completion() -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null, "refusal": null,
            "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "GITHUB_CREATE_ISSUE",
                 "arguments": "{\"owner\":\"octocat\",\"repo\":\"hello-world\",\"title\":\"Bug\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "GMAIL_SEND_EMAIL",
                 "arguments": "{\"recipient_email\": \"a@b.c\", \"subj"}},
                {"id": "call_c", "type": "function", "function": {"name": "COMPOSIO_SEARCH_TOOLS",
                 "arguments": ""}}
            ]}}]
    })
}

fn responses_output() -> Value {
    json!({
        "id": "resp_1", "object": "response", "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call", "id": "fc_1", "call_id": "call_a",
             "name": "LINEAR_CREATE_ISSUE", "status": "completed",
             "arguments": "{\"team_id\":\"t\",\"title\":\"Crash\",\"priority\":1}"},
            {"type": "function_call", "id": "fc_2", "call_id": "call_b",
             "name": "GITHUB_CREATE_ISSUE", "status": "completed", "arguments": "{}"}
        ]
    })
}

fn anthropic_message() -> Value {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "stop_reason": "tool_use",
        "content": [
            {"type": "text", "text": "I'll open the issue and tell the team."},
            {"type": "tool_use", "id": "toolu_01", "name": "GITHUB_CREATE_ISSUE",
             "input": {"owner": "octocat", "repo": "hello-world", "title": "Bug"}},
            {"type": "tool_use", "id": "toolu_02", "name": "GMAIL_SEND_EMAIL",
             "input": {"recipient_email": "team@example.com", "subject": "Bug", "body": "Filed."}}
        ]
    })
}

fn gemini_response() -> Value {
    json!({
        "candidates": [{"finishReason": "STOP", "index": 0, "content": {"role": "model", "parts": [
            {"text": "Reordering."},
            {"functionCall": {"name": "DISCORD_REORDER_GUILD_CHANNELS",
             "args": {"guild_id": "1", "positions": [{"id": "2", "position": 0}]}}},
            {"functionCall": {"id": "fc-2", "name": "COMPOSIO_SEARCH_TOOLS"}}
        ]}}],
        "usageMetadata": {"promptTokenCount": 10}
    })
}

#[test]
fn openai_chat_tools() {
    expect_file!["snapshots/openai_chat.json"]
        .assert_eq(&pretty(&OpenAiChat::new().tools(&fixtures())));
}

#[test]
fn openai_chat_strict_tools() {
    expect_file!["snapshots/openai_chat_strict.json"]
        .assert_eq(&pretty(&OpenAiChat::new().strict(true).tools(&fixtures())));
}

#[test]
fn openai_responses_tools() {
    // Strict where possible: the free-form workflow inputs keep that tool non-strict.
    expect_file!["snapshots/openai_responses_strict.json"].assert_eq(&pretty(
        &OpenAiResponses::new().strict(true).tools(&fixtures()),
    ));
    let loose = OpenAiResponses::new().tools(&fixtures()[1..2]);
    expect![[r#"
        [
          {
            "description": "Open a new issue in a repository. Use it to report a bug or track a task. Returns the created issue with its number and URL.",
            "name": "GITHUB_CREATE_ISSUE",
            "parameters": {
              "properties": {
                "assignees": {
                  "description": "Logins of users to assign.",
                  "items": {
                    "type": "string"
                  },
                  "type": "array"
                },
                "body": {
                  "description": "Issue text, GitHub-flavoured Markdown.",
                  "type": "string"
                },
                "labels": {
                  "description": "Label names to apply.",
                  "items": {
                    "type": "string"
                  },
                  "type": "array"
                },
                "milestone": {
                  "description": "Number of the milestone to associate.",
                  "type": "integer"
                },
                "owner": {
                  "description": "Account (user or organization) that owns the repository, e.g. `octocat`.",
                  "type": "string"
                },
                "repo": {
                  "description": "Repository name without the owner, e.g. `hello-world`.",
                  "type": "string"
                },
                "title": {
                  "description": "Issue title.",
                  "type": "string"
                }
              },
              "required": [
                "owner",
                "repo",
                "title"
              ],
              "type": "object"
            },
            "strict": false,
            "type": "function"
          }
        ]
    "#]]
    .assert_eq(&pretty(&loose));
}

#[test]
fn anthropic_tools() {
    expect_file!["snapshots/anthropic.json"]
        .assert_eq(&pretty(&Anthropic::new().tools(&fixtures())));
}

#[test]
fn gemini_tools() {
    expect_file!["snapshots/gemini.json"].assert_eq(&pretty(&Gemini::new().tools(&fixtures())));
    assert!(Gemini::new().tools(&[]).is_empty());
}

#[test]
fn calls_are_read_from_each_providers_response() {
    // Unparseable JSON arguments are kept as text (the session answers them with an error);
    // empty arguments are an empty object.
    check_calls(
        &OpenAiChat::new(),
        &openai_completion(),
        &expect![[r#"
            Some("call_a") GITHUB_CREATE_ISSUE {"owner":"octocat","repo":"hello-world","title":"Bug"}
            Some("call_b") GMAIL_SEND_EMAIL "{\"recipient_email\": \"a@b.c\", \"subj"
            Some("call_c") COMPOSIO_SEARCH_TOOLS {}"#]],
    );
    // A bare assistant message works too.
    let message = openai_completion()["choices"][0]["message"].clone();
    assert_eq!(OpenAiChat::new().tool_calls(&message).unwrap().len(), 3);
    check_calls(
        &OpenAiResponses::new(),
        &responses_output(),
        &expect![[r#"
            Some("call_a") LINEAR_CREATE_ISSUE {"priority":1,"team_id":"t","title":"Crash"}
            Some("call_b") GITHUB_CREATE_ISSUE {}"#]],
    );
    check_calls(
        &Anthropic::new(),
        &anthropic_message(),
        &expect![[r#"
            Some("toolu_01") GITHUB_CREATE_ISSUE {"owner":"octocat","repo":"hello-world","title":"Bug"}
            Some("toolu_02") GMAIL_SEND_EMAIL {"body":"Filed.","recipient_email":"team@example.com","subject":"Bug"}"#]],
    );
    check_calls(
        &Gemini::new(),
        &gemini_response(),
        &expect![[r#"
            None DISCORD_REORDER_GUILD_CHANNELS {"guild_id":"1","positions":[{"id":"2","position":0}]}
            Some("fc-2") COMPOSIO_SEARCH_TOOLS null"#]],
    );
}

#[test]
fn text_answers_have_no_calls_and_no_results() {
    let providers: [&dyn Provider; 4] = [
        &OpenAiChat::new(),
        &OpenAiResponses::new(),
        &Anthropic::new(),
        &Gemini::new(),
    ];
    let text = [
        json!({"choices": [{"message": {"role": "assistant", "content": "Done."}}]}),
        json!({"output": [{"type": "message", "content": [{"type": "output_text", "text": "Done."}]}]}),
        json!({"content": [{"type": "text", "text": "Done."}]}),
        json!({"candidates": [{"content": {"parts": [{"text": "Done."}]}}]}),
    ];
    for (p, response) in providers.iter().zip(text) {
        assert_eq!(p.tool_calls(&response).unwrap(), vec![], "{}", p.name());
        assert_eq!(p.tool_results(&[]), Vec::<Value>::new(), "{}", p.name());
    }
}

#[test]
fn malformed_calls_are_reported_with_their_position() {
    let err = OpenAiChat::new()
        .tool_calls(&json!({"tool_calls": [{"id": "a", "function": {}}]}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "OpenAI chat completion response: tool call 0 has no function.name"
    );
    let err = Anthropic::new()
        .tool_calls(&json!({"content": "not blocks"}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Anthropic message response: `content` is not a list"
    );
    let err = OpenAiResponses::new()
        .tool_calls(&json!({"output": [{"type": "function_call", "name": "X"}]}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "OpenAI Responses response: tool call 0 has no call_id"
    );
}

#[test]
fn results_go_back_in_each_providers_shape_and_order() {
    let chat = OpenAiChat::new();
    expect![[r#"
        [
          {
            "content": "{\"data\":{\"number\":42},\"error\":null,\"successful\":true}",
            "role": "tool",
            "tool_call_id": "call_a"
          },
          {
            "content": "{\"data\":{},\"error\":\"Not Found\",\"successful\":false}",
            "role": "tool",
            "tool_call_id": "call_b"
          },
          {
            "content": "{\"data\":{},\"error\":\"Not Found\",\"successful\":false}",
            "role": "tool",
            "tool_call_id": "call_c"
          }
        ]
    "#]]
    .assert_eq(&pretty(
        &chat.tool_results(&outcomes(&chat, &openai_completion())),
    ));

    let responses = OpenAiResponses::new();
    expect![[r#"
        [
          {
            "call_id": "call_a",
            "output": "{\"data\":{\"number\":42},\"error\":null,\"successful\":true}",
            "type": "function_call_output"
          },
          {
            "call_id": "call_b",
            "output": "{\"data\":{},\"error\":\"Not Found\",\"successful\":false}",
            "type": "function_call_output"
          }
        ]
    "#]]
    .assert_eq(&pretty(
        &responses.tool_results(&outcomes(&responses, &responses_output())),
    ));

    let anthropic = Anthropic::new();
    expect![[r#"
        [
          {
            "content": [
              {
                "content": "{\"data\":{\"number\":42},\"error\":null,\"successful\":true}",
                "tool_use_id": "toolu_01",
                "type": "tool_result"
              },
              {
                "content": "{\"data\":{},\"error\":\"Not Found\",\"successful\":false}",
                "is_error": true,
                "tool_use_id": "toolu_02",
                "type": "tool_result"
              }
            ],
            "role": "user"
          }
        ]
    "#]]
    .assert_eq(&pretty(
        &anthropic.tool_results(&outcomes(&anthropic, &anthropic_message())),
    ));

    let gemini = Gemini::new();
    expect![[r#"
        [
          {
            "parts": [
              {
                "functionResponse": {
                  "name": "DISCORD_REORDER_GUILD_CHANNELS",
                  "response": {
                    "data": {
                      "number": 42
                    },
                    "error": null,
                    "successful": true
                  }
                }
              },
              {
                "functionResponse": {
                  "id": "fc-2",
                  "name": "COMPOSIO_SEARCH_TOOLS",
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
    "#]]
    .assert_eq(&pretty(
        &gemini.tool_results(&outcomes(&gemini, &gemini_response())),
    ));
}
