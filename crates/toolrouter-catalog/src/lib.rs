//! The tool catalog: toolkit definitions (built in and operator-supplied), their validation,
//! OpenAPI import and the search index.
//!
//! Pure: nothing here does IO. Callers hand in file contents; the binary reads directories.

pub mod model;
pub mod openapi;
pub mod schema;
pub mod search;
pub mod validate;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

pub use model::{AuthKind, ToolDef, ToolkitDef};
pub use schema::Schema;
pub use validate::Problem;

include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// Why a set of definitions could not be loaded. Lists every problem found.
#[derive(Debug, thiserror::Error)]
pub struct LoadError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} problem(s) in toolkit definitions:",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// Where a tool lives in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolRef {
    pub toolkit: usize,
    pub tool: usize,
}

/// A validated set of toolkits with lookup by slug.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    toolkits: Vec<Arc<ToolkitDef>>,
    by_toolkit: HashMap<String, usize>,
    by_tool: HashMap<String, ToolRef>,
}

impl Catalog {
    /// The toolkits compiled into the binary.
    pub fn builtin() -> Result<Catalog, LoadError> {
        Catalog::builtin_with([])
    }

    /// The built-in toolkits and operator-supplied `(file name, JSON text)` definitions,
    /// validated together: a clash with a built-in toolkit or tool names the operator's file.
    pub fn builtin_with(
        extra: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalog, LoadError> {
        let builtin = BUILTIN_FILES
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()));
        Catalog::from_sources(builtin.chain(extra))
    }

    /// Parses and validates `(file name, JSON text)` pairs. Toolkit and tool slugs must be unique
    /// across all sources.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalog, LoadError> {
        let mut problems = Vec::new();
        let mut catalog = Catalog::default();
        for (file, text) in sources {
            let def: ToolkitDef = match serde_json::from_str(&text) {
                Ok(d) => d,
                Err(e) => {
                    problems.push(Problem {
                        file: file.clone(),
                        tool: None,
                        field: format!("line {} column {}", e.line(), e.column()),
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            let found = validate::check_toolkit(&file, &def);
            if !found.is_empty() {
                problems.extend(found);
                continue;
            }
            if let Err(p) = catalog.insert(&file, def) {
                problems.extend(p);
            }
        }
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(LoadError { problems })
        }
    }

    fn insert(&mut self, file: &str, def: ToolkitDef) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        if self.by_toolkit.contains_key(&def.slug) {
            problems.push(Problem {
                file: file.to_owned(),
                tool: None,
                field: "slug".to_owned(),
                message: format!("toolkit `{}` is already defined", def.slug),
            });
        }
        for t in &def.tools {
            if self.by_tool.contains_key(&t.slug) {
                problems.push(Problem {
                    file: file.to_owned(),
                    tool: Some(t.slug.clone()),
                    field: "slug".to_owned(),
                    message: "tool slug is already defined by another toolkit".to_owned(),
                });
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let idx = self.toolkits.len();
        self.by_toolkit.insert(def.slug.clone(), idx);
        for (i, t) in def.tools.iter().enumerate() {
            self.by_tool.insert(
                t.slug.clone(),
                ToolRef {
                    toolkit: idx,
                    tool: i,
                },
            );
        }
        self.toolkits.push(Arc::new(def));
        Ok(())
    }

    /// Adds every toolkit of `other`, refusing duplicates.
    pub fn merge(&mut self, other: Catalog) -> Result<(), LoadError> {
        let mut problems = Vec::new();
        for tk in other.toolkits {
            let def = Arc::unwrap_or_clone(tk);
            if let Err(p) = self.insert(&format!("toolkit {}", def.slug), def) {
                problems.extend(p);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LoadError { problems })
        }
    }

    pub fn toolkits(&self) -> &[Arc<ToolkitDef>] {
        &self.toolkits
    }

    pub fn toolkit(&self, slug: &str) -> Option<&Arc<ToolkitDef>> {
        self.by_toolkit.get(slug).map(|&i| &self.toolkits[i])
    }

    /// Where a tool is: its toolkit's position in [`Catalog::toolkits`] and its own in
    /// `tools`.
    pub fn tool_ref(&self, slug: &str) -> Option<ToolRef> {
        self.by_tool.get(slug).copied()
    }

    /// The tool and its toolkit.
    pub fn tool(&self, slug: &str) -> Option<(&Arc<ToolkitDef>, &ToolDef)> {
        let r = self.by_tool.get(slug)?;
        let tk = &self.toolkits[r.toolkit];
        Some((tk, &tk.tools[r.tool]))
    }

    pub fn tool_count(&self) -> usize {
        self.by_tool.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_and_validates() {
        let catalog = match Catalog::builtin() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(catalog.toolkits().len(), BUILTIN_FILES.len());
    }

    #[test]
    fn builtin_schemas_serialize_as_their_value_trees_did() {
        let catalog = Catalog::builtin().expect("loads");
        for ((file, text), tk) in BUILTIN_FILES.iter().zip(catalog.toolkits()) {
            let file_json: serde_json::Value = serde_json::from_str(text).expect("parses");
            for (i, tool) in tk.tools.iter().enumerate() {
                let written = |s: &Schema| serde_json::to_string(s).expect("serializes");
                let input = &file_json["tools"][i]["input"];
                assert_eq!(
                    written(&tool.input),
                    input.to_string(),
                    "{file} {}",
                    tool.slug
                );
                if let Some(output) = file_json["tools"][i].get("output") {
                    assert_eq!(written(&tool.output), output.to_string(), "{file}");
                }
            }
        }
    }

    #[test]
    fn duplicate_tool_slugs_across_files_are_refused() {
        let one = r#"{"slug":"a","name":"A","description":"Service A.","base_url":"https://a.test",
            "tools":[{"slug":"A_PING","name":"Ping","description":"Check that the service answers.",
                      "input":{"type":"object"},"http":{"method":"GET","path":"/ping"}}]}"#;
        let err = Catalog::from_sources([
            ("one.json".to_owned(), one.to_owned()),
            ("two.json".to_owned(), one.to_owned()),
        ])
        .expect_err("duplicate");
        let text = err.to_string();
        assert!(
            text.contains("two.json: field `slug`: toolkit `a` is already defined"),
            "{text}"
        );
        assert!(text.contains("two.json: tool A_PING"), "{text}");
    }

    #[test]
    fn operator_files_clashing_with_builtins_are_named() {
        let clash = r#"{"slug":"github","name":"Mine","description":"Not GitHub.","base_url":"https://a.test",
            "tools":[{"slug":"GITHUB_PING","name":"Ping","description":"Check that the service answers.",
                      "input":{"type":"object"},"http":{"method":"GET","path":"/ping"}}]}"#;
        let err = Catalog::builtin_with([("/etc/tr/mine.json".to_owned(), clash.to_owned())])
            .expect_err("clash");
        let text = err.to_string();
        assert!(
            text.contains("/etc/tr/mine.json: field `slug`: toolkit `github` is already defined"),
            "{text}"
        );
    }

    #[test]
    fn syntax_errors_name_file_and_position() {
        let err = Catalog::from_sources([("bad.json".to_owned(), "{\"slug\": ".to_owned())])
            .expect_err("bad json");
        assert!(
            err.to_string()
                .contains("bad.json: field `line 1 column 9`"),
            "{err}"
        );
    }
}
