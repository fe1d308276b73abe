/**
 * The write rule for consult notes, the partner's reply to a referral (contract, DESIGN.md): a DocumentReference of
 * type LOINC 11488-4 "Consult note" must point back at its referral through `context.related` (an existing
 * ServiceRequest about the same client), so a Task's completion can be checked against it. Runs inside every write's
 * transaction, before validation.
 *
 * Only ServiceRequests the writer may see count (visible-resources.ts): one hidden from it answers exactly as one that
 * does not exist, so a consult note cannot be used to learn whether a request exists or whose client it is about.
 *
 * Status: a consult note is written `current`; later versions may mark it `superseded` or `entered-in-error` (a
 * completed Task keeps pointing at the version it was completed with). A consult note stays one: its type cannot lose
 * the code. Refusals are 422 (expressions `DocumentReference.status`, `.type`, `.context.related`, `.subject`).
 *
 * Filing: a consult note answers a referral, so it is filed as the referral is (see {@link fileConsultNoteUnderReferral}):
 * the consent that lets a partner see the referral then covers the note too, for the practice's other readers alike.
 */
import { PSYCHOTHERAPY_NOTE_LABEL } from '@carecircle/fhir';
import { ACT_CODE_SYSTEM, isPsychotherapyNoteResource, isShareCategory, sensitivityRank, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import type { Coding, DocumentReference, Meta } from '@medplum/fhirtypes';
import type { Writer } from '@carecircle/auth';
import type { AccessPolicy, Queryable, WriteRuleFor } from '@carecircle/store';
import { CONSULT_NOTE_TYPE, hasCoding } from './care-codes';
import { refuseUnprocessable } from './care-outcomes';
import { referenceTo } from './current-resources';
import { isObject, referenceOf, referencesOf } from './element-shapes';
import { readVisibleMany } from './visible-resources';

/** Holds consult notes to their referral, as `writer` sees it; other resources (and other DocumentReferences) pass untouched. */
export const checkConsultNote: WriteRuleFor<Writer> = async (next, current, tx, _write, writer) => {
  if (next.resourceType !== 'DocumentReference') {
    return;
  }
  const stored = current?.resourceType === 'DocumentReference' ? current : undefined;
  const wasConsultNote = stored !== undefined && hasCoding(stored.type, CONSULT_NOTE_TYPE);
  if (!hasCoding(next.type, CONSULT_NOTE_TYPE)) {
    if (wasConsultNote) {
      refuseUnprocessable('A consult note keeps its type (LOINC 11488-4)', 'DocumentReference.type');
    }
    return;
  }
  if (stored === undefined && next.status !== 'current') {
    refuseUnprocessable('A consult note is written with status current', 'DocumentReference.status');
  }
  await checkReferralLink(next, tx, writer.policy);
};

/**
 * Write rule, registered before the labelling (share-labels.ts): a consult note is filed under the share category of
 * the referral it answers (the most sensitive among the ServiceRequests in `context.related` that the writer sees) and
 * carries those referrals' sensitivity labels. A writer's category below it, or none (a new note, or an update of one
 * filed lower), becomes the referral's; a category at least as sensitive stays. Nothing is taken from a referral that
 * is itself a psychotherapy note (refuseReferencesToPsychotherapyNotes answers that) or hidden from the writer (the
 * note is then refused by {@link checkConsultNote}). Other resources pass untouched.
 */
export const fileConsultNoteUnderReferral: WriteRuleFor<Writer> = async (next, current, tx, _write, writer) => {
  if (next.resourceType !== 'DocumentReference' || !hasCoding(next.type, CONSULT_NOTE_TYPE)) {
    return;
  }
  const referrals = (await readVisibleMany(tx, 'ServiceRequest', relatedRequestIds(next), writer.policy)).filter((request) => !isPsychotherapyNoteResource(request));
  const filed = mostSensitive(referrals.map((request) => categoryOf(request.meta)));
  const tags = next.meta?.tag ?? [];
  const written = tags.filter(isCategoryTag);
  const chosen = written.length === 0 ? categoryOf(current?.meta) : written[0]?.code;
  // Two categories, or an unknown one: the labelling answers 400.
  const raise = filed !== undefined && written.length <= 1 && (chosen === undefined || (isShareCategory(chosen) && sensitivityRank(chosen) < sensitivityRank(filed)));
  const labels = referrals.flatMap((request) => (request.meta?.security ?? []).filter(isReferralSensitivity));
  next.meta = {
    ...next.meta,
    ...(raise && { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: filed }, ...tags.filter((tag) => !isCategoryTag(tag))] }),
    ...(labels.length > 0 && { security: [...(next.meta?.security ?? []), ...labels.map(({ system, code }) => ({ system, code }))] }),
  };
};

function isCategoryTag(coding: Coding): boolean {
  return coding.system === SHARE_CATEGORY_SYSTEM;
}

/** A sensitivity label (v3-ActCode) a note takes from its referral: any but the psychotherapy-note label. */
function isReferralSensitivity(coding: Coding): boolean {
  return coding.system === ACT_CODE_SYSTEM && coding.code !== undefined && coding.code !== PSYCHOTHERAPY_NOTE_LABEL.code;
}

/** The one share category in `meta`, when it carries exactly one we know. */
function categoryOf(meta: Meta | undefined): ShareCategory | undefined {
  const codes = (meta?.tag ?? []).filter(isCategoryTag).map((tag) => tag.code);
  const code = codes.length === 1 ? codes[0] : undefined;
  return isShareCategory(code) ? code : undefined;
}

/** The most sensitive of `categories` (the first of equals), ignoring unknowns. */
function mostSensitive(categories: readonly (ShareCategory | undefined)[]): ShareCategory | undefined {
  let most: ShareCategory | undefined;
  for (const category of categories) {
    if (category !== undefined && (most === undefined || sensitivityRank(category) > sensitivityRank(most))) {
      most = category;
    }
  }
  return most;
}

/** The ids of the ServiceRequests a consult note names in `context.related` (relative references only). */
function relatedRequestIds(note: DocumentReference): string[] {
  const ids = new Set<string>();
  for (const related of referencesOf(isObject(note.context) ? note.context.related : undefined)) {
    const target = referenceTo(related, 'ServiceRequest');
    if (target) {
      ids.add(target.id);
    }
  }
  return [...ids];
}

async function checkReferralLink(note: DocumentReference, tx: Queryable, policy: AccessPolicy): Promise<void> {
  const ids = new Set(relatedRequestIds(note));
  if (ids.size === 0) {
    refuseUnprocessable('A consult note references its referral (ServiceRequest/{id}) in context.related', 'DocumentReference.context.related');
  }
  // Hidden from the writer reads as absent: both answer with the first refusal, never with the second.
  const requests = await readVisibleMany(tx, 'ServiceRequest', [...ids], policy);
  if (requests.length !== ids.size) {
    refuseUnprocessable('Every ServiceRequest in a consult note\'s context.related must exist', 'DocumentReference.context.related');
  }
  if (requests.some((request) => request.subject?.reference !== referenceOf(note.subject))) {
    refuseUnprocessable('A consult note is about the same client as its referral', 'DocumentReference.subject');
  }
}
