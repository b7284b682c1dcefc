//! `toolrouter keys create|list|revoke`: API-key management straight on the database, for the
//! operator (the same operations are on the API for a project's own keys).

use anyhow::{Context, bail};
use clap::Subcommand;
use secrecy::ExposeSecret;
use serde_json::json;
use toolrouter_app::App;
use toolrouter_core::ProjectId;

use crate::config::Settings;
use crate::{open_app, out};

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Issue a new key; prints it once.
    Create {
        /// A label for the key.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Project id. [default: the only project]
        #[arg(long)]
        project: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List a project's keys (never the keys themselves).
    List {
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id (`key_…`).
    Revoke {
        id: String,
        #[arg(long)]
        project: Option<String>,
    },
}

async fn project(app: &App, given: Option<&str>) -> anyhow::Result<ProjectId> {
    if let Some(p) = given {
        return ProjectId::parse(p).with_context(|| format!("`{p}` is not a project id (prj_…)"));
    }
    let projects = app.project_list().await?;
    match projects.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => bail!("no project yet: start `toolrouter serve` once to create the default project"),
        _ => bail!("several projects exist: choose one with --project"),
    }
}

pub(crate) async fn run(s: &Settings, cmd: KeysCommand) -> anyhow::Result<()> {
    let app = open_app(s, true).await?;
    match cmd {
        KeysCommand::Create {
            name,
            project: p,
            json,
        } => {
            let p = project(&app, p.as_deref()).await?;
            let issued = app.api_key_create(&p, &name).await?;
            let key = issued.key.expose_secret();
            if json {
                out(&json!({"id": issued.record.id, "project_id": p, "name": issued.record.name, "key": key}).to_string());
            } else {
                out(&format!(
                    "{}  {}  (project {p})\n{key}",
                    issued.record.id, issued.record.name
                ));
            }
        }
        KeysCommand::List { project: p, json } => {
            let p = project(&app, p.as_deref()).await?;
            let keys = app.api_key_list(&p).await?;
            if json {
                let items: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        json!({"id": k.id, "name": k.name, "prefix": k.display_prefix,
                               "created_at": k.created_at.to_rfc3339(),
                               "revoked_at": k.revoked_at.map(|t| t.to_rfc3339())})
                    })
                    .collect();
                out(&serde_json::Value::Array(items).to_string());
            } else {
                out(&format!(
                    "{:<38} {:<14} {:<20} {:<8} NAME",
                    "ID", "PREFIX", "CREATED", "STATUS"
                ));
                for k in keys {
                    let status = if k.is_active() { "active" } else { "revoked" };
                    let created: String = k.created_at.to_rfc3339().chars().take(19).collect();
                    out(&format!(
                        "{:<38} {:<14} {:<20} {:<8} {}",
                        k.id, k.display_prefix, created, status, k.name
                    ));
                }
            }
        }
        KeysCommand::Revoke { id, project: p } => {
            let p = project(&app, p.as_deref()).await?;
            app.api_key_revoke(&p, &id).await?;
            out(&format!("revoked {id}"));
        }
    }
    Ok(())
}
