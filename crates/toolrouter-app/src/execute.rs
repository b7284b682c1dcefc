//! Running an app tool for a user: choosing the connected account, loading its credentials
//! (refreshed before use when about to expire), sending the request through the exec crate,
//! and after a provider's 401 refreshing once and retrying once.
//!
//! A third-party failure is a result (`successful: false` with the provider's words), never an
//! error of this API: only problems with the request itself (an unknown tool, a missing or
//! foreign account) are `AppError`s. Sessions reuse [`App::run_tool`] with the account their
//! own selection chose.

use std::sync::OnceLock;

use serde_json::Value;
use toolrouter_core::{ConnectedAccount, ErrorCode, ProjectId};
use toolrouter_exec::{Credentials, Executor, ExecutorConfig, PlanInput, ToolOutcome};

use crate::auth::accounts::{AccountChoice, Resolved};
use crate::auth::tokens::{CallCredentials, RefreshFailure};
use crate::catalog::CatalogTool;
use crate::execution_log::ExecutionEntry;
use crate::{App, AppError, AppResult, Caller};

/// `POST /api/v3.1/tools/execute/{slug}`.
#[derive(Debug, Clone, Default)]
pub struct ToolExecution {
    pub user_id: Option<String>,
    pub connected_account_id: Option<String>,
    pub arguments: Value,
    pub version: Option<String>,
}

/// What a tool run returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub data: Value,
    pub error: Option<String>,
    pub successful: bool,
    pub log_id: String,
    /// The account the call used, if any.
    pub account: Option<ConnectedAccount>,
}

/// The executor, built on first use from the configuration.
#[derive(Debug)]
pub(crate) struct ExecRuntime {
    config: ExecutorConfig,
    executor: OnceLock<Executor>,
}

impl ExecRuntime {
    pub(crate) fn new(config: ExecutorConfig) -> ExecRuntime {
        ExecRuntime {
            config,
            executor: OnceLock::new(),
        }
    }

    pub(crate) fn get(&self) -> AppResult<&Executor> {
        if let Some(e) = self.executor.get() {
            return Ok(e);
        }
        let built = Executor::new(self.config.clone()).map_err(|e| {
            tracing::error!(error = %e, "cannot build the tool HTTP client");
            AppError::new(
                ErrorCode::Internal,
                "Internal error while preparing the call.",
            )
        })?;
        Ok(self.executor.get_or_init(|| built))
    }
}

use crate::execution_log::log_id;

fn failed(message: String, account: Option<ConnectedAccount>) -> ToolResult {
    ToolResult {
        data: serde_json::json!({}),
        error: Some(message),
        successful: false,
        log_id: log_id(),
        account,
    }
}

impl App {
    /// Direct execution: the account is the one named, or the user's by selection.
    pub async fn tool_execute(
        &self,
        caller: &Caller,
        slug: &str,
        req: ToolExecution,
    ) -> AppResult<ToolResult> {
        let started = std::time::Instant::now();
        let tool = self.catalog().tool_get(slug, req.version.as_deref())?;
        let toolkit = tool.toolkit().clone();
        let user_id = req
            .user_id
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let account = match req.connected_account_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => {
                let a = self.account_load(&caller.project_id, id).await?;
                if a.toolkit != toolkit.slug {
                    return Err(AppError::new(
                        ErrorCode::ValidationFailed,
                        format!(
                            "connected account {id} is for toolkit `{}`, not `{}`",
                            a.toolkit, toolkit.slug
                        ),
                    ));
                }
                if let Some(u) = user_id
                    && u != a.user_id
                {
                    return Err(AppError::new(
                        ErrorCode::ValidationFailed,
                        format!("connected account {id} does not belong to user `{u}`"),
                    ));
                }
                if !a.is_usable() {
                    return Err(crate::auth::tokens::not_active(&a));
                }
                Some(a)
            }
            _ => {
                self.account_for_call(
                    &caller.project_id,
                    user_id,
                    &tool,
                    &AccountChoice::default(),
                )
                .await?
            }
        };
        // The same argument check as in a session (after the account, so a missing connection
        // is reported first): a failed result naming every field.
        let problems = crate::session_exec::argument_problems(&tool, &req.arguments);
        let result = if problems.is_empty() {
            self.run_tool(&tool, account, &req.arguments).await
        } else {
            failed(
                format!(
                    "Invalid arguments for {}: {}",
                    tool.tool().slug,
                    problems.join("; ")
                ),
                account,
            )
        };
        let user = result
            .account
            .as_ref()
            .map(|a| a.user_id.clone())
            .or_else(|| user_id.map(str::to_owned));
        let mut entry = ExecutionEntry::new(caller, None, user, &tool.tool().slug);
        entry.fill(
            &result,
            &req.arguments,
            Some(tool.tool().input.value()),
            started,
        );
        self.log_execution(entry);
        Ok(result)
    }

    /// The account a call by `user_id` uses, or an error saying what to connect.
    pub async fn account_for_call(
        &self,
        project: &ProjectId,
        user_id: Option<&str>,
        tool: &CatalogTool,
        choice: &AccountChoice,
    ) -> AppResult<Option<ConnectedAccount>> {
        let what = format!("tool {}", tool.tool().slug);
        self.account_for_toolkit(project, user_id, tool.toolkit(), &what, choice)
            .await
    }

    /// The account a call by `user_id` to `toolkit` uses (`what` names the call in errors).
    pub(crate) async fn account_for_toolkit(
        &self,
        project: &ProjectId,
        user_id: Option<&str>,
        toolkit: &std::sync::Arc<toolrouter_catalog::ToolkitDef>,
        what: &str,
        choice: &AccountChoice,
    ) -> AppResult<Option<ConnectedAccount>> {
        if crate::auth::is_no_auth(toolkit) {
            return Ok(None);
        }
        let Some(user_id) = user_id else {
            return Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!(
                    "{what} needs a connected account: give `user_id` or `connected_account_id`"
                ),
            ));
        };
        match self.account_resolve(project, user_id, toolkit, choice).await? {
            Resolved::NoAuth => Ok(None),
            Resolved::Account(a) => Ok(Some(a)),
            Resolved::NeedsConnection(config) => Err(AppError::new(
                ErrorCode::ConnectedAccountRequired,
                format!(
                    "user `{user_id}` has no active connected account for toolkit `{}`",
                    toolkit.slug
                ),
            )
            .with_fix(format!(
                "Connect one: POST /api/v3.1/connected_accounts/link with {{\"auth_config_id\": \"{}\", \"user_id\": \"{user_id}\"}} and send the user to the returned redirect_url.",
                config.id
            ))),
            Resolved::ChoiceRequired(accounts) => Err(AppError::new(
                ErrorCode::AccountSelectionRequired,
                format!(
                    "user `{user_id}` has several connected accounts for toolkit `{}`: choose one",
                    toolkit.slug
                ),
            )
            .with_fix("Pass the account's id or alias.")
            .with_errors(
                accounts
                    .iter()
                    .map(|a| match &a.alias {
                        Some(alias) => format!("{} ({alias})", a.id),
                        None => a.id.to_string(),
                    })
                    .collect(),
            )),
        }
    }

    /// Runs a tool, with an account's credentials when it needs them. Never fails: every
    /// problem from here on is a result the caller (or its agent) can read.
    pub async fn run_tool(
        &self,
        tool: &CatalogTool,
        account: Option<ConnectedAccount>,
        arguments: &Value,
    ) -> ToolResult {
        let toolkit = tool.toolkit();
        let executor = match self.inner.exec.get() {
            Ok(e) => e,
            Err(e) => return failed(e.message, account),
        };
        let base_url = self
            .catalog()
            .base_url(&toolkit.slug)
            .unwrap_or_else(|| toolkit.base_url.clone());
        let Some(account) = account else {
            let none = Credentials::new();
            let input = PlanInput {
                toolkit,
                tool: tool.tool(),
                arguments,
                base_url: &base_url,
                auth: None,
                credentials: &none,
            };
            let outcome = executor.run(&input, None).await;
            return self.result(tool, outcome, None);
        };
        let creds = match self.call_credentials(account.clone(), toolkit).await {
            Ok(c) => c,
            Err(e) => return failed(e.message, Some(account)),
        };
        let outcome = self
            .send(executor, tool, &base_url, arguments, &creds)
            .await;
        if !outcome.is_unauthorized() || creds.scheme.kind != toolrouter_catalog::AuthKind::Oauth2 {
            return self.result(tool, outcome, Some(creds.account));
        }
        // The provider rejected the token: refresh once (unless someone already did) and
        // retry once.
        let retry_with = match self.refresh_after_unauthorized(&creds.account).await {
            Ok(a) if a.is_usable() => a,
            Ok(a) => return self.result(tool, outcome, Some(a)),
            Err(RefreshFailure::NotPossible | RefreshFailure::Transient(_)) => {
                return self.result(tool, outcome, Some(creds.account));
            }
            Err(RefreshFailure::Expired(e)) => return failed(e.message, Some(creds.account)),
        };
        let config = match self
            .auth_config_load(&retry_with.project_id, retry_with.auth_config_id.as_str())
            .await
        {
            Ok(c) => c,
            Err(e) => return failed(e.message, Some(retry_with)),
        };
        let fresh = match self.credentials_of(retry_with.clone(), &config, toolkit) {
            Ok(c) => c,
            Err(e) => return failed(e.message, Some(retry_with)),
        };
        let outcome = self
            .send(executor, tool, &base_url, arguments, &fresh)
            .await;
        self.result(tool, outcome, Some(fresh.account))
    }

    async fn send(
        &self,
        executor: &Executor,
        tool: &CatalogTool,
        base_url: &str,
        arguments: &Value,
        creds: &CallCredentials,
    ) -> ToolOutcome {
        let input = PlanInput {
            toolkit: tool.toolkit(),
            tool: tool.tool(),
            arguments,
            base_url,
            auth: Some(&creds.scheme),
            credentials: &creds.credentials,
        };
        executor.run(&input, None).await
    }

    fn result(
        &self,
        tool: &CatalogTool,
        outcome: ToolOutcome,
        account: Option<ConnectedAccount>,
    ) -> ToolResult {
        let log_id = log_id();
        tracing::info!(
            tool = %tool.tool().slug,
            account = account.as_ref().map(|a| a.id.as_str()),
            successful = outcome.successful,
            status = outcome.status,
            failure = ?outcome.failure,
            log_id = %log_id,
            "tool executed"
        );
        ToolResult {
            data: outcome.data,
            error: outcome.error,
            successful: outcome.successful,
            log_id,
            account,
        }
    }
}
