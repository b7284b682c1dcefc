//! Proxy calls: an authenticated request to any endpoint of a toolkit's API, with the
//! credentials of the account the session (or the caller) chose — `POST …/{sid}/proxy_execute`
//! (CONTRACT.md §3.12, A.15), the session-less `POST /api/v3.1/tools/execute/proxy`, and the
//! workbench's `proxy_execute(...)`.
//!
//! The exec crate keeps the request under the toolkit's base URL, behind the SSRF guard, and
//! injects the credentials; this module chooses the account exactly as tool calls do (a
//! session only ever uses its own user's accounts) and decides what a failure is:
//! * a wrong request (unknown toolkit, bad method, endpoint outside the base URL, bad
//!   parameter) is a 400 naming the field; a toolkit the session does not allow is a 403;
//!   a missing or inactive account is the same error as for a tool call;
//! * a destination the SSRF guard refuses is a 403: the operator's policy, not the caller's;
//! * a provider that answers, whatever its status, is a `completed` result with that status;
//! * a provider that cannot be reached (network, timeout, response too large) is a `completed`
//!   result with status 502 (504 for a timeout) and `data.error` saying why — not a 5xx of this
//!   API, which the TypeScript SDK would retry (and so repeat a side effect).

use std::time::Instant;

use base64::Engine as _;
use serde_json::{Value, json};
use toolrouter_core::{ConnectedAccount, ErrorCode};
use toolrouter_exec::{
    Credentials, FailureKind, Method, ProxyBody, ProxyError, ProxyInput, ProxyResponseBody,
};

use crate::execution_log::{ExecutionEntry, log_id, redact};
use crate::session_exec::account_choice;
use crate::{App, AppError, AppResult, Caller};

/// The slug a proxy call is recorded under in the execution log.
pub const PROXY_LOG_SLUG: &str = "PROXY_EXECUTE";

/// Binary bytes as a `data:` URL (the `binary_data.url` of a proxy answer: this server keeps
/// no blob store to point at).
pub fn data_url(bytes: &[u8], content_type: &str) -> String {
    format!(
        "data:{content_type};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Where an extra parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    Header,
    Query,
}

/// One proxy request, as the caller described it.
#[derive(Debug, Clone, Default)]
pub struct ProxyCall {
    /// A path relative to the toolkit's base URL, or an absolute URL under it.
    pub endpoint: String,
    /// `GET`, `POST`, `PUT`, `DELETE`, `PATCH` or `HEAD` (any case).
    pub method: String,
    /// A JSON body.
    pub body: Option<Value>,
    /// Raw bytes to send instead of `body`, with their content type.
    pub binary_body: Option<(Vec<u8>, Option<String>)>,
    /// Extra headers and query parameters: (name, value, where).
    pub parameters: Vec<(String, String, ParamIn)>,
}

/// What the proxied API answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyResult {
    pub status: u16,
    /// The body as JSON (`{"text": …}` for text); `Value::Null` when it is binary.
    pub data: Value,
    pub headers: Vec<(String, String)>,
    /// A binary body: bytes and content type.
    pub binary: Option<(Vec<u8>, String)>,
    pub log_id: String,
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::ValidationFailed, message)
}

fn method_of(text: &str) -> AppResult<Method> {
    match text.trim().to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "DELETE" => Ok(Method::DELETE),
        "PATCH" => Ok(Method::PATCH),
        "HEAD" => Ok(Method::HEAD),
        other => Err(invalid(format!(
            "`method`: `{other}` is not one of GET, POST, PUT, DELETE, PATCH, HEAD."
        ))),
    }
}

/// Decodes a `binary_body` given as base64 (a URL to fetch is not supported).
pub fn binary_body(
    base64: Option<&str>,
    url: Option<&str>,
    content_type: Option<String>,
) -> AppResult<(Vec<u8>, Option<String>)> {
    if url.is_some_and(|u| !u.trim().is_empty()) {
        return Err(invalid(
            "`binary_body.url`: fetching a body from a URL is not supported; send it inline as `binary_body.base64`.",
        ));
    }
    let text = base64.unwrap_or_default().trim();
    if text.is_empty() {
        return Err(invalid(
            "`binary_body.base64`: required, the bytes in base64.",
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| invalid(format!("`binary_body.base64`: not valid base64 ({e}).")))?;
    Ok((bytes, content_type))
}

/// The text of a parameter value as the SDKs send it (they stringify; be lenient with scalars).
pub fn parameter_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Where a parameter goes, from its `type` / `in`.
pub fn parameter_in(index: usize, text: &str) -> AppResult<ParamIn> {
    match text.trim().to_ascii_lowercase().as_str() {
        "header" => Ok(ParamIn::Header),
        "query" => Ok(ParamIn::Query),
        other => Err(invalid(format!(
            "`parameters[{index}].type`: `{other}` is not `header` or `query`."
        ))),
    }
}

impl App {
    /// `POST …/{sid}/proxy_execute`: a proxy call to `toolkit` with the account the session's
    /// settings choose for its user.
    pub async fn session_proxy_execute(
        &self,
        caller: &Caller,
        session_id: &str,
        toolkit: &str,
        call: ProxyCall,
    ) -> AppResult<ProxyResult> {
        let session = self.session_get(caller, session_id).await?.session;
        let config = &session.config;
        if toolkit.trim().is_empty() {
            return Err(invalid("`toolkit_slug`: required, the toolkit to call."));
        }
        let tk = self.catalog().toolkit(toolkit)?;
        if !config.allows_toolkit(&tk.slug) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!("Toolkit `{}` is not enabled in this session.", tk.slug),
            )
            .with_fix("Allow it in the session's `toolkits` setting (PATCH the session)."));
        }
        let choice = account_choice(config, &tk.slug, None);
        let what = format!("a proxy call to toolkit {}", tk.slug);
        let account = self
            .account_for_toolkit(
                &caller.project_id,
                Some(&config.user_id),
                &tk,
                &what,
                &choice,
            )
            .await?;
        let entry = ExecutionEntry::new(
            caller,
            Some(session.id.to_string()),
            Some(config.user_id.clone()),
            PROXY_LOG_SLUG,
        );
        self.proxy_send(&tk, account, call, entry).await
    }

    /// `POST /api/v3.1/tools/execute/proxy`: a proxy call with a named connected account (its
    /// toolkit is the one called).
    pub async fn proxy_execute_account(
        &self,
        caller: &Caller,
        connected_account_id: &str,
        call: ProxyCall,
    ) -> AppResult<ProxyResult> {
        if connected_account_id.trim().is_empty() {
            return Err(invalid(
                "`connected_account_id`: required, the account whose credentials the call uses.",
            )
            .with_fix("List accounts with GET /api/v3.1/connected_accounts."));
        }
        let account = self
            .account_load(&caller.project_id, connected_account_id)
            .await?;
        if !account.is_usable() {
            return Err(crate::auth::tokens::not_active(&account));
        }
        let tk = self.catalog().toolkit(&account.toolkit)?;
        let entry =
            ExecutionEntry::new(caller, None, Some(account.user_id.clone()), PROXY_LOG_SLUG);
        self.proxy_send(&tk, Some(account), call, entry).await
    }

    async fn proxy_send(
        &self,
        toolkit: &std::sync::Arc<toolrouter_catalog::ToolkitDef>,
        account: Option<ConnectedAccount>,
        call: ProxyCall,
        mut entry: ExecutionEntry,
    ) -> AppResult<ProxyResult> {
        let started = Instant::now();
        let method = method_of(&call.method)?;
        if call.body.is_some() && call.binary_body.is_some() {
            return Err(invalid("`body` and `binary_body`: give one, not both."));
        }
        let executor = self.inner.exec.get()?;
        let base_url = self
            .catalog()
            .base_url(&toolkit.slug)
            .unwrap_or_else(|| toolkit.base_url.clone());
        let creds = match account {
            Some(a) => Some(self.call_credentials(a, toolkit).await?),
            None => None,
        };
        let none = Credentials::new();
        let (headers, query): (Vec<_>, Vec<_>) = call
            .parameters
            .iter()
            .partition(|(_, _, at)| *at == ParamIn::Header);
        let headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(n, v, _)| (n.clone(), v.clone()))
            .collect();
        let query: Vec<(String, String)> = query
            .into_iter()
            .map(|(n, v, _)| (n.clone(), v.clone()))
            .collect();
        let body = match (&call.body, &call.binary_body) {
            (Some(v), _) => Some(ProxyBody::Json(v.clone())),
            (None, Some((data, content_type))) => Some(ProxyBody::Bytes {
                data: data.clone(),
                content_type: content_type.clone(),
            }),
            (None, None) => None,
        };
        let input = ProxyInput {
            toolkit,
            base_url: &base_url,
            method: &method,
            endpoint: &call.endpoint,
            headers: &headers,
            query: &query,
            body: body.as_ref(),
            auth: creds.as_ref().map(|c| &c.scheme),
            credentials: creds.as_ref().map_or(&none, |c| &c.credentials),
        };
        entry.connected_account_id = creds.as_ref().map(|c| c.account.id.to_string());
        // Headers and query parameters as maps, so that secret-looking names are redacted.
        let named = |at: ParamIn| -> serde_json::Map<String, Value> {
            call.parameters
                .iter()
                .filter(|(_, _, w)| *w == at)
                .map(|(n, v, _)| (n.clone(), Value::String(v.clone())))
                .collect()
        };
        entry.arguments = redact(
            &json!({
                "toolkit": toolkit.slug,
                "endpoint": call.endpoint,
                "method": method.as_str(),
                "headers": named(ParamIn::Header),
                "query": named(ParamIn::Query),
                "body": call.body,
            }),
            None,
        );
        let log_id = log_id();
        entry.log_id = log_id.clone();
        let outcome = executor.proxy(&input, None).await;
        let result = match outcome {
            Ok(resp) => {
                let (data, binary) = match resp.body {
                    ProxyResponseBody::Json(v) => (v, None),
                    ProxyResponseBody::Binary { data, content_type } => {
                        (Value::Null, Some((data, content_type)))
                    }
                };
                entry.successful = (200..400).contains(&resp.status);
                if !entry.successful {
                    entry.error = Some(format!("HTTP {}", resp.status));
                }
                Ok(ProxyResult {
                    status: resp.status,
                    data,
                    headers: resp.headers,
                    binary,
                    log_id,
                })
            }
            Err(ProxyError::Invalid(message)) => Err(invalid(message)),
            Err(ProxyError::Failed {
                kind: FailureKind::Blocked,
                message,
            }) => Err(AppError::new(
                ErrorCode::Forbidden,
                format!("The request was refused by the server's outbound policy: {message}"),
            )
            .with_fix("Ask the operator to allow the host (`outbound_allow`) if it is trusted.")),
            Err(ProxyError::Failed { kind, message }) => {
                entry.error = Some(message.clone());
                Ok(ProxyResult {
                    status: if kind == FailureKind::Timeout {
                        504
                    } else {
                        502
                    },
                    data: json!({ "error": message }),
                    headers: Vec::new(),
                    binary: None,
                    log_id,
                })
            }
        };
        // A refused request (bad endpoint, blocked destination) is an error, not an execution.
        if result.is_ok() {
            entry.duration = started.elapsed();
            self.log_execution(entry);
        }
        result
    }
}
