/**
 * The codes the referral contract (DESIGN.md, "referrals and notifications") is written in, defined once so the
 * referral builder, the write rules and the tests cannot drift apart.
 */
import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import { codingsOf } from './element-shapes';

export const SNOMED_SYSTEM = 'http://snomed.info/sct';
export const LOINC_SYSTEM = 'http://loinc.org';

/** ServiceRequest.category of a referral: SNOMED CT 3457005 "Patient referral". */
export const REFERRAL_CATEGORY: Readonly<Coding> = { system: SNOMED_SYSTEM, code: '3457005', display: 'Patient referral' };

export const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';
/** Task.code of the Task that tracks a referral: fulfil the focal request. */
export const FULFILL_TASK_CODE: Readonly<Coding> = { system: TASK_CODE_SYSTEM, code: 'fulfill', display: 'Fulfill the focal request' };

/** DocumentReference.type of the partner's reply to a referral: LOINC 11488-4 "Consult note". */
export const CONSULT_NOTE_TYPE: Readonly<Coding> = { system: LOINC_SYSTEM, code: '11488-4', display: 'Consult note' };

/** True when `concept` carries `coding` (same system and code; display ignored). Any other shape carries nothing. */
export function hasCoding(concept: CodeableConcept | undefined, coding: Readonly<Coding>): boolean {
  return codingsOf(concept).some((c) => c.system === coding.system && c.code === coding.code);
}

/** True when `resource` is a referral: a ServiceRequest with the referral category (any malformed shape: false). */
export function isReferralRequest(resource: { resourceType: string; category?: unknown }): boolean {
  return resource.resourceType === 'ServiceRequest' && Array.isArray(resource.category) && resource.category.some((c) => hasCoding(c as CodeableConcept, REFERRAL_CATEGORY));
}
