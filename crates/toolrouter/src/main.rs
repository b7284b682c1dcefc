//! The `toolrouter` command: runs the server and the operator commands.
//!
//! This is the only place that reads configuration and the environment, sets up logging, and
//! turns errors into exit codes; everything else lives in the library crates.

/// mimalloc instead of glibc's malloc: the server allocates many small, short-lived buffers per
/// request (parsing, JSON, headers), where glibc's malloc showed up as a fifth of the CPU time
/// under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod auth;
mod cli;
mod config;
mod keys;
mod serve;
mod toolkits;
mod vault;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use toolrouter_app::App;
use toolrouter_store::{ConnectOptions, StoreConfig};
use toolrouter_vault::Keyring;

use crate::config::{CommonArgs, LogFormat, ServeArgs, Settings, redact_url};

/// toolrouter: a self-hostable tool router for AI agents (Composio Tool Router compatible).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (applies pending migrations first).
    // Boxed: its many options would make every other command as large.
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// List toolkits; import an OpenAPI document as a toolkit.
    #[command(subcommand)]
    Toolkits(toolkits::ToolkitsCommand),
    /// Master-key operations: rotate the key, re-encrypt stored secrets.
    #[command(subcommand)]
    Vault(vault::VaultCommand),
    /// Sessions on a running server: create, get, list, delete (client).
    Sessions(cli::SessionsArgs),
    /// Search for tools and run them in a session on a running server (client).
    Tools(cli::ToolsArgs),
    /// Connect a user's account: print the link, wait until it is ACTIVE (client).
    Connect(cli::ConnectArgs),
}

fn init_logging(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid log filter `{filter}`"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

/// Writes a line to stdout (command output, as opposed to logs on stderr).
pub(crate) fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
}

fn store_config(s: &Settings) -> StoreConfig {
    match &s.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            StoreConfig::Postgres {
                url: url.clone(),
                schema: s.database_schema.clone(),
            }
        }
        Some(url) => StoreConfig::Sqlite {
            path: url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url)
                .into(),
        },
        None => StoreConfig::Sqlite {
            path: s.data_dir.join("toolrouter.db"),
        },
    }
}

fn describe_db(s: &Settings) -> String {
    match store_config(s) {
        StoreConfig::Postgres { url, .. } => redact_url(&url),
        StoreConfig::Sqlite { path } => format!("sqlite {}", path.display()),
    }
}

fn create_data_dir(s: &Settings) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(&s.data_dir)
        .with_context(|| format!("cannot create data dir {}", s.data_dir.display()))
}

/// The master keyring: `TOOLROUTER_MASTER_KEY` if set, else the key file (created if absent).
fn keyring(s: &Settings) -> anyhow::Result<Keyring> {
    if let Ok(text) = std::env::var("TOOLROUTER_MASTER_KEY") {
        let text = SecretString::from(text);
        return Keyring::parse(secrecy::ExposeSecret::expose_secret(&text))
            .context("TOOLROUTER_MASTER_KEY is not usable");
    }
    let (ring, created) = Keyring::load_or_create(&s.master_key_file)?;
    if created {
        tracing::warn!(
            path = %s.master_key_file.display(),
            kid = ring.active_kid(),
            "generated a new master key (mode 0600): back it up, every stored credential depends on it"
        );
    }
    Ok(ring)
}

/// Opens storage and the vault and builds the app, as every subcommand needs.
pub(crate) async fn open_app(s: &Settings, migrate: bool) -> anyhow::Result<App> {
    build_app(s, migrate, None, None).await
}

/// As [`open_app`], for the server listening on `bound` (the default public URL).
pub(crate) async fn open_app_at(s: &Settings, bound: std::net::SocketAddr) -> anyhow::Result<App> {
    build_app(s, true, None, Some(bound)).await
}

/// As [`open_app`], with a given keyring (key rotation).
pub(crate) async fn open_app_with_keyring(s: &Settings, ring: Keyring) -> anyhow::Result<App> {
    build_app(s, true, Some(ring), None).await
}

async fn build_app(
    s: &Settings,
    migrate: bool,
    ring: Option<Keyring>,
    bound: Option<std::net::SocketAddr>,
) -> anyhow::Result<App> {
    // The catalog and settings first: a bad operator definition stops here, before anything
    // (the data dir, a master key file) is created.
    let catalog = toolkits::tool_catalog(s.toolkits_dir.as_deref(), &s.toolkit_base_urls)?;
    let config = auth::app_config(s, bound)?;
    if s.database_url.is_none() {
        create_data_dir(s)?;
    }
    let ring = match ring {
        Some(r) => r,
        None => keyring(s)?,
    };
    let opts = ConnectOptions {
        max_connections: s.db_max_connections,
        migrate,
        ..ConnectOptions::default()
    };
    let store = toolrouter_store::connect(&store_config(s), &opts)
        .await
        .map_err(|e| anyhow::anyhow!(error_chain(&e)))
        .with_context(|| format!("cannot open the database ({})", describe_db(s)))?;
    let app = App::new(store, Arc::new(ring), catalog, &config);
    // A wrong master key stops here, clearly, rather than at the first credential read.
    app.check_master_key().await.map_err(|e| {
        anyhow::anyhow!(
            "{}{}",
            e.message,
            e.suggested_fix
                .map(|f| format!(". {f}"))
                .unwrap_or_default()
        )
    })?;
    Ok(app)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        text.push_str(": ");
        text.push_str(&s.to_string());
        src = s.source();
    }
    text
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let serve_args = match &cli.command {
        Command::Serve(a) => (**a).clone(),
        Command::Toolkits(toolkits::ToolkitsCommand::List { toolkits_dir, .. }) => ServeArgs {
            toolkits_dir: toolkits_dir.clone(),
            ..ServeArgs::default()
        },
        _ => ServeArgs::default(),
    };
    let settings = Settings::resolve(&cli.common, &serve_args)?;
    init_logging(settings.log_format, &settings.log)?;
    for var in config::unknown_env_vars() {
        tracing::warn!(
            var,
            "ignoring unknown TOOLROUTER_* environment variable (typo?)"
        );
    }
    match cli.command {
        Command::Serve(_) => serve::run(&settings).await,
        Command::Migrate => {
            if settings.database_url.is_none() {
                create_data_dir(&settings)?;
            }
            let applied = toolrouter_store::migrate(&store_config(&settings))
                .await
                .map_err(|e| anyhow::anyhow!(error_chain(&e)))
                .with_context(|| format!("migration failed ({})", describe_db(&settings)))?;
            out(&format!(
                "applied {applied} migration(s) to {}",
                describe_db(&settings)
            ));
            Ok(())
        }
        Command::Keys(cmd) => keys::run(&settings, cmd).await,
        Command::Toolkits(cmd) => toolkits::run(&settings, cmd),
        Command::Vault(cmd) => vault::run(&settings, cmd).await,
        Command::Sessions(args) => cli::sessions(&settings.data_dir, args).await,
        Command::Tools(args) => cli::tools(&settings.data_dir, args).await,
        Command::Connect(args) => cli::connect(&settings.data_dir, args).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot start the async runtime: {e}"
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
