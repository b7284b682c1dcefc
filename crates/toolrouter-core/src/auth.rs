//! Auth configs and connected accounts: the records behind "how does this user of this project
//! authenticate with this toolkit".
//!
//! An [`AuthConfig`] belongs to a project and a toolkit and says which auth scheme is used and,
//! for a custom config, with whose OAuth app. A [`ConnectedAccount`] is one user's credentials
//! under one auth config. Secret material appears here only as ciphertext (`sealed`), produced
//! and opened by the vault with the row's table and id as associated data, so a ciphertext
//! copied to another row does not decrypt.

use std::collections::BTreeMap;
use std::fmt;

use crate::{AuthConfigId, ConnectedAccountId, ProjectId, Timestamp};

/// Who created an auth config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthConfigOrigin {
    /// Created through the auth-configs API (or the CLI).
    Api,
    /// Created on demand by account selection, with the operator's managed app (precedence
    /// step 4). At most one per project and toolkit.
    ToolRouter,
}

impl AuthConfigOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthConfigOrigin::Api => "api",
            AuthConfigOrigin::ToolRouter => "tool_router",
        }
    }

    pub fn parse(s: &str) -> Option<AuthConfigOrigin> {
        match s {
            "api" => Some(AuthConfigOrigin::Api),
            "tool_router" => Some(AuthConfigOrigin::ToolRouter),
            _ => None,
        }
    }
}

/// How a project's users authenticate with one toolkit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    pub id: AuthConfigId,
    pub project_id: ProjectId,
    pub toolkit: String,
    pub name: String,
    /// Wire spelling of the scheme: `OAUTH2`, `API_KEY`, `BEARER_TOKEN`, `BASIC`.
    pub auth_scheme: String,
    /// Managed: the OAuth app comes from the operator's configuration, nothing secret is stored
    /// here. Custom: the project's own app or scheme settings.
    pub managed: bool,
    pub origin: AuthConfigOrigin,
    pub disabled: bool,
    /// OAuth scopes to request instead of the toolkit's defaults (empty: the defaults).
    pub scopes: Vec<String>,
    /// Non-secret settings (an OAuth `client_id`).
    pub fields: BTreeMap<String, String>,
    /// Secret settings (an OAuth `client_secret`) as one sealed JSON object.
    pub sealed: Option<Vec<u8>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl AuthConfig {
    /// Associated data binding this config's ciphertext to its row.
    pub fn aad(id: &AuthConfigId) -> String {
        format!("auth_configs:{id}")
    }
}

/// The lifecycle of a connected account (CONTRACT.md §4.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountStatus {
    Initializing,
    /// A link was issued; the user has not finished.
    Initiated,
    Active,
    /// The provider refused (the user denied consent, the code exchange failed).
    Failed,
    /// The link expired unused, or the token could no longer be refreshed.
    Expired,
    /// Disabled by the project.
    Inactive,
    Revoked,
}

impl AccountStatus {
    pub const ALL: [AccountStatus; 7] = [
        AccountStatus::Initializing,
        AccountStatus::Initiated,
        AccountStatus::Active,
        AccountStatus::Failed,
        AccountStatus::Expired,
        AccountStatus::Inactive,
        AccountStatus::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Initializing => "INITIALIZING",
            AccountStatus::Initiated => "INITIATED",
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Failed => "FAILED",
            AccountStatus::Expired => "EXPIRED",
            AccountStatus::Inactive => "INACTIVE",
            AccountStatus::Revoked => "REVOKED",
        }
    }

    pub fn parse(s: &str) -> Option<AccountStatus> {
        AccountStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One user's credentials for one toolkit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAccount {
    pub id: ConnectedAccountId,
    pub project_id: ProjectId,
    /// The project's own identifier of its user.
    pub user_id: String,
    pub toolkit: String,
    pub auth_config_id: AuthConfigId,
    pub status: AccountStatus,
    /// Why the status last changed (a provider error code, "link expired").
    pub status_reason: Option<String>,
    pub alias: Option<String>,
    /// Set by the project (`PATCH …/status`); a disabled account is never selected.
    pub disabled: bool,
    /// Non-secret connection values (a subdomain, a token type, granted scopes).
    pub params: BTreeMap<String, String>,
    /// Secret connection values (tokens, keys, passwords) as one sealed JSON object.
    pub sealed: Option<Vec<u8>>,
    /// When the access token expires (OAuth2), if the provider said.
    pub expires_at: Option<Timestamp>,
    /// Incremented on every credential change: the compare-and-swap token of refreshes.
    pub version: i64,
    /// Where the connect page sends the user afterwards.
    pub callback_url: Option<String>,
    /// SHA-256 of the current connect-link token (the token itself is never stored).
    pub link_hash: Option<Vec<u8>>,
    pub link_expires_at: Option<Timestamp>,
    /// When the account last became ACTIVE: "most recently connected" orders by this.
    pub connected_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ConnectedAccount {
    /// Associated data binding this account's ciphertext to its row.
    pub fn aad(id: &ConnectedAccountId) -> String {
        format!("connected_accounts:{id}")
    }

    /// Whether the account can be used for a tool call right now.
    pub fn is_usable(&self) -> bool {
        self.status == AccountStatus::Active && !self.disabled
    }
}

/// A pending OAuth2 authorization: the single-use `state` of one redirect to a provider, with
/// the PKCE verifier that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    /// Hex SHA-256 of the state's random part; the state itself is never stored.
    pub id: String,
    pub project_id: ProjectId,
    pub account_id: ConnectedAccountId,
    /// The PKCE verifier, sealed.
    pub sealed_verifier: Vec<u8>,
    /// The redirect URI sent to the provider (the token request must repeat it).
    pub redirect_uri: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl OAuthState {
    pub fn aad(id: &str) -> String {
        format!("oauth_states:{id}")
    }
}

/// What claiming an OAuth state found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateClaim {
    /// Claimed now; no other request can claim it again.
    Claimed(OAuthState),
    NotFound,
    AlreadyUsed,
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_their_wire_spelling() {
        for st in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(st.as_str()), Some(st));
        }
        assert_eq!(AccountStatus::parse("active"), None);
        assert_eq!(
            AuthConfigOrigin::parse("tool_router"),
            Some(AuthConfigOrigin::ToolRouter)
        );
    }
}
