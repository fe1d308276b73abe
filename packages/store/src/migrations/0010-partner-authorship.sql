-- What a partner wrote (packages/consent/src/partner-authorship.ts): one row per version a partner organization
-- created through a partner workflow (a consult note, a reply or progress report, the Provenance of its report) about
-- a client it does not manage, written in the same transaction as that version. The partner's access policy asks it,
-- per candidate row inside the SQL of every read, so the author reads back what it wrote (while a consent of the
-- client naming it is in force and nobody re-filed the resource beyond its sight). Versions written by anyone else,
-- the custodian's re-filing included, have no row. Versions written before this migration have none either: who wrote
-- them was not recorded.
CREATE TABLE partner_authorship (
  resource_type text    NOT NULL,
  id            text    NOT NULL,
  version_id    integer NOT NULL,
  organization  text    NOT NULL,  -- 'Organization/{id}': the organization the writer's token is for
  PRIMARY KEY (resource_type, id, version_id)
);
