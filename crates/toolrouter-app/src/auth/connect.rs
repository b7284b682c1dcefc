//! The hosted connect page, as use cases: opening a link, submitting its form, and the OAuth2
//! callback. No API key is involved: the link token (256 random bits, stored hashed) is the
//! capability, and it works only while its account waits for the user (INITIATED) and before
//! it expires.
//!
//! OAuth2: opening the link (or submitting the fields an OAuth scheme needs first, such as a
//! subdomain) stores a single-use, expiring state record with the PKCE verifier, sealed, and
//! sends the browser to the provider with the signed state and the S256 challenge. The
//! callback verifies the signature, claims the record (exactly once), exchanges the code and
//! stores the tokens. API key, bearer and basic schemes: a form with exactly the scheme's
//! fields; submitting stores them sealed. Every way to fail (unknown, tampered, expired or
//! reused link or state) changes nothing; a provider's refusal marks the account FAILED with
//! the provider's error code.

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use toolrouter_catalog::model::{AuthKind, AuthScheme, ToolkitDef};
use toolrouter_core::auth::StateClaim;
use toolrouter_core::{AccountStatus, AuthConfig, ConnectedAccount, OAuthState};
use toolrouter_vault::oauth::{OAuthApp, Pkce, authorize_url, sanitize_code};
use toolrouter_vault::{SecretFields, looks_like_link_token, token_hash};

use super::tokens::apply_tokens;
use super::{after, now, scheme_of};
use crate::{App, AppError};

/// Why the connect page cannot go on. Each kind is its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectProblem {
    /// Unknown, malformed or tampered link or state.
    Invalid,
    Expired,
    AlreadyUsed,
    /// The form was incomplete; nothing changed and the link still works.
    BadInput,
    /// The provider refused; the account is FAILED.
    Refused,
    /// Something failed on this server.
    Unavailable,
}

/// A problem and what to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    pub problem: ConnectProblem,
    pub message: String,
}

impl ConnectError {
    fn new(problem: ConnectProblem, message: impl Into<String>) -> ConnectError {
        ConnectError {
            problem,
            message: message.into(),
        }
    }

    fn invalid() -> ConnectError {
        ConnectError::new(
            ConnectProblem::Invalid,
            "This link is not valid. Ask the app that sent you here for a new one.",
        )
    }

    fn expired() -> ConnectError {
        ConnectError::new(
            ConnectProblem::Expired,
            "This link has expired. Ask the app that sent you here for a new one.",
        )
    }

    fn used() -> ConnectError {
        ConnectError::new(
            ConnectProblem::AlreadyUsed,
            "This link has already been used. Ask the app that sent you here for a new one if you need to connect again.",
        )
    }

    fn internal(e: &AppError) -> ConnectError {
        tracing::error!(error = %e.message, "connect page failed");
        ConnectError::new(
            ConnectProblem::Unavailable,
            "Something went wrong on our side. Please try again in a moment.",
        )
    }
}

type ConnectResult<T> = Result<T, ConnectError>;

/// One input of the connect form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    pub name: String,
    pub label: String,
    pub description: String,
    /// Shown as a password input; stored sealed.
    pub secret: bool,
    pub required: bool,
}

/// What the connect page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectForm {
    pub toolkit_name: String,
    pub toolkit_logo: String,
    /// Wire name of the scheme (`API_KEY`, …).
    pub scheme: String,
    pub fields: Vec<FormField>,
}

/// What opening a link does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectView {
    /// Send the browser to the provider.
    Redirect(String),
    Form(ConnectForm),
}

/// How a connection attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFinish {
    /// Back to the app's (allowlisted) callback URL, with `status` and `connected_account_id`.
    Redirect(String),
    /// No callback URL: a page saying how it went.
    Done {
        toolkit_name: String,
        connected: bool,
        /// The provider's error code when it refused.
        reason: Option<String>,
    },
}

/// The query of the OAuth2 callback.
#[derive(Debug, Clone, Default)]
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<SecretString>,
    pub error: Option<String>,
}

const MAX_FIELD: usize = 4096;

/// The fields the user still has to supply: the scheme's, minus those the auth config shares
/// with every connection and those already given.
fn form_fields(
    scheme: &AuthScheme,
    config: &AuthConfig,
    config_secret_names: &[String],
    given: &BTreeMap<String, String>,
) -> Vec<FormField> {
    let mut fields: Vec<FormField> = scheme
        .fields
        .iter()
        .filter(|f| scheme.kind == AuthKind::Oauth2 || !config.fields.contains_key(&f.name))
        .filter(|f| scheme.kind == AuthKind::Oauth2 || !config_secret_names.contains(&f.name))
        .filter(|f| !given.contains_key(&f.name))
        .map(|f| FormField {
            name: f.name.clone(),
            label: f.display_name.clone(),
            description: f.description.clone(),
            secret: f.secret || (scheme.kind == AuthKind::Basic && f.name == "password"),
            required: f.required,
        })
        .collect();
    if scheme.kind == AuthKind::Basic && scheme.fields.is_empty() {
        fields = vec![
            FormField {
                name: "username".to_owned(),
                label: "Username".to_owned(),
                description: String::new(),
                secret: false,
                required: true,
            },
            FormField {
                name: "password".to_owned(),
                label: "Password".to_owned(),
                description: String::new(),
                secret: true,
                required: false,
            },
        ];
    }
    fields
}

impl App {
    /// The account a link token opens, if the link can still be used.
    async fn link_account(&self, token: &str) -> ConnectResult<ConnectedAccount> {
        let token = token.trim();
        if !looks_like_link_token(token) {
            return Err(ConnectError::invalid());
        }
        let account = self
            .store()
            .account_find_by_link(&token_hash(token))
            .await
            .map_err(|e| ConnectError::internal(&AppError::from_store("account_find_by_link", &e)))?
            .ok_or_else(ConnectError::invalid)?;
        match account.status {
            AccountStatus::Initiated => {
                if account.link_expires_at.is_none_or(|t| t <= now()) {
                    self.expire_stale_link(account).await;
                    return Err(ConnectError::expired());
                }
                Ok(account)
            }
            AccountStatus::Active | AccountStatus::Failed => Err(ConnectError::used()),
            AccountStatus::Expired => Err(ConnectError::expired()),
            AccountStatus::Initializing | AccountStatus::Inactive | AccountStatus::Revoked => {
                Err(ConnectError::invalid())
            }
        }
    }

    /// The config, toolkit and scheme of an account.
    async fn link_context(
        &self,
        account: &ConnectedAccount,
    ) -> ConnectResult<(AuthConfig, Arc<ToolkitDef>, AuthScheme)> {
        let config = self
            .auth_config_load(&account.project_id, account.auth_config_id.as_str())
            .await
            .map_err(|e| ConnectError::internal(&e))?;
        if config.disabled {
            return Err(ConnectError::new(
                ConnectProblem::Invalid,
                "This connection is no longer offered. Ask the app that sent you here.",
            ));
        }
        let toolkit = self
            .catalog()
            .toolkit(&config.toolkit)
            .map_err(|e| ConnectError::internal(&e))?;
        let scheme = scheme_of(&toolkit, &config.auth_scheme)
            .cloned()
            .ok_or_else(|| {
                ConnectError::internal(&AppError::new(
                    toolrouter_core::ErrorCode::Internal,
                    format!(
                        "toolkit {} lost scheme {}",
                        toolkit.slug, config.auth_scheme
                    ),
                ))
            })?;
        Ok((config, toolkit, scheme))
    }

    fn fields_needed(
        &self,
        scheme: &AuthScheme,
        config: &AuthConfig,
        account: &ConnectedAccount,
    ) -> ConnectResult<Vec<FormField>> {
        let secret_names: Vec<String> = if scheme.kind == AuthKind::Oauth2 {
            Vec::new()
        } else {
            self.config_secrets(config)
                .map_err(|e| ConnectError::internal(&e))?
                .names()
                .map(str::to_owned)
                .collect()
        };
        Ok(form_fields(scheme, config, &secret_names, &account.params))
    }

    /// Opening `/link/{token}`.
    pub async fn connect_open(&self, token: &str) -> ConnectResult<ConnectView> {
        let account = self.link_account(token).await?;
        let (config, toolkit, scheme) = self.link_context(&account).await?;
        let fields = self.fields_needed(&scheme, &config, &account)?;
        if scheme.kind == AuthKind::Oauth2 && fields.is_empty() {
            return self
                .begin_oauth(&account, &config, &toolkit)
                .await
                .map(ConnectView::Redirect);
        }
        Ok(ConnectView::Form(ConnectForm {
            toolkit_name: toolkit.name.clone(),
            toolkit_logo: toolkit.logo.clone(),
            scheme: scheme.kind.as_str().to_owned(),
            fields,
        }))
    }

    /// Submitting the connect form.
    pub async fn connect_submit(
        &self,
        token: &str,
        values: BTreeMap<String, SecretString>,
    ) -> ConnectResult<ConnectFinishOrRedirect> {
        let account = self.link_account(token).await?;
        let (config, toolkit, scheme) = self.link_context(&account).await?;
        let fields = self.fields_needed(&scheme, &config, &account)?;
        let mut problems = Vec::new();
        let mut params = BTreeMap::new();
        let mut secrets = SecretFields::new();
        for f in &fields {
            let value = values
                .get(&f.name)
                .map(|v| v.expose_secret().trim().to_owned())
                .unwrap_or_default();
            if value.is_empty() {
                if f.required {
                    problems.push(format!("{} is required.", f.label));
                }
                continue;
            }
            if value.len() > MAX_FIELD {
                problems.push(format!("{} is too long.", f.label));
                continue;
            }
            if f.secret {
                secrets.insert(f.name.clone(), SecretString::from(value));
            } else {
                params.insert(f.name.clone(), value);
            }
        }
        if !problems.is_empty() {
            return Err(ConnectError::new(
                ConnectProblem::BadInput,
                format!("{} Go back and fill in the form again.", problems.join(" ")),
            ));
        }
        let expected = account.version;
        let mut next = account.clone();
        next.params.extend(params);
        next.version = expected + 1;
        next.updated_at = now();
        if scheme.kind == AuthKind::Oauth2 {
            // The fields OAuth needs first (a subdomain); the tokens come from the callback.
            self.write_account(&next, expected).await?;
            return self
                .begin_oauth(&next, &config, &toolkit)
                .await
                .map(ConnectFinishOrRedirect::Provider);
        }
        next.sealed = Some(
            self.inner
                .keyring
                .seal_fields(&ConnectedAccount::aad(&next.id), &secrets)
                .map_err(|e| ConnectError::internal(&super::vault_failure("seal", &e)))?,
        );
        next.status = AccountStatus::Active;
        next.status_reason = None;
        next.connected_at = Some(now());
        self.write_account(&next, expected).await?;
        tracing::info!(account = %next.id, toolkit = %toolkit.slug, "account connected");
        Ok(ConnectFinishOrRedirect::Finish(
            self.finish(&next, &toolkit, true, None).await,
        ))
    }

    /// Stores an account change made through the page; losing the race means the link was
    /// used meanwhile.
    async fn write_account(&self, next: &ConnectedAccount, expected: i64) -> ConnectResult<()> {
        let stored = self
            .store()
            .account_update(next, expected)
            .await
            .map_err(|e| ConnectError::internal(&AppError::from_store("account_update", &e)))?;
        if stored {
            Ok(())
        } else {
            Err(ConnectError::used())
        }
    }

    /// Records a pending authorization and returns the provider URL.
    async fn begin_oauth(
        &self,
        account: &ConnectedAccount,
        config: &AuthConfig,
        toolkit: &ToolkitDef,
    ) -> ConnectResult<String> {
        let spec = self
            .oauth_spec(toolkit, config)
            .map_err(|e| ConnectError::internal(&e))?;
        let (client_id, client_secret, managed_scopes) = self
            .oauth_app_parts(config)
            .map_err(|e| ConnectError::internal(&e))?;
        let scopes = if !config.scopes.is_empty() {
            config.scopes.clone()
        } else {
            managed_scopes.unwrap_or_else(|| spec.default_scopes.clone())
        };
        let pkce = spec.pkce.then(Pkce::generate);
        let state = self
            .inner
            .keyring
            .new_oauth_state()
            .map_err(|e| ConnectError::internal(&super::vault_failure("state", &e)))?;
        let verifier = pkce
            .as_ref()
            .map_or("", |p| p.verifier.expose_secret())
            .as_bytes();
        let sealed_verifier = self
            .inner
            .keyring
            .seal(&OAuthState::aad(&state.id), verifier)
            .map_err(|e| ConnectError::internal(&super::vault_failure("seal", &e)))?;
        let redirect_uri = self.auth().redirect_uri();
        let at = now();
        let record = OAuthState {
            id: state.id.clone(),
            project_id: account.project_id.clone(),
            account_id: account.id.clone(),
            sealed_verifier,
            redirect_uri: redirect_uri.clone(),
            created_at: at,
            expires_at: after(at, self.auth().settings.state_ttl),
        };
        self.store()
            .oauth_state_insert(&record)
            .await
            .map_err(|e| ConnectError::internal(&AppError::from_store("oauth_state_insert", &e)))?;
        let app = OAuthApp {
            spec,
            client_id: &client_id,
            client_secret: client_secret.as_ref(),
        };
        authorize_url(
            &app,
            &redirect_uri,
            &state.state,
            &scopes,
            pkce.as_ref().map(|p| &p.verifier),
        )
        .map_err(|e| {
            ConnectError::internal(&AppError::new(
                toolrouter_core::ErrorCode::Internal,
                e.to_string(),
            ))
        })
    }

    /// The provider sent the user back to `/link/callback`.
    pub async fn connect_callback(&self, q: CallbackQuery) -> ConnectResult<ConnectFinish> {
        let Some(state) = q.state.as_deref().filter(|s| !s.is_empty()) else {
            return Err(ConnectError::new(
                ConnectProblem::Invalid,
                "The sign-in response is missing its state. Start again from the link you were given.",
            ));
        };
        let id = self
            .inner
            .keyring
            .verify_oauth_state(state)
            .ok_or_else(ConnectError::invalid)?;
        let claimed = self
            .store()
            .oauth_state_claim(&id, now())
            .await
            .map_err(|e| ConnectError::internal(&AppError::from_store("oauth_state_claim", &e)))?;
        let record = match claimed {
            StateClaim::Claimed(r) => r,
            StateClaim::NotFound => return Err(ConnectError::invalid()),
            StateClaim::AlreadyUsed => return Err(ConnectError::used()),
            StateClaim::Expired => return Err(ConnectError::expired()),
        };
        let account = self
            .store()
            .account_get(&record.project_id, &record.account_id)
            .await
            .map_err(|e| ConnectError::internal(&AppError::from_store("account_get", &e)))?
            .ok_or_else(ConnectError::invalid)?;
        if account.status != AccountStatus::Initiated {
            return Err(ConnectError::used());
        }
        let (config, toolkit, _) = self.link_context(&account).await?;
        if let Some(error) = q.error.as_deref() {
            return self.fail(account, &toolkit, &sanitize_code(error)).await;
        }
        let Some(code) = q.code.filter(|c| !c.expose_secret().is_empty()) else {
            return self.fail(account, &toolkit, "invalid_request").await;
        };
        let verifier = self
            .inner
            .keyring
            .open(&OAuthState::aad(&record.id), &record.sealed_verifier)
            .map_err(|e| ConnectError::internal(&super::vault_failure("open verifier", &e)))?;
        let verifier = std::str::from_utf8(verifier.expose_secret())
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| SecretString::from(v.to_owned()));
        let spec = self
            .oauth_spec(&toolkit, &config)
            .map_err(|e| ConnectError::internal(&e))?;
        let (client_id, client_secret, _) = self
            .oauth_app_parts(&config)
            .map_err(|e| ConnectError::internal(&e))?;
        let app = OAuthApp {
            spec,
            client_id: &client_id,
            client_secret: client_secret.as_ref(),
        };
        let client = self
            .auth()
            .oauth()
            .map_err(|e| ConnectError::internal(&e))?;
        let exchanged = client
            .exchange_code(
                &app,
                &record.redirect_uri,
                code.expose_secret(),
                verifier.as_ref(),
            )
            .await;
        let tokens = match exchanged {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(account = %account.id, error = %e, "code exchange failed");
                return self.fail(account, &toolkit, &e.reason_code()).await;
            }
        };
        let expected = account.version;
        let mut next = account.clone();
        let mut secrets = SecretFields::new();
        apply_tokens(&mut next, &mut secrets, tokens);
        next.sealed = Some(
            self.inner
                .keyring
                .seal_fields(&ConnectedAccount::aad(&next.id), &secrets)
                .map_err(|e| ConnectError::internal(&super::vault_failure("seal", &e)))?,
        );
        next.status = AccountStatus::Active;
        next.status_reason = None;
        next.connected_at = Some(now());
        next.version = expected + 1;
        next.updated_at = now();
        self.write_account(&next, expected).await?;
        tracing::info!(account = %next.id, toolkit = %toolkit.slug, "account connected");
        Ok(self.finish(&next, &toolkit, true, None).await)
    }

    /// Marks the account FAILED with the provider's code.
    async fn fail(
        &self,
        account: ConnectedAccount,
        toolkit: &ToolkitDef,
        code: &str,
    ) -> ConnectResult<ConnectFinish> {
        let expected = account.version;
        let mut next = account;
        next.status = AccountStatus::Failed;
        next.status_reason = Some(code.to_owned());
        next.version = expected + 1;
        next.updated_at = now();
        self.write_account(&next, expected).await?;
        tracing::info!(account = %next.id, code, "connection failed at the provider");
        Ok(self.finish(&next, toolkit, false, Some(code)).await)
    }

    /// Where the user goes afterwards: the app's callback URL (checked against the allowlist
    /// again, which may have changed since the link was issued), else a result page.
    async fn finish(
        &self,
        account: &ConnectedAccount,
        toolkit: &ToolkitDef,
        connected: bool,
        reason: Option<&str>,
    ) -> ConnectFinish {
        if let Some(cb) = &account.callback_url {
            match self.check_callback_url(&account.project_id, cb).await {
                Ok(allowed) => {
                    if let Ok(mut url) = url::Url::parse(&allowed) {
                        {
                            let mut q = url.query_pairs_mut();
                            q.append_pair("status", if connected { "success" } else { "failed" });
                            q.append_pair("connected_account_id", account.id.as_str());
                            if let Some(r) = reason {
                                q.append_pair("error", r);
                            }
                        }
                        return ConnectFinish::Redirect(url.to_string());
                    }
                }
                Err(e) => {
                    tracing::warn!(account = %account.id, error = %e.message, "callback URL no longer allowed; showing the result page");
                }
            }
        }
        ConnectFinish::Done {
            toolkit_name: toolkit.name.clone(),
            connected,
            reason: reason.map(str::to_owned),
        }
    }
}

/// What submitting the form leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFinishOrRedirect {
    /// On to the provider (an OAuth scheme that needed fields first).
    Provider(String),
    Finish(ConnectFinish),
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolrouter_core::{AuthConfigId, AuthConfigOrigin, ProjectId, Timestamp};

    fn scheme(json: serde_json::Value) -> AuthScheme {
        serde_json::from_value(json).unwrap()
    }

    fn config(fields: &[(&str, &str)]) -> AuthConfig {
        AuthConfig {
            id: AuthConfigId::generate(),
            project_id: ProjectId::generate(),
            toolkit: "t".into(),
            name: "t".into(),
            auth_scheme: "API_KEY".into(),
            managed: false,
            origin: AuthConfigOrigin::Api,
            disabled: false,
            scopes: Vec::new(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            sealed: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn names(fields: &[FormField]) -> Vec<(&str, bool)> {
        fields.iter().map(|f| (f.name.as_str(), f.secret)).collect()
    }

    #[test]
    fn the_form_asks_exactly_for_what_the_scheme_still_needs() {
        let api_key = scheme(serde_json::json!({"type": "API_KEY",
            "fields": [{"name": "subdomain", "display_name": "Subdomain"},
                       {"name": "api_key", "display_name": "API key", "secret": true}],
            "inject": [{"in": "header", "name": "X-Key", "value": "{api_key}"}]}));
        assert_eq!(
            names(&form_fields(&api_key, &config(&[]), &[], &BTreeMap::new())),
            [("subdomain", false), ("api_key", true)]
        );
        // A value the config shares is not asked again.
        assert_eq!(
            names(&form_fields(
                &api_key,
                &config(&[("subdomain", "acme")]),
                &[],
                &BTreeMap::new()
            )),
            [("api_key", true)]
        );
        let basic = scheme(serde_json::json!({"type": "BASIC",
            "fields": [{"name": "username", "display_name": "User"},
                       {"name": "password", "display_name": "Password"}]}));
        assert_eq!(
            names(&form_fields(&basic, &config(&[]), &[], &BTreeMap::new())),
            [("username", false), ("password", true)],
            "a basic password is always secret"
        );
        let oauth = scheme(serde_json::json!({"type": "OAUTH2",
            "oauth2": {"authorize_url": "https://a.test/a", "token_url": "https://a.test/t"},
            "fields": [{"name": "subdomain", "display_name": "Subdomain"}],
            "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {access_token}"}]}));
        assert_eq!(
            names(&form_fields(&oauth, &config(&[]), &[], &BTreeMap::new())),
            [("subdomain", false)]
        );
        let given = BTreeMap::from([("subdomain".to_owned(), "acme".to_owned())]);
        assert!(form_fields(&oauth, &config(&[]), &[], &given).is_empty());
    }
}
