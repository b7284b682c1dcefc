//! Custom tools (`LOCAL_…`, CONTRACT.md §3.10) in session search: the SDKs re-send their
//! definitions with each `/search`, and the answer ranks them with the catalog's tools under
//! their assigned slugs, with schemas, and only when sent.

use serde_json::json;

use super::proxy::{SESSIONS, catalog, provider, send, session, start};

#[tokio::test]
async fn search_includes_the_custom_tools_the_sdk_sends() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    let sid = session(&s, &key, json!({"user_id": "u1", "toolkits": ["keyed"]})).await;
    let experimental = json!({
        "custom_tools": [{"slug": "GREP", "name": "Grep",
                          "description": "Search files in the repository for a pattern.",
                          "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}}}}],
        "custom_toolkits": [{"slug": "notes", "name": "Notes", "description": "Local notes.",
                             "tools": [{"slug": "ADD_NOTE", "name": "Add note",
                                        "description": "Add a note to the notebook.",
                                        "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}}}]}]
    });
    let body = json!({
        "queries": [{"use_case": "grep the repository for a pattern"},
                    {"use_case": "add a note to my notebook"},
                    {"use_case": "who am i"}],
        "experimental": experimental,
    });
    let (st, out) = send(&s, &key, &format!("{SESSIONS}/{sid}/search"), body).await;
    assert_eq!(st, 200, "{out}");
    let results = out["results"].as_array().unwrap();
    assert_eq!(results[0]["primary_tool_slugs"][0], "LOCAL_GREP", "{out}");
    assert!(
        results[0]["toolkits"]
            .as_array()
            .unwrap()
            .contains(&json!("custom"))
    );
    assert_eq!(
        results[1]["primary_tool_slugs"][0], "LOCAL_NOTES_ADD_NOTE",
        "{out}"
    );
    assert!(
        !results[2].to_string().contains("LOCAL_"),
        "no custom tool matches: {out}"
    );
    let grep = &out["tool_schemas"]["LOCAL_GREP"];
    assert_eq!(grep["tool_slug"], "LOCAL_GREP");
    assert_eq!(grep["toolkit"], "custom");
    assert_eq!(
        grep["input_schema"]["properties"]["pattern"]["type"],
        "string"
    );
    assert_eq!(
        out["tool_schemas"]["LOCAL_NOTES_ADD_NOTE"]["toolkit"],
        "notes"
    );

    // Not sent: not found.
    let (_, out) = send(
        &s,
        &key,
        &format!("{SESSIONS}/{sid}/search"),
        json!({"queries": [{"use_case": "grep the repository for a pattern"}]}),
    )
    .await;
    assert!(!out.to_string().contains("LOCAL_"), "{out}");
}

#[tokio::test]
async fn composio_search_tools_includes_them_too() {
    let (origin, _) = provider().await;
    let (s, key) = start(catalog(&origin)).await;
    let sid = session(&s, &key, json!({"user_id": "u1", "toolkits": ["keyed"]})).await;
    let body = json!({
        "tool_slug": "COMPOSIO_SEARCH_TOOLS",
        "arguments": {"queries": [{"use_case": "grep the repository for a pattern"}]},
        "experimental": {"custom_tools": [{
            "slug": "GREP", "name": "Grep",
            "description": "Search files in the repository for a pattern.",
            "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}}}}]},
    });
    let (st, out) = send(&s, &key, &format!("{SESSIONS}/{sid}/execute"), body).await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(
        out["data"]["results"][0]["primary_tool_slugs"][0], "LOCAL_GREP",
        "{out}"
    );
    assert_eq!(
        out["data"]["tool_schemas"]["LOCAL_GREP"]["toolkit"],
        "custom"
    );
}
