//! Request planning: a tool definition plus a call's arguments and credentials become the exact
//! HTTP request to send, without doing any IO.
//!
//! Pure so that every placement rule of `docs/toolkit-format.md` can be tested by looking at the
//! planned request. Credentials placed in the query are kept apart from the URL until the
//! request is sent, and credential headers are marked sensitive, so the `Debug` output of a
//! [`PlannedRequest`] (and anything logged from it) never shows a secret.

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use toolrouter_catalog::model::{
    ArrayStyle, AuthKind, AuthScheme, BodyEncoding, HttpMethod, InjectLocation, ParamLocation,
    ToolDef, ToolkitDef,
};
use toolrouter_catalog::validate::{KNOWN_TRANSFORMS, placeholders};

use crate::credentials::Credentials;
use crate::encode;
use crate::transform;

/// Everything planning needs for one call.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub toolkit: &'a ToolkitDef,
    pub tool: &'a ToolDef,
    /// The call's arguments: a JSON object (or `null` for none).
    pub arguments: &'a Value,
    /// The base URL to use: normally `toolkit.base_url`, or an operator override (a stand-in).
    /// `{field}` placeholders are filled from non-secret connection values.
    pub base_url: &'a str,
    /// The connection's auth scheme; `None` for a toolkit without auth.
    pub auth: Option<&'a AuthScheme>,
    pub credentials: &'a Credentials,
}

/// Why a call could not be turned into a request. Messages name the argument, field or header
/// at fault and never contain a credential value.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("arguments must be a JSON object")]
    ArgumentsNotObject,
    #[error("the path needs argument `{arg}`")]
    MissingPathArgument { arg: String },
    #[error("argument `{arg}` goes into the path and must not be empty")]
    EmptyPathArgument { arg: String },
    #[error("the base URL needs the non-secret connection field `{field}`")]
    MissingBaseUrlField { field: String },
    #[error(
        "connection field `{field}` is used in the base URL and may not contain / ? # @ \\, % or spaces"
    )]
    UnsafeBaseUrlField { field: String },
    #[error("`{url}` is not a valid URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("only http and https URLs can be called, not `{scheme}`")]
    UnsupportedScheme { scheme: String },
    #[error("the {scheme} connection has no value for field `{field}`")]
    MissingCredential { scheme: &'static str, field: String },
    #[error("header `{name}` cannot be sent: {reason}")]
    InvalidHeader { name: String, reason: &'static str },
    #[error("unknown transform `{name}`")]
    UnknownTransform { name: String },
    #[error("transform {name}: {message}")]
    Transform { name: &'static str, message: String },
    #[error("the request body must be a JSON object to {reason}")]
    BodyNotObject { reason: &'static str },
}

/// A request ready to send.
#[derive(Clone)]
pub struct PlannedRequest {
    pub method: Method,
    /// The URL with argument and constant query parameters, without credentials (those placed in
    /// the query are added by [`PlannedRequest::url_with_credentials`] when sending).
    pub url: Url,
    /// Toolkit, tool, argument and credential headers; credential headers are marked sensitive.
    pub headers: HeaderMap,
    /// `None` when nothing goes in the body.
    pub body: Option<Vec<u8>>,
    /// The `Content-Type` of `body` (also present in `headers`).
    pub content_type: Option<String>,
    auth_query: Vec<(String, SecretString)>,
    redact: Vec<SecretString>,
}

impl PlannedRequest {
    /// The URL actually requested, including credentials injected into the query. Only for
    /// handing to the HTTP client: never log it.
    pub fn url_with_credentials(&self) -> Url {
        let mut url = self.url.clone();
        if self.auth_query.is_empty() {
            return url;
        }
        let auth = encode::query_string(
            self.auth_query
                .iter()
                .map(|(k, v)| (k.as_str(), v.expose_secret())),
        );
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&{auth}"),
            _ => auth,
        };
        url.set_query(Some(&query));
        url
    }

    /// Names of the query parameters that carry credentials.
    pub fn credential_query_names(&self) -> impl Iterator<Item = &str> {
        self.auth_query.iter().map(|(k, _)| k.as_str())
    }

    /// Secret values that must not appear in anything returned to the caller.
    pub(crate) fn secrets(&self) -> &[SecretString] {
        &self.redact
    }

    /// A request built by hand (proxy calls) rather than planned from a tool definition;
    /// credentials are added with [`inject_auth`].
    pub(crate) fn raw(
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
        credentials: &Credentials,
    ) -> PlannedRequest {
        PlannedRequest {
            method,
            url,
            headers,
            body,
            content_type: None,
            auth_query: Vec::new(),
            redact: credentials.secrets().cloned().collect(),
        }
    }
}

impl fmt::Debug for PlannedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.credential_query_names().collect();
        f.debug_struct("PlannedRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("credential_query", &names)
            .field("headers", &self.headers)
            .field("content_type", &self.content_type)
            .field("body", &self.body.as_deref().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Plans one call. See `docs/toolkit-format.md` for the rules; in short: explicit `params`
/// first, else the path when the template names the argument, else the query for
/// GET/DELETE/HEAD, else a key of the body. Arguments that are absent or `null` are not sent.
pub fn plan(input: &PlanInput<'_>) -> Result<PlannedRequest, PlanError> {
    let http = &input.tool.http;
    let mut args = match input.arguments {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        _ => return Err(PlanError::ArgumentsNotObject),
    };
    // Models often send `null` for an optional argument they mean to leave out.
    args.retain(|_, v| !v.is_null());
    if let Some(name) = &http.transform {
        args = transform::apply(name, args)?;
    }
    let known = known_arguments(input.tool);
    let in_template: BTreeSet<&str> = placeholders(&http.path).into_iter().collect();

    let mut query: Vec<(String, String)> = http
        .query
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut headers = HeaderMap::new();
    for (name, value) in input.toolkit.headers.iter().chain(&http.headers) {
        headers.insert(header_name(name)?, header_value(name, value)?);
    }
    let mut body_root: Option<Value> = None;
    let mut body_keys: Vec<(&str, Value)> = Vec::new();

    for (arg, value) in &args {
        if let Some(known) = &known
            && !known.contains(arg.as_str())
        {
            tracing::debug!(tool = %input.tool.slug, arg = %arg, "argument is not in the input schema; not sent");
            continue;
        }
        let mapping = http.params.iter().find(|p| &p.arg == arg);
        let location = match mapping {
            Some(m) => m.location,
            None if in_template.contains(arg.as_str()) => ParamLocation::Path,
            None if http.method.args_default_to_query() => ParamLocation::Query,
            None => ParamLocation::Body,
        };
        let wire = mapping.and_then(|m| m.name.as_deref()).unwrap_or(arg);
        match location {
            // Filled from `args` when the template is rendered below.
            ParamLocation::Path => {}
            ParamLocation::Query => {
                let style = mapping.and_then(|m| m.style).unwrap_or(ArrayStyle::Comma);
                push_query(&mut query, wire, value, style);
            }
            ParamLocation::Header => {
                let text = match value {
                    Value::Array(items) => items
                        .iter()
                        .map(encode::scalar_text)
                        .collect::<Vec<_>>()
                        .join(","),
                    other => encode::scalar_text(other),
                };
                headers.insert(header_name(wire)?, header_value(wire, &text)?);
            }
            ParamLocation::Body => body_keys.push((wire, value.clone())),
            ParamLocation::BodyRoot => body_root = Some(value.clone()),
        }
    }

    let path = render_path(&http.path, &args)?;
    let base = fill_base_url(input.base_url, input.credentials)?;
    let joined = format!("{}{}", base.trim_end_matches('/'), path);
    let mut url = Url::parse(&joined).map_err(|e| PlanError::InvalidUrl {
        url: joined.clone(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(PlanError::UnsupportedScheme {
            scheme: url.scheme().to_owned(),
        });
    }
    if !query.is_empty() {
        let ours = encode::query_string(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let full = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{ours}"),
            _ => ours,
        };
        url.set_query(Some(&full));
    }

    let body = assemble_body(http.const_body.clone(), body_root, body_keys)?;
    let (body, content_type) = match body {
        None => (None, None),
        Some(value) => {
            let (bytes, default_type) = match http.body {
                BodyEncoding::Json => (value.to_string().into_bytes(), "application/json"),
                BodyEncoding::Form => {
                    let text = encode::form_body(&value).ok_or(PlanError::BodyNotObject {
                        reason: "be sent as a form",
                    })?;
                    (text.into_bytes(), "application/x-www-form-urlencoded")
                }
            };
            // A definition may pin a more specific JSON type (`application/vnd.api+json`).
            let content_type = match headers.get(CONTENT_TYPE).map(HeaderValue::to_str) {
                Some(Ok(declared)) => declared.to_owned(),
                _ => {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static(default_type));
                    default_type.to_owned()
                }
            };
            (Some(bytes), Some(content_type))
        }
    };

    let mut planned = PlannedRequest {
        method: method(http.method),
        url,
        headers,
        body,
        content_type,
        auth_query: Vec::new(),
        redact: input.credentials.secrets().cloned().collect(),
    };
    if let Some(scheme) = input.auth {
        inject_auth(&mut planned, scheme, input.credentials)?;
    }
    Ok(planned)
}

fn method(m: HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Head => Method::HEAD,
    }
}

/// The arguments a tool can place, or `None` when its schema accepts anything. Keys a model
/// invents are dropped rather than sent to a provider that might act on them.
fn known_arguments(tool: &ToolDef) -> Option<BTreeSet<&str>> {
    // Per call: the tree is parsed on the tool's first call and kept with it.
    let input = tool.input.value();
    let open = match input.get("additionalProperties") {
        None | Some(Value::Bool(false)) => false,
        Some(_) => true,
    };
    let props = input.get("properties").and_then(Value::as_object)?;
    if open {
        return None;
    }
    let produced = KNOWN_TRANSFORMS
        .iter()
        .filter(|(n, _)| Some(*n) == tool.http.transform.as_deref())
        .flat_map(|(_, outs)| outs.iter().copied());
    Some(props.keys().map(String::as_str).chain(produced).collect())
}

fn push_query(query: &mut Vec<(String, String)>, name: &str, value: &Value, style: ArrayStyle) {
    match value {
        Value::Array(items) => match style {
            ArrayStyle::Comma => {
                let joined = items
                    .iter()
                    .map(encode::scalar_text)
                    .collect::<Vec<_>>()
                    .join(",");
                query.push((name.to_owned(), joined));
            }
            ArrayStyle::Repeat => {
                query.extend(
                    items
                        .iter()
                        .map(|v| (name.to_owned(), encode::scalar_text(v))),
                );
            }
            ArrayStyle::Brackets => {
                let key = format!("{name}[]");
                query.extend(items.iter().map(|v| (key.clone(), encode::scalar_text(v))));
            }
        },
        // Deep objects (`created[gte]=…`) are written the way form bodies are.
        Value::Object(_) => encode::flatten_brackets(name, value, query),
        other => query.push((name.to_owned(), encode::scalar_text(other))),
    }
}

fn render_path(template: &str, args: &Map<String, Value>) -> Result<String, PlanError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &rest[start + 1..start + len];
        let (name, keep_slashes) = match inner.strip_prefix('+') {
            Some(n) => (n, true),
            None => (inner, false),
        };
        let value = args
            .get(name)
            .ok_or_else(|| PlanError::MissingPathArgument {
                arg: name.to_owned(),
            })?;
        let text = encode::scalar_text(value);
        if text.is_empty() {
            return Err(PlanError::EmptyPathArgument {
                arg: name.to_owned(),
            });
        }
        out.push_str(&encode::path_segment(&text, keep_slashes));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Fills `{field}` placeholders from non-secret connection values. A value that could change
/// the URL's structure (`evil.test/x#`, `a@b`) is refused: a field meant to be a subdomain must
/// not be able to pick another host's path or userinfo.
pub(crate) fn fill_base_url(base: &str, creds: &Credentials) -> Result<String, PlanError> {
    let mut out = base.to_owned();
    for field in placeholders(base) {
        let value = creds
            .plain(field)
            .ok_or_else(|| PlanError::MissingBaseUrlField {
                field: field.to_owned(),
            })?;
        let unsafe_char = |c: char| {
            matches!(c, '/' | '?' | '#' | '@' | '\\' | '%') || c.is_whitespace() || c.is_control()
        };
        if value.is_empty() || value.contains(unsafe_char) {
            return Err(PlanError::UnsafeBaseUrlField {
                field: field.to_owned(),
            });
        }
        out = out.replace(&format!("{{{field}}}"), value);
    }
    Ok(out)
}

/// Merges `const_body`, a `body_root` argument and body keys (dotted names nest) into one body,
/// or `None` when there is nothing to send.
fn assemble_body(
    const_body: Option<Value>,
    root: Option<Value>,
    keys: Vec<(&str, Value)>,
) -> Result<Option<Value>, PlanError> {
    let mut body = const_body;
    if let Some(root) = root {
        body = Some(match (body, root) {
            (Some(Value::Object(mut base)), Value::Object(fields)) => {
                base.extend(fields);
                Value::Object(base)
            }
            (_, root) => root,
        });
    }
    if keys.is_empty() {
        return Ok(body);
    }
    let mut body = body.unwrap_or_else(|| Value::Object(Map::new()));
    let Value::Object(map) = &mut body else {
        return Err(PlanError::BodyNotObject {
            reason: "hold named arguments next to the whole-body one",
        });
    };
    for (dotted, value) in keys {
        set_dotted(map, dotted, value);
    }
    Ok(Some(body))
}

fn set_dotted(map: &mut Map<String, Value>, dotted: &str, value: Value) {
    match dotted.split_once('.') {
        None => {
            map.insert(dotted.to_owned(), value);
        }
        Some((head, tail)) => {
            let slot = map
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                set_dotted(inner, tail, value);
            }
        }
    }
}

pub(crate) fn header_name(name: &str) -> Result<HeaderName, PlanError> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| PlanError::InvalidHeader {
        name: name.to_owned(),
        reason: "not a valid header name",
    })
}

pub(crate) fn header_value(name: &str, value: &str) -> Result<HeaderValue, PlanError> {
    HeaderValue::from_str(value).map_err(|_| PlanError::InvalidHeader {
        name: name.to_owned(),
        reason: "the value holds a line break or other control character",
    })
}

/// Renders an injection template over the connection values.
fn render_template(
    template: &str,
    scheme: AuthKind,
    creds: &Credentials,
) -> Result<SecretString, PlanError> {
    let mut out = template.to_owned();
    for field in placeholders(template) {
        let value = creds
            .get(field)
            .ok_or_else(|| PlanError::MissingCredential {
                scheme: scheme.as_str(),
                field: field.to_owned(),
            })?;
        out = out.replace(&format!("{{{field}}}"), value.expose());
    }
    Ok(SecretString::from(out))
}

pub(crate) fn inject_auth(
    planned: &mut PlannedRequest,
    scheme: &AuthScheme,
    creds: &Credentials,
) -> Result<(), PlanError> {
    if scheme.kind == AuthKind::Basic {
        let user = creds
            .get("username")
            .ok_or_else(|| PlanError::MissingCredential {
                scheme: AuthKind::Basic.as_str(),
                field: "username".to_owned(),
            })?;
        // Some services take an API key as the username and no password.
        let password = creds.get("password").map(|p| p.expose()).unwrap_or("");
        let token = STANDARD.encode(format!("{}:{password}", user.expose()));
        let mut value = header_value("Authorization", &format!("Basic {token}"))?;
        value.set_sensitive(true);
        planned.headers.insert(http::header::AUTHORIZATION, value);
        planned.redact.push(SecretString::from(token));
    }
    for inj in &scheme.inject {
        let rendered = render_template(&inj.value, scheme.kind, creds)?;
        match inj.location {
            InjectLocation::Header => {
                let mut value = header_value(&inj.name, rendered.expose_secret())?;
                value.set_sensitive(true);
                planned.headers.insert(header_name(&inj.name)?, value);
            }
            InjectLocation::Query => planned.auth_query.push((inj.name.clone(), rendered)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use serde_json::json;

    /// A toolkit of one tool, built from the tool's `http` mapping and input properties.
    fn toolkit(http: Value, properties: Value, auth: Value, base_url: &str) -> ToolkitDef {
        let mut def = json!({
            "slug": "demo", "name": "Demo", "description": "A demo service.",
            "base_url": base_url, "headers": {"Accept": "application/json"},
            "tools": [{"slug": "DEMO_CALL", "name": "Call", "description": "Call the demo service.",
                       "input": {"type": "object"}}]
        });
        def["auth_schemes"] = auth;
        def["tools"][0]["input"]["properties"] = properties;
        def["tools"][0]["http"] = http;
        serde_json::from_value(def).expect("toolkit parses")
    }

    fn describe(req: &PlannedRequest) -> String {
        let mut out = format!("{} {}\n", req.method, req.url_with_credentials());
        for (name, value) in &req.headers {
            let shown = if value.is_sensitive() {
                "(sensitive) "
            } else {
                ""
            };
            out.push_str(&format!(
                "{name}: {shown}{}\n",
                value.to_str().unwrap_or("?")
            ));
        }
        if let Some(body) = &req.body {
            out.push_str(&format!("\n{}\n", String::from_utf8_lossy(body)));
        }
        out
    }

    fn props(names: &[&str]) -> Value {
        let map: Map<String, Value> = names
            .iter()
            .map(|n| {
                (
                    (*n).to_owned(),
                    json!({"type": "string", "description": "x"}),
                )
            })
            .collect();
        Value::Object(map)
    }

    /// Plans a call of a no-auth tool against `https://api.demo.test`.
    fn check(http: Value, args: &Value, expected: &Expect) {
        let names: Vec<String> = args
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let tk = toolkit(http, props(&names), json!([]), "https://api.demo.test/v1");
        let creds = Credentials::new();
        let input = PlanInput {
            toolkit: &tk,
            tool: &tk.tools[0],
            arguments: args,
            base_url: &tk.base_url,
            auth: None,
            credentials: &creds,
        };
        let got = match plan(&input) {
            Ok(req) => describe(&req),
            Err(e) => format!("error: {e}"),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn get_defaults_path_then_query_and_sends_no_body() {
        check(
            json!({"method": "GET", "path": "/repos/{owner}/{repo}/issues"}),
            &json!({"owner": "oc to", "repo": "a/b", "state": "open", "per_page": 5, "draft": true, "skip": null}),
            &expect![[r#"
                GET https://api.demo.test/v1/repos/oc%20to/a%2Fb/issues?draft=true&per_page=5&state=open
                accept: application/json
            "#]],
        );
    }

    #[test]
    fn post_defaults_to_json_body_and_leaves_unset_out() {
        check(
            json!({"method": "POST", "path": "/items/{id}"}),
            &json!({"id": 7, "title": "Bug", "labels": ["a", "b"], "count": 3, "unset": null}),
            &expect![[r#"
                POST https://api.demo.test/v1/items/7
                accept: application/json
                content-type: application/json

                {"count":3,"labels":["a","b"],"title":"Bug"}
            "#]],
        );
    }

    #[test]
    fn post_without_body_arguments_sends_no_body() {
        check(
            json!({"method": "PUT", "path": "/user/starred/{owner}"}),
            &json!({"owner": "octo"}),
            &expect![[r#"
                PUT https://api.demo.test/v1/user/starred/octo
                accept: application/json
            "#]],
        );
    }

    #[test]
    fn explicit_placements_win_over_defaults() {
        check(
            json!({"method": "POST", "path": "/files/{+path}",
                   "query": {"alt": "json"}, "headers": {"X-Const": "1"},
                   "params": [{"arg": "path", "in": "path"},
                              {"arg": "fields", "in": "query", "name": "$fields"},
                              {"arg": "trace", "in": "header", "name": "X-Trace-Id"},
                              {"arg": "text", "in": "body", "name": "message.text"},
                              {"arg": "ts", "in": "body", "name": "message.meta.ts"}]}),
            &json!({"path": "docs/read me.md", "fields": "id,name", "trace": "t-1", "text": "hi", "ts": 12, "extra": "e"}),
            &expect![[r#"
                POST https://api.demo.test/v1/files/docs/read%20me.md?alt=json&%24fields=id%2Cname
                accept: application/json
                x-const: 1
                x-trace-id: t-1
                content-type: application/json

                {"extra":"e","message":{"meta":{"ts":12},"text":"hi"}}
            "#]],
        );
    }

    #[test]
    fn query_array_styles_and_deep_objects() {
        check(
            json!({"method": "GET", "path": "/search",
                   "params": [{"arg": "tags", "in": "query"},
                              {"arg": "ids", "in": "query", "style": "repeat"},
                              {"arg": "kinds", "in": "query", "name": "kind", "style": "brackets"}]}),
            &json!({"tags": ["a b", "c"], "ids": [1, 2], "kinds": ["x", "y"], "created": {"gte": 10, "lt": 20}}),
            &expect![[r#"
                GET https://api.demo.test/v1/search?created%5Bgte%5D=10&created%5Blt%5D=20&ids=1&ids=2&kind%5B%5D=x&kind%5B%5D=y&tags=a%20b%2Cc
                accept: application/json
            "#]],
        );
    }

    #[test]
    fn form_bodies_and_const_body() {
        check(
            json!({"method": "POST", "path": "/v1/charges", "body": "form", "const_body": {"capture": true}}),
            &json!({"amount": 2000, "metadata": {"order": "6735"}, "items": ["a", "b"]}),
            &expect![[r#"
                POST https://api.demo.test/v1/v1/charges
                accept: application/json
                content-type: application/x-www-form-urlencoded

                amount=2000&capture=true&items%5B0%5D=a&items%5B1%5D=b&metadata%5Border%5D=6735
            "#]],
        );
    }

    #[test]
    fn graphql_const_body_with_dotted_variables() {
        check(
            json!({"method": "POST", "path": "/graphql",
                   "const_body": {"query": "query($id: ID!) { issue(id: $id) { title } }"},
                   "params": [{"arg": "id", "in": "body", "name": "variables.id"}]}),
            &json!({"id": "ISS-1"}),
            &expect![[r#"
                POST https://api.demo.test/v1/graphql
                accept: application/json
                content-type: application/json

                {"query":"query($id: ID!) { issue(id: $id) { title } }","variables":{"id":"ISS-1"}}
            "#]],
        );
    }

    #[test]
    fn body_root_is_the_whole_body() {
        check(
            json!({"method": "PUT", "path": "/values/{range}",
                   "params": [{"arg": "rows", "in": "body_root"}]}),
            &json!({"range": "A1:B2", "rows": [[1, 2], [3, 4]]}),
            &expect![[r#"
                PUT https://api.demo.test/v1/values/A1%3AB2
                accept: application/json
                content-type: application/json

                [[1,2],[3,4]]
            "#]],
        );
    }

    #[test]
    fn errors_name_what_is_wrong() {
        check(
            json!({"method": "GET", "path": "/items/{id}"}),
            &json!({"other": "x"}),
            &expect!["error: the path needs argument `id`"],
        );
        check(
            json!({"method": "GET", "path": "/items/{id}"}),
            &json!({"id": ""}),
            &expect!["error: argument `id` goes into the path and must not be empty"],
        );
        check(
            json!({"method": "GET", "path": "/x", "params": [{"arg": "h", "in": "header", "name": "X-H"}]}),
            &json!({"h": "a\r\nInjected: yes"}),
            &expect![
                "error: header `X-H` cannot be sent: the value holds a line break or other control character"
            ],
        );
        check(
            json!({"method": "POST", "path": "/x", "body": "form", "params": [{"arg": "all", "in": "body_root"}]}),
            &json!({"all": [1, 2]}),
            &expect!["error: the request body must be a JSON object to be sent as a form"],
        );
    }

    #[test]
    fn arguments_outside_the_schema_are_not_sent() {
        let tk = toolkit(
            json!({"method": "GET", "path": "/x"}),
            props(&["q"]),
            json!([]),
            "https://a.test",
        );
        let creds = Credentials::new();
        let args = json!({"q": "1", "invented": "2"});
        let input = PlanInput {
            toolkit: &tk,
            tool: &tk.tools[0],
            arguments: &args,
            base_url: &tk.base_url,
            auth: None,
            credentials: &creds,
        };
        assert_eq!(
            plan(&input).expect("plans").url.as_str(),
            "https://a.test/x?q=1"
        );
    }

    /// Plans a GET of `/me` with the toolkit's first auth scheme and the given connection values.
    fn check_auth(auth: Value, base_url: &str, creds: &Credentials, expected: &Expect) {
        let tk = toolkit(
            json!({"method": "GET", "path": "/me"}),
            props(&[]),
            auth,
            base_url,
        );
        let input = PlanInput {
            toolkit: &tk,
            tool: &tk.tools[0],
            arguments: &Value::Null,
            base_url: &tk.base_url,
            auth: tk.auth_schemes.first(),
            credentials: creds,
        };
        let got = match plan(&input) {
            Ok(req) => describe(&req),
            Err(e) => format!("error: {e}"),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn oauth2_bearer_header_is_sensitive() {
        check_auth(
            json!([{"type": "OAUTH2", "oauth2": {"authorize_url": "https://a.test/auth", "token_url": "https://a.test/token"},
                    "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {access_token}"}]}]),
            "https://api.demo.test",
            &Credentials::new().with_secret("access_token", SecretString::from("gho_tok")),
            &expect![[r#"
                GET https://api.demo.test/me
                accept: application/json
                authorization: (sensitive) Bearer gho_tok
            "#]],
        );
    }

    #[test]
    fn api_key_in_query_is_added_only_when_sending() {
        let auth = json!([{"type": "API_KEY",
            "fields": [{"name": "api_key", "display_name": "Key", "secret": true},
                       {"name": "token", "display_name": "Token", "secret": true}],
            "inject": [{"in": "query", "name": "key", "value": "{api_key}"},
                       {"in": "query", "name": "token", "value": "{token}"}]}]);
        let creds = Credentials::new()
            .with_secret("api_key", SecretString::from("k&1"))
            .with_secret("token", SecretString::from("t1"));
        check_auth(
            auth.clone(),
            "https://api.demo.test",
            &creds,
            &expect![[r#"
            GET https://api.demo.test/me?key=k%261&token=t1
            accept: application/json
        "#]],
        );
        check_auth(
            auth,
            "https://api.demo.test",
            &Credentials::new().with_secret("api_key", SecretString::from("k")),
            &expect!["error: the API_KEY connection has no value for field `token`"],
        );
    }

    #[test]
    fn basic_is_built_from_username_and_password() {
        check_auth(
            json!([{"type": "BASIC", "fields": [{"name": "username", "display_name": "User"},
                                                 {"name": "password", "display_name": "Password", "secret": true}]}]),
            "https://api.demo.test",
            &Credentials::new()
                .with_plain("username", "ann")
                .with_secret("password", SecretString::from("pw")),
            &expect![[r#"
                GET https://api.demo.test/me
                accept: application/json
                authorization: (sensitive) Basic YW5uOnB3
            "#]],
        );
    }

    #[test]
    fn base_url_placeholders_take_only_safe_plain_fields() {
        let auth = json!([{"type": "BASIC", "fields": [
            {"name": "subdomain", "display_name": "Subdomain"},
            {"name": "username", "display_name": "User"},
            {"name": "password", "display_name": "Password", "secret": true}]}]);
        let creds = |sub: &str| {
            Credentials::new()
                .with_plain("subdomain", sub)
                .with_plain("username", "u")
                .with_secret("password", SecretString::from("p"))
        };
        check_auth(
            auth.clone(),
            "https://{subdomain}.atlassian.net/rest",
            &creds("acme"),
            &expect![[r#"
            GET https://acme.atlassian.net/rest/me
            accept: application/json
            authorization: (sensitive) Basic dTpw
        "#]],
        );
        check_auth(
            auth.clone(),
            "https://{subdomain}.atlassian.net",
            &creds("evil.test/x#"),
            &expect![
                "error: connection field `subdomain` is used in the base URL and may not contain / ? # @ \\, % or spaces"
            ],
        );
        let secret_sub = Credentials::new().with_secret("subdomain", SecretString::from("acme"));
        check_auth(
            auth,
            "https://{subdomain}.atlassian.net",
            &secret_sub,
            &expect!["error: the base URL needs the non-secret connection field `subdomain`"],
        );
    }

    #[test]
    fn debug_output_never_shows_credentials() {
        let tk = toolkit(
            json!({"method": "GET", "path": "/me"}),
            props(&[]),
            json!([{"type": "API_KEY",
                    "fields": [{"name": "api_key", "display_name": "Key", "secret": true}],
                    "inject": [{"in": "query", "name": "key", "value": "{api_key}"},
                               {"in": "header", "name": "X-Api-Key", "value": "{api_key}"}]}]),
            "https://api.demo.test",
        );
        let creds =
            Credentials::new().with_secret("api_key", SecretString::from("sk_live_hunter2"));
        let input = PlanInput {
            toolkit: &tk,
            tool: &tk.tools[0],
            arguments: &Value::Null,
            base_url: &tk.base_url,
            auth: tk.auth_schemes.first(),
            credentials: &creds,
        };
        let req = plan(&input).expect("plans");
        let debug = format!("{req:?} {input:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        expect![[r#"PlannedRequest { method: GET, url: "https://api.demo.test/me", credential_query: ["key"], headers: {"accept": "application/json", "x-api-key": Sensitive}, content_type: None, body: None }"#]]
            .assert_eq(&format!("{req:?}"));
        assert!(
            req.url_with_credentials()
                .as_str()
                .ends_with("?key=sk_live_hunter2")
        );
    }

    #[test]
    fn gmail_transform_output_is_placed_by_params() {
        let tk: ToolkitDef = serde_json::from_value(json!({
            "slug": "gmail", "name": "Gmail", "description": "Email.", "base_url": "https://gmail.googleapis.com",
            "tools": [{"slug": "GMAIL_SEND_EMAIL", "name": "Send", "description": "Send an email message.",
                "input": {"type": "object", "properties": {
                    "recipient_email": {"type": "string", "description": "To."},
                    "subject": {"type": "string", "description": "Subject."},
                    "body": {"type": "string", "description": "Body."},
                    "thread_id": {"type": "string", "description": "Thread."}}},
                "http": {"method": "POST", "path": "/gmail/v1/users/me/messages/send", "transform": "gmail_raw_message",
                         "params": [{"arg": "raw", "in": "body", "name": "raw"},
                                    {"arg": "thread_id", "in": "body", "name": "threadId"}]}}]
        }))
        .expect("parses");
        let creds = Credentials::new();
        let args = json!({"recipient_email": "a@b.test", "subject": "Hi", "body": "Yo", "thread_id": "t1"});
        let input = PlanInput {
            toolkit: &tk,
            tool: &tk.tools[0],
            arguments: &args,
            base_url: &tk.base_url,
            auth: None,
            credentials: &creds,
        };
        expect![[r#"
            POST https://gmail.googleapis.com/gmail/v1/users/me/messages/send
            content-type: application/json

            {"raw":"VG86IGFAYi50ZXN0DQpTdWJqZWN0OiBIaQ0KTUlNRS1WZXJzaW9uOiAxLjANCkNvbnRlbnQtVHlwZTogdGV4dC9wbGFpbjsgY2hhcnNldD0iVVRGLTgiDQpDb250ZW50LVRyYW5zZmVyLUVuY29kaW5nOiA3Yml0DQoNCllv","threadId":"t1"}
        "#]]
        .assert_eq(&describe(&plan(&input).expect("plans")));
    }
}
