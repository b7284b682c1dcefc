//! Configuration: a TOML file (`--config`) < `TOOLROUTER_*` environment < command-line flags.
//!
//! clap already gives flags precedence over their environment variables, so each option is
//! `Option<T>` on the command line; what is still unset is taken from the file, then from the
//! default. The file is parsed with unknown keys refused, so a typo is an error rather than a
//! silently ignored setting. Settings are resolved once here and handed to the library crates
//! as small plain structs: no library reads the environment.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;

/// Options every subcommand that opens the database shares.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct CommonArgs {
    /// TOML configuration file (keys as the long flags, with `_` for `-`).
    #[arg(long, env = "TOOLROUTER_CONFIG", global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Directory for the SQLite database, the master key file and the first API key.
    /// [default: ./toolrouter-data]
    #[arg(long, env = "TOOLROUTER_DATA_DIR", global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// PostgreSQL URL (`postgres://user@host/db`); without it, embedded SQLite in the data dir.
    #[arg(
        long,
        env = "TOOLROUTER_DATABASE_URL",
        global = true,
        value_name = "URL"
    )]
    pub(crate) database_url: Option<String>,
    /// PostgreSQL schema to keep toolrouter's tables in (created if missing). [default: public]
    #[arg(
        long,
        env = "TOOLROUTER_DATABASE_SCHEMA",
        global = true,
        value_name = "NAME"
    )]
    pub(crate) database_schema: Option<String>,
    /// Master key file (base64 keys, newest first). The key itself may instead be given in
    /// TOOLROUTER_MASTER_KEY. [default: <data-dir>/master.key, generated on first start]
    #[arg(
        long,
        env = "TOOLROUTER_MASTER_KEY_FILE",
        global = true,
        value_name = "FILE"
    )]
    pub(crate) master_key_file: Option<PathBuf>,
    /// Database pool size. [default: 8]
    #[arg(
        long,
        env = "TOOLROUTER_DB_MAX_CONNECTIONS",
        global = true,
        value_name = "N"
    )]
    pub(crate) db_max_connections: Option<u32>,
    /// Log format: `text` or `json`. [default: text]
    #[arg(
        long,
        env = "TOOLROUTER_LOG_FORMAT",
        global = true,
        value_name = "FORMAT"
    )]
    pub(crate) log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `toolrouter=debug,info`. [default: info]
    #[arg(long, env = "TOOLROUTER_LOG", global = true, value_name = "FILTER")]
    pub(crate) log: Option<String>,
}

/// Options only `serve` uses.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on. [default: 127.0.0.1:8080]
    #[arg(long, env = "TOOLROUTER_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// PEM certificate chain: serve HTTPS (needs --tls-key).
    #[arg(long, env = "TOOLROUTER_TLS_CERT", value_name = "FILE")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "TOOLROUTER_TLS_KEY", value_name = "FILE")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Largest request body in bytes. [default: 4194304]
    #[arg(long, env = "TOOLROUTER_BODY_LIMIT", value_name = "BYTES")]
    pub(crate) body_limit: Option<usize>,
    /// A tool result larger than this many bytes (serialized) is saved to a file in the
    /// session's files (`/mnt/files/.composio/results/`) and answered with a reference and a
    /// preview. Sessions may set a lower threshold for agents (`workbench.auto_offload_threshold`).
    /// [default: 262144]
    #[arg(long, env = "TOOLROUTER_LARGE_RESULT_BYTES", value_name = "BYTES")]
    pub(crate) large_result_bytes: Option<usize>,
    /// Seconds a request may take before it is answered 408. [default: 60, or the workbench's
    /// exec timeout + 30 when the workbench is on]
    #[arg(long, env = "TOOLROUTER_REQUEST_TIMEOUT", value_name = "SECS")]
    pub(crate) request_timeout: Option<u64>,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM. [default: 30]
    #[arg(long, env = "TOOLROUTER_SHUTDOWN_GRACE", value_name = "SECS")]
    pub(crate) shutdown_grace: Option<u64>,
    /// Directory of operator toolkit definitions: every `*.json` in it is loaded next to the
    /// built-in toolkits (docs/toolkit-format.md). A bad definition stops the server at start.
    #[arg(long, env = "TOOLROUTER_TOOLKITS_DIR", value_name = "DIR")]
    pub(crate) toolkits_dir: Option<PathBuf>,
    /// Send a toolkit's requests to another base URL (a proxy, a regional endpoint, a local
    /// stand-in), e.g. `gmail=http://127.0.0.1:9999`. Repeatable; in the environment, a
    /// comma-separated list. Overrides the `[toolkit_base_urls]` table of the config file per
    /// toolkit.
    #[arg(
        long = "toolkit-base-url",
        env = "TOOLROUTER_TOOLKIT_BASE_URLS",
        value_delimiter = ',',
        value_name = "SLUG=URL"
    )]
    pub(crate) toolkit_base_urls: Vec<String>,
    /// This server's URL as browsers reach it (connect links, the OAuth redirect URI
    /// `<public_url>/link/callback`). [default: http(s)://<listen address>]
    #[arg(long, env = "TOOLROUTER_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// A callback URL (or prefix) every project may send users back to after connecting.
    /// Repeatable; in the environment, a comma-separated list. Added to the file's list.
    #[arg(
        long = "callback-url",
        env = "TOOLROUTER_CALLBACK_URLS",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub(crate) callback_urls: Vec<String>,
    /// A private host, IP or network (CIDR) tool calls may reach (by default only public
    /// addresses). Repeatable; in the environment, a comma-separated list.
    #[arg(
        long = "outbound-allow",
        env = "TOOLROUTER_OUTBOUND_ALLOW",
        value_delimiter = ',',
        value_name = "HOST|CIDR"
    )]
    pub(crate) outbound_allow: Vec<String>,
    /// A host name (or `host:port`) the per-session MCP endpoint answers, against DNS
    /// rebinding; `*` accepts any. Repeatable; in the environment, a comma-separated list.
    /// [default: localhost, 127.0.0.1, [::1], the listen address and public_url's host]
    #[arg(
        long = "mcp-allowed-host",
        env = "TOOLROUTER_MCP_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub(crate) mcp_allowed_hosts: Vec<String>,
    /// A browser origin (`scheme://host[:port]`) allowed to call the MCP endpoint; when none is
    /// given, any origin may (requests still need the API key). Repeatable; comma-separated in
    /// the environment.
    #[arg(
        long = "mcp-allowed-origin",
        env = "TOOLROUTER_MCP_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub(crate) mcp_allowed_origins: Vec<String>,
    /// MCP sessions (notifications, approval questions) this server holds at most; beyond,
    /// `initialize` is answered statelessly. [default: 2000]
    #[arg(long, env = "TOOLROUTER_MCP_MAX_SESSIONS", value_name = "N")]
    pub(crate) mcp_max_sessions: Option<usize>,
    /// Seconds an MCP session may go without a request before it is closed (its client then
    /// continues statelessly). [default: 1800]
    #[arg(long, env = "TOOLROUTER_MCP_SESSION_IDLE", value_name = "SECS")]
    pub(crate) mcp_session_idle: Option<u64>,
    /// Code sandboxes for COMPOSIO_REMOTE_WORKBENCH / COMPOSIO_REMOTE_BASH_TOOL: `on`, `off`,
    /// or `auto` (on when running as root, which sandboxes need: each runs as its own uid).
    /// Off, those tools answer that the server runs no workbench. [default: auto]
    #[arg(long, env = "TOOLROUTER_WORKBENCH", value_name = "MODE")]
    pub(crate) workbench: Option<WorkbenchMode>,
    /// Where sandboxed sessions' files (`files/<session>`, also the files mount) and the
    /// sandboxes' sockets live while the workbench is on. Every parent directory must be
    /// traversable (o+x) by the sandbox uids, so it is not inside the 0700 data dir.
    /// [default: <data-dir>-workbench]
    #[arg(long, env = "TOOLROUTER_WORKBENCH_DIR", value_name = "DIR")]
    pub(crate) workbench_dir: Option<PathBuf>,
    /// Seconds a sandbox may sit unused before it is stopped (its files stay). [default: 900]
    #[arg(long, env = "TOOLROUTER_WORKBENCH_IDLE_TIMEOUT", value_name = "SECS")]
    pub(crate) workbench_idle_timeout: Option<u64>,
    /// Sandboxes running at once; a session starting one more gets a 429. [default: 64]
    #[arg(long, env = "TOOLROUTER_WORKBENCH_MAX_SANDBOXES", value_name = "N")]
    pub(crate) workbench_max_sandboxes: Option<u32>,
    /// Seconds one workbench call may run before it is interrupted. Keep it below
    /// --request-timeout. [default: 180]
    #[arg(long, env = "TOOLROUTER_WORKBENCH_EXEC_TIMEOUT", value_name = "SECS")]
    pub(crate) workbench_exec_timeout: Option<u64>,
    /// Network access for sandboxed code: `off` (none at all), or `proxy`: HTTP and HTTPS only,
    /// through a proxy in this server that refuses loopback, private, link-local and
    /// cloud-metadata addresses (sandboxes have no other route out; HTTP_PROXY/HTTPS_PROXY are
    /// set inside, so pip, requests and curl work). Needs bubblewrap. [default: off]
    #[arg(long, env = "TOOLROUTER_WORKBENCH_EGRESS", value_name = "MODE")]
    pub(crate) workbench_egress: Option<EgressMode>,
    /// A private host, IP or network (CIDR) sandboxed code may reach through the egress proxy
    /// anyway. Separate from --outbound-allow: code is less trusted than tool definitions.
    /// Repeatable; in the environment, a comma-separated list. Added to the file's list.
    #[arg(
        long = "workbench-egress-allow",
        env = "TOOLROUTER_WORKBENCH_EGRESS_ALLOW",
        value_delimiter = ',',
        value_name = "HOST|CIDR"
    )]
    pub(crate) workbench_egress_allow: Vec<String>,
    /// A destination port the egress proxy allows. Repeatable; in the environment, a
    /// comma-separated list; giving any replaces the default. [default: 80,443]
    #[arg(
        long = "workbench-egress-port",
        env = "TOOLROUTER_WORKBENCH_EGRESS_PORTS",
        value_delimiter = ',',
        value_name = "PORT"
    )]
    pub(crate) workbench_egress_ports: Vec<u16>,
}

/// Whether the server runs code sandboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum WorkbenchMode {
    Auto,
    On,
    Off,
}

/// Whether sandboxed code reaches the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EgressMode {
    Off,
    Proxy,
}

/// The workbench's settings, resolved (`None` in [`Settings`] when it is off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkbenchSettings {
    pub(crate) dir: PathBuf,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_sandboxes: u32,
    pub(crate) exec_timeout: Duration,
    /// `None` when sandboxes have no network.
    pub(crate) egress: Option<EgressSettings>,
}

/// The egress proxy's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EgressSettings {
    /// Private hosts and networks allowed anyway (as `--outbound-allow` entries).
    pub(crate) allow: Vec<String>,
    pub(crate) ports: std::collections::BTreeSet<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// The TOML file: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_schema: Option<String>,
    master_key_file: Option<PathBuf>,
    db_max_connections: Option<u32>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    body_limit: Option<usize>,
    large_result_bytes: Option<usize>,
    request_timeout: Option<u64>,
    shutdown_grace: Option<u64>,
    toolkits_dir: Option<PathBuf>,
    /// `slug = "url"` per toolkit.
    toolkit_base_urls: Option<BTreeMap<String, String>>,
    public_url: Option<String>,
    callback_urls: Option<Vec<String>>,
    outbound_allow: Option<Vec<String>>,
    mcp_allowed_hosts: Option<Vec<String>>,
    mcp_allowed_origins: Option<Vec<String>>,
    mcp_max_sessions: Option<usize>,
    mcp_session_idle: Option<u64>,
    /// `[managed_auth.<toolkit>]`: the operator's OAuth apps.
    managed_auth: Option<BTreeMap<String, crate::auth::ManagedAuthEntry>>,
    workbench: Option<WorkbenchMode>,
    workbench_dir: Option<PathBuf>,
    workbench_idle_timeout: Option<u64>,
    workbench_max_sandboxes: Option<u32>,
    workbench_exec_timeout: Option<u64>,
    workbench_egress: Option<EgressMode>,
    workbench_egress_allow: Option<Vec<String>>,
    workbench_egress_ports: Option<Vec<u16>>,
}

/// Every setting, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) data_dir: PathBuf,
    pub(crate) database_url: Option<String>,
    pub(crate) database_schema: Option<String>,
    pub(crate) master_key_file: PathBuf,
    pub(crate) db_max_connections: u32,
    pub(crate) log_format: LogFormat,
    pub(crate) log: String,
    pub(crate) listen: SocketAddr,
    pub(crate) tls: Option<(PathBuf, PathBuf)>,
    pub(crate) body_limit: usize,
    pub(crate) large_result_bytes: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) shutdown_grace: Duration,
    pub(crate) toolkits_dir: Option<PathBuf>,
    /// Toolkit slug → base URL its tools are sent to instead of the definition's.
    pub(crate) toolkit_base_urls: BTreeMap<String, String>,
    pub(crate) public_url: Option<String>,
    /// Callback URLs every project may use (file, then flags/environment).
    pub(crate) callback_urls: Vec<String>,
    pub(crate) outbound_allow: Vec<String>,
    /// Extra hosts of the MCP endpoint (file, then flags/environment); `*` means any.
    pub(crate) mcp_allowed_hosts: Vec<String>,
    pub(crate) mcp_allowed_origins: Vec<String>,
    /// `None`: the MCP crate's defaults.
    pub(crate) mcp_max_sessions: Option<usize>,
    pub(crate) mcp_session_idle: Option<Duration>,
    pub(crate) managed_auth: BTreeMap<String, crate::auth::ManagedAuthEntry>,
    /// `None` when the workbench is off.
    pub(crate) workbench: Option<WorkbenchSettings>,
}

impl Settings {
    /// Where session files live: the workbench's directory when it runs (sandboxes must reach
    /// it), else inside the data dir.
    pub(crate) fn files_root(&self) -> PathBuf {
        match &self.workbench {
            Some(w) => w.dir.join("files"),
            None => self.data_dir.join("files"),
        }
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))
}

/// Environment variables toolrouter reads. Anything else with the prefix is probably a typo.
const KNOWN_ENV: &[&str] = &[
    "TOOLROUTER_CONFIG",
    "TOOLROUTER_DATA_DIR",
    "TOOLROUTER_DATABASE_URL",
    "TOOLROUTER_DATABASE_SCHEMA",
    "TOOLROUTER_MASTER_KEY",
    "TOOLROUTER_MASTER_KEY_FILE",
    "TOOLROUTER_DB_MAX_CONNECTIONS",
    "TOOLROUTER_LOG_FORMAT",
    "TOOLROUTER_LOG",
    "TOOLROUTER_LISTEN",
    "TOOLROUTER_TLS_CERT",
    "TOOLROUTER_TLS_KEY",
    "TOOLROUTER_BODY_LIMIT",
    "TOOLROUTER_LARGE_RESULT_BYTES",
    "TOOLROUTER_REQUEST_TIMEOUT",
    "TOOLROUTER_SHUTDOWN_GRACE",
    "TOOLROUTER_TOOLKITS_DIR",
    "TOOLROUTER_TOOLKIT_BASE_URLS",
    "TOOLROUTER_PUBLIC_URL",
    "TOOLROUTER_CALLBACK_URLS",
    "TOOLROUTER_OUTBOUND_ALLOW",
    "TOOLROUTER_MCP_ALLOWED_HOSTS",
    "TOOLROUTER_MCP_ALLOWED_ORIGINS",
    "TOOLROUTER_WORKBENCH",
    "TOOLROUTER_WORKBENCH_DIR",
    "TOOLROUTER_WORKBENCH_IDLE_TIMEOUT",
    "TOOLROUTER_WORKBENCH_MAX_SANDBOXES",
    "TOOLROUTER_WORKBENCH_EXEC_TIMEOUT",
    "TOOLROUTER_WORKBENCH_EGRESS",
    "TOOLROUTER_WORKBENCH_EGRESS_ALLOW",
    "TOOLROUTER_WORKBENCH_EGRESS_PORTS",
    // Read by the client commands, not the server.
    "TOOLROUTER_API_KEY",
    "TOOLROUTER_BASE_URL",
];

/// `TOOLROUTER_*` variables that are set but mean nothing to this binary.
pub(crate) fn unknown_env_vars() -> Vec<String> {
    std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("TOOLROUTER_") && !KNOWN_ENV.contains(&k.as_str()))
        .collect()
}

impl Settings {
    pub(crate) fn resolve(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<Settings> {
        let file = match &common.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = common
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./toolrouter-data"));
        let master_key_file = common
            .master_key_file
            .clone()
            .or(file.master_key_file)
            .unwrap_or_else(|| data_dir.join("master.key"));
        let tls_cert = serve.tls_cert.clone().or(file.tls_cert);
        let tls_key = serve.tls_key.clone().or(file.tls_key);
        let tls = match (tls_cert, tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                bail!("--tls-cert and --tls-key go together: give both to serve HTTPS, or neither")
            }
        };
        let body_limit = serve
            .body_limit
            .or(file.body_limit)
            .unwrap_or(4 * 1024 * 1024);
        if body_limit == 0 {
            bail!("body_limit must be at least 1 byte");
        }
        let large_result_bytes = serve
            .large_result_bytes
            .or(file.large_result_bytes)
            .unwrap_or(256 * 1024);
        if large_result_bytes < 1024 {
            bail!(
                "large_result_bytes must be at least 1024 (a smaller limit would turn every result \
                 into a file); got {large_result_bytes}"
            );
        }
        let mut toolkit_base_urls = file.toolkit_base_urls.unwrap_or_default();
        for entry in &serve.toolkit_base_urls {
            let Some((slug, url)) = entry.split_once('=') else {
                bail!(
                    "--toolkit-base-url `{entry}` must be SLUG=URL, e.g. gmail=http://127.0.0.1:9999"
                );
            };
            toolkit_base_urls.insert(slug.trim().to_owned(), url.trim().to_owned());
        }
        let workbench_on = match serve
            .workbench
            .or(file.workbench)
            .unwrap_or(WorkbenchMode::Auto)
        {
            WorkbenchMode::On => true,
            WorkbenchMode::Off => false,
            WorkbenchMode::Auto => toolrouter_workbench::running_as_root(),
        };
        let workbench = if workbench_on {
            let max_sandboxes = serve
                .workbench_max_sandboxes
                .or(file.workbench_max_sandboxes)
                .unwrap_or(64);
            if max_sandboxes == 0 {
                bail!(
                    "workbench_max_sandboxes must be at least 1 (use --workbench off to disable)"
                );
            }
            let egress = match serve
                .workbench_egress
                .or(file.workbench_egress)
                .unwrap_or(EgressMode::Off)
            {
                EgressMode::Off => None,
                EgressMode::Proxy => {
                    let ports = if serve.workbench_egress_ports.is_empty() {
                        file.workbench_egress_ports.unwrap_or_else(|| vec![80, 443])
                    } else {
                        serve.workbench_egress_ports.clone()
                    };
                    if ports.is_empty() || ports.contains(&0) {
                        bail!(
                            "workbench_egress_ports must list ports from 1 to 65535 (use --workbench-egress off for no network)"
                        );
                    }
                    Some(EgressSettings {
                        allow: file
                            .workbench_egress_allow
                            .unwrap_or_default()
                            .into_iter()
                            .chain(serve.workbench_egress_allow.iter().cloned())
                            .collect(),
                        ports: ports.into_iter().collect(),
                    })
                }
            };
            let mut sibling = data_dir.clone().into_os_string();
            sibling.push("-workbench");
            Some(WorkbenchSettings {
                // Absolute: bubblewrap binds it from the sandbox's side.
                dir: std::path::absolute(
                    serve
                        .workbench_dir
                        .clone()
                        .or(file.workbench_dir)
                        .unwrap_or_else(|| PathBuf::from(sibling)),
                )
                .context("cannot resolve the workbench directory")?,
                idle_timeout: Duration::from_secs(
                    serve
                        .workbench_idle_timeout
                        .or(file.workbench_idle_timeout)
                        .unwrap_or(900)
                        .max(1),
                ),
                max_sandboxes,
                exec_timeout: Duration::from_secs(
                    serve
                        .workbench_exec_timeout
                        .or(file.workbench_exec_timeout)
                        .unwrap_or(180)
                        .max(1),
                ),
                egress,
            })
        } else {
            None
        };
        Ok(Settings {
            data_dir,
            database_url: common.database_url.clone().or(file.database_url),
            database_schema: common.database_schema.clone().or(file.database_schema),
            master_key_file,
            db_max_connections: common
                .db_max_connections
                .or(file.db_max_connections)
                .unwrap_or(8)
                .max(1),
            log_format: common
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            log: common
                .log
                .clone()
                .or(file.log)
                .unwrap_or_else(|| "info".to_owned()),
            listen: serve
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            tls,
            body_limit,
            large_result_bytes,
            // A workbench call may run for its whole exec timeout: by default requests get
            // longer than that, so the call answers rather than a 408.
            request_timeout: Duration::from_secs(
                serve
                    .request_timeout
                    .or(file.request_timeout)
                    .unwrap_or_else(|| {
                        workbench
                            .as_ref()
                            .map_or(60, |w| 60.max(w.exec_timeout.as_secs() + 30))
                    })
                    .max(1),
            ),
            shutdown_grace: Duration::from_secs(
                serve.shutdown_grace.or(file.shutdown_grace).unwrap_or(30),
            ),
            toolkits_dir: serve.toolkits_dir.clone().or(file.toolkits_dir),
            toolkit_base_urls,
            public_url: serve.public_url.clone().or(file.public_url),
            callback_urls: file
                .callback_urls
                .unwrap_or_default()
                .into_iter()
                .chain(serve.callback_urls.iter().cloned())
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect(),
            outbound_allow: file
                .outbound_allow
                .unwrap_or_default()
                .into_iter()
                .chain(serve.outbound_allow.iter().cloned())
                .collect(),
            mcp_allowed_hosts: file
                .mcp_allowed_hosts
                .unwrap_or_default()
                .into_iter()
                .chain(serve.mcp_allowed_hosts.iter().cloned())
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect(),
            mcp_allowed_origins: file
                .mcp_allowed_origins
                .unwrap_or_default()
                .into_iter()
                .chain(serve.mcp_allowed_origins.iter().cloned())
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            mcp_max_sessions: serve.mcp_max_sessions.or(file.mcp_max_sessions),
            mcp_session_idle: serve
                .mcp_session_idle
                .or(file.mcp_session_idle)
                .map(|s| Duration::from_secs(s.max(1))),
            managed_auth: file.managed_auth.unwrap_or_default(),
            workbench,
        })
    }
}

/// A database URL with its password replaced, for logs and error messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn file_fills_what_flags_leave_unset_and_flags_win() {
        let (_d, path) = write("listen = \"0.0.0.0:9000\"\nlog = \"debug\"\nbody_limit = 10\n");
        let common = CommonArgs {
            config: Some(path),
            log: Some("warn".into()),
            ..CommonArgs::default()
        };
        let s = Settings::resolve(&common, &ServeArgs::default()).unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(s.log, "warn");
        assert_eq!(s.body_limit, 10);
        assert_eq!(
            s.master_key_file,
            PathBuf::from("./toolrouter-data/master.key")
        );
    }

    #[test]
    fn large_result_limit_defaults_and_refuses_tiny_values() {
        let common = CommonArgs::default();
        let s = Settings::resolve(&common, &ServeArgs::default()).unwrap();
        assert_eq!(s.large_result_bytes, 256 * 1024);
        let serve = |n| ServeArgs {
            large_result_bytes: Some(n),
            ..ServeArgs::default()
        };
        assert_eq!(
            Settings::resolve(&common, &serve(4096))
                .unwrap()
                .large_result_bytes,
            4096
        );
        let e = Settings::resolve(&common, &serve(10)).unwrap_err();
        assert!(
            e.to_string()
                .contains("large_result_bytes must be at least 1024"),
            "{e}"
        );
    }

    #[test]
    fn workbench_settings_resolve_with_their_defaults() {
        let off = ServeArgs {
            workbench: Some(WorkbenchMode::Off),
            ..ServeArgs::default()
        };
        let s = Settings::resolve(&CommonArgs::default(), &off).unwrap();
        assert_eq!(s.workbench, None);
        assert_eq!(s.files_root(), PathBuf::from("./toolrouter-data/files"));
        assert_eq!(s.request_timeout, Duration::from_secs(60));

        let on = ServeArgs {
            workbench: Some(WorkbenchMode::On),
            ..ServeArgs::default()
        };
        let s = Settings::resolve(&CommonArgs::default(), &on).unwrap();
        assert_eq!(
            s.workbench,
            Some(WorkbenchSettings {
                dir: std::path::absolute("./toolrouter-data-workbench").unwrap(),
                idle_timeout: Duration::from_secs(900),
                max_sandboxes: 64,
                exec_timeout: Duration::from_secs(180),
                egress: None,
            })
        );
        assert_eq!(
            s.files_root(),
            std::path::absolute("./toolrouter-data-workbench/files").unwrap()
        );
        // Requests outlast the longest workbench call unless the operator says otherwise.
        assert_eq!(s.request_timeout, Duration::from_secs(210));

        let (_d, path) = write(
            "workbench = \"on\"\nworkbench_dir = \"/srv/wb\"\nworkbench_exec_timeout = 20\n\
             workbench_max_sandboxes = 3\nrequest_timeout = 25\n",
        );
        let common = CommonArgs {
            config: Some(path),
            ..CommonArgs::default()
        };
        let s = Settings::resolve(&common, &ServeArgs::default()).unwrap();
        let w = s.workbench.clone().unwrap();
        assert_eq!(
            (w.dir, w.exec_timeout, w.max_sandboxes),
            (PathBuf::from("/srv/wb"), Duration::from_secs(20), 3)
        );
        assert_eq!(s.request_timeout, Duration::from_secs(25));

        let zero = ServeArgs {
            workbench: Some(WorkbenchMode::On),
            workbench_max_sandboxes: Some(0),
            ..ServeArgs::default()
        };
        let err = Settings::resolve(&CommonArgs::default(), &zero).unwrap_err();
        assert!(err.to_string().contains("workbench_max_sandboxes"), "{err}");
    }

    #[test]
    fn workbench_egress_is_off_unless_asked_and_merges_file_and_flags() {
        let (_d, path) = write(
            "workbench = \"on\"\nworkbench_egress = \"proxy\"\n\
             workbench_egress_allow = [\"10.1.0.0/16\"]\nworkbench_egress_ports = [443]\n",
        );
        let common = CommonArgs {
            config: Some(path),
            ..CommonArgs::default()
        };
        let s = Settings::resolve(&common, &ServeArgs::default()).unwrap();
        assert_eq!(
            s.workbench.unwrap().egress,
            Some(EgressSettings {
                allow: vec!["10.1.0.0/16".into()],
                ports: [443].into(),
            })
        );
        // Flags add hosts and replace ports; `off` wins over the file.
        let serve = ServeArgs {
            workbench_egress_allow: vec!["pypi.internal".into()],
            workbench_egress_ports: vec![80, 8080],
            ..ServeArgs::default()
        };
        let e = Settings::resolve(&common, &serve)
            .unwrap()
            .workbench
            .unwrap()
            .egress
            .unwrap();
        assert_eq!(e.allow, ["10.1.0.0/16", "pypi.internal"]);
        assert_eq!(e.ports, [80, 8080].into());
        let off = ServeArgs {
            workbench_egress: Some(EgressMode::Off),
            ..ServeArgs::default()
        };
        assert_eq!(
            Settings::resolve(&common, &off)
                .unwrap()
                .workbench
                .unwrap()
                .egress,
            None
        );
        let on = ServeArgs {
            workbench: Some(WorkbenchMode::On),
            workbench_egress: Some(EgressMode::Proxy),
            ..ServeArgs::default()
        };
        let e = Settings::resolve(&CommonArgs::default(), &on)
            .unwrap()
            .workbench
            .unwrap()
            .egress
            .unwrap();
        assert_eq!((e.allow.len(), e.ports), (0, [80, 443].into()));
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors_naming_the_key() {
        let (_d, path) = write("listn = \"0.0.0.0:9000\"\n");
        let common = CommonArgs {
            config: Some(path),
            ..CommonArgs::default()
        };
        let err = Settings::resolve(&common, &ServeArgs::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `listn`"), "{err}");
    }

    #[test]
    fn tls_needs_both_files() {
        let serve = ServeArgs {
            tls_cert: Some("c.pem".into()),
            ..ServeArgs::default()
        };
        let err = Settings::resolve(&CommonArgs::default(), &serve)
            .unwrap_err()
            .to_string();
        assert!(err.contains("go together"), "{err}");
    }

    #[test]
    fn toolkit_base_urls_merge_file_and_flags_per_toolkit() {
        let (_d, path) = write(
            "toolkits_dir = \"/srv/toolkits\"\n[toolkit_base_urls]\ngmail = \"http://a\"\nslack = \"http://b\"\n",
        );
        let common = CommonArgs {
            config: Some(path),
            ..CommonArgs::default()
        };
        let serve = ServeArgs {
            toolkit_base_urls: vec!["slack=http://c".into(), "github = http://d".into()],
            ..ServeArgs::default()
        };
        let s = Settings::resolve(&common, &serve).unwrap();
        assert_eq!(s.toolkits_dir, Some(PathBuf::from("/srv/toolkits")));
        let urls: Vec<(&str, &str)> = s
            .toolkit_base_urls
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            urls,
            [
                ("github", "http://d"),
                ("gmail", "http://a"),
                ("slack", "http://c")
            ]
        );

        let bad = ServeArgs {
            toolkit_base_urls: vec!["gmail".into()],
            ..ServeArgs::default()
        };
        let err = Settings::resolve(&CommonArgs::default(), &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`gmail` must be SLUG=URL"), "{err}");
    }

    #[test]
    fn auth_settings_come_from_the_file_and_flags() {
        let (_d, path) = write(
            "public_url = \"https://tools.example.com\"\ncallback_urls = [\"https://app.example.com/cb\"]\n\
             [managed_auth.github]\nclient_id = \"Iv1.abc\"\nclient_secret_env = \"GITHUB_CLIENT_SECRET\"\n",
        );
        let common = CommonArgs {
            config: Some(path),
            ..CommonArgs::default()
        };
        let serve = ServeArgs {
            callback_urls: vec!["http://127.0.0.1:3000/done".into()],
            outbound_allow: vec!["127.0.0.1".into()],
            ..ServeArgs::default()
        };
        let s = Settings::resolve(&common, &serve).unwrap();
        assert_eq!(s.public_url.as_deref(), Some("https://tools.example.com"));
        assert_eq!(
            s.callback_urls,
            ["https://app.example.com/cb", "http://127.0.0.1:3000/done"]
        );
        assert_eq!(s.outbound_allow, ["127.0.0.1"]);
        assert_eq!(s.managed_auth["github"].client_id, "Iv1.abc");

        let (_d, path) =
            write("[managed_auth.github]\nclient_id = \"x\"\nclient_secret = \"inline\"\n");
        let common = CommonArgs {
            config: Some(path),
            ..CommonArgs::default()
        };
        let err = Settings::resolve(&common, &ServeArgs::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown field `client_secret`"),
            "secrets stay out of the file: {err}"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:p@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite:x.db"), "sqlite:x.db");
    }
}
