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
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import type { Queryable, WriteRule } from '@carecircle/store';
import { CONSULT_NOTE_TYPE, hasCoding } from './care-codes';
import { refuseUnprocessable } from './care-outcomes';
import { referenceTo } from './current-resources';
import { isObject, referenceOf, referencesOf } from './element-shapes';
import { readVisibleMany } from './visible-resources';

/** Holds consult notes to their referral; other resources (and other DocumentReferences) pass untouched. */
export const checkConsultNote: WriteRule = async (next, current, tx) => {
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
  await checkReferralLink(next, tx);
};

async function checkReferralLink(note: DocumentReference, tx: Queryable): Promise<void> {
  const ids = new Set<string>();
  for (const related of referencesOf(isObject(note.context) ? note.context.related : undefined)) {
    const target = referenceTo(related, 'ServiceRequest');
    if (target) {
      ids.add(target.id);
    }
  }
  if (ids.size === 0) {
    refuseUnprocessable('A consult note references its referral (ServiceRequest/{id}) in context.related', 'DocumentReference.context.related');
  }
  // Hidden from the writer reads as absent: both answer with the first refusal, never with the second.
  const requests = await readVisibleMany(tx, 'ServiceRequest', [...ids]);
  if (requests.length !== ids.size) {
    refuseUnprocessable('Every ServiceRequest in a consult note\'s context.related must exist', 'DocumentReference.context.related');
  }
  if (requests.some((request) => request.subject?.reference !== referenceOf(note.subject))) {
    refuseUnprocessable('A consult note is about the same client as its referral', 'DocumentReference.subject');
  }
}
