//! An account's credentials for one tool call, and OAuth2 token refresh.
//!
//! Refresh happens before use when the access token expires within the configured margin
//! (proactive), and once after a provider answers 401 (reactive). Either way it is
//! single-flight per account: inside a process a per-account lock lines callers up, and across
//! processes sharing the database a claim on the account row (compare-and-swap on its version,
//! with an expiry so a crashed holder does not block forever) lets exactly one of them call the
//! token endpoint. Everyone else waits for the version to move and uses the stored result, so a
//! rotating refresh token is spent exactly once. A provider refusing the refresh (an OAuth error
//! such as `invalid_grant`) marks the account EXPIRED with that code as the reason.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use toolrouter_catalog::model::{AuthKind, AuthScheme, OAuth2Spec, ToolkitDef};
use toolrouter_core::{AccountStatus, AuthConfig, ConnectedAccount, ErrorCode};
use toolrouter_exec::Credentials;
use toolrouter_vault::SecretFields;
use toolrouter_vault::oauth::{OAuthApp, OAuthError, TokenSet};

use super::{after, now, parse_kind, scheme_of, vault_failure};
use crate::{App, AppError, AppResult};

/// What a tool call authenticates with.
#[derive(Debug)]
pub(crate) struct CallCredentials {
    pub(crate) account: ConnectedAccount,
    pub(crate) scheme: AuthScheme,
    pub(crate) credentials: Credentials,
}

/// Why a refresh did not produce new credentials.
#[derive(Debug)]
pub(crate) enum RefreshFailure {
    /// Nothing to refresh with (not OAuth2, or no refresh token).
    NotPossible,
    /// The provider refused: the account is now EXPIRED.
    Expired(AppError),
    /// The provider could not be reached, or another process holds the refresh too long; the
    /// account is unchanged.
    Transient(AppError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Only if the token still expires within the margin.
    Proactive,
    /// Only if nobody refreshed since the credentials that failed were read.
    Reactive,
}

/// How long a refresh claim lasts: longer than one token request can take.
fn claim_ttl(oauth_timeout: Duration) -> Duration {
    oauth_timeout * 2 + Duration::from_secs(5)
}

impl App {
    /// Opens an account's sealed credentials.
    pub(crate) fn account_secrets(&self, account: &ConnectedAccount) -> AppResult<SecretFields> {
        match &account.sealed {
            None => Ok(SecretFields::new()),
            Some(sealed) => self
                .inner
                .keyring
                .open_fields(&ConnectedAccount::aad(&account.id), sealed)
                .map_err(|e| vault_failure("open account credentials", &e)),
        }
    }

    fn needs_refresh(&self, account: &ConnectedAccount) -> bool {
        let margin = self.auth().settings.refresh_margin;
        account
            .expires_at
            .is_some_and(|exp| exp <= after(now(), margin))
    }

    /// The OAuth app an account's config uses: the operator's for a managed config, the
    /// project's own for a custom one.
    pub(crate) fn oauth_app_parts(
        &self,
        config: &AuthConfig,
    ) -> AppResult<(String, Option<SecretString>, Option<Vec<String>>)> {
        if config.managed {
            let app = self
                .auth()
                .settings
                .managed_apps
                .get(&config.toolkit)
                .ok_or_else(|| {
                    AppError::new(
                        ErrorCode::NoManagedAuth,
                        format!(
                            "the operator no longer configures a managed OAuth app for `{}`",
                            config.toolkit
                        ),
                    )
                    .with_fix("Ask the operator to restore `[managed_auth.<toolkit>]`, or use a custom auth config.")
                })?;
            return Ok((
                app.client_id.clone(),
                app.client_secret.clone(),
                app.scopes.clone(),
            ));
        }
        let client_id = config.fields.get("client_id").cloned().ok_or_else(|| {
            AppError::new(
                ErrorCode::ValidationFailed,
                format!("auth config {} has no client_id", config.id),
            )
        })?;
        let secrets = self.config_secrets(config)?;
        Ok((client_id, secrets.get("client_secret").cloned(), None))
    }

    /// The toolkit's OAuth2 settings for a config.
    pub(crate) fn oauth_spec<'a>(
        &self,
        toolkit: &'a ToolkitDef,
        config: &AuthConfig,
    ) -> AppResult<&'a OAuth2Spec> {
        scheme_of(toolkit, &config.auth_scheme)
            .and_then(|s| s.oauth2.as_ref())
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::Internal,
                    format!("toolkit `{}` declares no OAuth2 settings", toolkit.slug),
                )
            })
    }

    /// The credentials for one call with `account`, refreshed first when about to expire.
    pub(crate) async fn call_credentials(
        &self,
        account: ConnectedAccount,
        toolkit: &ToolkitDef,
    ) -> AppResult<CallCredentials> {
        let mut account = account;
        let config = self
            .auth_config_load(&account.project_id, account.auth_config_id.as_str())
            .await?;
        let kind = parse_kind(&config.auth_scheme);
        if kind == Some(AuthKind::Oauth2) && self.needs_refresh(&account) {
            match self.refresh(&account, Mode::Proactive).await {
                Ok(fresh) => account = fresh,
                // An unreachable token endpoint: the token may still work for a moment.
                Err(RefreshFailure::Transient(e)) => {
                    tracing::warn!(account = %account.id, error = %e.message, "proactive refresh failed; using the current token");
                }
                Err(RefreshFailure::NotPossible) => {}
                Err(RefreshFailure::Expired(e)) => return Err(e),
            }
        }
        self.credentials_of(account, &config, toolkit)
    }

    /// Builds the call credentials of an account as stored.
    pub(crate) fn credentials_of(
        &self,
        account: ConnectedAccount,
        config: &AuthConfig,
        toolkit: &ToolkitDef,
    ) -> AppResult<CallCredentials> {
        let scheme = scheme_of(toolkit, &config.auth_scheme)
            .cloned()
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::Internal,
                    format!(
                        "toolkit `{}` no longer has the {} scheme of auth config {}",
                        toolkit.slug, config.auth_scheme, config.id
                    ),
                )
            })?;
        let mut creds = Credentials::new();
        // Values a non-OAuth config shares with every connection come first; the account's own
        // override them. An OAuth config's settings (its client secret) never reach a request.
        if scheme.kind != AuthKind::Oauth2 {
            for (k, v) in &config.fields {
                creds = creds.with_plain(k.clone(), v.clone());
            }
            for (k, v) in self.config_secrets(config)?.iter() {
                creds = creds.with_secret(k.to_owned(), v.clone());
            }
        }
        for (k, v) in &account.params {
            creds = creds.with_plain(k.clone(), v.clone());
        }
        for (k, v) in self.account_secrets(&account)?.iter() {
            creds = creds.with_secret(k.to_owned(), v.clone());
        }
        Ok(CallCredentials {
            account,
            scheme,
            credentials: creds,
        })
    }

    /// After a provider's 401 with `used` credentials: refreshes them (unless someone already
    /// did) and returns the account to retry with, or `None` when retrying cannot help.
    pub(crate) async fn refresh_after_unauthorized(
        &self,
        used: &ConnectedAccount,
    ) -> Result<ConnectedAccount, RefreshFailure> {
        self.refresh(used, Mode::Reactive).await
    }

    /// Refreshes now (re-authentication requested through the API).
    pub(crate) async fn refresh_now(
        &self,
        account: &ConnectedAccount,
    ) -> AppResult<ConnectedAccount> {
        match self.refresh(account, Mode::Reactive).await {
            Ok(a) => Ok(a),
            Err(RefreshFailure::Expired(e) | RefreshFailure::Transient(e)) => Err(e),
            Err(RefreshFailure::NotPossible) => Err(AppError::new(
                ErrorCode::ConnectedAccountNotActive,
                "the account has no refresh token",
            )),
        }
    }

    /// The single-flight refresh.
    async fn refresh(
        &self,
        seen: &ConnectedAccount,
        mode: Mode,
    ) -> Result<ConnectedAccount, RefreshFailure> {
        let transient = RefreshFailure::Transient;
        let lock = self.auth().refresh_lock(&seen.id);
        let _one_at_a_time_here = lock.lock().await;
        let ttl = claim_ttl(self.auth().settings.oauth_timeout);
        let deadline = Instant::now() + ttl;
        let mut wait = Duration::from_millis(10);
        loop {
            let current = self
                .store()
                .account_get(&seen.project_id, &seen.id)
                .await
                .map_err(|e| transient(AppError::from_store("account_get", &e)))?
                .ok_or_else(|| {
                    RefreshFailure::Expired(super::accounts::account_not_found(seen.id.as_str()))
                })?;
            if current.version != seen.version {
                // Someone refreshed (or otherwise changed the credentials) meanwhile.
                return Ok(current);
            }
            if mode == Mode::Proactive && !self.needs_refresh(&current) {
                return Ok(current);
            }
            if current.status != AccountStatus::Active {
                return Err(RefreshFailure::Expired(not_active(&current)));
            }
            let secrets = self.account_secrets(&current).map_err(transient)?;
            if secrets.get("refresh_token").is_none() {
                return Err(RefreshFailure::NotPossible);
            }
            let owner = format!("{}:{}", self.auth().instance, uuid::Uuid::new_v4().simple());
            let t = now();
            let claimed = self
                .store()
                .account_refresh_claim(&current.id, current.version, &owner, after(t, ttl), t)
                .await
                .map_err(|e| transient(AppError::from_store("account_refresh_claim", &e)))?;
            if claimed {
                return self.refresh_claimed(current, secrets, &owner).await;
            }
            if Instant::now() >= deadline {
                return Err(transient(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "connected account {} is being refreshed by another server; try again",
                        seen.id
                    ),
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(200));
        }
    }

    /// Calls the token endpoint while holding the account's refresh claim, and stores what it
    /// said (which releases the claim).
    async fn refresh_claimed(
        &self,
        current: ConnectedAccount,
        mut secrets: SecretFields,
        owner: &str,
    ) -> Result<ConnectedAccount, RefreshFailure> {
        let result = self.token_refresh_request(&current, &secrets).await;
        match result {
            Ok(tokens) => {
                let mut next = current.clone();
                apply_tokens(&mut next, &mut secrets, tokens);
                next.sealed = Some(
                    self.inner
                        .keyring
                        .seal_fields(&ConnectedAccount::aad(&next.id), &secrets)
                        .map_err(|e| RefreshFailure::Transient(vault_failure("seal tokens", &e)))?,
                );
                next.status = AccountStatus::Active;
                next.status_reason = None;
                next.version = current.version + 1;
                next.updated_at = now();
                let stored = self
                    .store()
                    .account_update(&next, current.version)
                    .await
                    .map_err(|e| {
                        RefreshFailure::Transient(AppError::from_store("account_update", &e))
                    })?;
                if !stored {
                    // Changed under the claim (deleted, disabled, re-linked): not ours to write.
                    return Err(RefreshFailure::Transient(AppError::new(
                        ErrorCode::Conflict,
                        format!(
                            "connected account {} changed during the refresh",
                            current.id
                        ),
                    )));
                }
                tracing::info!(account = %next.id, version = next.version, "access token refreshed");
                Ok(next)
            }
            Err(Ok(OAuthError::Refused { code })) => {
                let mut expired = current.clone();
                expired.status = AccountStatus::Expired;
                expired.status_reason = Some(format!("token refresh refused: {code}"));
                expired.version = current.version + 1;
                expired.updated_at = now();
                if let Err(e) = self.store().account_update(&expired, current.version).await {
                    tracing::error!(account = %current.id, error = %e, "could not mark the account expired");
                }
                tracing::warn!(account = %current.id, code = %code, "token refresh refused; account expired");
                Err(RefreshFailure::Expired(not_active(&expired)))
            }
            Err(other) => {
                if let Err(e) = self
                    .store()
                    .account_refresh_release(&current.id, owner)
                    .await
                {
                    tracing::warn!(account = %current.id, error = %e, "could not release a refresh claim");
                }
                let message = match other {
                    Ok(e) => {
                        tracing::warn!(account = %current.id, error = %e, "token refresh failed");
                        format!("the token endpoint failed: {}", e.reason_code())
                    }
                    Err(e) => e.message,
                };
                Err(RefreshFailure::Transient(AppError::new(
                    ErrorCode::Internal,
                    message,
                )))
            }
        }
    }

    /// The token request itself. `Err(Ok(_))` is the provider's answer, `Err(Err(_))` ours.
    async fn token_refresh_request(
        &self,
        account: &ConnectedAccount,
        secrets: &SecretFields,
    ) -> Result<TokenSet, Result<OAuthError, AppError>> {
        let config = self
            .auth_config_load(&account.project_id, account.auth_config_id.as_str())
            .await
            .map_err(Err)?;
        let toolkit = self.catalog().toolkit(&config.toolkit).map_err(Err)?;
        let spec = self.oauth_spec(&toolkit, &config).map_err(Err)?;
        let (client_id, client_secret, _) = self.oauth_app_parts(&config).map_err(Err)?;
        let refresh_token = secrets
            .get("refresh_token")
            .ok_or_else(|| Err(AppError::new(ErrorCode::Internal, "no refresh token")))?;
        let app = OAuthApp {
            spec,
            client_id: &client_id,
            client_secret: client_secret.as_ref(),
        };
        let client = self.auth().oauth().map_err(Err)?;
        client.refresh(&app, refresh_token).await.map_err(Ok)
    }
}

/// Writes a token response into an account: the new access token, the new refresh token when
/// the provider rotated it (else the old one stays), expiry, type and granted scope.
pub(crate) fn apply_tokens(
    account: &mut ConnectedAccount,
    secrets: &mut SecretFields,
    t: TokenSet,
) {
    secrets.insert("access_token", t.access_token);
    if let Some(r) = t.refresh_token {
        secrets.insert("refresh_token", r);
    }
    account.expires_at = t.expires_in.map(|d| after(now(), d));
    account.params.insert("token_type".to_owned(), t.token_type);
    if let Some(scope) = t.scope {
        account.params.insert("scope".to_owned(), scope);
    }
}

pub(crate) fn not_active(a: &ConnectedAccount) -> AppError {
    let reason = a
        .status_reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    AppError::new(
        ErrorCode::ConnectedAccountNotActive,
        format!("connected account {} is {}{reason}", a.id, a.status),
    )
    .with_fix(format!(
        "Reconnect it: POST /api/v3.1/connected_accounts/{}/refresh returns a link for the user.",
        a.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_claim_outlives_one_token_request() {
        assert!(claim_ttl(Duration::from_secs(15)) > Duration::from_secs(15));
    }
}
