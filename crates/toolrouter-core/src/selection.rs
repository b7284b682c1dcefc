//! Which connected account a tool call uses: the precedence of the product spec, as one pure
//! function so every rule is a row of a table test.
//!
//! 1. the session's `connected_accounts` override for the toolkit;
//! 2. the session's `auth_configs` override: an account on that config, or connect one with it;
//! 3. an auth config the project already has for the toolkit: an account on any of them, or
//!    connect one with the preferred config (the one account selection created, else the newest);
//! 4. no config yet: create one with the operator's managed app, and connect with it;
//! 5. an error when the toolkit has no managed scheme.
//!
//! Among several usable accounts the most recently connected wins, unless the caller named one
//! (by id or alias) or a multi-account session requires an explicit choice.

use crate::auth::{AuthConfig, AuthConfigOrigin, ConnectedAccount};
use crate::{AccountStatus, AuthConfigId, ConnectedAccountId};

/// Multi-account settings of a session (`multi_account` with `enable: true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiAccount {
    /// With several usable accounts and no explicit choice, ask instead of picking.
    pub require_explicit_selection: bool,
    /// How many usable accounts a user may connect per toolkit, 2 to 10.
    pub max_accounts_per_toolkit: u8,
}

impl MultiAccount {
    pub const MIN_ACCOUNTS: u8 = 2;
    pub const MAX_ACCOUNTS: u8 = 10;
    pub const DEFAULT_ACCOUNTS: u8 = 5;

    /// Checks the 2–10 range of `max_accounts_per_toolkit`.
    pub fn new(
        require_explicit_selection: bool,
        max_accounts_per_toolkit: Option<u8>,
    ) -> Result<MultiAccount, String> {
        let max = max_accounts_per_toolkit.unwrap_or(MultiAccount::DEFAULT_ACCOUNTS);
        if !(MultiAccount::MIN_ACCOUNTS..=MultiAccount::MAX_ACCOUNTS).contains(&max) {
            return Err(format!(
                "`max_accounts_per_toolkit` must be between {} and {}, not {max}",
                MultiAccount::MIN_ACCOUNTS,
                MultiAccount::MAX_ACCOUNTS
            ));
        }
        Ok(MultiAccount {
            require_explicit_selection,
            max_accounts_per_toolkit: max,
        })
    }
}

/// Everything selection looks at, for one user and one toolkit.
#[derive(Debug, Clone, Copy)]
pub struct SelectionInput<'a> {
    pub toolkit: &'a str,
    /// The session's `connected_accounts[toolkit]`, if set.
    pub account_override: Option<&'a [ConnectedAccountId]>,
    /// The session's `auth_configs[toolkit]`, if set.
    pub config_override: Option<&'a AuthConfigId>,
    /// The caller's explicit choice for this call: an account id or alias.
    pub explicit: Option<&'a str>,
    pub multi_account: Option<MultiAccount>,
    /// The user's accounts for the toolkit, any status.
    pub accounts: &'a [ConnectedAccount],
    /// The project's auth configs for the toolkit, enabled or not.
    pub configs: &'a [AuthConfig],
    /// Whether the operator configured a managed app (or the toolkit needs none).
    pub managed_available: bool,
}

/// Which auth config a new connection should use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChoice {
    Existing(AuthConfigId),
    /// Create the project's managed config for the toolkit first (step 4).
    CreateManaged,
}

/// The outcome of selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Use(ConnectedAccountId),
    /// No usable account: the user has to connect one, with this config.
    Connect(ConfigChoice),
    /// Several usable accounts and the session wants the caller to choose; most recent first.
    ChoiceRequired(Vec<ConnectedAccountId>),
}

/// Why no account could be selected. Messages name the ids and say what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionError {
    /// Pinned accounts that are not this user's accounts for the toolkit.
    UnknownPinnedAccounts {
        ids: Vec<String>,
    },
    /// Every pinned account exists but none is usable.
    PinnedAccountNotUsable {
        id: ConnectedAccountId,
        status: AccountStatus,
        disabled: bool,
    },
    UnknownPinnedConfig {
        id: AuthConfigId,
    },
    PinnedConfigDisabled {
        id: AuthConfigId,
    },
    /// The explicit choice matches no usable account.
    UnknownChoice {
        selector: String,
    },
    NoManagedAuth {
        toolkit: String,
    },
}

impl std::fmt::Display for SelectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectionError::UnknownPinnedAccounts { ids } => write!(
                f,
                "connected account(s) {} do not belong to this user and toolkit",
                ids.join(", ")
            ),
            SelectionError::PinnedAccountNotUsable {
                id,
                status,
                disabled,
            } => {
                if *disabled {
                    write!(f, "connected account {id} is disabled")
                } else {
                    write!(f, "connected account {id} is {status}, not ACTIVE")
                }
            }
            SelectionError::UnknownPinnedConfig { id } => {
                write!(f, "auth config {id} is not an auth config of this toolkit")
            }
            SelectionError::PinnedConfigDisabled { id } => {
                write!(f, "auth config {id} is disabled")
            }
            SelectionError::UnknownChoice { selector } => write!(
                f,
                "no active connected account with id or alias `{selector}` for this user and toolkit"
            ),
            SelectionError::NoManagedAuth { toolkit } => write!(
                f,
                "toolkit `{toolkit}` has no managed auth: create an auth config with your own credentials"
            ),
        }
    }
}

impl std::error::Error for SelectionError {}

/// "Most recently connected" ordering key.
fn recency(a: &ConnectedAccount) -> (Option<i64>, i64, &str) {
    (
        a.connected_at.map(|t| t.millis()),
        a.created_at.millis(),
        a.id.as_str(),
    )
}

/// Picks among usable accounts: the explicit choice, else a required choice, else the most
/// recently connected.
fn pick(
    usable: &[&ConnectedAccount],
    input: &SelectionInput<'_>,
) -> Result<Selection, SelectionError> {
    if let Some(selector) = input.explicit {
        return usable
            .iter()
            .find(|a| a.id.as_str() == selector || a.alias.as_deref() == Some(selector))
            .map(|a| Selection::Use(a.id.clone()))
            .ok_or_else(|| SelectionError::UnknownChoice {
                selector: selector.to_owned(),
            });
    }
    let mut sorted: Vec<&ConnectedAccount> = usable.to_vec();
    sorted.sort_by(|a, b| recency(b).cmp(&recency(a)));
    let require = input
        .multi_account
        .is_some_and(|m| m.require_explicit_selection);
    if require && sorted.len() > 1 {
        return Ok(Selection::ChoiceRequired(
            sorted.iter().map(|a| a.id.clone()).collect(),
        ));
    }
    // Callers pass at least one account; "choose among none" keeps this total.
    Ok(sorted.first().map_or_else(
        || Selection::ChoiceRequired(Vec::new()),
        |a| Selection::Use(a.id.clone()),
    ))
}

/// Applies the precedence. Pure: the caller loads the user's accounts and the project's
/// configs for the toolkit, and acts on the answer (creating a managed config, a link).
pub fn select_account(input: &SelectionInput<'_>) -> Result<Selection, SelectionError> {
    // 1. Pinned accounts.
    if let Some(pinned) = input.account_override.filter(|p| !p.is_empty()) {
        let unknown: Vec<String> = pinned
            .iter()
            .filter(|id| !input.accounts.iter().any(|a| &a.id == *id))
            .map(ToString::to_string)
            .collect();
        if !unknown.is_empty() {
            return Err(SelectionError::UnknownPinnedAccounts { ids: unknown });
        }
        let candidates: Vec<&ConnectedAccount> = input
            .accounts
            .iter()
            .filter(|a| pinned.contains(&a.id))
            .collect();
        let usable: Vec<&ConnectedAccount> = candidates
            .iter()
            .copied()
            .filter(|a| a.is_usable() && config_enabled(input, &a.auth_config_id))
            .collect();
        if usable.is_empty() {
            let first = candidates[0];
            return Err(SelectionError::PinnedAccountNotUsable {
                id: first.id.clone(),
                status: first.status,
                disabled: first.disabled || !config_enabled(input, &first.auth_config_id),
            });
        }
        return pick(&usable, input);
    }
    // 2. Pinned auth config.
    if let Some(config) = input.config_override {
        let Some(found) = input.configs.iter().find(|c| &c.id == config) else {
            return Err(SelectionError::UnknownPinnedConfig { id: config.clone() });
        };
        if found.disabled {
            return Err(SelectionError::PinnedConfigDisabled { id: config.clone() });
        }
        let usable: Vec<&ConnectedAccount> = input
            .accounts
            .iter()
            .filter(|a| &a.auth_config_id == config && a.is_usable())
            .collect();
        if usable.is_empty() {
            return Ok(Selection::Connect(ConfigChoice::Existing(config.clone())));
        }
        return pick(&usable, input);
    }
    // 3. Existing configs for the toolkit.
    let enabled: Vec<&AuthConfig> = input.configs.iter().filter(|c| !c.disabled).collect();
    if !enabled.is_empty() {
        let usable: Vec<&ConnectedAccount> = input
            .accounts
            .iter()
            .filter(|a| a.is_usable() && config_enabled(input, &a.auth_config_id))
            .collect();
        if !usable.is_empty() {
            return pick(&usable, input);
        }
        let preferred = enabled
            .iter()
            .max_by_key(|c| {
                (
                    c.origin == AuthConfigOrigin::ToolRouter,
                    c.created_at.millis(),
                    c.id.as_str(),
                )
            })
            .map(|c| c.id.clone());
        if let Some(id) = preferred {
            return Ok(Selection::Connect(ConfigChoice::Existing(id)));
        }
    }
    // 4 and 5.
    if input.managed_available {
        Ok(Selection::Connect(ConfigChoice::CreateManaged))
    } else {
        Err(SelectionError::NoManagedAuth {
            toolkit: input.toolkit.to_owned(),
        })
    }
}

fn config_enabled(input: &SelectionInput<'_>, id: &AuthConfigId) -> bool {
    input.configs.iter().any(|c| &c.id == id && !c.disabled)
}

/// Whether a user may connect one more account for a toolkit. Outside multi-account sessions
/// there is no cap (the newest account simply wins selection); inside one, the session's
/// `max_accounts_per_toolkit` counts the user's usable accounts.
pub fn may_connect_another(
    usable_accounts: usize,
    multi: Option<MultiAccount>,
) -> Result<(), String> {
    match multi {
        Some(m) if usable_accounts >= usize::from(m.max_accounts_per_toolkit) => Err(format!(
            "this user already has {usable_accounts} connected account(s) for the toolkit, the session's limit (`max_accounts_per_toolkit` = {})",
            m.max_accounts_per_toolkit
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{ProjectId, Timestamp};

    fn config(n: u8, origin: AuthConfigOrigin, disabled: bool, created: i64) -> AuthConfig {
        AuthConfig {
            id: AuthConfigId::parse(&format!("ac_{n}")).unwrap(),
            project_id: ProjectId::parse("prj_1").unwrap(),
            toolkit: "github".into(),
            name: format!("config {n}"),
            auth_scheme: "OAUTH2".into(),
            managed: origin == AuthConfigOrigin::ToolRouter,
            origin,
            disabled,
            scopes: Vec::new(),
            fields: BTreeMap::new(),
            sealed: None,
            created_at: Timestamp(created),
            updated_at: Timestamp(created),
        }
    }

    fn account(
        n: u8,
        config: u8,
        status: AccountStatus,
        connected: Option<i64>,
    ) -> ConnectedAccount {
        ConnectedAccount {
            id: ConnectedAccountId::parse(&format!("ca_{n}")).unwrap(),
            project_id: ProjectId::parse("prj_1").unwrap(),
            user_id: "u1".into(),
            toolkit: "github".into(),
            auth_config_id: AuthConfigId::parse(&format!("ac_{config}")).unwrap(),
            status,
            status_reason: None,
            alias: Some(format!("alias{n}")),
            disabled: false,
            params: BTreeMap::new(),
            sealed: None,
            expires_at: None,
            version: 1,
            callback_url: None,
            link_hash: None,
            link_expires_at: None,
            connected_at: connected.map(Timestamp),
            created_at: Timestamp(i64::from(n)),
            updated_at: Timestamp(i64::from(n)),
        }
    }

    fn ids(list: &[&str]) -> Vec<ConnectedAccountId> {
        list.iter()
            .map(|s| ConnectedAccountId::parse(s).unwrap())
            .collect()
    }

    /// Renders an outcome compactly, so each table row states its expectation in one string.
    fn render(r: Result<Selection, SelectionError>) -> String {
        match r {
            Ok(Selection::Use(id)) => format!("use {id}"),
            Ok(Selection::Connect(ConfigChoice::Existing(id))) => format!("connect with {id}"),
            Ok(Selection::Connect(ConfigChoice::CreateManaged)) => "create managed config".into(),
            Ok(Selection::ChoiceRequired(list)) => format!(
                "choose among {}",
                list.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Err(e) => format!("error: {e}"),
        }
    }

    struct Row {
        name: &'static str,
        pinned_accounts: Option<Vec<ConnectedAccountId>>,
        pinned_config: Option<&'static str>,
        explicit: Option<&'static str>,
        multi: Option<MultiAccount>,
        accounts: Vec<ConnectedAccount>,
        configs: Vec<AuthConfig>,
        managed: bool,
        expect: &'static str,
    }

    impl Default for Row {
        fn default() -> Row {
            Row {
                name: "",
                pinned_accounts: None,
                pinned_config: None,
                explicit: None,
                multi: None,
                accounts: Vec::new(),
                configs: Vec::new(),
                managed: true,
                expect: "",
            }
        }
    }

    use AccountStatus::{Active, Expired, Initiated};
    use AuthConfigOrigin::{Api, ToolRouter};

    #[test]
    fn precedence_table() {
        let explicit_multi = MultiAccount::new(true, Some(3)).unwrap();
        let lenient_multi = MultiAccount::new(false, None).unwrap();
        let rows = vec![
            Row {
                name: "1: a pinned account wins over everything else",
                pinned_accounts: Some(ids(&["ca_2"])),
                pinned_config: Some("ac_1"),
                accounts: vec![
                    account(1, 1, Active, Some(50)),
                    account(2, 2, Active, Some(10)),
                ],
                configs: vec![config(1, Api, false, 1), config(2, Api, false, 2)],
                expect: "use ca_2",
                ..Row::default()
            },
            Row {
                name: "1: among several pinned accounts the most recently connected wins",
                pinned_accounts: Some(ids(&["ca_1", "ca_2"])),
                accounts: vec![
                    account(1, 1, Active, Some(50)),
                    account(2, 1, Active, Some(10)),
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "use ca_1",
                ..Row::default()
            },
            Row {
                name: "1: a pinned account of another user or toolkit is an error naming it",
                pinned_accounts: Some(ids(&["ca_9"])),
                accounts: vec![account(1, 1, Active, Some(1))],
                configs: vec![config(1, Api, false, 1)],
                expect: "error: connected account(s) ca_9 do not belong to this user and toolkit",
                ..Row::default()
            },
            Row {
                name: "1: a pinned account that is not active is an error, not a silent fallback",
                pinned_accounts: Some(ids(&["ca_1"])),
                accounts: vec![
                    account(1, 1, Expired, Some(1)),
                    account(2, 1, Active, Some(2)),
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "error: connected account ca_1 is EXPIRED, not ACTIVE",
                ..Row::default()
            },
            Row {
                name: "2: the pinned config's most recent account",
                pinned_config: Some("ac_2"),
                accounts: vec![
                    account(1, 1, Active, Some(90)),
                    account(2, 2, Active, Some(20)),
                    account(3, 2, Active, Some(30)),
                ],
                configs: vec![config(1, Api, false, 1), config(2, Api, false, 2)],
                expect: "use ca_3",
                ..Row::default()
            },
            Row {
                name: "2: no account on the pinned config: connect with it",
                pinned_config: Some("ac_2"),
                accounts: vec![
                    account(1, 1, Active, Some(90)),
                    account(2, 2, Initiated, None),
                ],
                configs: vec![config(1, Api, false, 1), config(2, Api, false, 2)],
                expect: "connect with ac_2",
                ..Row::default()
            },
            Row {
                name: "2: a pinned config of another toolkit or project is an error",
                pinned_config: Some("ac_7"),
                configs: vec![config(1, Api, false, 1)],
                expect: "error: auth config ac_7 is not an auth config of this toolkit",
                ..Row::default()
            },
            Row {
                name: "2: a disabled pinned config is an error",
                pinned_config: Some("ac_1"),
                configs: vec![config(1, Api, true, 1)],
                expect: "error: auth config ac_1 is disabled",
                ..Row::default()
            },
            Row {
                name: "3: the most recently connected account on any enabled config",
                accounts: vec![
                    account(1, 1, Active, Some(10)),
                    account(2, 2, Active, Some(40)),
                    account(3, 3, Active, Some(99)),
                ],
                configs: vec![
                    config(1, Api, false, 1),
                    config(2, ToolRouter, false, 2),
                    config(3, Api, true, 3),
                ],
                expect: "use ca_2",
                ..Row::default()
            },
            Row {
                name: "3: inactive, disabled and pending accounts are never used",
                accounts: vec![
                    account(1, 1, Expired, Some(10)),
                    account(2, 1, Initiated, None),
                    ConnectedAccount {
                        disabled: true,
                        ..account(3, 1, Active, Some(5))
                    },
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "connect with ac_1",
                ..Row::default()
            },
            Row {
                name: "3: without accounts, connect with the config selection created",
                configs: vec![
                    config(1, Api, false, 5),
                    config(2, ToolRouter, false, 1),
                    config(3, Api, false, 9),
                ],
                expect: "connect with ac_2",
                ..Row::default()
            },
            Row {
                name: "3: else with the newest enabled config",
                configs: vec![
                    config(1, Api, false, 5),
                    config(3, Api, false, 9),
                    config(4, Api, true, 20),
                ],
                expect: "connect with ac_3",
                ..Row::default()
            },
            Row {
                name: "4: no config at all: create the managed one",
                expect: "create managed config",
                ..Row::default()
            },
            Row {
                name: "4: only disabled configs count as none",
                configs: vec![config(1, Api, true, 1)],
                expect: "create managed config",
                ..Row::default()
            },
            Row {
                name: "5: no config and no managed scheme: an error",
                managed: false,
                expect: "error: toolkit `github` has no managed auth: create an auth config with your own credentials",
                ..Row::default()
            },
            Row {
                name: "multi: explicit selection required with several accounts",
                multi: Some(explicit_multi),
                accounts: vec![
                    account(1, 1, Active, Some(10)),
                    account(2, 1, Active, Some(20)),
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "choose among ca_2,ca_1",
                ..Row::default()
            },
            Row {
                name: "multi: one account needs no choice",
                multi: Some(explicit_multi),
                accounts: vec![
                    account(1, 1, Active, Some(10)),
                    account(2, 1, Expired, Some(20)),
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "use ca_1",
                ..Row::default()
            },
            Row {
                name: "multi: an alias picks the account",
                multi: Some(explicit_multi),
                explicit: Some("alias1"),
                accounts: vec![
                    account(1, 1, Active, Some(10)),
                    account(2, 1, Active, Some(20)),
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "use ca_1",
                ..Row::default()
            },
            Row {
                name: "multi: an id picks the account",
                multi: Some(explicit_multi),
                explicit: Some("ca_2"),
                accounts: vec![
                    account(1, 1, Active, Some(10)),
                    account(2, 1, Active, Some(20)),
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "use ca_2",
                ..Row::default()
            },
            Row {
                name: "multi: an unknown choice is an error naming it",
                multi: Some(explicit_multi),
                explicit: Some("work"),
                accounts: vec![account(1, 1, Active, Some(10))],
                configs: vec![config(1, Api, false, 1)],
                expect: "error: no active connected account with id or alias `work` for this user and toolkit",
                ..Row::default()
            },
            Row {
                name: "multi without required selection: most recent wins",
                multi: Some(lenient_multi),
                accounts: vec![
                    account(1, 1, Active, Some(10)),
                    account(2, 1, Active, Some(20)),
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "use ca_2",
                ..Row::default()
            },
            Row {
                name: "explicit choice is honoured outside multi-account sessions too",
                explicit: Some("alias1"),
                accounts: vec![
                    account(1, 1, Active, Some(10)),
                    account(2, 1, Active, Some(20)),
                ],
                configs: vec![config(1, Api, false, 1)],
                expect: "use ca_1",
                ..Row::default()
            },
            Row {
                name: "explicit choice respects the pinned config",
                pinned_config: Some("ac_2"),
                explicit: Some("alias1"),
                accounts: vec![
                    account(1, 1, Active, Some(10)),
                    account(2, 2, Active, Some(20)),
                ],
                configs: vec![config(1, Api, false, 1), config(2, Api, false, 2)],
                expect: "error: no active connected account with id or alias `alias1` for this user and toolkit",
                ..Row::default()
            },
        ];
        let mut failures = Vec::new();
        for row in &rows {
            let pinned_config = row.pinned_config.map(|s| AuthConfigId::parse(s).unwrap());
            let input = SelectionInput {
                toolkit: "github",
                account_override: row.pinned_accounts.as_deref(),
                config_override: pinned_config.as_ref(),
                explicit: row.explicit,
                multi_account: row.multi,
                accounts: &row.accounts,
                configs: &row.configs,
                managed_available: row.managed,
            };
            let got = render(select_account(&input));
            if got != row.expect {
                failures.push(format!(
                    "{}:\n  expected {}\n  got      {got}",
                    row.name, row.expect
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn multi_account_limits() {
        assert!(MultiAccount::new(false, Some(1)).is_err());
        assert!(MultiAccount::new(false, Some(11)).is_err());
        assert_eq!(
            MultiAccount::new(false, None)
                .unwrap()
                .max_accounts_per_toolkit,
            5
        );
        let three = MultiAccount::new(true, Some(3)).unwrap();
        assert!(may_connect_another(2, Some(three)).is_ok());
        let err = may_connect_another(3, Some(three)).unwrap_err();
        assert!(err.contains("`max_accounts_per_toolkit` = 3"), "{err}");
        assert!(may_connect_another(50, None).is_ok());
    }
}
