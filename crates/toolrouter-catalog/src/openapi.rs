//! OpenAPI 3.0/3.1 import (Swagger 2.0 is converted first): turns an API description into a
//! toolkit definition, reporting per operation what cannot be imported.
//!
//! Nothing is dropped silently: an operation that cannot be expressed as a tool is listed in
//! [`ImportReport::skipped`] with the reason, and every lossy simplification of an imported
//! operation (a dropped optional parameter, an ignored security scheme, a truncated schema) is a
//! warning. Without [`ImportOptions::allow_partial`], any skipped operation fails the import so a
//! caller never writes a toolkit that quietly lacks part of the API.
//!
//! Schema size: `$ref`s are inlined, so a generated schema can grow far beyond its source (Stripe's
//! expandable objects nest without end). Input schemas are cut below 8 nesting levels or after
//! 800 schema nodes, output schemas below 3 levels or after 150 nodes; a cut subschema keeps its
//! `type` and gets a note in its `description`, and the operation gets a warning. Recursive
//! references are cut where they recur, with a note.

mod auth;
#[cfg(test)]
mod bench_specs;
mod operation;
mod resolve;
mod swagger2;
#[cfg(test)]
mod tests;
mod text;

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::model::{AuthKind, AuthScheme, ToolkitDef};
use crate::validate::{self, Problem};

/// How to import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Import the operations that can be imported and list the others in the report, instead of
    /// failing with [`ImportError::Partial`].
    pub allow_partial: bool,
    /// Base URL of the API. Replaces the document's `servers[0]`; needed when that is relative or
    /// missing.
    pub base_url: Option<String>,
    /// Display name of the toolkit (default: the document's `info.title`).
    pub name: Option<String>,
}

/// The result of an import: the toolkit and what did not make it in.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub toolkit: ToolkitDef,
    /// Number of operations that became tools (`toolkit.tools.len()`).
    pub imported: usize,
    /// Operations that could not be imported, in document order (paths sorted).
    pub skipped: Vec<SkippedOperation>,
    /// Lossy simplifications, each naming the operations it affects.
    pub warnings: Vec<String>,
}

/// An operation that is not in the toolkit, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedOperation {
    /// Upper case (`GET`), or `*` when a whole path item could not be read.
    pub method: String,
    pub path: String,
    pub operation_id: Option<String>,
    pub reason: String,
}

impl fmt::Display for SkippedOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(id) = &self.operation_id {
            write!(f, " ({id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Why an import produced no toolkit.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The value is not an OpenAPI or Swagger document this importer understands.
    #[error("{0}")]
    Document(String),
    #[error("toolkit slug `{0}` must match [a-z0-9_]+")]
    InvalidSlug(String),
    /// No usable absolute base URL.
    #[error("{0}")]
    BaseUrl(String),
    /// Some operations cannot be imported and `allow_partial` was not set. The report says which
    /// and why, and holds the toolkit of the others.
    #[error("{}", partial_message(.0))]
    Partial(Box<ImportReport>),
    /// Not a single operation could be imported.
    #[error("{}", nothing_message(.0))]
    NothingImported(Box<ImportReport>),
    /// The generated toolkit fails validation: a bug of the importer, reported rather than hidden.
    #[error("the generated toolkit does not validate:\n{}", problem_lines(.0))]
    Invalid(Vec<Problem>),
}

fn skipped_lines(report: &ImportReport) -> String {
    report
        .skipped
        .iter()
        .map(|s| format!("  {s}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn partial_message(report: &ImportReport) -> String {
    format!(
        "{} of {} operations cannot be imported (import with allow_partial to leave them out):\n{}",
        report.skipped.len(),
        report.skipped.len() + report.imported,
        skipped_lines(report)
    )
}

fn nothing_message(report: &ImportReport) -> String {
    if report.skipped.is_empty() {
        "the document has no operations under `paths`".to_owned()
    } else {
        format!(
            "none of the {} operations can be imported:\n{}",
            report.skipped.len(),
            skipped_lines(report)
        )
    }
}

fn problem_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Turns an OpenAPI 3.0/3.1 (or Swagger 2.0) document into a toolkit named `slug`.
pub fn import(doc: &Value, slug: &str, opts: &ImportOptions) -> Result<ImportReport, ImportError> {
    let slug_ok = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !slug_ok {
        return Err(ImportError::InvalidSlug(slug.to_owned()));
    }
    let mut warnings = Warnings::default();
    let converted;
    let doc = match spec_version(doc, &mut warnings)? {
        SpecVersion::Swagger2 => {
            converted = swagger2::convert(doc, &mut warnings);
            &converted
        }
        SpecVersion::OpenApi3 => doc,
    };
    let info = doc.get("info").and_then(Value::as_object);
    let title = info
        .and_then(|i| i.get("title"))
        .and_then(Value::as_str)
        .map(text::one_line)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| slug.to_owned());
    let base_url = base_url(doc, opts)?;
    let operations = operations(doc);
    let mut skipped: Vec<SkippedOperation> = operations.unreadable;
    let auth = auth::import(doc, &operations.found, &base_url, &mut warnings);

    let doc_server = doc
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
        .and_then(|s| server_url(s).ok());
    let ctx = operation::Context {
        doc,
        base_url: &base_url,
        doc_server: doc_server.as_deref(),
        api_title: &title,
        auth: &auth,
    };
    let mut slugs = text::SlugAllocator::new(slug);
    let mut tools = Vec::new();
    for op in &operations.found {
        let tool_slug = slugs.allocate(&op.id_or_fallback());
        match operation::build(&ctx, op, tool_slug, &mut warnings) {
            Ok(tool) => tools.push(tool),
            Err(reason) => skipped.push(SkippedOperation {
                method: op.method.to_ascii_uppercase(),
                path: op.path.to_owned(),
                operation_id: op.operation_id().map(str::to_owned),
                reason,
            }),
        }
    }
    auth.warn_unscoped(&operations.found, &mut warnings);
    skipped.sort_by(|a, b| a.path.cmp(&b.path));

    let toolkit = ToolkitDef {
        slug: slug.to_owned(),
        name: opts.name.clone().unwrap_or_else(|| title.clone()),
        description: toolkit_description(info, &title),
        categories: Vec::new(),
        logo: info
            .and_then(|i| i.get("x-logo"))
            .and_then(|l| l.get("url"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        base_url,
        auth_schemes: if auth.schemes.is_empty() {
            vec![AuthScheme {
                kind: AuthKind::NoAuth,
                oauth2: None,
                fields: Vec::new(),
                inject: Vec::new(),
            }]
        } else {
            auth.schemes.clone()
        },
        headers: Default::default(),
        version: "1.0.0".to_owned(),
        tools,
    };
    let report = ImportReport {
        imported: toolkit.tools.len(),
        toolkit,
        skipped,
        warnings: warnings.finish(),
    };
    if report.imported == 0 {
        return Err(ImportError::NothingImported(Box::new(report)));
    }
    let problems = validate::check_toolkit(&format!("{slug}.json"), &report.toolkit);
    if !problems.is_empty() {
        return Err(ImportError::Invalid(problems));
    }
    if !report.skipped.is_empty() && !opts.allow_partial {
        return Err(ImportError::Partial(Box::new(report)));
    }
    Ok(report)
}

enum SpecVersion {
    OpenApi3,
    Swagger2,
}

fn spec_version(doc: &Value, warnings: &mut Warnings) -> Result<SpecVersion, ImportError> {
    if !doc.is_object() {
        return Err(ImportError::Document(
            "an OpenAPI document must be a JSON object".to_owned(),
        ));
    }
    if let Some(v) = doc.get("openapi") {
        let v = v.as_str().unwrap_or_default();
        if v.starts_with("3.0") || v.starts_with("3.1") {
            return Ok(SpecVersion::OpenApi3);
        }
        if v.starts_with("3.") {
            warnings.doc(format!("OpenAPI {v} is newer than 3.1; imported as 3.1"));
            return Ok(SpecVersion::OpenApi3);
        }
        return Err(ImportError::Document(format!(
            "unsupported OpenAPI version `{v}` (this importer reads 3.0, 3.1 and Swagger 2.0)"
        )));
    }
    match doc.get("swagger").and_then(Value::as_str) {
        Some("2.0") => Ok(SpecVersion::Swagger2),
        Some(v) => Err(ImportError::Document(format!(
            "unsupported Swagger version `{v}` (this importer reads Swagger 2.0, OpenAPI 3.0 and 3.1)"
        ))),
        None => Err(ImportError::Document(
            "not an OpenAPI document: neither `openapi` nor `swagger` is set".to_owned(),
        )),
    }
}

/// The toolkit's base URL: `opts.base_url`, else `servers[0]` with its variables at their defaults.
fn base_url(doc: &Value, opts: &ImportOptions) -> Result<String, ImportError> {
    if let Some(url) = &opts.base_url {
        let url = url.trim_end_matches('/');
        if !is_absolute(url) {
            return Err(ImportError::BaseUrl(format!(
                "base URL `{url}` must be an absolute http(s) URL without placeholders"
            )));
        }
        return Ok(url.to_owned());
    }
    let Some(server) = doc
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
    else {
        return Err(ImportError::BaseUrl(
            "the document has no `servers` entry: give the API's base URL explicitly".to_owned(),
        ));
    };
    let url = server_url(server).map_err(ImportError::BaseUrl)?;
    if !is_absolute(&url) {
        return Err(ImportError::BaseUrl(format!(
            "the document's server URL `{url}` is relative: give the API's absolute base URL explicitly"
        )));
    }
    Ok(url)
}

fn is_absolute(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://")) && !url.contains('{')
}

/// A server object's URL with every `{variable}` replaced by its default, without a trailing `/`.
fn server_url(server: &Value) -> Result<String, String> {
    let template = server.get("url").and_then(Value::as_str).unwrap_or("/");
    let vars = server.get("variables").and_then(Value::as_object);
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        let value = vars
            .and_then(|v| v.get(name))
            .and_then(|v| v.get("default"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!("server URL `{template}`: variable `{name}` has no default value")
            })?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out.trim_end_matches('/').to_owned())
}

fn toolkit_description(info: Option<&Map<String, Value>>, title: &str) -> String {
    let text = info
        .and_then(|i| i.get("description"))
        .and_then(Value::as_str)
        .map(text::clean)
        .unwrap_or_default();
    let first = text.split("\n\n").next().unwrap_or_default().trim();
    if first.is_empty() {
        format!("{title}, imported from its OpenAPI description.")
    } else {
        text::truncate(first, text::MAX_DESCRIPTION)
    }
}

/// HTTP methods of a path item, in the order operations are imported.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation found under `paths`.
#[derive(Debug)]
struct FoundOperation<'d> {
    path: &'d str,
    /// Lower case, as in the document.
    method: &'static str,
    item: &'d Map<String, Value>,
    op: &'d Map<String, Value>,
}

impl FoundOperation<'_> {
    fn operation_id(&self) -> Option<&str> {
        self.op
            .get("operationId")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    }

    /// The operation id, or `method path` for an operation without one.
    fn id_or_fallback(&self) -> String {
        match self.operation_id() {
            Some(id) => id.to_owned(),
            None => format!("{} {}", self.method, self.path),
        }
    }

    /// How warnings name this operation.
    fn label(&self) -> String {
        match self.operation_id() {
            Some(id) => id.to_owned(),
            None => format!("{} {}", self.method.to_ascii_uppercase(), self.path),
        }
    }
}

#[derive(Debug)]
struct Operations<'d> {
    found: Vec<FoundOperation<'d>>,
    unreadable: Vec<SkippedOperation>,
}

/// Every operation of the document, paths sorted so that the result does not depend on how the
/// JSON parser orders object keys.
fn operations(doc: &Value) -> Operations<'_> {
    let mut out = Operations {
        found: Vec::new(),
        unreadable: Vec::new(),
    };
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    let mut keys: Vec<&String> = paths.keys().collect();
    keys.sort();
    for path in keys {
        let item = match resolve::deref(doc, &paths[path.as_str()]) {
            Ok(Value::Object(item)) => item,
            Ok(_) => continue,
            Err(reason) => {
                out.unreadable.push(SkippedOperation {
                    method: "*".to_owned(),
                    path: path.clone(),
                    operation_id: None,
                    reason: format!("path item: {reason}"),
                });
                continue;
            }
        };
        for method in METHODS {
            if let Some(Value::Object(op)) = item.get(method) {
                out.found.push(FoundOperation {
                    path,
                    method,
                    item,
                    op,
                });
            }
        }
    }
    out
}

/// Warnings, with identical messages merged into one that lists the operations it affects.
#[derive(Debug, Default)]
struct Warnings {
    entries: Vec<(String, Vec<String>)>,
    index: HashMap<String, usize>,
}

impl Warnings {
    /// A warning about the document as a whole.
    fn doc(&mut self, message: impl Into<String>) {
        self.entry(message.into());
    }

    /// A warning about one operation.
    fn op(&mut self, label: &str, message: impl Into<String>) {
        let i = self.entry(message.into());
        let ops = &mut self.entries[i].1;
        if ops.last().map(String::as_str) != Some(label) {
            ops.push(label.to_owned());
        }
    }

    fn entry(&mut self, message: String) -> usize {
        if let Some(&i) = self.index.get(&message) {
            return i;
        }
        let i = self.entries.len();
        self.index.insert(message.clone(), i);
        self.entries.push((message, Vec::new()));
        i
    }

    fn finish(self) -> Vec<String> {
        self.entries
            .into_iter()
            .map(|(message, ops)| match ops.len() {
                0 => message,
                1 => format!("{}: {message}", ops[0]),
                n => format!("{message} ({n} operations: {})", ops.join(", ")),
            })
            .collect()
    }
}
