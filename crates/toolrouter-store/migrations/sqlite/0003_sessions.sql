-- Tool Router sessions. `config` is the session configuration as JSON text (the core model's
-- storage form); `config_version` starts at 1 and is the compare-and-swap token of updates.
-- Deleted sessions keep their row (`deleted_at`) and are invisible to every read.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL,
    config         TEXT NOT NULL,
    config_version INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER
);

-- Listings are per project (and user), newest first; ids are time-ordered.
CREATE INDEX sessions_by_project ON sessions(project_id, id);
CREATE INDEX sessions_by_user ON sessions(project_id, user_id, id);

-- Every configuration a session has had, one row per version (version 1 is the creation).
CREATE TABLE session_config_history (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    config     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, version)
);
