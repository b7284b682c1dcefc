//! Swagger 2.0 support: the document is rewritten as OpenAPI 3.0 and then imported like any
//! other, so that there is one importer to keep right.
//!
//! What moves: `definitions` → `components/schemas` (and every `$ref` with it), `host` +
//! `basePath` + `schemes` → `servers`, `in: body` and `in: formData` parameters → `requestBody`
//! (form-urlencoded, or multipart when a parameter is a file), `collectionFormat` → `style` /
//! `explode`, response `schema` → `content`, `securityDefinitions` → `securitySchemes`. An
//! operation that cannot be rewritten carries the reason under [`UNCONVERTIBLE`], and the importer
//! reports it as skipped.

use serde_json::{Map, Value, json};

use super::{METHODS, Warnings, resolve};

/// Key of a converted operation that could not be rewritten; its value is the reason.
pub(super) const UNCONVERTIBLE: &str = "x-toolrouter-unconvertible";

/// Schema keywords a Swagger 2.0 non-body parameter (or its `items`) shares with JSON Schema.
const PARAM_SCHEMA_KEYS: [&str; 15] = [
    "type",
    "format",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
];

/// The OpenAPI 3.0 equivalent of a Swagger 2.0 document.
pub(super) fn convert(doc: &Value, w: &mut Warnings) -> Value {
    let mut out = Map::new();
    out.insert("openapi".to_owned(), json!("3.0.3"));
    for key in ["info", "tags", "security"] {
        if let Some(v) = doc.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out.insert("servers".to_owned(), json!([{"url": server(doc, w)}]));

    let mut components = Map::new();
    if let Some(defs) = doc.get("definitions") {
        components.insert("schemas".to_owned(), rewrite_refs(defs));
    }
    if let Some(Value::Object(defs)) = doc.get("securityDefinitions") {
        let schemes: Map<String, Value> = defs
            .iter()
            .map(|(name, s)| (name.clone(), security_scheme(s)))
            .collect();
        components.insert("securitySchemes".to_owned(), Value::Object(schemes));
    }
    out.insert("components".to_owned(), Value::Object(components));

    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let defaults = Defaults {
        consumes: strings(doc.get("consumes")),
        produces: strings(doc.get("produces")),
    };
    let mut paths = Map::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(item) = item.as_object() else {
            continue;
        };
        if item.contains_key("$ref") {
            // An external path item: the importer reports the reference it cannot follow.
            paths.insert(path.clone(), Value::Object(item.clone()));
            continue;
        }
        let shared: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        let mut new_item = Map::new();
        for method in METHODS {
            if let Some(Value::Object(op)) = item.get(method) {
                let converted = operation(doc, op, &shared, &defaults, &strings);
                new_item.insert(method.to_owned(), Value::Object(converted));
            }
        }
        paths.insert(path.clone(), Value::Object(new_item));
    }
    out.insert("paths".to_owned(), Value::Object(paths));
    Value::Object(out)
}

fn server(doc: &Value, w: &mut Warnings) -> String {
    let base_path = doc
        .get("basePath")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(host) = doc.get("host").and_then(Value::as_str) else {
        // Relative: the importer asks for an explicit base URL.
        return if base_path.is_empty() {
            "/".to_owned()
        } else {
            base_path.to_owned()
        };
    };
    let schemes: Vec<&str> = doc
        .get("schemes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let scheme = if schemes.contains(&"https") {
        "https"
    } else if let Some(first) = schemes.first() {
        first
    } else {
        w.doc("Swagger 2.0 document without `schemes`: https assumed");
        "https"
    };
    format!("{scheme}://{host}{base_path}")
}

fn security_scheme(scheme: &Value) -> Value {
    let mut out = Map::new();
    if let Some(d) = scheme.get("description") {
        out.insert("description".to_owned(), d.clone());
    }
    match scheme
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "basic" => {
            out.insert("type".to_owned(), json!("http"));
            out.insert("scheme".to_owned(), json!("basic"));
        }
        "oauth2" => {
            let flow = match scheme
                .get("flow")
                .and_then(Value::as_str)
                .unwrap_or_default()
            {
                "accessCode" => "authorizationCode",
                "application" => "clientCredentials",
                other => other,
            };
            let mut flow_def = Map::new();
            for key in ["authorizationUrl", "tokenUrl", "scopes"] {
                if let Some(v) = scheme.get(key) {
                    flow_def.insert(key.to_owned(), v.clone());
                }
            }
            out.insert("type".to_owned(), json!("oauth2"));
            out.insert("flows".to_owned(), json!({flow: flow_def}));
        }
        other => {
            // `apiKey` has the same shape in both versions; anything else stays unknown.
            if let Some(obj) = scheme.as_object() {
                out.extend(obj.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            out.insert("type".to_owned(), json!(other));
        }
    }
    Value::Object(out)
}

#[derive(Debug)]
struct Defaults {
    consumes: Vec<String>,
    produces: Vec<String>,
}

fn is_json(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or_default().trim();
    essence == "application/json" || essence.ends_with("+json")
}

fn operation(
    doc: &Value,
    op: &Map<String, Value>,
    shared: &[&Value],
    defaults: &Defaults,
    strings: &dyn Fn(Option<&Value>) -> Vec<String>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for key in [
        "tags",
        "summary",
        "description",
        "operationId",
        "deprecated",
        "security",
    ] {
        if let Some(v) = op.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    let consumes = op
        .get("consumes")
        .map_or_else(|| defaults.consumes.clone(), |c| strings(Some(c)));
    let produces = op
        .get("produces")
        .map_or_else(|| defaults.produces.clone(), |p| strings(Some(p)));

    // Operation parameters override path-level ones with the same name and place.
    let mut params: Vec<&Map<String, Value>> = Vec::new();
    let own = op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for p in shared.iter().copied().chain(own) {
        let p = match resolve::deref(doc, p) {
            Ok(Value::Object(p)) => p,
            Ok(_) => continue,
            Err(e) => {
                out.insert(UNCONVERTIBLE.to_owned(), json!(format!("parameter: {e}")));
                return out;
            }
        };
        let key = |p: &Map<String, Value>| (p.get("name").cloned(), p.get("in").cloned());
        match params.iter_mut().find(|q| key(q) == key(p)) {
            Some(existing) => *existing = p,
            None => params.push(p),
        }
    }

    let mut new_params = Vec::new();
    let mut body = None;
    let mut form_props = Map::new();
    let mut form_required = Vec::new();
    let mut has_file = false;
    for p in params {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        match p.get("in").and_then(Value::as_str).unwrap_or_default() {
            "body" => body = Some(p),
            "formData" => {
                has_file |= p.get("type").and_then(Value::as_str) == Some("file");
                let mut schema = param_schema(p);
                if let (Some(d), Value::Object(s)) = (p.get("description"), &mut schema) {
                    s.insert("description".to_owned(), d.clone());
                }
                form_props.insert(name.to_owned(), schema);
                if p.get("required") == Some(&Value::Bool(true)) {
                    form_required.push(json!(name));
                }
            }
            location => new_params.push(parameter(p, location)),
        }
    }
    if !new_params.is_empty() {
        out.insert("parameters".to_owned(), Value::Array(new_params));
    }
    if let Some(b) = body {
        let mut types: Vec<&str> = consumes
            .iter()
            .map(String::as_str)
            .filter(|c| is_json(c))
            .collect();
        if types.is_empty() {
            types = if consumes.is_empty() {
                vec!["application/json"]
            } else {
                consumes.iter().map(String::as_str).collect()
            };
        }
        let schema = rewrite_refs(b.get("schema").unwrap_or(&json!({})));
        let content: Map<String, Value> = types
            .iter()
            .map(|t| ((*t).to_owned(), json!({"schema": schema})))
            .collect();
        let mut request = Map::new();
        request.insert("content".to_owned(), Value::Object(content));
        for key in ["description", "required"] {
            if let Some(v) = b.get(key) {
                request.insert(key.to_owned(), v.clone());
            }
        }
        out.insert("requestBody".to_owned(), Value::Object(request));
    } else if !form_props.is_empty() {
        let has = |t: &str| consumes.iter().any(|c| c.starts_with(t));
        let media = if has_file
            || (has("multipart/form-data") && !has("application/x-www-form-urlencoded"))
        {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut schema = json!({"type": "object", "properties": form_props});
        if !form_required.is_empty() {
            schema["required"] = Value::Array(form_required.clone());
        }
        out.insert(
            "requestBody".to_owned(),
            json!({"required": !form_required.is_empty(), "content": {media: {"schema": schema}}}),
        );
    }

    let media = produces
        .iter()
        .find(|p| is_json(p))
        .or_else(|| produces.first())
        .map_or("application/json", String::as_str);
    let mut responses = Map::new();
    for (code, r) in op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let r = match resolve::deref(doc, r) {
            Ok(r) => r,
            Err(_) => {
                // Left for the importer, which reports the reference it cannot follow.
                responses.insert(code.clone(), r.clone());
                continue;
            }
        };
        let mut new = Map::new();
        new.insert(
            "description".to_owned(),
            r.get("description").cloned().unwrap_or_else(|| json!("")),
        );
        if let Some(schema) = r.get("schema") {
            new.insert(
                "content".to_owned(),
                json!({media: {"schema": rewrite_refs(schema)}}),
            );
        }
        responses.insert(code.clone(), Value::Object(new));
    }
    out.insert("responses".to_owned(), Value::Object(responses));
    out
}

/// A non-body parameter in OpenAPI 3.0 form.
fn parameter(p: &Map<String, Value>, location: &str) -> Value {
    let mut out = Map::new();
    for key in [
        "name",
        "in",
        "description",
        "required",
        "deprecated",
        "allowEmptyValue",
    ] {
        if let Some(v) = p.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out.insert("schema".to_owned(), param_schema(p));
    if p.get("type").and_then(Value::as_str) == Some("array") {
        let format = p
            .get("collectionFormat")
            .and_then(Value::as_str)
            .unwrap_or("csv");
        let (style, explode) = match (location, format) {
            ("query", "csv") => ("form", false),
            ("query", "multi") => ("form", true),
            ("query", "ssv") => ("spaceDelimited", false),
            ("query", "pipes") => ("pipeDelimited", false),
            (_, "csv") => ("simple", false),
            // No OpenAPI 3 style matches; the importer reports the style it does not know.
            (_, other) => (other, false),
        };
        out.insert("style".to_owned(), json!(style));
        out.insert("explode".to_owned(), json!(explode));
    }
    Value::Object(out)
}

/// The JSON Schema of a non-body parameter (or of its `items`).
fn param_schema(p: &Map<String, Value>) -> Value {
    let mut schema = Map::new();
    for key in PARAM_SCHEMA_KEYS {
        if let Some(v) = p.get(key) {
            schema.insert(key.to_owned(), v.clone());
        }
    }
    if p.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".to_owned(), json!("string"));
        schema.insert("format".to_owned(), json!("binary"));
    }
    if let Some(Value::Object(items)) = p.get("items") {
        let items = if items.contains_key("$ref") {
            rewrite_refs(&Value::Object(items.clone()))
        } else {
            param_schema(items)
        };
        schema.insert("items".to_owned(), items);
    }
    Value::Object(schema)
}

/// A copy with `$ref`s pointing at their OpenAPI 3 places and `x-nullable` made `nullable`.
fn rewrite_refs(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        let moved = [
                            ("#/definitions/", "#/components/schemas/"),
                            ("#/parameters/", "#/components/parameters/"),
                            ("#/responses/", "#/components/responses/"),
                        ]
                        .iter()
                        .find_map(|(from, to)| {
                            r.strip_prefix(from).map(|rest| format!("{to}{rest}"))
                        });
                        (k.clone(), Value::String(moved.unwrap_or_else(|| r.clone())))
                    }
                    ("x-nullable", v) => ("nullable".to_owned(), v.clone()),
                    _ => (k.clone(), rewrite_refs(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(rewrite_refs).collect()),
        other => other.clone(),
    }
}
