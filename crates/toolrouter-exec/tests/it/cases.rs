//! The request-case runner: plays every case of a cases file (format at the end of
//! `docs/toolkit-format.md`) against a stand-in and lists everything that differs from what the
//! provider documents.
//!
//! All differences of all cases are collected, each prefixed with toolkit and tool, so one run
//! shows every definition that needs fixing rather than the first.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;
use toolrouter_catalog::model::{AuthKind, ToolkitDef};
use toolrouter_exec::{Credentials, Executor, ExecutorConfig, OutboundPolicy, PlanInput};

use crate::stand_in::{Reply, Seen, StandIn};

#[derive(Debug, Deserialize)]
pub(crate) struct CasesFile {
    pub(crate) toolkit: String,
    #[serde(default)]
    pub(crate) auth: Option<CaseAuth>,
    #[serde(default)]
    pub(crate) expect_auth: ExpectAuth,
    pub(crate) cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CaseAuth {
    pub(crate) scheme: AuthKind,
    #[serde(default)]
    pub(crate) values: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExpectAuth {
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) query: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Case {
    pub(crate) tool: String,
    #[serde(default)]
    pub(crate) arguments: Value,
    pub(crate) request: ExpectedRequest,
    pub(crate) response: CaseResponse,
    #[serde(default)]
    pub(crate) data: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExpectedRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) query: BTreeMap<String, Value>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) json: Option<Value>,
    #[serde(default)]
    pub(crate) form: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CaseResponse {
    pub(crate) status: u16,
    #[serde(default)]
    pub(crate) body: Value,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
}

/// An executor that may reach the loopback stand-ins and nothing else non-public.
pub(crate) fn loopback_executor() -> Executor {
    Executor::new(ExecutorConfig {
        policy: OutboundPolicy::public_only().allow_host("127.0.0.1"),
        ..ExecutorConfig::default()
    })
    .expect("executor builds")
}

/// A key → values map; repeated keys collect into one list, in order.
type Multi = BTreeMap<String, Vec<String>>;

fn parse_pairs(text: &str) -> Multi {
    let mut map = Multi::new();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        map.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    map
}

fn value_texts(value: &Value) -> Vec<String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        Value::Array(items) => items.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

fn expected_multi(map: &BTreeMap<String, Value>) -> Multi {
    map.iter()
        .map(|(k, v)| (k.clone(), value_texts(v)))
        .collect()
}

/// Runs every case of `file` against a fresh stand-in and returns the differences found, plus
/// one line naming the tools of `toolkit` that have no case.
pub(crate) async fn run_cases(toolkit: &ToolkitDef, file: &CasesFile) -> Vec<String> {
    let slug = &toolkit.slug;
    let mut failures = Vec::new();
    if file.toolkit != *slug {
        failures.push(format!(
            "{slug}: the cases file names toolkit `{}`",
            file.toolkit
        ));
    }
    let covered: BTreeSet<&str> = file.cases.iter().map(|c| c.tool.as_str()).collect();
    let missing: Vec<&str> = toolkit
        .tools
        .iter()
        .map(|t| t.slug.as_str())
        .filter(|t| !covered.contains(t))
        .collect();
    if !missing.is_empty() {
        failures.push(format!(
            "{slug}: tools without a case: {}",
            missing.join(", ")
        ));
    }

    let scheme = match &file.auth {
        None => None,
        Some(auth) if auth.scheme == AuthKind::NoAuth => None,
        Some(auth) => match toolkit.auth_schemes.iter().find(|s| s.kind == auth.scheme) {
            Some(s) => Some(s),
            None => {
                failures.push(format!(
                    "{slug}: the toolkit has no {} auth scheme",
                    auth.scheme.as_str()
                ));
                return failures;
            }
        },
    };
    let credentials = match (scheme, &file.auth) {
        (Some(s), Some(auth)) => Credentials::for_scheme(s, auth.values.clone()),
        _ => Credentials::new(),
    };
    // The stand-in takes the place of the provider's origin; the base URL's own path is kept so
    // that case paths are the full paths the provider documents.
    let mut base_path = toolkit.base_url.clone();
    if let Some(auth) = &file.auth {
        for (k, v) in &auth.values {
            base_path = base_path.replace(&format!("{{{k}}}"), v);
        }
    }
    let base_path = match reqwest::Url::parse(&base_path) {
        Ok(u) => u.path().trim_end_matches('/').to_owned(),
        Err(e) => {
            failures.push(format!(
                "{slug}: base_url `{base_path}` does not parse: {e}"
            ));
            return failures;
        }
    };
    let stand_in = StandIn::start().await;
    let base_url = format!("{}{base_path}", stand_in.origin());
    let executor = loopback_executor();

    for (index, case) in file.cases.iter().enumerate() {
        let at = format!("{slug} {} (case {index})", case.tool);
        let Some(tool) = toolkit.tools.iter().find(|t| t.slug == case.tool) else {
            failures.push(format!("{at}: no such tool in the toolkit"));
            continue;
        };
        let headers: Vec<(String, String)> = case
            .response
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        stand_in.push(Reply::from_case(
            case.response.status,
            &case.response.body,
            &headers,
        ));
        let input = PlanInput {
            toolkit,
            tool,
            arguments: &case.arguments,
            base_url: &base_url,
            auth: scheme,
            credentials: &credentials,
        };
        let outcome = executor.run(&input, None).await;
        let seen = stand_in.take();
        let [request] = seen.as_slice() else {
            failures.push(format!(
                "{at}: expected one request, the stand-in got {} (outcome error: {})",
                seen.len(),
                outcome.error.as_deref().unwrap_or("none")
            ));
            continue;
        };
        for difference in compare(&case.request, &file.expect_auth, &base_path, request) {
            failures.push(format!("{at}: {difference}"));
        }
        if let Some(expected) = &case.data {
            if !outcome.successful {
                failures.push(format!(
                    "{at}: the run failed: {}",
                    outcome.error.as_deref().unwrap_or("?")
                ));
            } else if outcome.data != *expected {
                failures.push(format!(
                    "{at}: data is {}, the case expects {expected}",
                    outcome.data
                ));
            }
        }
    }
    failures
}

/// Every way `seen` differs from the documented request.
pub(crate) fn compare(
    expected: &ExpectedRequest,
    auth: &ExpectAuth,
    base_path: &str,
    seen: &Seen,
) -> Vec<String> {
    let mut out = Vec::new();
    if !seen.method.as_str().eq_ignore_ascii_case(&expected.method) {
        out.push(format!(
            "method {} instead of {}",
            seen.method, expected.method
        ));
    }
    let relative = seen.path.strip_prefix(base_path).unwrap_or(&seen.path);
    if seen.path != expected.path && relative != expected.path {
        out.push(format!("path {} instead of {}", seen.path, expected.path));
    }

    let mut query = parse_pairs(seen.query.as_deref().unwrap_or(""));
    for (name, value) in &auth.query {
        match query.remove(name) {
            Some(values) if values == [value.clone()] => {}
            Some(values) => out.push(format!(
                "auth query `{name}` is {values:?}, not the expected value"
            )),
            None => out.push(format!("auth query `{name}` is missing")),
        }
    }
    let mut want_query = expected_multi(&expected.query);
    want_query.retain(|k, _| !auth.query.contains_key(k));
    if query != want_query {
        out.push(format!("query {query:?} instead of {want_query:?}"));
    }

    for (name, value) in auth.headers.iter().chain(&expected.headers) {
        match seen.headers.get(name.as_str()).map(|v| v.to_str()) {
            Some(Ok(got)) if got == value => {}
            // The value is a credential: say that it differs, not what it is.
            Some(Ok(_)) if auth.headers.contains_key(name) => {
                out.push(format!("auth header `{name}` has the wrong value"));
            }
            Some(Ok(got)) => out.push(format!("header `{name}` is `{got}` instead of `{value}`")),
            Some(Err(_)) => out.push(format!("header `{name}` is not text")),
            None => out.push(format!("header `{name}` is missing")),
        }
    }

    let content_type = seen
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    match (&expected.json, &expected.form) {
        (Some(json), _) => {
            if !content_type.contains("json") {
                out.push(format!("content-type `{content_type}` for a JSON body"));
            }
            match serde_json::from_slice::<Value>(&seen.body) {
                Ok(got) if got == *json => {}
                Ok(got) => out.push(format!("JSON body {got} instead of {json}")),
                Err(_) => out.push(format!(
                    "body is not JSON: {:?} (expected {json})",
                    String::from_utf8_lossy(&seen.body)
                )),
            }
        }
        (None, Some(form)) => {
            if !content_type.starts_with("application/x-www-form-urlencoded") {
                out.push(format!("content-type `{content_type}` for a form body"));
            }
            let got = parse_pairs(&String::from_utf8_lossy(&seen.body));
            let want = expected_multi(form);
            if got != want {
                out.push(format!("form body {got:?} instead of {want:?}"));
            }
        }
        (None, None) => {
            if !seen.body.is_empty() {
                out.push(format!(
                    "a body was sent where none is expected: {:?}",
                    String::from_utf8_lossy(&seen.body)
                ));
            }
        }
    }
    out
}
