//! The client subcommands — `sessions`, `tools`, `connect` — which talk to a running server
//! through `toolrouter-client` only (never the app or the store), so they behave exactly as a
//! program using the Rust SDK would, against a local or a remote server.
//!
//! Output is a human table by default and JSON with `--json` (one JSON document per line, for
//! scripts). The API key and the server come from flags, else the environment
//! (`TOOLROUTER_API_KEY`/`TOOLROUTER_BASE_URL`, or Composio's names), else the key the server
//! wrote to `<data-dir>/api-key` on first start and `http://127.0.0.1:8080`, so a newcomer who
//! just ran `toolrouter serve` can use them with no setup.

mod table;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use toolrouter_client::api::session::{SelectionEcho, SessionResponse};
use toolrouter_client::{
    AuthorizeOptions, Client, DEFAULT_BASE_URL, ExecuteOptions, SearchResponse, Session,
    SessionConfig, ToolResult,
};

use crate::out;
use table::Table;

/// Where the server is and how to print; shared by every client subcommand.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ClientArgs {
    /// API key (a flag is visible in the process list; prefer the variable). [default:
    /// $TOOLROUTER_API_KEY, $COMPOSIO_API_KEY, else <data-dir>/api-key]
    #[arg(long, global = true, value_name = "KEY")]
    api_key: Option<String>,
    /// Server URL. [default: $TOOLROUTER_BASE_URL, $COMPOSIO_BASE_URL, else
    /// http://127.0.0.1:8080]
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,
    /// Print JSON (one document per line) instead of tables.
    #[arg(long, global = true)]
    json: bool,
}

/// `toolrouter sessions …`
#[derive(Debug, Args)]
pub(crate) struct SessionsArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: SessionsCommand,
}

#[derive(Debug, Subcommand)]
enum SessionsCommand {
    /// Create a session for a user.
    Create(CreateArgs),
    /// Show one session.
    Get {
        /// The session id (`trs_…`).
        id: String,
    },
    /// List a user's sessions, newest first.
    List {
        #[arg(long, value_name = "USER")]
        user_id: String,
    },
    /// Delete a session.
    Delete {
        /// The session id (`trs_…`).
        id: String,
    },
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// Your identifier of the end user the session acts for.
    #[arg(long, value_name = "USER")]
    user_id: String,
    /// Only these toolkits (comma-separated). [default: every toolkit]
    #[arg(long, value_delimiter = ',', value_name = "SLUGS")]
    toolkits: Vec<String>,
    /// Every toolkit but these (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "SLUGS",
        conflicts_with = "toolkits"
    )]
    disable_toolkits: Vec<String>,
    /// Tools to list directly, before the meta tools (comma-separated slugs).
    #[arg(long, value_delimiter = ',', value_name = "SLUGS")]
    preload_tools: Vec<String>,
    /// Use this auth config for a toolkit: `github=ac_…` (repeatable).
    #[arg(long, value_name = "TOOLKIT=ID", value_parser = pair)]
    auth_config: Vec<(String, String)>,
    /// Use this connected account for a toolkit: `gmail=ca_…` (repeatable).
    #[arg(long, value_name = "TOOLKIT=ID", value_parser = pair)]
    connected_account: Vec<(String, String)>,
    /// Without the workbench meta tools.
    #[arg(long)]
    no_workbench: bool,
}

/// `toolrouter tools …`
#[derive(Debug, Args)]
pub(crate) struct ToolsArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: ToolsCommand,
}

#[derive(Debug, Subcommand)]
enum ToolsCommand {
    /// Find tools for a task, e.g. "send an email".
    Search {
        /// The task, in words.
        query: String,
        #[command(flatten)]
        session: SessionChoice,
    },
    /// Run a tool in a session.
    Run {
        /// The tool slug, e.g. `GITHUB_GET_AUTHENTICATED_USER` or a `COMPOSIO_*` meta tool.
        slug: String,
        /// The arguments, as a JSON object.
        #[arg(long, value_name = "JSON", default_value = "{}")]
        args: String,
        /// The connected account (id or alias) to use, when the user has several.
        #[arg(long, value_name = "ACCOUNT")]
        account: Option<String>,
        #[command(flatten)]
        session: SessionChoice,
    },
}

/// Which session a command runs in: an existing one, or a new one for a user.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct SessionChoice {
    /// An existing session (`trs_…`).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Create a session (every toolkit) for this user.
    #[arg(long, value_name = "USER")]
    user_id: Option<String>,
}

/// `toolrouter connect TOOLKIT …`
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The toolkit to connect, e.g. `github`.
    toolkit: String,
    #[command(flatten)]
    session: SessionChoice,
    /// Where the connect page sends the user afterwards.
    #[arg(long, value_name = "URL")]
    callback_url: Option<String>,
    /// A name for the new account, to tell several apart.
    #[arg(long)]
    alias: Option<String>,
    /// How long to wait for the user, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
    /// Print the link and exit without waiting.
    #[arg(long)]
    no_wait: bool,
}

fn pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_owned(), v.trim().to_owned()))
        }
        _ => Err(format!("`{s}` is not TOOLKIT=ID, e.g. github=ac_123")),
    }
}

/// The API key and base URL: flags, else the environment, else the server's first-start key
/// file and the default address. `env` is the variable lookup (the process environment).
fn credentials(
    args: &ClientArgs,
    data_dir: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<(String, String)> {
    let from_env = |names: [&str; 2]| {
        names
            .into_iter()
            .filter_map(&env)
            .map(|v| v.trim().to_owned())
            .find(|v| !v.is_empty())
    };
    let base_url = args
        .base_url
        .clone()
        .or_else(|| from_env(["TOOLROUTER_BASE_URL", "COMPOSIO_BASE_URL"]))
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    if let Some(key) = args
        .api_key
        .clone()
        .or_else(|| from_env(["TOOLROUTER_API_KEY", "COMPOSIO_API_KEY"]))
    {
        return Ok((key, base_url));
    }
    let file = data_dir.join("api-key");
    match std::fs::read_to_string(&file) {
        Ok(text) if !text.trim().is_empty() => Ok((text.trim().to_owned(), base_url)),
        _ => bail!(
            "no API key: pass --api-key, set TOOLROUTER_API_KEY, or run `toolrouter serve` once \
             with this data dir (it saves the first key to {})",
            file.display()
        ),
    }
}

fn client(args: &ClientArgs, data_dir: &Path) -> anyhow::Result<Client> {
    let (key, base) = credentials(args, data_dir, |name| std::env::var(name).ok())?;
    Ok(Client::new(key, base)?)
}

/// `toolrouter sessions …`
pub(crate) async fn sessions(data_dir: &Path, args: SessionsArgs) -> anyhow::Result<()> {
    let c = client(&args.client, data_dir)?;
    let json = args.client.json;
    match args.command {
        SessionsCommand::Create(a) => {
            let mut config = SessionConfig::new();
            if !a.toolkits.is_empty() {
                config = config.toolkits(a.toolkits);
            }
            if !a.disable_toolkits.is_empty() {
                config = config.disable_toolkits(a.disable_toolkits);
            }
            if !a.preload_tools.is_empty() {
                config = config.preload_tools(a.preload_tools);
            }
            for (toolkit, id) in a.auth_config {
                config = config.auth_config(toolkit, id);
            }
            for (toolkit, id) in a.connected_account {
                config = config.connected_account(toolkit, id);
            }
            if a.no_workbench {
                config = config.workbench(false);
            }
            let session = c.create(&a.user_id, config).await?;
            print_session(session.info(), json)
        }
        SessionsCommand::Get { id } => {
            let session = c.sessions().use_session(&id).await?;
            print_session(session.info(), json)
        }
        SessionsCommand::List { user_id } => {
            let list = c.sessions().list(&user_id).await?;
            if json {
                let infos: Vec<&SessionResponse> = list.iter().map(Session::info).collect();
                out(&serde_json::to_string(&infos)?);
                return Ok(());
            }
            let mut t = Table::new(["SESSION", "USER", "VERSION", "TOOLKITS", "MCP URL"]);
            for s in &list {
                let i = s.info();
                t.row([
                    i.session_id.clone(),
                    i.config.user_id.clone(),
                    i.config_version.to_string(),
                    toolkits_text(i.config.toolkits.as_ref()),
                    i.mcp.url.clone(),
                ]);
            }
            print_table(&t, &format!("no sessions for user {user_id}"));
            Ok(())
        }
        SessionsCommand::Delete { id } => {
            c.sessions().delete(&id).await?;
            if json {
                out(&json!({"session_id": id, "deleted": true}).to_string());
            } else {
                out(&format!("deleted session {id}"));
            }
            Ok(())
        }
    }
}

fn print_session(info: &SessionResponse, json: bool) -> anyhow::Result<()> {
    if json {
        out(&serde_json::to_string(info)?);
        return Ok(());
    }
    let mut t = Table::new(["FIELD", "VALUE"]);
    t.row(["session", info.session_id.as_str()]);
    t.row(["user", info.config.user_id.as_str()]);
    t.row(["config version", &info.config_version.to_string()]);
    t.row(["toolkits", &toolkits_text(info.config.toolkits.as_ref())]);
    t.row(["meta tools", &info.tool_router_tools.join(", ")]);
    t.row(["mcp url", info.mcp.url.as_str()]);
    out(t.render().trim_end());
    Ok(())
}

/// `all`, `github, gmail` or `all but exa`.
fn toolkits_text(selection: Option<&SelectionEcho>) -> String {
    match selection {
        Some(SelectionEcho {
            enabled: Some(on), ..
        }) => on.join(", "),
        Some(SelectionEcho {
            disabled: Some(off),
            ..
        }) if !off.is_empty() => format!("all but {}", off.join(", ")),
        _ => "all".to_owned(),
    }
}

fn print_table(t: &Table, empty: &str) {
    if t.is_empty() {
        out(empty);
    } else {
        out(t.render().trim_end());
    }
}

/// The session a command runs in; a new one is announced on stderr so it can be reused.
async fn session_for(
    c: &Client,
    choice: SessionChoice,
    config: SessionConfig,
) -> anyhow::Result<Session> {
    match (choice.session, choice.user_id) {
        (Some(id), _) => Ok(c.sessions().use_session(&id).await?),
        (None, Some(user)) => {
            let s = c.create(&user, config).await?;
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "created session {} for user {user} (reuse it with --session {})",
                s.id(),
                s.id()
            );
            Ok(s)
        }
        (None, None) => bail!("give --session ID or --user-id USER"),
    }
}

/// `toolrouter tools …`
pub(crate) async fn tools(data_dir: &Path, args: ToolsArgs) -> anyhow::Result<()> {
    let c = client(&args.client, data_dir)?;
    let json = args.client.json;
    match args.command {
        ToolsCommand::Search { query, session } => {
            let s = session_for(&c, session, SessionConfig::new()).await?;
            let found = s.search(&query).await?;
            if json {
                out(&serde_json::to_string(&found)?);
            } else {
                print_table(&search_table(&found), "no tools found");
            }
            Ok(())
        }
        ToolsCommand::Run {
            slug,
            args: raw,
            account,
            session,
        } => {
            let arguments: Value = serde_json::from_str(&raw)
                .with_context(|| format!("--args is not valid JSON: {raw}"))?;
            if !arguments.is_object() {
                bail!(
                    "--args must be a JSON object such as '{{\"owner\": \"octocat\"}}', not {raw}"
                );
            }
            let s = session_for(&c, session, SessionConfig::new()).await?;
            let mut options = ExecuteOptions::new();
            if let Some(a) = account {
                options = options.account(a);
            }
            let result = s.execute_with(&slug, arguments, options).await?;
            print_result(&slug, &result, json)?;
            if !result.successful {
                bail!(
                    "{slug} failed: {}",
                    result.error.as_deref().unwrap_or("no reason given")
                );
            }
            Ok(())
        }
    }
}

/// One row per found tool: primary tools first, in the order the server ranked them.
fn search_table(found: &SearchResponse) -> Table {
    let mut t = Table::new(["TOOL", "TOOLKIT", "CONNECTED", "DESCRIPTION"]);
    let connected = |toolkit: &str| {
        found
            .toolkit_connection_statuses
            .iter()
            .find(|s| s.toolkit.eq_ignore_ascii_case(toolkit))
            .map_or("-", |s| if s.has_active_connection { "yes" } else { "no" })
    };
    for r in &found.results {
        for slug in r.primary_tool_slugs.iter().chain(&r.related_tool_slugs) {
            let schema = found.tool_schemas.get(slug);
            let toolkit = schema.map_or("", |s| s.toolkit.as_str());
            let description = schema
                .and_then(|s| s.description.as_deref())
                .unwrap_or_default();
            t.row([
                slug.as_str(),
                toolkit,
                connected(toolkit),
                &first_line(description, 80),
            ]);
        }
    }
    t
}

fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= max {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn print_result(slug: &str, r: &ToolResult, json: bool) -> anyhow::Result<()> {
    let outcome = r.result_type.as_str();
    if json {
        let mut v = r.to_model_json();
        v["result_type"] = json!(outcome);
        v["log_id"] = json!(r.log_id);
        out(&serde_json::to_string(&v)?);
        return Ok(());
    }
    let log = r
        .log_id
        .as_deref()
        .map(|l| format!(" (log {l})"))
        .unwrap_or_default();
    out(&format!("{slug}: {outcome}{log}"));
    out(&serde_json::to_string_pretty(&r.data)?);
    Ok(())
}

/// `toolrouter connect TOOLKIT …`
pub(crate) async fn connect(data_dir: &Path, args: ConnectArgs) -> anyhow::Result<()> {
    let c = client(&args.client, data_dir)?;
    let json = args.client.json;
    let toolkit = args.toolkit;
    let s = session_for(
        &c,
        args.session,
        SessionConfig::new().toolkits([toolkit.clone()]),
    )
    .await?;
    let mut options = AuthorizeOptions::new();
    if let Some(u) = args.callback_url {
        options = options.callback_url(u);
    }
    if let Some(a) = args.alias {
        options = options.alias(a);
    }
    let request = s.authorize_with(&toolkit, options).await?;
    if json {
        out(&json!({"session_id": s.id(), "toolkit": toolkit,
                    "connected_account_id": request.id, "redirect_url": request.redirect_url,
                    "status": request.status})
        .to_string());
    } else {
        out(&format!(
            "Open this link to connect {toolkit} for user {}:\n\n    {}\n",
            s.user_id(),
            request.redirect_url
        ));
    }
    if args.no_wait {
        return Ok(());
    }
    let timeout = Duration::from_secs(args.timeout);
    let spinner = Spinner::start(format!("waiting for {toolkit} to be connected"));
    let request = request.poll_interval(Duration::from_millis(500));
    let waited = request.wait_for_connection(timeout).await;
    spinner.stop();
    let account = waited?;
    if json {
        out(
            &json!({"session_id": s.id(), "toolkit": toolkit, "connected_account_id": account.id,
                    "status": account.status})
            .to_string(),
        );
    } else {
        out(&format!("Connected: {} ({})", account.id, account.status));
    }
    Ok(())
}

/// A line on stderr that turns while we wait; a single plain line when stderr is not a
/// terminal (logs, CI), so no control characters end up in files.
struct Spinner {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Spinner {
    fn start(message: String) -> Spinner {
        if !std::io::stderr().is_terminal() {
            let _ = writeln!(std::io::stderr().lock(), "{message}…");
            return Spinner { task: None };
        }
        let task = tokio::spawn(async move {
            const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
            let started = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            for frame in FRAMES.iter().cycle() {
                tick.tick().await;
                let secs = started.elapsed().as_secs();
                let _ = write!(std::io::stderr().lock(), "\r{frame} {message}… {secs}s ");
            }
        });
        Spinner { task: Some(task) }
    }

    fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
            // Clear the spinner's line.
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(key: Option<&str>, url: Option<&str>) -> ClientArgs {
        ClientArgs {
            api_key: key.map(str::to_owned),
            base_url: url.map(str::to_owned),
            json: false,
        }
    }

    #[test]
    fn credentials_come_from_flags_then_env_then_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let err = credentials(&args(None, None), dir.path(), env(&[])).unwrap_err();
        assert!(
            err.to_string().contains("no API key: pass --api-key"),
            "{err}"
        );

        std::fs::write(dir.path().join("api-key"), "trk_file\n").unwrap();
        assert_eq!(
            credentials(&args(None, None), dir.path(), env(&[])).unwrap(),
            ("trk_file".to_owned(), DEFAULT_BASE_URL.to_owned())
        );
        let vars = env(&[
            ("COMPOSIO_API_KEY", "ck_env"),
            ("COMPOSIO_BASE_URL", "https://c.example"),
        ]);
        assert_eq!(
            credentials(&args(None, None), dir.path(), vars).unwrap(),
            ("ck_env".to_owned(), "https://c.example".to_owned())
        );
        let vars = env(&[
            ("TOOLROUTER_API_KEY", "trk_env"),
            ("COMPOSIO_API_KEY", "ck"),
        ]);
        assert_eq!(
            credentials(
                &args(Some("trk_flag"), Some("https://f.example")),
                dir.path(),
                vars
            )
            .unwrap(),
            ("trk_flag".to_owned(), "https://f.example".to_owned())
        );
        assert_eq!(
            credentials(&args(None, None), dir.path(), vars).unwrap().0,
            "trk_env"
        );
    }

    #[test]
    fn toolkit_pairs_and_selections_read_well() {
        assert_eq!(
            pair("github=ac_1").unwrap(),
            ("github".into(), "ac_1".into())
        );
        assert!(pair("github").unwrap_err().contains("TOOLKIT=ID"));
        assert!(pair("=ac_1").is_err());
        assert_eq!(toolkits_text(None), "all");
        let on = SelectionEcho {
            enabled: Some(vec!["github".into(), "gmail".into()]),
            ..SelectionEcho::default()
        };
        assert_eq!(toolkits_text(Some(&on)), "github, gmail");
        let off = SelectionEcho {
            disabled: Some(vec!["exa".into()]),
            ..SelectionEcho::default()
        };
        assert_eq!(toolkits_text(Some(&off)), "all but exa");
        assert_eq!(first_line("short\nmore", 80), "short");
        assert_eq!(first_line("abcdef", 4), "abc…");
    }
}
