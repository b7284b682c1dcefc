//! Running the router: plain HTTP or HTTPS (rustls) on an already-bound listener, until a
//! shutdown future resolves; then new connections stop and in-flight requests get a grace
//! period to finish.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;

/// Certificate chain and private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot load TLS certificate {cert} / key {key}: {reason}")]
    Tls {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits up to `grace` for
/// in-flight requests.
pub async fn serve(
    listener: std::net::TcpListener,
    router: Router,
    tls: Option<TlsFiles>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let handle = Handle::new();
    let on_signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!(
            grace_secs = grace.as_secs_f64(),
            "shutting down: finishing in-flight requests"
        );
        on_signal.graceful_shutdown(Some(grace));
    });
    match tls {
        None => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(router.into_make_service())
                .await?
        }
        Some(files) => {
            let config = RustlsConfig::from_pem_file(&files.cert, &files.key)
                .await
                .map_err(|e| ServeError::Tls {
                    cert: files.cert.clone(),
                    key: files.key.clone(),
                    reason: e.to_string(),
                })?;
            // URLs handed back to clients (a session's `mcp.url`) must say `https`.
            let service = router
                .layer(axum::Extension(crate::origin::Tls))
                .into_make_service();
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(service)
                .await?
        }
    }
    Ok(())
}
