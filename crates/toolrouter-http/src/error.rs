//! Errors on the wire: every non-2xx response becomes the contract's envelope.
//!
//! Handlers return [`ApiError`], which only records the app error in the response's extensions;
//! [`request_id_and_envelope`] renders it with the request id. Responses produced by layers or
//! by axum itself (413, 408, 405, panics) carry no such record, and are wrapped in a generic
//! envelope for their status, so a client never sees a non-JSON error.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderName, StatusCode};
use toolrouter_api::{ErrorBody, ErrorEnvelope};
use toolrouter_app::AppError;
use toolrouter_core::ErrorCode;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id, available to handlers as an extension.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

/// An app error on its way out.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = status.into_response();
        res.extensions_mut().insert(self.0);
        res
    }
}

fn sane_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| s.to_owned())
}

/// Assigns the request id (keeping a client's sane one), and turns every error response into
/// the envelope carrying it.
pub(crate) async fn request_id_and_envelope(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane_request_id)
        .unwrap_or_else(|| format!("req_{}", uuid::Uuid::now_v7().simple()));
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.run(req).await;
    let status = res.status();
    if status.is_client_error() || status.is_server_error() {
        let app_error = res.extensions_mut().remove::<AppError>();
        // JSON errors pass as they are, and so do the connect page's HTML pages (written for
        // a person in a browser, not an SDK).
        let is_json = res.headers().get(CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
        if app_error.is_some() || !is_json {
            let err = app_error.unwrap_or_else(|| generic_error(status));
            let mut rendered = envelope(status, &err, &id);
            // Keep headers such as `allow` (405) and `www-authenticate` (401).
            for (name, value) in res.headers() {
                if name != CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
                    rendered.headers_mut().insert(name.clone(), value.clone());
                }
            }
            res = rendered;
        }
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

fn generic_error(status: StatusCode) -> AppError {
    let (code, message, fix) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "The request body is larger than this server accepts.",
            Some("Send a smaller body (the limit is set by the server's body_limit option)."),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            ErrorCode::RequestTimeout,
            "The request took longer than the server's time limit.",
            None,
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "This method is not allowed on this route.",
            Some("See the `allow` response header for the methods this route accepts."),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "The request body must be JSON.",
            Some("Send `content-type: application/json`."),
        ),
        StatusCode::NOT_FOUND => (ErrorCode::RouteNotFound, "Not found.", None),
        s if s.is_client_error() => (ErrorCode::BadRequest, "The request was not valid.", None),
        _ => (ErrorCode::Internal, "Internal server error.", None),
    };
    let mut e = AppError::new(code, message);
    if let Some(fix) = fix {
        e = e.with_fix(fix);
    }
    e
}

fn envelope(status: StatusCode, err: &AppError, request_id: &str) -> Response {
    let body = ErrorEnvelope {
        error: ErrorBody {
            message: err.message.clone(),
            code: err.code.code(),
            slug: err.code.slug().to_owned(),
            status: status.as_u16(),
            request_id: Some(request_id.to_owned()),
            suggested_fix: err.suggested_fix.clone(),
            errors: (!err.errors.is_empty()).then(|| err.errors.clone()),
        },
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut res = Response::new(Body::from(json));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// Fallback for unknown routes.
pub(crate) async fn route_not_found(req: Request) -> ApiError {
    ApiError(
        AppError::new(
            ErrorCode::RouteNotFound,
            format!("No route for {} {}", req.method(), req.uri().path()),
        )
        .with_fix("Check the path: the API lives under /api/v3.1/."),
    )
}

/// Fallback for a known route with the wrong method.
pub(crate) async fn method_not_allowed(req: Request) -> ApiError {
    ApiError(AppError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    ))
}

/// A handler panicked: log it, answer 500 (the envelope is added on the way out).
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError(AppError::new(ErrorCode::Internal, "Internal server error.")).into_response()
}
