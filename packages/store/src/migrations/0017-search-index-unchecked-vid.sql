-- The search index tables keep their vid column without a foreign key. Index rows are written only by the statement
-- that inserts their version (version-store.ts: the vid comes from that INSERT's RETURNING) or, for a version that
-- exists, by a re-index in one transaction (search/reindex.ts), and no version is ever deleted; the foreign key checked
-- what cannot happen, at the price of a trigger, an index probe and a row lock on resource_version per index row:
-- about a quarter of the database's time for a write with 29 index rows (an AuditEvent of a read).
ALTER TABLE search_string DROP CONSTRAINT IF EXISTS search_string_vid_fkey;
ALTER TABLE search_token DROP CONSTRAINT IF EXISTS search_token_vid_fkey;
ALTER TABLE search_reference DROP CONSTRAINT IF EXISTS search_reference_vid_fkey;
ALTER TABLE search_date DROP CONSTRAINT IF EXISTS search_date_vid_fkey;
ALTER TABLE search_number DROP CONSTRAINT IF EXISTS search_number_vid_fkey;
ALTER TABLE search_uri DROP CONSTRAINT IF EXISTS search_uri_vid_fkey;
