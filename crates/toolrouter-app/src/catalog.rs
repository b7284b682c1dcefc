//! The tool catalog as a use case: the loaded toolkits (built in and operator-supplied), the
//! search index over their tools, and the listings, lookups and filters the API serves.
//!
//! The index is built once when the catalog is loaded and updated incrementally when toolkits
//! are added ([`ToolCatalog::add`]); nothing is rebuilt per query. Catalog and index sit behind
//! one lock so a reader always sees the two agree; readers copy out `Arc`s and let go at once.
//!
//! Every toolkit is the same for all projects today; project-local toolkits will be a filter
//! here (`ManagedBy::Project`), not a change to callers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use toolrouter_catalog::search::{SearchDoc, SearchIndex};
use toolrouter_catalog::{Catalog, ToolDef, ToolRef, ToolkitDef};
use toolrouter_core::{ErrorCode, Timestamp};

use crate::page::{Page, PageRequest};
use crate::{AppError, AppResult};

/// The tag that marks a tool as one of its toolkit's important ones.
pub const IMPORTANT_TAG: &str = "important";

/// A tool of the catalog with its toolkit. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CatalogTool {
    toolkit: Arc<ToolkitDef>,
    index: usize,
}

impl CatalogTool {
    fn at(catalog: &Catalog, r: ToolRef) -> CatalogTool {
        CatalogTool {
            toolkit: catalog.toolkits()[r.toolkit].clone(),
            index: r.tool,
        }
    }

    /// Tool `index` of `toolkit`, for tools that are not in the catalog (a session's meta
    /// tools), so they are shown like every other tool.
    pub fn new(toolkit: Arc<ToolkitDef>, index: usize) -> Option<CatalogTool> {
        (index < toolkit.tools.len()).then_some(CatalogTool { toolkit, index })
    }

    pub fn toolkit(&self) -> &Arc<ToolkitDef> {
        &self.toolkit
    }

    pub fn tool(&self) -> &ToolDef {
        &self.toolkit.tools[self.index]
    }
}

/// A toolkit category: its slug (`id`, as definitions spell it) and a display name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Category {
    pub id: String,
    pub name: String,
}

impl Category {
    /// `developer-tools` → `Developer Tools`, `crm` → `CRM`.
    pub fn from_id(id: &str) -> Category {
        let name = id
            .split(['-', '_'])
            .filter(|w| !w.is_empty())
            .map(|w| {
                if ACRONYMS.contains(&w) {
                    return w.to_ascii_uppercase();
                }
                let mut chars = w.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_uppercase().chain(chars).collect::<String>()
                })
            })
            .collect::<Vec<_>>()
            .join(" ");
        Category {
            id: id.to_owned(),
            name,
        }
    }
}

/// Category words shown upper-case.
const ACRONYMS: &[&str] = &["ai", "api", "cms", "crm", "erp", "hr", "seo", "sms"];

/// How toolkits are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolkitSort {
    /// Catalog order (built-ins, then operator files). toolrouter keeps no usage statistics
    /// yet, so this is the stable order a usage ranking will later replace.
    #[default]
    Usage,
    /// By display name, then slug.
    Alphabetical,
}

/// Who maintains a toolkit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ManagedBy {
    #[default]
    All,
    /// The server's catalog: built-in and operator toolkits (Composio's `composio`).
    Server,
    /// Toolkits of the caller's project; there are none yet.
    Project,
}

/// Filters of a toolkit listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolkitQuery {
    /// A category id or name.
    pub category: Option<String>,
    /// Words that must all occur in the slug, name or description.
    pub search: Option<String>,
    pub sort: ToolkitSort,
    pub managed_by: ManagedBy,
}

/// Filters of a tool listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolQuery {
    /// Exactly these tools, in this order; every other filter is then ignored.
    pub tools: Vec<String>,
    /// Only tools of these toolkits.
    pub toolkits: Vec<String>,
    /// Only tools carrying at least one of these tags.
    pub tags: Vec<String>,
    /// Ranked by the search index instead of catalog order.
    pub search: Option<String>,
    /// Only important tools: those tagged [`IMPORTANT_TAG`], or every tool of a toolkit that
    /// tags none.
    pub important: bool,
}

#[derive(Debug)]
struct State {
    catalog: Catalog,
    index: SearchIndex,
}

/// The catalog the app serves. Built by the binary at start.
#[derive(Debug)]
pub struct ToolCatalog {
    state: RwLock<State>,
    base_urls: BTreeMap<String, String>,
    loaded_at: Timestamp,
}

fn search_docs(catalog: &Catalog) -> impl Iterator<Item = SearchDoc> + '_ {
    catalog
        .toolkits()
        .iter()
        .flat_map(|tk| tk.tools.iter().map(move |t| SearchDoc::from_tool(tk, t)))
}

fn has_tag(tool: &ToolDef, tag: &str) -> bool {
    tool.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
}

fn toolkit_not_found(slug: &str) -> AppError {
    AppError::not_found("toolkit", slug)
        .with_fix("See the available toolkits with GET /api/v3.1/toolkits.")
}

fn tools_not_found(slugs: &[&str]) -> AppError {
    let fix = "See the available tools with GET /api/v3.1/tools or /api/v3.1/tools/enum.";
    match slugs {
        [one] => AppError::new(ErrorCode::NotFound, format!("tool {one} not found")).with_fix(fix),
        many => AppError::new(
            ErrorCode::NotFound,
            format!("{} tools not found: {}", many.len(), many.join(", ")),
        )
        .with_fix(fix)
        .with_errors(many.iter().map(|s| format!("tool {s} not found")).collect()),
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

/// Non-empty, trimmed search text.
fn search_text(search: Option<&str>) -> Option<&str> {
    search.map(str::trim).filter(|s| !s.is_empty())
}

impl ToolCatalog {
    /// Indexes `catalog`. `base_urls` maps toolkit slugs to the base URL their tools are sent to
    /// instead of the definition's (local stand-ins in tests, a proxy or a regional endpoint).
    pub fn new(catalog: Catalog, base_urls: BTreeMap<String, String>) -> AppResult<ToolCatalog> {
        let mut problems = Vec::new();
        for (slug, url) in &base_urls {
            if catalog.toolkit(slug).is_none() {
                problems.push(format!(
                    "toolkit_base_urls: no toolkit `{slug}` in the catalog"
                ));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push(format!(
                    "toolkit_base_urls.{slug}: `{url}` is not an absolute http(s) URL"
                ));
            }
        }
        if !problems.is_empty() {
            return Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!("invalid toolkit base URL overrides: {}", problems.join("; ")),
            )
            .with_fix("Name toolkits by slug (`toolrouter toolkits list`) and give absolute http(s) URLs.")
            .with_errors(problems));
        }
        let index = SearchIndex::build(search_docs(&catalog));
        let base_urls = base_urls
            .into_iter()
            .map(|(slug, url)| (slug, url.trim_end_matches('/').to_owned()))
            .collect();
        Ok(ToolCatalog {
            state: RwLock::new(State { catalog, index }),
            base_urls,
            loaded_at: Timestamp::now(),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic under the write lock leaves either the old or the new state, both usable.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds toolkits, indexing their tools incrementally. All or nothing: on a clash with a
    /// loaded toolkit or tool, nothing changes and every problem is listed.
    pub fn add(&self, more: Catalog) -> AppResult<()> {
        let docs: Vec<SearchDoc> = search_docs(&more).collect();
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let mut merged = state.catalog.clone();
        if let Err(e) = merged.merge(more) {
            let errors: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("toolkits cannot be added: {}", errors.join("; ")),
            )
            .with_errors(errors));
        }
        for doc in &docs {
            state.index.upsert(doc);
        }
        state.catalog = merged;
        Ok(())
    }

    /// When this catalog was loaded; toolkits report it as their creation and update time.
    pub fn loaded_at(&self) -> Timestamp {
        self.loaded_at
    }

    pub fn toolkit_count(&self) -> usize {
        self.read().catalog.toolkits().len()
    }

    pub fn tool_count(&self) -> usize {
        self.read().catalog.tool_count()
    }

    /// The base URL a toolkit's requests go to: the operator's override, else the definition's.
    pub fn base_url(&self, toolkit: &str) -> Option<String> {
        if let Some(url) = self.base_urls.get(toolkit) {
            return Some(url.clone());
        }
        self.read()
            .catalog
            .toolkit(toolkit)
            .map(|tk| tk.base_url.clone())
    }

    /// Every toolkit, in catalog order (a snapshot: the `Arc`s stay valid when toolkits are
    /// added later).
    pub fn snapshot(&self) -> Vec<Arc<ToolkitDef>> {
        self.read().catalog.toolkits().to_vec()
    }

    /// A toolkit by slug (case-insensitive).
    pub fn toolkit(&self, slug: &str) -> AppResult<Arc<ToolkitDef>> {
        self.read()
            .catalog
            .toolkit(&slug.trim().to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| toolkit_not_found(slug))
    }

    /// A tool by slug (case-insensitive), if it exists.
    pub fn tool(&self, slug: &str) -> Option<CatalogTool> {
        let state = self.read();
        let slug = slug.trim().to_ascii_uppercase();
        state
            .catalog
            .tool_ref(&slug)
            .map(|r| CatalogTool::at(&state.catalog, r))
    }

    /// A tool by slug, at `version` when given (`latest` or the tool's own version: a
    /// definition has exactly one).
    pub fn tool_get(&self, slug: &str, version: Option<&str>) -> AppResult<CatalogTool> {
        let found = self.tool(slug).ok_or_else(|| tools_not_found(&[slug]))?;
        match version.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(found),
            Some(v) if v.eq_ignore_ascii_case("latest") || v == found.tool().version => Ok(found),
            Some(v) => Err(AppError::new(
                ErrorCode::NotFound,
                format!("tool {} has no version `{v}`", found.tool().slug),
            )
            .with_fix(format!(
                "Leave `version` out, or use `latest` or `{}`.",
                found.tool().version
            ))),
        }
    }

    /// Every tool slug, in catalog order.
    pub fn tool_slugs(&self) -> Vec<String> {
        let state = self.read();
        state
            .catalog
            .toolkits()
            .iter()
            .flat_map(|tk| tk.tools.iter().map(|t| t.slug.clone()))
            .collect()
    }

    /// Every category some toolkit declares, sorted by id.
    pub fn categories(&self) -> Vec<Category> {
        let state = self.read();
        let ids: BTreeSet<&str> = state
            .catalog
            .toolkits()
            .iter()
            .flat_map(|tk| tk.categories.iter().map(String::as_str))
            .collect();
        ids.into_iter().map(Category::from_id).collect()
    }

    /// A page of toolkits.
    pub fn toolkit_list(
        &self,
        query: &ToolkitQuery,
        page: &PageRequest,
    ) -> AppResult<Page<Arc<ToolkitDef>>> {
        if query.managed_by == ManagedBy::Project {
            return page.apply(Vec::new());
        }
        let category = query
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let wanted = search_text(query.search.as_deref())
            .map(words)
            .unwrap_or_default();
        let in_category = |tk: &ToolkitDef| {
            category.is_none_or(|c| {
                tk.categories.iter().any(|id| {
                    id.eq_ignore_ascii_case(c) || Category::from_id(id).name.eq_ignore_ascii_case(c)
                })
            })
        };
        let matches = |tk: &ToolkitDef| {
            let text = format!("{} {} {}", tk.slug, tk.name, tk.description).to_lowercase();
            wanted.iter().all(|w| text.contains(w.as_str()))
        };
        let mut all: Vec<Arc<ToolkitDef>> = self
            .read()
            .catalog
            .toolkits()
            .iter()
            .filter(|tk| in_category(tk) && matches(tk))
            .cloned()
            .collect();
        if query.sort == ToolkitSort::Alphabetical {
            all.sort_by(|a, b| {
                a.name
                    .to_lowercase()
                    .cmp(&b.name.to_lowercase())
                    .then_with(|| a.slug.cmp(&b.slug))
            });
        }
        page.apply(all)
    }

    /// The tools matching `text`, best first, at most `limit`, among those `allow` admits.
    pub fn search_tools(
        &self,
        text: &str,
        limit: usize,
        allow: &dyn Fn(&ToolkitDef, &ToolDef) -> bool,
    ) -> Vec<CatalogTool> {
        let state = self.read();
        let catalog = &state.catalog;
        let keep = |slug: &str| catalog.tool(slug).is_some_and(|(tk, t)| allow(tk, t));
        state
            .index
            .search(text, limit, &keep)
            .into_iter()
            .filter_map(|hit| catalog.tool_ref(&hit.slug))
            .map(|r| CatalogTool::at(catalog, r))
            .collect()
    }

    /// A page of tools.
    pub fn tool_list(&self, query: &ToolQuery, page: &PageRequest) -> AppResult<Page<CatalogTool>> {
        page.apply(self.matching_tools(query)?)
    }

    /// Every tool `query` selects, in the order it lists them.
    fn matching_tools(&self, query: &ToolQuery) -> AppResult<Vec<CatalogTool>> {
        let state = self.read();
        let catalog = &state.catalog;
        if !query.tools.is_empty() {
            let mut seen = BTreeSet::new();
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for slug in &query.tools {
                let upper = slug.trim().to_ascii_uppercase();
                match catalog.tool_ref(&upper) {
                    Some(r) if seen.insert(upper) => found.push(CatalogTool::at(catalog, r)),
                    Some(_) => {}
                    None => missing.push(slug.as_str()),
                }
            }
            return if missing.is_empty() {
                Ok(found)
            } else {
                Err(tools_not_found(&missing))
            };
        }

        let mut toolkits: BTreeSet<&str> = BTreeSet::new();
        for slug in &query.toolkits {
            let tk = catalog
                .toolkit(&slug.trim().to_ascii_lowercase())
                .ok_or_else(|| toolkit_not_found(slug))?;
            toolkits.insert(tk.slug.as_str());
        }
        // Per toolkit: whether it tags any tool important (else all of its tools are).
        let tags_important: HashMap<&str, bool> = if query.important {
            catalog
                .toolkits()
                .iter()
                .map(|tk| {
                    (
                        tk.slug.as_str(),
                        tk.tools.iter().any(|t| has_tag(t, IMPORTANT_TAG)),
                    )
                })
                .collect()
        } else {
            HashMap::new()
        };
        let keep = |tk: &ToolkitDef, tool: &ToolDef| {
            (toolkits.is_empty() || toolkits.contains(tk.slug.as_str()))
                && (query.tags.is_empty() || query.tags.iter().any(|t| has_tag(tool, t)))
                && (!query.important
                    || !tags_important
                        .get(tk.slug.as_str())
                        .copied()
                        .unwrap_or(false)
                    || has_tag(tool, IMPORTANT_TAG))
        };

        Ok(match search_text(query.search.as_deref()) {
            Some(text) => {
                let allow = |slug: &str| catalog.tool(slug).is_some_and(|(tk, t)| keep(tk, t));
                state
                    .index
                    .search(text, state.index.len(), &allow)
                    .into_iter()
                    .filter_map(|hit| catalog.tool_ref(&hit.slug))
                    .map(|r| CatalogTool::at(catalog, r))
                    .collect()
            }
            None => {
                let mut out = Vec::new();
                for (ti, tk) in catalog.toolkits().iter().enumerate() {
                    for (i, tool) in tk.tools.iter().enumerate() {
                        if keep(tk, tool) {
                            out.push(CatalogTool::at(
                                catalog,
                                ToolRef {
                                    toolkit: ti,
                                    tool: i,
                                },
                            ));
                        }
                    }
                }
                out
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toolkit(slug: &str, tools: &[(&str, &str, &[&str])]) -> (String, String) {
        let tools: Vec<serde_json::Value> = tools
            .iter()
            .map(|(tool, description, tags)| {
                serde_json::json!({
                    "slug": tool, "name": tool, "tags": tags,
                    "description": format!("{description} Returns what the service answers."),
                    "input": {"type": "object"}, "http": {"method": "GET", "path": "/x"}
                })
            })
            .collect();
        let def = serde_json::json!({
            "slug": slug, "name": slug.to_uppercase(), "description": format!("The {slug} service."),
            "categories": ["developer-tools"], "base_url": format!("https://{slug}.test"),
            "tools": tools
        });
        (format!("{slug}.json"), def.to_string())
    }

    fn catalog(sources: Vec<(String, String)>) -> ToolCatalog {
        ToolCatalog::new(Catalog::from_sources(sources).unwrap(), BTreeMap::new()).unwrap()
    }

    fn slugs(page: &Page<CatalogTool>) -> Vec<&str> {
        page.items.iter().map(|t| t.tool().slug.as_str()).collect()
    }

    fn all() -> PageRequest {
        PageRequest {
            limit: Some(1000),
            cursor: None,
        }
    }

    #[test]
    fn added_toolkits_are_searchable_without_a_rebuild() {
        let cat = catalog(vec![toolkit(
            "mail",
            &[("MAIL_SEND", "Send an email message.", &[])],
        )]);
        let q = ToolQuery {
            search: Some("weather forecast".into()),
            ..ToolQuery::default()
        };
        assert!(cat.tool_list(&q, &all()).unwrap().items.is_empty());

        let more = Catalog::from_sources(vec![toolkit(
            "weather",
            &[(
                "WEATHER_FORECAST",
                "Daily weather forecast for a city.",
                &[],
            )],
        )])
        .unwrap();
        cat.add(more).unwrap();
        assert_eq!(
            slugs(&cat.tool_list(&q, &all()).unwrap()),
            ["WEATHER_FORECAST"]
        );
        assert_eq!(cat.tool_count(), 2);

        // A clash changes nothing.
        let again =
            Catalog::from_sources(vec![toolkit("weather", &[("WEATHER_X", "X.", &[])])]).unwrap();
        let err = cat.add(again).unwrap_err();
        assert!(err.message.contains("already defined"), "{}", err.message);
        assert_eq!(cat.tool_count(), 2);
    }

    #[test]
    fn important_means_tagged_or_every_tool_of_a_toolkit_that_tags_none() {
        let cat = catalog(vec![
            toolkit(
                "a",
                &[("A_ONE", "One.", &["important"]), ("A_TWO", "Two.", &[])],
            ),
            toolkit("b", &[("B_ONE", "One.", &[]), ("B_TWO", "Two.", &[])]),
        ]);
        let q = ToolQuery {
            important: true,
            ..ToolQuery::default()
        };
        assert_eq!(
            slugs(&cat.tool_list(&q, &all()).unwrap()),
            ["A_ONE", "B_ONE", "B_TWO"]
        );
    }

    #[test]
    fn explicit_tool_slugs_keep_their_order_and_name_every_unknown_one() {
        let cat = catalog(vec![toolkit(
            "a",
            &[("A_ONE", "One.", &[]), ("A_TWO", "Two.", &[])],
        )]);
        let q = ToolQuery {
            tools: vec!["a_two".into(), "A_ONE".into(), "A_TWO".into()],
            toolkits: vec!["ignored".into()],
            ..ToolQuery::default()
        };
        assert_eq!(
            slugs(&cat.tool_list(&q, &all()).unwrap()),
            ["A_TWO", "A_ONE"]
        );
        let q = ToolQuery {
            tools: vec!["A_X".into(), "A_ONE".into(), "A_Y".into()],
            ..ToolQuery::default()
        };
        let err = cat.tool_list(&q, &all()).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert_eq!(err.message, "2 tools not found: A_X, A_Y");
    }

    #[test]
    fn base_url_overrides_are_checked_and_applied() {
        let sources = vec![toolkit("a", &[("A_ONE", "One.", &[])])];
        let overrides = BTreeMap::from([("a".to_owned(), "http://127.0.0.1:9/".to_owned())]);
        let cat =
            ToolCatalog::new(Catalog::from_sources(sources.clone()).unwrap(), overrides).unwrap();
        assert_eq!(cat.base_url("a").as_deref(), Some("http://127.0.0.1:9"));

        let bad = BTreeMap::from([
            ("nope".to_owned(), "http://x".to_owned()),
            ("a".to_owned(), "ftp://x".to_owned()),
        ]);
        let err = ToolCatalog::new(Catalog::from_sources(sources).unwrap(), bad).unwrap_err();
        assert_eq!(err.errors.len(), 2, "{:?}", err.errors);
        assert!(err.message.contains("no toolkit `nope`"), "{}", err.message);
        assert!(
            err.message
                .contains("`ftp://x` is not an absolute http(s) URL"),
            "{}",
            err.message
        );
    }

    #[test]
    fn category_names_are_title_cased_ids() {
        assert_eq!(Category::from_id("developer-tools").name, "Developer Tools");
        assert_eq!(Category::from_id("crm").name, "CRM");
        assert_eq!(Category::from_id("ai_tools").name, "AI Tools");
    }
}
