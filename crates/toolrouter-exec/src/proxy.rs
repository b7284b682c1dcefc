//! Proxy calls: an authenticated request to an endpoint of a toolkit's API that no tool
//! describes (`proxy_execute`, CONTRACT.md §3.12).
//!
//! The caller chooses method, path, query, headers and body; this module guarantees what the
//! caller cannot choose: the request goes to the toolkit's base URL and nowhere else (a relative
//! endpoint is joined to it, an absolute URL must lie under it, and `..` cannot climb out), it is
//! sent by the same guarded client as tool calls (SSRF guard, same-origin redirects, timeout,
//! size cap), the connection's credentials are injected exactly as for tools, and nothing
//! returned (headers, body, error text) carries a credential.

use std::time::Duration;

use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, Method};
use reqwest::Url;
use serde_json::Value;
use toolrouter_catalog::model::{AuthScheme, ToolkitDef};

use crate::credentials::Credentials;
use crate::execute::Executor;
use crate::outcome::{FailureKind, parse_body, scrub, scrub_value};
use crate::plan::{PlannedRequest, fill_base_url, header_name, header_value, inject_auth};

/// A request body of a proxy call.
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyBody {
    /// Sent as JSON.
    Json(Value),
    /// Sent as is, with its content type when given.
    Bytes {
        data: Vec<u8>,
        content_type: Option<String>,
    },
}

/// Everything one proxy call needs.
#[derive(Debug, Clone, Copy)]
pub struct ProxyInput<'a> {
    /// The toolkit: its default headers are sent too.
    pub toolkit: &'a ToolkitDef,
    /// The toolkit's base URL (or the operator's override), `{field}`s filled from plain
    /// connection values.
    pub base_url: &'a str,
    pub method: &'a Method,
    /// A path relative to the base URL, or an absolute URL under it.
    pub endpoint: &'a str,
    pub headers: &'a [(String, String)],
    pub query: &'a [(String, String)],
    pub body: Option<&'a ProxyBody>,
    pub auth: Option<&'a AuthScheme>,
    pub credentials: &'a Credentials,
}

/// What the proxied API answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyResponse {
    pub status: u16,
    /// Response headers without hop-by-hop and cookie headers, secrets scrubbed.
    pub headers: Vec<(String, String)>,
    pub body: ProxyResponseBody,
}

/// A response body: JSON (text bodies as `{"text": …}`, empty ones as `{}`) or binary.
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyResponseBody {
    Json(Value),
    Binary { data: Vec<u8>, content_type: String },
}

/// Why a proxy call produced no response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProxyError {
    /// The request itself is wrong (endpoint outside the base URL, bad header, …): the
    /// caller's to fix. The message names the field.
    #[error("{0}")]
    Invalid(String),
    /// The request could not be completed (blocked by the SSRF guard, unreachable, timed
    /// out, too large). The message names the host, never a credential.
    #[error("{message}")]
    Failed { kind: FailureKind, message: String },
}

/// Response headers never passed back: hop-by-hop ones and cookies (a session of the
/// server's, not the caller's).
const DROPPED_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-connection",
    "set-cookie",
    "set-cookie2",
    "www-authenticate",
];

/// The URL an endpoint names, if it lies under `base`.
pub fn resolve_endpoint(base: &str, endpoint: &str) -> Result<Url, ProxyError> {
    let base_url = Url::parse(base).map_err(|e| {
        ProxyError::Invalid(format!("the toolkit's base URL `{base}` is not valid: {e}"))
    })?;
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(ProxyError::Invalid(
            "`endpoint`: required, a path under the toolkit's base URL.".to_owned(),
        ));
    }
    let has_scheme = endpoint
        .split_once("://")
        .is_some_and(|(s, _)| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()));
    let url = if has_scheme {
        Url::parse(endpoint)
            .map_err(|e| ProxyError::Invalid(format!("`endpoint`: not a valid URL: {e}")))?
    } else if endpoint.starts_with("//") {
        return Err(ProxyError::Invalid(
            "`endpoint`: a scheme-relative URL is not allowed; give a path under the toolkit's base URL.".to_owned(),
        ));
    } else {
        let joined = format!(
            "{}/{}",
            base.trim_end_matches('/'),
            endpoint.trim_start_matches('/')
        );
        Url::parse(&joined)
            .map_err(|e| ProxyError::Invalid(format!("`endpoint`: not a valid path: {e}")))?
    };
    let base_path = base_url.path().trim_end_matches('/');
    let path = url.path();
    let under = url.scheme() == base_url.scheme()
        && url.host_str() == base_url.host_str()
        && url.port_or_known_default() == base_url.port_or_known_default()
        && url.username().is_empty()
        && url.password().is_none()
        && (path == base_path
            || base_path.is_empty()
            || path.starts_with(&format!("{base_path}/")));
    if !under {
        return Err(ProxyError::Invalid(format!(
            "`endpoint`: `{}` is outside the toolkit's base URL {}; give a path relative to it.",
            strip_query(&url),
            strip_query(&base_url)
        )));
    }
    Ok(url)
}

fn strip_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

impl Executor {
    /// Sends one proxy call. `timeout` overrides the configured one.
    pub async fn proxy(
        &self,
        input: &ProxyInput<'_>,
        timeout: Option<Duration>,
    ) -> Result<ProxyResponse, ProxyError> {
        let base = fill_base_url(input.base_url, input.credentials)
            .map_err(|e| ProxyError::Invalid(e.to_string()))?;
        let mut url = resolve_endpoint(&base, input.endpoint)?;
        if !input.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in input.query {
                pairs.append_pair(k, v);
            }
        }
        let mut headers = HeaderMap::new();
        let invalid = |e: crate::plan::PlanError| ProxyError::Invalid(format!("`parameters`: {e}"));
        for (name, value) in &input.toolkit.headers {
            headers.insert(
                header_name(name).map_err(invalid)?,
                header_value(name, value).map_err(invalid)?,
            );
        }
        for (name, value) in input.headers {
            let header = header_name(name).map_err(invalid)?;
            if header == HOST || header == http::header::CONTENT_LENGTH {
                return Err(ProxyError::Invalid(format!(
                    "`parameters`: header `{name}` is set by the server and cannot be given."
                )));
            }
            headers.insert(header, header_value(name, value).map_err(invalid)?);
        }
        let body = match input.body {
            None => None,
            Some(ProxyBody::Json(v)) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(
                        CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                }
                Some(v.to_string().into_bytes())
            }
            Some(ProxyBody::Bytes { data, content_type }) => {
                if let Some(ct) = content_type {
                    headers.insert(
                        CONTENT_TYPE,
                        header_value("Content-Type", ct).map_err(invalid)?,
                    );
                }
                Some(data.clone())
            }
        };
        let mut request =
            PlannedRequest::raw(input.method.clone(), url, headers, body, input.credentials);
        if let Some(scheme) = input.auth {
            inject_auth(&mut request, scheme, input.credentials)
                .map_err(|e| ProxyError::Invalid(e.to_string()))?;
        }
        let host = request.url.host_str().unwrap_or_default().to_owned();
        let sent_url = request.url_with_credentials();
        if let Err(refused) = self.check_literal_host(&sent_url) {
            return Err(ProxyError::Failed {
                kind: FailureKind::Blocked,
                message: refused.to_string(),
            });
        }
        let timeout = timeout.unwrap_or(self.timeout);
        let secrets = request.secrets();
        let raw = match tokio::time::timeout(timeout, self.exchange(&request, sent_url)).await {
            Err(_) => {
                return Err(ProxyError::Failed {
                    kind: FailureKind::Timeout,
                    message: format!("{host} did not answer within {} ms", timeout.as_millis()),
                });
            }
            Ok(Err(failed)) => {
                return Err(ProxyError::Failed {
                    kind: failed.failure.unwrap_or(FailureKind::Network),
                    message: scrub(&failed.error.unwrap_or_default(), secrets),
                });
            }
            Ok(Ok(raw)) => raw,
        };
        let mut headers_out = Vec::new();
        for (name, value) in &raw.headers {
            if DROPPED_HEADERS.contains(&name.as_str()) {
                continue;
            }
            let Ok(text) = value.to_str() else { continue };
            headers_out.push((name.as_str().to_owned(), scrub(text, secrets)));
        }
        let content_type = raw
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = if is_binary(&content_type, &raw.body) {
            ProxyResponseBody::Binary {
                data: raw.body,
                content_type: if content_type.is_empty() {
                    "application/octet-stream".to_owned()
                } else {
                    content_type
                },
            }
        } else {
            ProxyResponseBody::Json(scrub_value(
                parse_body(raw.status, &raw.headers, &raw.body),
                secrets,
            ))
        };
        Ok(ProxyResponse {
            status: raw.status.as_u16(),
            headers: headers_out,
            body,
        })
    }
}

/// Whether a body is passed back as bytes rather than JSON/text.
fn is_binary(content_type: &str, body: &[u8]) -> bool {
    let ct = content_type.to_ascii_lowercase();
    let textual = ct.is_empty()
        || ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.contains("x-www-form-urlencoded")
        || ct.contains("javascript");
    !textual || std::str::from_utf8(body).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(base: &str, endpoint: &str, expected: Result<&str, &str>) {
        match (resolve_endpoint(base, endpoint), expected) {
            (Ok(url), Ok(want)) => assert_eq!(url.as_str(), want, "{base} + {endpoint}"),
            (Err(e), Err(fragment)) => {
                assert!(e.to_string().contains(fragment), "{base} + {endpoint}: {e}")
            }
            (got, want) => panic!("{base} + {endpoint}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn endpoints_resolve_under_the_base_url_only() {
        let base = "https://api.example.com/v2";
        check(base, "/users/me", Ok("https://api.example.com/v2/users/me"));
        check(
            base,
            "users?x=1",
            Ok("https://api.example.com/v2/users?x=1"),
        );
        check(
            base,
            "https://api.example.com/v2/repos",
            Ok("https://api.example.com/v2/repos"),
        );
        check(
            base,
            "https://api.example.com/v2",
            Ok("https://api.example.com/v2"),
        );
        check(
            base,
            "https://evil.test/v2/users",
            Err("outside the toolkit's base URL"),
        );
        check(base, "https://api.example.com/v3/users", Err("outside"));
        check(base, "https://api.example.com/v2x", Err("outside"));
        check(base, "http://api.example.com/v2/users", Err("outside"));
        check(
            base,
            "https://api.example.com:8443/v2/users",
            Err("outside"),
        );
        check(base, "https://u:p@api.example.com/v2/users", Err("outside"));
        check(base, "../admin", Err("outside"));
        check(base, "/v2/../../admin", Err("outside"));
        check(base, "//evil.test/x", Err("scheme-relative"));
        check(base, "  ", Err("`endpoint`: required"));
        check(
            "https://api.example.com",
            "anything/at/all",
            Ok("https://api.example.com/anything/at/all"),
        );
        check(
            "https://api.example.com/",
            "https://api.example.com/x",
            Ok("https://api.example.com/x"),
        );
    }

    #[test]
    fn binary_is_told_by_type_and_by_bytes() {
        assert!(!is_binary("application/json; charset=utf-8", b"{}"));
        assert!(!is_binary("", b"plain"));
        assert!(!is_binary("text/csv", b"a,b"));
        assert!(is_binary("image/png", b"\x89PNG"));
        assert!(is_binary("text/plain", b"\xff\xfe"));
    }
}
