//! What a tool run returns, and how a provider's HTTP response becomes it.
//!
//! A provider failure is an outcome, not a Rust error: the agent that called the tool needs to
//! see "HTTP 404 Not Found: Not Found" to correct itself, and the caller needs to tell a 401
//! (refresh the token, retry once) from everything else. Shaping is pure, so every rule of
//! `http.response` and `http.pagination` is tested without a server.

use http::{HeaderMap, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value, json};
use toolrouter_catalog::model::{HttpMapping, Pagination, PaginationStyle};

/// Why a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The arguments or connection could not make a request (missing path argument, ...).
    InvalidRequest,
    /// The SSRF guard refused the destination.
    Blocked,
    /// The provider could not be reached (DNS, connect, TLS, reset).
    Network,
    /// No complete response within the call's timeout.
    Timeout,
    /// The response body exceeded the size cap.
    TooLarge,
    /// HTTP 401: the credential was rejected; refreshing an OAuth2 token may help.
    Unauthorized,
    /// HTTP 429.
    RateLimited,
    /// Any other provider failure: an error status, a redirect elsewhere, or an error flag in a
    /// 200 body (`ok_pointer` / `error_pointer`).
    Provider,
}

/// Where the next page is, when the response says there is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextPage {
    /// The tool argument to pass it in (`http.pagination.param`).
    pub param: String,
    /// The value to pass, when known (a cursor, or the argument read from a `Link` URL).
    pub value: Option<Value>,
    /// The `rel="next"` URL of a `Link` header.
    pub url: Option<String>,
}

/// The result of running one tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolOutcome {
    pub successful: bool,
    /// The shaped response on success; on failure, the provider's (parsed) error body, or `{}`.
    pub data: Value,
    pub error: Option<String>,
    /// The provider's HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Set exactly when `successful` is false.
    pub failure: Option<FailureKind>,
    pub next_page: Option<NextPage>,
}

impl ToolOutcome {
    pub(crate) fn failed(kind: FailureKind, error: String) -> ToolOutcome {
        ToolOutcome {
            successful: false,
            data: json!({}),
            error: Some(error),
            status: None,
            failure: Some(kind),
            next_page: None,
        }
    }

    /// The provider rejected the credential (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        self.failure == Some(FailureKind::Unauthorized)
    }
}

/// A received response, body already read (within the size cap).
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// The body as JSON: parsed when it is JSON, `{"text": …}` when it is not, `{}` when empty.
pub(crate) fn parse_body(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Value {
    if status == StatusCode::NO_CONTENT || body.iter().all(u8::is_ascii_whitespace) {
        return json!({});
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let declared_json = content_type.contains("json");
    // Some providers label JSON as text/plain or send no type; an object or array is safe to
    // recognise, a bare `42` or `true` is more likely meant as text.
    let looks_json = matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    );
    if (declared_json || looks_json)
        && let Ok(value) = serde_json::from_slice::<Value>(body)
    {
        return value;
    }
    json!({"text": String::from_utf8_lossy(body)})
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const MAX_ERROR_TEXT: usize = 500;

/// The provider's own words about a failure, from the definition's `error_pointer` or the
/// places APIs commonly put them.
fn provider_error_text(body: &Value, error_pointer: Option<&str>) -> Option<String> {
    let common = [
        "/error/message",
        "/error_description",
        "/message",
        "/error",
        "/errors/0/message",
        "/errors/0/detail",
        "/errors/0",
        "/detail",
        "/title",
        "/text",
    ];
    let found = error_pointer
        .into_iter()
        .chain(common)
        .filter_map(|p| body.pointer(p))
        .find(|v| !v.is_null() && !matches!(v, Value::Object(_)))?;
    let mut text = text_of(found).trim().to_owned();
    if text.len() > MAX_ERROR_TEXT {
        let mut cut = MAX_ERROR_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    (!text.is_empty()).then_some(text)
}

fn status_line(status: StatusCode) -> String {
    format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_owned()
}

/// Turns a response into the outcome; `secrets` are scrubbed from anything returned on failure.
pub(crate) fn shape(
    resp: &RawResponse,
    http: &HttpMapping,
    secrets: &[SecretString],
) -> ToolOutcome {
    let body = parse_body(resp.status, &resp.headers, &resp.body);
    let shape = &http.response;
    let status = Some(resp.status.as_u16());

    let failure = if resp.status.is_redirection() {
        let to = resp
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(no Location)");
        Some((
            FailureKind::Provider,
            format!(
                "{}: the provider redirected to {to}; redirects to another origin are not followed",
                status_line(resp.status)
            ),
        ))
    } else if !resp.status.is_success() {
        let kind = match resp.status {
            StatusCode::UNAUTHORIZED => FailureKind::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS => FailureKind::RateLimited,
            _ => FailureKind::Provider,
        };
        let line = status_line(resp.status);
        let message = match provider_error_text(&body, shape.error_pointer.as_deref()) {
            Some(text) => format!("{line}: {text}"),
            None => line,
        };
        Some((kind, message))
    } else if let Some(ok) = &shape.ok_pointer {
        (body.pointer(ok) != Some(&Value::Bool(true))).then(|| {
            let text = shape
                .error_pointer
                .as_deref()
                .and_then(|p| body.pointer(p))
                .filter(|v| !v.is_null())
                .map(text_of)
                .unwrap_or_else(|| format!("`{ok}` in the response is not true"));
            (
                FailureKind::Provider,
                format!("the provider reported an error: {text}"),
            )
        })
    } else {
        shape
            .error_pointer
            .as_deref()
            .and_then(|p| body.pointer(p))
            .filter(|v| !v.is_null())
            .map(|v| {
                (
                    FailureKind::Provider,
                    format!("the provider reported an error: {}", text_of(v)),
                )
            })
    };

    if let Some((kind, message)) = failure {
        return ToolOutcome {
            successful: false,
            data: scrub_value(body, secrets),
            error: Some(scrub(&message, secrets)),
            status,
            failure: Some(kind),
            next_page: None,
        };
    }

    let next_page = http
        .pagination
        .as_ref()
        .and_then(|p| next_page(p, &body, &resp.headers));
    let selected = if shape.root.is_empty() {
        body
    } else {
        body.pointer(&shape.root).cloned().unwrap_or(Value::Null)
    };
    let data = match (selected, &shape.wrap) {
        (Value::Object(map), _) => Value::Object(map),
        (other, Some(key)) => {
            let mut map = Map::new();
            map.insert(key.clone(), other);
            Value::Object(map)
        }
        // A missing root means there is nothing to return, which is an empty object.
        (Value::Null, None) => json!({}),
        (other, None) => other,
    };
    ToolOutcome {
        successful: true,
        data,
        error: None,
        status,
        failure: None,
        next_page,
    }
}

fn next_page(p: &Pagination, body: &Value, headers: &HeaderMap) -> Option<NextPage> {
    if let Some(pointer) = &p.next {
        let value = body.pointer(pointer)?;
        let present = match value {
            Value::Null | Value::Bool(false) => false,
            Value::String(s) => !s.is_empty(),
            _ => true,
        };
        return present.then(|| NextPage {
            param: p.param.clone(),
            value: Some(value.clone()),
            url: None,
        });
    }
    if p.style != PaginationStyle::LinkHeader {
        return None;
    }
    let url = headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(link_next)?;
    let value = reqwest::Url::parse(&url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| *k == p.param)
            .map(|(_, v)| Value::String(v.into_owned()))
    });
    Some(NextPage {
        param: p.param.clone(),
        value,
        url: Some(url),
    })
}

/// The `rel="next"` target of an RFC 8288 `Link` header value.
fn link_next(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params = &after[..after.find('<').unwrap_or(after.len())];
        let is_next = params.split(';').any(|param| {
            let Some((key, value)) = param.split_once('=') else {
                return false;
            };
            key.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.to_owned());
        }
        rest = after;
    }
    None
}

/// Replaces every secret value (of a useful length) with `[REDACTED]`.
pub(crate) fn scrub(text: &str, secrets: &[SecretString]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        let s = secret.expose_secret();
        // Very short values would redact ordinary words and hide nothing worth hiding.
        if s.len() >= 4 {
            out = out.replace(s, "[REDACTED]");
        }
    }
    out
}

pub(crate) fn scrub_value(value: Value, secrets: &[SecretString]) -> Value {
    match value {
        Value::String(s) => Value::String(scrub(&s, secrets)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| scrub_value(v, secrets)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, scrub_value(v, secrets)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use http::HeaderValue;

    /// Shapes a response under the given `http` mapping fields and prints the outcome as JSON.
    fn check(mapping: Value, status: u16, headers: &[(&str, &str)], body: &str, expected: &Expect) {
        let mut full = json!({"method": "GET", "path": "/x"});
        if let (Some(target), Value::Object(extra)) = (full.as_object_mut(), mapping) {
            target.extend(extra);
        }
        let http: HttpMapping = serde_json::from_value(full).expect("mapping parses");
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        let resp = RawResponse {
            status: StatusCode::from_u16(status).expect("status"),
            headers: map,
            body: body.as_bytes().to_vec(),
        };
        let secrets = [SecretString::from("sk_secret_value")];
        let out = shape(&resp, &http, &secrets);
        expected.assert_eq(&serde_json::to_string(&out).expect("serializes"));
    }

    #[test]
    fn success_root_and_wrap() {
        check(
            json!({}),
            200,
            &[("content-type", "application/json")],
            r#"{"id": 1}"#,
            &expect![
                r#"{"successful":true,"data":{"id":1},"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
        check(
            json!({"response": {"root": "/data/items", "wrap": "items"}}),
            200,
            &[],
            r#"{"data": {"items": [1, 2]}}"#,
            &expect![
                r#"{"successful":true,"data":{"items":[1,2]},"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
        check(
            json!({}),
            200,
            &[],
            "[1]",
            &expect![
                r#"{"successful":true,"data":[1],"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
        check(
            json!({"response": {"root": "/missing"}}),
            200,
            &[],
            "{}",
            &expect![
                r#"{"successful":true,"data":{},"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
    }

    #[test]
    fn text_and_empty_bodies() {
        check(
            json!({}),
            200,
            &[("content-type", "text/csv")],
            "a,b\n1,2",
            &expect![
                r#"{"successful":true,"data":{"text":"a,b\n1,2"},"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
        check(
            json!({}),
            204,
            &[],
            "",
            &expect![
                r#"{"successful":true,"data":{},"error":null,"status":204,"failure":null,"next_page":null}"#
            ],
        );
        check(
            json!({}),
            200,
            &[("content-type", "text/plain")],
            "42",
            &expect![
                r#"{"successful":true,"data":{"text":"42"},"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
    }

    #[test]
    fn error_statuses_carry_the_provider_text_without_secrets() {
        check(
            json!({}),
            404,
            &[],
            r#"{"message": "Not Found", "documentation_url": "https://docs"}"#,
            &expect![
                r#"{"successful":false,"data":{"documentation_url":"https://docs","message":"Not Found"},"error":"HTTP 404 Not Found: Not Found","status":404,"failure":"provider","next_page":null}"#
            ],
        );
        check(
            json!({}),
            401,
            &[],
            r#"{"error": {"message": "Invalid key sk_secret_value"}}"#,
            &expect![
                r#"{"successful":false,"data":{"error":{"message":"Invalid key [REDACTED]"}},"error":"HTTP 401 Unauthorized: Invalid key [REDACTED]","status":401,"failure":"unauthorized","next_page":null}"#
            ],
        );
        check(
            json!({}),
            429,
            &[("content-type", "text/plain")],
            "slow down",
            &expect![
                r#"{"successful":false,"data":{"text":"slow down"},"error":"HTTP 429 Too Many Requests: slow down","status":429,"failure":"rate_limited","next_page":null}"#
            ],
        );
        check(
            json!({}),
            502,
            &[],
            "",
            &expect![
                r#"{"successful":false,"data":{},"error":"HTTP 502 Bad Gateway","status":502,"failure":"provider","next_page":null}"#
            ],
        );
        check(
            json!({}),
            302,
            &[("location", "https://elsewhere.test/x?key=sk_secret_value")],
            "",
            &expect![
                r#"{"successful":false,"data":{},"error":"HTTP 302 Found: the provider redirected to https://elsewhere.test/x?key=[REDACTED]; redirects to another origin are not followed","status":302,"failure":"provider","next_page":null}"#
            ],
        );
    }

    #[test]
    fn ok_and_error_pointers() {
        let slack = json!({"response": {"ok_pointer": "/ok", "error_pointer": "/error"}});
        check(
            slack.clone(),
            200,
            &[],
            r#"{"ok": false, "error": "channel_not_found"}"#,
            &expect![
                r#"{"successful":false,"data":{"error":"channel_not_found","ok":false},"error":"the provider reported an error: channel_not_found","status":200,"failure":"provider","next_page":null}"#
            ],
        );
        check(
            slack,
            200,
            &[],
            r#"{"ok": true, "ts": "1.2"}"#,
            &expect![
                r#"{"successful":true,"data":{"ok":true,"ts":"1.2"},"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
        let graphql = json!({"response": {"root": "/data", "error_pointer": "/errors/0/message"}});
        check(
            graphql.clone(),
            200,
            &[],
            r#"{"data": null, "errors": [{"message": "Field 'x' doesn't exist"}]}"#,
            &expect![
                r#"{"successful":false,"data":{"data":null,"errors":[{"message":"Field 'x' doesn't exist"}]},"error":"the provider reported an error: Field 'x' doesn't exist","status":200,"failure":"provider","next_page":null}"#
            ],
        );
        check(
            graphql,
            200,
            &[],
            r#"{"data": {"viewer": {"id": "u1"}}}"#,
            &expect![
                r#"{"successful":true,"data":{"viewer":{"id":"u1"}},"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
    }

    #[test]
    fn pagination_hints() {
        let cursor = json!({"pagination": {"style": "cursor", "param": "cursor", "next": "/response_metadata/next_cursor"}});
        check(
            cursor.clone(),
            200,
            &[],
            r#"{"response_metadata": {"next_cursor": "dXNlcjpVMDYx"}}"#,
            &expect![
                r#"{"successful":true,"data":{"response_metadata":{"next_cursor":"dXNlcjpVMDYx"}},"error":null,"status":200,"failure":null,"next_page":{"param":"cursor","value":"dXNlcjpVMDYx","url":null}}"#
            ],
        );
        check(
            cursor,
            200,
            &[],
            r#"{"response_metadata": {"next_cursor": ""}}"#,
            &expect![
                r#"{"successful":true,"data":{"response_metadata":{"next_cursor":""}},"error":null,"status":200,"failure":null,"next_page":null}"#
            ],
        );
        let link = json!({"pagination": {"style": "link_header", "param": "page"}});
        check(
            link,
            200,
            &[(
                "link",
                r#"<https://api.github.com/repositories/1/issues?page=1>; rel="prev", <https://api.github.com/repositories/1/issues?per_page=2&page=3>; rel="next""#,
            )],
            "[]",
            &expect![[
                r#"{"successful":true,"data":[],"error":null,"status":200,"failure":null,"next_page":{"param":"page","value":"3","url":"https://api.github.com/repositories/1/issues?per_page=2&page=3"}}"#
            ]],
        );
    }

    #[test]
    fn link_header_parsing() {
        assert_eq!(
            link_next(r#"<a>; rel="last", <b>; rel="next""#).as_deref(),
            Some("b")
        );
        assert_eq!(
            link_next(r#"<c>; title="x"; rel="prev next""#).as_deref(),
            Some("c")
        );
        assert_eq!(link_next(r#"<a>; rel=last"#), None);
    }
}
