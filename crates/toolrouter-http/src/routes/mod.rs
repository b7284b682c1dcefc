//! Route tables. `ops()` is unauthenticated and answers operators and orchestrators
//! (`/healthz`, `/readyz`, `/metrics`); `api()` is the `/api/v3.1` wire API, where every
//! handler takes the `Auth` extractor.

mod keys;
mod ops;

use axum::Router;
use axum::routing::{delete, get};

use crate::AppState;

pub(crate) fn ops() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
}

pub(crate) fn api() -> Router<AppState> {
    Router::new()
        .route("/project", get(keys::project_current))
        .route("/api_keys", get(keys::list).post(keys::create))
        .route("/api_keys/{id}", delete(keys::revoke))
}
