/**
 * The write rule that keeps a referral what it was created as (contract, DESIGN.md "Referrals and care plans"). A
 * referral (a ServiceRequest with the referral category) is made only by createReferral: under a consent naming its
 * performer, together with its Task. So an update or patch may not turn a ServiceRequest into a referral (nor a
 * deleted one come back as a referral), turn a referral into another ServiceRequest, or change a referral's performer
 * or subject: each would skip the consent check or leave the Task tracking something else. Refusals are 422
 * (expressions `ServiceRequest.category`, `.performer`, `.subject`). Other changes of a referral (status, notes) pass.
 */
import type { ServiceRequest } from '@medplum/fhirtypes';
import { isLatestVersionDeleted, type WriteRule } from '@carecircle/store';
import { isReferralRequest } from './care-codes';
import { refuseUnprocessable } from './care-outcomes';
import { referenceOf, referencesOf } from './element-shapes';

/** Holds every write of a ServiceRequest to the referral contract; other resources pass untouched. */
export const checkReferralUpdate: WriteRule = async (next, current, tx) => {
  if (next.resourceType !== 'ServiceRequest') {
    return;
  }
  const isReferral = isReferralRequest(next);
  // createReferral makes referrals under new ids; a deletion as the latest version means an update bringing a deleted
  // ServiceRequest back, which may not make (or remake) a referral without its consent check and Task.
  if (isReferral && typeof next.id === 'string' && (await isLatestVersionDeleted(tx, 'ServiceRequest', next.id))) {
    refuseUnprocessable('A referral is made by creating it (POST), not by updating a deleted ServiceRequest', 'ServiceRequest.category');
  }
  if (current === undefined) {
    return;
  }
  const wasReferral = current.resourceType === 'ServiceRequest' && isReferralRequest(current);
  if (!wasReferral) {
    if (isReferral) {
      refuseUnprocessable(
        'A ServiceRequest becomes a referral only when created as one (POST), with its consent check and Task: an update may not add the referral category',
        'ServiceRequest.category',
      );
    }
    return;
  }
  if (!isReferral) {
    refuseUnprocessable('A referral stays a referral: an update may not remove the referral category (SNOMED CT 3457005)', 'ServiceRequest.category');
  }
  const stored = current as ServiceRequest;
  if (!sameList(referencesOf(next.performer), referencesOf(stored.performer)) || referencesOf(next.performer).length !== listLength(next.performer)) {
    refuseUnprocessable('A referral keeps its performer: send a new referral to another performer', 'ServiceRequest.performer');
  }
  if (referenceOf(next.subject) !== referenceOf(stored.subject)) {
    refuseUnprocessable('A referral keeps its subject', 'ServiceRequest.subject');
  }
};

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function listLength(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}
