//! Whether a session's app tool call needs the user's approval first: one pure decision that the
//! REST execute (the `input_required` round trip) and the MCP endpoint (elicitation) share, so
//! no transport can skip an approval another one asks for.
//!
//! The rules, in order, for a tool `S` of toolkit `T` with annotation tags `G`:
//! 1. `experimental.permissions.overrides[S]` (or `S:<anything>`): `always_allow` runs,
//!    `always_deny` refuses, `ask_once` asks until the user approves once, `ask_always` asks
//!    every call. The most specific setting wins, and "always approve" answers are recorded here.
//! 2. `require_approval` on `toolkits` (`T`), on `tools.T` (`S`) or on `tags` (any of `G`):
//!    asks every call.
//! 3. `experimental.permissions.default`: `ask_every_call`, `ask_once_per_session`, or
//!    `allow_all`.
//!
//! Meta tools are the router's own and are never gated; callers only ask this of app tools.

use super::filter::has_tag;
use super::{PermissionDefault, PermissionOverride, SessionConfig, ToolInfo};

/// What must happen before a call runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalNeed {
    /// Nothing: run it.
    None,
    /// Ask the user. `once`: one approval covers the rest of the session (it is recorded as an
    /// `always_allow` override).
    Ask { once: bool },
    /// Refused by the session's permissions, with the reason.
    Deny(String),
}

/// The user's answer to an approval question (`decision` in the form the user fills).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalDecision {
    /// Run this call.
    Approve,
    /// Run this call and the tool's later calls in the session without asking.
    AlwaysApprove,
    /// Do not run it (also a declined or cancelled form).
    Deny,
}

impl ApprovalDecision {
    /// The values of the form's `decision` field.
    pub const CHOICES: [&'static str; 3] = ["approve", "always_approve", "deny"];

    pub fn parse(s: &str) -> Option<ApprovalDecision> {
        match s.trim() {
            "approve" => Some(ApprovalDecision::Approve),
            "always_approve" => Some(ApprovalDecision::AlwaysApprove),
            "deny" => Some(ApprovalDecision::Deny),
            _ => None,
        }
    }
}

/// The override key a setting for `slug` is stored under, if any: `slug` itself or
/// `slug:<account>` (compared case-insensitively).
fn override_for(config: &SessionConfig, slug: &str) -> Option<PermissionOverride> {
    let p = config.experimental.permissions.as_ref()?;
    p.overrides
        .iter()
        .find(|(k, _)| {
            let tool = k.split_once(':').map_or(k.as_str(), |(t, _)| t);
            tool.eq_ignore_ascii_case(slug)
        })
        .map(|(_, v)| *v)
}

impl SessionConfig {
    /// Whether any call of this session could need approval (a cheap check that lets the
    /// execute path skip the per-call decision for the usual session that sets none).
    pub fn may_ask_approval(&self) -> bool {
        self.experimental.permissions.is_some()
            || self
                .toolkits
                .as_ref()
                .is_some_and(|t| t.require_approval.is_some())
            || self.tools.values().any(|t| t.require_approval.is_some())
            || self
                .tags
                .as_ref()
                .is_some_and(|t| t.require_approval.is_some())
    }

    /// Whether `tool` needs the user's approval before it runs (the module's rules).
    pub fn approval_need(&self, tool: ToolInfo<'_>) -> ApprovalNeed {
        match override_for(self, tool.slug) {
            Some(PermissionOverride::AlwaysAllow) => return ApprovalNeed::None,
            Some(PermissionOverride::AlwaysDeny) => {
                return ApprovalNeed::Deny(format!(
                    "Tool `{}` is denied by this session's permissions (`always_deny`).",
                    tool.slug
                ));
            }
            Some(PermissionOverride::AskOnce) => return ApprovalNeed::Ask { once: true },
            Some(PermissionOverride::AskAlways) => return ApprovalNeed::Ask { once: false },
            None => {}
        }
        let named = |list: &Option<Vec<String>>, name: &str| {
            list.as_ref()
                .is_some_and(|l| l.iter().any(|s| s.eq_ignore_ascii_case(name)))
        };
        let by_toolkit = self
            .toolkits
            .as_ref()
            .is_some_and(|t| named(&t.require_approval, tool.toolkit));
        let by_tool = self
            .tools
            .iter()
            .filter(|(tk, _)| tk.eq_ignore_ascii_case(tool.toolkit))
            .any(|(_, t)| named(&t.require_approval, tool.slug));
        let by_tag = self
            .tags
            .as_ref()
            .and_then(|t| t.require_approval.as_ref())
            .is_some_and(|want| want.iter().any(|t| has_tag(tool.tags, *t)));
        if by_toolkit || by_tool || by_tag {
            return ApprovalNeed::Ask { once: false };
        }
        match self.experimental.permissions.as_ref().map(|p| p.default) {
            Some(PermissionDefault::AskEveryCall) => ApprovalNeed::Ask { once: false },
            Some(PermissionDefault::AskOncePerSession) => ApprovalNeed::Ask { once: true },
            Some(PermissionDefault::AllowAll) | None => ApprovalNeed::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::session::{Permissions, Tag, TagFilter, ToolkitTools, Toolkits};

    fn tool<'a>(toolkit: &'a str, slug: &'a str, tags: &'a [String]) -> ToolInfo<'a> {
        ToolInfo {
            toolkit,
            slug,
            tags,
        }
    }

    fn config() -> SessionConfig {
        SessionConfig::create("u1", &Default::default()).unwrap()
    }

    #[test]
    fn nothing_configured_runs_everything() {
        assert!(!config().may_ask_approval());
        assert_eq!(
            config().approval_need(tool("gmail", "GMAIL_SEND_EMAIL", &[])),
            ApprovalNeed::None
        );
    }

    #[test]
    fn require_approval_asks_by_toolkit_tool_or_tag() {
        let destructive = ["destructiveHint".to_owned()];
        let mut c = config();
        c.toolkits = Some(Toolkits {
            filter: None,
            require_approval: Some(vec!["gmail".into()]),
        });
        c.tools.insert(
            "github".into(),
            ToolkitTools {
                selection: None,
                require_approval: Some(vec!["GITHUB_DELETE_REPO".into()]),
            },
        );
        c.tags = Some(TagFilter {
            require_approval: Some(vec![Tag::parse("destructiveHint").unwrap()]),
            ..TagFilter::default()
        });
        assert!(c.may_ask_approval());
        let ask = ApprovalNeed::Ask { once: false };
        assert_eq!(c.approval_need(tool("gmail", "GMAIL_FETCH", &[])), ask);
        assert_eq!(
            c.approval_need(tool("github", "github_delete_repo", &[])),
            ask
        );
        assert_eq!(
            c.approval_need(tool("slack", "SLACK_DELETE", &destructive)),
            ask
        );
        assert_eq!(
            c.approval_need(tool("github", "GITHUB_GET_REPO", &[])),
            ApprovalNeed::None
        );
    }

    #[test]
    fn overrides_win_then_the_default_applies() {
        let mut c = config();
        c.toolkits = Some(Toolkits {
            filter: None,
            require_approval: Some(vec!["gmail".into()]),
        });
        c.experimental.permissions = Some(Permissions {
            default: PermissionDefault::AskOncePerSession,
            overrides: BTreeMap::from([
                ("GMAIL_FETCH".to_owned(), PermissionOverride::AlwaysAllow),
                (
                    "GMAIL_TRASH:ca_1".to_owned(),
                    PermissionOverride::AlwaysDeny,
                ),
                ("GITHUB_STAR".to_owned(), PermissionOverride::AskAlways),
            ]),
        });
        assert_eq!(
            c.approval_need(tool("gmail", "GMAIL_FETCH", &[])),
            ApprovalNeed::None
        );
        let ApprovalNeed::Deny(why) = c.approval_need(tool("gmail", "GMAIL_TRASH", &[])) else {
            panic!("always_deny refuses");
        };
        assert!(why.contains("always_deny"), "{why}");
        assert_eq!(
            c.approval_need(tool("github", "GITHUB_STAR", &[])),
            ApprovalNeed::Ask { once: false }
        );
        // require_approval before the default; the default for the rest.
        assert_eq!(
            c.approval_need(tool("gmail", "GMAIL_SEND", &[])),
            ApprovalNeed::Ask { once: false }
        );
        assert_eq!(
            c.approval_need(tool("github", "GITHUB_GET_REPO", &[])),
            ApprovalNeed::Ask { once: true }
        );
    }

    #[test]
    fn decisions_parse() {
        for (s, d) in ApprovalDecision::CHOICES.iter().zip([
            ApprovalDecision::Approve,
            ApprovalDecision::AlwaysApprove,
            ApprovalDecision::Deny,
        ]) {
            assert_eq!(ApprovalDecision::parse(s), Some(d));
        }
        assert_eq!(ApprovalDecision::parse("yes"), None);
    }
}
