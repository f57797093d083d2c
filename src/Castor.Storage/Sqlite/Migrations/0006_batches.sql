-- Batch jobs (Batch API), each request of a job, and its result. A job and all its requests are written in one
-- transaction before the job is acknowledged; a result is written once, by the worker holding the request's lease.
-- Workers on any node claim requests by setting lease_owner and lease_until; a lease that is not renewed expires and
-- the request is claimed again, so a crashed node's work is finished elsewhere.
CREATE TABLE batches (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects(id),
    kind             TEXT NOT NULL,
    dialect          TEXT NOT NULL,
    model            TEXT NOT NULL,
    display_name     TEXT,
    input_file       TEXT,
    output_file      TEXT,
    state            TEXT NOT NULL,
    error_message    TEXT,
    request_count    INTEGER NOT NULL,
    finalized        INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      TEXT,
    create_time      TEXT NOT NULL,
    update_time      TEXT NOT NULL,
    end_time         TEXT,
    expire_time      TEXT NOT NULL
);
CREATE INDEX batches_listing ON batches(project_id, create_time, id);
CREATE INDEX batches_open ON batches(finalized, create_time);

CREATE TABLE batch_requests (
    batch_id         TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    request_key      TEXT,
    metadata         TEXT,
    request          TEXT,
    state            TEXT NOT NULL,
    result           TEXT,
    prompt_tokens    INTEGER,
    output_tokens    INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      TEXT,
    finish_time      TEXT,
    PRIMARY KEY (batch_id, position)
);
CREATE INDEX batch_requests_state ON batch_requests(batch_id, state, position);
