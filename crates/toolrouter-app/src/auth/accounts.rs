//! Connected accounts: listing and reading them (credentials masked), enabling, disabling,
//! deleting, re-authenticating; issuing connect links; choosing the account a tool call uses
//! (the precedence lives in `toolrouter_core::selection`, this loads its inputs and acts on
//! the answer); and the callback-URL allowlist that keeps the connect page from being an open
//! redirect.

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use toolrouter_catalog::model::{AuthKind, ToolkitDef};
use toolrouter_core::selection::{
    ConfigChoice, MultiAccount, Selection, SelectionError, SelectionInput, may_connect_another,
    select_account,
};
use toolrouter_core::{
    AccountStatus, AuthConfig, AuthConfigId, ConnectedAccount, ConnectedAccountId, ErrorCode,
    ProjectId, Timestamp,
};
use toolrouter_store::{AccountFilter, AuthConfigFilter, PageRequest as StorePage};

use super::configs::{config_not_found, store_page, to_page};
use super::{after, mask, now, parse_kind};
use crate::page::Page;
use crate::{App, AppError, AppResult, Caller};

/// An account as the API shows it.
#[derive(Debug, Clone)]
pub struct AccountInfo {
    pub account: ConnectedAccount,
    /// What callers see: a disabled account reads `INACTIVE`; a pending one whose link ran out
    /// reads `EXPIRED`.
    pub status: AccountStatus,
    pub auth_config: AuthConfig,
    /// Non-secret connection values, with secret ones masked (the `state.val` of the wire).
    pub values: BTreeMap<String, String>,
}

/// Filters and page of a listing.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    pub ids: Vec<String>,
    pub user_ids: Vec<String>,
    pub toolkits: Vec<String>,
    pub statuses: Vec<String>,
    pub auth_config_ids: Vec<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A request for a connect link.
#[derive(Debug, Clone, Default)]
pub struct LinkRequest {
    pub auth_config_id: String,
    pub user_id: String,
    pub callback_url: Option<String>,
    pub alias: Option<String>,
    /// A multi-account session's limits, when the link is made for one.
    pub multi_account: Option<MultiAccount>,
}

/// A connect link just issued. The token exists only here: the server keeps its hash.
#[derive(Debug)]
pub struct IssuedLink {
    pub account: ConnectedAccount,
    pub link_token: SecretString,
    pub redirect_url: String,
    pub expires_at: Timestamp,
}

/// What re-authenticating an account did.
#[derive(Debug)]
pub struct Reauth {
    pub account_id: ConnectedAccountId,
    pub status: AccountStatus,
    /// Where the user goes to authenticate again, when that is needed.
    pub redirect_url: Option<String>,
}

/// What a session says about one toolkit, for account selection.
#[derive(Debug, Clone, Default)]
pub struct AccountChoice {
    /// `connected_accounts[toolkit]`.
    pub accounts: Option<Vec<ConnectedAccountId>>,
    /// `auth_configs[toolkit]`.
    pub auth_config: Option<AuthConfigId>,
    /// The call's explicit account (an id or an alias).
    pub explicit: Option<String>,
    pub multi_account: Option<MultiAccount>,
}

/// The outcome of account selection, with the records loaded.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// No account needed: the toolkit has no auth.
    NoAuth,
    Account(ConnectedAccount),
    /// The user must connect an account, with this config.
    NeedsConnection(AuthConfig),
    /// Several accounts qualify and the session wants an explicit choice (most recent first).
    ChoiceRequired(Vec<ConnectedAccount>),
}

const MAX_USER_ID: usize = 256;
const MAX_ALIAS: usize = 100;
const MAX_CALLBACK_URLS: usize = 50;

pub(crate) fn account_not_found(id: &str) -> AppError {
    AppError::not_found("connected account", id)
        .with_fix("List connected accounts with GET /api/v3.1/connected_accounts.")
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::ValidationFailed, message)
}

fn check_user_id(user_id: &str) -> AppResult<String> {
    let u = user_id.trim();
    if u.is_empty() || u.chars().count() > MAX_USER_ID || u.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`user_id` must be 1 to {MAX_USER_ID} printable characters"
        )));
    }
    Ok(u.to_owned())
}

fn check_alias(alias: Option<&str>) -> AppResult<Option<String>> {
    let Some(a) = alias.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    if a.chars().count() > MAX_ALIAS || a.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`alias` must be at most {MAX_ALIAS} printable characters"
        )));
    }
    Ok(Some(a.to_owned()))
}

/// A callback URL or allowlist entry: absolute http(s), no credentials, no fragment.
fn parse_callback(text: &str, field: &str) -> AppResult<url::Url> {
    let url = url::Url::parse(text.trim()).map_err(|_| {
        invalid(format!("`{field}` `{text}` is not an absolute URL"))
            .with_fix("Give a full URL such as https://app.example.com/connected.")
    })?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
    {
        return Err(invalid(format!(
            "`{field}` `{text}` must be an http(s) URL without credentials or a #fragment"
        )));
    }
    Ok(url)
}

/// Whether `url` is allowed by an allowlist entry: same scheme, host and port, and a path
/// under the entry's path (on a segment boundary). The query is free.
pub fn callback_matches(url: &url::Url, entry: &url::Url) -> bool {
    if url.scheme() != entry.scheme()
        || url.host_str().map(str::to_ascii_lowercase)
            != entry.host_str().map(str::to_ascii_lowercase)
        || url.port_or_known_default() != entry.port_or_known_default()
    {
        return false;
    }
    let base = entry.path();
    let path = url.path();
    base == "/"
        || path == base
        || (path.starts_with(base) && (base.ends_with('/') || path[base.len()..].starts_with('/')))
}

impl App {
    /// Every allowed callback URL of a project: the server's and the project's own.
    async fn callback_allowlist(&self, project: &ProjectId) -> AppResult<Vec<String>> {
        let mut all = self.auth().settings.callback_urls.clone();
        all.extend(
            self.store()
                .callback_url_list(project)
                .await
                .map_err(|e| AppError::from_store("callback_url_list", &e))?,
        );
        Ok(all)
    }

    /// Checks a callback URL against the project's allowlist.
    pub(crate) async fn check_callback_url(
        &self,
        project: &ProjectId,
        text: &str,
    ) -> AppResult<String> {
        let url = parse_callback(text, "callback_url")?;
        let allowed = self.callback_allowlist(project).await?;
        let ok = allowed.iter().any(|e| {
            url::Url::parse(e)
                .map(|entry| callback_matches(&url, &entry))
                .unwrap_or(false)
        });
        if !ok {
            return Err(AppError::new(
                ErrorCode::CallbackUrlNotAllowed,
                format!("callback_url `{text}` is not on this project's allowlist"),
            )
            .with_fix("Add it (or a prefix of it) with PUT /api/v3.1/project/callback_urls, or ask the operator to add it to `callback_urls` in the configuration."));
        }
        Ok(url.to_string())
    }

    /// The project's own allowed callback URLs.
    pub async fn callback_urls(&self, caller: &Caller) -> AppResult<Vec<String>> {
        self.store()
            .callback_url_list(&caller.project_id)
            .await
            .map_err(|e| AppError::from_store("callback_url_list", &e))
    }

    /// Replaces the project's allowed callback URLs.
    pub async fn callback_urls_set(
        &self,
        caller: &Caller,
        urls: &[String],
    ) -> AppResult<Vec<String>> {
        if urls.len() > MAX_CALLBACK_URLS {
            return Err(invalid(format!(
                "at most {MAX_CALLBACK_URLS} callback URLs, got {}",
                urls.len()
            )));
        }
        let mut problems = Vec::new();
        let mut clean = Vec::new();
        for (i, u) in urls.iter().enumerate() {
            match parse_callback(u, &format!("urls[{i}]")) {
                Ok(parsed) if parsed.query().is_some() => {
                    problems.push(format!("`urls[{i}]` must not have a query"));
                }
                Ok(parsed) => clean.push(parsed.to_string()),
                Err(e) => problems.push(e.message),
            }
        }
        if !problems.is_empty() {
            return Err(invalid(problems.join("; ")).with_errors(problems));
        }
        clean.sort();
        clean.dedup();
        self.store()
            .callback_url_replace(&caller.project_id, &clean, now())
            .await
            .map_err(|e| AppError::from_store("callback_url_replace", &e))?;
        Ok(clean)
    }

    /// Loads an account of the project.
    pub(crate) async fn account_load(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> AppResult<ConnectedAccount> {
        let parsed = ConnectedAccountId::parse(id.trim()).ok_or_else(|| account_not_found(id))?;
        self.store()
            .account_get(project, &parsed)
            .await
            .map_err(|e| AppError::from_store("account_get", &e))?
            .ok_or_else(|| account_not_found(id))
    }

    /// A pending account whose link ran out is EXPIRED; records it (best effort: a concurrent
    /// change wins).
    pub(crate) async fn expire_stale_link(&self, mut a: ConnectedAccount) -> ConnectedAccount {
        let stale =
            a.status == AccountStatus::Initiated && a.link_expires_at.is_some_and(|t| t <= now());
        if !stale {
            return a;
        }
        let expected = a.version;
        a.status = AccountStatus::Expired;
        a.status_reason = Some("the connect link expired before the user finished".to_owned());
        a.version += 1;
        a.updated_at = now();
        if let Err(e) = self.store().account_update(&a, expected).await {
            tracing::warn!(account = %a.id, error = %e, "could not record an expired link");
        }
        a
    }

    fn account_info(&self, account: ConnectedAccount, config: AuthConfig) -> AccountInfo {
        let status = if account.disabled {
            AccountStatus::Inactive
        } else {
            account.status
        };
        let mut values: BTreeMap<String, String> = account.params.clone();
        if let Some(sealed) = &account.sealed {
            match self
                .inner
                .keyring
                .open_fields(&ConnectedAccount::aad(&account.id), sealed)
            {
                Ok(secrets) => {
                    for (k, v) in secrets.iter() {
                        values.insert(k.to_owned(), mask(v.expose_secret()));
                    }
                }
                Err(e) => {
                    tracing::error!(account = %account.id, error = %e, "cannot open account credentials");
                }
            }
        }
        AccountInfo {
            account,
            status,
            auth_config: config,
            values,
        }
    }

    async fn info_for(&self, account: ConnectedAccount) -> AppResult<AccountInfo> {
        let config = self
            .store()
            .auth_config_get(&account.project_id, &account.auth_config_id)
            .await
            .map_err(|e| AppError::from_store("auth_config_get", &e))?
            .ok_or_else(|| config_not_found(account.auth_config_id.as_str()))?;
        let account = self.expire_stale_link(account).await;
        Ok(self.account_info(account, config))
    }

    /// One account of the caller's project (another project's id is "not found").
    pub async fn account_get(&self, caller: &Caller, id: &str) -> AppResult<AccountInfo> {
        let account = self.account_load(&caller.project_id, id).await?;
        self.info_for(account).await
    }

    pub async fn account_list(
        &self,
        caller: &Caller,
        query: &AccountQuery,
    ) -> AppResult<Page<AccountInfo>> {
        let page = store_page(query.limit, query.cursor.as_deref(), |c| {
            ConnectedAccountId::parse(c).is_some()
        })?;
        let mut statuses = Vec::new();
        for s in &query.statuses {
            statuses.push(
                AccountStatus::parse(&s.trim().to_ascii_uppercase()).ok_or_else(|| {
                    invalid(format!("`statuses` has an unknown status `{s}`")).with_fix(
                    "Use INITIALIZING, INITIATED, ACTIVE, FAILED, EXPIRED, INACTIVE or REVOKED.",
                )
                })?,
            );
        }
        let ids_of = |list: &[String]| list.iter().map(|s| s.trim().to_owned()).collect::<Vec<_>>();
        let ids: Vec<ConnectedAccountId> = query
            .ids
            .iter()
            .filter_map(|s| ConnectedAccountId::parse(s.trim()))
            .collect();
        let config_ids: Vec<AuthConfigId> = query
            .auth_config_ids
            .iter()
            .filter_map(|s| AuthConfigId::parse(s.trim()))
            .collect();
        // Ids of the wrong shape match nothing, as unknown ones do.
        if (!query.ids.is_empty() && ids.is_empty())
            || (!query.auth_config_ids.is_empty() && config_ids.is_empty())
        {
            return Ok(to_page(Vec::new(), None, 0, 0, page.limit));
        }
        let filter = AccountFilter {
            ids,
            user_ids: ids_of(&query.user_ids),
            toolkits: ids_of(&query.toolkits)
                .into_iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
            statuses,
            auth_config_ids: config_ids,
        };
        let found = self
            .store()
            .account_list(&caller.project_id, &filter, &page)
            .await
            .map_err(|e| AppError::from_store("account_list", &e))?;
        let mut configs: BTreeMap<AuthConfigId, AuthConfig> = BTreeMap::new();
        let mut items = Vec::with_capacity(found.items.len());
        for a in found.items {
            if !configs.contains_key(&a.auth_config_id) {
                let c = self
                    .store()
                    .auth_config_get(&caller.project_id, &a.auth_config_id)
                    .await
                    .map_err(|e| AppError::from_store("auth_config_get", &e))?
                    .ok_or_else(|| config_not_found(a.auth_config_id.as_str()))?;
                configs.insert(a.auth_config_id.clone(), c);
            }
            let config = configs[&a.auth_config_id].clone();
            let a = self.expire_stale_link(a).await;
            items.push(self.account_info(a, config));
        }
        Ok(to_page(
            items,
            found.next_cursor,
            found.total,
            found.offset,
            page.limit,
        ))
    }

    /// Deletes an account and its credentials.
    pub async fn account_delete(&self, caller: &Caller, id: &str) -> AppResult<()> {
        let parsed = ConnectedAccountId::parse(id.trim()).ok_or_else(|| account_not_found(id))?;
        let done = self
            .store()
            .account_delete(&caller.project_id, &parsed)
            .await
            .map_err(|e| AppError::from_store("account_delete", &e))?;
        if !done {
            return Err(account_not_found(id));
        }
        tracing::info!(project = %caller.project_id, account = %parsed, "connected account deleted");
        Ok(())
    }

    /// Applies `change` to an account, retrying when a concurrent writer got there first.
    pub(crate) async fn account_modify(
        &self,
        project: &ProjectId,
        id: &str,
        change: impl Fn(&mut ConnectedAccount) -> AppResult<()>,
    ) -> AppResult<ConnectedAccount> {
        for _ in 0..5 {
            let mut a = self.account_load(project, id).await?;
            let expected = a.version;
            change(&mut a)?;
            a.version = expected + 1;
            a.updated_at = now();
            if self
                .store()
                .account_update(&a, expected)
                .await
                .map_err(|e| AppError::from_store("account_update", &e))?
            {
                return Ok(a);
            }
        }
        Err(AppError::new(
            ErrorCode::Conflict,
            format!("connected account {id} is being changed concurrently; try again"),
        ))
    }

    /// Enables or disables an account; a disabled account is never used for tool calls.
    pub async fn account_set_enabled(
        &self,
        caller: &Caller,
        id: &str,
        enabled: bool,
    ) -> AppResult<()> {
        self.account_modify(&caller.project_id, id, |a| {
            a.disabled = !enabled;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Gets fresh credentials for an account: an OAuth2 account with a refresh token is
    /// refreshed at once; otherwise (or if that fails) a new connect link is issued and the
    /// account goes back to INITIATED until the user completes it.
    pub async fn account_reauth(
        &self,
        caller: &Caller,
        id: &str,
        callback_url: Option<&str>,
    ) -> AppResult<Reauth> {
        let account = self.account_load(&caller.project_id, id).await?;
        let callback = match callback_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => Some(self.check_callback_url(&caller.project_id, u).await?),
            None => account.callback_url.clone(),
        };
        let config = self
            .auth_config_load(&caller.project_id, account.auth_config_id.as_str())
            .await?;
        if account.status == AccountStatus::Active
            && parse_kind(&config.auth_scheme) == Some(AuthKind::Oauth2)
            && let Ok(refreshed) = self.refresh_now(&account).await
        {
            return Ok(Reauth {
                account_id: refreshed.id,
                status: refreshed.status,
                redirect_url: None,
            });
        }
        let link = toolrouter_vault::new_link_token()
            .map_err(|e| super::vault_failure("link token", &e))?;
        let expires_at = after(now(), self.auth().settings.link_ttl);
        let hash = link.hash.to_vec();
        self.account_modify(&caller.project_id, id, |a| {
            a.status = AccountStatus::Initiated;
            a.status_reason = Some("re-authentication requested".to_owned());
            a.link_hash = Some(hash.clone());
            a.link_expires_at = Some(expires_at);
            a.callback_url = callback.clone();
            Ok(())
        })
        .await?;
        Ok(Reauth {
            account_id: account.id,
            status: AccountStatus::Initiated,
            redirect_url: Some(self.link_url(&link.token)),
        })
    }

    pub(crate) fn link_url(&self, token: &SecretString) -> String {
        format!(
            "{}/link/{}",
            self.auth().settings.public_url,
            token.expose_secret()
        )
    }

    /// Issues a connect link: a new INITIATED account for `user_id` under the auth config.
    pub async fn account_link(&self, caller: &Caller, req: LinkRequest) -> AppResult<IssuedLink> {
        let config = self
            .auth_config_load(&caller.project_id, &req.auth_config_id)
            .await?;
        self.link_with_config(caller, config, req).await
    }

    /// Issues a connect link for a toolkit, choosing the auth config as account selection does
    /// (the session's pinned config, an existing one, or the managed one).
    pub async fn account_link_for_toolkit(
        &self,
        caller: &Caller,
        toolkit: &str,
        auth_config: Option<AuthConfigId>,
        req: LinkRequest,
    ) -> AppResult<IssuedLink> {
        let toolkit = self.catalog().toolkit(toolkit)?;
        let config = self
            .connect_config(&caller.project_id, &toolkit, auth_config.as_ref())
            .await?;
        self.link_with_config(caller, config, req).await
    }

    async fn link_with_config(
        &self,
        caller: &Caller,
        config: AuthConfig,
        req: LinkRequest,
    ) -> AppResult<IssuedLink> {
        if config.disabled {
            return Err(AppError::new(
                ErrorCode::AuthConfigDisabled,
                format!("auth config {} is disabled", config.id),
            )
            .with_fix(
                "Enable it with PATCH /api/v3.1/auth_configs/{id}/ENABLED, or use another.",
            ));
        }
        self.catalog().toolkit(&config.toolkit)?;
        let user_id = check_user_id(&req.user_id)?;
        let alias = check_alias(req.alias.as_deref())?;
        let callback_url = match req.callback_url.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => Some(self.check_callback_url(&caller.project_id, u).await?),
            _ => None,
        };
        let existing = self
            .user_accounts(&caller.project_id, &user_id, &config.toolkit)
            .await?;
        let usable: Vec<&ConnectedAccount> = existing.iter().filter(|a| a.is_usable()).collect();
        if let Some(alias) = &alias
            && let Some(taken) = usable.iter().find(|a| a.alias.as_deref() == Some(alias))
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "alias `{alias}` is already used by connected account {} of this user and toolkit",
                    taken.id
                ),
            )
            .with_fix("Choose another alias, or delete that account first."));
        }
        may_connect_another(usable.len(), req.multi_account).map_err(|m| {
            AppError::new(ErrorCode::AccountLimitReached, m)
                .with_fix("Delete or disable one of the user's accounts for this toolkit first.")
        })?;
        let link = toolrouter_vault::new_link_token()
            .map_err(|e| super::vault_failure("link token", &e))?;
        let at = now();
        let expires_at = after(at, self.auth().settings.link_ttl);
        let account = ConnectedAccount {
            id: ConnectedAccountId::generate(),
            project_id: caller.project_id.clone(),
            user_id,
            toolkit: config.toolkit.clone(),
            auth_config_id: config.id.clone(),
            status: AccountStatus::Initiated,
            status_reason: None,
            alias,
            disabled: false,
            params: BTreeMap::new(),
            sealed: None,
            expires_at: None,
            version: 1,
            callback_url,
            link_hash: Some(link.hash.to_vec()),
            link_expires_at: Some(expires_at),
            connected_at: None,
            created_at: at,
            updated_at: at,
        };
        self.store()
            .account_insert(&account)
            .await
            .map_err(|e| AppError::from_store("account_insert", &e))?;
        tracing::info!(project = %caller.project_id, account = %account.id, toolkit = %account.toolkit, "connect link issued");
        Ok(IssuedLink {
            redirect_url: self.link_url(&link.token),
            link_token: link.token,
            expires_at,
            account,
        })
    }

    /// A user's accounts for a toolkit, any status.
    async fn user_accounts(
        &self,
        project: &ProjectId,
        user_id: &str,
        toolkit: &str,
    ) -> AppResult<Vec<ConnectedAccount>> {
        let filter = AccountFilter {
            user_ids: vec![user_id.to_owned()],
            toolkits: vec![toolkit.to_owned()],
            ..AccountFilter::default()
        };
        Ok(self
            .store()
            .account_list(
                project,
                &filter,
                &StorePage {
                    cursor: None,
                    limit: 1000,
                },
            )
            .await
            .map_err(|e| AppError::from_store("account_list", &e))?
            .items)
    }

    async fn toolkit_configs(
        &self,
        project: &ProjectId,
        toolkit: &str,
    ) -> AppResult<Vec<AuthConfig>> {
        let filter = AuthConfigFilter {
            toolkits: vec![toolkit.to_owned()],
            include_disabled: true,
            ..AuthConfigFilter::default()
        };
        Ok(self
            .store()
            .auth_config_list(
                project,
                &filter,
                &StorePage {
                    cursor: None,
                    limit: 1000,
                },
            )
            .await
            .map_err(|e| AppError::from_store("auth_config_list", &e))?
            .items
            .into_iter()
            .map(|(c, _)| c)
            .collect())
    }

    /// The config a new connection for the toolkit uses (selection steps 2 to 5).
    async fn connect_config(
        &self,
        project: &ProjectId,
        toolkit: &ToolkitDef,
        pinned: Option<&AuthConfigId>,
    ) -> AppResult<AuthConfig> {
        let configs = self.toolkit_configs(project, &toolkit.slug).await?;
        let input = SelectionInput {
            toolkit: &toolkit.slug,
            account_override: None,
            config_override: pinned,
            explicit: None,
            multi_account: None,
            accounts: &[],
            configs: &configs,
            managed_available: !self.managed_schemes(toolkit).is_empty(),
        };
        match select_account(&input).map_err(|e| selection_error(&e))? {
            Selection::Connect(ConfigChoice::Existing(id)) => configs
                .into_iter()
                .find(|c| c.id == id)
                .ok_or_else(|| config_not_found(id.as_str())),
            Selection::Connect(ConfigChoice::CreateManaged) => {
                self.managed_config_for(project, toolkit).await
            }
            Selection::Use(_) | Selection::ChoiceRequired(_) => Err(AppError::new(
                ErrorCode::Internal,
                "Internal error while choosing an auth config.",
            )),
        }
    }

    /// Account selection for one user and toolkit (see `toolrouter_core::selection`).
    pub async fn account_resolve(
        &self,
        project: &ProjectId,
        user_id: &str,
        toolkit: &Arc<ToolkitDef>,
        choice: &AccountChoice,
    ) -> AppResult<Resolved> {
        if super::is_no_auth(toolkit) {
            return Ok(Resolved::NoAuth);
        }
        let accounts = self.user_accounts(project, user_id, &toolkit.slug).await?;
        let configs = self.toolkit_configs(project, &toolkit.slug).await?;
        let input = SelectionInput {
            toolkit: &toolkit.slug,
            account_override: choice.accounts.as_deref(),
            config_override: choice.auth_config.as_ref(),
            explicit: choice.explicit.as_deref(),
            multi_account: choice.multi_account,
            accounts: &accounts,
            configs: &configs,
            managed_available: !self.managed_schemes(toolkit).is_empty(),
        };
        let by_id = |id: &ConnectedAccountId| accounts.iter().find(|a| &a.id == id).cloned();
        match select_account(&input).map_err(|e| selection_error(&e))? {
            Selection::Use(id) => by_id(&id)
                .map(Resolved::Account)
                .ok_or_else(|| account_not_found(id.as_str())),
            Selection::ChoiceRequired(ids) => Ok(Resolved::ChoiceRequired(
                ids.iter().filter_map(by_id).collect(),
            )),
            Selection::Connect(ConfigChoice::Existing(id)) => configs
                .into_iter()
                .find(|c| c.id == id)
                .map(Resolved::NeedsConnection)
                .ok_or_else(|| config_not_found(id.as_str())),
            Selection::Connect(ConfigChoice::CreateManaged) => Ok(Resolved::NeedsConnection(
                self.managed_config_for(project, toolkit).await?,
            )),
        }
    }
}

/// A selection failure as the caller sees it.
pub(crate) fn selection_error(e: &SelectionError) -> AppError {
    let code = match e {
        SelectionError::UnknownPinnedAccounts { .. }
        | SelectionError::UnknownPinnedConfig { .. }
        | SelectionError::UnknownChoice { .. } => ErrorCode::NotFound,
        SelectionError::PinnedAccountNotUsable { .. } => ErrorCode::ConnectedAccountNotActive,
        SelectionError::PinnedConfigDisabled { .. } => ErrorCode::AuthConfigDisabled,
        SelectionError::NoManagedAuth { .. } => ErrorCode::NoManagedAuth,
    };
    let fix = match e {
        SelectionError::NoManagedAuth { .. } => {
            "Create an auth config with your own credentials (POST /api/v3.1/auth_configs with `use_custom_auth`)."
        }
        SelectionError::PinnedAccountNotUsable { .. } => {
            "Reconnect the account (POST /api/v3.1/connected_accounts/{id}/refresh) or pin another."
        }
        _ => "List the user's accounts with GET /api/v3.1/connected_accounts?user_ids=….",
    };
    AppError::new(code, e.to_string()).with_fix(fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, entry: &str) -> bool {
        callback_matches(
            &url::Url::parse(url).unwrap(),
            &url::Url::parse(entry).unwrap(),
        )
    }

    #[test]
    fn callback_urls_match_origin_and_path_prefix_only() {
        let rows = [
            ("https://app.test/cb", "https://app.test/cb", true),
            ("https://app.test/cb?x=1", "https://app.test/cb", true),
            ("https://app.test/cb/deeper", "https://app.test/cb", true),
            ("https://app.test/cbx", "https://app.test/cb", false),
            ("https://app.test/anything", "https://app.test/", true),
            ("https://app.test/anything", "https://app.test", true),
            ("https://APP.test/cb", "https://app.test/cb", true),
            ("http://app.test/cb", "https://app.test/cb", false),
            ("https://app.test:8443/cb", "https://app.test/cb", false),
            ("https://app.test:443/cb", "https://app.test/cb", true),
            ("https://evil.test/cb", "https://app.test/cb", false),
            (
                "https://app.test.evil.test/cb",
                "https://app.test/cb",
                false,
            ),
            ("https://app.test/other/", "https://app.test/cb/", false),
        ];
        for (url, entry, expect) in rows {
            assert_eq!(check(url, entry), expect, "{url} against {entry}");
        }
    }

    #[test]
    fn callback_urls_must_be_plain_http_urls() {
        for bad in [
            "javascript:alert(1)",
            "/relative",
            "https://user:pw@app.test/",
            "https://app.test/#frag",
            "ftp://app.test/",
        ] {
            assert!(parse_callback(bad, "callback_url").is_err(), "{bad}");
        }
        assert!(parse_callback("https://app.test/ok?x=1", "callback_url").is_ok());
    }
}
