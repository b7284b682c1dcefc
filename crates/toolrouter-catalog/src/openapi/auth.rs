//! Maps OpenAPI security schemes and requirements onto toolkit auth schemes.
//!
//! A security requirement (one entry of a `security` list) is a set of schemes used together; the
//! list offers alternatives. Each requirement becomes one toolkit auth scheme: its kind is the
//! strongest part (OAuth2 over bearer over basic over API key), and API keys that must accompany
//! it become extra fields and injections. The catalog allows one scheme per kind, so a later
//! alternative of an already offered kind is dropped with a warning.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::{FoundOperation, Warnings, resolve, text};
use crate::model::{
    AuthField, AuthKind, AuthScheme, ClientAuth, InjectLocation, Injection, OAuth2Spec,
};

/// What the document's security says, in toolkit terms.
#[derive(Debug, Default)]
pub(super) struct AuthImport {
    pub(super) schemes: Vec<AuthScheme>,
    /// Names of the document's OAuth2 security schemes: their scopes are tool scopes.
    oauth2_names: BTreeSet<String>,
    /// `(in, lower-case name)` of API-key credentials: an operation parameter with this place and
    /// name is the credential itself, which the auth scheme injects.
    credentials: HashSet<(String, String)>,
    top_level: Option<Vec<Value>>,
}

impl AuthImport {
    /// Whether a parameter is an API key the auth scheme already sends.
    pub(super) fn is_credential(&self, location: &str, name: &str) -> bool {
        self.credentials
            .contains(&(location.to_owned(), name.to_ascii_lowercase()))
    }

    /// Whether some offered scheme sends an access token (OAuth2 or bearer).
    pub(super) fn sends_token(&self) -> bool {
        self.schemes
            .iter()
            .any(|s| matches!(s.kind, AuthKind::Oauth2 | AuthKind::BearerToken))
    }

    /// OAuth scopes an operation needs (its own requirements, else the document's).
    pub(super) fn tool_scopes(&self, op: &Map<String, Value>) -> Vec<String> {
        let requirements: Vec<&Value> = match op.get("security").and_then(Value::as_array) {
            Some(own) => own.iter().collect(),
            None => self.top_level.iter().flatten().collect(),
        };
        let mut scopes: Vec<String> = Vec::new();
        for req in requirements.iter().filter_map(|r| r.as_object()) {
            for (name, list) in req {
                if !self.oauth2_names.contains(name) {
                    continue;
                }
                for s in list
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !scopes.iter().any(|have| have == s) {
                        scopes.push(s.to_owned());
                    }
                }
            }
        }
        scopes
    }

    /// Notes the operations that declare no security at all (`security: []`): toolkit auth
    /// applies to every tool, so the connection's credential is sent to them too.
    pub(super) fn warn_unscoped(&self, ops: &[FoundOperation<'_>], w: &mut Warnings) {
        if self.schemes.iter().all(|s| s.kind == AuthKind::NoAuth) {
            return;
        }
        for op in ops {
            if op
                .op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                w.op(
                    &op.label(),
                    "declares no security (`security: []`) but is called with the toolkit's credentials",
                );
            }
        }
    }
}

/// Reads the document's security.
pub(super) fn import(
    doc: &Value,
    ops: &[FoundOperation<'_>],
    base_url: &str,
    w: &mut Warnings,
) -> AuthImport {
    let empty = Map::new();
    let declared = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let top_level: Option<Vec<Value>> = doc.get("security").and_then(Value::as_array).cloned();

    // Alternatives in order of preference: the document's, then any other an operation uses.
    let mut requirements: Vec<&Map<String, Value>> = Vec::new();
    let mut seen: HashSet<Vec<&str>> = HashSet::new();
    let op_requirements = ops
        .iter()
        .filter_map(|op| op.op.get("security").and_then(Value::as_array))
        .flatten();
    for req in doc
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(op_requirements)
    {
        let Some(req) = req.as_object() else {
            continue;
        };
        let mut key: Vec<&str> = req.keys().map(String::as_str).collect();
        key.sort_unstable();
        if seen.insert(key) {
            requirements.push(req);
        }
    }
    let mut synthesized = Vec::new();
    if requirements.is_empty() && !declared.is_empty() {
        w.doc(
            "no security requirement is declared; every security scheme of the document is offered as an alternative",
        );
        for name in declared.keys() {
            let mut req = Map::new();
            req.insert(name.clone(), Value::Array(Vec::new()));
            synthesized.push(req);
        }
    }
    requirements.extend(synthesized.iter());

    let mut out = AuthImport {
        top_level,
        ..AuthImport::default()
    };
    for (name, scheme) in declared {
        if resolve::deref(doc, scheme)
            .ok()
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            == Some("oauth2")
        {
            out.oauth2_names.insert(name.clone());
        }
    }
    let mut warned: HashSet<String> = HashSet::new();
    for req in requirements {
        let Some(scheme) = requirement_scheme(doc, declared, req, base_url, &mut warned, w) else {
            continue;
        };
        let default_scopes = top_level_scopes(out.top_level.as_deref(), req, &out.oauth2_names);
        let scheme = match scheme.oauth2 {
            Some(mut spec) => {
                spec.default_scopes = default_scopes;
                AuthScheme {
                    oauth2: Some(spec),
                    ..scheme
                }
            }
            None => scheme,
        };
        if out.schemes.iter().any(|s| s.kind == scheme.kind) {
            w.doc(format!(
                "security requirement {} is a second {} alternative and is left out (a toolkit offers one scheme per kind)",
                requirement_name(req),
                scheme.kind.as_str()
            ));
            continue;
        }
        for inj in &scheme.inject {
            // A raw field value (not `Bearer {token}`) is an API key sent as-is.
            if inj.value.starts_with('{') {
                let location = match inj.location {
                    InjectLocation::Header => "header",
                    InjectLocation::Query => "query",
                };
                out.credentials
                    .insert((location.to_owned(), inj.name.to_ascii_lowercase()));
            }
        }
        out.schemes.push(scheme);
    }
    out
}

fn requirement_name(req: &Map<String, Value>) -> String {
    if req.is_empty() {
        return "{} (anonymous)".to_owned();
    }
    let names: Vec<&str> = req.keys().map(String::as_str).collect();
    format!("`{}`", names.join(" + "))
}

/// Scopes the document-level requirement asks of an OAuth2 scheme: the scopes requested when a
/// user connects.
fn top_level_scopes(
    top_level: Option<&[Value]>,
    req: &Map<String, Value>,
    oauth2_names: &BTreeSet<String>,
) -> Vec<String> {
    let mut scopes = Vec::new();
    for top in top_level
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_object)
    {
        for (name, list) in top {
            if !oauth2_names.contains(name) || !req.contains_key(name) {
                continue;
            }
            for s in list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !scopes.iter().any(|have: &String| have == s) {
                    scopes.push(s.to_owned());
                }
            }
        }
    }
    scopes
}

/// One part of a requirement, converted.
enum Part {
    OAuth2(OAuth2Spec),
    Bearer,
    Basic,
    ApiKey {
        scheme_name: String,
        location: InjectLocation,
        param: String,
        description: String,
    },
}

fn requirement_scheme(
    doc: &Value,
    declared: &Map<String, Value>,
    req: &Map<String, Value>,
    base_url: &str,
    warned: &mut HashSet<String>,
    w: &mut Warnings,
) -> Option<AuthScheme> {
    if req.is_empty() {
        return Some(AuthScheme {
            kind: AuthKind::NoAuth,
            oauth2: None,
            fields: Vec::new(),
            inject: Vec::new(),
        });
    }
    let mut parts = Vec::new();
    for name in req.keys() {
        let part = declared
            .get(name)
            .ok_or_else(|| {
                format!("security scheme `{name}` is not declared in components.securitySchemes")
            })
            .and_then(|s| resolve::deref(doc, s))
            .and_then(|s| part(name, s, base_url));
        match part {
            Ok(p) => parts.push(p),
            Err(why) => {
                if warned.insert(why.clone()) {
                    w.doc(why);
                }
                if req.len() > 1 {
                    w.doc(format!(
                        "security requirement {} is left out: one of its schemes is not supported",
                        requirement_name(req)
                    ));
                }
                return None;
            }
        }
    }
    let rank = |p: &Part| match p {
        Part::OAuth2(_) => 0,
        Part::Bearer => 1,
        Part::Basic => 2,
        Part::ApiKey { .. } => 3,
    };
    parts.sort_by_key(rank);
    let primaries = parts.iter().filter(|p| rank(p) < 3).count();
    if primaries > 1 {
        w.doc(format!(
            "security requirement {} combines two OAuth2/bearer/basic schemes, which a toolkit scheme cannot express; left out",
            requirement_name(req)
        ));
        return None;
    }
    let api_keys = parts.iter().filter(|p| rank(p) == 3).count();
    let mut scheme = AuthScheme {
        kind: AuthKind::ApiKey,
        oauth2: None,
        fields: Vec::new(),
        inject: Vec::new(),
    };
    for part in parts {
        match part {
            Part::OAuth2(spec) => {
                scheme.kind = AuthKind::Oauth2;
                scheme.oauth2 = Some(spec);
                scheme.inject.push(Injection {
                    location: InjectLocation::Header,
                    name: "Authorization".to_owned(),
                    value: "Bearer {access_token}".to_owned(),
                });
            }
            Part::Bearer => {
                scheme.kind = AuthKind::BearerToken;
                scheme.fields.push(field("token", "Bearer token", "", true));
                scheme.inject.push(Injection {
                    location: InjectLocation::Header,
                    name: "Authorization".to_owned(),
                    value: "Bearer {token}".to_owned(),
                });
            }
            Part::Basic => {
                scheme.kind = AuthKind::Basic;
                scheme.fields.push(field("username", "Username", "", false));
                scheme.fields.push(field("password", "Password", "", true));
            }
            Part::ApiKey {
                scheme_name,
                location,
                param,
                description,
            } => {
                let base = if api_keys == 1 {
                    "api_key".to_owned()
                } else {
                    text::upper_snake(&scheme_name).to_ascii_lowercase()
                };
                let base = if base.is_empty() {
                    "api_key".to_owned()
                } else {
                    base
                };
                let mut name = base.clone();
                let mut n = 2;
                while scheme.fields.iter().any(|f| f.name == name) {
                    name = format!("{base}_{n}");
                    n += 1;
                }
                let display = if api_keys == 1 {
                    "API key".to_owned()
                } else {
                    scheme_name
                };
                scheme
                    .fields
                    .push(field(&name, &display, &description, true));
                scheme.inject.push(Injection {
                    location,
                    name: param,
                    value: format!("{{{name}}}"),
                });
            }
        }
    }
    Some(scheme)
}

fn field(name: &str, display_name: &str, description: &str, secret: bool) -> AuthField {
    AuthField {
        name: name.to_owned(),
        display_name: display_name.to_owned(),
        description: description.to_owned(),
        secret,
        required: true,
    }
}

/// Converts one security scheme, or says why it cannot be.
fn part(name: &str, scheme: &Value, base_url: &str) -> Result<Part, String> {
    let kind = scheme
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let description = scheme
        .get("description")
        .and_then(Value::as_str)
        .map(text::clean)
        .unwrap_or_default();
    match kind {
        "apiKey" => {
            let param = scheme
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let location = match scheme.get("in").and_then(Value::as_str) {
                Some("header") => InjectLocation::Header,
                Some("query") => InjectLocation::Query,
                Some("cookie") => {
                    return Err(format!(
                        "security scheme `{name}`: API keys in a cookie are not supported; not offered"
                    ));
                }
                other => {
                    return Err(format!(
                        "security scheme `{name}`: API key location {other:?} is not supported; not offered"
                    ));
                }
            };
            if param.is_empty() {
                return Err(format!(
                    "security scheme `{name}`: API key without a `name`; not offered"
                ));
            }
            Ok(Part::ApiKey {
                scheme_name: name.to_owned(),
                location,
                param: param.to_owned(),
                description,
            })
        }
        "http" => {
            let http = scheme
                .get("scheme")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match http.to_ascii_lowercase().as_str() {
                "bearer" => Ok(Part::Bearer),
                "basic" => Ok(Part::Basic),
                other => Err(format!(
                    "security scheme `{name}`: HTTP auth scheme `{other}` is not supported; not offered"
                )),
            }
        }
        "oauth2" => {
            let flows = scheme.get("flows").and_then(Value::as_object);
            let Some(code) = flows.and_then(|f| f.get("authorizationCode")) else {
                let names: Vec<&str> = flows
                    .map(|f| f.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                return Err(format!(
                    "security scheme `{name}`: OAuth2 without an authorizationCode flow (has: {}) is not supported; not offered",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ));
            };
            let url = |key: &str| {
                code.get(key)
                    .and_then(Value::as_str)
                    .map(|u| absolute_url(u, base_url))
            };
            let (Some(authorize_url), Some(token_url)) = (url("authorizationUrl"), url("tokenUrl"))
            else {
                return Err(format!(
                    "security scheme `{name}`: authorizationCode flow without authorizationUrl or tokenUrl; not offered"
                ));
            };
            let refresh_url = url("refreshUrl").filter(|r| *r != token_url);
            Ok(Part::OAuth2(OAuth2Spec {
                authorize_url,
                token_url,
                refresh_url,
                default_scopes: Vec::new(),
                scope_separator: " ".to_owned(),
                // OpenAPI cannot say whether a provider supports PKCE; claim only what is known.
                pkce: false,
                authorize_params: Default::default(),
                client_auth: ClientAuth::Body,
            }))
        }
        "openIdConnect" => Err(format!(
            "security scheme `{name}`: OpenID Connect discovery is not supported; write an OAUTH2 scheme by hand from {}",
            scheme
                .get("openIdConnectUrl")
                .and_then(Value::as_str)
                .unwrap_or("its discovery document")
        )),
        "mutualTLS" => Err(format!(
            "security scheme `{name}`: mutual TLS is not supported; not offered"
        )),
        other => Err(format!(
            "security scheme `{name}`: type `{other}` is not supported; not offered"
        )),
    }
}

/// OAuth URLs may be relative to the server (OpenAPI 3.1); the catalog needs them absolute.
fn absolute_url(url: &str, base_url: &str) -> String {
    if url.starts_with("https://") || url.starts_with("http://") {
        return url.to_owned();
    }
    let after_scheme = base_url.find("://").map_or(0, |i| i + 3);
    let origin_end = base_url[after_scheme..]
        .find('/')
        .map_or(base_url.len(), |i| after_scheme + i);
    if url.starts_with('/') {
        format!("{}{url}", &base_url[..origin_end])
    } else {
        format!("{base_url}/{url}")
    }
}
