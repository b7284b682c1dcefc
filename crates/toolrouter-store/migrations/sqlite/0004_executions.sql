-- The execution log: one row per tool run, proxy call or meta tool call, keyed by the `log_id`
-- returned on the wire (time-ordered, so keyset pages by id are newest first). `arguments` is
-- JSON text with secret values already replaced by "[redacted]"; `successful` is 0 or 1.
-- No foreign key to sessions: a log row outlives the session it ran in.
CREATE TABLE tool_executions (
    id                   TEXT PRIMARY KEY,
    project_id           TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    session_id           TEXT,
    user_id              TEXT,
    tool_slug            TEXT NOT NULL,
    connected_account_id TEXT,
    successful           INTEGER NOT NULL,
    error                TEXT,
    duration_ms          INTEGER NOT NULL,
    arguments            TEXT NOT NULL,
    created_at           INTEGER NOT NULL
);

CREATE INDEX tool_executions_by_project ON tool_executions(project_id, id);
CREATE INDEX tool_executions_by_session ON tool_executions(project_id, session_id, id);
CREATE INDEX tool_executions_by_user ON tool_executions(project_id, user_id, id);
