//! The MCP sessions this replica holds, and `notifications/tools/list_changed` for them.
//!
//! An MCP session (rmcp's `LocalSessionManager`, in memory) is opened by `initialize` and bound
//! to the Tool Router session and project it was opened on: the id is honoured only on that
//! session's URL with that project's key, and every request is still checked against the
//! database first, so a deleted session or a revoked key stops at once. The id is useful only
//! here: on another replica (or after a restart) it is unknown and the request is answered
//! statelessly instead (`endpoint.rs`). Memory is bounded: at most `McpConfig::max_sessions`
//! sessions, each closed after `McpConfig::session_idle` without use.
//!
//! Clients are told about changes of their session's configuration: changes this process makes
//! arrive at once from `App::session_changes`; changes made through another replica are found
//! by reading the `config_version` of each watched session every `McpConfig::change_poll` (one
//! read per session with clients here, and no reads at all while there are none: the watcher
//! task runs only while someone listens). A deleted session's MCP sessions are told, then
//! closed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::service::Peer;
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio::sync::broadcast::error::RecvError;
use toolrouter_app::{App, AppError, Caller};
use toolrouter_core::session::Session;
use toolrouter_core::{ErrorCode, ProjectId, SessionId};

use crate::McpConfig;

/// How long the last notification to a deleted session's client may take before its MCP
/// session is closed anyway.
const NOTIFY_WAIT: Duration = Duration::from_secs(5);

/// The MCP sessions of one replica.
pub(crate) struct Live {
    app: App,
    manager: Arc<LocalSessionManager>,
    max_sessions: usize,
    poll: Duration,
    state: Mutex<State>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("max_sessions", &self.max_sessions)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// MCP session id → what it was opened on.
    bindings: HashMap<String, Binding>,
    /// Tool Router session → the clients to tell about its changes.
    watched: HashMap<SessionId, Watched>,
    /// Whether the watcher task runs (it stops when nothing is watched).
    watching: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Binding {
    project: ProjectId,
    session: SessionId,
}

struct Watched {
    /// Who opened the first MCP session on it (the project scopes the version read).
    caller: Caller,
    /// The `config_version` its clients last heard about.
    version: i64,
    peers: Vec<Peer<RoleServer>>,
}

impl Live {
    pub(crate) fn new(app: App, manager: Arc<LocalSessionManager>, config: &McpConfig) -> Live {
        Live {
            app,
            manager,
            max_sessions: config.max_sessions,
            poll: config.change_poll,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent at every await-free step, so a panic elsewhere leaves
        // nothing half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether another MCP session may be opened here.
    pub(crate) async fn has_room(&self) -> bool {
        self.manager.sessions.read().await.len() < self.max_sessions
    }

    /// Whether a request carrying `mcp_id` (its `Mcp-Session-Id`) for `session` belongs to an
    /// MCP session this replica holds; an error when that MCP session was opened on another
    /// Tool Router session or project.
    pub(crate) async fn holds(
        &self,
        mcp_id: Option<&str>,
        caller: &Caller,
        session: &Session,
    ) -> Result<bool, AppError> {
        let Some(mcp_id) = mcp_id else {
            return Ok(false);
        };
        let Some(binding) = self.state().bindings.get(mcp_id).cloned() else {
            return Ok(false);
        };
        if !self.manager.sessions.read().await.contains_key(mcp_id) {
            // Closed since (idle, or ended by its client): forget it.
            self.state().bindings.remove(mcp_id);
            return Ok(false);
        }
        if binding.project != caller.project_id || binding.session != session.id {
            tracing::warn!(
                mcp_session = mcp_id,
                session = %session.id,
                "MCP session id presented on another session or project"
            );
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!(
                    "MCP session `{mcp_id}` was opened on another Tool Router session or with \
                     another project's key."
                ),
            )
            .with_fix(
                "Send each MCP session's requests to the `mcp.url` it was initialized on, with \
                 the same key, or initialize a new MCP session on this URL.",
            ));
        }
        Ok(true)
    }

    /// Records that `mcp_id` was just opened on `session` by `caller`.
    pub(crate) async fn bind(&self, mcp_id: &str, caller: &Caller, session: &Session) {
        if self.state().bindings.len() >= self.max_sessions {
            // Sessions that ended without anyone asking for them again.
            let open = self.open_sessions().await;
            self.state()
                .bindings
                .retain(|id, _| open.contains(id.as_str()));
        }
        self.state().bindings.insert(
            mcp_id.to_owned(),
            Binding {
                project: caller.project_id.clone(),
                session: session.id.clone(),
            },
        );
    }

    /// The ids of the MCP sessions rmcp holds open.
    async fn open_sessions(&self) -> HashSet<Arc<str>> {
        self.manager.sessions.read().await.keys().cloned().collect()
    }

    /// Tells `peer` (an MCP session's client) about changes of `session` from now on.
    pub(crate) fn watch(
        self: &Arc<Self>,
        peer: Peer<RoleServer>,
        caller: &Caller,
        session: &Session,
    ) {
        let mut state = self.state();
        let watched = state
            .watched
            .entry(session.id.clone())
            .or_insert_with(|| Watched {
                caller: caller.clone(),
                version: session.config_version,
                peers: Vec::new(),
            });
        watched.peers.retain(|p| !p.is_transport_closed());
        watched.peers.push(peer);
        if !state.watching {
            state.watching = true;
            tokio::spawn(Arc::clone(self).watcher());
        }
    }

    /// Runs while any session is watched: pushes this process's changes at once and polls the
    /// versions for other replicas' changes.
    async fn watcher(self: Arc<Self>) {
        let mut changes = self.app.session_changes();
        let mut tick = tokio::time::interval(self.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        // Only polling is left if the app's change channel ever closes.
        let mut listening = true;
        loop {
            let due: Vec<SessionId> = tokio::select! {
                change = changes.recv(), if listening => match change {
                    Ok(id) => vec![id],
                    Err(RecvError::Lagged(_)) => self.state().watched.keys().cloned().collect(),
                    Err(RecvError::Closed) => {
                        listening = false;
                        Vec::new()
                    }
                },
                _ = tick.tick() => {
                    let open = self.open_sessions().await;
                    let mut state = self.state();
                    state.bindings.retain(|id, _| open.contains(id.as_str()));
                    state.watched.retain(|_, w| {
                        w.peers.retain(|p| !p.is_transport_closed());
                        !w.peers.is_empty()
                    });
                    if state.watched.is_empty() {
                        state.watching = false;
                        return;
                    }
                    state.watched.keys().cloned().collect()
                }
            };
            for id in due {
                self.check(&id).await;
            }
        }
    }

    /// Reads `id`'s version; if its clients have not heard of it, tells them.
    async fn check(&self, id: &SessionId) {
        let Some((caller, version)) = self
            .state()
            .watched
            .get(id)
            .map(|w| (w.caller.clone(), w.version))
        else {
            return;
        };
        // The version now; `None` when the session was deleted.
        let current = match self.app.session_find(&caller, id.as_str()).await {
            Ok(s) if s.config_version == version => return,
            Ok(s) => Some(s.config_version),
            Err(e) if e.code == ErrorCode::SessionNotFound => None,
            Err(e) => {
                tracing::warn!(
                    session = %id,
                    error = %e.message,
                    "could not read a watched session's version"
                );
                return;
            }
        };
        let (peers, closing) = {
            let mut state = self.state();
            match current {
                Some(version) => {
                    let Some(w) = state.watched.get_mut(id) else {
                        return;
                    };
                    w.version = version;
                    w.peers.retain(|p| !p.is_transport_closed());
                    (w.peers.clone(), Vec::new())
                }
                None => {
                    let peers = state
                        .watched
                        .remove(id)
                        .map(|w| w.peers)
                        .unwrap_or_default();
                    let closing: Vec<String> = state
                        .bindings
                        .iter()
                        .filter(|(_, b)| &b.session == id)
                        .map(|(m, _)| m.clone())
                        .collect();
                    for m in &closing {
                        state.bindings.remove(m);
                    }
                    (peers, closing)
                }
            }
        };
        tracing::debug!(
            session = %id,
            clients = peers.len(),
            "session changed: telling MCP clients"
        );
        if closing.is_empty() {
            for peer in peers {
                // A client that does not read its stream must not hold up the others.
                tokio::spawn(async move {
                    let _ = peer.notify_tool_list_changed().await;
                });
            }
            return;
        }
        let manager = Arc::clone(&self.manager);
        tokio::spawn(async move {
            // Deleted: its clients hear it (their next request is a 404), then their MCP
            // sessions and streams end.
            for peer in peers {
                let _ = tokio::time::timeout(NOTIFY_WAIT, peer.notify_tool_list_changed()).await;
            }
            for mcp_id in closing {
                let _ = manager.close_session(&Arc::from(mcp_id)).await;
            }
        });
    }
}
