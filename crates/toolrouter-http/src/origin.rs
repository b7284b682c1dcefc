//! The public base URL a client used to reach this server, for URLs handed back to it (a
//! session's `mcp.url`). The SDKs attach their credentials to `mcp.url` only when it has exactly
//! the origin of their configured base URL (CONTRACT.md §7), so it is rebuilt from the request:
//! `X-Forwarded-Proto` / `X-Forwarded-Host` / `X-Forwarded-Prefix` when a proxy set them, else the
//! connection's scheme and the `Host` header.
//!
//! Forwarded headers are trusted because the URL only goes back to the same caller; values that
//! are not plausible schemes, hosts or paths are ignored rather than echoed.

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::ApiError;

/// Marks requests that arrived over TLS (inserted by `serve` on the HTTPS listener).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tls;

/// `scheme://host[:port][/prefix]`, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin(pub String);

fn first(parts: &Parts, name: &str) -> Option<String> {
    let v = parts.headers.get(name)?.to_str().ok()?;
    let v = v.split(',').next()?.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

fn plausible_host(h: &str) -> bool {
    h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
}

fn plausible_prefix(p: &str) -> bool {
    p.starts_with('/')
        && p.len() <= 200
        && !p.contains("..")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b))
}

impl Origin {
    pub(crate) fn of(parts: &Parts) -> Origin {
        let scheme = first(parts, "x-forwarded-proto")
            .map(|s| s.to_ascii_lowercase())
            .filter(|s| s == "http" || s == "https")
            .unwrap_or_else(|| {
                if parts.extensions.get::<Tls>().is_some() {
                    "https".to_owned()
                } else {
                    "http".to_owned()
                }
            });
        let host = [
            first(parts, "x-forwarded-host"),
            first(parts, "host"),
            parts.uri.authority().map(|a| a.as_str().to_owned()),
        ]
        .into_iter()
        .flatten()
        .find(|h| plausible_host(h))
        .unwrap_or_else(|| "localhost".to_owned());
        let prefix = first(parts, "x-forwarded-prefix")
            .filter(|p| plausible_prefix(p))
            .map(|p| p.trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Origin(format!("{scheme}://{host}{prefix}"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Origin::of(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(headers: &[(&str, &str)], tls: bool) -> String {
        let mut req = http::Request::builder().uri("/api/v3.1/tool_router/session");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        if tls {
            parts.extensions.insert(Tls);
        }
        Origin::of(&parts).0
    }

    #[test]
    fn origin_follows_the_host_and_forwarded_headers() {
        assert_eq!(
            origin(&[("host", "127.0.0.1:8080")], false),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            origin(&[("host", "tr.example")], true),
            "https://tr.example"
        );
        assert_eq!(
            origin(
                &[
                    ("host", "10.0.0.5:8080"),
                    ("x-forwarded-proto", "https, http"),
                    ("x-forwarded-host", "api.example.com"),
                    ("x-forwarded-prefix", "/toolrouter/"),
                ],
                false
            ),
            "https://api.example.com/toolrouter"
        );
        // Implausible values are ignored, not echoed.
        assert_eq!(
            origin(
                &[
                    ("host", "ok.example"),
                    ("x-forwarded-proto", "javascript"),
                    ("x-forwarded-host", "evil.example/<x>"),
                    ("x-forwarded-prefix", "/../x"),
                ],
                false
            ),
            "http://ok.example"
        );
        assert_eq!(origin(&[], false), "http://localhost");
    }
}
