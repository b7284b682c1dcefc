//! Authentication of toolkits: auth configs, connected accounts, the hosted connect page and
//! its OAuth2 flow, credentials for tool calls, and their refresh.
//!
//! - [`configs`]: `/auth_configs` — managed (the operator's OAuth app, from configuration) and
//!   custom (the project's own app or scheme settings) configs.
//! - [`accounts`]: `/connected_accounts` — listing, status, deletion, re-authentication, and
//!   connect links; the callback-URL allowlist.
//! - [`connect`]: what the hosted page at `/link/{token}` does: redirect to the provider with a
//!   signed single-use `state` and PKCE S256, or ask for the fields an API-key / bearer /
//!   basic scheme needs; and the OAuth callback.
//! - [`tokens`]: the credentials of an account for one call, refreshed before use when they are
//!   about to expire and after a provider's 401, once per account at a time across every
//!   process sharing the database.
//!
//! Secrets are sealed by the vault with the row's table and id as associated data; they leave
//! this module only inside `secrecy` types or masked.

pub mod accounts;
pub mod configs;
pub mod connect;
pub mod tokens;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use secrecy::SecretString;
use toolrouter_catalog::model::{AuthKind, AuthScheme, ToolkitDef};
use toolrouter_core::{AuthConfig, ConnectedAccountId, ErrorCode, Timestamp};
use toolrouter_vault::VaultError;
use toolrouter_vault::oauth::OAuthClient;

use crate::{App, AppError, AppResult};

/// The operator's OAuth app for a toolkit: toolrouter's "managed auth".
#[derive(Debug, Clone)]
pub struct ManagedApp {
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// Scopes to request instead of the toolkit's defaults.
    pub scopes: Option<Vec<String>>,
}

/// Settings of authentication, built by the binary from its configuration.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// This server's base URL as browsers reach it (`https://tools.example.com`): connect
    /// links and the OAuth redirect URI (`<public_url>/link/callback`) are built on it.
    pub public_url: String,
    /// Managed OAuth apps by toolkit slug.
    pub managed_apps: BTreeMap<String, ManagedApp>,
    /// Callback URLs every project may send users back to (besides each project's own list).
    pub callback_urls: Vec<String>,
    /// How long a connect link stays usable.
    pub link_ttl: Duration,
    /// How long a user has at the provider between leaving the connect page and coming back.
    pub state_ttl: Duration,
    /// Tokens expiring within this margin are refreshed before use.
    pub refresh_margin: Duration,
    /// Time limit of one token-endpoint request.
    pub oauth_timeout: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            public_url: "http://127.0.0.1:8080".to_owned(),
            managed_apps: BTreeMap::new(),
            callback_urls: Vec::new(),
            link_ttl: Duration::from_secs(15 * 60),
            state_ttl: Duration::from_secs(10 * 60),
            refresh_margin: Duration::from_secs(60),
            oauth_timeout: Duration::from_secs(15),
        }
    }
}

/// Per-process state of authentication: settings, the token-endpoint client, and one lock per
/// account being refreshed.
#[derive(Debug)]
pub(crate) struct AuthRuntime {
    pub(crate) settings: AuthSettings,
    oauth: OnceLock<OAuthClient>,
    refresh_locks: Mutex<HashMap<ConnectedAccountId, Weak<tokio::sync::Mutex<()>>>>,
    /// Names this process in refresh claims, so a claim can be told apart from another's.
    pub(crate) instance: String,
}

impl AuthRuntime {
    pub(crate) fn new(settings: AuthSettings) -> AuthRuntime {
        let mut settings = settings;
        settings.public_url = settings.public_url.trim_end_matches('/').to_owned();
        AuthRuntime {
            settings,
            oauth: OnceLock::new(),
            refresh_locks: Mutex::new(HashMap::new()),
            instance: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// The token-endpoint client, built on first use.
    pub(crate) fn oauth(&self) -> AppResult<&OAuthClient> {
        if let Some(c) = self.oauth.get() {
            return Ok(c);
        }
        let built = OAuthClient::new(self.settings.oauth_timeout).map_err(|e| {
            tracing::error!(error = %e, "cannot build the OAuth HTTP client");
            AppError::new(
                ErrorCode::Internal,
                "Internal error while contacting the provider.",
            )
        })?;
        Ok(self.oauth.get_or_init(|| built))
    }

    /// The lock serialising refreshes of one account in this process. Entries are dropped
    /// with the last holder, so the map only holds accounts being refreshed right now.
    pub(crate) fn refresh_lock(&self, id: &ConnectedAccountId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .refresh_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(lock) = locks.get(id).and_then(Weak::upgrade) {
            return lock;
        }
        locks.retain(|_, w| w.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(id.clone(), Arc::downgrade(&lock));
        lock
    }

    pub(crate) fn redirect_uri(&self) -> String {
        format!("{}/link/callback", self.settings.public_url)
    }
}

/// Logs a vault failure (with its chain) and returns an error without internals.
pub(crate) fn vault_failure(during: &str, e: &VaultError) -> AppError {
    tracing::error!(during, error = %e, "vault failure");
    AppError::new(
        ErrorCode::Internal,
        "Internal error while reading stored credentials.",
    )
    .with_fix("The server's master key may not match the one the credentials were stored with; ask the operator.")
}

/// Shows that a secret is set without showing it.
pub(crate) fn mask(value: &str) -> String {
    let n = value.chars().count();
    if n >= 16 {
        let head: String = value.chars().take(4).collect();
        format!("{head}{}", "*".repeat(8))
    } else {
        "*".repeat(8)
    }
}

/// `OAUTH2`, `api_key`, … as the catalog's kind.
pub(crate) fn parse_kind(s: &str) -> Option<AuthKind> {
    [
        AuthKind::Oauth2,
        AuthKind::ApiKey,
        AuthKind::BearerToken,
        AuthKind::Basic,
        AuthKind::NoAuth,
    ]
    .into_iter()
    .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
}

/// The toolkit's scheme of this kind.
pub(crate) fn scheme_of<'a>(toolkit: &'a ToolkitDef, kind: &str) -> Option<&'a AuthScheme> {
    let kind = parse_kind(kind)?;
    toolkit.auth_schemes.iter().find(|s| s.kind == kind)
}

/// Whether a toolkit needs no connected account at all.
pub(crate) fn is_no_auth(toolkit: &ToolkitDef) -> bool {
    toolkit
        .auth_schemes
        .iter()
        .all(|s| s.kind == AuthKind::NoAuth)
}

pub(crate) fn now() -> Timestamp {
    Timestamp::now()
}

pub(crate) fn after(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp(
        t.millis()
            .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    )
}

impl App {
    pub(crate) fn auth(&self) -> &AuthRuntime {
        &self.inner.auth
    }

    /// The schemes a project can use for a toolkit without bringing its own app: OAuth2 when
    /// the operator configured a managed app for it, and every scheme whose credentials the
    /// user types in (API key, bearer token, basic), which need no app at all. In the
    /// toolkit's order of preference.
    pub fn managed_schemes(&self, toolkit: &ToolkitDef) -> Vec<AuthKind> {
        toolkit
            .auth_schemes
            .iter()
            .map(|s| s.kind)
            .filter(|k| match k {
                AuthKind::Oauth2 => self
                    .auth()
                    .settings
                    .managed_apps
                    .contains_key(&toolkit.slug),
                AuthKind::NoAuth => false,
                AuthKind::ApiKey | AuthKind::BearerToken | AuthKind::Basic => true,
            })
            .collect()
    }

    /// Opens an auth config's sealed settings.
    pub(crate) fn config_secrets(
        &self,
        config: &AuthConfig,
    ) -> AppResult<toolrouter_vault::SecretFields> {
        match &config.sealed {
            None => Ok(toolrouter_vault::SecretFields::new()),
            Some(sealed) => self
                .inner
                .keyring
                .open_fields(&AuthConfig::aad(&config.id), sealed)
                .map_err(|e| vault_failure("open auth config", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_never_show_more_than_a_prefix_of_long_values() {
        assert_eq!(mask("short"), "********");
        assert_eq!(mask("gho_0123456789abcdef"), "gho_********");
    }

    #[test]
    fn kinds_parse_case_insensitively() {
        assert_eq!(parse_kind("oauth2"), Some(AuthKind::Oauth2));
        assert_eq!(parse_kind("API_KEY"), Some(AuthKind::ApiKey));
        assert_eq!(parse_kind("SAML"), None);
    }
}
