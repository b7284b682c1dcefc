//! What a session configuration allows: which app tools ([`SessionConfig::allows_tool`]), which
//! meta tools it exposes ([`SessionConfig::meta_tools`]), and which tools are listed directly
//! ([`SessionConfig::preloaded`]).
//!
//! The rules, in order, for an app tool of toolkit `T`:
//! 1. `toolkits`: `T` must be in the allowlist, or not in the denylist (no setting: any toolkit).
//! 2. `tools.T`: an `enable` list admits exactly those tools (it is explicit, so tag filters do
//!    not apply to it); a `disable` list removes those tools and the global `tags` filter the
//!    rest; a `tags` filter replaces the global one for `T`.
//! 3. `tags` (global): a tool must carry at least one `enabled` tag and no `disabled` one.
//!    Tags are the tool's MCP annotation hints, compared case-insensitively.

use std::collections::HashMap;

use super::{
    Instant, ListFilter, MultiAccountConfig, Preload, SessionConfig, Tag, TagFilter, ToolSelection,
};

/// The facts about a catalog tool the filters look at.
#[derive(Debug, Clone, Copy)]
pub struct ToolInfo<'a> {
    pub toolkit: &'a str,
    pub slug: &'a str,
    pub tags: &'a [String],
}

/// The most tools `preload.tools: "all"` lists.
pub const PRELOAD_ALL_CAP: usize = 1000;

/// The session helpers the server exposes as tools (CONTRACT.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetaTool {
    SearchTools,
    GetToolSchemas,
    MultiExecuteTool,
    ManageConnections,
    WaitForConnections,
    RemoteWorkbench,
    RemoteBashTool,
    ProxyExecute,
    SubmitFeedback,
}

impl MetaTool {
    /// Every meta tool, in the order sessions list them.
    pub const ALL: [MetaTool; 9] = [
        MetaTool::SearchTools,
        MetaTool::GetToolSchemas,
        MetaTool::MultiExecuteTool,
        MetaTool::ManageConnections,
        MetaTool::WaitForConnections,
        MetaTool::RemoteWorkbench,
        MetaTool::RemoteBashTool,
        MetaTool::ProxyExecute,
        MetaTool::SubmitFeedback,
    ];

    /// The toolkit slug meta tools are listed under.
    pub const TOOLKIT: &'static str = "composio";

    pub fn slug(self) -> &'static str {
        match self {
            MetaTool::SearchTools => "COMPOSIO_SEARCH_TOOLS",
            MetaTool::GetToolSchemas => "COMPOSIO_GET_TOOL_SCHEMAS",
            MetaTool::MultiExecuteTool => "COMPOSIO_MULTI_EXECUTE_TOOL",
            MetaTool::ManageConnections => "COMPOSIO_MANAGE_CONNECTIONS",
            MetaTool::WaitForConnections => "COMPOSIO_WAIT_FOR_CONNECTIONS",
            MetaTool::RemoteWorkbench => "COMPOSIO_REMOTE_WORKBENCH",
            MetaTool::RemoteBashTool => "COMPOSIO_REMOTE_BASH_TOOL",
            MetaTool::ProxyExecute => "COMPOSIO_PROXY_EXECUTE",
            MetaTool::SubmitFeedback => "COMPOSIO_SUBMIT_FEEDBACK",
        }
    }

    /// Case-insensitive.
    pub fn parse(slug: &str) -> Option<MetaTool> {
        MetaTool::ALL
            .into_iter()
            .find(|m| m.slug().eq_ignore_ascii_case(slug.trim()))
    }
}

pub(super) fn has_tag(tags: &[String], tag: Tag) -> bool {
    tags.iter().any(|t| t.eq_ignore_ascii_case(tag.as_str()))
}

impl TagFilter {
    /// Whether a tool with `tags` passes: one of `enabled` (when set) and none of `disabled`.
    pub fn admits(&self, tags: &[String]) -> bool {
        let enabled = self
            .enabled
            .as_ref()
            .is_none_or(|want| want.iter().any(|t| has_tag(tags, *t)));
        let disabled = self
            .disabled
            .as_ref()
            .is_some_and(|not| not.iter().any(|t| has_tag(tags, *t)));
        enabled && !disabled
    }

    /// Whether it selects positively (bounds a preload of "all").
    fn is_positive(&self) -> bool {
        self.enabled.as_ref().is_some_and(|e| !e.is_empty())
    }
}

impl SessionConfig {
    /// Rule 1 of the module documentation.
    pub fn allows_toolkit(&self, toolkit: &str) -> bool {
        match self.toolkits.as_ref().and_then(|t| t.filter.as_ref()) {
            None => true,
            Some(ListFilter::Enabled(l)) => l.iter().any(|s| s.eq_ignore_ascii_case(toolkit)),
            Some(ListFilter::Disabled(l)) => !l.iter().any(|s| s.eq_ignore_ascii_case(toolkit)),
        }
    }

    /// Whether the session may use this app tool (every rule of the module documentation).
    pub fn allows_tool(&self, tool: &ToolInfo<'_>) -> bool {
        if !self.allows_toolkit(tool.toolkit) {
            return false;
        }
        let global = |tags: &[String]| self.tags.as_ref().is_none_or(|f| f.admits(tags));
        let named = |l: &[String]| l.iter().any(|s| s.eq_ignore_ascii_case(tool.slug));
        match self
            .tools
            .get(&tool.toolkit.to_ascii_lowercase())
            .and_then(|t| t.selection.as_ref())
        {
            Some(ToolSelection::Enabled(l)) => named(l),
            Some(ToolSelection::Disabled(l)) => !named(l) && global(tool.tags),
            Some(ToolSelection::Tags(f)) => f.admits(tool.tags),
            None => global(tool.tags),
        }
    }

    /// Whether some setting selects tools positively: a toolkit allowlist, a tool allowlist, or
    /// an enabled tag.
    pub fn has_positive_filter(&self) -> bool {
        let toolkits = matches!(
            self.toolkits.as_ref().and_then(|t| t.filter.as_ref()),
            Some(ListFilter::Enabled(_))
        );
        let tools = self.tools.values().any(|t| match &t.selection {
            Some(ToolSelection::Enabled(_)) => true,
            Some(ToolSelection::Tags(f)) => f.is_positive(),
            _ => false,
        });
        let tags = self.tags.as_ref().is_some_and(TagFilter::is_positive);
        toolkits || tools || tags
    }

    /// The meta tools this session exposes, in listing order (CONTRACT.md §6.1).
    pub fn meta_tools(&self) -> Vec<MetaTool> {
        let mc = &self.manage_connections;
        MetaTool::ALL
            .into_iter()
            .filter(|m| match m {
                MetaTool::SearchTools | MetaTool::GetToolSchemas => self.search != Some(false),
                MetaTool::MultiExecuteTool => self.multi_execute != Some(false),
                MetaTool::ManageConnections => mc.enabled,
                MetaTool::WaitForConnections => mc.enabled && mc.wait_for_connections,
                MetaTool::RemoteWorkbench | MetaTool::RemoteBashTool => self.workbench.enabled,
                MetaTool::ProxyExecute => self.proxy_execute == Some(true),
                MetaTool::SubmitFeedback => self.experimental.submit_feedback == Some(true),
            })
            .collect()
    }

    /// The app tools listed directly, given the catalog in its order: the explicit list as
    /// given, or for "all" every allowed tool — toolkits in the order of `toolkits.enable`,
    /// tools in the order of their toolkit's `enable` list, catalog order otherwise — at most
    /// [`PRELOAD_ALL_CAP`].
    pub fn preloaded<'a>(&self, catalog: impl IntoIterator<Item = ToolInfo<'a>>) -> Vec<String> {
        match &self.preload {
            Preload::Tools(list) => list.clone(),
            Preload::All => {
                let toolkit_rank =
                    |tk: &str| match self.toolkits.as_ref().and_then(|t| t.filter.as_ref()) {
                        Some(ListFilter::Enabled(l)) => {
                            l.iter().position(|s| s.eq_ignore_ascii_case(tk))
                        }
                        _ => None,
                    };
                let tool_rank = |t: &ToolInfo<'_>| match self
                    .tools
                    .get(&t.toolkit.to_ascii_lowercase())
                    .and_then(|x| x.selection.as_ref())
                {
                    Some(ToolSelection::Enabled(l)) => {
                        l.iter().position(|s| s.eq_ignore_ascii_case(t.slug))
                    }
                    _ => None,
                };
                // Unranked sorts last; a toolkit's tools stay together, at its first position.
                let rank = |r: Option<usize>| r.unwrap_or(usize::MAX);
                let mut first_seen: HashMap<&str, usize> = HashMap::new();
                let mut allowed: Vec<([usize; 4], &str)> = Vec::new();
                for (i, t) in catalog.into_iter().enumerate() {
                    let seen = *first_seen.entry(t.toolkit).or_insert(i);
                    if self.allows_tool(&t) {
                        let key = [rank(toolkit_rank(t.toolkit)), seen, rank(tool_rank(&t)), i];
                        allowed.push((key, t.slug));
                    }
                }
                allowed.sort_by_key(|(key, _)| *key);
                allowed
                    .into_iter()
                    .take(PRELOAD_ALL_CAP)
                    .map(|(_, slug)| slug.to_owned())
                    .collect()
            }
        }
    }

    /// Whether the agent may use more than one account per toolkit.
    pub fn multi_account_enabled(&self) -> bool {
        self.multi_account
            .as_ref()
            .is_some_and(|m: &MultiAccountConfig| m.enabled)
    }

    /// Whether instant usage is on (its restrictions are applied where shared accounts exist).
    pub fn instant_enabled(&self) -> bool {
        matches!(self.instant, Instant::Enabled(_))
    }
}
