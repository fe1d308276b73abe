-- The consent-grant index (packages/consent/src/consent-grant-index.ts): one row per (client, recipient, purpose,
-- share category) that an active, permitting Consent lists, with its period as instants (start inclusive, end
-- exclusive). Written by a write rule in the same transaction as the Consent version it comes from; the access policy
-- asks it per candidate row inside the SQL of every read, so what a partner sees costs the same whether one client or
-- thousands consented to it. A row counts only while (consent_id, consent_version) is the Consent's current, live
-- version, so a deleted or superseded Consent grants nothing whatever is left here.
CREATE TABLE consent_grant (
  consent_id      text        NOT NULL,
  consent_version integer     NOT NULL,
  patient         text        NOT NULL,  -- 'Patient/{id}'
  actor           text        NOT NULL,  -- 'Organization/{id}' | 'Practitioner/{id}' | 'PractitionerRole/{id}'
  purpose         text        NOT NULL,  -- v3-ActReason code
  category        text        NOT NULL,  -- share category code (never psychotherapy-notes)
  period_start    timestamptz,
  period_end      timestamptz
);
CREATE INDEX consent_grant_lookup ON consent_grant (patient, purpose, actor, category);
CREATE INDEX consent_grant_consent ON consent_grant (consent_id);

-- Consents stored before this migration: the same rows the write rule would have written.
INSERT INTO consent_grant (consent_id, consent_version, patient, actor, purpose, category, period_start, period_end)
SELECT rv.id, rv.version_id, rv.content #>> '{patient,reference}', actor.ref, purpose.code, category.code,
  CASE
    WHEN period.s IS NULL THEN NULL
    WHEN length(period.s) = 4 THEN (period.s || '-01-01T00:00:00Z')::timestamptz
    WHEN length(period.s) = 7 THEN (period.s || '-01T00:00:00Z')::timestamptz
    WHEN length(period.s) = 10 THEN (period.s || 'T00:00:00Z')::timestamptz
    ELSE period.s::timestamptz
  END,
  CASE
    WHEN period.e IS NULL THEN NULL
    WHEN length(period.e) = 4 THEN (period.e || '-01-01T00:00:00Z')::timestamptz + interval '1 year'
    WHEN length(period.e) = 7 THEN (period.e || '-01T00:00:00Z')::timestamptz + interval '1 month'
    WHEN length(period.e) = 10 THEN (period.e || 'T00:00:00Z')::timestamptz + interval '1 day'
    ELSE period.e::timestamptz
  END
FROM resource_version rv
CROSS JOIN LATERAL (
  SELECT rv.content #>> '{provision,period,start}' AS s, rv.content #>> '{provision,period,end}' AS e
) period
CROSS JOIN LATERAL (
  SELECT DISTINCT a #>> '{reference,reference}' AS ref
  FROM jsonb_array_elements(COALESCE(rv.content #> '{provision,actor}', '[]'::jsonb)) a
  WHERE a #>> '{reference,reference}' IS NOT NULL
    AND EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(a #> '{role,coding}', '[]'::jsonb)) rc
                WHERE rc ->> 'system' = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType' AND rc ->> 'code' = 'IRCP')
) actor
CROSS JOIN LATERAL (
  SELECT DISTINCT p ->> 'code' AS code
  FROM jsonb_array_elements(COALESCE(rv.content #> '{provision,purpose}', '[]'::jsonb)) p
  WHERE p ->> 'system' = 'http://terminology.hl7.org/CodeSystem/v3-ActReason'
    AND p ->> 'code' IN ('TREAT', 'ETREAT', 'CAREMGT', 'HPAYMT', 'HOPERAT', 'PATRQT', 'PUBHLTH', 'HRESCH')
) purpose
CROSS JOIN LATERAL (
  SELECT DISTINCT c ->> 'code' AS code
  FROM jsonb_array_elements(COALESCE(rv.content #> '{provision,code}', '[]'::jsonb)) concept,
       jsonb_array_elements(COALESCE(concept -> 'coding', '[]'::jsonb)) c
  WHERE c ->> 'system' = 'https://carecircle.dev/fhir/CodeSystem/share-category'
    AND c ->> 'code' IN ('demographics', 'presenting-concerns', 'treatment-goals', 'care-plan', 'progress', 'trauma-history',
                         'mental-health', 'sexual-history', 'medications', 'relationship-context')
) category
WHERE rv.resource_type = 'Consent' AND rv.superseded_xid IS NULL AND NOT rv.deleted
  AND rv.content ->> 'status' = 'active' AND rv.content #>> '{provision,type}' = 'permit'
  AND rv.content #>> '{patient,reference}' IS NOT NULL;
