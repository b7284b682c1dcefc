//! `toolrouter serve`: open storage, bootstrap on first start, bind, serve until SIGINT/SIGTERM.

use std::io::ErrorKind;

use anyhow::Context;
use secrecy::ExposeSecret;
use toolrouter_http::{HttpConfig, TlsFiles};

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
    let router = toolrouter_http::router(
        app.clone(),
        &HttpConfig {
            body_limit: s.body_limit,
            request_timeout: s.request_timeout,
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
    tracing::info!("stopped");
    Ok(())
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
