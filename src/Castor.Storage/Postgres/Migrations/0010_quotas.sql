-- A project's usage tier (Quotas:Tiers:{tier}); NULL means Quotas:DefaultTier, so changing the default moves every
-- project that was never given a tier of its own.
ALTER TABLE projects ADD COLUMN tier TEXT;

-- Rate-limit counters: one row per project, model, metric and window (window_start in Unix seconds: the minute, or
-- midnight Pacific for a day). Requests add to them with one upsert; rows of past windows are deleted as they age.
CREATE TABLE quota_counters (
    project_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    metric        TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    used          BIGINT NOT NULL,
    PRIMARY KEY (project_id, model, metric, window_start)
);

CREATE INDEX quota_counters_window ON quota_counters(window_start);
