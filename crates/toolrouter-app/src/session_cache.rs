//! Sessions kept in memory for the calls that use them (execute, search, MCP requests), so a
//! session called again and again costs no database read, while a change or deletion made by
//! any process is what the very next call sees.
//!
//! An entry remembers the store's session epoch from before its read
//! ([`toolrouter_store::SessionStore::session_epoch`]) and is served only while the epoch is
//! still that value: every committed session write moves it, in this process at once and in
//! others through the store's change signal. With no epoch (a PostgreSQL listener that is
//! reconnecting) nothing is served from or put in memory.

use std::sync::Arc;
use std::time::Duration;

use toolrouter_core::session::Session;
use toolrouter_core::{ProjectId, SessionId};

/// Sessions in use at once that stay in memory; an idle one leaves after [`IDLE`].
const CAPACITY: u64 = 4096;
const IDLE: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Entry {
    epoch: u64,
    session: Session,
}

#[derive(Debug)]
pub(crate) struct SessionCache {
    entries: moka::sync::Cache<SessionId, Arc<Entry>>,
}

impl SessionCache {
    pub(crate) fn new() -> SessionCache {
        SessionCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_idle(IDLE)
                .build(),
        }
    }

    /// The project's session as read under `epoch`, if it was and the epoch still is that.
    pub(crate) fn get(&self, project: &ProjectId, id: &SessionId, epoch: u64) -> Option<Session> {
        let entry = self.entries.get(id)?;
        (entry.epoch == epoch && entry.session.project_id == *project)
            .then(|| entry.session.clone())
    }

    /// Remembers a session read while the epoch was `epoch` (taken before the read: a write
    /// committed during the read has moved it, so this entry is never served).
    pub(crate) fn put(&self, epoch: u64, session: &Session) {
        self.entries.insert(
            session.id.clone(),
            Arc::new(Entry {
                epoch,
                session: session.clone(),
            }),
        );
    }
}
