//! One OpenAPI operation becomes one tool: arguments from its parameters and request body, the
//! output schema from its success response, MCP hints from its method. What cannot be expressed
//! is an error (the operation is skipped) when the call would be wrong without it, and a warning
//! when only an optional part is lost.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use super::auth::AuthImport;
use super::resolve::{self, Direction, INPUT_LIMITS, OUTPUT_LIMITS, SchemaResolver};
use super::{FoundOperation, Warnings, server_url, swagger2, text};
use crate::model::{
    ArrayStyle, BodyEncoding, HttpMapping, HttpMethod, ParamLocation, ParamMapping, ResponseShape,
    Schema, ToolDef,
};
use crate::validate;

/// What every operation of one document shares.
#[derive(Debug)]
pub(super) struct Context<'d> {
    pub(super) doc: &'d Value,
    pub(super) base_url: &'d str,
    /// The document's own `servers[0]` URL, which an explicit base URL replaces.
    pub(super) doc_server: Option<&'d str>,
    pub(super) api_title: &'d str,
    pub(super) auth: &'d AuthImport,
}

/// Header parameters OpenAPI says to ignore: the body encoding and the auth scheme set them.
const IGNORED_HEADERS: [&str; 3] = ["accept", "content-type", "authorization"];

/// Builds the tool of one operation, or says why the operation cannot be a tool.
pub(super) fn build<'d>(
    ctx: &Context<'d>,
    op: &FoundOperation<'d>,
    slug: String,
    w: &mut Warnings,
) -> Result<ToolDef, String> {
    if let Some(reason) = op.op.get(swagger2::UNCONVERTIBLE).and_then(Value::as_str) {
        return Err(reason.to_owned());
    }
    let method = match op.method {
        "get" => HttpMethod::Get,
        "put" => HttpMethod::Put,
        "post" => HttpMethod::Post,
        "patch" => HttpMethod::Patch,
        "delete" => HttpMethod::Delete,
        "head" => HttpMethod::Head,
        other => {
            return Err(format!(
                "HTTP method {} is not supported by toolrouter",
                other.to_ascii_uppercase()
            ));
        }
    };
    let label = op.label();
    // Box-style `/oauth2/token#refresh` keys only make a second path item; a fragment is never sent.
    let doc_path = op.path.split('#').next().unwrap_or_default();
    let mut template = format!("{}{doc_path}", path_prefix(ctx, op)?);

    let params = parameters(ctx.doc, op)?;
    let mut schemas = SchemaResolver::new(ctx.doc, Direction::Request, INPUT_LIMITS);
    let body = request_body(ctx.doc, op, &mut schemas)?;
    let default_query = method.args_default_to_query();
    let mut input = Input::default();
    let mut headers = BTreeMap::new();
    let mut encoding = BodyEncoding::Json;

    // Body properties claim their names first: a parameter with the same name is the one renamed.
    let mut body_root = None;
    if let Some(body) = body {
        if body.form {
            encoding = BodyEncoding::Form;
        }
        if let Some(ct) = body.content_type {
            w.op(
                &label,
                format!("JSON body sent with a constant `Content-Type: {ct}` header"),
            );
            headers.insert("Content-Type".to_owned(), ct);
        }
        match body.shape {
            BodyShape::Properties { props, required } => {
                for (key, mut schema) in props {
                    if ctx.auth.sends_token() && is_token_argument(&key, schema.get("description"))
                    {
                        w.op(&label, token_warning("body field", &key));
                        continue;
                    }
                    let arg = input.claim(&key, "body");
                    describe(
                        &mut schema,
                        None,
                        &format!("`{key}` field of the request body."),
                    );
                    if arg != key || default_query {
                        input.mapping.push(ParamMapping {
                            arg: arg.clone(),
                            location: ParamLocation::Body,
                            name: (arg != key).then_some(key.clone()),
                            style: None,
                        });
                    }
                    input.add(arg, schema, required.contains(&key));
                }
            }
            BodyShape::Root {
                schema,
                required,
                description,
            } => {
                body_root = Some((schema, required, description));
            }
        }
    }

    let declared: Vec<String> = validate::placeholders(doc_path)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut path_args: Vec<String> = Vec::new();
    for p in params {
        match p.location {
            "path" if !declared.iter().any(|d| d == p.name) => {
                w.op(
                    &label,
                    format!(
                        "path parameter `{}` is not in the path template; left out",
                        p.name
                    ),
                );
                continue;
            }
            "cookie" => {
                p.unsupported("cookie parameters are not supported", &label, w)?;
                continue;
            }
            "header" if IGNORED_HEADERS.contains(&p.name.to_ascii_lowercase().as_str()) => {
                w.op(
                    &label,
                    format!(
                        "header parameter `{}` ignored, as OpenAPI requires (set by the body encoding or the auth scheme)",
                        p.name
                    ),
                );
                continue;
            }
            "query" | "header" if ctx.auth.is_credential(p.location, p.name) => {
                w.op(
                    &label,
                    format!(
                        "{} parameter `{}` is the API key of the auth scheme, which sends it; not an argument",
                        p.location, p.name
                    ),
                );
                continue;
            }
            "query" | "header"
                if ctx.auth.sends_token()
                    && is_token_argument(p.name, p.def.get("description")) =>
            {
                w.op(
                    &label,
                    token_warning(&format!("{} parameter", p.location), p.name),
                );
                continue;
            }
            "path" | "query" | "header" => {}
            other => {
                p.unsupported(
                    &format!("parameters in `{other}` are not supported"),
                    &label,
                    w,
                )?;
                continue;
            }
        }
        let Some(raw_schema) = p.def.get("schema") else {
            if p.def.contains_key("content") {
                p.unsupported(
                    "a parameter serialized by media type (`content`) is not supported",
                    &label,
                    w,
                )?;
                continue;
            }
            return Err(format!(
                "{} parameter `{}` has no schema",
                p.location, p.name
            ));
        };
        let mut schema = schemas.resolve(raw_schema);
        let style = p.def.get("style").and_then(Value::as_str);
        let mut array_style = None;
        if p.location == "query" {
            let style = style.unwrap_or("form");
            if allows_object(&schema) {
                match without_object_forms(&schema) {
                    Some(narrowed) => {
                        w.op(
                            &label,
                            format!(
                                "query parameter `{}`: its object form ({style}) cannot be written into a query string; only its other forms are offered",
                                p.name
                            ),
                        );
                        schema = narrowed;
                    }
                    None => {
                        p.unsupported(
                            &format!(
                                "object values in the query string ({style}) are not supported"
                            ),
                            &label,
                            w,
                        )?;
                        continue;
                    }
                }
            }
            if is_array(&schema) {
                let explode = p
                    .def
                    .get("explode")
                    .and_then(Value::as_bool)
                    .unwrap_or(style == "form");
                array_style = match (style, explode) {
                    ("form", true) => Some(ArrayStyle::Repeat),
                    ("form", false) => None,
                    ("deepObject", _) => Some(ArrayStyle::Brackets),
                    (other, _) => {
                        p.unsupported(
                            &format!("query array style `{other}` is not supported"),
                            &label,
                            w,
                        )?;
                        continue;
                    }
                };
            }
        } else if let Some(s) = style.filter(|s| *s != "simple") {
            p.unsupported(
                &format!("{} parameter style `{s}` is not supported", p.location),
                &label,
                w,
            )?;
            continue;
        }

        let arg = input.claim(p.name, p.location);
        let mut description = p
            .def
            .get("description")
            .and_then(Value::as_str)
            .map(text::clean);
        if p.def.get("deprecated") == Some(&Value::Bool(true)) {
            description = Some(format!("Deprecated. {}", description.unwrap_or_default()));
        }
        describe(
            &mut schema,
            description,
            &format!("`{}` {} parameter.", p.name, p.location),
        );
        let required = p.location == "path" || p.def.get("required") == Some(&Value::Bool(true));
        let renamed = arg != p.name;
        match p.location {
            "path" => {
                if renamed {
                    template = template.replace(&format!("{{{}}}", p.name), &format!("{{{arg}}}"));
                }
                path_args.push(p.name.to_owned());
            }
            "query" if !renamed && default_query && array_style.is_none() => {}
            location => input.mapping.push(ParamMapping {
                arg: arg.clone(),
                location: if location == "query" {
                    ParamLocation::Query
                } else {
                    ParamLocation::Header
                },
                name: renamed.then(|| p.name.to_owned()),
                style: array_style,
            }),
        }
        input.add(arg, schema, required);
    }
    for name in declared.iter().filter(|d| !path_args.contains(d)) {
        w.op(
            &label,
            format!("path parameter `{name}` is not declared; added as a string"),
        );
        let arg = input.claim(name, "path");
        if arg != *name {
            template = template.replace(&format!("{{{name}}}"), &format!("{{{arg}}}"));
        }
        input.add(
            arg,
            json!({"type": "string", "description": format!("`{name}` path segment.")}),
            true,
        );
    }
    if let Some((mut schema, required, description)) = body_root {
        let arg = input.claim("body", "request");
        describe(&mut schema, description, "The request body.");
        input.mapping.push(ParamMapping {
            arg: arg.clone(),
            location: ParamLocation::BodyRoot,
            name: None,
            style: None,
        });
        input.add(arg, schema, required);
    }
    if let Some(broken) = schemas.broken {
        return Err(broken);
    }
    if schemas.truncated > 0 {
        w.op(&label, "input schema cut at the depth or size limit (see descriptions marked `details not expanded`)");
    }

    let (output, response) = output(ctx.doc, op, &label, w);
    let (input_schema, params) = input.finish();
    Ok(ToolDef {
        slug,
        name: tool_name(op, method, doc_path),
        description: tool_description(op, method, doc_path, ctx.api_title),
        tags: tags(op, method),
        scopes: ctx.auth.tool_scopes(op.op),
        input: Schema::from(input_schema),
        output: Schema::from(output),
        version: "1.0.0".to_owned(),
        deprecated: op.op.get("deprecated") == Some(&Value::Bool(true)),
        http: HttpMapping {
            method,
            path: template,
            params,
            query: BTreeMap::new(),
            headers,
            body: encoding,
            const_body: None,
            transform: None,
            response,
            pagination: None,
        },
    })
}

/// The tool's arguments as they are collected.
#[derive(Debug, Default)]
struct Input {
    props: Map<String, Value>,
    required: Vec<String>,
    mapping: Vec<ParamMapping>,
    used: HashSet<String>,
}

impl Input {
    /// A free argument name for `wanted`: itself (made a valid name) when free, else prefixed
    /// with where it comes from (`query_id`), else numbered.
    fn claim(&mut self, wanted: &str, origin: &str) -> String {
        let own = text::arg_name(wanted);
        let chosen = if self.used.contains(&own) {
            let base = text::arg_name(&format!("{origin}_{own}"));
            let mut candidate = base.clone();
            let mut n = 2;
            while self.used.contains(&candidate) {
                candidate = format!("{base}_{n}");
                n += 1;
            }
            candidate
        } else {
            own
        };
        self.used.insert(chosen.clone());
        chosen
    }

    fn add(&mut self, arg: String, schema: Value, required: bool) {
        if required {
            self.required.push(arg.clone());
        }
        self.props.insert(arg, schema);
    }

    fn finish(self) -> (Value, Vec<ParamMapping>) {
        let mut schema = Map::new();
        schema.insert("type".to_owned(), json!("object"));
        schema.insert("properties".to_owned(), Value::Object(self.props));
        if !self.required.is_empty() {
            schema.insert("required".to_owned(), json!(self.required));
        }
        (Value::Object(schema), self.mapping)
    }
}

/// Gives a top-level argument what the catalog requires: a type and a description.
fn describe(schema: &mut Value, description: Option<String>, fallback: &str) {
    if !schema.is_object() {
        *schema = json!({});
    }
    let Value::Object(map) = schema else {
        return;
    };
    let previous = map.get("description").and_then(Value::as_str);
    let own = previous
        .or_else(|| map.get("title").and_then(Value::as_str))
        .map(text::clean);
    let text = [description, own]
        .into_iter()
        .flatten()
        .find(|d| !d.trim().is_empty())
        .unwrap_or_else(|| fallback.to_owned());
    let text = resolve::with_note(&text, previous);
    map.insert("description".to_owned(), Value::String(text));
    resolve::ensure_type(map);
}

/// Whether an argument is the access token itself (Slack's spec declares a `token` parameter on
/// every method besides its OAuth2 scheme): the auth scheme sends it, and asking an LLM for it
/// would only invite a made-up value.
fn is_token_argument(name: &str, description: Option<&Value>) -> bool {
    let name = name.to_ascii_lowercase();
    let description = description
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(name.as_str(), "token" | "access_token")
        && (description.contains("authentication token") || description.contains("access token"))
}

fn token_warning(what: &str, name: &str) -> String {
    format!("{what} `{name}` is the access token, which the auth scheme sends; not an argument")
}

/// A parameter of the operation (path-level ones included), `$ref` followed.
#[derive(Debug)]
struct Param<'d> {
    name: &'d str,
    location: &'d str,
    def: &'d Map<String, Value>,
}

impl Param<'_> {
    /// Leaves out an unsupported parameter: fatal when it is required, a warning otherwise.
    fn unsupported(&self, why: &str, label: &str, w: &mut Warnings) -> Result<(), String> {
        if self.location == "path" || self.def.get("required") == Some(&Value::Bool(true)) {
            return Err(format!(
                "required {} parameter `{}`: {why}",
                self.location, self.name
            ));
        }
        w.op(
            label,
            format!(
                "optional {} parameter `{}` left out: {why}",
                self.location, self.name
            ),
        );
        Ok(())
    }
}

/// Path-level and operation-level parameters (the latter override), path ones first.
fn parameters<'d>(doc: &'d Value, op: &FoundOperation<'d>) -> Result<Vec<Param<'d>>, String> {
    let mut out: Vec<Param<'d>> = Vec::new();
    for list in [op.item.get("parameters"), op.op.get("parameters")] {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            let def = resolve::deref(doc, p).map_err(|e| format!("parameter: {e}"))?;
            let Some(def) = def.as_object() else {
                return Err("a parameter is not an object".to_owned());
            };
            let field = |k: &str| def.get(k).and_then(Value::as_str).unwrap_or_default();
            let param = Param {
                name: field("name"),
                location: field("in"),
                def,
            };
            if param.name.is_empty() {
                return Err(format!("a {} parameter has no name", param.location));
            }
            match out
                .iter_mut()
                .find(|q| q.name == param.name && q.location == param.location)
            {
                Some(existing) => *existing = param,
                None => out.push(param),
            }
        }
    }
    let rank = |p: &Param<'_>| match p.location {
        "path" => 0,
        "query" => 1,
        "header" => 2,
        _ => 3,
    };
    out.sort_by_key(rank);
    Ok(out)
}

/// The extra path of an operation served under a longer URL than the toolkit's base
/// (`servers` on the operation or path item); other servers cannot be expressed.
fn path_prefix(ctx: &Context<'_>, op: &FoundOperation<'_>) -> Result<String, String> {
    let servers = op
        .op
        .get("servers")
        .or_else(|| op.item.get("servers"))
        .and_then(Value::as_array)
        .and_then(|s| s.first());
    let Some(server) = servers else {
        return Ok(String::new());
    };
    let url = server_url(server)?;
    let under = |base: &str| {
        url.strip_prefix(base)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .map(str::to_owned)
    };
    match ctx
        .doc_server
        .and_then(under)
        .or_else(|| under(ctx.base_url))
    {
        Some(rest) => Ok(rest),
        None => Err(format!(
            "served from `{url}`, not under the toolkit base URL `{}` (one base URL per toolkit)",
            ctx.base_url
        )),
    }
}

/// The request body, resolved.
#[derive(Debug)]
struct Body {
    form: bool,
    /// A JSON media type other than `application/json`, sent as a constant header.
    content_type: Option<String>,
    shape: BodyShape,
}

#[derive(Debug)]
enum BodyShape {
    /// An object: each property is an argument.
    Properties {
        props: Map<String, Value>,
        required: Vec<String>,
    },
    /// Anything else: one argument is the whole body.
    Root {
        schema: Value,
        required: bool,
        description: Option<String>,
    },
}

fn media_essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_json_media(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json") || essence == "text/json"
}

fn request_body<'d>(
    doc: &'d Value,
    op: &FoundOperation<'d>,
    schemas: &mut SchemaResolver<'d>,
) -> Result<Option<Body>, String> {
    let Some(raw) = op.op.get("requestBody") else {
        return Ok(None);
    };
    let body = resolve::deref(doc, raw).map_err(|e| format!("request body: {e}"))?;
    let Some(content) = body
        .get("content")
        .and_then(Value::as_object)
        .filter(|c| !c.is_empty())
    else {
        return Ok(None);
    };
    let essences: Vec<(String, &Value)> =
        content.iter().map(|(k, v)| (media_essence(k), v)).collect();
    let chosen = essences
        .iter()
        .find(|(e, _)| e == "application/json")
        .or_else(|| essences.iter().find(|(e, _)| is_json_media(e)))
        .or_else(|| {
            essences
                .iter()
                .find(|(e, _)| e == "application/x-www-form-urlencoded")
        });
    let Some((essence, media)) = chosen else {
        let names: Vec<&str> = essences.iter().map(|(e, _)| e.as_str()).collect();
        return Err(format!(
            "request body media type {} is not supported (only JSON and form-urlencoded bodies)",
            names.join(", ")
        ));
    };
    let form = essence == "application/x-www-form-urlencoded";
    let body_required = body.get("required") == Some(&Value::Bool(true));
    let description = body
        .get("description")
        .and_then(Value::as_str)
        .map(text::clean);
    let schema = match media.get("schema") {
        Some(s) => schemas.resolve(s),
        None => json!({}),
    };
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty());
    let object = resolve::is_object_schema(&schema)
        || (props.is_none() && schema.get("type") == Some(&json!("object")));
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    if object && props.is_none() && closed {
        // An object that admits no property (Stripe's GET endpoints declare one): no body at all.
        return Ok(None);
    }
    let shape = match props {
        Some(props) if object => BodyShape::Properties {
            props: props.clone(),
            // A document's `required` list is kept even when the body itself is optional: callers
            // that send a body at all need these fields, and many documents never mark bodies
            // required.
            required: schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        },
        _ if form && !object => {
            return Err(
                "a form-urlencoded body whose schema is not an object is not supported".to_owned(),
            );
        }
        _ => BodyShape::Root {
            schema,
            required: body_required,
            description,
        },
    };
    Ok(Some(Body {
        form,
        content_type: (!form && essence != "application/json").then(|| essence.clone()),
        shape,
    }))
}

/// Whether a schema accepts a JSON object (alone or as one alternative).
fn allows_object(schema: &Value) -> bool {
    let alternatives = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .flatten()
        .any(allows_object);
    alternatives
        || match schema.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => schema.get("properties").is_some() || schema.get("additionalProperties").is_some(),
        }
}

/// The schema without its object alternatives, when it has others.
fn without_object_forms(schema: &Value) -> Option<Value> {
    for key in ["anyOf", "oneOf"] {
        let Some(alts) = schema.get(key).and_then(Value::as_array) else {
            continue;
        };
        let kept: Vec<Value> = alts.iter().filter(|a| !allows_object(a)).cloned().collect();
        if kept.is_empty() {
            return None;
        }
        let mut out = schema.as_object()?.clone();
        if kept.len() == 1 {
            out.remove(key);
            let Some(Value::Object(only)) = kept.into_iter().next() else {
                return None;
            };
            for (k, v) in only {
                out.entry(k).or_insert(v);
            }
        } else {
            out.insert(key.to_owned(), Value::Array(kept));
        }
        return (!allows_object(&Value::Object(out.clone()))).then_some(Value::Object(out));
    }
    None
}

fn is_array(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "array",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "array"),
        _ => schema.get("items").is_some(),
    }
}

/// The output schema and response shape, from the first 2xx response with a JSON body.
fn output(
    doc: &Value,
    op: &FoundOperation<'_>,
    label: &str,
    w: &mut Warnings,
) -> (Value, ResponseShape) {
    let generic = (json!({"type": "object"}), ResponseShape::default());
    let Some(responses) = op.op.get("responses").and_then(Value::as_object) else {
        return generic;
    };
    let mut codes: Vec<&String> = responses
        .keys()
        .filter(|c| c.len() == 3 && c.starts_with('2'))
        .collect();
    // Exact codes in order, then the `2XX` range.
    codes.sort_by_key(|c| (c.eq_ignore_ascii_case("2xx"), c.to_owned()));
    for code in codes {
        let response = match resolve::deref(doc, &responses[code.as_str()]) {
            Ok(r) => r,
            Err(e) => {
                w.op(
                    label,
                    format!("response {code}: {e}; output schema left generic"),
                );
                return generic;
            }
        };
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            continue;
        };
        let Some(schema) = content
            .iter()
            .find(|(k, _)| is_json_media(&media_essence(k)))
            .and_then(|(_, m)| m.get("schema"))
        else {
            continue;
        };
        let mut resolver = SchemaResolver::new(doc, Direction::Response, OUTPUT_LIMITS);
        let schema = resolver.resolve(schema);
        if resolver.truncated > 0 {
            w.op(label, "output schema cut at the depth or size limit");
        }
        if let Some(broken) = resolver.broken {
            w.op(
                label,
                format!("response {code}: {broken}; output schema left generic"),
            );
            return generic;
        }
        let wrap = match schema.get("type") {
            Some(Value::String(t)) if t == "array" => Some("items"),
            Some(Value::String(t)) if t != "object" => Some("value"),
            _ => None,
        };
        return match wrap {
            Some(key) => (
                json!({"type": "object", "properties": {key: schema}}),
                ResponseShape {
                    wrap: Some(key.to_owned()),
                    ..ResponseShape::default()
                },
            ),
            None if schema.is_object() => (schema, ResponseShape::default()),
            None => generic,
        };
    }
    generic
}

fn tool_name(op: &FoundOperation<'_>, method: HttpMethod, path: &str) -> String {
    let summary = op
        .op
        .get("summary")
        .and_then(Value::as_str)
        .map(text::one_line);
    let from_description = || {
        op.op
            .get("description")
            .and_then(Value::as_str)
            .map(text::clean)
            .and_then(|d| text::short_first_sentence(&d))
    };
    summary
        .map(|s| s.trim_end_matches('.').to_owned())
        .filter(|s| !s.is_empty())
        .or_else(from_description)
        .unwrap_or_else(|| format!("{} {path}", method.as_str()))
}

fn tool_description(op: &FoundOperation<'_>, method: HttpMethod, path: &str, api: &str) -> String {
    let get = |k: &str| {
        op.op
            .get(k)
            .and_then(Value::as_str)
            .map(text::clean)
            .filter(|s| !s.is_empty())
    };
    let text = match (get("summary"), get("description")) {
        (Some(s), Some(d)) if d.starts_with(s.trim_end_matches('.')) => d,
        (Some(s), Some(d)) => format!("{s}\n\n{d}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => String::new(),
    };
    let text = if text.trim().len() < 20 {
        let sentence = if text.is_empty() || text.ends_with(['.', '!', '?']) {
            text
        } else {
            format!("{text}.")
        };
        format!("{sentence} Calls {} {path} on {api}.", method.as_str())
            .trim()
            .to_owned()
    } else {
        text
    };
    text::truncate(&text, text::MAX_DESCRIPTION)
}

fn tags(op: &FoundOperation<'_>, method: HttpMethod) -> Vec<String> {
    let hints: &[&str] = match method {
        HttpMethod::Get | HttpMethod::Head => &["readOnlyHint", "idempotentHint", "openWorldHint"],
        HttpMethod::Delete => &["destructiveHint", "idempotentHint", "openWorldHint"],
        HttpMethod::Put => &["idempotentHint", "openWorldHint"],
        HttpMethod::Post | HttpMethod::Patch => &["openWorldHint"],
    };
    let mut tags: Vec<String> = hints.iter().map(|h| (*h).to_owned()).collect();
    for tag in op
        .op
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(tag) = tag.as_str().map(str::trim).filter(|t| !t.is_empty())
            && !tags.iter().any(|t| t == tag)
        {
            tags.push(tag.to_owned());
        }
    }
    tags
}
