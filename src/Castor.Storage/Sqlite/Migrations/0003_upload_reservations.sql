-- Quota reservations: an upload holds reserved_bytes against its project's quota (its declared size up front, or
-- what has arrived, reserved chunk by chunk), so concurrent uploads cannot together pass the quota.
ALTER TABLE file_uploads ADD COLUMN reserved_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE file_uploads SET reserved_bytes = MAX(COALESCE(declared_size, 0), received_bytes);
CREATE INDEX file_uploads_project ON file_uploads(project_id, expiration_time);
-- How many times processing (PDF text extraction) began for a file: one that never finished is not retried forever.
ALTER TABLE files ADD COLUMN processing_attempts INTEGER NOT NULL DEFAULT 0;
