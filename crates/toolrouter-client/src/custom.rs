//! Custom tools: Rust functions with typed arguments that a session offers to the model next
//! to its server-side tools, and that run in this process when the model calls them
//! (CONTRACT.md §3.10).
//!
//! The argument type's JSON Schema (from `schemars`) becomes the tool's `input_schema`; the
//! server only indexes the definition for search and assigns the final slug
//! (`LOCAL_<TOOL>`, `LOCAL_<EXTENDS_TOOLKIT>_<TOOL>` or `LOCAL_<TOOLKIT>_<TOOL>`). A call of a
//! custom tool is answered here and never reaches the server's execute: [`Routes`] maps both
//! the final slug and (when unambiguous) the slug as defined to the handler, case-insensitively,
//! as the official SDKs do.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use toolrouter_api::session::{
    AttachExperimental, CustomToolRequest, CustomToolkitRequest, SessionExperimental,
};

use crate::error::Error;
use crate::session::{Session, ToolResult};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler = Arc<dyn Fn(Value, ToolContext) -> BoxFuture<Result<Value, ToolError>> + Send + Sync>;

/// Why a custom tool failed; the model sees the message as the result's `error`.
///
/// Any `std::error::Error` converts into it, so `?` works in handlers; use
/// [`ToolError::msg`] for a plain message.
pub struct ToolError(String);

impl ToolError {
    pub fn msg(message: impl fmt::Display) -> ToolError {
        ToolError(message.to_string())
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

// Deliberately not `std::error::Error`, so that every error type can convert into it.
impl<E: std::error::Error + Send + Sync + 'static> From<E> for ToolError {
    fn from(e: E) -> Self {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        ToolError(message)
    }
}

impl fmt::Debug for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ToolError({:?})", self.0)
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a custom tool's handler can reach: the session it runs in, e.g. to execute other
/// tools with the user's connected accounts.
#[derive(Debug, Clone)]
pub struct ToolContext {
    session: Session,
}

impl ToolContext {
    pub(crate) fn new(session: Session) -> Self {
        ToolContext { session }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn session_id(&self) -> &str {
        self.session.id()
    }

    pub fn user_id(&self) -> &str {
        self.session.user_id()
    }

    /// Executes a tool in the session (as [`Session::execute`]).
    pub async fn execute(&self, slug: &str, arguments: Value) -> Result<ToolResult, Error> {
        // Boxed: a handler's future holds this one, and `execute`'s future can hold a handler's,
        // so keeping them apart keeps every future small.
        Box::pin(self.session.execute(slug, arguments)).await
    }
}

/// A tool implemented by a Rust function.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use serde_json::json;
/// use toolrouter_client::{CustomTool, ToolError};
///
/// #[derive(Deserialize, JsonSchema)]
/// struct GrepInput {
///     /// Pattern to search for
///     pattern: String,
/// }
///
/// let grep = CustomTool::new(
///     "GREP",
///     "Search for a pattern in local files.",
///     |input: GrepInput, _ctx| async move {
///         if input.pattern.is_empty() {
///             return Err(ToolError::msg("the pattern is empty"));
///         }
///         Ok(json!({"matches": []}))
///     },
/// );
/// assert_eq!(grep.definition().name, "Grep");
/// ```
#[derive(Clone)]
pub struct CustomTool {
    def: CustomToolRequest,
    handler: Handler,
}

impl fmt::Debug for CustomTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomTool")
            .field("def", &self.def)
            .finish_non_exhaustive()
    }
}

impl CustomTool {
    /// A tool `slug` (letters, digits, `_`, `-`; not starting with `LOCAL_` or `COMPOSIO_`)
    /// whose arguments are an `A` (a struct) and which runs `handler`. Its display name is
    /// derived from the slug (`GET_EMAILS` → "Get Emails"); see [`CustomTool::name`].
    pub fn new<A, F, Fut, T>(
        slug: impl Into<String>,
        description: impl Into<String>,
        handler: F,
    ) -> CustomTool
    where
        A: DeserializeOwned + JsonSchema,
        F: Fn(A, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ToolError>> + Send + 'static,
        T: Serialize,
    {
        let slug = slug.into();
        let for_errors = slug.clone();
        let handler: Handler = Arc::new(move |args: Value, ctx: ToolContext| {
            match serde_json::from_value::<A>(args) {
                Ok(args) => {
                    let fut = handler(args, ctx);
                    Box::pin(async move {
                        let out = fut.await?;
                        Ok(serde_json::to_value(out)?)
                    })
                }
                Err(e) => {
                    let e = ToolError::msg(format!("invalid arguments for {for_errors}: {e}"));
                    Box::pin(std::future::ready(Err(e)))
                }
            }
        });
        CustomTool {
            def: CustomToolRequest {
                name: display_name(&slug),
                slug,
                description: description.into(),
                input_schema: schema_of::<A>(),
                output_schema: None,
                extends_toolkit: None,
                preload: None,
            },
            handler,
        }
    }

    /// The display name shown to the model and in search results.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.def.name = name.into();
        self
    }

    /// Makes the tool part of a Composio toolkit (e.g. `gmail`), using that toolkit's
    /// connection; its final slug becomes `LOCAL_<TOOLKIT>_<SLUG>`.
    pub fn extends_toolkit(mut self, toolkit: impl Into<String>) -> Self {
        self.def.extends_toolkit = Some(toolkit.into());
        self
    }

    /// List the tool directly in `session.tools()`, not only through search.
    pub fn preload(mut self, on: bool) -> Self {
        self.def.preload = Some(on);
        self
    }

    /// Describes the result (`O`'s JSON Schema) to the server's search.
    pub fn output_schema<O: JsonSchema>(mut self) -> Self {
        self.def.output_schema = Some(schema_of::<O>());
        self
    }

    pub fn slug(&self) -> &str {
        &self.def.slug
    }

    /// The definition sent to the server.
    pub fn definition(&self) -> &CustomToolRequest {
        &self.def
    }

    /// Runs the tool here, turning its outcome into a result the model can read.
    pub(crate) async fn run(&self, arguments: Value, ctx: ToolContext) -> ToolResult {
        match (self.handler)(arguments, ctx).await {
            Ok(data) => ToolResult::local(data, None),
            Err(e) => ToolResult::local(json!({}), Some(e.0)),
        }
    }
}

/// A group of custom tools under one toolkit of their own (no authentication).
#[derive(Debug, Clone)]
pub struct CustomToolkit {
    slug: String,
    name: String,
    description: String,
    preload: Option<bool>,
    tools: Vec<CustomTool>,
}

impl CustomToolkit {
    pub fn new(
        slug: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> CustomToolkit {
        CustomToolkit {
            slug: slug.into(),
            name: name.into(),
            description: description.into(),
            preload: None,
            tools: Vec::new(),
        }
    }

    /// Adds a tool; its `extends_toolkit` is ignored (the tool belongs to this toolkit).
    pub fn tool(mut self, tool: CustomTool) -> Self {
        self.tools.push(tool);
        self
    }

    /// List every tool of the toolkit directly in `session.tools()`.
    pub fn preload(mut self, on: bool) -> Self {
        self.preload = Some(on);
        self
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }

    fn definition(&self) -> CustomToolkitRequest {
        CustomToolkitRequest {
            slug: self.slug.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            preload: self.preload,
            tools: self
                .tools
                .iter()
                .map(|t| CustomToolRequest {
                    extends_toolkit: None,
                    ..t.def.clone()
                })
                .collect(),
        }
    }
}

/// `GET_IMPORTANT_EMAILS` → `Get Important Emails` (what the Python SDK derives).
fn display_name(slug: &str) -> String {
    slug.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `A`'s JSON Schema as an `input_schema`: an object schema without the `$schema` and root
/// `title` noise (the SDKs send none either).
fn schema_of<A: JsonSchema>() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(A)).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut schema {
        m.remove("$schema");
        m.remove("title");
        if m.get("type").and_then(Value::as_str) == Some("object") {
            m.entry("properties").or_insert_with(|| json!({}));
        }
    }
    schema
}

/// The custom tools and toolkits of a session (what was defined, with the handlers).
#[derive(Debug, Clone, Default)]
pub(crate) struct CustomSet {
    pub(crate) tools: Vec<CustomTool>,
    pub(crate) toolkits: Vec<CustomToolkit>,
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl CustomSet {
    pub(crate) fn is_empty(&self) -> bool {
        self.tools.is_empty() && self.toolkits.is_empty()
    }

    /// The definitions as sent on create, attach, and every search and execute.
    pub(crate) fn definitions(&self) -> AttachExperimental {
        AttachExperimental {
            custom_tools: (!self.tools.is_empty())
                .then(|| self.tools.iter().map(|t| t.def.clone()).collect()),
            custom_toolkits: (!self.toolkits.is_empty()).then(|| {
                self.toolkits
                    .iter()
                    .map(CustomToolkit::definition)
                    .collect()
            }),
        }
    }

    /// The definitions, or `None` when the session has no custom tools.
    pub(crate) fn experimental(&self) -> Option<AttachExperimental> {
        (!self.is_empty()).then(|| self.definitions())
    }

    /// Refuses what the server would refuse, before anything is sent, with the tool named.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |what: String| Err(Error::Config(what));
        let check_tool = |t: &CustomTool| -> Result<(), Error> {
            let d = &t.def;
            if !valid_slug(&d.slug) {
                return bad(format!(
                    "custom tool slug {:?} may only contain letters, digits, '_' and '-'",
                    d.slug
                ));
            }
            let upper = d.slug.to_ascii_uppercase();
            if upper.starts_with("LOCAL_") || upper.starts_with("COMPOSIO_") {
                return bad(format!(
                    "custom tool slug {:?} may not start with LOCAL_ or COMPOSIO_ (the server adds LOCAL_)",
                    d.slug
                ));
            }
            if d.name.is_empty() || d.name.chars().count() > 128 {
                return bad(format!(
                    "custom tool {}: the name needs 1 to 128 characters",
                    d.slug
                ));
            }
            if d.description.is_empty() || d.description.chars().count() > 5120 {
                return bad(format!(
                    "custom tool {}: the description needs 1 to 5120 characters",
                    d.slug
                ));
            }
            if d.input_schema.get("type").and_then(Value::as_str) != Some("object") {
                return bad(format!(
                    "custom tool {}: the argument type must be a struct (a JSON object schema)",
                    d.slug
                ));
            }
            Ok(())
        };
        for t in &self.tools {
            check_tool(t)?;
        }
        for k in &self.toolkits {
            if !valid_slug(&k.slug) {
                return bad(format!(
                    "custom toolkit slug {:?} may only contain letters, digits, '_' and '-'",
                    k.slug
                ));
            }
            if k.name.is_empty() || k.name.chars().count() > 128 {
                return bad(format!(
                    "custom toolkit {}: the name needs 1 to 128 characters",
                    k.slug
                ));
            }
            if k.description.is_empty() || k.description.chars().count() > 2048 {
                return bad(format!(
                    "custom toolkit {}: the description needs 1 to 2048 characters",
                    k.slug
                ));
            }
            if k.tools.is_empty() || k.tools.len() > 100 {
                return bad(format!("custom toolkit {} needs 1 to 100 tools", k.slug));
            }
            for t in &k.tools {
                check_tool(t)?;
            }
        }
        let routes = Routes::build(self, None, false);
        let mut seen = HashMap::new();
        for r in &routes.entries {
            if let Some(other) = seen.insert(r.slug.clone(), r.tool.slug()) {
                return bad(format!(
                    "custom tools {other} and {} would both be {}",
                    r.tool.slug(),
                    r.slug
                ));
            }
        }
        Ok(())
    }
}

/// One routable custom tool.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// The final slug (`LOCAL_…`), as the model sees it.
    pub(crate) slug: String,
    pub(crate) tool: CustomTool,
    /// `(slug, name)` of the toolkit it is listed under.
    pub(crate) toolkit: (String, String),
    pub(crate) preload: bool,
}

/// Where a tool name leads, when it is a custom tool.
#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    pub(crate) entries: Vec<Route>,
    /// Upper-cased final slug → entry.
    by_final: HashMap<String, usize>,
    /// Upper-cased slug as defined → entry, or `None` when two tools share it.
    by_original: HashMap<String, Option<usize>>,
}

/// `LOCAL_` + the parts, upper-cased, at most 60 characters (the server's rule, used when its
/// answer does not say).
fn local_slug(parts: &[&str]) -> String {
    let mut s = String::from("LOCAL");
    for p in parts {
        s.push('_');
        s.push_str(&p.to_ascii_uppercase());
    }
    s.chars().take(60).collect()
}

impl Routes {
    /// Routes for `set`, with the final slugs the server assigned (`echo`, from the create or
    /// attach answer) where it gave them. `preload_all` is the session's `preload.tools ==
    /// "all"`, which lists every custom tool directly.
    pub(crate) fn build(
        set: &CustomSet,
        echo: Option<&SessionExperimental>,
        preload_all: bool,
    ) -> Routes {
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let mut routes = Routes::default();
        for t in &set.tools {
            let echoed = echo
                .and_then(|e| e.custom_tools.as_ref())
                .and_then(|list| list.iter().find(|e| eq(&e.original_slug, &t.def.slug)));
            let slug = echoed.map_or_else(
                || match &t.def.extends_toolkit {
                    Some(k) => local_slug(&[k, &t.def.slug]),
                    None => local_slug(&[&t.def.slug]),
                },
                |e| e.slug.clone(),
            );
            let toolkit = t.def.extends_toolkit.clone().map_or_else(
                || ("custom".to_owned(), "Custom".to_owned()),
                |k| (k.clone(), k),
            );
            routes.push(Route {
                slug,
                tool: t.clone(),
                toolkit,
                preload: preload_all || t.def.preload == Some(true),
            });
        }
        for k in &set.toolkits {
            let echoed_kit = echo
                .and_then(|e| e.custom_toolkits.as_ref())
                .and_then(|list| list.iter().find(|e| eq(&e.slug, &k.slug)));
            for t in &k.tools {
                let echoed = echoed_kit
                    .and_then(|e| e.tools.iter().find(|e| eq(&e.original_slug, &t.def.slug)));
                let slug =
                    echoed.map_or_else(|| local_slug(&[&k.slug, &t.def.slug]), |e| e.slug.clone());
                routes.push(Route {
                    slug,
                    tool: t.clone(),
                    toolkit: (k.slug.to_ascii_lowercase(), k.name.clone()),
                    preload: preload_all || k.preload == Some(true) || t.def.preload == Some(true),
                });
            }
        }
        routes
    }

    fn push(&mut self, route: Route) {
        let i = self.entries.len();
        self.by_final.insert(route.slug.to_ascii_uppercase(), i);
        self.by_original
            .entry(route.tool.slug().to_ascii_uppercase())
            .and_modify(|e| *e = None)
            .or_insert(Some(i));
        self.entries.push(route);
    }

    /// The custom tool a name the model used refers to: its final slug, or the slug as
    /// defined when only one tool has it; case does not matter.
    pub(crate) fn find(&self, name: &str) -> Option<&Route> {
        let upper = name.to_ascii_uppercase();
        self.by_final
            .get(&upper)
            .copied()
            .or_else(|| self.by_original.get(&upper).copied().flatten())
            .map(|i| &self.entries[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use toolrouter_api::session::{CustomToolEcho, CustomToolkitEcho};

    #[derive(Deserialize, JsonSchema)]
    struct Pattern {
        /// Pattern to search for
        pattern: String,
    }

    fn tool(slug: &str) -> CustomTool {
        CustomTool::new(slug, "Does a thing.", |p: Pattern, _ctx| async move {
            Ok(json!({ "got": p.pattern }))
        })
    }

    #[test]
    fn definitions_have_the_sdk_shape() {
        let set = CustomSet {
            tools: vec![
                tool("GREP"),
                tool("get_important_emails")
                    .extends_toolkit("gmail")
                    .preload(true),
            ],
            toolkits: vec![
                CustomToolkit::new("DEV_TOOLS", "Dev Tools", "Local dev utilities")
                    .tool(tool("SEARCH_CODE").extends_toolkit("ignored")),
            ],
        };
        set.validate().unwrap();
        expect_test::expect![[r#"
            {
              "custom_toolkits": [
                {
                  "description": "Local dev utilities",
                  "name": "Dev Tools",
                  "slug": "DEV_TOOLS",
                  "tools": [
                    {
                      "description": "Does a thing.",
                      "input_schema": {
                        "properties": {
                          "pattern": {
                            "description": "Pattern to search for",
                            "type": "string"
                          }
                        },
                        "required": [
                          "pattern"
                        ],
                        "type": "object"
                      },
                      "name": "Search Code",
                      "slug": "SEARCH_CODE"
                    }
                  ]
                }
              ],
              "custom_tools": [
                {
                  "description": "Does a thing.",
                  "input_schema": {
                    "properties": {
                      "pattern": {
                        "description": "Pattern to search for",
                        "type": "string"
                      }
                    },
                    "required": [
                      "pattern"
                    ],
                    "type": "object"
                  },
                  "name": "Grep",
                  "slug": "GREP"
                },
                {
                  "description": "Does a thing.",
                  "extends_toolkit": "gmail",
                  "input_schema": {
                    "properties": {
                      "pattern": {
                        "description": "Pattern to search for",
                        "type": "string"
                      }
                    },
                    "required": [
                      "pattern"
                    ],
                    "type": "object"
                  },
                  "name": "Get Important Emails",
                  "preload": true,
                  "slug": "get_important_emails"
                }
              ]
            }"#]]
        .assert_eq(
            &serde_json::to_string_pretty(&serde_json::to_value(set.definitions()).unwrap())
                .unwrap(),
        );
    }

    #[test]
    fn what_the_server_would_refuse_is_refused_first() {
        let refuse = |set: CustomSet| set.validate().unwrap_err().to_string();
        let one = |t: CustomTool| CustomSet {
            tools: vec![t],
            toolkits: vec![],
        };
        assert_eq!(
            refuse(one(tool("local_grep"))),
            "invalid configuration: custom tool slug \"local_grep\" may not start with LOCAL_ or COMPOSIO_ (the server adds LOCAL_)"
        );
        assert_eq!(
            refuse(one(tool("has space"))),
            "invalid configuration: custom tool slug \"has space\" may only contain letters, digits, '_' and '-'"
        );
        let not_object = CustomTool::new("N", "d", |_: u32, _ctx| async move { Ok(0) });
        assert_eq!(
            refuse(one(not_object)),
            "invalid configuration: custom tool N: the argument type must be a struct (a JSON object schema)"
        );
        let twice = CustomSet {
            tools: vec![tool("GREP"), tool("grep")],
            toolkits: vec![],
        };
        assert_eq!(
            refuse(twice),
            "invalid configuration: custom tools GREP and grep would both be LOCAL_GREP"
        );
        let empty_kit = CustomSet {
            tools: vec![],
            toolkits: vec![CustomToolkit::new("K", "K", "k")],
        };
        assert_eq!(
            refuse(empty_kit),
            "invalid configuration: custom toolkit K needs 1 to 100 tools"
        );
    }

    #[test]
    fn routes_use_the_servers_slugs_and_fall_back_to_the_rule() {
        let set = CustomSet {
            tools: vec![tool("GREP"), tool("IMPORTANT").extends_toolkit("gmail")],
            toolkits: vec![CustomToolkit::new("dev", "Dev", "d").tool(tool("GREP"))],
        };
        let echo_tool = |slug: &str, original: &str| CustomToolEcho {
            slug: slug.into(),
            name: "n".into(),
            description: "d".into(),
            input_schema: json!({}),
            output_schema: None,
            extends_toolkit: None,
            original_slug: original.into(),
            preload: None,
        };
        let echo = SessionExperimental {
            assistive_prompt: None,
            custom_tools: Some(vec![echo_tool("LOCAL_GREP_V2", "GREP")]),
            custom_toolkits: Some(vec![CustomToolkitEcho {
                slug: "DEV".into(),
                name: "Dev".into(),
                description: "d".into(),
                tools: vec![echo_tool("LOCAL_DEV_GREP", "grep")],
                preload: None,
            }]),
            no_elicitation_support_fallback: None,
        };
        let routes = Routes::build(&set, Some(&echo), false);
        let slugs: Vec<_> = routes.entries.iter().map(|r| r.slug.as_str()).collect();
        assert_eq!(
            slugs,
            ["LOCAL_GREP_V2", "LOCAL_GMAIL_IMPORTANT", "LOCAL_DEV_GREP"]
        );
        assert_eq!(routes.find("local_dev_grep").unwrap().toolkit.0, "dev");
        // Two tools were defined as GREP: the short name is ambiguous, so it routes nowhere.
        assert!(routes.find("GREP").is_none());
        assert_eq!(
            routes.find("important").unwrap().slug,
            "LOCAL_GMAIL_IMPORTANT"
        );
        assert!(routes.find("GMAIL_SEND_EMAIL").is_none());
    }

    #[tokio::test]
    async fn bad_arguments_and_handler_errors_become_failed_results() {
        let t = CustomTool::new("T", "d", |p: Pattern, _ctx| async move {
            let n: u32 = p.pattern.parse()?;
            Ok(json!({ "n": n }))
        });
        let ctx = ToolContext::new(Session::detached_for_tests());
        let ok = t.run(json!({"pattern": "7"}), ctx.clone()).await;
        assert_eq!(
            ok.to_model_json(),
            json!({"data": {"n": 7}, "error": null, "successful": true})
        );
        let failed = t.run(json!({"pattern": "x"}), ctx.clone()).await;
        assert_eq!(
            failed.error.as_deref(),
            Some("invalid digit found in string")
        );
        assert!(!failed.successful);
        let bad = t.run(json!({"nope": 1}), ctx).await;
        assert_eq!(
            bad.error.as_deref(),
            Some("invalid arguments for T: missing field `pattern`")
        );
    }

    #[test]
    fn names_come_from_slugs() {
        assert_eq!(display_name("GET_IMPORTANT_EMAILS"), "Get Important Emails");
        assert_eq!(display_name("grep"), "Grep");
        assert_eq!(display_name("search-code__x"), "Search Code X");
    }
}
