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
import { DESCRIBING_RECORD_TYPES, type Writer } from '@carecircle/auth';
import { OperationOutcomeError, parseReferenceAnyBase, referenceStrings, unprocessable, type ReferenceTarget } from '@carecircle/fhir';
import {
  computePatientCompartments,
  findCurrentVersionsMentioning,
  findFirstCurrentVersion,
  isVisibleTo,
  mayBeInPatientCompartment,
  type AccessPolicy,
  type Queryable,
  type WriteRuleFor,
} from '@carecircle/store';
import type { Resource } from '@medplum/fhirtypes';
import { isPsychotherapyNote } from './consent-policy';
import { isPsychotherapyNoteResource } from './share-category';

/** Refuses a write that points at a psychotherapy note `writer` sees, or files a note a shareable resource it sees points at. */
export const refuseReferencesToPsychotherapyNotes: WriteRuleFor<Writer> = async (next, current, tx, _write, writer) => {
  if (DESCRIBING_RECORD_TYPES.has(next.resourceType)) {
    return;
  }
  if (isPsychotherapyNoteResource(next)) {
    if (next.resourceType !== 'Patient' && (!current || !isPsychotherapyNoteResource(current))) {
      await refuseWhileReferenced(tx, next, writer.policy);
    }
    return;
  }
  // A client's own Patient is the anchor of the record, never a note's content: pointing at it tells nothing. Nor can
  // a type no client's record holds (the directory: Organization, Practitioner ...) be a note (share-labels.ts),
  // unless it is a record of one, so a practice's new Patient, naming only its own Organization, looks nothing up.
  const targets = localReferences(next).filter(
    (t) =>
      t.resourceType !== 'Patient' &&
      (mayBeInPatientCompartment(t.resourceType) || DESCRIBING_RECORD_TYPES.has(t.resourceType)) &&
      !(t.resourceType === next.resourceType && t.id === next.id),
  );
  if (targets.length === 0) {
    return;
  }
  const note = await firstVisibleNote(tx, targets, writer.policy);
  if (note) {
    throw new OperationOutcomeError(
      unprocessable(
        `${next.resourceType} may not reference ${note}: it is a psychotherapy note, which stays with the practice; reference it only from another psychotherapy note`,
        next.resourceType,
      ),
    );
  }
};


/** Every reference to a resource anywhere in `resource` (contained resources included), on any base, de-duplicated. */
function localReferences(resource: Resource): ReferenceTarget[] {
  const found = new Map<string, ReferenceTarget>();
  for (const reference of referenceStrings(resource)) {
    const target = parseReferenceAnyBase(reference);
    if (target) {
      found.set(`${target.resourceType}/${target.id}`, target);
    }
  }
  return [...found.values()];
}

/** `Type/id` of the first target whose current version is a psychotherapy note `policy` lets its caller see. */
function firstVisibleNote(tx: Queryable, targets: readonly ReferenceTarget[], policy: AccessPolicy): Promise<string | undefined> {
  return findFirstCurrentVersion(tx, targets, { visibleTo: policy, matching: isPsychotherapyNote() });
}

/**
 * A resource filed as a psychotherapy note (newly, or moved into the category) while a shareable resource of the same
 * client references it: 422, naming that resource, so the practice removes the reference first. Only a referencing
 * resource the writer sees counts (the custodian and the operator see the client's record; partners may not file notes
 * at all). The candidates are the client's current records that mention the id; their references are checked exactly.
 */
async function refuseWhileReferenced(tx: Queryable, note: Resource, policy: AccessPolicy): Promise<void> {
  const patients = computePatientCompartments(note);
  if (!note.id || patients.length === 0) {
    return;
  }
  const target = `${note.resourceType}/${note.id}`;
  const candidates = await findCurrentVersionsMentioning(tx, {
    compartments: patients,
    text: target,
    exceptTypes: [...DESCRIBING_RECORD_TYPES],
    except: { resourceType: note.resourceType, id: note.id },
    unless: isPsychotherapyNote(),
  });
  let referencing: Resource | undefined;
  for (const candidate of candidates) {
    // Only what the writer sees counts (and is named): for anyone else it is absent.
    if (
      localReferences(candidate).some((t) => `${t.resourceType}/${t.id}` === target) &&
      (await isVisibleTo(tx, policy, candidate.resourceType, candidate.id ?? ''))
    ) {
      referencing = candidate;
      break;
    }
  }
  if (referencing) {
    throw new OperationOutcomeError(
      unprocessable(
        `${target} cannot become a psychotherapy note while ${referencing.resourceType}/${referencing.id} references it; remove that reference first`,
        `${note.resourceType}.meta.tag`,
      ),
    );
  }
}
