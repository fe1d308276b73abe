-- search_reference_raw serves only searches by a reference that names no resource of this server (an absolute URL,
-- a canonical, a urn: search/search-query.ts referenceMatch's `raw` case), and those match only rows whose own
-- reference names none either (target_type NULL): a relative reference is at most about 200 characters, stored
-- whole, and a search value equal to one would have been read as that resource. So the index holds just those rows;
-- every row naming a resource (nearly all: an AuditEvent of a partner's search of 100 writes 100 and more) costs one
-- b-tree insert fewer. migrate.int.test.ts checks a raw search still plans with the index.
DROP INDEX IF EXISTS search_reference_raw;
CREATE INDEX search_reference_raw ON search_reference (code, reference) WHERE target_type IS NULL;
