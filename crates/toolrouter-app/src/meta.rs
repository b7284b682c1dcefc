//! The session meta tools (`COMPOSIO_*`) as data: their descriptions and input schemas, written
//! for an LLM (CONTRACT.md §6.2–6.3), live in `meta_tools.json` in the toolkit definition format,
//! so a session lists them through the same conversion as every catalog tool. They are not in
//! the catalog (search never returns them); the format's `http` mapping is required but unused,
//! as meta tools are run by the server itself, by slug.
//!
//! Two parts depend on the session: `COMPOSIO_SEARCH_TOOLS` names the toolkits the session can
//! use, and the assistive prompt mentions only the meta tools the session exposes (workbench
//! lines are stripped when the workbench is off).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use toolrouter_catalog::ToolkitDef;
use toolrouter_core::session::{MetaTool, SessionConfig};

use crate::CatalogTool;

/// The definitions, parsed once. A test proves the file parses and covers every meta tool.
static DEFINITIONS: LazyLock<ToolkitDef> = LazyLock::new(|| {
    serde_json::from_str(include_str!("meta_tools.json"))
        .unwrap_or_else(|e| panic!("meta_tools.json does not parse: {e}"))
});

/// Placeholder in the search tool's description.
const TOOLKITS_PLACEHOLDER: &str = "{toolkits}";

/// How many toolkit names the search tool's description lists before summarising.
const MAX_NAMED_TOOLKITS: usize = 40;

/// `gmail, github, … and 12 more`.
pub(crate) fn toolkit_summary(slugs: &[String]) -> String {
    if slugs.is_empty() {
        return "none (the session's toolkit filter allows no toolkit)".to_owned();
    }
    let named = slugs
        .iter()
        .take(MAX_NAMED_TOOLKITS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match slugs.len().saturating_sub(MAX_NAMED_TOOLKITS) {
        0 => named,
        more => format!("{named} and {more} more"),
    }
}

/// Most built meta toolkits kept; sessions share a handful of (meta tools, toolkits) shapes.
const BUILT_MAX: usize = 512;

/// Built meta toolkits by what they depend on. Every tool listing, MCP request and session view
/// needs one, and building it clones the meta tools' schemas.
type BuiltKey = (Vec<MetaTool>, String);
static BUILT: LazyLock<Mutex<HashMap<BuiltKey, Arc<ToolkitDef>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The `composio` toolkit holding exactly `tools`, in that order, with the search tool naming
/// `toolkits` (the session's allowed toolkit slugs).
pub(crate) fn meta_toolkit(tools: &[MetaTool], toolkits: &[String]) -> Arc<ToolkitDef> {
    let key = (tools.to_vec(), toolkit_summary(toolkits));
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(toolkit) = built.get(&key) {
        return Arc::clone(toolkit);
    }
    let toolkit = build_meta_toolkit(&key.0, &key.1);
    if built.len() >= BUILT_MAX {
        built.clear();
    }
    built.insert(key, Arc::clone(&toolkit));
    toolkit
}

fn build_meta_toolkit(tools: &[MetaTool], summary: &str) -> Arc<ToolkitDef> {
    let defs = &*DEFINITIONS;
    // Every field but the tools, which are cloned one by one below.
    let mut toolkit = ToolkitDef {
        slug: defs.slug.clone(),
        name: defs.name.clone(),
        description: defs.description.clone(),
        categories: defs.categories.clone(),
        logo: defs.logo.clone(),
        base_url: defs.base_url.clone(),
        auth_schemes: defs.auth_schemes.clone(),
        headers: defs.headers.clone(),
        version: defs.version.clone(),
        tools: Vec::with_capacity(tools.len()),
    };
    for m in tools {
        if let Some(def) = defs.tools.iter().find(|t| t.slug == m.slug()) {
            let mut def = def.clone();
            def.description = def.description.replace(TOOLKITS_PLACEHOLDER, summary);
            toolkit.tools.push(def);
        }
    }
    Arc::new(toolkit)
}

/// The meta tools of [`meta_toolkit`] as listable tools.
pub(crate) fn meta_tools(tools: &[MetaTool], toolkits: &[String]) -> Vec<CatalogTool> {
    let toolkit = meta_toolkit(tools, toolkits);
    (0..toolkit.tools.len())
        .filter_map(|i| CatalogTool::new(toolkit.clone(), i))
        .collect()
}

/// The assistive system prompt of a session: how to use the meta tools it exposes.
pub(crate) fn assistive_prompt(config: &SessionConfig) -> String {
    let meta = config.meta_tools();
    let has = |m: MetaTool| meta.contains(&m);
    let mut lines =
        vec!["You can act in the user's apps through tools. Work like this:".to_owned()];
    let mut step = 1;
    let mut push_step = |lines: &mut Vec<String>, text: &str| {
        lines.push(format!("{step}. {text}"));
        step += 1;
    };
    if has(MetaTool::SearchTools) {
        push_step(
            &mut lines,
            "Call COMPOSIO_SEARCH_TOOLS with one use case per step of the task to find the right \
             tools and their input schemas. Do not guess tool slugs or arguments.",
        );
    }
    if has(MetaTool::ManageConnections) {
        push_step(
            &mut lines,
            "If a toolkit you need is not connected, call COMPOSIO_MANAGE_CONNECTIONS and show the \
             user the link it returns; continue once they have connected.",
        );
    }
    if has(MetaTool::WaitForConnections) {
        push_step(
            &mut lines,
            "After sharing a connect link, call COMPOSIO_WAIT_FOR_CONNECTIONS to wait for the user \
             to finish.",
        );
    }
    if has(MetaTool::MultiExecuteTool) {
        push_step(
            &mut lines,
            "Run tools with COMPOSIO_MULTI_EXECUTE_TOOL, several in one call when they do not \
             depend on each other.",
        );
    } else {
        push_step(
            &mut lines,
            "Call the tools you were given directly, with arguments matching their schemas.",
        );
    }
    if has(MetaTool::RemoteWorkbench) {
        lines.push(
            "For large results or bulk work, use COMPOSIO_REMOTE_WORKBENCH (Python) and \
             COMPOSIO_REMOTE_BASH_TOOL in the session's sandbox; files under /mnt/files/ persist \
             for the session."
                .to_owned(),
        );
    }
    if has(MetaTool::ProxyExecute) {
        lines.push(
            "For an API endpoint no tool covers, COMPOSIO_PROXY_EXECUTE makes an authenticated \
             request to a connected app."
                .to_owned(),
        );
    }
    if has(MetaTool::SubmitFeedback) {
        lines.push(
            "If a tool returns an empty or wrong result, report it with COMPOSIO_SUBMIT_FEEDBACK."
                .to_owned(),
        );
    }
    if let Some(tz) = &config.experimental.user_timezone {
        lines.push(format!(
            "The user's time zone is {tz}; read and write dates and times in it."
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolrouter_core::session::{ConfigChange, Field, change::WorkbenchChange};

    #[test]
    fn definitions_cover_every_meta_tool_with_llm_ready_schemas() {
        let defs = &*DEFINITIONS;
        assert_eq!(defs.slug, MetaTool::TOOLKIT);
        let slugs: Vec<&str> = defs.tools.iter().map(|t| t.slug.as_str()).collect();
        let all: Vec<&str> = MetaTool::ALL.iter().map(|m| m.slug()).collect();
        assert_eq!(slugs, all);
        for t in &defs.tools {
            assert!(t.description.len() > 80, "{}: describe it", t.slug);
            let input = t.input.value();
            assert_eq!(input["type"], "object", "{}", t.slug);
            let props = input["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{}: properties", t.slug));
            for r in input["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                assert!(
                    props.contains_key(r),
                    "{}: required `{r}` is not a property",
                    t.slug
                );
            }
            for (name, p) in props {
                assert!(
                    p.get("type").is_some() || name == "results" || p.get("description").is_some(),
                    "{}.{name}",
                    t.slug
                );
            }
        }
    }

    #[test]
    fn the_search_tool_names_the_session_toolkits() {
        let tools = meta_tools(
            &[MetaTool::SearchTools, MetaTool::RemoteBashTool],
            &["gmail".to_owned(), "github".to_owned()],
        );
        let slugs: Vec<&str> = tools.iter().map(|t| t.tool().slug.as_str()).collect();
        assert_eq!(
            slugs,
            ["COMPOSIO_SEARCH_TOOLS", "COMPOSIO_REMOTE_BASH_TOOL"]
        );
        assert!(
            tools[0]
                .tool()
                .description
                .ends_with("Toolkits available in this session: gmail, github."),
            "{}",
            tools[0].tool().description
        );
        let many: Vec<String> = (0..45).map(|i| format!("tk{i}")).collect();
        assert!(toolkit_summary(&many).ends_with("tk39 and 5 more"));
    }

    #[test]
    fn the_assistive_prompt_follows_the_exposed_meta_tools() {
        let default = SessionConfig::new("u");
        expect_test::expect![[r#"
            You can act in the user's apps through tools. Work like this:
            1. Call COMPOSIO_SEARCH_TOOLS with one use case per step of the task to find the right tools and their input schemas. Do not guess tool slugs or arguments.
            2. If a toolkit you need is not connected, call COMPOSIO_MANAGE_CONNECTIONS and show the user the link it returns; continue once they have connected.
            3. Run tools with COMPOSIO_MULTI_EXECUTE_TOOL, several in one call when they do not depend on each other.
            For large results or bulk work, use COMPOSIO_REMOTE_WORKBENCH (Python) and COMPOSIO_REMOTE_BASH_TOOL in the session's sandbox; files under /mnt/files/ persist for the session."#]]
        .assert_eq(&assistive_prompt(&default));

        let mut no_workbench = SessionConfig::create(
            "u",
            &ConfigChange {
                workbench: Field::Set(WorkbenchChange {
                    enable: Field::Set(false),
                    ..WorkbenchChange::default()
                }),
                ..ConfigChange::default()
            },
        )
        .unwrap();
        no_workbench.experimental.user_timezone = Some("America/New_York".into());
        let prompt = assistive_prompt(&no_workbench);
        assert!(!prompt.contains("WORKBENCH"), "{prompt}");
        assert!(!prompt.contains("BASH"), "{prompt}");
        assert!(prompt.ends_with(
            "The user's time zone is America/New_York; read and write dates and times in it."
        ));
    }
}
