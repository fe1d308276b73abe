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

/** The HL7 Subscriptions R5 Backport IG's R4 Subscription profile (http://hl7.org/fhir/uv/subscriptions-backport). */
export const BACKPORT_SUBSCRIPTION_PROFILE = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription';

/**
 * Profiles of other guides that a resource may claim although fhir-profiles/ does not hold them, by the resource type
 * they constrain: their rules are checked in code by the server's own write rules (the Backport Subscription profile by
 * @carecircle/notify's subscription settings), so a claim of conformance to them is one the server does check.
 */
export const PROFILES_CHECKED_IN_CODE: ReadonlyMap<string, string> = new Map([[BACKPORT_SUBSCRIPTION_PROFILE, 'Subscription']]);
