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

-- The key that submitted a batch job: its requests' usage is metered under that key (NULL for jobs created before
-- this migration, metered under the key id "batch").
ALTER TABLE batches ADD COLUMN submitter_key_id TEXT;

-- A request's input tokens, counted with the model's tokenizer when it was enqueued, and the local model they were
-- counted for: what the Batch Enqueued Tokens limit adds up over a project's waiting requests. NULL: not counted (no
-- limit applied when it was enqueued); its length stands in, at about four characters a token.
ALTER TABLE batch_requests ADD COLUMN enqueued_tokens BIGINT;
ALTER TABLE batch_requests ADD COLUMN enqueued_model TEXT;

-- The API's usageMetadata.toolUsePromptTokenCount (the prompt tokens of server-side tool results, such as Google Search's),
-- summed like the other token columns. Castor runs no server-side tools, so it records 0; the column keeps the usage
-- rows' shape the API's and lets a backend that runs such tools report them.
ALTER TABLE usage_hours ADD COLUMN tool_use_prompt_tokens BIGINT NOT NULL DEFAULT 0;
