/**
 * Psychotherapy notes never leave the custodian, and that includes being pointed at: a CarePlan, Communication or any
 * other resource that may be shared (or that the client sees) must not carry a reference to a note, since the reference
 * and its `display` would tell its readers that the note exists, and often what it is about. A write whose resource
 * is not itself a psychotherapy note and references the current version of one is refused (422) — only when the writer
 * can see that note (the custodian, the operator): for anyone else the note is absent, so a refusal would reveal it.
 * The other way round too: a resource cannot become a note while a shareable resource of its client references it.
 *
 * Provenance and AuditEvent are exempt: they take the note's labels (share-labels.ts) and are as protected as the note.
 * Runs after {@link applyShareLabels}, so it judges the labels the resource will actually carry.
 */
import { tryGetRequestContext } from '@carecircle/auth';
import { unprocessable, OperationOutcomeError } from '@carecircle/fhir';
import { computePatientCompartments, fullAccess, sql, type AccessPolicy, type Queryable, type WriteRule } from '@carecircle/store';
import type { Resource } from '@medplum/fhirtypes';
import { isPsychotherapyNote } from './consent-policy';
import { ACT_CODE_SYSTEM, PSYCHOTHERAPY_NOTES, SHARE_CATEGORY_SYSTEM } from './share-category';

const EXEMPT_TYPES: ReadonlySet<string> = new Set(['Provenance', 'AuditEvent']);

/**
 * A reference to a resource, relative or absolute (any base: over-matching only makes the rule stricter), optionally
 * version-specific.
 */
const LOCAL_REFERENCE = /(?:^|\/)([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export const refuseReferencesToPsychotherapyNotes: WriteRule = async (next, current, tx) => {
  if (EXEMPT_TYPES.has(next.resourceType)) {
    return;
  }
  if (carriesPsychotherapyNoteLabels(next)) {
    if (next.resourceType !== 'Patient' && (!current || !carriesPsychotherapyNoteLabels(current))) {
      await refuseWhileReferenced(tx, next);
    }
    return;
  }
  // A client's own Patient is the anchor of the record, never a note's content: pointing at it tells nothing.
  const targets = localReferences(next).filter(
    (t) => t.resourceType !== 'Patient' && !(t.resourceType === next.resourceType && t.id === next.id),
  );
  if (targets.length === 0) {
    return;
  }
  const policy = tryGetRequestContext()?.repository.policy ?? fullAccess;
  const note = await firstVisibleNote(tx, targets, policy);
  if (note) {
    throw new OperationOutcomeError(
      unprocessable(
        `${next.resourceType} may not reference ${note}: it is a psychotherapy note, which stays with the practice; reference it only from another psychotherapy note`,
        next.resourceType,
      ),
    );
  }
};

function carriesPsychotherapyNoteLabels(resource: Resource): boolean {
  return (
    (resource.meta?.tag ?? []).some((c) => c.system === SHARE_CATEGORY_SYSTEM && c.code === PSYCHOTHERAPY_NOTES) ||
    (resource.meta?.security ?? []).some((c) => c.system === ACT_CODE_SYSTEM && c.code === 'PSYTHPN')
  );
}

interface Target {
  resourceType: string;
  id: string;
}

/** Every relative reference anywhere in `resource` (contained resources included), de-duplicated. */
function localReferences(resource: Resource): Target[] {
  const found = new Map<string, Target>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        if (key === 'reference' && typeof child === 'string') {
          const match = LOCAL_REFERENCE.exec(child);
          if (match?.[1] && match[2]) {
            found.set(`${match[1]}/${match[2]}`, { resourceType: match[1], id: match[2] });
          }
        } else {
          visit(child);
        }
      }
    }
  };
  visit(resource);
  return [...found.values()];
}

/** `Type/id` of the first target whose current version is a psychotherapy note `policy` lets its caller see. */
async function firstVisibleNote(tx: Queryable, targets: readonly Target[], policy: AccessPolicy): Promise<string | undefined> {
  const byType = new Map<string, string[]>();
  for (const { resourceType, id } of targets) {
    byType.set(resourceType, [...(byType.get(resourceType) ?? []), id]);
  }
  for (const [resourceType, ids] of byType) {
    const visible = policy.visibility(resourceType);
    const { rows } = await tx.query<{ id: string }>(sql`
      SELECT rv.id FROM resource_version rv
      WHERE rv.resource_type = ${resourceType} AND rv.id = ANY(${ids}::text[]) AND rv.superseded_xid IS NULL AND NOT rv.deleted
        AND ${isPsychotherapyNote()}${visible ? sql` AND ${visible}` : sql``}
      LIMIT 1`);
    if (rows[0]) {
      return `${resourceType}/${rows[0].id}`;
    }
  }
  return undefined;
}

/**
 * A resource filed as a psychotherapy note (newly, or moved into the category) while a shareable resource of the same
 * client references it: 422, naming that resource, so the practice removes the reference first. Only a referencing
 * resource the writer sees counts (the custodian and the operator see the client's record; partners may not file notes
 * at all). The candidates are the client's current records that mention the id; their references are checked exactly.
 */
async function refuseWhileReferenced(tx: Queryable, note: Resource): Promise<void> {
  const patients = computePatientCompartments(note);
  if (!note.id || patients.length === 0) {
    return;
  }
  const target = `${note.resourceType}/${note.id}`;
  const { rows } = await tx.query<{ content: Resource }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.compartments && ${patients}::text[] AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND rv.resource_type <> ALL(${[...EXEMPT_TYPES]}::text[]) AND NOT (rv.resource_type = ${note.resourceType} AND rv.id = ${note.id})
      AND strpos(rv.content::text, ${target}) > 0 AND NOT ${isPsychotherapyNote()}`);
  const policy = tryGetRequestContext()?.repository.policy ?? fullAccess;
  let referencing: { content: Resource } | undefined;
  for (const row of rows) {
    // Only what the writer sees counts (and is named): for anyone else it is absent.
    if (
      localReferences(row.content).some((t) => `${t.resourceType}/${t.id}` === target) &&
      (await isVisible(tx, row.content.resourceType, row.content.id ?? '', policy))
    ) {
      referencing = row;
      break;
    }
  }
  if (referencing) {
    throw new OperationOutcomeError(
      unprocessable(
        `${target} cannot become a psychotherapy note while ${referencing.content.resourceType}/${referencing.content.id} references it; remove that reference first`,
        `${note.resourceType}.meta.tag`,
      ),
    );
  }
}

async function isVisible(tx: Queryable, resourceType: string, id: string, policy: AccessPolicy): Promise<boolean> {
  const visible = policy.visibility(resourceType);
  const { rows } = await tx.query(sql`
    SELECT 1 FROM resource_version rv
    WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.superseded_xid IS NULL${visible ? sql` AND ${visible}` : sql``}`);
  return rows.length > 0;
}
