//! A TCP forwarder between the server and PostgreSQL that a test can cut and restore, to show
//! what happens when the database goes away while toolrouter runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

pub(crate) struct PgProxy {
    /// The database URL rewritten to go through the proxy.
    pub(crate) url: String,
    down: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl PgProxy {
    pub(crate) async fn start(url: &str) -> PgProxy {
        let (before, after) = url.split_once('@').expect("URL with user@host");
        let (hostport, rest) = after.split_once('/').unwrap_or((after, ""));
        let upstream = hostport.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let down = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(Notify::new());
        let (d, c) = (down.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused in effect
                }
                let upstream = upstream.clone();
                let c = c.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = c.notified() => {}
                    }
                });
            }
        });
        PgProxy {
            url: format!("{before}@{local}/{rest}"),
            down,
            cut,
        }
    }

    /// Drops every open connection and refuses new ones.
    pub(crate) fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    pub(crate) fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}
