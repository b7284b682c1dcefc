//! Toolkits for the operator: loading the catalog (built-ins plus `--toolkits-dir`) at start,
//! `toolrouter toolkits list`, and `toolrouter toolkits import-openapi`, which turns an OpenAPI
//! document into a definition file.
//!
//! The import writes nothing unless the whole API was imported, or the operator said
//! `--allow-partial`: a toolkit that silently lacks operations is worse than none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use toolrouter_app::ToolCatalog;
use toolrouter_catalog::Catalog;
use toolrouter_catalog::openapi::{self, ImportError, ImportOptions, ImportReport};

use crate::config::Settings;
use crate::out;

#[derive(Debug, Subcommand)]
pub(crate) enum ToolkitsCommand {
    /// List the toolkits the server would load: slug, tool count, name.
    List {
        /// Also load the definitions in this directory, as `serve --toolkits-dir` does.
        #[arg(long, env = "TOOLROUTER_TOOLKITS_DIR", value_name = "DIR")]
        toolkits_dir: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Turn an OpenAPI 3.x or Swagger 2.0 document (JSON) into a toolkit definition file.
    ImportOpenapi {
        /// The OpenAPI document.
        spec: PathBuf,
        /// Toolkit slug (`[a-z0-9_]+`); tool slugs start with it upper-cased.
        #[arg(long)]
        slug: String,
        /// Where to write the definition. [default: <slug>.json]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Write the toolkit even when some operations cannot be imported (they are listed).
        #[arg(long)]
        allow_partial: bool,
        /// The API's base URL, when the document's `servers` is missing or relative.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Display name. [default: the document's `info.title`]
        #[arg(long)]
        name: Option<String>,
    },
}

/// `(path, contents)` of every `*.json` file in `dir`, sorted by name.
fn read_definitions(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the toolkits directory {}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read the toolkits directory {}", dir.display()))?
            .path();
        if path.is_file() && path.extension().is_some_and(|e| e == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read toolkit definition {}", p.display()))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// The built-in toolkits and the operator's, validated together.
pub(crate) fn load_catalog(dir: Option<&Path>) -> anyhow::Result<Catalog> {
    let extra = match dir {
        Some(dir) => read_definitions(dir)?,
        None => Vec::new(),
    };
    let files = extra.len();
    let catalog = Catalog::builtin_with(extra).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = dir {
        tracing::info!(dir = %dir.display(), files, "loaded operator toolkits");
    }
    Ok(catalog)
}

/// The app's catalog: definitions, search index and base-URL overrides.
pub(crate) fn tool_catalog(
    dir: Option<&Path>,
    base_urls: &BTreeMap<String, String>,
) -> anyhow::Result<ToolCatalog> {
    let catalog = load_catalog(dir)?;
    ToolCatalog::new(catalog, base_urls.clone()).map_err(|e| anyhow::anyhow!("{}", e.message))
}

pub(crate) fn run(s: &Settings, cmd: ToolkitsCommand) -> anyhow::Result<()> {
    match cmd {
        // `--toolkits-dir` reached the settings, where the config file's value fills it in.
        ToolkitsCommand::List { json, .. } => list(s.toolkits_dir.as_deref(), json),
        ToolkitsCommand::ImportOpenapi {
            spec,
            slug,
            out,
            allow_partial,
            base_url,
            name,
        } => {
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{slug}.json")));
            let opts = ImportOptions {
                allow_partial,
                base_url,
                name,
            };
            import(&spec, &slug, &out, &opts)
        }
    }
}

fn list(dir: Option<&Path>, as_json: bool) -> anyhow::Result<()> {
    let catalog = load_catalog(dir)?;
    let toolkits = catalog.toolkits();
    if as_json {
        let items: Vec<Value> = toolkits
            .iter()
            .map(|tk| json!({"slug": tk.slug, "name": tk.name, "tools": tk.tools.len()}))
            .collect();
        out(&Value::Array(items).to_string());
        return Ok(());
    }
    let width = toolkits
        .iter()
        .map(|tk| tk.slug.len())
        .max()
        .unwrap_or(0)
        .max(4);
    out(&format!("{:<width$}  {:>5}  NAME", "SLUG", "TOOLS"));
    for tk in toolkits {
        out(&format!(
            "{:<width$}  {:>5}  {}",
            tk.slug,
            tk.tools.len(),
            tk.name
        ));
    }
    out(&format!(
        "{} toolkits, {} tools",
        toolkits.len(),
        catalog.tool_count()
    ));
    Ok(())
}

/// Prints what was skipped and why, the warnings, and the summary line.
fn print_report(report: &ImportReport) {
    for s in &report.skipped {
        out(&format!("skipped {s}"));
    }
    for w in &report.warnings {
        out(&format!("warning: {w}"));
    }
    out(&format!(
        "imported {} of {} operations",
        report.imported,
        report.imported + report.skipped.len()
    ));
}

fn import(spec: &Path, slug: &str, out_path: &Path, opts: &ImportOptions) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(spec).with_context(|| format!("cannot read {}", spec.display()))?;
    let doc: Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON (YAML documents must be converted to JSON first)",
            spec.display()
        )
    })?;
    // A clash with a built-in would stop the server at start; say so now.
    let builtin = Catalog::builtin().map_err(|e| anyhow::anyhow!("{e}"))?;
    if builtin.toolkit(slug).is_some() {
        bail!("`{slug}` is a built-in toolkit: choose another --slug");
    }
    let report = match openapi::import(&doc, slug, opts) {
        Ok(report) => report,
        Err(ImportError::Partial(report)) => {
            print_report(&report);
            bail!(
                "{} of {} operations cannot be imported; nothing was written \
                 (pass --allow-partial to write the toolkit without them)",
                report.skipped.len(),
                report.imported + report.skipped.len()
            );
        }
        Err(ImportError::NothingImported(report)) => {
            print_report(&report);
            bail!(
                "no operation of {} can be imported; nothing was written",
                spec.display()
            );
        }
        Err(e) => bail!("cannot import {}: {e}", spec.display()),
    };
    if let Some(clash) = report
        .toolkit
        .tools
        .iter()
        .find(|t| builtin.tool(&t.slug).is_some())
    {
        bail!(
            "tool {} would clash with a built-in tool: choose another --slug",
            clash.slug
        );
    }
    print_report(&report);
    let mut json = toolrouter_catalog::schema::to_string_pretty(&report.toolkit)?;
    json.push('\n');
    std::fs::write(out_path, json)
        .with_context(|| format!("cannot write {}", out_path.display()))?;
    out(&format!(
        "wrote {} ({} tools)",
        out_path.display(),
        report.toolkit.tools.len()
    ));
    Ok(())
}
