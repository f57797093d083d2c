-- Keys seeded from CASTOR_API_KEY had the first 6 bytes of the key's unsalted SHA-256 as their id, and every hint
-- showed 8 characters of the key (or its length): together enough to test guesses at a weak key offline from
-- `keys list`. Such ids become random (the key itself, its hash and its project stay, so it keeps working), and hints
-- keep only the last 4 characters.
UPDATE api_keys SET id = 'k-' || lower(hex(randomblob(6)))
WHERE id = 'k-' || lower(hex(substr(key_hash, 1, 6)));

UPDATE api_keys SET hint = CASE
    WHEN hint LIKE 'castor\_%…%' ESCAPE '\' THEN 'castor_…' || substr(hint, -4)
    WHEN hint LIKE '%…%' THEN '…' || substr(hint, -4)
    ELSE '****'
END;
