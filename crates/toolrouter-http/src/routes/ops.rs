//! Liveness, readiness and metrics. Readiness checks the database, so a load balancer stops
//! sending traffic to a server that lost it, and sends it again when it comes back. When the
//! workbench runs, readiness also names its isolation (`bubblewrap+cgroup-v1`, a fallback…) and
//! whether sandboxes have network egress (`proxy`) or none (`off`).

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
    let mut body = json!({"status": "ready", "database": state.app.backend()});
    // The sandbox mechanism in force, so an operator sees a fallback (landlock, rlimits).
    if let Some(wb) = state.app.workbench_status() {
        body["workbench"] = json!({
            "isolation": wb.isolation.as_str(),
            "full_isolation": wb.isolation.is_full(),
            "sandboxes": wb.running,
            "max_sandboxes": wb.max_sandboxes,
            "egress": wb.egress_mode(),
        });
    }
    Ok(Json(body))
}

pub(crate) async fn metrics() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::handle().render(),
    )
}
