//! One error type for the whole SDK, so callers match on what went wrong rather than on
//! which layer noticed it.
//!
//! Non-2xx answers are typed by their status class (as the official SDKs do, CONTRACT.md §1.5)
//! and keep everything the server's envelope said, plus the request id, which is what a
//! server operator needs to find the request in their logs. A tool that ran and failed is
//! not an error: it is a [`ToolResult`](crate::ToolResult) with `successful: false`.

use std::fmt;
use std::time::Duration;

use serde_json::Value;
use toolrouter_api::ErrorEnvelope;

/// What the server said about a failed request: the status and the error envelope
/// `{"error": {message, code, slug, status, request_id, suggested_fix, errors}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The envelope's `message`, or the body itself when the server sent no envelope.
    pub message: String,
    /// Stable numeric code, when the envelope had one.
    pub code: Option<u32>,
    /// Stable code such as `session_not_found`, when the envelope had one.
    pub slug: Option<String>,
    /// The `x-request-id` response header, else the envelope's `request_id`, else the id this
    /// client sent.
    pub request_id: Option<String>,
    /// How to fix it, when the server said.
    pub suggested_fix: Option<String>,
    /// Every individual problem, when there were several.
    pub errors: Vec<String>,
}

impl ApiError {
    /// Reads a non-2xx body: the contract's envelope when it is one, the text otherwise.
    pub(crate) fn from_body(status: u16, body: &[u8], header_request_id: Option<String>) -> Self {
        if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body) {
            let e = envelope.error;
            return ApiError {
                status,
                message: e.message,
                code: Some(e.code),
                slug: Some(e.slug),
                request_id: header_request_id.or(e.request_id.filter(|r| !r.is_empty())),
                suggested_fix: e.suggested_fix.filter(|s| !s.is_empty()),
                errors: e.errors.unwrap_or_default(),
            };
        }
        // Not the envelope (a proxy's error page, a bare message): keep the start of it so the
        // caller sees what came back, without flooding logs with a whole HTML page.
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let message = if text.is_empty() {
            format!("status code {status} (no body)")
        } else if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(text)
            && let Some(Value::String(m)) = o.get("message")
        {
            m.clone()
        } else {
            text.chars().take(500).collect()
        };
        ApiError {
            status,
            message,
            code: None,
            slug: None,
            request_id: header_request_id,
            suggested_fix: None,
            errors: Vec::new(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)?;
        if let Some(fix) = &self.suggested_fix {
            write!(f, " ({fix})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in the SDK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client or a session option was set up wrongly; nothing was sent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The base URL is plain `http` to a host that is not loopback: the API key would travel in
    /// clear text. Use `https`, or a loopback host for local development.
    #[error(
        "refusing to send an API key to {0} over plain http; use https, or a loopback host (localhost, 127.0.0.1, [::1])"
    )]
    InsecureUrl(String),
    /// 400: the request was malformed or asked for something the session does not allow.
    #[error("bad request: {0}")]
    BadRequest(Box<ApiError>),
    /// 401: the API key is missing, wrong or revoked.
    #[error("unauthorized: {0}")]
    Unauthorized(Box<ApiError>),
    /// 403: the key is valid but may not do this.
    #[error("forbidden: {0}")]
    Forbidden(Box<ApiError>),
    /// 404: no such session, account or tool (or it belongs to another project).
    #[error("not found: {0}")]
    NotFound(Box<ApiError>),
    /// 409: e.g. an update's `expected_config_version` no longer matches.
    #[error("conflict: {0}")]
    Conflict(Box<ApiError>),
    /// 422: the request was well-formed but its content was refused.
    #[error("unprocessable: {0}")]
    Unprocessable(Box<ApiError>),
    /// 429: too many requests; retried automatically before this is returned.
    #[error("rate limited: {0}")]
    RateLimited(Box<ApiError>),
    /// 5xx: the server failed; retried automatically where safe before this is returned.
    #[error("server error: {0}")]
    Server(Box<ApiError>),
    /// Any other non-2xx status.
    #[error("unexpected status: {0}")]
    Status(Box<ApiError>),
    /// The request could not be sent or its answer not read (connection refused, TLS,
    /// timeout, …).
    #[error("{method} {url} failed")]
    Transport {
        method: String,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer did not have the shape the contract promises.
    #[error("the answer to {method} {path} is not a valid {what}")]
    Decode {
        method: String,
        path: String,
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The tool call needs the user's answer (e.g. an approval) before it runs; nothing ran.
    /// Answer with [`ExecuteOptions::input_responses`](crate::ExecuteOptions) and
    /// `request_state`.
    #[error("{tool} needs the user's input before it runs")]
    InputRequired {
        tool: String,
        /// The questions, keyed by the id the answers must reuse (MCP elicitation shape).
        input_requests: Value,
        /// Send back unchanged with the answers.
        request_state: Option<String>,
    },
    /// A connection request ended in `FAILED`, `EXPIRED` or `REVOKED`.
    #[error("connected account {id} ended in status {status}{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    ConnectionFailed {
        id: String,
        status: String,
        reason: Option<String>,
    },
    /// A connection request was still pending when the wait ended.
    #[error("connected account {id} was still {status} after {waited:?}")]
    ConnectionTimeout {
        id: String,
        status: String,
        waited: Duration,
    },
    /// The session's MCP URL is not on the API's origin, so the API key is not attached to it
    /// (CONTRACT.md §7); returned only by [`Session::mcp_checked`](crate::Session::mcp_checked).
    #[error(
        "the MCP URL {mcp_url} is not on the API origin {base_url}; its headers would leak the API key"
    )]
    McpDestination { mcp_url: String, base_url: String },
    /// A 2xx answer broke the contract in a way its shape cannot show (e.g. a deletion that
    /// says `deleted: false`).
    #[error("the server's answer breaks the contract: {0}")]
    Protocol(String),
    /// A model response could not be read as the provider's format.
    #[error("{provider} response: {message}")]
    Provider {
        provider: &'static str,
        message: String,
    },
}

impl Error {
    /// Types a non-2xx answer by its status class.
    pub(crate) fn from_api(e: ApiError) -> Error {
        let e = Box::new(e);
        match e.status {
            400 => Error::BadRequest(e),
            401 => Error::Unauthorized(e),
            403 => Error::Forbidden(e),
            404 => Error::NotFound(e),
            409 => Error::Conflict(e),
            422 => Error::Unprocessable(e),
            429 => Error::RateLimited(e),
            500..=599 => Error::Server(e),
            _ => Error::Status(e),
        }
    }

    /// What the server said, for errors that came from a non-2xx answer.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::BadRequest(e)
            | Error::Unauthorized(e)
            | Error::Forbidden(e)
            | Error::NotFound(e)
            | Error::Conflict(e)
            | Error::Unprocessable(e)
            | Error::RateLimited(e)
            | Error::Server(e)
            | Error::Status(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status, for errors that came from a non-2xx answer.
    pub fn status(&self) -> Option<u16> {
        self.api().map(|e| e.status)
    }

    /// The request id to quote to the server's operator.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(|e| e.request_id.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_kept_and_the_header_id_wins() {
        let body = br#"{"error":{"message":"Session trs_x not found","code":4040,
            "slug":"session_not_found","status":404,"request_id":"body-id",
            "suggested_fix":"","errors":[]}}"#;
        let e = Error::from_api(ApiError::from_body(404, body, Some("hdr-id".into())));
        assert!(matches!(e, Error::NotFound(_)));
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.request_id(), Some("hdr-id"));
        // An empty suggested fix is no fix.
        assert_eq!(
            e.to_string(),
            "not found: 404 Session trs_x not found [request id hdr-id]"
        );

        let e = ApiError::from_body(404, body, None);
        assert_eq!(e.request_id.as_deref(), Some("body-id"));
        assert_eq!(e.slug.as_deref(), Some("session_not_found"));
        assert_eq!(e.code, Some(4040));
    }

    #[test]
    fn bodies_that_are_not_the_envelope_still_say_something() {
        let e = ApiError::from_body(502, b"<html>Bad gateway</html>", None);
        assert_eq!(e.message, "<html>Bad gateway</html>");
        assert!(matches!(Error::from_api(e), Error::Server(_)));
        let e = ApiError::from_body(418, b"", None);
        assert_eq!(e.message, "status code 418 (no body)");
        assert!(matches!(Error::from_api(e), Error::Status(_)));
        let e = ApiError::from_body(400, br#"{"message":"top-level"}"#, None);
        assert_eq!(e.message, "top-level");
    }
}
