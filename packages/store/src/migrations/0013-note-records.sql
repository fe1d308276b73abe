-- Records of psychotherapy notes, by index (issue 17, finding 5). A Provenance or AuditEvent that is labelled a
-- psychotherapy note, or describes (target / entity.what) a resource some version of which is or has become one, is
-- hidden like the note. That used to be decided per row by reading each record's references and every version of what
-- they name, so listing a client's accounting of disclosures cost more with every AuditEvent (seconds at a few
-- thousand). Here each such record has a row, written in the transaction of whichever comes second (the record, or
-- the note version it describes; packages/consent/src/note-records.ts), so visibility is one index probe per row.
-- `custodian` is the note-custodian stamp of the note version concerned ('' for none): a practice is shown the record
-- only when no row names another practice. Records are append-only, so (resource_type, id) names one version.
CREATE TABLE note_record (
  resource_type text NOT NULL,  -- 'AuditEvent' | 'Provenance'
  id            text NOT NULL,
  custodian     text NOT NULL DEFAULT '',
  PRIMARY KEY (resource_type, id, custodian)
);

-- "Every Patient version whose managingOrganization is Organization/O": the clients a practice holds, deleted ones
-- included (a deleted client stays with its last practice), looked up once per statement for records
-- (caller-access-policy.ts) instead of once per record.
CREATE INDEX resource_version_patient_custodian_any
  ON resource_version ((content -> 'managingOrganization' ->> 'reference'))
  WHERE resource_type = 'Patient';

-- Records stored before this migration: the rows the write rule would have written.
WITH labelled AS (
  SELECT v.resource_type, v.id,
    COALESCE((SELECT e #>> '{valueReference,reference}' FROM jsonb_array_elements(COALESCE(v.content #> '{meta,extension}', '[]'::jsonb)) e
              WHERE e ->> 'url' = 'https://carecircle.dev/fhir/StructureDefinition/note-custodian' LIMIT 1), '') AS custodian
  FROM resource_version v
  WHERE NOT v.deleted
    AND (COALESCE(v.content #> '{meta,security}', '[]'::jsonb) @> '[{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSYTHPN"}]'::jsonb
      OR COALESCE(v.content #> '{meta,tag}', '[]'::jsonb) @> '[{"system": "https://carecircle.dev/fhir/CodeSystem/share-category", "code": "psychotherapy-notes"}]'::jsonb)
)
INSERT INTO note_record (resource_type, id, custodian)
SELECT l.resource_type, l.id, l.custodian FROM labelled l WHERE l.resource_type IN ('AuditEvent', 'Provenance')
UNION
SELECT r.resource_type, r.id, l.custodian
FROM resource_version r
CROSS JOIN LATERAL jsonb_path_query(r.content,
  (CASE r.resource_type WHEN 'Provenance' THEN '$.target[*].reference' ELSE '$.entity[*].what.reference' END)::jsonpath) AS ref(value)
JOIN labelled l ON l.resource_type = split_part(ref.value #>> '{}', '/', 1) AND l.id = split_part(ref.value #>> '{}', '/', 2)
WHERE r.resource_type IN ('AuditEvent', 'Provenance') AND NOT r.deleted
ON CONFLICT DO NOTHING;
