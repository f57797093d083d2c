-- Metered usage, one row per hour and (project, key, model, method, batch, status): the server adds its in-memory
-- counts here every few seconds (INSERT … ON CONFLICT DO UPDATE adds them up), so the table grows with hours × the
-- combinations actually used, not with requests. A day is a query over its hours. No foreign keys: a usage row must
-- never fail to be written, and its project or key may be gone by the time it is read.
CREATE TABLE usage_hours (
    hour                   TIMESTAMPTZ NOT NULL,
    project_id             TEXT NOT NULL,
    key_id                 TEXT NOT NULL,
    model                  TEXT NOT NULL,
    method                 TEXT NOT NULL,
    batch                  BOOLEAN NOT NULL,
    status                 TEXT NOT NULL,
    requests               BIGINT NOT NULL,
    prompt_tokens          BIGINT NOT NULL,
    cached_content_tokens  BIGINT NOT NULL,
    candidates_tokens      BIGINT NOT NULL,
    thoughts_tokens        BIGINT NOT NULL,
    prompt_text_tokens     BIGINT NOT NULL,
    prompt_image_tokens    BIGINT NOT NULL,
    prompt_audio_tokens    BIGINT NOT NULL,
    latency_ms             BIGINT NOT NULL,
    PRIMARY KEY (hour, project_id, key_id, model, method, batch, status)
);
CREATE INDEX usage_hours_project ON usage_hours(project_id, hour);
