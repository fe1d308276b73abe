/**
 * The canonical URLs of our implementation guide (DESIGN.md, "Contract: categories, labels, consent"), defined once so
 * that no package spells them out again. The resources behind them live in fhir-profiles/.
 */

/** Canonical base of the CareCircle implementation guide. */
export const CARECIRCLE_CANONICAL_BASE = 'https://carecircle.dev/fhir';

/** The share-category CodeSystem: one of its codes tags every resource in a client's compartment. */
export const SHARE_CATEGORY_SYSTEM = `${CARECIRCLE_CANONICAL_BASE}/CodeSystem/share-category`;

/** The ValueSet holding every share category. */
export const SHARE_CATEGORY_VALUE_SET = `${CARECIRCLE_CANONICAL_BASE}/ValueSet/share-category`;

/** The profile every sharing Consent claims in `meta.profile`. */
export const SHARING_CONSENT_PROFILE = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/sharing-consent`;
