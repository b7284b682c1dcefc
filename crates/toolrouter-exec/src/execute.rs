//! Sending planned requests: one shared HTTP client with the SSRF guard built in, a per-call
//! timeout, a cap on response size, and every failure folded into a [`ToolOutcome`].
//!
//! The client is built here and nowhere else so that no code path can send a tool request
//! without the guard: its resolver filters addresses, literal-IP hosts are checked before
//! sending, and redirects are followed only within the same origin (a cross-origin redirect
//! could carry a credential header to a host the tool never named).

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use reqwest::Url;
use reqwest::redirect;
use toolrouter_catalog::model::HttpMapping;

use crate::guard::{GuardedResolver, OutboundPolicy, Refused};
use crate::outcome::{FailureKind, RawResponse, ToolOutcome, scrub, shape};
use crate::plan::{PlanInput, PlannedRequest, plan};

/// Settings of the executor, chosen by the operator.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Default time for a whole call (connect, send, read the body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Larger responses fail with [`FailureKind::TooLarge`] instead of filling memory.
    pub max_response_bytes: usize,
    pub user_agent: String,
    pub policy: OutboundPolicy,
    /// Same-origin redirects followed before giving up.
    pub max_redirects: usize,
}

impl Default for ExecutorConfig {
    fn default() -> ExecutorConfig {
        ExecutorConfig {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 10 * 1024 * 1024,
            // Some APIs (GitHub) refuse requests without a User-Agent.
            user_agent: concat!("toolrouter/", env!("CARGO_PKG_VERSION")).to_owned(),
            policy: OutboundPolicy::public_only(),
            max_redirects: 5,
        }
    }
}

/// Why the executor could not be built.
#[derive(Debug, thiserror::Error)]
#[error("could not build the outbound HTTP client")]
pub struct BuildError(#[source] reqwest::Error);

/// Runs tools. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Executor {
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
    pub(crate) timeout: Duration,
    max_response_bytes: usize,
}

impl Executor {
    pub fn new(config: ExecutorConfig) -> Result<Executor, BuildError> {
        let policy = Arc::new(config.policy);
        let max_redirects = config.max_redirects;
        let redirects = redirect::Policy::custom(move |attempt| {
            let same_origin = attempt
                .previous()
                .last()
                .is_some_and(|prev| prev.origin() == attempt.url().origin());
            if same_origin && attempt.previous().len() <= max_redirects {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver {
                policy: Arc::clone(&policy),
            })
            .redirect(redirects)
            // Through a proxy the guard would check the proxy, not the destination.
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent)
            .build()
            .map_err(BuildError)?;
        Ok(Executor {
            client,
            policy,
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        })
    }

    /// Plans and sends one call. `timeout` overrides the configured one for this call.
    pub async fn run(&self, input: &PlanInput<'_>, timeout: Option<Duration>) -> ToolOutcome {
        match plan(input) {
            Ok(request) => self.send(&request, &input.tool.http, timeout).await,
            Err(e) => ToolOutcome::failed(FailureKind::InvalidRequest, e.to_string()),
        }
    }

    /// Sends a planned request and shapes the response per `http.response` and
    /// `http.pagination`.
    pub async fn send(
        &self,
        request: &PlannedRequest,
        http: &HttpMapping,
        timeout: Option<Duration>,
    ) -> ToolOutcome {
        let host = request.url.host_str().unwrap_or_default().to_owned();
        let url = request.url_with_credentials();
        if let Err(refused) = self.check_literal_host(&url) {
            return ToolOutcome::failed(FailureKind::Blocked, refused.to_string());
        }
        let timeout = timeout.unwrap_or(self.timeout);
        let started = std::time::Instant::now();
        let received = tokio::time::timeout(timeout, self.exchange(request, url)).await;
        let result = match received {
            Err(_) => Err(ToolOutcome::failed(
                FailureKind::Timeout,
                format!("{host} did not answer within {} ms", timeout.as_millis()),
            )),
            Ok(r) => r,
        };
        let outcome = match result {
            Ok(resp) => shape(&resp, http, request.secrets()),
            Err(mut failed) => {
                failed.error = failed.error.map(|e| scrub(&e, request.secrets()));
                failed
            }
        };
        tracing::debug!(
            method = %request.method,
            url = %request.url,
            status = ?outcome.status,
            failure = ?outcome.failure,
            elapsed_ms = started.elapsed().as_millis(),
            "tool request"
        );
        outcome
    }

    pub(crate) fn check_literal_host(&self, url: &Url) -> Result<(), Refused> {
        let host = url.host_str().unwrap_or_default();
        match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
        {
            Ok(ip) => self.policy.check(host, ip),
            // A name: the resolver checks what it resolves to.
            Err(_) => Ok(()),
        }
    }

    pub(crate) async fn exchange(
        &self,
        request: &PlannedRequest,
        url: Url,
    ) -> Result<RawResponse, ToolOutcome> {
        let host = request.url.host_str().unwrap_or_default();
        let mut builder = self
            .client
            .request(request.method.clone(), url)
            .headers(request.headers.clone());
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut resp = builder.send().await.map_err(|e| network_failure(host, e))?;
        let cap = self.max_response_bytes;
        let too_large = || {
            ToolOutcome::failed(
                FailureKind::TooLarge,
                format!("the response from {host} is larger than the {cap}-byte limit"),
            )
        };
        if resp.content_length().is_some_and(|len| len > cap as u64) {
            return Err(too_large());
        }
        let status = resp.status();
        let headers: HeaderMap = resp.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| network_failure(host, e))? {
            if body.len() + chunk.len() > cap {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }
}

/// A transport error as an outcome. The URL (which may hold a credential in its query) is
/// dropped from the error before its text is used.
fn network_failure(host: &str, err: reqwest::Error) -> ToolOutcome {
    let err = err.without_url();
    let mut source: Option<&(dyn StdError + 'static)> = Some(&err);
    let mut parts: Vec<String> = Vec::new();
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return ToolOutcome::failed(FailureKind::Blocked, refused.to_string());
        }
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    let kind = if err.is_timeout() {
        FailureKind::Timeout
    } else {
        FailureKind::Network
    };
    ToolOutcome::failed(
        kind,
        format!("could not reach {host}: {}", parts.join(": ")),
    )
}
