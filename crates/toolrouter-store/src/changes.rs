//! Session change signals: a value ([`SessionStore::session_epoch`]) that changes whenever a
//! session of the database may have changed, in this process or any other, so that a process
//! can keep sessions in memory and still serve a PATCH or DELETE made anywhere at once.
//!
//! Each store keeps an in-process counter, bumped after every session write it commits, and
//! adds what it learns about other processes:
//! - SQLite ([`EpochFile`]): a small file beside the database holding a random value that every
//!   writer replaces after its commit; reading it is one `pread` (no trip through the pool).
//! - PostgreSQL ([`PgFeed`]): a trigger notifies the `toolrouter_sessions:<schema>` channel
//!   in the writing transaction; a listener on its own connection counts the notifications. While
//!   that connection is down there is no epoch (`None`): callers must read the database.
//!
//! [`SessionStore::session_epoch`]: crate::SessionStore::session_epoch

use std::fs::File;
use std::hash::BuildHasher;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// The PostgreSQL channel session writes notify, before `:<schema>` (the 0005 migration).
const CHANNEL: &str = "toolrouter_sessions";

/// A value no two writers are likely to pick: the file's content must differ after every
/// write, even when two processes write at the same time.
fn fresh_value() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::hash::RandomState::new().hash_one((
        nanos,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    ))
}

/// The SQLite signal: `<database>-sessions` holds 8 bytes rewritten after every session write.
#[derive(Debug)]
pub(crate) struct EpochFile {
    local: AtomicU64,
    file: Option<File>,
}

impl EpochFile {
    /// Opens (creating) the file beside the database. Without it (a read-only directory, say)
    /// other processes' changes cannot be seen, so there is no epoch and nothing is cached.
    pub(crate) fn open(database: &Path) -> EpochFile {
        let mut path: PathBuf = database.to_path_buf().into_os_string().into();
        path.as_mut_os_string().push("-sessions");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path);
        let file = match file {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e,
                    "cannot open the session change file: sessions will not be cached");
                None
            }
        };
        let epoch = EpochFile {
            local: AtomicU64::new(0),
            file,
        };
        if epoch.read_file().is_none() {
            epoch.write_file();
        }
        epoch
    }

    fn read_file(&self) -> Option<u64> {
        let mut bytes = [0u8; 8];
        self.file.as_ref()?.read_exact_at(&mut bytes, 0).ok()?;
        Some(u64::from_le_bytes(bytes))
    }

    fn write_file(&self) -> bool {
        self.file.as_ref().is_some_and(|f| {
            f.write_all_at(&fresh_value().to_le_bytes(), 0)
                .inspect_err(|e| tracing::warn!(error = %e, "cannot write the session change file"))
                .is_ok()
        })
    }

    /// The current epoch; `None` when the file cannot be read.
    pub(crate) fn epoch(&self) -> Option<u64> {
        let file = self.read_file()?;
        Some(file.wrapping_add(self.local.load(Ordering::Acquire)))
    }

    /// After a committed session write: this process sees it at once (even if the file cannot
    /// be written), other processes at their next read of the file.
    pub(crate) fn changed(&self) {
        self.local.fetch_add(1, Ordering::AcqRel);
        self.write_file();
    }
}

/// The PostgreSQL signal: notifications counted by a background listener.
#[derive(Debug)]
pub(crate) struct PgFeed {
    counts: Arc<PgCounts>,
    /// Dropping the feed (the last clone of the store) stops the listener.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// What the feed and its listener task share.
#[derive(Debug, Default)]
struct PgCounts {
    /// This process's committed writes.
    local: AtomicU64,
    /// Notifications and (re)connections of the listener.
    heard: AtomicU64,
    /// Whether the listener is connected and listening.
    live: AtomicBool,
}

impl PgFeed {
    /// Starts listening on a connection of its own (`pool` holds at most one).
    pub(crate) fn start(pool: PgPool) -> Arc<PgFeed> {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let counts = Arc::new(PgCounts::default());
        let task_counts = counts.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = listen(pool, &task_counts) => {}
                _ = stop_rx => {}
            }
        });
        Arc::new(PgFeed {
            counts,
            _stop: stop_tx,
        })
    }

    /// `None` while the listener is not connected: another replica's change could be missed.
    pub(crate) fn epoch(&self) -> Option<u64> {
        let c = &self.counts;
        if !c.live.load(Ordering::Acquire) {
            return None;
        }
        Some(
            c.heard
                .load(Ordering::Acquire)
                .wrapping_add(c.local.load(Ordering::Acquire)),
        )
    }

    /// After a committed session write (the notification also comes back; this makes the
    /// change visible here without waiting for it).
    pub(crate) fn changed(&self) {
        self.counts.local.fetch_add(1, Ordering::AcqRel);
    }
}

/// Listens until stopped (the feed dropped), reconnecting with a growing pause. Anything may
/// have changed while not listening, so every (re)connection also moves the epoch.
async fn listen(pool: PgPool, counts: &PgCounts) {
    let mut pause = Duration::from_millis(100);
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                listener.eager_reconnect(false);
                let schema = sqlx::query_scalar::<_, String>("SELECT current_schema()")
                    .fetch_one(&mut listener)
                    .await;
                let listening = match schema {
                    Ok(schema) => listener.listen(&format!("{CHANNEL}:{schema}")).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = listening {
                    tracing::warn!(error = %e, "cannot listen for session changes");
                } else {
                    pause = Duration::from_millis(100);
                    counts.heard.fetch_add(1, Ordering::AcqRel);
                    counts.live.store(true, Ordering::Release);
                    // Every notification moves the epoch; so does losing the connection.
                    while let Ok(Some(_)) = listener.try_recv().await {
                        counts.heard.fetch_add(1, Ordering::AcqRel);
                    }
                    counts.live.store(false, Ordering::Release);
                    counts.heard.fetch_add(1, Ordering::AcqRel);
                    tracing::warn!("lost the session change listener; reconnecting");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot connect the session change listener"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}
