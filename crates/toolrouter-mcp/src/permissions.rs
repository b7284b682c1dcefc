//! Approvals (`experimental.permissions`) on the MCP endpoint, as one pure decision.
//!
//! A tool call needs the user's approval when the session's permissions say "ask" for it (a
//! per-tool override first, then the default). MCP asks users through elicitation, but this
//! endpoint is stateless (any replica answers any request, and a stateless server cannot
//! receive the client's answer to a server-initiated request), so no call can be approved
//! interactively: `experimental.no_elicitation_support_fallback` decides, and without it the
//! call is refused (deny is the safe reading of "could not ask"). Meta tools are the router's
//! own and are never gated.

use toolrouter_core::session::{
    ElicitationFallback, PermissionDefault, PermissionOverride, SessionConfig,
};

/// What happens to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Approval {
    Run,
    /// Refused, with the reason for the agent.
    Refuse(String),
}

fn needs_asking(config: &SessionConfig, slug: &str) -> Result<bool, String> {
    let Some(p) = &config.experimental.permissions else {
        return Ok(false);
    };
    let over = p
        .overrides
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(slug))
        .map(|(_, v)| *v);
    match over {
        Some(PermissionOverride::AlwaysAllow) => Ok(false),
        Some(PermissionOverride::AlwaysDeny) => Err(format!(
            "Tool `{slug}` is denied by this session's permissions (`always_deny`)."
        )),
        Some(PermissionOverride::AskOnce | PermissionOverride::AskAlways) => Ok(true),
        None => Ok(match p.default {
            PermissionDefault::AllowAll => false,
            PermissionDefault::AskEveryCall | PermissionDefault::AskOncePerSession => true,
        }),
    }
}

/// The decision for an app tool call over MCP.
pub(crate) fn approval(config: &SessionConfig, slug: &str) -> Approval {
    match needs_asking(config, slug) {
        Err(reason) => Approval::Refuse(reason),
        Ok(false) => Approval::Run,
        Ok(true) => match config.experimental.no_elicitation_support_fallback {
            Some(ElicitationFallback::Allow) => Approval::Run,
            Some(ElicitationFallback::Deny) | None => Approval::Refuse(format!(
                "Tool `{slug}` needs the user's approval (experimental.permissions), and this MCP \
                 endpoint cannot ask for it. The integrator can set \
                 `experimental.no_elicitation_support_fallback` to `allow`, or allow the tool in \
                 `experimental.permissions.overrides`."
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use toolrouter_core::session::Permissions;

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
    fn decisions() {
        use ElicitationFallback as F;
        use PermissionDefault as D;
        use PermissionOverride as O;
        let run = |c: &SessionConfig, slug: &str| approval(c, slug) == Approval::Run;
        // No permissions: everything runs.
        assert!(run(&config(None, &[], None), "GMAIL_SEND_EMAIL"));
        // allow_all, with an always_deny override.
        let c = config(
            Some(D::AllowAll),
            &[("GMAIL_SEND_EMAIL", O::AlwaysDeny)],
            None,
        );
        assert!(run(&c, "GITHUB_GET_REPO"));
        let Approval::Refuse(why) = approval(&c, "gmail_send_email") else {
            panic!("always_deny must refuse");
        };
        assert!(why.contains("always_deny"), "{why}");
        // Asking without a fallback refuses; with `allow` runs; overrides win over the default.
        let c = config(
            Some(D::AskEveryCall),
            &[("GITHUB_GET_REPO", O::AlwaysAllow)],
            None,
        );
        assert!(!run(&c, "GMAIL_SEND_EMAIL"));
        assert!(run(&c, "GITHUB_GET_REPO"));
        let c = config(Some(D::AskOncePerSession), &[], Some(F::Deny));
        let Approval::Refuse(why) = approval(&c, "GMAIL_SEND_EMAIL") else {
            panic!("deny fallback must refuse");
        };
        assert!(why.contains("no_elicitation_support_fallback"), "{why}");
        assert!(run(
            &config(Some(D::AskEveryCall), &[], Some(F::Allow)),
            "X_Y"
        ));
        let c = config(Some(D::AllowAll), &[("X_Y", O::AskAlways)], None);
        assert!(!run(&c, "X_Y"));
    }
}
