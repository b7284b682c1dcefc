//! Rewrites a tool's JSON Schema into what each provider accepts.
//!
//! Tool schemas arrive as general JSON Schema (toolkit definitions, OpenAPI imports, `schemars`
//! for custom tools: `$defs`/`$ref`, `anyOf` with `null`, `oneOf`, `const`, formats of every
//! kind, free-form maps). Providers accept less, and each a different subset:
//!
//! - [`loose`]: OpenAI (non-strict) and Anthropic take the schema as it is; only the root is
//!   made an explicit object and duplicate `required` entries (which OpenAI rejects) removed.
//! - [`strict`]: OpenAI's strict mode (Structured Outputs) needs every property required
//!   (optional ones become nullable, so the model says `null` instead of leaving them out),
//!   `additionalProperties: false` on every object, and only its supported keywords and
//!   formats. A schema that cannot say the same thing under those rules (a free-form map, an
//!   untyped value, an array without `items`) yields `None`, so the caller falls back to a
//!   non-strict tool instead of silently changing what the tool accepts.
//! - [`gemini`]: Gemini's OpenAPI 3.0 subset: upper-case types, `nullable` instead of `null`
//!   types, `$ref` inlined, string-only `enum`, a few formats, no `additionalProperties`, no
//!   empty `properties`, `required` naming only listed properties. What cannot be expressed
//!   (non-string enums, other formats) is kept as a note in the description so the model still
//!   learns it.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

fn types_of(m: &Map<String, Value>) -> Vec<String> {
    match m.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| types_of(m) == ["null"] && !m.contains_key("anyOf"))
}

/// Resolves a local `$ref` (`#/$defs/X`, `#/definitions/X`, any JSON pointer into the root).
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    root.pointer(reference.strip_prefix('#')?)
}

/// Removes repeated names from every `required` list.
fn dedupe_required(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(req)) = m.get_mut("required") {
                let mut seen = HashSet::new();
                req.retain(|r| seen.insert(r.to_string()));
            }
            for child in m.values_mut() {
                dedupe_required(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(dedupe_required),
        _ => {}
    }
}

/// The schema as published, with an explicit object root and no repeated `required` names.
pub(crate) fn loose(schema: &Value) -> Value {
    let mut out = match schema {
        Value::Object(m) => Value::Object(m.clone()),
        _ => json!({}),
    };
    dedupe_required(&mut out);
    if let Value::Object(m) = &mut out {
        m.entry("type").or_insert_with(|| json!("object"));
        if m.get("type") == Some(&json!("object")) {
            m.entry("properties").or_insert_with(|| json!({}));
        }
    }
    out
}

/// Keywords OpenAI's strict mode accepts (besides the structural ones handled explicitly).
const STRICT_KEEP: &[&str] = &[
    "type",
    "description",
    "title",
    "enum",
    "const",
    "pattern",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "minItems",
    "maxItems",
];

const STRICT_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The schema under OpenAI's strict-mode rules, or `None` when it cannot be expressed there.
pub(crate) fn strict(schema: &Value) -> Option<Value> {
    let root = schema.as_object()?;
    let types = types_of(root);
    if !(types.is_empty() || types == ["object"]) {
        return None;
    }
    let mut cx = Strict {
        root: schema,
        depth: 0,
    };
    let mut out = cx.node(schema, true)?;
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = root.get(key) {
            let mut converted = Map::new();
            for (name, def) in defs {
                converted.insert(name.clone(), cx.node(def, false)?);
            }
            out.as_object_mut()?
                .insert(key.to_owned(), Value::Object(converted));
        }
    }
    Some(out)
}

struct Strict<'a> {
    root: &'a Value,
    /// `$ref`s inlined so far on this path, to stop on self-reference.
    depth: usize,
}

impl Strict<'_> {
    fn node(&mut self, v: &Value, root: bool) -> Option<Value> {
        let m = v.as_object()?;
        if let Some(r) = m.get("$ref").and_then(Value::as_str) {
            let target = resolve(self.root, r)?;
            if m.len() == 1 && !root {
                return Some(json!({ "$ref": r }));
            }
            // A `$ref` with siblings (a description, usually) is inlined: strict mode does not
            // take both. Inlining a self-reference would never end.
            if self.depth >= 16 {
                return None;
            }
            let mut merged = target.as_object()?.clone();
            for (k, x) in m {
                if k != "$ref" {
                    merged.insert(k.clone(), x.clone());
                }
            }
            self.depth += 1;
            let out = self.node(&Value::Object(merged), root);
            self.depth -= 1;
            return out;
        }
        let mut m = m.clone();
        if let Some(all) = m.remove("allOf") {
            // One schema under `allOf` (what generators emit to attach a description) is that
            // schema; an intersection of several has no strict-mode form.
            let [Value::Object(only)] = all.as_array()?.as_slice() else {
                return None;
            };
            for (k, x) in only {
                m.entry(k.clone()).or_insert_with(|| x.clone());
            }
            if m.contains_key("$ref") {
                return self.node(&Value::Object(m), root);
            }
        }
        if let Some(one) = m.remove("oneOf") {
            if m.contains_key("anyOf") {
                return None;
            }
            m.insert("anyOf".to_owned(), one);
        }
        let mut out = Map::new();
        for k in STRICT_KEEP {
            if let Some(x) = m.get(*k) {
                out.insert((*k).to_owned(), x.clone());
            }
        }
        if let Some(f) = m.get("format").and_then(Value::as_str)
            && STRICT_FORMATS.contains(&f)
        {
            out.insert("format".to_owned(), json!(f));
        }
        if let Some(any) = m.get("anyOf") {
            if root {
                return None;
            }
            let branches = any
                .as_array()?
                .iter()
                .map(|b| self.node(b, false))
                .collect::<Option<Vec<_>>>()?;
            out.insert("anyOf".to_owned(), Value::Array(branches));
        }
        let types = types_of(&m);
        let is_object = root || types.iter().any(|t| t == "object") || m.contains_key("properties");
        if is_object {
            let props = m.get("properties").and_then(Value::as_object);
            let closed = m.get("additionalProperties") == Some(&Value::Bool(false));
            if props.is_none_or(Map::is_empty) && !root && !closed {
                // A free-form object: strict mode would only let the model send `{}`.
                return None;
            }
            let required: HashSet<&str> = m
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut converted = Map::new();
            for (name, p) in props.into_iter().flatten() {
                let c = self.node(p, false)?;
                let c = if required.contains(name.as_str()) {
                    c
                } else {
                    nullable(c)
                };
                converted.insert(name.clone(), c);
            }
            let names: Vec<Value> = converted.keys().map(|k| json!(k)).collect();
            out.entry("type").or_insert_with(|| json!("object"));
            out.insert("properties".to_owned(), Value::Object(converted));
            out.insert("required".to_owned(), Value::Array(names));
            out.insert("additionalProperties".to_owned(), Value::Bool(false));
        }
        let is_array = types.iter().any(|t| t == "array") || m.contains_key("items");
        if is_array {
            let items = m.get("items").filter(|i| i.is_object())?;
            out.insert("items".to_owned(), self.node(items, false)?);
        }
        let constrained = is_object
            || is_array
            || !types.is_empty()
            || ["anyOf", "enum", "const"]
                .iter()
                .any(|k| out.contains_key(*k));
        // An untyped value ("anything") has no strict-mode form.
        constrained.then_some(Value::Object(out))
    }
}

/// `schema`, or `null`: how strict mode says "optional".
fn nullable(schema: Value) -> Value {
    let Value::Object(mut m) = schema else {
        return schema;
    };
    if !m.contains_key("const") {
        if let Some(t) = m.get_mut("type") {
            match t {
                Value::String(s) if s == "null" => return Value::Object(m),
                Value::String(s) => *t = json!([s.clone(), "null"]),
                Value::Array(ts) if !ts.contains(&json!("null")) => ts.push(json!("null")),
                _ => {}
            }
            if let Some(Value::Array(values)) = m.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            return Value::Object(m);
        }
        if let Some(Value::Array(branches)) = m.get_mut("anyOf") {
            if !branches.iter().any(is_null_schema) {
                branches.push(json!({"type": "null"}));
            }
            return Value::Object(m);
        }
    }
    json!({"anyOf": [Value::Object(m), {"type": "null"}]})
}

/// `schema` with its top-level `$ref`s followed (a bounded number of times).
fn deref<'a>(mut schema: &'a Value, root: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(root, r))
        {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

/// Whether `null` is a valid value under `schema` (untyped schemas admit anything).
fn admits_null(schema: &Value, root: &Value) -> bool {
    let schema = deref(schema, root);
    let Some(m) = schema.as_object() else {
        return schema != &Value::Bool(false);
    };
    let types = types_of(m);
    if types.iter().any(|t| t == "null") {
        return true;
    }
    if let Some(Value::Array(values)) = m.get("enum") {
        return values.contains(&Value::Null);
    }
    if let Some(c) = m.get("const") {
        return c.is_null();
    }
    let branches = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| m.get(*k).and_then(Value::as_array))
        .flatten()
        .collect::<Vec<_>>();
    if !branches.is_empty() {
        return branches.iter().any(|b| admits_null(b, root));
    }
    types.is_empty() && !m.contains_key("properties") && !m.contains_key("items")
}

/// Removes the `null`s a model sent for optional properties whose schema does not admit
/// `null`. A strict-mode model must send every property and says "not given" with `null`;
/// the tool (and the server's validation) expects the property left out instead. A `null`
/// the schema allows is kept: there it means something.
pub(crate) fn drop_unset_nulls(arguments: &mut Value, schema: &Value) {
    walk_nulls(arguments, schema, schema, 0);
}

fn walk_nulls(value: &mut Value, schema: &Value, root: &Value, depth: usize) {
    if depth > 32 {
        return;
    }
    let schema = deref(schema, root);
    let Some(m) = schema.as_object() else {
        return;
    };
    match value {
        Value::Object(obj) => {
            if let Some(props) = m.get("properties").and_then(Value::as_object) {
                let required: HashSet<&str> = m
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                obj.retain(|k, v| {
                    !(v.is_null()
                        && !required.contains(k.as_str())
                        && props.get(k).is_some_and(|p| !admits_null(p, root)))
                });
                for (k, v) in obj.iter_mut() {
                    if let Some(p) = props.get(k) {
                        walk_nulls(v, p, root, depth + 1);
                    }
                }
            }
            // An object described by a union: the branches that describe objects apply.
            for key in ["allOf", "anyOf", "oneOf"] {
                for branch in m.get(key).and_then(Value::as_array).into_iter().flatten() {
                    if deref(branch, root).get("properties").is_some() {
                        walk_nulls(value, branch, root, depth + 1);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = m.get("items").filter(|i| i.is_object()) {
                for item in items {
                    walk_nulls(item, item_schema, root, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Keywords of Gemini's `Schema` copied as they are.
const GEMINI_KEEP: &[&str] = &[
    "title",
    "description",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "default",
];

/// The schema in Gemini's subset, or `None` when the tool takes no parameters (Gemini refuses
/// an object with empty `properties`; the declaration then omits `parameters`).
pub(crate) fn gemini(schema: &Value) -> Option<Value> {
    let mut cx = Gemini {
        root: schema,
        refs: Vec::new(),
    };
    let mut out = cx.node(schema);
    out.remove("nullable");
    let has_properties = out
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    has_properties.then(|| {
        out.insert("type".to_owned(), json!("OBJECT"));
        Value::Object(out)
    })
}

struct Gemini<'a> {
    root: &'a Value,
    /// The `$ref`s being inlined, outermost first, to stop on recursion.
    refs: Vec<String>,
}

impl Gemini<'_> {
    fn node(&mut self, v: &Value) -> Map<String, Value> {
        let Some(m) = v.as_object() else {
            return Map::new();
        };
        if let Some(r) = m.get("$ref").and_then(Value::as_str) {
            let mut siblings = m.clone();
            siblings.remove("$ref");
            if self.refs.iter().any(|x| x == r) || self.refs.len() >= 16 {
                // Gemini has no references, so a recursive type is cut here.
                let mut out = Map::new();
                out.insert("type".to_owned(), json!("OBJECT"));
                let note = "Same structure as its parent (recursive; not expanded).";
                let description = match siblings.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{d} {note}"),
                    None => note.to_owned(),
                };
                out.insert("description".to_owned(), json!(description));
                return out;
            }
            let Some(Value::Object(target)) = resolve(self.root, r) else {
                return self.node(&Value::Object(siblings));
            };
            let mut merged = target.clone();
            merged.extend(siblings);
            self.refs.push(r.to_owned());
            let out = self.node(&Value::Object(merged));
            self.refs.pop();
            return out;
        }
        let mut m = m.clone();
        if let Some(Value::Array(all)) = m.remove("allOf") {
            for branch in all {
                let branch = self.inline(branch);
                merge_schema(&mut m, branch);
            }
            if m.contains_key("$ref") {
                return self.node(&Value::Object(m));
            }
        }
        if let Some(one) = m.remove("oneOf") {
            m.entry("anyOf").or_insert(one);
        }
        let mut out = Map::new();
        let mut notes = Vec::new();
        let mut nullable = false;
        if let Some(Value::Array(branches)) = m.remove("anyOf") {
            let (nulls, rest): (Vec<_>, Vec<_>) = branches.into_iter().partition(is_null_schema);
            nullable = !nulls.is_empty();
            if let [only] = rest.as_slice() {
                // `T | null` is `T` with `nullable`; what the outer schema says wins.
                let mut inner = self.node(only);
                for k in GEMINI_KEEP {
                    if let Some(x) = m.get(*k) {
                        inner.insert((*k).to_owned(), x.clone());
                    }
                }
                if nullable {
                    inner.insert("nullable".to_owned(), json!(true));
                }
                return inner;
            }
            if !rest.is_empty() {
                let converted = rest.iter().map(|b| Value::Object(self.node(b))).collect();
                out.insert("anyOf".to_owned(), Value::Array(converted));
            }
        }
        let mut types = types_of(&m);
        if types.iter().any(|t| t == "null") {
            nullable = true;
            types.retain(|t| t != "null");
        }
        let values: Option<Vec<Value>> = m
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .or_else(|| m.get("const").map(|c| vec![c.clone()]));
        if types.is_empty() {
            if m.contains_key("properties") {
                types.push("object".to_owned());
            } else if m.contains_key("items") {
                types.push("array".to_owned());
            } else if values
                .as_ref()
                .is_some_and(|vs| !vs.is_empty() && vs.iter().all(|v| v.is_string() || v.is_null()))
            {
                types.push("string".to_owned());
            }
        }
        if types.len() > 1 {
            // Several types: one branch per type, each keeping the keywords that apply to it.
            let mut branches = Vec::new();
            for t in &types {
                let mut b = m.clone();
                b.insert("type".to_owned(), json!(t));
                b.remove("description");
                b.remove("title");
                branches.push(Value::Object(self.node(&Value::Object(b))));
            }
            out.insert("anyOf".to_owned(), Value::Array(branches));
            for k in ["title", "description"] {
                if let Some(x) = m.get(k) {
                    out.insert(k.to_owned(), x.clone());
                }
            }
            if nullable {
                out.insert("nullable".to_owned(), json!(true));
            }
            return out;
        }
        let ty = types.first().map(String::as_str);
        if let Some(t) = ty {
            out.insert("type".to_owned(), json!(t.to_ascii_uppercase()));
        }
        for k in GEMINI_KEEP {
            if let Some(x) = m.get(*k) {
                out.insert((*k).to_owned(), x.clone());
            }
        }
        if let Some(mut values) = values {
            if values.contains(&Value::Null) {
                nullable = true;
                values.retain(|v| !v.is_null());
            }
            if matches!(ty, Some("string")) && values.iter().all(Value::is_string) {
                out.insert("enum".to_owned(), Value::Array(values));
            } else if !values.is_empty() {
                let shown: Vec<String> = values.iter().map(Value::to_string).collect();
                notes.push(format!("Allowed values: {}.", shown.join(", ")));
            }
        }
        if let Some(f) = m.get("format").and_then(Value::as_str) {
            let supported = matches!(
                (ty, f),
                (Some("number"), "float" | "double")
                    | (Some("integer"), "int32" | "int64")
                    | (Some("string"), "enum" | "date-time")
            );
            if supported {
                out.insert("format".to_owned(), json!(f));
            } else {
                notes.push(format!("Format: {f}."));
            }
        }
        match ty {
            Some("object") => {
                if let Some(props) = m.get("properties").and_then(Value::as_object)
                    && !props.is_empty()
                {
                    let converted: Map<String, Value> = props
                        .iter()
                        .map(|(k, p)| (k.clone(), Value::Object(self.node(p))))
                        .collect();
                    let mut seen = HashSet::new();
                    let required: Vec<Value> = m
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .filter(|r| converted.contains_key(*r) && seen.insert(*r))
                        .map(|r| json!(r))
                        .collect();
                    out.insert("properties".to_owned(), Value::Object(converted));
                    if !required.is_empty() {
                        out.insert("required".to_owned(), Value::Array(required));
                    }
                }
            }
            Some("array") => {
                let items = match m.get("items") {
                    Some(Value::Array(tuple)) if tuple.len() > 1 => {
                        let branches = tuple.iter().map(|b| Value::Object(self.node(b))).collect();
                        Map::from_iter([("anyOf".to_owned(), Value::Array(branches))])
                    }
                    Some(Value::Array(tuple)) => {
                        tuple.first().map(|b| self.node(b)).unwrap_or_default()
                    }
                    Some(items) => self.node(items),
                    None => Map::new(),
                };
                // Gemini needs `items` to say something; "anything" becomes text.
                let items = if items.contains_key("type") || items.contains_key("anyOf") {
                    items
                } else {
                    let mut typed = items;
                    typed.insert("type".to_owned(), json!("STRING"));
                    typed
                };
                out.insert("items".to_owned(), Value::Object(items));
            }
            _ => {}
        }
        if !notes.is_empty() {
            let mut text = out
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            for n in notes {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&n);
            }
            out.insert("description".to_owned(), json!(text));
        }
        if nullable {
            out.insert("nullable".to_owned(), json!(true));
        }
        out
    }

    /// `v` with a top-level `$ref` replaced by its target (siblings kept), for merging.
    fn inline(&self, v: Value) -> Map<String, Value> {
        let Value::Object(mut m) = v else {
            return Map::new();
        };
        if let Some(Value::String(r)) = m.remove("$ref")
            && let Some(Value::Object(target)) = resolve(self.root, &r)
        {
            let mut merged = target.clone();
            merged.extend(m);
            return merged;
        }
        m
    }
}

/// Merges `from` into `into` (an `allOf` branch into its schema): properties and `required`
/// are united, other keywords already present win.
fn merge_schema(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (k.as_str(), into.get_mut(&k), v) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (name, p) in theirs {
                    mine.entry(name).or_insert(p);
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                for r in theirs {
                    if !mine.contains(&r) {
                        mine.push(r);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, v) => {
                into.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn show(v: Option<Value>) -> String {
        v.map_or_else(
            || "None".to_owned(),
            |v| serde_json::to_string_pretty(&v).unwrap(),
        )
    }

    fn check_strict(schema: &Value, expected: &Expect) {
        expected.assert_eq(&show(strict(schema)));
    }

    fn check_gemini(schema: &Value, expected: &Expect) {
        expected.assert_eq(&show(gemini(schema)));
    }

    /// What `schemars` makes of a struct with an optional nested struct, an enum and a
    /// recursive field: `$defs`, `$ref` with a sibling description, `anyOf` with `null`,
    /// `oneOf` of `const`s, a type list.
    fn generated() -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to find.", "minLength": 1},
                "limit": {"type": ["integer", "null"], "format": "uint32", "minimum": 0,
                          "default": 10},
                "filter": {"anyOf": [{"$ref": "#/$defs/Filter"}, {"type": "null"}],
                           "description": "Narrow the results."},
                "order": {"$ref": "#/$defs/Order", "description": "Sort order."}
            },
            "required": ["query", "order", "query"],
            "$defs": {
                "Filter": {"type": "object",
                           "properties": {"labels": {"type": "array", "items": {"type": "string"}},
                                          "since": {"type": "string", "format": "date"},
                                          "parent": {"anyOf": [{"$ref": "#/$defs/Filter"},
                                                               {"type": "null"}]}},
                           "required": ["labels"]},
                "Order": {"oneOf": [{"const": "asc", "type": "string"},
                                    {"const": "desc", "type": "string"}]}
            }
        })
    }

    #[test]
    fn loose_makes_the_root_an_object_and_dedupes_required() {
        assert_eq!(
            loose(&json!({})),
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            loose(
                &json!({"type": "object", "properties": {"a": {"type": "string"}},
                          "required": ["a", "a"]})
            ),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]})
        );
    }

    #[test]
    fn strict_requires_everything_and_closes_every_object() {
        check_strict(
            &generated(),
            &expect![[r##"
            {
              "$defs": {
                "Filter": {
                  "additionalProperties": false,
                  "properties": {
                    "labels": {
                      "items": {
                        "type": "string"
                      },
                      "type": "array"
                    },
                    "parent": {
                      "anyOf": [
                        {
                          "$ref": "#/$defs/Filter"
                        },
                        {
                          "type": "null"
                        }
                      ]
                    },
                    "since": {
                      "format": "date",
                      "type": [
                        "string",
                        "null"
                      ]
                    }
                  },
                  "required": [
                    "labels",
                    "parent",
                    "since"
                  ],
                  "type": "object"
                },
                "Order": {
                  "anyOf": [
                    {
                      "const": "asc",
                      "type": "string"
                    },
                    {
                      "const": "desc",
                      "type": "string"
                    }
                  ]
                }
              },
              "additionalProperties": false,
              "properties": {
                "filter": {
                  "anyOf": [
                    {
                      "$ref": "#/$defs/Filter"
                    },
                    {
                      "type": "null"
                    }
                  ],
                  "description": "Narrow the results."
                },
                "limit": {
                  "minimum": 0,
                  "type": [
                    "integer",
                    "null"
                  ]
                },
                "order": {
                  "anyOf": [
                    {
                      "const": "asc",
                      "type": "string"
                    },
                    {
                      "const": "desc",
                      "type": "string"
                    }
                  ],
                  "description": "Sort order."
                },
                "query": {
                  "description": "What to find.",
                  "type": "string"
                }
              },
              "required": [
                "filter",
                "limit",
                "order",
                "query"
              ],
              "type": "object"
            }"##]],
        );
    }

    #[test]
    fn strict_refuses_what_it_cannot_express() {
        // A free-form map (GitHub's workflow inputs), an untyped value, an array of anything,
        // an intersection, and a root that is not an object.
        for schema in [
            json!({"type": "object", "properties": {"inputs": {"type": "object",
                   "additionalProperties": {"type": "string"}}}}),
            json!({"type": "object", "properties": {"value": {"description": "anything"}}}),
            json!({"type": "object", "properties": {"list": {"type": "array"}}}),
            json!({"type": "object", "properties": {"x": {"allOf": [{"type": "string"},
                                                                      {"minLength": 2}]}}}),
            json!({"anyOf": [{"type": "object"}, {"type": "string"}]}),
            json!({"type": "string"}),
        ] {
            assert_eq!(strict(&schema), None, "{schema}");
        }
        // A tool without parameters is fine: the model sends `{}`.
        check_strict(
            &json!({"type": "object"}),
            &expect![[r#"
                {
                  "additionalProperties": false,
                  "properties": {},
                  "required": [],
                  "type": "object"
                }"#]],
        );
    }

    #[test]
    fn optional_enums_and_consts_admit_null() {
        check_strict(
            &json!({"type": "object", "properties": {
                "state": {"type": "string", "enum": ["open", "closed"]},
                "kind": {"const": "issue"},
                "mode": {"type": "string", "const": "fast"}
            }}),
            &expect![[r#"
                {
                  "additionalProperties": false,
                  "properties": {
                    "kind": {
                      "anyOf": [
                        {
                          "const": "issue"
                        },
                        {
                          "type": "null"
                        }
                      ]
                    },
                    "mode": {
                      "anyOf": [
                        {
                          "const": "fast",
                          "type": "string"
                        },
                        {
                          "type": "null"
                        }
                      ]
                    },
                    "state": {
                      "enum": [
                        "open",
                        "closed",
                        null
                      ],
                      "type": [
                        "string",
                        "null"
                      ]
                    }
                  },
                  "required": [
                    "kind",
                    "mode",
                    "state"
                  ],
                  "type": "object"
                }"#]],
        );
    }

    #[test]
    fn nulls_for_absent_optional_values_are_dropped_and_meaningful_ones_kept() {
        let schema = generated();
        let mut args = json!({
            "query": "x", "limit": null, "order": "asc",
            "filter": {"labels": ["a"], "since": null, "parent": null}
        });
        drop_unset_nulls(&mut args, &schema);
        // `limit` and `parent` admit null, so theirs are kept; `since` (a date) does not.
        assert_eq!(
            args,
            json!({"query": "x", "limit": null, "order": "asc",
                   "filter": {"labels": ["a"], "parent": null}})
        );
        let discord = json!({"type": "object", "properties": {
            "positions": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "position": {"type": ["integer", "null"]},
                "note": {"type": "string"}}, "required": ["id"]}}}});
        let mut args = json!({"positions": [{"id": "1", "position": null, "note": null}]});
        drop_unset_nulls(&mut args, &discord);
        assert_eq!(args, json!({"positions": [{"id": "1", "position": null}]}));
        // A required property's null is the model's mistake to hear about, not to hide.
        let mut args = json!({"query": null});
        drop_unset_nulls(&mut args, &schema);
        assert_eq!(args, json!({"query": null}));
    }

    #[test]
    fn gemini_inlines_refs_and_speaks_openapi() {
        check_gemini(
            &generated(),
            &expect![[r#"
                {
                  "properties": {
                    "filter": {
                      "description": "Narrow the results.",
                      "nullable": true,
                      "properties": {
                        "labels": {
                          "items": {
                            "type": "STRING"
                          },
                          "type": "ARRAY"
                        },
                        "parent": {
                          "description": "Same structure as its parent (recursive; not expanded).",
                          "nullable": true,
                          "type": "OBJECT"
                        },
                        "since": {
                          "description": "Format: date.",
                          "type": "STRING"
                        }
                      },
                      "required": [
                        "labels"
                      ],
                      "type": "OBJECT"
                    },
                    "limit": {
                      "default": 10,
                      "description": "Format: uint32.",
                      "minimum": 0,
                      "nullable": true,
                      "type": "INTEGER"
                    },
                    "order": {
                      "anyOf": [
                        {
                          "enum": [
                            "asc"
                          ],
                          "type": "STRING"
                        },
                        {
                          "enum": [
                            "desc"
                          ],
                          "type": "STRING"
                        }
                      ],
                      "description": "Sort order."
                    },
                    "query": {
                      "description": "What to find.",
                      "minLength": 1,
                      "type": "STRING"
                    }
                  },
                  "required": [
                    "query",
                    "order"
                  ],
                  "type": "OBJECT"
                }"#]],
        );
    }

    #[test]
    fn gemini_keeps_what_it_cannot_say_as_notes() {
        check_gemini(
            &json!({"type": "object", "properties": {
                "priority": {"type": "integer", "enum": [0, 1, 2], "description": "Priority."},
                "inputs": {"type": "object", "additionalProperties": {"type": "string"}},
                "ids": {"type": ["string", "integer"], "description": "One id or a number."},
                "anything": {"type": "array"},
                "when": {"type": "string", "format": "date-time"},
                "ratio": {"type": "number", "format": "double", "exclusiveMinimum": 0}
            }, "required": ["priority", "missing"]}),
            &expect![[r#"
                {
                  "properties": {
                    "anything": {
                      "items": {
                        "type": "STRING"
                      },
                      "type": "ARRAY"
                    },
                    "ids": {
                      "anyOf": [
                        {
                          "type": "STRING"
                        },
                        {
                          "type": "INTEGER"
                        }
                      ],
                      "description": "One id or a number."
                    },
                    "inputs": {
                      "type": "OBJECT"
                    },
                    "priority": {
                      "description": "Priority. Allowed values: 0, 1, 2.",
                      "type": "INTEGER"
                    },
                    "ratio": {
                      "format": "double",
                      "type": "NUMBER"
                    },
                    "when": {
                      "format": "date-time",
                      "type": "STRING"
                    }
                  },
                  "required": [
                    "priority"
                  ],
                  "type": "OBJECT"
                }"#]],
        );
        // No parameters: no `parameters` (Gemini refuses empty `properties`).
        check_gemini(
            &json!({"type": "object", "properties": {}}),
            &expect!["None"],
        );
    }

    #[test]
    fn gemini_merges_all_of() {
        check_gemini(
            &json!({"type": "object", "properties": {
                "who": {"allOf": [{"$ref": "#/$defs/Person"},
                                  {"properties": {"age": {"type": "integer"}}}],
                        "description": "A person."}
            }, "$defs": {"Person": {"type": "object", "properties": {"name": {"type": "string"}},
                                    "required": ["name"]}}}),
            &expect![[r#"
                {
                  "properties": {
                    "who": {
                      "description": "A person.",
                      "properties": {
                        "age": {
                          "type": "INTEGER"
                        },
                        "name": {
                          "type": "STRING"
                        }
                      },
                      "required": [
                        "name"
                      ],
                      "type": "OBJECT"
                    }
                  },
                  "type": "OBJECT"
                }"#]],
        );
    }
}
