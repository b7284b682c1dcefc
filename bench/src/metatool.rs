//! Loading the MetaTool tool-selection data (`shared/bench/metatool/`) and the fixed split of
//! its dev queries into two halves: one to look at while developing, one to check for
//! overfitting.

use std::fs;
use std::path::Path;

use serde::Deserialize;
use toolrouter_catalog::search::SearchDoc;

/// One tool of `tools.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Tool {
    pub name: String,
    pub description: String,
}

/// One row of `queries-dev.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct Query {
    pub query: String,
    pub tool: String,
}

/// One row of `multi-dev.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct MultiQuery {
    pub query: String,
    pub tools: Vec<String>,
}

/// The whole data set.
#[derive(Debug, Clone)]
pub struct Data {
    pub tools: Vec<Tool>,
    pub queries: Vec<Query>,
    pub multi: Vec<MultiQuery>,
}

impl Data {
    pub fn load(dir: &Path) -> Result<Data, String> {
        let read =
            |name: &str| fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"));
        let tools: Vec<Tool> =
            serde_json::from_str(&read("tools.json")?).map_err(|e| format!("tools.json: {e}"))?;
        Ok(Data {
            tools,
            queries: parse_lines(&read("queries-dev.jsonl")?, "queries-dev.jsonl")?,
            multi: parse_lines(&read("multi-dev.jsonl")?, "multi-dev.jsonl")?,
        })
    }
}

fn parse_lines<T: for<'de> Deserialize<'de>>(text: &str, name: &str) -> Result<Vec<T>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{name}:{}: {e}", i + 1)))
        .collect()
}

/// A MetaTool tool as the index sees it: the name is both slug and display name (the search
/// splits `FinanceTool` into words itself); the tools have no toolkit, tags or parameters.
pub fn search_doc(tool: &Tool) -> SearchDoc {
    SearchDoc {
        slug: tool.name.clone(),
        name: tool.name.clone(),
        description: tool.description.clone(),
        ..SearchDoc::default()
    }
}

/// The two fixed halves of the dev queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    A,
    B,
}

/// Which half a query belongs to: a bit of a stable hash (FNV-1a, 64 bit) of the trimmed,
/// lower-cased text, so duplicates differing in case or spacing land together and the split
/// never changes between runs or machines.
pub fn half(query: &str) -> Half {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in query.trim().to_lowercase().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if (h >> 17) & 1 == 0 { Half::A } else { Half::B }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_are_stable_and_ignore_case_and_spacing() {
        assert_eq!(half("Find me a recipe"), half("  find ME a recipe "));
        let texts: Vec<String> = (0..1000).map(|i| format!("query number {i}")).collect();
        let a = texts.iter().filter(|t| half(t) == Half::A).count();
        assert!((400..=600).contains(&a), "roughly half: {a}");
    }

    #[test]
    fn parses_jsonl_with_line_numbers() {
        let rows: Vec<Query> =
            parse_lines("{\"query\": \"q\", \"tool\": \"T\"}\n\n", "x").expect("parses");
        assert_eq!(rows.len(), 1);
        let err = parse_lines::<Query>("{}\n", "x.jsonl").expect_err("missing fields");
        assert!(err.starts_with("x.jsonl:1:"), "{err}");
    }
}
