//! Semantic checks on toolkit definitions, run once at load.
//!
//! Every problem names the file, the tool (when there is one) and the field, so that an operator
//! with a bad `--toolkits-dir` file knows exactly what to fix. All problems of a file are
//! collected, not just the first.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::model::{AuthKind, ParamLocation, ToolDef, ToolkitDef};

/// Longest tool slug accepted (the contract's limit, and within MCP clients' 64).
pub const MAX_TOOL_SLUG_LEN: usize = 60;

/// Built-in request transforms a definition may name in `http.transform`, with the arguments
/// each one produces (which `http.params` may then place). The exec crate implements each one
/// (and tests that it does).
pub const KNOWN_TRANSFORMS: &[(&str, &[&str])] = &[("gmail_raw_message", &["raw"])];

fn transform_outputs(name: Option<&str>) -> &'static [&'static str] {
    KNOWN_TRANSFORMS
        .iter()
        .find(|(n, _)| Some(*n) == name)
        .map(|(_, outs)| *outs)
        .unwrap_or(&[])
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub tool: Option<String>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(tool) = &self.tool {
            write!(f, ": tool {tool}")?;
        }
        write!(f, ": field `{}`: {}", self.field, self.message)
    }
}

struct Checker<'a> {
    file: &'a str,
    tool: Option<&'a str>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            tool: self.tool.map(str::to_owned),
            field: field.into(),
            message: message.into(),
        });
    }
}

fn is_lower_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_upper_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `{name}` and `{+name}` placeholders of a template, without braces or `+`.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 1..start + len];
        out.push(inner.strip_prefix('+').unwrap_or(inner));
        rest = &rest[start + len + 1..];
    }
    out
}

/// Checks one toolkit. `file` is used only in messages.
pub fn check_toolkit(file: &str, def: &ToolkitDef) -> Vec<Problem> {
    let mut c = Checker {
        file,
        tool: None,
        problems: Vec::new(),
    };
    if !is_lower_slug(&def.slug) {
        c.report("slug", format!("`{}` must match [a-z0-9_]+", def.slug));
    }
    if def.name.trim().is_empty() {
        c.report("name", "must not be empty");
    }
    if def.description.trim().is_empty() {
        c.report("description", "must not be empty");
    }
    if !(def.base_url.starts_with("https://") || def.base_url.starts_with("http://")) {
        c.report("base_url", "must be an absolute http(s) URL");
    }
    check_auth(&mut c, def);
    if def.tools.is_empty() {
        c.report("tools", "a toolkit needs at least one tool");
    }
    let prefix = format!("{}_", def.slug.to_ascii_uppercase());
    let mut seen = BTreeSet::new();
    for (i, tool) in def.tools.iter().enumerate() {
        if !seen.insert(tool.slug.as_str()) {
            c.tool = None;
            c.report(
                format!("tools[{i}].slug"),
                format!("duplicate slug {}", tool.slug),
            );
        }
        check_tool(&mut c, &prefix, tool);
    }
    c.problems
}

fn check_auth(c: &mut Checker<'_>, def: &ToolkitDef) {
    let mut kinds = BTreeSet::new();
    for (i, scheme) in def.auth_schemes.iter().enumerate() {
        let at = format!("auth_schemes[{i}]");
        if !kinds.insert(scheme.kind) {
            c.report(&at, format!("{} declared twice", scheme.kind.as_str()));
        }
        let fields: BTreeSet<&str> = scheme.fields.iter().map(|f| f.name.as_str()).collect();
        for f in &scheme.fields {
            if !is_lower_slug(&f.name) {
                c.report(
                    format!("{at}.fields"),
                    format!("`{}` must match [a-z0-9_]+", f.name),
                );
            }
        }
        match scheme.kind {
            AuthKind::Oauth2 => {
                if scheme.oauth2.is_none() {
                    c.report(
                        format!("{at}.oauth2"),
                        "OAUTH2 needs authorize_url and token_url",
                    );
                }
                if scheme.inject.is_empty() {
                    c.report(format!("{at}.inject"), "say where the access token goes");
                }
            }
            AuthKind::Basic => {
                for needed in ["username", "password"] {
                    if !fields.contains(needed) {
                        c.report(
                            format!("{at}.fields"),
                            format!("BASIC needs a `{needed}` field"),
                        );
                    }
                }
            }
            AuthKind::ApiKey | AuthKind::BearerToken => {
                if scheme.inject.is_empty() {
                    c.report(format!("{at}.inject"), "say where the key goes");
                }
            }
            AuthKind::NoAuth => {}
        }
        if scheme.kind != AuthKind::Oauth2 && scheme.oauth2.is_some() {
            c.report(
                format!("{at}.oauth2"),
                "only OAUTH2 schemes take oauth2 settings",
            );
        }
        for (j, inj) in scheme.inject.iter().enumerate() {
            for ph in placeholders(&inj.value) {
                let known = fields.contains(ph)
                    || (scheme.kind == AuthKind::Oauth2 && ph == "access_token");
                if !known {
                    c.report(
                        format!("{at}.inject[{j}].value"),
                        format!("placeholder {{{ph}}} is not a field of this scheme"),
                    );
                }
            }
        }
        if scheme.kind != AuthKind::NoAuth {
            for ph in placeholders(&def.base_url) {
                let field = scheme.fields.iter().find(|f| f.name == ph);
                match field {
                    None => c.report(
                        "base_url",
                        format!(
                            "placeholder {{{ph}}} is not a field of {}",
                            scheme.kind.as_str()
                        ),
                    ),
                    Some(f) if f.secret => c.report(
                        "base_url",
                        format!("placeholder {{{ph}}} must not be a secret field"),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
}

fn check_tool<'a>(c: &mut Checker<'a>, prefix: &str, tool: &'a ToolDef) {
    c.tool = Some(&tool.slug);
    if !is_upper_slug(&tool.slug) || !tool.slug.starts_with(prefix) {
        c.report(
            "slug",
            format!("must be UPPER_SNAKE and start with {prefix}"),
        );
    }
    if tool.slug.len() > MAX_TOOL_SLUG_LEN {
        c.report(
            "slug",
            format!("longer than {MAX_TOOL_SLUG_LEN} characters"),
        );
    }
    if tool.name.trim().is_empty() {
        c.report("name", "must not be empty");
    }
    if tool.description.trim().len() < 20 {
        c.report("description", "write at least a sentence an LLM can act on");
    }
    // A one-off pass at load: a fresh tree, dropped after the checks.
    let input = tool.input.parse();
    let props = match check_object_schema(c, "input", &input) {
        Some(p) => p,
        None => return,
    };
    if !tool.output.is_object() {
        c.report("output", "must be a JSON Schema object");
    }
    let required: BTreeSet<&str> = input
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for r in &required {
        if !props.contains(r) {
            c.report("input.required", format!("`{r}` is not a property"));
        }
    }
    let http = &tool.http;
    if !http.path.starts_with('/') {
        c.report("http.path", "must start with /");
    }
    let mut mapped = BTreeSet::new();
    let mut body_root = 0;
    let produced = transform_outputs(http.transform.as_deref());
    for (i, p) in http.params.iter().enumerate() {
        if !props.contains(p.arg.as_str()) && !produced.contains(&p.arg.as_str()) {
            c.report(
                format!("http.params[{i}].arg"),
                format!("`{}` is not an input property", p.arg),
            );
        }
        if !mapped.insert(p.arg.as_str()) {
            c.report(
                format!("http.params[{i}].arg"),
                format!("`{}` mapped twice", p.arg),
            );
        }
        if p.location == ParamLocation::BodyRoot {
            body_root += 1;
        }
    }
    if body_root > 1 {
        c.report("http.params", "at most one argument can be the whole body");
    }
    for ph in placeholders(&http.path) {
        if !props.contains(ph) {
            c.report(
                "http.path",
                format!("placeholder {{{ph}}} is not an input property"),
            );
        } else if !required.contains(ph) {
            c.report(
                "input.required",
                format!("path parameter `{ph}` must be required"),
            );
        }
        if let Some(p) = http.params.iter().find(|p| p.arg == ph)
            && p.location != ParamLocation::Path
        {
            c.report(
                "http.params",
                format!("`{ph}` is in the path template but mapped elsewhere"),
            );
        }
    }
    if let Some(t) = &http.transform
        && !KNOWN_TRANSFORMS.iter().any(|(n, _)| n == t)
    {
        let known: Vec<&str> = KNOWN_TRANSFORMS.iter().map(|(n, _)| *n).collect();
        c.report(
            "http.transform",
            format!("unknown transform `{t}` (known: {})", known.join(", ")),
        );
    }
    if let Some(b) = &http.const_body
        && !b.is_object()
    {
        c.report("http.const_body", "must be a JSON object");
    }
    if let Some(pg) = &http.pagination
        && !props.contains(pg.param.as_str())
    {
        c.report(
            "http.pagination.param",
            format!("`{}` is not an input property", pg.param),
        );
    }
    if !http.response.root.is_empty() && !http.response.root.starts_with('/') {
        c.report(
            "http.response.root",
            "must be a JSON pointer starting with /",
        );
    }
}

/// Checks that `schema` is `{"type":"object", "properties": {...}}` and returns the property
/// names.
fn check_object_schema<'s>(
    c: &mut Checker<'_>,
    field: &str,
    schema: &'s Value,
) -> Option<BTreeSet<&'s str>> {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        c.report(field, "must be a JSON Schema with \"type\": \"object\"");
        return None;
    }
    let props = match schema.get("properties") {
        None => return Some(BTreeSet::new()),
        Some(Value::Object(m)) => m,
        Some(_) => {
            c.report(format!("{field}.properties"), "must be an object");
            return None;
        }
    };
    for (name, prop) in props {
        let has_type = prop.get("type").is_some()
            || prop.get("anyOf").is_some()
            || prop.get("oneOf").is_some()
            || prop.get("$ref").is_some()
            || prop.get("enum").is_some();
        if !has_type {
            c.report(format!("{field}.properties.{name}"), "needs a `type`");
        }
        if prop.get("description").and_then(Value::as_str).is_none() {
            c.report(
                format!("{field}.properties.{name}.description"),
                "describe the argument for the LLM",
            );
        }
    }
    Some(props.keys().map(String::as_str).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use serde::Deserialize;

    fn check(json: &Value, expected: &Expect) {
        let def = ToolkitDef::deserialize(json).expect("parses");
        let got: Vec<String> = check_toolkit("t.json", &def)
            .iter()
            .map(ToString::to_string)
            .collect();
        expected.assert_eq(&got.join("\n"));
    }

    fn toolkit(tool: &Value) -> Value {
        serde_json::json!({
            "slug": "demo", "name": "Demo", "description": "A demo service.",
            "base_url": "https://api.demo.test",
            "auth_schemes": [{"type": "API_KEY", "fields": [{"name": "api_key", "display_name": "API key", "secret": true}],
                              "inject": [{"in": "header", "name": "X-Key", "value": "{api_key}"}]}],
            "tools": [tool]
        })
    }

    #[test]
    fn a_good_tool_has_no_problems() {
        check(
            &toolkit(&serde_json::json!({
                "slug": "DEMO_GET_ITEM", "name": "Get item", "description": "Fetch one item by its id.",
                "input": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "description": "Item id."}}},
                "http": {"method": "GET", "path": "/items/{id}"}
            })),
            &expect![""],
        );
    }

    #[test]
    fn problems_name_file_tool_and_field() {
        check(
            &toolkit(&serde_json::json!({
                "slug": "OTHER_GET_ITEM", "name": "Get item", "description": "short",
                "input": {"type": "object", "properties": {"id": {"type": "string"}}},
                "http": {"method": "GET", "path": "/items/{id}/{missing}", "transform": "nope",
                         "params": [{"arg": "ghost", "in": "query"}]}
            })),
            &expect![[r#"
                t.json: tool OTHER_GET_ITEM: field `slug`: must be UPPER_SNAKE and start with DEMO_
                t.json: tool OTHER_GET_ITEM: field `description`: write at least a sentence an LLM can act on
                t.json: tool OTHER_GET_ITEM: field `input.properties.id.description`: describe the argument for the LLM
                t.json: tool OTHER_GET_ITEM: field `http.params[0].arg`: `ghost` is not an input property
                t.json: tool OTHER_GET_ITEM: field `input.required`: path parameter `id` must be required
                t.json: tool OTHER_GET_ITEM: field `http.path`: placeholder {missing} is not an input property
                t.json: tool OTHER_GET_ITEM: field `http.transform`: unknown transform `nope` (known: gmail_raw_message)"#]],
        );
    }

    #[test]
    fn placeholders_are_found() {
        assert_eq!(placeholders("/a/{x}/b/{+path}"), vec!["x", "path"]);
        assert!(placeholders("/plain").is_empty());
    }
}
