//! Follows local `$ref`s so that every generated schema stands alone: a tool definition cannot
//! point back into the document it came from. Cycles are cut and very large expansions truncated,
//! so that resolving stays fast and the result stays small enough to hand to an LLM.

use serde_json::{Map, Value, json};

/// A `$ref` chain on a parameter, body or response longer than this is treated as a cycle.
const MAX_REF_HOPS: usize = 32;

/// Every JSON type, for a property whose schema allows anything (the catalog needs a `type`).
const ANY_TYPE: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// Looks up a local reference (`#/components/schemas/Pet`) in the document.
pub(super) fn lookup<'d>(doc: &'d Value, reference: &str) -> Result<&'d Value, String> {
    let Some(fragment) = reference.strip_prefix('#') else {
        return Err(format!(
            "remote $ref `{reference}` is not supported (only local `#/...` references)"
        ));
    };
    doc.pointer(&percent_decode(fragment))
        .ok_or_else(|| format!("$ref `{reference}` points to nothing in the document"))
}

/// Follows `$ref`s on a parameter, request body, response or path item until a real object.
pub(super) fn deref<'d>(doc: &'d Value, value: &'d Value) -> Result<&'d Value, String> {
    let mut current = value;
    for _ in 0..MAX_REF_HOPS {
        match current.get("$ref").and_then(Value::as_str) {
            Some(reference) => current = lookup(doc, reference)?,
            None => return Ok(current),
        }
    }
    Err(format!(
        "$ref chain longer than {MAX_REF_HOPS} hops (a cycle?)"
    ))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which side of the API a schema describes: request schemas lose `readOnly` properties,
/// response schemas `writeOnly` ones (neither is ever sent in that direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Request,
    Response,
}

/// Size limits of one resolved schema.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Nesting levels below the root (properties, items, combinators each add one).
    pub(super) max_depth: usize,
    /// Schema objects produced in total.
    pub(super) max_nodes: usize,
}

pub(super) const INPUT_LIMITS: Limits = Limits {
    max_depth: 8,
    max_nodes: 800,
};
/// Smaller than the input's: an output schema only informs, and real ones (Stripe's expandable
/// objects) grow without end when inlined.
pub(super) const OUTPUT_LIMITS: Limits = Limits {
    max_depth: 3,
    max_nodes: 150,
};

/// Inlines `$ref`s of schemas of one document, for one tool's input or output.
#[derive(Debug)]
pub(super) struct SchemaResolver<'d> {
    doc: &'d Value,
    direction: Direction,
    limits: Limits,
    /// References being expanded on the current path from the root: seeing one again is a cycle.
    stack: Vec<&'d str>,
    nodes: usize,
    /// The first reference that could not be followed (remote or dangling), with the reason.
    pub(super) broken: Option<String>,
    /// Subschemas replaced by a placeholder because of the limits.
    pub(super) truncated: usize,
    /// Recursive references cut.
    pub(super) cycles: usize,
}

impl<'d> SchemaResolver<'d> {
    pub(super) fn new(doc: &'d Value, direction: Direction, limits: Limits) -> SchemaResolver<'d> {
        SchemaResolver {
            doc,
            direction,
            limits,
            stack: Vec::new(),
            nodes: 0,
            broken: None,
            truncated: 0,
            cycles: 0,
        }
    }

    /// The schema with every reference inlined. May be called several times; limits apply to the
    /// total.
    pub(super) fn resolve(&mut self, schema: &'d Value) -> Value {
        self.walk(schema, 0)
    }

    fn walk(&mut self, schema: &'d Value, depth: usize) -> Value {
        let Value::Object(map) = schema else {
            return schema.clone();
        };
        if let Some(Value::String(reference)) = map.get("$ref") {
            return self.follow(reference, map, depth);
        }
        if depth > self.limits.max_depth || self.nodes >= self.limits.max_nodes {
            return self.placeholder(schema, depth);
        }
        Value::Object(self.walk_map(map, depth))
    }

    fn follow(&mut self, reference: &'d str, map: &'d Map<String, Value>, depth: usize) -> Value {
        let resolved = if self.stack.contains(&reference) {
            self.cycles += 1;
            let name = reference.rsplit('/').next().unwrap_or(reference);
            json!({
                "type": "object",
                "description": format!("(recursive: a `{name}`, as described above)"),
            })
        } else {
            match lookup(self.doc, reference) {
                Ok(target) => {
                    self.stack.push(reference);
                    let resolved = self.walk(target, depth);
                    self.stack.pop();
                    resolved
                }
                Err(reason) => {
                    self.broken.get_or_insert(reason);
                    json!({"description": format!("(unresolved reference `{reference}`)")})
                }
            }
        };
        if map.len() == 1 {
            return resolved;
        }
        // Keys beside a `$ref` (usually a more specific `description`) refine the target.
        let siblings = self.walk_map(map, depth);
        match resolved {
            Value::Object(mut base) => {
                for (k, v) in siblings {
                    insert_keeping_note(&mut base, k, v);
                }
                Value::Object(base)
            }
            _ => Value::Object(siblings),
        }
    }

    fn walk_map(&mut self, map: &'d Map<String, Value>, depth: usize) -> Map<String, Value> {
        self.nodes += 1;
        let mut out = Map::new();
        for (k, v) in map {
            let value = match k.as_str() {
                "$ref" => continue,
                k if k.starts_with("x-") => continue,
                // Documentation-only or reference-only keywords: noise once refs are inlined.
                "example" | "examples" | "xml" | "externalDocs" | "discriminator" | "$defs"
                | "definitions" | "$schema" | "$id" | "$comment" | "$anchor" => continue,
                "properties" | "patternProperties" | "dependentSchemas" => match v {
                    Value::Object(props) => Value::Object(
                        props
                            .iter()
                            .map(|(name, s)| (name.clone(), self.walk(s, depth + 1)))
                            .collect(),
                    ),
                    other => other.clone(),
                },
                "allOf" | "anyOf" | "oneOf" | "prefixItems" => match v {
                    Value::Array(items) => {
                        Value::Array(items.iter().map(|s| self.walk(s, depth + 1)).collect())
                    }
                    other => other.clone(),
                },
                "items" | "additionalItems" => match v {
                    Value::Array(items) => {
                        Value::Array(items.iter().map(|s| self.walk(s, depth + 1)).collect())
                    }
                    other => self.walk(other, depth + 1),
                },
                "additionalProperties"
                | "not"
                | "contains"
                | "propertyNames"
                | "if"
                | "then"
                | "else"
                | "unevaluatedItems"
                | "unevaluatedProperties" => self.walk(v, depth + 1),
                _ => v.clone(),
            };
            out.insert(k.clone(), value);
        }
        self.drop_one_way_properties(&mut out);
        merge_all_of(&mut out);
        out
    }

    fn drop_one_way_properties(&self, schema: &mut Map<String, Value>) {
        let hidden = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        let Some(Value::Object(props)) = schema.get_mut("properties") else {
            return;
        };
        let before = props.len();
        props.retain(|_, p| p.get(hidden) != Some(&Value::Bool(true)));
        if props.len() == before {
            return;
        }
        let kept: Vec<String> = props.keys().cloned().collect();
        if let Some(Value::Array(required)) = schema.get_mut("required") {
            required.retain(|r| r.as_str().is_some_and(|r| kept.iter().any(|k| k == r)));
        }
    }

    /// Stands in for a subschema beyond the limits: its type and description, and a note.
    fn placeholder(&mut self, schema: &'d Value, depth: usize) -> Value {
        self.truncated += 1;
        self.nodes += 1;
        let mut out = Map::new();
        for key in ["type", "enum", "format"] {
            if let Some(v) = schema.get(key) {
                out.insert(key.to_owned(), v.clone());
            }
        }
        if !out.contains_key("type") && schema.get("properties").is_some() {
            out.insert("type".to_owned(), json!("object"));
        }
        let why = if depth > self.limits.max_depth {
            format!("nested deeper than {} levels", self.limits.max_depth)
        } else {
            "schema size limit reached".to_owned()
        };
        let description = match schema.get("description").and_then(Value::as_str) {
            Some(d) => format!("{d} (details not expanded: {why})"),
            None => format!("(details not expanded: {why})"),
        };
        out.insert("description".to_owned(), Value::String(description));
        Value::Object(out)
    }
}

/// Starts of the notes the resolver writes into descriptions.
const NOTE_MARKS: [&str; 2] = ["(recursive: ", "(details not expanded: "];

/// `description` with the resolver's note of `previous` (if any) kept at its end, so that a more
/// specific description does not hide that a schema was cut.
pub(super) fn with_note(description: &str, previous: Option<&str>) -> String {
    let note = previous.and_then(|p| {
        NOTE_MARKS
            .iter()
            .filter_map(|m| p.find(m))
            .min()
            .map(|i| &p[i..])
    });
    match note {
        Some(note) if !description.contains(note) => format!("{description} {note}"),
        _ => description.to_owned(),
    }
}

fn insert_keeping_note(schema: &mut Map<String, Value>, key: String, value: Value) {
    let value = match (key.as_str(), &value) {
        ("description", Value::String(d)) => Value::String(with_note(
            d,
            schema.get("description").and_then(Value::as_str),
        )),
        _ => value,
    };
    schema.insert(key, value);
}

/// Keys an `allOf` part may have and still be merged into one object schema.
const MERGEABLE_KEYS: [&str; 10] = [
    "type",
    "properties",
    "required",
    "description",
    "title",
    "additionalProperties",
    "nullable",
    "readOnly",
    "writeOnly",
    "deprecated",
];

/// Replaces `allOf` by the one object schema it means when that is plain (each part an object
/// with properties, or a single part): simpler for an LLM and for the importer, which needs to
/// see a request body's properties.
fn merge_all_of(schema: &mut Map<String, Value>) {
    let Some(Value::Array(parts)) = schema.get("allOf") else {
        return;
    };
    let single = parts.len() == 1;
    let mergeable = single
        || parts.iter().all(|p| {
            p.as_object().is_some_and(|p| {
                p.keys().all(|k| MERGEABLE_KEYS.contains(&k.as_str()))
                    && p.get("type").is_none_or(|t| t == "object")
            })
        });
    if !mergeable || !parts.iter().all(Value::is_object) {
        return;
    }
    let Some(Value::Array(parts)) = schema.remove("allOf") else {
        return;
    };
    let mut merged = Map::new();
    let outer = std::mem::take(schema);
    for part in parts
        .into_iter()
        .chain(std::iter::once(Value::Object(outer)))
    {
        let Value::Object(part) = part else {
            continue;
        };
        for (k, v) in part {
            match (k.as_str(), merged.get_mut(&k), v) {
                ("properties", Some(Value::Object(have)), Value::Object(more)) => have.extend(more),
                ("required", Some(Value::Array(have)), Value::Array(more)) => {
                    for r in more {
                        if !have.contains(&r) {
                            have.push(r);
                        }
                    }
                }
                (_, _, v) => insert_keeping_note(&mut merged, k, v),
            }
        }
    }
    *schema = merged;
}

/// Gives a schema a `type` when it has none (nor `anyOf`/`oneOf`/`enum`), as the catalog requires
/// of every input property: inferred from its keywords, else every JSON type.
pub(super) fn ensure_type(schema: &mut Map<String, Value>) {
    if ["type", "anyOf", "oneOf", "enum", "$ref"]
        .iter()
        .any(|k| schema.contains_key(*k))
    {
        return;
    }
    let inferred =
        if schema.contains_key("properties") || schema.contains_key("additionalProperties") {
            json!("object")
        } else if schema.contains_key("items") {
            json!("array")
        } else if let Some(c) = schema.get("const") {
            json!(match c {
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
                Value::Null => "null",
            })
        } else {
            let part_types: Vec<&Value> = schema
                .get("allOf")
                .and_then(Value::as_array)
                .map(|parts| parts.iter().filter_map(|p| p.get("type")).collect())
                .unwrap_or_default();
            match part_types.first() {
                Some(first) if part_types.iter().all(|t| t == first) => (*first).clone(),
                _ => json!(ANY_TYPE),
            }
        };
    schema.insert("type".to_owned(), inferred);
}

/// Whether a resolved schema describes a JSON object (and only that).
pub(super) fn is_object_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().all(|t| t == "object" || t == "null"),
        Some(_) => false,
        None => {
            schema.get("properties").is_some()
                && schema.get("anyOf").is_none()
                && schema.get("oneOf").is_none()
        }
    }
}
