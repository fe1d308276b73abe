/**
 * Building sharing Consents (profile sharing-consent) from the few facts that vary: used by tests and by clients'
 * tooling alike, so every consent in the system has the same shape.
 */
import type { Consent, Period } from '@medplum/fhirtypes';
import { PURPOSE_OF_USE_SYSTEM, RECIPIENT_ROLE, RECIPIENT_ROLE_SYSTEM } from './consent-decision';
import { ACT_CODE_SYSTEM, SHARE_CATEGORY_SYSTEM, type ShareCategory } from './share-category';

export const SHARING_CONSENT_PROFILE = 'https://carecircle.dev/fhir/StructureDefinition/sharing-consent';

export interface SharingConsentFacts {
  id?: string;
  /** `Patient/{id}` */
  patient: string;
  /** `Organization/{id}`: the custodian (the client's practice). */
  custodian: string;
  /** `Organization/…`, `Practitioner/…` or `PractitionerRole/…` */
  recipients: string[];
  categories: ShareCategory[];
  purposes?: string[];
  period?: Period;
  status?: Consent['status'];
}

/** A sharing Consent conforming to our profile. */
export function buildSharingConsent(facts: SharingConsentFacts): Consent {
  return {
    resourceType: 'Consent',
    ...(facts.id ? { id: facts.id } : {}),
    meta: { profile: [SHARING_CONSENT_PROFILE] },
    status: facts.status ?? 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: facts.patient },
    performer: [{ reference: facts.patient }],
    organization: [{ reference: facts.custodian }],
    policyRule: { coding: [{ system: ACT_CODE_SYSTEM, code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      ...(facts.period ? { period: facts.period } : {}),
      actor: facts.recipients.map((reference) => ({
        role: { coding: [{ system: RECIPIENT_ROLE_SYSTEM, code: RECIPIENT_ROLE }] },
        reference: { reference },
      })),
      purpose: (facts.purposes ?? ['TREAT']).map((code) => ({ system: PURPOSE_OF_USE_SYSTEM, code })),
      code: facts.categories.map((code) => ({ coding: [{ system: SHARE_CATEGORY_SYSTEM, code }] })),
    },
  };
}
