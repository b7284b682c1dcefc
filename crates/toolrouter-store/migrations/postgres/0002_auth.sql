-- Authentication of toolkits: auth configs, connected accounts, pending OAuth2 authorizations and
-- each project's callback-URL allowlist. Secret values are stored only as ciphertext (`sealed`,
-- `sealed_verifier`: key id || nonce || XChaCha20-Poly1305, the row's table and id as associated
-- data); link tokens and OAuth states only as SHA-256 hashes.
CREATE TABLE auth_configs (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    toolkit     TEXT NOT NULL,
    name        TEXT NOT NULL,
    auth_scheme TEXT NOT NULL,
    managed     BOOLEAN NOT NULL,
    origin      TEXT NOT NULL,
    disabled    BOOLEAN NOT NULL,
    scopes      TEXT NOT NULL,
    fields      TEXT NOT NULL,
    sealed      BYTEA,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX auth_configs_by_toolkit ON auth_configs(project_id, toolkit);
-- Account selection creates at most one managed config per project and toolkit, even when two
-- servers race to do it.
CREATE UNIQUE INDEX auth_configs_one_tool_router_config
    ON auth_configs(project_id, toolkit) WHERE origin = 'tool_router';

CREATE TABLE connected_accounts (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    toolkit         TEXT NOT NULL,
    auth_config_id  TEXT NOT NULL REFERENCES auth_configs(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    status_reason   TEXT,
    alias           TEXT,
    disabled        BOOLEAN NOT NULL,
    params          TEXT NOT NULL,
    sealed          BYTEA,
    expires_at      BIGINT,
    version         BIGINT NOT NULL,
    callback_url    TEXT,
    link_hash       BYTEA UNIQUE,
    link_expires_at BIGINT,
    connected_at    BIGINT,
    refresh_owner   TEXT,
    refresh_until   BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE INDEX connected_accounts_by_user ON connected_accounts(project_id, user_id, toolkit);
CREATE INDEX connected_accounts_by_config ON connected_accounts(auth_config_id);

CREATE TABLE oauth_states (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES connected_accounts(id) ON DELETE CASCADE,
    sealed_verifier BYTEA NOT NULL,
    redirect_uri    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);

CREATE INDEX oauth_states_by_account ON oauth_states(account_id);

CREATE TABLE callback_urls (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, url)
);
