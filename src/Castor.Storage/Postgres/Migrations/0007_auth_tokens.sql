-- Ephemeral tokens (auth_tokens) for the Live API: only the SHA-256 of the token is kept, as for API keys. A token acts
-- for the project of the key that created it, and only while that key is active. uses = 0 means no limit.
CREATE TABLE auth_tokens (
    id                      TEXT NOT NULL PRIMARY KEY,
    token_hash              BYTEA NOT NULL UNIQUE,
    project_id              TEXT NOT NULL REFERENCES projects(id),
    key_id                  TEXT NOT NULL REFERENCES api_keys(id),
    uses                    INTEGER NOT NULL,
    uses_taken              INTEGER NOT NULL DEFAULT 0,
    create_time             TIMESTAMPTZ NOT NULL,
    expire_time             TIMESTAMPTZ NOT NULL,
    new_session_expire_time TIMESTAMPTZ NOT NULL,
    setup                   TEXT,
    field_mask              TEXT
);
CREATE INDEX auth_tokens_expiration ON auth_tokens(expire_time);
