//! Every tool of every built-in toolkit, played against a stand-in that checks the request the
//! way the provider documents it (the cases files next to the definitions).

use std::collections::BTreeSet;
use std::path::Path;

use toolrouter_catalog::Catalog;

use crate::cases::{CasesFile, run_cases};

#[tokio::test]
async fn every_builtin_tool_sends_the_documented_request() {
    let catalog =
        Catalog::builtin().unwrap_or_else(|e| panic!("built-in toolkits do not load: {e}"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../toolrouter-catalog/toolkits/cases");
    let mut failures = Vec::new();
    let mut played = 0;
    for toolkit in catalog.toolkits() {
        let path = dir.join(format!("{}.json", toolkit.slug));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!(
                    "{}: no cases file at {}: {e}",
                    toolkit.slug,
                    path.display()
                ));
                continue;
            }
        };
        let file: CasesFile = match serde_json::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{}: cases file does not parse: {e}", toolkit.slug));
                continue;
            }
        };
        played += file.cases.len();
        failures.extend(run_cases(toolkit, &file).await);
    }
    let slugs: BTreeSet<&str> = catalog.toolkits().iter().map(|t| t.slug.as_str()).collect();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(slug) = name.strip_suffix(".json")
                && !slugs.contains(slug)
            {
                failures.push(format!("cases/{name}: no built-in toolkit `{slug}`"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} difference(s) over {played} case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
