-- Cached contents (explicit context caching): metadata and the definition (contents, system instruction, tools) as
-- JSON, so a cache's KV can be computed again when its snapshot file is missing or no longer fits the model.
CREATE TABLE cached_contents (
    project_id   TEXT NOT NULL REFERENCES projects(id),
    id           TEXT NOT NULL,
    model        TEXT NOT NULL,
    display_name TEXT,
    definition   TEXT NOT NULL,
    token_count  INTEGER NOT NULL,
    create_time  TEXT NOT NULL,
    update_time  TEXT NOT NULL,
    expire_time  TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX cached_contents_listing ON cached_contents(project_id, create_time, id);
CREATE INDEX cached_contents_expiration ON cached_contents(expire_time);
