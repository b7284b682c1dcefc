//! Auth configs, connected accounts, connect links, the project's callback-URL allowlist and
//! direct tool execution on the wire (`/api/v3.1/auth_configs…`, `/connected_accounts…`,
//! `/project/callback_urls`, `/tools/execute/{slug}`). Parse, call the app, convert.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use toolrouter_api::auth::{
    AccountRefresh, AccountRefreshed, AccountStatusChange, AuthConfigCreate, AuthConfigCreated,
    AuthConfigSummary, AuthConfigUpdate, AuthConfigView, CallbackUrls, ConnectedAccountView,
    LinkCreate, LinkCreated, Success, ToolExecute, ToolExecuted, ToolkitSlug,
};
use toolrouter_api::catalog::Paginated;
use toolrouter_app::AppError;
use toolrouter_app::auth::accounts::{AccountQuery, LinkRequest};
use toolrouter_app::auth::configs::{
    AuthConfigChange, AuthConfigKind, AuthConfigQuery, NewAuthConfig,
};
use toolrouter_app::execute::ToolExecution;
use toolrouter_core::ErrorCode;

use crate::extract::{Auth, Body};
use crate::query::Params;
use crate::{ApiError, AppState, auth_views, views};

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError(AppError::new(ErrorCode::ValidationFailed, message))
}

/// `POST /auth_configs`
pub(crate) async fn auth_config_create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(req): Body<AuthConfigCreate>,
) -> Result<(StatusCode, Json<AuthConfigCreated>), ApiError> {
    let body = req
        .auth_config
        .unwrap_or(toolrouter_api::auth::AuthConfigCreateBody {
            kind: "use_composio_managed_auth".to_owned(),
            name: None,
            auth_scheme: None,
            credentials: None,
            scopes: None,
        });
    let kind = match body.kind.as_str() {
        "use_composio_managed_auth" => AuthConfigKind::Managed,
        "use_custom_auth" => AuthConfigKind::Custom,
        other => {
            return Err(invalid(format!(
                "`auth_config.type` must be `use_composio_managed_auth` or `use_custom_auth`, got `{other}`"
            )));
        }
    };
    let (credentials, scopes) = auth_views::credentials(body.credentials, body.scopes)?;
    let info = state
        .app
        .auth_config_create(
            &caller,
            NewAuthConfig {
                toolkit: req.toolkit.slug,
                kind,
                name: body.name,
                auth_scheme: body.auth_scheme,
                credentials,
                scopes,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AuthConfigCreated {
            toolkit: ToolkitSlug {
                slug: info.config.toolkit.clone(),
            },
            auth_config: AuthConfigSummary {
                id: info.config.id.to_string(),
                auth_scheme: info.config.auth_scheme.clone(),
                is_composio_managed: info.config.managed,
                restrict_to_following_tools: Vec::new(),
            },
        }),
    ))
}

/// `GET /auth_configs?toolkit_slug&is_composio_managed&show_disabled&search&limit&cursor`
pub(crate) async fn auth_config_list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    params: Params,
) -> Result<Json<Paginated<AuthConfigView>>, ApiError> {
    let page = params.page()?;
    let query = AuthConfigQuery {
        toolkits: params.list("toolkit_slug"),
        managed: params.bool("is_composio_managed")?,
        include_disabled: params.bool("show_disabled")?.unwrap_or(false),
        search: params.get("search").map(str::to_owned),
        limit: page.limit,
        cursor: page.cursor,
    };
    let page = state.app.auth_config_list(&caller, &query).await?;
    Ok(Json(views::page(page, auth_views::auth_config)))
}

/// `GET /auth_configs/{id}`
pub(crate) async fn auth_config_get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<AuthConfigView>, ApiError> {
    let info = state.app.auth_config_get(&caller, &id).await?;
    Ok(Json(auth_views::auth_config(&info)))
}

/// `PATCH /auth_configs/{id}`
pub(crate) async fn auth_config_update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(req): Body<AuthConfigUpdate>,
) -> Result<Json<AuthConfigView>, ApiError> {
    let (credentials, scopes) = auth_views::credentials(req.credentials, req.scopes)?;
    let info = state
        .app
        .auth_config_update(
            &caller,
            &id,
            AuthConfigChange {
                name: req.name,
                credentials,
                scopes,
            },
        )
        .await?;
    Ok(Json(auth_views::auth_config(&info)))
}

/// `PATCH /auth_configs/{id}/{status}` with `ENABLED` or `DISABLED`.
pub(crate) async fn auth_config_status(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, status)): Path<(String, String)>,
) -> Result<Json<Success>, ApiError> {
    let enabled = match status.to_ascii_uppercase().as_str() {
        "ENABLED" => true,
        "DISABLED" => false,
        _ => {
            return Err(invalid(format!(
                "the status in the path must be ENABLED or DISABLED, got `{status}`"
            )));
        }
    };
    state
        .app
        .auth_config_set_enabled(&caller, &id, enabled)
        .await?;
    Ok(Json(Success { success: true }))
}

/// `DELETE /auth_configs/{id}`
pub(crate) async fn auth_config_delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Success>, ApiError> {
    state.app.auth_config_delete(&caller, &id).await?;
    Ok(Json(Success { success: true }))
}

/// `GET /connected_accounts?user_ids&toolkit_slugs&statuses&auth_config_ids&connected_account_ids&limit&cursor`
pub(crate) async fn account_list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    params: Params,
) -> Result<Json<Paginated<ConnectedAccountView>>, ApiError> {
    let page = params.page()?;
    let query = AccountQuery {
        ids: params.list("connected_account_ids"),
        user_ids: params.list("user_ids"),
        toolkits: params.list("toolkit_slugs"),
        statuses: params.list("statuses"),
        auth_config_ids: params.list("auth_config_ids"),
        limit: page.limit,
        cursor: page.cursor,
    };
    let page = state.app.account_list(&caller, &query).await?;
    Ok(Json(views::page(page, auth_views::account)))
}

/// `GET /connected_accounts/{id}`: polled by `wait_for_connection`.
pub(crate) async fn account_get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<ConnectedAccountView>, ApiError> {
    let info = state.app.account_get(&caller, &id).await?;
    Ok(Json(auth_views::account(&info)))
}

/// `DELETE /connected_accounts/{id}`
pub(crate) async fn account_delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Success>, ApiError> {
    state.app.account_delete(&caller, &id).await?;
    Ok(Json(Success { success: true }))
}

/// `PATCH /connected_accounts/{id}/status` with `{enabled}`.
pub(crate) async fn account_status(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(req): Body<AccountStatusChange>,
) -> Result<Json<Success>, ApiError> {
    state
        .app
        .account_set_enabled(&caller, &id, req.enabled)
        .await?;
    Ok(Json(Success { success: true }))
}

/// `POST /connected_accounts/{id}/refresh` (the body is optional).
pub(crate) async fn account_refresh(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<AccountRefreshed>, ApiError> {
    let req: AccountRefresh = if body.iter().all(u8::is_ascii_whitespace) {
        AccountRefresh::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| invalid(format!("Invalid request body: {e}")))?
    };
    let done = state
        .app
        .account_reauth(&caller, &id, req.redirect_url.as_deref())
        .await?;
    Ok(Json(AccountRefreshed {
        id: done.account_id.to_string(),
        status: done.status.as_str().to_owned(),
        redirect_url: done.redirect_url,
    }))
}

/// `POST /connected_accounts/link`
pub(crate) async fn account_link(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(req): Body<LinkCreate>,
) -> Result<(StatusCode, Json<LinkCreated>), ApiError> {
    let link = state
        .app
        .account_link(
            &caller,
            LinkRequest {
                auth_config_id: req.auth_config_id,
                user_id: req.user_id,
                callback_url: req.callback_url,
                alias: req.alias,
                multi_account: None,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(LinkCreated {
            link_token: link.link_token.expose_secret().to_owned(),
            redirect_url: link.redirect_url,
            expires_at: link.expires_at.to_rfc3339(),
            connected_account_id: link.account.id.to_string(),
        }),
    ))
}

/// `GET /project/callback_urls`
pub(crate) async fn callback_urls(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<CallbackUrls>, ApiError> {
    Ok(Json(CallbackUrls {
        urls: state.app.callback_urls(&caller).await?,
    }))
}

/// `PUT /project/callback_urls`
pub(crate) async fn callback_urls_set(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(req): Body<CallbackUrls>,
) -> Result<Json<CallbackUrls>, ApiError> {
    Ok(Json(CallbackUrls {
        urls: state.app.callback_urls_set(&caller, &req.urls).await?,
    }))
}

/// `POST /tools/execute/{slug}`: a provider failure is 200 with `successful: false`.
pub(crate) async fn tool_execute(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(slug): Path<String>,
    Body(req): Body<ToolExecute>,
) -> Result<Json<ToolExecuted>, ApiError> {
    if req.text.is_some() && req.arguments.is_none() {
        return Err(ApiError(
            AppError::new(
                ErrorCode::ValidationFailed,
                "`text` is not supported: this server runs no language model",
            )
            .with_fix("Send the tool's `arguments` as a JSON object."),
        ));
    }
    let arguments = req.arguments.unwrap_or_else(|| json!({}));
    if !matches!(arguments, Value::Object(_)) {
        return Err(invalid("`arguments` must be a JSON object"));
    }
    let result = state
        .app
        .tool_execute(
            &caller,
            &slug,
            ToolExecution {
                user_id: req.user_id.or(req.entity_id),
                connected_account_id: req.connected_account_id,
                arguments,
                version: req.version,
            },
        )
        .await?;
    Ok(Json(auth_views::executed(result)))
}
