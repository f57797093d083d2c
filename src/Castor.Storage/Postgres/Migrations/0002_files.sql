-- Uploaded files (a row exists only once every byte is on disk) and resumable upload sessions in progress.
CREATE TABLE files (
    project_id       TEXT NOT NULL REFERENCES projects(id),
    id               TEXT NOT NULL,
    display_name     TEXT,
    mime_type        TEXT NOT NULL,
    size_bytes       BIGINT NOT NULL,
    sha256           BYTEA NOT NULL,
    state            TEXT NOT NULL,
    error_message    TEXT,
    create_time      TIMESTAMPTZ NOT NULL,
    update_time      TIMESTAMPTZ NOT NULL,
    expiration_time  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX files_listing ON files(project_id, create_time, id);
CREATE INDEX files_expiration ON files(expiration_time);
CREATE INDEX files_state ON files(state);

CREATE TABLE file_uploads (
    upload_id        TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects(id),
    file_id          TEXT NOT NULL,
    display_name     TEXT,
    mime_type        TEXT NOT NULL,
    declared_size    BIGINT,
    received_bytes   BIGINT NOT NULL,
    create_time      TIMESTAMPTZ NOT NULL,
    expiration_time  TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, file_id)
);
CREATE INDEX file_uploads_expiration ON file_uploads(expiration_time);
