//! Approvals on the REST execute: a session app tool whose call needs the user's approval
//! (`require_approval`, `experimental.permissions`; the rules are core's
//! `SessionConfig::approval_need`) is answered `input_required` with one form question and an
//! opaque `request_state`, and runs when the same call comes back with the user's answer
//! (CONTRACT.md §3.8, the Python SDK's `ToolInputRequiredError` round trip).
//!
//! The state is stateless and signed (`toolrouter_vault::Purpose::ApprovalState`): it binds the
//! session, the tool and a hash of the arguments, and expires, so any replica can check an
//! answer, and an answer cannot approve another call, other arguments, or a call in another
//! session. "Always approve" (and any approval under an ask-once rule) is recorded as an
//! `always_allow` override in the session's `experimental.permissions`, a config change like any
//! other (new `config_version`, visible in the config history).
//!
//! Every other way to run an app tool (MULTI_EXECUTE_TOOL, code in the workbench, MCP without
//! an answer) cannot ask here and is refused by `run_session_tool` unless the caller vouches
//! that the user approved.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use toolrouter_core::ErrorCode;
use toolrouter_core::session::{
    ApprovalDecision, ApprovalNeed, MetaTool, PermissionDefault, PermissionOverride, Permissions,
    Session, ToolInfo,
};
use toolrouter_store::SessionUpdate;
use toolrouter_vault::Purpose;

use crate::execute::ToolResult;
use crate::execution_log::redact;
use crate::session_exec::SessionExecution;
use crate::{App, AppError, AppResult, Caller};

/// How long an approval question may be answered.
const STATE_TTL: Duration = Duration::from_secs(15 * 60);
/// The id of the one question an approval asks.
pub const APPROVAL_QUESTION: &str = "approval";
/// Characters of the arguments shown in the question.
const ARGUMENTS_SHOWN: usize = 400;

/// What the user did with a question (an MCP elicitation result's `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerAction {
    Accept,
    Decline,
    Cancel,
}

/// The user's answer to one question.
#[derive(Debug, Clone, PartialEq)]
pub struct UserAnswer {
    pub action: AnswerAction,
    /// With `accept`: the form's fields (`{"decision": …}`).
    pub content: Option<Value>,
}

/// The answers a call comes back with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApprovalAnswer {
    pub responses: BTreeMap<String, UserAnswer>,
    pub request_state: Option<String>,
}

/// A question for the user, in the shape of an MCP form elicitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: String,
    pub message: String,
    pub requested_schema: Value,
}

/// What an execute call came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// It ran (or was refused) and has a result.
    Ran(Box<ToolResult>),
    /// Nothing ran: the user must answer `questions`, and the call come back with the answers
    /// and `request_state`.
    InputRequired {
        questions: Vec<Question>,
        request_state: String,
    },
}

/// The form an approval asks the user to fill.
pub fn approval_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"decision": {
            "type": "string",
            "title": "Decision",
            "enum": ApprovalDecision::CHOICES,
            "description": "approve: run this call; always_approve: run it and don't ask again \
                            for this tool in this session; deny: don't run it",
        }},
        "required": ["decision"],
    })
}

/// The app tool calls (slug, arguments) of a call that approvals apply to: the tool itself,
/// each tool of a `COMPOSIO_MULTI_EXECUTE_TOOL` batch, or none for other meta tools. Malformed
/// batch items are left to the meta tool to reject.
pub fn gated_calls(slug: &str, arguments: &Value) -> Vec<(String, Value)> {
    match MetaTool::parse(slug.trim()) {
        None => vec![(slug.trim().to_owned(), arguments.clone())],
        Some(MetaTool::MultiExecuteTool) => arguments
            .get("tools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let tool = item.get("tool_slug")?.as_str()?.trim();
                let args = item.get("arguments").cloned().unwrap_or_else(|| json!({}));
                (!tool.is_empty() && MetaTool::parse(tool).is_none())
                    .then(|| (tool.to_owned(), args))
            })
            .collect(),
        Some(_) => Vec::new(),
    }
}

/// `arguments` as shown to the user: JSON, at most [`ARGUMENTS_SHOWN`] characters.
fn shown(arguments: &Value) -> String {
    let text = arguments.to_string();
    if text.chars().count() > ARGUMENTS_SHOWN {
        text.chars().take(ARGUMENTS_SHOWN).collect::<String>() + "…"
    } else {
        text
    }
}

/// The question for a call of `slug` that runs `calls` (tool, arguments with secret-looking
/// values already redacted): the tool itself, or a batch's tools.
pub fn approval_question(slug: &str, calls: &[(String, Value)]) -> Question {
    let message = match calls {
        [(tool, args)] if tool.eq_ignore_ascii_case(slug) => {
            format!("Allow {tool} to run with arguments {}?", shown(args))
        }
        _ => {
            let each: Vec<String> = calls
                .iter()
                .map(|(tool, args)| format!("{tool} with arguments {}", shown(args)))
                .collect();
            format!("Allow {slug} to run {}?", each.join("; "))
        }
    };
    Question {
        id: APPROVAL_QUESTION.to_owned(),
        message,
        requested_schema: approval_schema(),
    }
}

/// The user's decision in `answer` (a declined or cancelled form, or a missing answer, denies).
pub fn decision_of(answer: Option<&UserAnswer>) -> Result<ApprovalDecision, AppError> {
    let Some(answer) = answer else {
        return Err(AppError::new(
            ErrorCode::ValidationFailed,
            format!("`input_responses`: no answer to the question `{APPROVAL_QUESTION}`"),
        )
        .with_fix(format!(
            "Send {{\"{APPROVAL_QUESTION}\": {{\"action\": \"accept\", \"content\": {{\"decision\": \"approve\"}}}}}} \
             with the `request_state` you were given."
        )));
    };
    if answer.action != AnswerAction::Accept {
        return Ok(ApprovalDecision::Deny);
    }
    let given = answer
        .content
        .as_ref()
        .and_then(|c| c.get("decision"))
        .and_then(Value::as_str);
    given.and_then(ApprovalDecision::parse).ok_or_else(|| {
        AppError::new(
            ErrorCode::ValidationFailed,
            format!(
                "`input_responses.{APPROVAL_QUESTION}.content.decision`: must be one of {}, got {}",
                ApprovalDecision::CHOICES.join(", "),
                given.map_or("nothing".to_owned(), |g| format!("`{g}`"))
            ),
        )
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn arguments_hash(arguments: &Value) -> String {
    let digest = Sha256::digest(arguments.to_string().as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

fn state_message(session: &str, slug: &str, arguments: &Value, expires: u64) -> String {
    format!(
        "{session}\n{}\n{}\n{expires}",
        slug.to_ascii_uppercase(),
        arguments_hash(arguments)
    )
}

fn bad_state(why: &str) -> AppError {
    AppError::new(
        ErrorCode::ValidationFailed,
        format!("`request_state`: {why}"),
    )
    .with_fix(
        "Send the call again without `input_responses` to get a new question, and answer it \
         with the `request_state` that comes with it, unchanged.",
    )
}

/// What asking for approval came to.
pub(crate) enum Asked {
    /// The session asks nothing for this call.
    NotNeeded,
    /// The user approved it: run it.
    Run,
    /// Answer this instead of running (a question, or the user's refusal).
    Stop(Outcome),
}

impl App {
    /// The approval step of a REST execute of an app tool: nothing when the session asks
    /// nothing; without `answer`, the question; with it, the user's decision (recorded when it
    /// covers later calls too).
    pub(crate) async fn ask_approval(
        &self,
        caller: &Caller,
        session: &Session,
        req: &SessionExecution,
        answer: Option<ApprovalAnswer>,
    ) -> AppResult<Asked> {
        // Most sessions ask nothing: no per-call work (nor a copy of the arguments) for them.
        if !session.config.may_ask_approval() {
            return Ok(Asked::NotNeeded);
        }
        let sid = session.id.to_string();
        let slug = req.tool_slug.trim().to_ascii_uppercase();
        let null = Value::Object(Default::default());
        let arguments = if req.arguments.is_null() {
            &null
        } else {
            &req.arguments
        };
        // The calls the user is asked about, with whether one approval covers the session.
        let asked: Vec<(String, Value, bool)> = gated_calls(&slug, arguments)
            .into_iter()
            .filter_map(|(tool, args)| match self.approval_need_of(session, &tool) {
                ApprovalNeed::Ask { once } => Some((tool.to_ascii_uppercase(), args, once)),
                // Refusals and plain runs are `run_session_tool`'s.
                ApprovalNeed::None | ApprovalNeed::Deny(_) => None,
            })
            .collect();
        if asked.is_empty() {
            return Ok(Asked::NotNeeded);
        }
        let Some(answer) = answer else {
            let shown: Vec<(String, Value)> = asked
                .iter()
                .map(|(tool, args, _)| {
                    let known = self.catalog().tool(tool);
                    let schema = known.as_ref().map(|t| t.tool().input.value());
                    (tool.clone(), redact(args, schema))
                })
                .collect();
            return Ok(Asked::Stop(Outcome::InputRequired {
                questions: vec![approval_question(&slug, &shown)],
                request_state: self.approval_state(&sid, &slug, arguments),
            }));
        };
        self.check_approval_state(answer.request_state.as_deref(), &sid, &slug, arguments)?;
        let decision = decision_of(answer.responses.get(APPROVAL_QUESTION))?;
        let remembered: Vec<&str> = match decision {
            ApprovalDecision::Deny => {
                let started = std::time::Instant::now();
                let what = if asked.len() == 1 && asked[0].0 == slug {
                    slug.clone()
                } else {
                    let tools: Vec<&str> = asked.iter().map(|(t, _, _)| t.as_str()).collect();
                    format!("{slug} ({}); nothing in it ran", tools.join(", "))
                };
                let result = crate::session_exec::failed(format!(
                    "The user did not approve running {what}."
                ));
                let known = self.catalog().tool(&slug);
                let schema = known.as_ref().map(|t| t.tool().input.value());
                self.log_session_run(
                    caller,
                    &sid,
                    &session.config,
                    &slug,
                    arguments,
                    schema,
                    &result,
                    started,
                );
                return Ok(Asked::Stop(Outcome::Ran(Box::new(result))));
            }
            ApprovalDecision::AlwaysApprove => asked.iter().map(|(t, _, _)| t.as_str()).collect(),
            ApprovalDecision::Approve => asked
                .iter()
                .filter(|(_, _, once)| *once)
                .map(|(t, _, _)| t.as_str())
                .collect(),
        };
        if !remembered.is_empty()
            && let Err(e) = self.record_approvals(caller, session, &remembered).await
        {
            // The approval still holds for this call.
            tracing::warn!(session = %sid, tool = %slug, error = %e.message, "approval not recorded");
        }
        Ok(Asked::Run)
    }

    /// A signed `request_state` for approving `slug` with `arguments` in `session`.
    pub(crate) fn approval_state(&self, session: &str, slug: &str, arguments: &Value) -> String {
        let expires = unix_now() + STATE_TTL.as_secs();
        let message = state_message(session, slug, arguments, expires);
        let signature = self
            .inner
            .keyring
            .sign_for(Purpose::ApprovalState, message.as_bytes());
        format!("{expires}.{signature}")
    }

    /// Checks that `state` was issued for this very call and has not expired.
    pub(crate) fn check_approval_state(
        &self,
        state: Option<&str>,
        session: &str,
        slug: &str,
        arguments: &Value,
    ) -> AppResult<()> {
        let state = state
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad_state("required with `input_responses`"))?;
        let (expires, signature) = state
            .split_once('.')
            .ok_or_else(|| bad_state("not a state this server issued"))?;
        let expires: u64 = expires
            .parse()
            .map_err(|_| bad_state("not a state this server issued"))?;
        let message = state_message(session, slug, arguments, expires);
        if !self
            .inner
            .keyring
            .verify_for(Purpose::ApprovalState, message.as_bytes(), signature)
        {
            return Err(bad_state(
                "it was issued for another call (tool, arguments or session differ)",
            ));
        }
        if unix_now() > expires {
            return Err(bad_state("the question expired"));
        }
        Ok(())
    }

    /// What `session` needs before its app tool `slug` runs (`None` for tools the session does
    /// not allow: the run refuses those itself).
    pub fn approval_need_of(&self, session: &Session, slug: &str) -> ApprovalNeed {
        match self.session_tool(&session.config, slug) {
            Ok(tool) => session.config.approval_need(ToolInfo {
                toolkit: &tool.toolkit().slug,
                slug: &tool.tool().slug,
                tags: &tool.tool().tags,
            }),
            Err(_) => ApprovalNeed::None,
        }
    }

    /// Records that the user approved `slugs` for the rest of the session: `always_allow`
    /// overrides in `experimental.permissions` (created with `allow_all`, which asks nothing
    /// more than no permissions did).
    pub(crate) async fn record_approvals(
        &self,
        caller: &Caller,
        session: &Session,
        slugs: &[&str],
    ) -> AppResult<()> {
        let sid = session.id.to_string();
        let mut current = session.clone();
        for _ in 0..crate::session::UPDATE_ATTEMPTS {
            let mut config = current.config.clone();
            let permissions = config
                .experimental
                .permissions
                .get_or_insert_with(|| Permissions {
                    default: PermissionDefault::AllowAll,
                    overrides: BTreeMap::new(),
                });
            for slug in slugs {
                permissions.overrides.insert(
                    slug.trim().to_ascii_uppercase(),
                    PermissionOverride::AlwaysAllow,
                );
            }
            match self.write_config(caller, &current, &config).await? {
                SessionUpdate::Updated(_) => {
                    self.session_changed(&current.id);
                    return Ok(());
                }
                SessionUpdate::NotFound => return Err(crate::session::session_not_found(&sid)),
                SessionUpdate::Conflict { .. } => {
                    current = self.load_session(caller, &sid).await?;
                }
            }
        }
        Err(AppError::new(
            ErrorCode::Conflict,
            "The session changed too often to record the approval; it applies to this call only.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(decision: &str) -> UserAnswer {
        UserAnswer {
            action: AnswerAction::Accept,
            content: Some(json!({ "decision": decision })),
        }
    }

    #[test]
    fn decisions_come_from_accepted_forms_only() {
        assert_eq!(
            decision_of(Some(&accept("approve"))).unwrap(),
            ApprovalDecision::Approve
        );
        assert_eq!(
            decision_of(Some(&accept("always_approve"))).unwrap(),
            ApprovalDecision::AlwaysApprove
        );
        for action in [AnswerAction::Decline, AnswerAction::Cancel] {
            let answer = UserAnswer {
                action,
                content: Some(json!({"decision": "approve"})),
            };
            assert_eq!(decision_of(Some(&answer)).unwrap(), ApprovalDecision::Deny);
        }
        let e = decision_of(Some(&accept("sure"))).unwrap_err();
        assert!(e.message.contains("got `sure`"), "{}", e.message);
        let e = decision_of(None).unwrap_err();
        assert!(e.message.contains("no answer"), "{}", e.message);
    }

    #[test]
    fn batches_are_gated_by_their_tools() {
        let args = json!({"name": "x"});
        assert_eq!(
            gated_calls("ECHOER_CREATE_ITEM", &args),
            [("ECHOER_CREATE_ITEM".to_owned(), args.clone())]
        );
        assert_eq!(
            gated_calls("COMPOSIO_SEARCH_TOOLS", &json!({"queries": []})),
            []
        );
        let batch = json!({"tools": [
            {"tool_slug": "A_B", "arguments": {"n": 1}},
            {"tool_slug": " C_D "},
            {"tool_slug": "COMPOSIO_SEARCH_TOOLS"},
            {"arguments": {}},
            "junk"
        ]});
        assert_eq!(
            gated_calls("COMPOSIO_MULTI_EXECUTE_TOOL", &batch),
            [
                ("A_B".to_owned(), json!({"n": 1})),
                ("C_D".to_owned(), json!({}))
            ]
        );
        assert_eq!(gated_calls("COMPOSIO_MULTI_EXECUTE_TOOL", &json!({})), []);
    }

    #[test]
    fn questions_show_redacted_arguments_and_the_form() {
        let args = redact(&json!({"to": "a@b.c", "api_key": "sk-secret-123"}), None);
        let q = approval_question("GMAIL_SEND_EMAIL", &[("GMAIL_SEND_EMAIL".into(), args)]);
        assert_eq!(q.id, "approval");
        assert!(q.message.contains("GMAIL_SEND_EMAIL"), "{}", q.message);
        assert!(q.message.contains("a@b.c"), "{}", q.message);
        assert!(!q.message.contains("sk-secret-123"), "{}", q.message);
        assert_eq!(
            q.requested_schema["properties"]["decision"]["enum"],
            json!(["approve", "always_approve", "deny"])
        );
        let batch = approval_question(
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            &[
                ("A_B".into(), json!({"n": 1})),
                ("C_D".into(), json!({"t": "é".repeat(900)})),
            ],
        );
        assert!(
            batch.message.starts_with(
                r#"Allow COMPOSIO_MULTI_EXECUTE_TOOL to run A_B with arguments {"n":1}; C_D with"#
            ),
            "{}",
            batch.message
        );
        assert!(batch.message.ends_with("…?"), "{}", batch.message);
    }
}
