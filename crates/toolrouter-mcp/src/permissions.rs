//! Approvals (`experimental.permissions`) on the MCP endpoint, as pure decisions: what a call
//! needs, the question put to the user, what their answer means, and what happens when nobody
//! can be asked.
//!
//! Whether a tool call needs the user's approval is core's `SessionConfig::approval_need` (the
//! session's `require_approval` settings and `experimental.permissions`), the same rule the REST
//! execute applies. The server asks through MCP elicitation (form
//! mode, the contract's question: `decision` = `approve` | `always_approve` | `deny`) when the
//! client can answer: it holds an MCP session on this replica and declared the `elicitation`
//! capability. Otherwise `experimental.no_elicitation_support_fallback` decides, and without
//! it the call is refused (deny is the safe reading of "could not ask"). An approval is
//! remembered for the rest of the MCP session when the rule asks once (`ask_once`,
//! `ask_once_per_session`) or the user chose `always_approve`. Meta tools are the router's own
//! and are not gated themselves, but `COMPOSIO_MULTI_EXECUTE_TOOL` is gated by the app tools in
//! its batch (each asked about in turn; one refusal and none of them runs), since that is how
//! an agent that found a tool with search usually runs it. Tools that code in the workbench
//! runs are not gated here.

use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema};
use serde_json::{Value, json};
use toolrouter_core::session::{ElicitationFallback, SessionConfig};

/// Whether a call that needs approval runs when the user cannot be asked (`Err`: the reason it
/// does not, for the agent).
pub(crate) fn fallback(config: &SessionConfig, slug: &str) -> Result<(), String> {
    match config.experimental.no_elicitation_support_fallback {
        Some(ElicitationFallback::Allow) => Ok(()),
        Some(ElicitationFallback::Deny) | None => Err(format!(
            "Tool `{slug}` needs the user's approval (experimental.permissions), and this MCP \
             client cannot be asked for it (it did not declare the `elicitation` capability, or \
             holds no MCP session on this server). The integrator can set \
             `experimental.no_elicitation_support_fallback` to `allow`, or allow the tool in \
             `experimental.permissions.overrides`."
        )),
    }
}

/// Longest rendering of the arguments shown in the question.
const ARGUMENTS_SHOWN: usize = 400;

/// The question put to the user: the tool, its arguments (shortened) and the three answers.
pub(crate) fn question(slug: &str, arguments: &Value) -> ElicitRequestParams {
    let mut shown = arguments.to_string();
    if shown.len() > ARGUMENTS_SHOWN {
        let mut end = ARGUMENTS_SHOWN;
        while !shown.is_char_boundary(end) {
            end -= 1;
        }
        shown.truncate(end);
        shown.push('…');
    }
    let schema: ElicitationSchema = serde_json::from_value(json!({
        "type": "object",
        "properties": {"decision": {
            "type": "string",
            "title": "Decision",
            "description": "approve: run it this once; always_approve: run it now and without \
                            asking again in this MCP session; deny: do not run it",
            "enum": ["approve", "always_approve", "deny"],
        }},
        "required": ["decision"],
    }))
    .expect("a valid elicitation schema");
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!("Allow {slug} to run with arguments {shown}?"),
        requested_schema: schema,
    }
}

/// What the user's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Run it; `remember`: without asking again in this MCP session.
    Run { remember: bool },
    /// Do not run it, with the reason for the agent.
    Refuse(String),
}

/// The user's answer to [`question`], for a rule that asks `once` or every call.
pub(crate) fn answer(result: &ElicitResult, slug: &str, once: bool) -> Answer {
    let declined = |how: &str| {
        Answer::Refuse(format!(
            "The user {how} running tool `{slug}` (experimental.permissions); it did not run."
        ))
    };
    match result.action {
        ElicitationAction::Accept => {
            let decision = result
                .content
                .as_ref()
                .and_then(|c| c.get("decision"))
                .and_then(Value::as_str);
            match decision {
                Some("approve") => Answer::Run { remember: once },
                Some("always_approve") => Answer::Run { remember: true },
                Some("deny") => declined("denied"),
                // An accepted form without a known decision approves nothing.
                _ => declined("did not approve"),
            }
        }
        ElicitationAction::Decline => declined("declined"),
        _ => declined("cancelled the question about"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use toolrouter_core::session::{PermissionDefault, PermissionOverride, Permissions};

    use super::*;

    fn config(
        default: Option<PermissionDefault>,
        overrides: &[(&str, PermissionOverride)],
        fallback: Option<ElicitationFallback>,
    ) -> SessionConfig {
        let mut c = SessionConfig::create("u1", &Default::default()).unwrap();
        c.experimental.permissions = default.map(|default| Permissions {
            default,
            overrides: overrides
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect::<BTreeMap<_, _>>(),
        });
        c.experimental.no_elicitation_support_fallback = fallback;
        c
    }

    #[test]
    fn without_a_way_to_ask_the_fallback_decides() {
        use ElicitationFallback as F;
        let c = config(Some(PermissionDefault::AskEveryCall), &[], None);
        let why = fallback(&c, "GMAIL_SEND_EMAIL").unwrap_err();
        assert!(why.contains("no_elicitation_support_fallback"), "{why}");
        let c = config(Some(PermissionDefault::AskEveryCall), &[], Some(F::Deny));
        assert!(fallback(&c, "X_Y").is_err());
        let c = config(Some(PermissionDefault::AskEveryCall), &[], Some(F::Allow));
        assert_eq!(fallback(&c, "X_Y"), Ok(()));
    }

    #[test]
    fn the_question_names_the_tool_and_offers_three_answers() {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = question("GMAIL_SEND_EMAIL", &json!({"to": "a@example.com"}))
        else {
            panic!("form mode");
        };
        assert_eq!(
            message,
            r#"Allow GMAIL_SEND_EMAIL to run with arguments {"to":"a@example.com"}?"#
        );
        let schema = serde_json::to_value(&requested_schema).unwrap();
        assert_eq!(
            schema["properties"]["decision"]["enum"],
            json!(["approve", "always_approve", "deny"])
        );
        assert_eq!(schema["required"], json!(["decision"]));
        let long = question("X_Y", &json!({"text": "é".repeat(1000)}));
        let ElicitRequestParams::FormElicitationParams { message, .. } = long else {
            panic!("form mode");
        };
        assert!(message.len() < 600 && message.ends_with("…?"), "{message}");
    }

    #[test]
    fn answers() {
        let accept = |decision: &str| {
            ElicitResult::new(ElicitationAction::Accept).with_content(json!({"decision": decision}))
        };
        let run = |remember| Answer::Run { remember };
        assert_eq!(answer(&accept("approve"), "X_Y", false), run(false));
        assert_eq!(answer(&accept("approve"), "X_Y", true), run(true));
        assert_eq!(answer(&accept("always_approve"), "X_Y", false), run(true));
        for refused in [
            accept("deny"),
            accept("maybe"),
            ElicitResult::new(ElicitationAction::Accept),
            ElicitResult::new(ElicitationAction::Decline),
            ElicitResult::new(ElicitationAction::Cancel),
        ] {
            let Answer::Refuse(why) = answer(&refused, "X_Y", true) else {
                panic!("{refused:?} must refuse");
            };
            assert!(
                why.contains("`X_Y`") && why.contains("did not run"),
                "{why}"
            );
        }
    }
}
