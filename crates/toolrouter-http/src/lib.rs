//! The HTTP transport of toolrouter.
//!
//! [`router`] builds the whole axum application: the `/api/v3.1` wire API (every route behind an
//! `x-api-key` check), each session's MCP endpoint (`/tool_router/{session_id}/mcp`, served by
//! `toolrouter-mcp`), `/healthz`, `/readyz` and `/metrics`. Cross-cutting rules are enforced
//! once, in layers, rather than per handler:
//! - every response carries `x-request-id` (the client's when it sent a sane one);
//! - every non-2xx response is the contract's error envelope, including the ones produced by
//!   layers (413, 408, 405, 404, panics);
//! - request bodies are size-limited and requests time-limited;
//! - `x-api-key` is marked sensitive so no log line can carry it.
//!
//! Handlers are thin: parse the wire type, call `toolrouter_app::App`, convert the result.
//! [`serve`] runs the router on an already-bound listener, with optional TLS, until a shutdown
//! future resolves, then lets in-flight requests finish.

mod auth_views;
mod connect_page;
mod error;
mod extract;
mod metrics;
mod origin;
mod query;
mod routes;
mod serve;
mod session_wire;
mod views;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use http::StatusCode;
use http::header::HeaderName;
use toolrouter_app::App;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use serve::{ServeError, TlsFiles, serve};
pub use toolrouter_mcp::McpConfig;

/// The credential header of the API (and of the MCP endpoint).
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// Transport settings, built by the binary from its configuration.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest accepted request body.
    pub body_limit: usize,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// The per-session MCP endpoint (`/tool_router/{session_id}/mcp`): allowed hosts/origins.
    pub mcp: McpConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            mcp: McpConfig::default(),
        }
    }
}

/// State every handler sees.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: App,
}

/// Builds the whole application.
pub fn router(app: App, config: &HttpConfig) -> Router {
    // Install the recorder before the first request is counted.
    metrics::handle();
    let mcp = toolrouter_mcp::service(app.clone(), &config.mcp);
    let state = AppState { app };
    let api = routes::api().with_state(state.clone());
    Router::new()
        // Same origin as the API (the SDKs send credentials to `mcp.url` only then); the
        // service checks the key and the session itself, and its refusals carry an `AppError`
        // the envelope layer renders.
        .route_service("/tool_router/{session_id}/mcp", mcp)
        .merge(routes::connect().with_state(state.clone()))
        .merge(routes::files().with_state(state.clone()))
        .merge(routes::ops().with_state(state))
        .nest("/api/v3.1", api)
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    API_KEY_HEADER,
                    http::header::AUTHORIZATION,
                    http::header::COOKIE,
                ]))
                .layer(axum::middleware::from_fn(error::request_id_and_envelope))
                .layer(axum::middleware::from_fn(metrics::record))
                .layer(TraceLayer::new_for_http().make_span_with(metrics::make_span))
                .layer(CatchPanicLayer::custom(error::panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    config.request_timeout,
                ))
                .layer(DefaultBodyLimit::max(config.body_limit)),
        )
}
