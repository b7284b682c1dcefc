//! `toolrouter serve`: open storage, bootstrap on first start, bind, serve until SIGINT/SIGTERM.

use std::io::ErrorKind;

use anyhow::Context;
use secrecy::ExposeSecret;
use toolrouter_http::{HttpConfig, McpConfig, TlsFiles};

use crate::config::Settings;
use crate::{open_app_at, out};

pub(crate) async fn run(s: &Settings) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Bound first: the default public URL (connect links, the OAuth redirect URI) is the
    // address actually listened on, which with port 0 is known only now.
    let listener = std::net::TcpListener::bind(s.listen)
        .with_context(|| format!("cannot listen on {}", s.listen))?;
    let addr = listener.local_addr()?;
    let app = open_app_at(s, addr).await?;
    if let Some(boot) = app
        .bootstrap()
        .await
        .context("first-start bootstrap failed")?
    {
        let key = boot.key.key.expose_secret();
        let path = s.data_dir.join("api-key");
        match toolrouter_vault::write_secret_file(&path, format!("{key}\n").as_bytes()) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                tracing::warn!(path = %path.display(), "api-key file already exists; not overwritten");
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot write the api-key file");
            }
        }
        out(&format!(
            "Created project {} and its first API key (shown once, also saved to {}):\n\n    {key}\n",
            boot.project.id,
            path.display()
        ));
    }
    if let Some(w) = &s.workbench {
        start_workbench(&app, w, s.request_timeout).await?;
    }
    let router = toolrouter_http::router(
        app.clone(),
        &HttpConfig {
            body_limit: s.body_limit,
            request_timeout: s.request_timeout,
            mcp: mcp_config(s, addr),
        },
    );
    let tls = s.tls.clone().map(|(cert, key)| TlsFiles { cert, key });
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        %addr,
        database = app.backend(),
        toolkits = app.catalog().toolkit_count(),
        tools = app.catalog().tool_count(),
        startup_ms = started.elapsed().as_millis() as u64,
        "toolrouter ready on {scheme}://{addr}"
    );
    toolrouter_http::serve(listener, router, tls, shutdown_signal(), s.shutdown_grace).await?;
    // The last calls' log entries may still be gathering (up to 100 ms): write them first.
    app.execution_log_flush().await;
    app.workbench_shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// The parent cgroup of this server's sandboxes, unique per workbench directory: a server sweeps
/// leftover sandbox cgroups under its parent at start and removes the parent at shutdown, so two
/// servers on one host (other data directories) must never share it.
fn cgroup_name(dir: &std::path::Path) -> String {
    use sha2::Digest;
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let digest = sha2::Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let tag: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("toolrouter-workbench-{tag}")
}

/// Starts the sandboxes over the workbench directory (`files/` is the app's files root).
async fn start_workbench(
    app: &toolrouter_app::App,
    w: &crate::config::WorkbenchSettings,
    request_timeout: std::time::Duration,
) -> anyhow::Result<()> {
    let mut config =
        toolrouter_workbench::WorkbenchConfig::new(w.dir.join("files"), w.dir.join("run"));
    config.cgroup_name = cgroup_name(&w.dir);
    config.idle_timeout = w.idle_timeout;
    config.max_sandboxes = w.max_sandboxes;
    config.call_timeout = w.exec_timeout;
    if let Some(egress) = &w.egress {
        config.egress = start_egress_proxy(egress, &config)?;
    }
    if request_timeout <= w.exec_timeout {
        tracing::warn!(
            request_timeout_s = request_timeout.as_secs(),
            workbench_exec_timeout_s = w.exec_timeout.as_secs(),
            "--request-timeout is not above --workbench-exec-timeout: long workbench calls will be answered 408 before they finish"
        );
    }
    app.start_workbench(config).await.with_context(|| {
        format!(
            "cannot start the workbench in {} (run as root, or pass --workbench off)",
            w.dir.display()
        )
    })?;
    if let Some(status) = app.workbench_status() {
        tracing::info!(
            isolation = status.isolation.as_str(),
            max_sandboxes = status.max_sandboxes,
            egress = status.egress_mode(),
            "workbench on"
        );
    }
    Ok(())
}

/// Starts the sandboxes' egress proxy on `<runtime dir>/egress.sock`, serving only the sandbox
/// uids, for as long as the server runs.
fn start_egress_proxy(
    e: &crate::config::EgressSettings,
    config: &toolrouter_workbench::WorkbenchConfig,
) -> anyhow::Result<toolrouter_workbench::Egress> {
    use std::os::unix::fs::PermissionsExt;
    let policy = crate::auth::outbound_policy("workbench_egress_allow", &e.allow)?;
    let socket = config.runtime_dir.join("egress.sock");
    // The sandbox uids traverse it to reach the socket (the workbench keeps it 0711 too).
    std::fs::create_dir_all(&config.runtime_dir)
        .and_then(|()| {
            std::fs::set_permissions(&config.runtime_dir, std::fs::Permissions::from_mode(0o711))
        })
        .with_context(|| format!("cannot create {}", config.runtime_dir.display()))?;
    let listener = toolrouter_exec::bind_egress_socket(&socket)
        .with_context(|| format!("cannot listen on {}", socket.display()))?;
    let proxy = toolrouter_exec::EgressConfig {
        policy,
        ports: e.ports.clone(),
        peer_uids: Some(config.uid_base..config.uid_base.saturating_add(config.max_sandboxes)),
        ..toolrouter_exec::EgressConfig::default()
    };
    tracing::info!(socket = %socket.display(), ports = ?e.ports, allow = ?e.allow, "workbench egress proxy on");
    tokio::spawn(toolrouter_exec::serve_egress(
        listener,
        proxy,
        std::future::pending(),
    ));
    Ok(toolrouter_workbench::Egress::Proxy { socket })
}

/// The MCP endpoint's settings. Allowed hosts: loopback, the address listened on, `public_url`'s
/// host and the operator's list (`*` in it turns the check off: a proxy in front checks hosts).
fn mcp_config(s: &Settings, addr: std::net::SocketAddr) -> McpConfig {
    let mut config = McpConfig::loopback();
    if let Some(max) = s.mcp_max_sessions {
        config.max_sessions = max;
    }
    if let Some(idle) = s.mcp_session_idle {
        config.session_idle = idle;
    }
    let origins = s.mcp_allowed_origins.clone();
    if s.mcp_allowed_hosts.iter().any(|h| h == "*") {
        return McpConfig {
            allowed_hosts: None,
            allowed_origins: origins,
            ..config
        };
    }
    let hosts = config.allowed_hosts.get_or_insert_with(Vec::new);
    if !addr.ip().is_unspecified() {
        hosts.push(match addr.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        });
    }
    // `scheme://[user@]host[:port]/…` → `host[:port]`: clients send public_url's authority.
    if let Some(authority) = s
        .public_url
        .as_deref()
        .and_then(|u| u.split_once("://"))
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .map(|a| a.rsplit_once('@').map_or(a, |(_, host)| host))
        .filter(|a| !a.is_empty())
    {
        hosts.push(authority.to_owned());
    }
    hosts.extend(s.mcp_allowed_hosts.iter().cloned());
    config.allowed_origins = origins;
    config
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::{McpConfig, cgroup_name, mcp_config};
    use crate::config::{CommonArgs, ServeArgs, Settings};

    fn settings(file: &str, serve: &ServeArgs) -> Settings {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(file.as_bytes()).unwrap();
        let common = CommonArgs {
            config: Some(f.path().to_owned()),
            ..CommonArgs::default()
        };
        Settings::resolve(&common, serve).unwrap()
    }

    #[test]
    fn mcp_settings_come_from_loopback_listen_address_public_url_and_options() {
        let s = settings(
            "public_url = \"https://user@tools.example.com:8443/base\"\n\
             mcp_allowed_hosts = [\"lan.example\"]\n\
             mcp_allowed_origins = [\"https://app.example.com\"]\n",
            &ServeArgs {
                mcp_allowed_hosts: vec!["other.example:9000".into()],
                ..ServeArgs::default()
            },
        );
        let c = mcp_config(&s, "10.0.0.5:8080".parse().unwrap());
        assert_eq!(
            c.allowed_hosts.unwrap(),
            [
                "localhost",
                "127.0.0.1",
                "[::1]",
                "10.0.0.5",
                "tools.example.com:8443",
                "lan.example",
                "other.example:9000"
            ]
        );
        assert_eq!(c.allowed_origins, ["https://app.example.com"]);
        assert_eq!(c.max_sessions, McpConfig::loopback().max_sessions);

        // MCP sessions: the file, then the flags.
        let s = settings(
            "mcp_max_sessions = 10\nmcp_session_idle = 60\n",
            &ServeArgs {
                mcp_max_sessions: Some(20),
                ..ServeArgs::default()
            },
        );
        let c = mcp_config(&s, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(
            (c.max_sessions, c.session_idle),
            (20, std::time::Duration::from_secs(60))
        );

        // An unspecified listen address names no host; `*` turns the check off.
        let s = settings("", &ServeArgs::default());
        let c = mcp_config(&s, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(
            c.allowed_hosts.unwrap(),
            ["localhost", "127.0.0.1", "[::1]"]
        );
        let s = settings(
            "",
            &ServeArgs {
                mcp_allowed_hosts: vec!["*".into()],
                ..ServeArgs::default()
            },
        );
        assert_eq!(
            mcp_config(&s, "0.0.0.0:8080".parse().unwrap()).allowed_hosts,
            None
        );
    }

    #[test]
    fn each_workbench_directory_gets_its_own_cgroup() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let name = cgroup_name(a.path());
        assert!(name.starts_with("toolrouter-workbench-"), "{name}");
        assert_eq!(name, cgroup_name(a.path()), "stable for one directory");
        assert_ne!(
            name,
            cgroup_name(b.path()),
            "two servers never share a parent"
        );
        // The same directory spelled another way is the same server.
        assert_eq!(name, cgroup_name(&a.path().join(".")));
    }
}
