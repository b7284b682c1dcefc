//! The connection to a toolrouter (or Composio) server: where it is, the API key, and the one
//! place every request goes through.
//!
//! Guarantees kept here so no endpoint can forget them:
//! - the key is never sent over plain `http` to a host that is not loopback (CONTRACT.md §1.1);
//!   the check runs when the client is built, before any request;
//! - path parameters are encoded as one segment each and `.`/`..` are refused, so an id can
//!   never address another resource;
//! - every logical call carries a fresh `x-request-id` (kept across its retries), and errors
//!   keep the id the server answered with;
//! - retries (408, 409, 429, 5xx, connection failures; `retry-after` and `x-should-retry`
//!   honoured) happen only for calls marked safe to repeat: never for executions or updates,
//!   whose side effects must not happen twice (CONTRACT.md §1.6).

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use toolrouter_api::catalog::Paginated;

use crate::error::{ApiError, Error};

/// Where the server is when neither the builder nor the environment says: the address
/// `toolrouter serve` listens on by default. Deliberately not a hosted service, so a key is
/// never sent to a third party by accident.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

const USER_AGENT: &str = concat!("toolrouter-client/", env!("CARGO_PKG_VERSION"), " (rust)");

/// A handle on a server. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    api_key: SecretString,
    max_retries: u32,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("api_key", &"[redacted]")
            .field("max_retries", &self.inner.max_retries)
            .finish()
    }
}

/// Builds a [`Client`]: the API key and base URL, plus transport settings.
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    max_retries: u32,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_key: None,
            base_url: None,
            timeout: None,
            connect_timeout: Duration::from_secs(10),
            max_retries: 2,
        }
    }
}

impl ClientBuilder {
    /// The API key, sent as `x-api-key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The server, e.g. `https://toolrouter.example.com` (a path prefix such as
    /// `https://example.com/toolrouter` is kept). Default: [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// A limit on each whole request. Default: none, because tool executions (the workbench
    /// especially) can legitimately take minutes.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A limit on establishing each connection. Default: 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times a call that is safe to repeat is retried. Default: 2 (3 attempts).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Fills what is not set yet from a variable lookup: `TOOLROUTER_API_KEY` (else
    /// `COMPOSIO_API_KEY`) and `TOOLROUTER_BASE_URL` (else `COMPOSIO_BASE_URL`). Empty values
    /// count as unset.
    pub(crate) fn fill_from(mut self, get: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: [&str; 2]| {
            names
                .into_iter()
                .filter_map(&get)
                .map(|v| v.trim().to_owned())
                .find(|v| !v.is_empty())
        };
        if self.api_key.is_none()
            && let Some(key) = first(["TOOLROUTER_API_KEY", "COMPOSIO_API_KEY"])
        {
            self = self.api_key(key);
        }
        if self.base_url.is_none()
            && let Some(url) = first(["TOOLROUTER_BASE_URL", "COMPOSIO_BASE_URL"])
        {
            self = self.base_url(url);
        }
        self
    }

    /// Reads what is not set yet from the environment (see [`Client::from_env`]).
    pub fn from_env(self) -> Self {
        self.fill_from(|name| std::env::var(name).ok())
    }

    /// Checks the settings and builds the client. Sends nothing.
    pub fn build(self) -> Result<Client, Error> {
        let api_key = self.api_key.ok_or_else(|| {
            Error::Config(
                "no API key: pass one, or set TOOLROUTER_API_KEY (or COMPOSIO_API_KEY)".to_owned(),
            )
        })?;
        if api_key.expose_secret().is_empty() {
            return Err(Error::Config("the API key is empty".to_owned()));
        }
        if HeaderValue::from_str(api_key.expose_secret()).is_err() {
            return Err(Error::Config(
                "the API key contains characters that cannot be sent in a header".to_owned(),
            ));
        }
        let base = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let mut http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(self.connect_timeout);
        if let Some(t) = self.timeout {
            http = http.timeout(t);
        }
        let http = http
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                api_key,
                max_retries: self.max_retries,
            }),
        })
    }
}

/// Parses and normalises the base URL, refusing what would leak the key.
fn parse_base_url(raw: &str) -> Result<Url, Error> {
    let mut url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("the base URL {raw:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(Error::InsecureUrl(url.to_string())),
        other => {
            return Err(Error::Config(format!(
                "the base URL must be http(s), not {other}:"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::Config(format!("the base URL {raw:?} has no host")));
    }
    url.set_query(None);
    url.set_fragment(None);
    // `https://h/prefix/` and `https://h/prefix` address the same server (CONTRACT.md §1.1).
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

/// `localhost`, `*.localhost`, `127.0.0.0/8` and `::1`: where plain http cannot be overheard.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// A fresh id per logical call, so the server's logs and an error report can be matched.
/// Not a secret, only unique: a per-process random hasher over a counter and the clock.
fn new_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let half = |salt: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        h.write_u64(salt);
        h.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// One request, described before it is sent so it can be sent again on retry.
#[derive(Debug)]
pub(crate) struct Call {
    method: Method,
    /// Segments after `/api/v3.1`, each encoded as one segment.
    segments: Vec<String>,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    retry: bool,
    /// What the answer is, for decode errors ("session", "tool list", …).
    what: &'static str,
}

impl Call {
    pub(crate) fn new(method: Method, segments: &[&str], what: &'static str) -> Call {
        Call {
            // Only GET, DELETE and creations are repeated; the caller opts out where a repeat
            // would repeat a side effect.
            retry: true,
            method,
            segments: segments.iter().map(|s| (*s).to_owned()).collect(),
            query: Vec::new(),
            body: None,
            what,
        }
    }

    pub(crate) fn get(segments: &[&str], what: &'static str) -> Call {
        Call::new(Method::GET, segments, what)
    }

    pub(crate) fn post(segments: &[&str], what: &'static str) -> Call {
        Call::new(Method::POST, segments, what)
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Call {
        self.query.push((key, value.into()));
        self
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Call {
        // Serialising our own request types cannot fail: they are maps of strings and values.
        self.body = Some(serde_json::to_vec(body).unwrap_or_default());
        self
    }

    /// Marks the call as not safe to repeat (executions, updates).
    pub(crate) fn once(mut self) -> Call {
        self.retry = false;
        self
    }
}

impl Client {
    /// A client for `base_url` with `api_key`.
    ///
    /// ```
    /// let client = toolrouter_client::Client::new("trk_…", "https://toolrouter.example.com")?;
    /// # Ok::<(), toolrouter_client::Error>(())
    /// ```
    pub fn new(api_key: impl Into<String>, base_url: impl Into<String>) -> Result<Client, Error> {
        ClientBuilder::default()
            .api_key(api_key)
            .base_url(base_url)
            .build()
    }

    /// A client configured from the environment: `TOOLROUTER_API_KEY` and
    /// `TOOLROUTER_BASE_URL`, or Composio's `COMPOSIO_API_KEY` and `COMPOSIO_BASE_URL`, so code
    /// written for Composio runs unchanged. The base URL defaults to [`DEFAULT_BASE_URL`].
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::default().from_env().build()
    }

    /// Every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The normalised base URL (no trailing slash).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Whether `url` has the API's origin (scheme, host and port), so credentials may go there.
    pub(crate) fn same_origin(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| u.origin() == self.inner.base.origin())
    }

    /// The plain HTTP client, for signed transfer URLs that must not carry the API key.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The headers that authenticate a request, for callers that connect elsewhere with the
    /// same credential (the session's MCP endpoint).
    pub(crate) fn credential_headers(&self) -> Vec<(String, SecretString)> {
        vec![("x-api-key".to_owned(), self.inner.api_key.clone())]
    }

    /// The URL path of an endpoint, for messages (`/prefix/api/v3.1/…`).
    pub(crate) fn path(&self, segments: &[&str]) -> String {
        self.url(&Call::get(segments, ""))
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }

    pub(crate) fn url(&self, call: &Call) -> Result<Url, Error> {
        let mut url = self.inner.base.clone();
        {
            let Ok(mut path) = url.path_segments_mut() else {
                return Err(Error::Config(format!(
                    "the base URL {} cannot take a path",
                    self.inner.base
                )));
            };
            path.pop_if_empty().extend(["api", "v3.1"]);
            for s in &call.segments {
                if s.is_empty() || s == "." || s == ".." {
                    return Err(Error::Config(format!(
                        "{s:?} is not a valid identifier in a request path"
                    )));
                }
                path.push(s);
            }
        }
        if !call.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &call.query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Every item of a paginated list (`{items, next_cursor, …}`), following `next_cursor`
    /// (sent back as `cursor`) until it is absent or empty. A cursor handed out twice ends the
    /// walk, so a faulty server cannot make the client loop forever.
    pub(crate) async fn all_pages<T: DeserializeOwned>(
        &self,
        first: impl Fn() -> Call,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut call = first();
            if let Some(c) = &cursor {
                call = call.query("cursor", c.clone());
            }
            let page: Paginated<T> = self.send(call).await?;
            items.extend(page.items);
            match page.next_cursor.filter(|c| !c.is_empty()) {
                Some(next) if seen.insert(next.clone()) => cursor = Some(next),
                _ => return Ok(items),
            }
        }
    }

    /// Sends `call` (retrying where allowed) and decodes a 2xx JSON answer as `T`.
    pub(crate) async fn send<T: DeserializeOwned>(&self, call: Call) -> Result<T, Error> {
        let url = self.url(&call)?;
        let request_id = new_request_id();
        let max_retries = if call.retry {
            self.inner.max_retries
        } else {
            0
        };
        let mut attempt = 0;
        loop {
            let mut headers = HeaderMap::new();
            let mut key = HeaderValue::from_str(self.inner.api_key.expose_secret())
                .map_err(|_| Error::Config("the API key cannot be sent in a header".into()))?;
            key.set_sensitive(true);
            headers.insert("x-api-key", key);
            headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
            if let Ok(id) = HeaderValue::from_str(&request_id) {
                headers.insert("x-request-id", id);
            }
            let mut req = self
                .inner
                .http
                .request(call.method.clone(), url.clone())
                .headers(headers);
            if let Some(body) = &call.body {
                req = req
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let transport = |source| Error::Transport {
                method: call.method.to_string(),
                url: url.to_string(),
                source,
            };
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) if attempt < max_retries && (e.is_connect() || e.is_timeout()) => {
                    tokio::time::sleep(backoff(attempt, None)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(transport(e)),
            };
            let status = resp.status();
            if !status.is_success() && attempt < max_retries && should_retry(status, resp.headers())
            {
                tokio::time::sleep(backoff(attempt, Some(resp.headers()))).await;
                attempt += 1;
                continue;
            }
            let answered_id = request_id_of(resp.headers());
            let body = resp.bytes().await.map_err(transport)?;
            if !status.is_success() {
                let mut api = ApiError::from_body(status.as_u16(), &body, answered_id);
                api.request_id.get_or_insert(request_id);
                return Err(Error::from_api(api));
            }
            return serde_json::from_slice(&body).map_err(|source| Error::Decode {
                method: call.method.to_string(),
                path: url.path().to_owned(),
                what: call.what,
                source,
            });
        }
    }
}

/// The statuses the official clients retry, unless the server says otherwise.
fn should_retry(status: StatusCode, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

/// How long to wait before retry `attempt + 1`: what the server asked for (up to a minute),
/// else 0.5 s doubling, at most 8 s.
fn backoff(attempt: u32, headers: Option<&HeaderMap>) -> Duration {
    let asked = headers.and_then(|h| {
        let value = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        value("retry-after-ms")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|ms| ms / 1000.0)
            .or_else(|| value("retry-after").and_then(|v| v.trim().parse::<f64>().ok()))
    });
    match asked {
        Some(secs) if secs.is_finite() && (0.0..=60.0).contains(&secs) => {
            Duration::from_secs_f64(secs)
        }
        _ => Duration::from_millis(500u64.saturating_mul(1 << attempt.min(4))),
    }
}

/// The `x-request-id` a response carries, for error reports.
pub(crate) fn request_id_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(vars: &[(&str, &str)]) -> ClientBuilder {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ClientBuilder::default()
            .fill_from(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn environment_prefers_toolrouter_names_and_accepts_composio_ones() {
        let c = builder(&[
            ("TOOLROUTER_API_KEY", "trk_a"),
            ("COMPOSIO_API_KEY", "ck_b"),
            ("COMPOSIO_BASE_URL", "https://composio.example/prefix/"),
        ])
        .build()
        .unwrap();
        assert_eq!(c.inner.api_key.expose_secret(), "trk_a");
        assert_eq!(c.base_url().as_str(), "https://composio.example/prefix");

        let c = builder(&[("TOOLROUTER_API_KEY", " "), ("COMPOSIO_API_KEY", "ck_b")])
            .build()
            .unwrap();
        assert_eq!(c.inner.api_key.expose_secret(), "ck_b");
        assert_eq!(c.base_url().as_str(), "http://127.0.0.1:8080/");

        let err = builder(&[]).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: no API key: pass one, or set TOOLROUTER_API_KEY (or COMPOSIO_API_KEY)"
        );
        // What the builder was given wins over the environment.
        let c = builder(&[("TOOLROUTER_BASE_URL", "https://env.example")])
            .base_url("https://given.example")
            .api_key("k")
            .build()
            .unwrap();
        assert_eq!(c.base_url().host_str(), Some("given.example"));
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        for ok in [
            "http://localhost:8080",
            "http://api.localhost",
            "http://127.0.0.1",
            "http://127.1.2.3:9",
            "http://[::1]:8080",
            "https://toolrouter.example.com",
        ] {
            assert!(Client::new("k", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://toolrouter.example.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
        ] {
            assert!(
                matches!(Client::new("k", bad), Err(Error::InsecureUrl(_))),
                "{bad}"
            );
        }
        assert!(matches!(Client::new("k", "ftp://x"), Err(Error::Config(_))));
        assert!(matches!(
            Client::new("k", "not a url"),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn paths_keep_the_prefix_and_ids_stay_one_segment() {
        let c = Client::new("k", "https://h.example/prefix/").unwrap();
        let url = c
            .url(
                &Call::get(&["tool_router", "session", "a/b c"], "x")
                    .query("toolkits", "gmail,github"),
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://h.example/prefix/api/v3.1/tool_router/session/a%2Fb%20c?toolkits=gmail%2Cgithub"
        );
        for bad in ["..", ".", ""] {
            assert!(
                c.url(&Call::get(&["tool_router", "session", bad], "x"))
                    .is_err()
            );
        }
    }

    #[test]
    fn the_key_never_shows_in_debug() {
        let c = Client::new("trk_secret", "https://h.example").unwrap();
        let shown = format!("{c:?} {:?}", Client::builder().api_key("trk_secret"));
        assert!(!shown.contains("trk_secret"), "{shown}");
    }

    #[test]
    fn request_ids_are_fresh_32_hex() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn backoff_honours_the_server_within_reason() {
        let mut h = HeaderMap::new();
        assert_eq!(backoff(0, Some(&h)), Duration::from_millis(500));
        assert_eq!(backoff(1, None), Duration::from_secs(1));
        assert_eq!(backoff(10, None), Duration::from_secs(8));
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(backoff(0, Some(&h)), Duration::from_secs(2));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(backoff(0, Some(&h)), Duration::from_millis(150));
        h.insert("retry-after-ms", HeaderValue::from_static("999999"));
        assert_eq!(backoff(0, Some(&h)), Duration::from_millis(500));
        let mut h = HeaderMap::new();
        assert!(should_retry(StatusCode::BAD_GATEWAY, &h));
        assert!(!should_retry(StatusCode::NOT_FOUND, &h));
        h.insert("x-should-retry", HeaderValue::from_static("false"));
        assert!(!should_retry(StatusCode::BAD_GATEWAY, &h));
        h.insert("x-should-retry", HeaderValue::from_static("true"));
        assert!(should_retry(StatusCode::NOT_FOUND, &h));
    }
}
