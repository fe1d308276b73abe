-- The versions labelled PSYTHPN or tagged psychotherapy-notes, by resource: what the note_record rule asks of every
-- resource an AuditEvent or Provenance describes (tables/note-records.ts `labelledNote`, whose condition this predicate
-- repeats expression for expression and value for value, so the planner may use it; migrate.int.test.ts EXPLAINs the
-- rule's statement to hold the two together). Without it the rule read every version of every described
-- resource to find none: for the AuditEvent of a partner's search of 100 resources, 101 heap probes and two JSON
-- containment tests each, about a fifth of that event's statement. Few versions are notes, so the index stays small.
CREATE INDEX IF NOT EXISTS resource_version_note_labelled ON resource_version (resource_type, id)
  WHERE (COALESCE(content #> '{meta,security}', '[]'::jsonb) @> '[{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSYTHPN"}]'::jsonb
    OR COALESCE(content #> '{meta,tag}', '[]'::jsonb) @> '[{"system": "https://carecircle.dev/fhir/CodeSystem/share-category", "code": "psychotherapy-notes"}]'::jsonb);
