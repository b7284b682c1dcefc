//! Tidy checks: the architecture's invariants (ARCHITECTURE.md) that are cheap to verify
//! mechanically, from `cargo metadata` and the source tree.
//!
//! - dependencies point down the layers; `toolrouter-client` depends on `toolrouter-api` alone;
//! - only `toolrouter-http` uses axum, only `toolrouter-mcp` rmcp, only `toolrouter-store` sqlx;
//!   only `toolrouter-exec` and `toolrouter-vault` make outbound HTTP calls (reqwest);
//!   `core` and `catalog` take no IO or runtime crate;
//! - only `toolrouter-workbench` spawns processes (in library code);
//! - every `.rs` file opens with a `//!` line;
//! - migrations are forward-only and exist for both backends.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Layer of each internal crate: a crate may depend only on crates of a lower layer.
fn layer(name: &str) -> Option<u8> {
    Some(match name {
        "toolrouter-core" | "toolrouter-api" => 0,
        "toolrouter-catalog" | "toolrouter-client" => 1,
        "toolrouter-store" | "toolrouter-vault" | "toolrouter-exec" | "toolrouter-workbench" => 2,
        "toolrouter-app" => 3,
        // The http crate mounts the MCP endpoint on the API's origin, so it sits above it.
        "toolrouter-mcp" => 4,
        "toolrouter-http" => 5,
        "toolrouter" | "toolrouter-bench" => 6,
        _ => return None,
    })
}

/// Normal (non-dev, non-build) dependencies of each workspace package.
fn normal_deps(meta: &Value) -> Vec<(String, BTreeSet<String>)> {
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn dependency_invariants_hold() {
    let meta = metadata();
    let mut problems = Vec::new();
    let only = |dep: &str, allowed: &[&str]| -> Vec<String> {
        normal_deps(&meta)
            .into_iter()
            .filter(|(name, deps)| deps.contains(dep) && !allowed.contains(&name.as_str()))
            .map(|(name, _)| format!("{name} depends on {dep}; only {allowed:?} may"))
            .collect()
    };
    // The benchmark harness stands in for clients and upstream APIs (a loopback axum server,
    // a reqwest client); it ships in no product binary.
    problems.extend(only("axum", &["toolrouter-http", "toolrouter-bench"]));
    problems.extend(only("axum-server", &["toolrouter-http"]));
    problems.extend(only("rmcp", &["toolrouter-mcp", "toolrouter-client"]));
    problems.extend(only("sqlx", &["toolrouter-store"]));
    problems.extend(only(
        "reqwest",
        &[
            "toolrouter-exec",
            "toolrouter-vault",
            "toolrouter-client",
            "toolrouter-bench",
        ],
    ));
    for (name, deps) in normal_deps(&meta) {
        let Some(own) = layer(&name) else {
            problems.push(format!(
                "{name} has no layer in tidy.rs: add it (and to ARCHITECTURE.md)"
            ));
            continue;
        };
        for d in &deps {
            if let Some(l) = layer(d)
                && l >= own
            {
                problems.push(format!(
                    "{name} (layer {own}) depends on {d} (layer {l}): dependencies point down"
                ));
            }
        }
        if matches!(name.as_str(), "toolrouter-core" | "toolrouter-catalog") {
            for io in ["tokio", "sqlx", "reqwest", "axum", "hyper", "std-fs"] {
                if deps.contains(io) {
                    problems.push(format!("{name} is pure but depends on {io}"));
                }
            }
        }
        if name == "toolrouter-client" {
            for d in deps.iter().filter(|d| d.starts_with("toolrouter-")) {
                if d != "toolrouter-api" {
                    problems.push(format!(
                        "toolrouter-client depends on {d}; only toolrouter-api"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if !matches!(name.as_ref(), "target" | "node_modules" | ".git")
                && !name.starts_with('.')
            {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_rust_file_says_why_it_exists() {
    let root = root();
    let mut files = Vec::new();
    for dir in ["crates", "bench", "e2e"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !first.starts_with("//!")
        })
        .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! line: {missing:#?}");
}

#[test]
fn only_the_workbench_spawns_processes() {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| {
            let rel = f
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            rel.contains("/src/")
                && !rel.starts_with("crates/toolrouter-workbench/")
                && !rel.ends_with("build.rs")
        })
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains("process::Command") || text.contains("tokio::process")
        })
        .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "spawning processes outside the workbench: {offenders:?}"
    );
}

#[test]
fn migrations_are_forward_only_and_paired() {
    let dir = root().join("crates/toolrouter-store/migrations");
    let list = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(dir.join(backend))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let sqlite = list("sqlite");
    let postgres = list("postgres");
    assert_eq!(sqlite, postgres, "every migration exists for both backends");
    for f in &sqlite {
        assert!(
            f.ends_with(".sql") && !f.contains(".down.") && !f.contains(".up."),
            "{f}: migrations are forward-only, plain `NNNN_name.sql`"
        );
    }
}
