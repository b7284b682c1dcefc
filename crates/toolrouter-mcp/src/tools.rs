//! The one place a session's tool becomes an MCP tool, and a tool result an MCP result.
//!
//! Names: MCP clients commonly limit tool names to 64 characters of `[A-Za-z0-9_-]` (model
//! providers do), so a slug that fits is its own name and a longer (or oddly spelled) one gets a
//! stable shortened name: a prefix plus a hash of the whole slug, the same on every replica.
//! Annotations come from the catalog's hint tags (`readOnlyHint`, `destructiveHint`,
//! `idempotentHint`, `openWorldHint`). Results: `structuredContent` is the REST execute answer
//! (`successful`, `data`, `error`, `log_id`) and the text content is the same JSON, for clients
//! that read only text; a tool that failed is `isError: true`, never a protocol error.

use std::sync::Arc;

use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use toolrouter_app::CatalogTool;
use toolrouter_app::execute::ToolResult;

/// Longest tool name handed to MCP clients.
pub(crate) const MAX_NAME: usize = 64;
/// Length of the hash suffix of shortened names (`_` + 8 hex digits).
const SUFFIX: usize = 9;

fn clean(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// FNV-1a: small, stable across processes and versions (unlike std's hasher).
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The MCP name of a tool slug.
pub(crate) fn mcp_name(slug: &str) -> String {
    if slug.len() <= MAX_NAME && clean(slug) {
        return slug.to_owned();
    }
    let prefix: String = slug
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_NAME - SUFFIX)
        .collect();
    format!("{prefix}_{:08x}", fnv1a(slug))
}

/// Whether `name` could be a shortened name (then the caller looks the slug up).
pub(crate) fn is_shortened(name: &str) -> bool {
    name.len() > SUFFIX
        && name.as_bytes()[name.len() - SUFFIX] == b'_'
        && name[name.len() - SUFFIX + 1..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
}

fn has(tags: &[String], tag: &str) -> bool {
    tags.iter().any(|t| t == tag)
}

/// MCP annotations from the catalog's hint tags. Only what the tags say is stated; a read-only
/// tool is never destructive.
pub(crate) fn annotations(title: &str, tags: &[String]) -> ToolAnnotations {
    let read_only = has(tags, "readOnlyHint");
    ToolAnnotations::with_title(title)
        .read_only(read_only)
        .destructive(!read_only && has(tags, "destructiveHint"))
        .idempotent(has(tags, "idempotentHint"))
        .open_world(has(tags, "openWorldHint"))
}

/// A session tool as MCP lists it. The input schema is always an object schema, as MCP requires.
pub(crate) fn mcp_tool(entry: &CatalogTool) -> Tool {
    let def = entry.tool();
    let mut schema: JsonObject = match def.input.value() {
        Value::Object(m) => m.clone(),
        _ => JsonObject::new(),
    };
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        schema.insert("type".to_owned(), json!("object"));
    }
    Tool::new(
        mcp_name(&def.slug),
        def.description.clone(),
        Arc::new(schema),
    )
    .with_title(def.name.clone())
    .with_annotations(annotations(&def.name, &def.tags))
}

/// A tool that ran (successfully or not) as an MCP result.
pub(crate) fn call_result(r: ToolResult) -> CallToolResult {
    let data = match r.data {
        Value::Object(_) => r.data,
        Value::Null => json!({}),
        other => json!({ "response_data": other }),
    };
    let body = json!({
        "successful": r.successful,
        "data": data,
        "error": r.error,
        "log_id": r.log_id,
    });
    if r.successful {
        CallToolResult::structured(body)
    } else {
        CallToolResult::structured_error(body)
    }
}

/// A refusal the agent can act on (tool not enabled, approval denied, …) as an MCP error result.
pub(crate) fn refused(message: &str, fix: Option<&str>) -> CallToolResult {
    CallToolResult::structured_error(json!({
        "successful": false,
        "data": {},
        "error": match fix {
            Some(fix) => format!("{message} {fix}"),
            None => message.to_owned(),
        },
        "log_id": Value::Null,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_clients_and_stay_stable() {
        assert_eq!(mcp_name("GITHUB_CREATE_ISSUE"), "GITHUB_CREATE_ISSUE");
        let long = format!("TOOLKIT_{}", "VERY_LONG_ACTION_NAME_".repeat(5));
        let short = mcp_name(&long);
        assert_eq!(short.len(), MAX_NAME);
        assert!(clean(&short), "{short}");
        assert!(short.starts_with("TOOLKIT_VERY_LONG"), "{short}");
        assert_eq!(short, mcp_name(&long), "the same slug gets the same name");
        let other = format!("{long}X");
        assert_ne!(
            mcp_name(&other),
            short,
            "different slugs differ in the hash"
        );
        assert!(is_shortened(&short));
        assert!(!is_shortened("GITHUB_CREATE_ISSUE"));
        let odd = mcp_name("my.tool name");
        assert!(clean(&odd), "{odd}");
        assert!(is_shortened(&odd));
    }

    #[test]
    fn annotations_follow_hint_tags() {
        let tags = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let a = annotations(
            "List",
            &tags(&["readOnlyHint", "idempotentHint", "openWorldHint", "users"]),
        );
        assert_eq!(
            (
                a.read_only_hint,
                a.destructive_hint,
                a.idempotent_hint,
                a.open_world_hint
            ),
            (Some(true), Some(false), Some(true), Some(true))
        );
        assert_eq!(a.title.as_deref(), Some("List"));
        let a = annotations("Delete", &tags(&["destructiveHint", "openWorldHint"]));
        assert_eq!(
            (a.read_only_hint, a.destructive_hint, a.idempotent_hint),
            (Some(false), Some(true), Some(false))
        );
    }

    #[test]
    fn results_keep_data_and_failures_are_error_results() {
        let ok = call_result(ToolResult {
            data: json!({"id": 7}),
            error: None,
            successful: true,
            log_id: "log_1".into(),
            account: None,
        });
        assert_eq!(ok.is_error, Some(false));
        let structured = ok.structured_content.clone().unwrap();
        assert_eq!(structured["data"], json!({"id": 7}));
        assert_eq!(structured["log_id"], "log_1");
        let text = ok.content[0].as_text().unwrap().text.clone();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), structured);

        let failed = call_result(ToolResult {
            data: json!([1, 2]),
            error: Some("upstream said no".into()),
            successful: false,
            log_id: "log_2".into(),
            account: None,
        });
        assert_eq!(failed.is_error, Some(true));
        let s = failed.structured_content.unwrap();
        assert_eq!(s["data"], json!({"response_data": [1, 2]}));
        assert_eq!(s["error"], "upstream said no");
    }
}
