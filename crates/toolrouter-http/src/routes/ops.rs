//! Liveness, readiness and metrics. Readiness checks the database, so a load balancer stops
//! sending traffic to a server that lost it, and sends it again when it comes back.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use http::header::CONTENT_TYPE;
use serde_json::json;

use crate::{ApiError, AppState};

pub(crate) async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state.app.ready().await?;
    Ok(Json(
        json!({"status": "ready", "database": state.app.backend()}),
    ))
}

pub(crate) async fn metrics() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::handle().render(),
    )
}
