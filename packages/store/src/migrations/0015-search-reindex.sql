-- Re-indexing search rows when what is indexed changes (search/reindex.ts). Search rows are written with each version
-- and never rewritten on their own, so a search parameter added later (ours in fhir-profiles, or a new HL7 one) or a
-- change to how values are extracted (token :text rows) would miss every version stored before it.
--
-- search_index_version records, per resource type, the index its current versions carry: a fingerprint of the indexed
-- SearchParameter definitions and the extraction version (search-index.ts). A type absent here has never been
-- re-indexed: its rows may come from any earlier release.
CREATE TABLE search_index_version (
  resource_type text        PRIMARY KEY,
  fingerprint   text        NOT NULL,
  extraction    integer     NOT NULL,
  indexed_at    timestamptz NOT NULL DEFAULT now()
);

-- A re-indexing under way: the target index, and a cursor over the type's current versions in vid order, so a worker
-- that stops (a deploy, a crash) leaves the rest to the next one. deferred_vids holds versions a writer had locked when
-- their batch ran; they are re-indexed at the end.
CREATE TABLE search_reindex (
  resource_type text        PRIMARY KEY,
  fingerprint   text        NOT NULL,
  extraction    integer     NOT NULL,
  after_vid     bigint      NOT NULL DEFAULT 0,
  deferred_vids bigint[]    NOT NULL DEFAULT '{}',
  -- Current versions of the type when the re-indexing started (for progress logs), and how many are done.
  planned       bigint      NOT NULL,
  reindexed     bigint      NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
