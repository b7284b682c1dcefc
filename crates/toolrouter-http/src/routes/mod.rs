//! Route tables. `ops()` is unauthenticated and answers operators and orchestrators
//! (`/healthz`, `/readyz`, `/metrics`); `api()` is the `/api/v3.1` wire API, where every
//! handler takes the `Auth` extractor; `connect()` is the hosted connect page at `/link/…`.

mod auth;
mod catalog;
mod connect;
mod keys;
mod mounts;
mod ops;
mod proxy;
mod session_exec;
mod sessions;

use axum::Router;
use axum::routing::{delete, get, patch, post};

use crate::AppState;

pub(crate) fn ops() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
}

/// The files mount's signed transfer URLs (no API key: the signature is the capability).
/// Uploads stream to disk under the app's own size cap, so the JSON body limit does not apply.
pub(crate) fn files() -> Router<AppState> {
    Router::new().route(
        "/files/transfer/{token}",
        get(mounts::transfer_get)
            .put(mounts::transfer_put)
            .layer(axum::extract::DefaultBodyLimit::disable()),
    )
}

/// The hosted connect page (no API key: the link token is the capability).
pub(crate) fn connect() -> Router<AppState> {
    Router::new()
        .route("/link/callback", get(connect::callback))
        .route("/link/{token}", get(connect::open).post(connect::submit))
}

pub(crate) fn api() -> Router<AppState> {
    Router::new()
        .route(
            "/auth_configs",
            get(auth::auth_config_list).post(auth::auth_config_create),
        )
        .route(
            "/auth_configs/{id}",
            get(auth::auth_config_get)
                .patch(auth::auth_config_update)
                .delete(auth::auth_config_delete),
        )
        .route(
            "/auth_configs/{id}/{status}",
            patch(auth::auth_config_status),
        )
        .route("/connected_accounts", get(auth::account_list))
        .route("/connected_accounts/link", post(auth::account_link))
        .route(
            "/connected_accounts/{id}",
            get(auth::account_get).delete(auth::account_delete),
        )
        .route(
            "/connected_accounts/{id}/status",
            patch(auth::account_status),
        )
        .route(
            "/connected_accounts/{id}/refresh",
            post(auth::account_refresh),
        )
        .route(
            "/project/callback_urls",
            get(auth::callback_urls).put(auth::callback_urls_set),
        )
        .route("/tools/execute/proxy", post(proxy::account_proxy))
        .route("/tools/execute/{slug}", post(auth::tool_execute))
        .route("/project", get(keys::project_current))
        .route("/auth/whoami", get(keys::whoami))
        .route("/api_keys", get(keys::list).post(keys::create))
        .route("/api_keys/{id}", delete(keys::revoke))
        .route("/toolkits", get(catalog::toolkit_list))
        .route("/toolkits/categories", get(catalog::categories))
        .route("/toolkits/{slug}", get(catalog::toolkit_get))
        .route("/tools", get(catalog::tool_list))
        .route("/tools/enum", get(catalog::tool_enum))
        .route("/tools/{slug}", get(catalog::tool_get))
        .route(
            "/tool_router/session",
            get(sessions::list).post(sessions::create),
        )
        .route(
            "/tool_router/session/{id}",
            get(sessions::get)
                .patch(sessions::update)
                .delete(sessions::delete),
        )
        .route("/tool_router/session/{id}/attach", post(sessions::attach))
        .route(
            "/tool_router/session/{id}/config_history",
            get(sessions::config_history),
        )
        .route("/tool_router/session/{id}/tools", get(sessions::tools))
        .route(
            "/tool_router/session/{id}/toolkits",
            get(sessions::toolkits),
        )
        .route(
            "/tool_router/session/{id}/execute",
            post(session_exec::execute),
        )
        .route(
            "/tool_router/session/{id}/execute_meta",
            post(session_exec::execute_meta),
        )
        .route(
            "/tool_router/session/{id}/search",
            post(session_exec::search),
        )
        .route("/tool_router/session/{id}/link", post(session_exec::link))
        .route(
            "/tool_router/session/{id}/mounts/{mount_id}/items",
            get(mounts::items),
        )
        .route(
            "/tool_router/session/{id}/mounts/{mount_id}/upload_url",
            post(mounts::upload_url),
        )
        .route(
            "/tool_router/session/{id}/mounts/{mount_id}/download_url",
            post(mounts::download_url),
        )
        .route(
            "/tool_router/session/{id}/mounts/{mount_id}/delete",
            post(mounts::delete),
        )
        .route(
            "/tool_router/session/{id}/proxy_execute",
            post(proxy::session_proxy),
        )
        .route(
            "/tool_router/session/{id}/executions",
            get(proxy::executions),
        )
}
