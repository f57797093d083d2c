-- Resumable Live API sessions (sessionResumption): what a new connection needs to continue a session, written at turn
-- boundaries. Only the SHA-256 of the current resumption handle is kept; each update replaces it. setup and conversation
-- are the adapter's JSON (opaque here). A session belongs to its project; expire_time is its last update plus the handle lifetime.
CREATE TABLE live_sessions (
    id           TEXT NOT NULL PRIMARY KEY,
    handle_hash  BLOB NOT NULL UNIQUE,
    project_id   TEXT NOT NULL REFERENCES projects(id),
    model        TEXT NOT NULL,
    setup        TEXT NOT NULL,
    conversation TEXT NOT NULL,
    update_time  TEXT NOT NULL,
    expire_time  TEXT NOT NULL
);
CREATE INDEX live_sessions_expiration ON live_sessions(expire_time);
