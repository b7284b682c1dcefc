-- Projects own everything; API keys are stored only as keyed hashes.
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    display_prefix TEXT NOT NULL,
    hash           BYTEA NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);

CREATE INDEX api_keys_by_project ON api_keys(project_id, created_at);
