-- Versioned resources, their search index, and the transactional outbox.
--
-- Every version of every resource is one row of resource_version; a delete is a version with deleted = true and no
-- content. The row that nothing has superseded yet (superseded_xid IS NULL) is the current one. created_xid and
-- superseded_xid record which transactions made and replaced a version, so a search can be repeated "as of" the
-- snapshot of its first page: next/prev links then never overlap or skip, whatever is written in between.

CREATE TABLE resource_version (
  vid            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resource_type  text        NOT NULL,
  id             text        NOT NULL,
  version_id     integer     NOT NULL,
  last_updated   timestamptz NOT NULL,
  deleted        boolean     NOT NULL DEFAULT false,
  content        jsonb,
  -- Patient compartments this version belongs to, as references: {'Patient/123'}.
  compartments   text[]      NOT NULL DEFAULT '{}',
  created_xid    xid8        NOT NULL DEFAULT pg_current_xact_id(),
  superseded_xid xid8,
  UNIQUE (resource_type, id, version_id)
);

CREATE UNIQUE INDEX resource_version_current ON resource_version (resource_type, id) WHERE superseded_xid IS NULL;
CREATE INDEX resource_version_current_updated ON resource_version (resource_type, last_updated, id)
  WHERE superseded_xid IS NULL AND NOT deleted;
CREATE INDEX resource_version_compartments ON resource_version USING gin (compartments)
  WHERE superseded_xid IS NULL AND NOT deleted;
CREATE INDEX resource_version_history ON resource_version (resource_type, last_updated);

-- Search index: one row per indexed value per version, written with the version, never updated.
CREATE TABLE search_string (
  vid   bigint NOT NULL REFERENCES resource_version (vid),
  code  text   NOT NULL,
  value text   NOT NULL,
  norm  text   NOT NULL  -- lower case, accents removed: what :contains and the default prefix match compare
);
CREATE INDEX search_string_lookup ON search_string (code, norm text_pattern_ops);
CREATE INDEX search_string_vid ON search_string (vid);

CREATE TABLE search_token (
  vid    bigint NOT NULL REFERENCES resource_version (vid),
  code   text   NOT NULL,
  system text,
  value  text
);
CREATE INDEX search_token_lookup ON search_token (code, value, system);
CREATE INDEX search_token_vid ON search_token (vid);

CREATE TABLE search_reference (
  vid         bigint NOT NULL REFERENCES resource_version (vid),
  code        text   NOT NULL,
  reference   text   NOT NULL,  -- as written: 'Patient/123', an absolute URL or a canonical
  target_type text,
  target_id   text
);
CREATE INDEX search_reference_lookup ON search_reference (code, target_type, target_id);
CREATE INDEX search_reference_raw ON search_reference (code, reference);
CREATE INDEX search_reference_vid ON search_reference (vid);

CREATE TABLE search_date (
  vid  bigint      NOT NULL REFERENCES resource_version (vid),
  code text        NOT NULL,
  low  timestamptz NOT NULL,  -- the instant the value's precision starts at
  high timestamptz NOT NULL   -- and the instant it ends at (exclusive)
);
CREATE INDEX search_date_lookup ON search_date (code, low, high);
CREATE INDEX search_date_vid ON search_date (vid);

CREATE TABLE search_number (
  vid  bigint  NOT NULL REFERENCES resource_version (vid),
  code text    NOT NULL,
  value numeric NOT NULL
);
CREATE INDEX search_number_lookup ON search_number (code, value);
CREATE INDEX search_number_vid ON search_number (vid);

CREATE TABLE search_uri (
  vid   bigint NOT NULL REFERENCES resource_version (vid),
  code  text   NOT NULL,
  value text   NOT NULL
);
CREATE INDEX search_uri_lookup ON search_uri (code, value);
CREATE INDEX search_uri_vid ON search_uri (vid);

-- Transactional outbox: written in the same transaction as the change it records; the worker relays and marks it.
CREATE TABLE outbox (
  seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id      uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  kind          text        NOT NULL,
  resource_type text        NOT NULL,
  resource_id   text        NOT NULL,
  version_id    integer     NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  relayed_at    timestamptz
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE relayed_at IS NULL;
