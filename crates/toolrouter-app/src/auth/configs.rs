//! Auth configs: how a project's users authenticate with a toolkit.
//!
//! A managed config stores nothing secret: its OAuth app is the operator's, looked up by toolkit
//! at use time, so rotating the operator's client secret needs no database change. A custom
//! config holds the project's own OAuth app (`client_id`, sealed `client_secret`) or, for
//! API-key / bearer / basic schemes, values shared by every connection (sealed when the scheme
//! marks them secret). Every lookup is scoped to the caller's project.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use toolrouter_catalog::model::{AuthField, AuthKind, ToolkitDef};
use toolrouter_core::{AuthConfig, AuthConfigId, AuthConfigOrigin, ErrorCode, ProjectId};
use toolrouter_store::{AuthConfigFilter, PageRequest as StorePage, StoreError};
use toolrouter_vault::SecretFields;

use super::{mask, now, parse_kind, scheme_of, vault_failure};
use crate::page::Page;
use crate::{App, AppError, AppResult, Caller};

/// `use_composio_managed_auth` or `use_custom_auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthConfigKind {
    Managed,
    Custom,
}

/// A request to create an auth config.
#[derive(Debug, Clone)]
pub struct NewAuthConfig {
    pub toolkit: String,
    pub kind: AuthConfigKind,
    pub name: Option<String>,
    /// Required for custom configs of toolkits with several schemes; else the toolkit's first
    /// usable one.
    pub auth_scheme: Option<String>,
    /// Settings by name (`client_id`, `client_secret`, or a scheme's fields).
    pub credentials: BTreeMap<String, SecretString>,
    /// OAuth scopes instead of the toolkit's defaults.
    pub scopes: Option<Vec<String>>,
}

/// A change to an auth config; absent parts stay as they are.
#[derive(Debug, Clone, Default)]
pub struct AuthConfigChange {
    pub name: Option<String>,
    /// Settings to set (merged over the stored ones).
    pub credentials: BTreeMap<String, SecretString>,
    pub scopes: Option<Vec<String>>,
}

/// Filters and page of a listing.
#[derive(Debug, Clone, Default)]
pub struct AuthConfigQuery {
    pub toolkits: Vec<String>,
    pub managed: Option<bool>,
    pub include_disabled: bool,
    pub search: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// An auth config as the API shows it: secrets masked.
#[derive(Debug, Clone)]
pub struct AuthConfigInfo {
    pub config: AuthConfig,
    pub connections: u64,
    pub toolkit_logo: String,
    /// Every setting, secret ones masked.
    pub credentials: BTreeMap<String, String>,
    /// What a user supplies when connecting.
    pub expected_input_fields: Vec<AuthField>,
}

const OAUTH_SETTINGS: [&str; 2] = ["client_id", "client_secret"];
const MAX_NAME: usize = 200;
const MAX_VALUE: usize = 8192;

pub(crate) fn config_not_found(id: &str) -> AppError {
    AppError::not_found("auth config", id)
        .with_fix("List your auth configs with GET /api/v3.1/auth_configs.")
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::ValidationFailed, message)
}

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(invalid(format!(
            "`auth_config.name` must be 1 to {MAX_NAME} characters"
        )));
    }
    Ok(name.to_owned())
}

fn check_scopes(scopes: &[String]) -> AppResult<Vec<String>> {
    let scopes: Vec<String> = scopes
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = scopes
        .iter()
        .find(|s| s.len() > 200 || s.chars().any(char::is_whitespace))
    {
        return Err(invalid(format!(
            "scope `{bad}` is not a single scope: give scopes as a list of names without spaces"
        )));
    }
    Ok(scopes)
}

/// Splits settings into stored-plain and sealed parts, refusing names the scheme does not know.
fn split_settings(
    kind: AuthKind,
    fields: &[AuthField],
    given: BTreeMap<String, SecretString>,
) -> AppResult<(BTreeMap<String, String>, SecretFields)> {
    let mut plain = BTreeMap::new();
    let mut secret = SecretFields::new();
    let mut unknown = Vec::new();
    for (name, value) in given {
        if value.expose_secret().len() > MAX_VALUE {
            return Err(invalid(format!(
                "`credentials.{name}` is longer than {MAX_VALUE} bytes"
            )));
        }
        let is_secret = if kind == AuthKind::Oauth2 {
            match name.as_str() {
                "client_id" => false,
                "client_secret" => true,
                _ => {
                    unknown.push(name);
                    continue;
                }
            }
        } else {
            match fields.iter().find(|f| f.name == name) {
                Some(f) => f.secret || (kind == AuthKind::Basic && name == "password"),
                None => {
                    unknown.push(name);
                    continue;
                }
            }
        };
        if is_secret {
            secret.insert(name, value);
        } else {
            plain.insert(name, value.expose_secret().to_owned());
        }
    }
    if !unknown.is_empty() {
        let accepted: Vec<&str> = if kind == AuthKind::Oauth2 {
            OAUTH_SETTINGS.to_vec()
        } else {
            fields.iter().map(|f| f.name.as_str()).collect()
        };
        return Err(invalid(format!(
            "unknown credential(s) for a {} auth config: {}",
            kind.as_str(),
            unknown.join(", ")
        ))
        .with_fix(format!(
            "Accepted credentials: {} (plus `scopes`).",
            if accepted.is_empty() {
                "none".to_owned()
            } else {
                accepted.join(", ")
            }
        )));
    }
    Ok((plain, secret))
}

impl App {
    fn toolkit_for_config(&self, slug: &str) -> AppResult<std::sync::Arc<ToolkitDef>> {
        self.catalog().toolkit(slug)
    }

    fn info(&self, config: AuthConfig, connections: u64) -> AppResult<AuthConfigInfo> {
        let toolkit = self.catalog().toolkit(&config.toolkit).ok();
        let mut credentials: BTreeMap<String, String> = config.fields.clone();
        let secrets = self.config_secrets(&config)?;
        for (name, value) in secrets.iter() {
            credentials.insert(name.to_owned(), mask(value.expose_secret()));
        }
        if config.managed {
            credentials.insert("managed_by".to_owned(), "operator".to_owned());
        }
        let expected_input_fields = toolkit
            .as_ref()
            .and_then(|tk| scheme_of(tk, &config.auth_scheme))
            .map(|s| {
                s.fields
                    .iter()
                    .filter(|f| !config.fields.contains_key(&f.name))
                    .filter(|f| !secrets.names().any(|n| n == f.name))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(AuthConfigInfo {
            toolkit_logo: toolkit.map(|tk| tk.logo.clone()).unwrap_or_default(),
            config,
            connections,
            credentials,
            expected_input_fields,
        })
    }

    /// The scheme a managed config of this toolkit uses, or why there is none.
    fn managed_scheme_for(&self, toolkit: &ToolkitDef) -> AppResult<AuthKind> {
        self.managed_schemes(toolkit).first().copied().ok_or_else(|| {
            AppError::new(
                ErrorCode::NoManagedAuth,
                format!(
                    "toolkit `{}` has no managed auth on this server: the operator configured no OAuth app for it",
                    toolkit.slug
                ),
            )
            .with_fix("Create a custom auth config (`use_custom_auth`) with your own OAuth app's client_id and client_secret, or ask the operator to add `[managed_auth.<toolkit>]` to the configuration.")
        })
    }

    /// Creates an auth config.
    pub async fn auth_config_create(
        &self,
        caller: &Caller,
        req: NewAuthConfig,
    ) -> AppResult<AuthConfigInfo> {
        let toolkit = self.toolkit_for_config(&req.toolkit)?;
        if super::is_no_auth(&toolkit) {
            return Err(invalid(format!(
                "toolkit `{}` needs no authentication, so it takes no auth config",
                toolkit.slug
            ))
            .with_fix("Call its tools directly; no connected account is needed."));
        }
        let kind = match (req.kind, req.auth_scheme.as_deref()) {
            (_, Some(s)) => {
                let kind = parse_kind(s).ok_or_else(|| {
                    invalid(format!(
                        "`auth_config.authScheme` `{s}` is not an auth scheme"
                    ))
                    .with_fix("Use one of OAUTH2, API_KEY, BEARER_TOKEN, BASIC.")
                })?;
                if !toolkit.auth_schemes.iter().any(|x| x.kind == kind) {
                    let offered: Vec<&str> = toolkit
                        .auth_schemes
                        .iter()
                        .map(|x| x.kind.as_str())
                        .collect();
                    return Err(invalid(format!(
                        "toolkit `{}` does not support {}; it supports {}",
                        toolkit.slug,
                        kind.as_str(),
                        offered.join(", ")
                    )));
                }
                if req.kind == AuthConfigKind::Managed
                    && !self.managed_schemes(&toolkit).contains(&kind)
                {
                    return Err(AppError::new(
                        ErrorCode::NoManagedAuth,
                        format!(
                            "toolkit `{}` has no managed {} auth on this server",
                            toolkit.slug,
                            kind.as_str()
                        ),
                    )
                    .with_fix(
                        "Use `use_custom_auth` with your own credentials, or leave `authScheme` out.",
                    ));
                }
                kind
            }
            (AuthConfigKind::Managed, None) => self.managed_scheme_for(&toolkit)?,
            (AuthConfigKind::Custom, None) => toolkit
                .auth_schemes
                .iter()
                .map(|s| s.kind)
                .find(|k| *k != AuthKind::NoAuth)
                .ok_or_else(|| invalid("the toolkit has no auth scheme"))?,
        };
        let scheme = toolkit
            .auth_schemes
            .iter()
            .find(|s| s.kind == kind)
            .ok_or_else(|| invalid("the toolkit has no such auth scheme"))?;
        let (fields, secrets) = match req.kind {
            // A managed config carries nothing: the operator's app is used.
            AuthConfigKind::Managed => (BTreeMap::new(), SecretFields::new()),
            AuthConfigKind::Custom => split_settings(kind, &scheme.fields, req.credentials)?,
        };
        if req.kind == AuthConfigKind::Custom
            && kind == AuthKind::Oauth2
            && !fields.contains_key("client_id")
        {
            return Err(invalid(
                "a custom OAUTH2 auth config needs `credentials.client_id` (and usually `client_secret`)",
            )
            .with_fix(format!(
                "Register an OAuth app with the provider, set its redirect URI to {}, and pass its client_id and client_secret.",
                self.auth().redirect_uri()
            )));
        }
        let scopes = check_scopes(req.scopes.as_deref().unwrap_or_default())?;
        let name = match req.name.as_deref() {
            Some(n) => check_name(n)?,
            None => format!("{} {}", toolkit.name, kind.as_str()),
        };
        let at = now();
        let id = AuthConfigId::generate();
        let sealed = if secrets.is_empty() {
            None
        } else {
            Some(
                self.inner
                    .keyring
                    .seal_fields(&AuthConfig::aad(&id), &secrets)
                    .map_err(|e| vault_failure("seal auth config", &e))?,
            )
        };
        let config = AuthConfig {
            id,
            project_id: caller.project_id.clone(),
            toolkit: toolkit.slug.clone(),
            name,
            auth_scheme: kind.as_str().to_owned(),
            managed: req.kind == AuthConfigKind::Managed,
            origin: AuthConfigOrigin::Api,
            disabled: false,
            scopes,
            fields,
            sealed,
            created_at: at,
            updated_at: at,
        };
        self.store()
            .auth_config_insert(&config)
            .await
            .map_err(|e| AppError::from_store("auth_config_insert", &e))?;
        tracing::info!(project = %caller.project_id, auth_config = %config.id, toolkit = %config.toolkit, "auth config created");
        self.info(config, 0)
    }

    /// The project's managed config for a toolkit, created on first need (selection step 4).
    /// Two servers racing both end up with the same one.
    pub(crate) async fn managed_config_for(
        &self,
        project: &ProjectId,
        toolkit: &ToolkitDef,
    ) -> AppResult<AuthConfig> {
        let kind = self.managed_scheme_for(toolkit)?;
        let filter = AuthConfigFilter {
            toolkits: vec![toolkit.slug.clone()],
            include_disabled: true,
            ..AuthConfigFilter::default()
        };
        let find = || async {
            let page = self
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
                .map_err(|e| AppError::from_store("auth_config_list", &e))?;
            Ok::<_, AppError>(
                page.items
                    .into_iter()
                    .map(|(c, _)| c)
                    .find(|c| c.origin == AuthConfigOrigin::ToolRouter),
            )
        };
        if let Some(found) = find().await? {
            return Ok(found);
        }
        let at = now();
        let config = AuthConfig {
            id: AuthConfigId::generate(),
            project_id: project.clone(),
            toolkit: toolkit.slug.clone(),
            name: format!("{} (managed)", toolkit.name),
            auth_scheme: kind.as_str().to_owned(),
            managed: true,
            origin: AuthConfigOrigin::ToolRouter,
            disabled: false,
            scopes: Vec::new(),
            fields: BTreeMap::new(),
            sealed: None,
            created_at: at,
            updated_at: at,
        };
        match self.store().auth_config_insert(&config).await {
            Ok(()) => {
                tracing::info!(project = %project, auth_config = %config.id, toolkit = %toolkit.slug, "managed auth config created for account selection");
                Ok(config)
            }
            Err(StoreError::Conflict { .. }) => find().await?.ok_or_else(|| {
                AppError::new(
                    ErrorCode::Internal,
                    "Internal error while creating an auth config.",
                )
            }),
            Err(e) => Err(AppError::from_store("auth_config_insert", &e)),
        }
    }

    /// Loads a config of the caller's project.
    pub(crate) async fn auth_config_load(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> AppResult<AuthConfig> {
        let parsed = AuthConfigId::parse(id.trim()).ok_or_else(|| config_not_found(id))?;
        self.store()
            .auth_config_get(project, &parsed)
            .await
            .map_err(|e| AppError::from_store("auth_config_get", &e))?
            .ok_or_else(|| config_not_found(id))
    }

    async fn connections_of(&self, config: &AuthConfig) -> AppResult<u64> {
        let filter = toolrouter_store::AccountFilter {
            auth_config_ids: vec![config.id.clone()],
            ..toolrouter_store::AccountFilter::default()
        };
        Ok(self
            .store()
            .account_list(
                &config.project_id,
                &filter,
                &StorePage {
                    cursor: None,
                    limit: 1,
                },
            )
            .await
            .map_err(|e| AppError::from_store("account_list", &e))?
            .total)
    }

    pub async fn auth_config_get(&self, caller: &Caller, id: &str) -> AppResult<AuthConfigInfo> {
        let config = self.auth_config_load(&caller.project_id, id).await?;
        let n = self.connections_of(&config).await?;
        self.info(config, n)
    }

    pub async fn auth_config_list(
        &self,
        caller: &Caller,
        query: &AuthConfigQuery,
    ) -> AppResult<Page<AuthConfigInfo>> {
        let page = store_page(query.limit, query.cursor.as_deref(), |c| {
            AuthConfigId::parse(c).is_some()
        })?;
        let filter = AuthConfigFilter {
            toolkits: query
                .toolkits
                .iter()
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect(),
            managed: query.managed,
            include_disabled: query.include_disabled,
            search: query.search.clone(),
        };
        let found = self
            .store()
            .auth_config_list(&caller.project_id, &filter, &page)
            .await
            .map_err(|e| AppError::from_store("auth_config_list", &e))?;
        let limit = page.limit;
        let items = found
            .items
            .into_iter()
            .map(|(c, n)| self.info(c, n))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(to_page(
            items,
            found.next_cursor,
            found.total,
            found.offset,
            limit,
        ))
    }

    pub async fn auth_config_update(
        &self,
        caller: &Caller,
        id: &str,
        change: AuthConfigChange,
    ) -> AppResult<AuthConfigInfo> {
        let mut config = self.auth_config_load(&caller.project_id, id).await?;
        if let Some(name) = &change.name {
            config.name = check_name(name)?;
        }
        if let Some(scopes) = &change.scopes {
            config.scopes = check_scopes(scopes)?;
        }
        if !change.credentials.is_empty() {
            if config.managed {
                return Err(invalid(
                    "a managed auth config has no credentials to change: its OAuth app is the operator's",
                )
                .with_fix("Create a custom auth config (`use_custom_auth`) to use your own app."));
            }
            let toolkit = self.toolkit_for_config(&config.toolkit)?;
            let kind = parse_kind(&config.auth_scheme)
                .ok_or_else(|| invalid("the stored auth scheme is unknown"))?;
            let fields = scheme_of(&toolkit, &config.auth_scheme)
                .map(|s| s.fields.clone())
                .unwrap_or_default();
            let (plain, secrets) = split_settings(kind, &fields, change.credentials)?;
            let mut merged = self.config_secrets(&config)?;
            for (name, value) in plain {
                merged.remove(&name);
                config.fields.insert(name, value);
            }
            for (name, value) in secrets.iter() {
                config.fields.remove(name);
                merged.insert(name, value.clone());
            }
            config.sealed = if merged.is_empty() {
                None
            } else {
                Some(
                    self.inner
                        .keyring
                        .seal_fields(&AuthConfig::aad(&config.id), &merged)
                        .map_err(|e| vault_failure("seal auth config", &e))?,
                )
            };
        }
        config.updated_at = now();
        let done = self
            .store()
            .auth_config_update(&config)
            .await
            .map_err(|e| AppError::from_store("auth_config_update", &e))?;
        if !done {
            return Err(config_not_found(id));
        }
        let n = self.connections_of(&config).await?;
        self.info(config, n)
    }

    /// Enables or disables a config; accounts of a disabled config are never selected.
    pub async fn auth_config_set_enabled(
        &self,
        caller: &Caller,
        id: &str,
        enabled: bool,
    ) -> AppResult<()> {
        let mut config = self.auth_config_load(&caller.project_id, id).await?;
        config.disabled = !enabled;
        config.updated_at = now();
        let done = self
            .store()
            .auth_config_update(&config)
            .await
            .map_err(|e| AppError::from_store("auth_config_update", &e))?;
        if done {
            Ok(())
        } else {
            Err(config_not_found(id))
        }
    }

    /// Deletes a config and every account connected through it.
    pub async fn auth_config_delete(&self, caller: &Caller, id: &str) -> AppResult<()> {
        let parsed = AuthConfigId::parse(id.trim()).ok_or_else(|| config_not_found(id))?;
        let done = self
            .store()
            .auth_config_delete(&caller.project_id, &parsed)
            .await
            .map_err(|e| AppError::from_store("auth_config_delete", &e))?;
        if !done {
            return Err(config_not_found(id));
        }
        tracing::info!(project = %caller.project_id, auth_config = %parsed, "auth config deleted");
        Ok(())
    }
}

/// Validates a listing's `limit` and `cursor` (an id of the listed kind).
pub(crate) fn store_page(
    limit: Option<u64>,
    cursor: Option<&str>,
    valid_cursor: impl Fn(&str) -> bool,
) -> AppResult<StorePage> {
    let limit = limit.unwrap_or(crate::page::DEFAULT_LIMIT);
    if !(1..=crate::page::MAX_LIMIT).contains(&limit) {
        return Err(invalid(format!(
            "query parameter `limit` must be between 1 and {}, got {limit}",
            crate::page::MAX_LIMIT
        )));
    }
    let cursor = cursor.map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = cursor
        && !valid_cursor(c)
    {
        return Err(
            invalid("query parameter `cursor` is not a cursor this server issued")
                .with_fix("Pass the previous page's `next_cursor` unchanged."),
        );
    }
    Ok(StorePage {
        cursor: cursor.map(str::to_owned),
        limit: u32::try_from(limit).unwrap_or(u32::MAX),
    })
}

/// A store page in the app's page shape.
pub(crate) fn to_page<T>(
    items: Vec<T>,
    next_cursor: Option<String>,
    total: u64,
    offset: u64,
    limit: u32,
) -> Page<T> {
    let limit = u64::from(limit.max(1));
    let total_items = usize::try_from(total).unwrap_or(usize::MAX);
    Page {
        items,
        next_cursor,
        total_items,
        total_pages: usize::try_from(total.div_ceil(limit).max(1)).unwrap_or(usize::MAX),
        current_page: usize::try_from(offset / limit + 1).unwrap_or(usize::MAX),
    }
}
