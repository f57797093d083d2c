-- One row per open Live session of a project on a model that a tier limits by concurrent sessions (Quotas:Tiers:
-- {tier}:{model}:Sessions). A session's node renews expires_at (Unix milliseconds) while the session is open and
-- deletes the row when it closes; a node that dies stops renewing, so its sessions stop holding slots once their rows
-- expire. Admission counts the unexpired rows and inserts in one serialized transaction (PostgreSQL: an advisory lock
-- per project and model), so nodes sharing the database together admit no more than the limit.
CREATE TABLE live_session_leases (
    id          TEXT NOT NULL PRIMARY KEY,
    project_id  TEXT NOT NULL,
    model       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX live_session_leases_model ON live_session_leases(project_id, model, expires_at);
