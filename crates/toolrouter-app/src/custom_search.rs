//! Custom tools in search results. Sessions do not store the SDK-local custom tools
//! (`LOCAL_…`, CONTRACT.md §3.10); the SDKs re-send their definitions in `experimental` with
//! every `/search`, so a search ranks them next to the catalog's tools and returns their
//! schemas under their assigned slugs, which the SDK then routes in process.
//!
//! Ranking is simple and deterministic: the share of the query's words (longer than two
//! letters) found in the tool's slug, name or description. A custom tool matching at least half
//! of them is a primary result, placed before the catalog's; one matching any is related.

use serde_json::{Value, json};

use toolrouter_core::session::MetaTool;

use crate::approval::{ApprovalAnswer, Asked, Outcome};
use crate::session::{AssignedTool, CustomTools};
use crate::session_exec::{SearchQuery, SessionExecution, search_queries};
use crate::{App, AppResult, Caller};

/// Most custom tools added to one query's results.
const CUSTOM_PER_QUERY: usize = 3;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 2)
        .map(str::to_lowercase)
        .collect()
}

/// The share of `query`'s words the tool's text contains (0 to 1).
fn score(query: &[String], tool: &AssignedTool) -> f64 {
    if query.is_empty() {
        return 0.0;
    }
    let text = format!(
        "{} {} {} {}",
        tool.slug, tool.def.slug, tool.def.name, tool.def.description
    )
    .to_lowercase()
    .replace('_', " ");
    let hits = query.iter().filter(|w| text.contains(w.as_str())).count();
    hits as f64 / query.len() as f64
}

impl App {
    /// `POST …/{sid}/search` with the custom tools the SDK sent in `experimental`.
    pub async fn session_search_custom(
        &self,
        caller: &Caller,
        id: &str,
        queries: &[SearchQuery],
        custom: &CustomTools,
    ) -> AppResult<Value> {
        let mut answer = self.session_search(caller, id, queries).await?;
        self.merge_custom(&mut answer, queries, custom)?;
        Ok(answer)
    }

    /// `POST …/{sid}/execute` with the custom tools the SDK sent in `experimental`: a
    /// COMPOSIO_SEARCH_TOOLS call ranks them too (its answer is the `/search` answer). App tools
    /// needing the user's approval are asked about first (see `approval`).
    pub async fn session_execute_custom(
        &self,
        caller: &Caller,
        id: &str,
        req: SessionExecution,
        meta_only: bool,
        custom: &CustomTools,
        answer: Option<ApprovalAnswer>,
    ) -> AppResult<Outcome> {
        let session = self.session_find(caller, id).await?;
        let mut req = req;
        // `execute_meta` runs meta tools only (an app slug there is refused as it runs).
        if !meta_only || MetaTool::parse(req.tool_slug.trim()).is_some() {
            match self.ask_approval(caller, &session, &req, answer).await? {
                Asked::Run => req.approved = true,
                Asked::NotNeeded => {}
                Asked::Stop(outcome) => return Ok(outcome),
            }
        }
        let search = MetaTool::parse(req.tool_slug.trim()) == Some(MetaTool::SearchTools)
            && !(custom.tools.is_empty() && custom.toolkits.is_empty());
        let queries = if search {
            search_queries(&req.arguments).ok()
        } else {
            None
        };
        let mut result = self
            .session_execute_in(caller, session, req, meta_only)
            .await?;
        if let Some(queries) = queries
            && result.data.get("results").is_some()
        {
            self.merge_custom(&mut result.data, &queries, custom)?;
        }
        Ok(Outcome::Ran(Box::new(result)))
    }

    /// Adds the matching custom tools to an A.11 answer for `queries`.
    fn merge_custom(
        &self,
        answer: &mut Value,
        queries: &[SearchQuery],
        custom: &CustomTools,
    ) -> AppResult<()> {
        let Some(assigned) = self.assign_custom(custom)? else {
            return Ok(());
        };
        // Every custom tool with the toolkit it appears under.
        let mut tools: Vec<(String, &AssignedTool)> = assigned
            .tools
            .iter()
            .map(|t| {
                let tk = t
                    .def
                    .extends_toolkit
                    .clone()
                    .unwrap_or_else(|| "custom".to_owned());
                (tk, t)
            })
            .collect();
        for tk in &assigned.toolkits {
            tools.extend(tk.tools.iter().map(|t| (tk.slug.to_ascii_lowercase(), t)));
        }
        for (i, q) in queries.iter().enumerate() {
            let text = match &q.known_fields {
                Some(k) => format!("{} {k}", q.use_case),
                None => q.use_case.clone(),
            };
            let query = words(&text);
            let mut ranked: Vec<(f64, &(String, &AssignedTool))> = tools
                .iter()
                .map(|entry| (score(&query, entry.1), entry))
                .filter(|(s, _)| *s > 0.0)
                .collect();
            ranked.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then_with(|| a.1.1.slug.cmp(&b.1.1.slug))
            });
            ranked.truncate(CUSTOM_PER_QUERY);
            let Some(result) = answer["results"].get_mut(i) else {
                continue;
            };
            let (primary, related): (Vec<_>, Vec<_>) = ranked.iter().partition(|(s, _)| *s >= 0.5);
            for (key, found) in [
                ("primary_tool_slugs", primary),
                ("related_tool_slugs", related),
            ] {
                let slugs: Vec<Value> = found.iter().map(|(_, e)| json!(e.1.slug)).collect();
                if let Some(list) = result[key].as_array_mut() {
                    list.splice(0..0, slugs);
                }
            }
            for (_, (toolkit, _)) in &ranked {
                if let Some(list) = result["toolkits"].as_array_mut()
                    && !list.iter().any(|t| t == toolkit.as_str())
                {
                    list.push(json!(toolkit));
                }
            }
            for (_, (toolkit, tool)) in &ranked {
                answer["tool_schemas"][tool.slug.as_str()] = json!({
                    "tool_slug": tool.slug,
                    "toolkit": toolkit,
                    "name": tool.def.name,
                    "description": tool.def.description,
                    "input_schema": tool.def.input_schema,
                    "custom": true,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::CustomTool;

    fn tool(slug: &str, description: &str) -> AssignedTool {
        AssignedTool {
            slug: format!("LOCAL_{slug}"),
            def: CustomTool {
                slug: slug.to_owned(),
                name: slug.to_lowercase(),
                description: description.to_owned(),
                input_schema: json!({"type": "object"}),
                output_schema: None,
                extends_toolkit: None,
                preload: None,
            },
        }
    }

    #[test]
    fn scores_are_the_share_of_query_words_found() {
        let grep = tool("GREP", "Search files in the repository for a pattern.");
        assert_eq!(score(&words("grep the repository"), &grep), 1.0);
        assert_eq!(score(&words("search emails in gmail"), &grep), 1.0 / 3.0);
        assert_eq!(score(&words("send an email"), &grep), 0.0);
        assert_eq!(score(&words("a b"), &grep), 0.0);
    }
}
