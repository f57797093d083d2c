-- A key's role: 'user' (acts for its project through the Gemini and OpenAI APIs) or 'admin' (also manages projects,
-- keys and tiers and reads usage through Castor's admin routes). Existing keys stay ordinary keys.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'user';
