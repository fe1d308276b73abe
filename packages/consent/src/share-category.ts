/**
 * Share categories (contract, DESIGN.md): what kind of information a resource is, which decides who may see it.
 * Every resource in a client's compartment carries exactly one, in `meta.tag`, with the HL7 security labels that follow
 * from it in `meta.security`.
 */
import { ACT_CODE_SYSTEM, PSYCHOTHERAPY_NOTE_LABEL, PSYCHOTHERAPY_NOTE_TAG, SHARE_CATEGORY_SYSTEM } from '@carecircle/fhir';
import type { Coding, Resource } from '@medplum/fhirtypes';

// Defined in @carecircle/fhir's canonical-urls.ts; re-exported beside the categories they code.
export { ACT_CODE_SYSTEM, SHARE_CATEGORY_SYSTEM };
export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

export const SHARE_CATEGORIES = [
  'demographics',
  'presenting-concerns',
  'treatment-goals',
  'care-plan',
  'progress',
  'trauma-history',
  'mental-health',
  'sexual-history',
  'medications',
  'relationship-context',
  'psychotherapy-notes',
] as const;

export type ShareCategory = (typeof SHARE_CATEGORIES)[number];

const categories = new Set<string>(SHARE_CATEGORIES);

/** True when `code` is one of our share categories. */
export function isShareCategory(code: string | undefined): code is ShareCategory {
  return code !== undefined && categories.has(code);
}

/** Never leaves the custodian, whatever a consent, scope or token says (contract). */
export const PSYCHOTHERAPY_NOTES: ShareCategory = 'psychotherapy-notes';

/** True when `resource` is labelled a psychotherapy note: by its category, or by the PSYTHPN label alone. */
export function isPsychotherapyNoteResource(resource: Resource | undefined): boolean {
  return (
    (resource?.meta?.tag ?? []).some((c) => c.system === PSYCHOTHERAPY_NOTE_TAG.system && c.code === PSYCHOTHERAPY_NOTE_TAG.code) ||
    (resource?.meta?.security ?? []).some((c) => c.system === PSYCHOTHERAPY_NOTE_LABEL.system && c.code === PSYCHOTHERAPY_NOTE_LABEL.code)
  );
}

/** Confidentiality `V` (very restricted) for trauma history and psychotherapy notes, `R` (restricted) otherwise. */
export function confidentialityOf(category: ShareCategory): 'R' | 'V' {
  return category === 'trauma-history' || category === 'psychotherapy-notes' ? 'V' : 'R';
}

/** The HL7 sensitivity code for a category, when it has one. */
export function sensitivityOf(category: ShareCategory): 'SDV' | 'PSY' | 'SEX' | 'PSYTHPN' | undefined {
  switch (category) {
    case 'trauma-history':
      return 'SDV';
    case 'mental-health':
      return 'PSY';
    case 'sexual-history':
      return 'SEX';
    case 'psychotherapy-notes':
      return 'PSYTHPN';
    case 'demographics':
    case 'presenting-concerns':
    case 'treatment-goals':
    case 'care-plan':
    case 'progress':
    case 'medications':
    case 'relationship-context':
      return undefined;
    default:
      return category satisfies never;
  }
}

/**
 * How sensitive a category is, for the rule that a writer never moves a resource to a less sensitive category:
 * psychotherapy notes (never disclosed) above trauma history (confidentiality V) above the categories with an HL7
 * sensitivity label (mental health, sexual history) above the rest.
 */
export function sensitivityRank(category: ShareCategory): number {
  if (category === 'psychotherapy-notes') {
    return 3;
  }
  if (confidentialityOf(category) === 'V') {
    return 2;
  }
  return sensitivityOf(category) === undefined ? 0 : 1;
}

/**
 * The category whose consent a sensitivity label (v3-ActCode) calls for: a resource carrying the label is disclosed
 * only to a recipient whose consent also lists that category, whatever its own category (labels only ever go up, so a
 * resource keeps the labels of every category it was ever in). `PSYTHPN` maps to psychotherapy notes, which no consent
 * lists: a resource so labelled never leaves the custodian.
 */
export const CATEGORY_OF_SENSITIVITY: Readonly<Record<'SDV' | 'PSY' | 'SEX' | 'PSYTHPN', ShareCategory>> = {
  SDV: 'trauma-history',
  PSY: 'mental-health',
  SEX: 'sexual-history',
  PSYTHPN: 'psychotherapy-notes',
};

/** The security labels a resource of `category` carries: confidentiality, then sensitivity if any. */
export function securityLabelsFor(category: ShareCategory): Coding[] {
  const labels: Coding[] = [{ system: CONFIDENTIALITY_SYSTEM, code: confidentialityOf(category) }];
  const sensitivity = sensitivityOf(category);
  if (sensitivity) {
    labels.push({ system: ACT_CODE_SYSTEM, code: sensitivity });
  }
  return labels;
}

/**
 * The category a resource gets when its writer names none: by resource type, the most protective reasonable reading.
 * Types with no entry (directory and infrastructure resources) are not client data and get no category.
 */
export const DEFAULT_CATEGORY_BY_TYPE: Readonly<Record<string, ShareCategory>> = {
  Patient: 'demographics',
  Condition: 'presenting-concerns',
  Goal: 'treatment-goals',
  CarePlan: 'care-plan',
  CareTeam: 'care-plan',
  ServiceRequest: 'care-plan',
  Task: 'care-plan',
  Observation: 'progress',
  Communication: 'progress',
  Composition: 'progress',
  DocumentReference: 'progress',
  Provenance: 'progress',
  Basic: 'progress',
  Consent: 'demographics',
};

/**
 * The one category every Consent carries: a consent describes the sharing itself, is never disclosed by category, and
 * must never be hidden from the client it belongs to (as a psychotherapy-notes tag would hide it).
 */
export const CONSENT_CATEGORY: ShareCategory = 'demographics';
