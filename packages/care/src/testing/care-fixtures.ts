/**
 * Typed builders for the care suites (never imported by production code): a small world of a therapy practice, its
 * client, two partner clinics with a practitioner role, the callers acting for each, and referral-shaped resources
 * that tests override only where the behaviour under test cares.
 */
import type { DocumentReference, ServiceRequest } from '@medplum/fhirtypes';
import type { Caller } from '@carecircle/auth';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM, type SharingConsentFacts } from '@carecircle/consent';
import type { Repository } from '@carecircle/store';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { CONSULT_NOTE_TYPE, REFERRAL_CATEGORY } from '../care-codes';

/** References of the world every care suite starts from. */
export const world = {
  practice: 'Organization/practice',
  clinic: 'Organization/clinic',
  elsewhere: 'Organization/elsewhere',
  therapist: 'Practitioner/therapist',
  urologist: 'Practitioner/urologist',
  urologistRole: 'PractitionerRole/urologist-at-clinic',
  patient: 'Patient/alex',
  otherPatient: 'Patient/sam',
} as const;

/** The callers the suites act as. */
export const callers = {
  admin: { kind: 'admin' },
  practiceSystem: { kind: 'system', clientId: 'practice-ehr', organization: world.practice, scope: 'system/*.cruds' },
  therapist: {
    kind: 'practitioner',
    clientId: 'practice-app',
    userId: 'u-therapist',
    fhirUser: world.therapist,
    organization: world.practice,
    scope: 'user/*.cruds',
  },
  clinicSystem: { kind: 'system', clientId: 'clinic-ehr', organization: world.clinic, scope: 'system/*.cruds' },
  urologist: {
    kind: 'practitioner',
    clientId: 'clinic-app',
    userId: 'u-urologist',
    fhirUser: world.urologist,
    organization: world.clinic,
    scope: 'user/*.cruds',
  },
  elsewhereSystem: { kind: 'system', clientId: 'elsewhere-ehr', organization: world.elsewhere, scope: 'system/*.cruds' },
  client: { kind: 'patient', clientId: 'client-app', userId: 'u-alex', fhirUser: world.patient, scope: 'patient/*.cruds' },
} satisfies Record<string, Caller>;

/** The id part of a `Type/id` reference. */
export function idOf(reference: string): string {
  return reference.slice(reference.indexOf('/') + 1);
}

/** Stores the world's directory and clients (as the admin: outside any request context). */
export async function seedCareWorld(repository: Repository): Promise<void> {
  for (const [reference, name] of [
    [world.practice, 'Riverside Sex Therapy'],
    [world.clinic, 'Harbour Urology'],
    [world.elsewhere, 'Hillside Pelvic Floor PT'],
  ] as const) {
    await repository.update(buildOrganization({ id: idOf(reference), name }));
  }
  await repository.update(buildPractitioner({ id: idOf(world.therapist) }));
  await repository.update(buildPractitioner({ id: idOf(world.urologist), name: [{ family: 'Lindqvist', given: ['Maja'] }] }));
  await repository.update({
    resourceType: 'PractitionerRole',
    id: idOf(world.urologistRole),
    active: true,
    practitioner: { reference: world.urologist },
    organization: { reference: world.clinic },
  });
  await repository.update(buildPatient({ id: idOf(world.patient), managingOrganization: { reference: world.practice } }));
  await repository.update(
    buildPatient({ id: idOf(world.otherPatient), name: [{ family: 'Chen', given: ['Sam'] }], managingOrganization: { reference: world.practice } }),
  );
}

/** A sharing consent of the world's client, by the practice, for `recipients` (the clinic unless told). */
export function buildClientConsent(overrides: Partial<SharingConsentFacts> = {}) {
  return buildSharingConsent({
    patient: world.patient,
    custodian: world.practice,
    recipients: [world.clinic],
    categories: ['care-plan'],
    ...overrides,
  });
}

/** A referral of the world's client from the therapist to the clinic. */
export function buildReferralRequest(overrides: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    category: [{ coding: [{ ...REFERRAL_CATEGORY }] }],
    code: { text: 'Urology consultation' },
    subject: { reference: world.patient },
    requester: { reference: world.therapist },
    performer: [{ reference: world.clinic }],
    reasonCode: [{ text: 'Erectile difficulties, organic causes to rule out' }],
    ...overrides,
  };
}

/** A ServiceRequest tagged with `category` in meta.tag. */
export function withShareCategory(request: ServiceRequest, category: string): ServiceRequest {
  return { ...request, meta: { ...request.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } };
}

/** The clinic's consult note answering `serviceRequest` (a reference), about the world's client. */
export function buildConsultNote(serviceRequest: string, overrides: Partial<DocumentReference> = {}): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [{ ...CONSULT_NOTE_TYPE }] },
    subject: { reference: world.patient },
    author: [{ reference: world.urologistRole }],
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('Consult findings').toString('base64') } }],
    context: { related: [{ reference: serviceRequest }] },
    ...overrides,
  };
}
