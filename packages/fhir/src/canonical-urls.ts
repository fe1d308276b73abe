/**
 * The canonical URLs of our implementation guide (DESIGN.md, "Contract: categories, labels, consent"), the identifier
 * systems our AuditEvents name their agents by, and the two codings that mark a psychotherapy note, defined once so
 * that no package spells them out again (services/portal and packages/demo's clients of the public API aside: they
 * import no domain package). The resources behind the canonical URLs live in fhir-profiles/.
 */
import type { Coding } from '@medplum/fhirtypes';


/** Canonical base of the CareCircle implementation guide. */
export const CARECIRCLE_CANONICAL_BASE = 'https://carecircle.dev/fhir';

/** The share-category CodeSystem: one of its codes tags every resource in a client's compartment. */
export const SHARE_CATEGORY_SYSTEM = `${CARECIRCLE_CANONICAL_BASE}/CodeSystem/share-category`;

/** HL7 v3 ActCode: the system of the sensitivity labels in `meta.security` (PSY, SDV, SEX, PSYTHPN) and of OPTIN. */
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** The `meta.tag` of a psychotherapy note: its share category, which no consent ever lists (contract). */
export const PSYCHOTHERAPY_NOTE_TAG: Readonly<Coding> = { system: SHARE_CATEGORY_SYSTEM, code: 'psychotherapy-notes' };

/** The `meta.security` label of a psychotherapy note (PSYTHPN), which marks one even without its tag. */
export const PSYCHOTHERAPY_NOTE_LABEL: Readonly<Coding> = { system: ACT_CODE_SYSTEM, code: 'PSYTHPN' };

/** Identifier system of an OAuth client acting as an AuditEvent agent (`agent.who.identifier.value` is its id). */
export const OAUTH_CLIENT_SYSTEM = `${CARECIRCLE_CANONICAL_BASE}/oauth-client`;

/** Identifier system of the operator (the admin token) as an AuditEvent agent. */
export const OPERATOR_SYSTEM = `${CARECIRCLE_CANONICAL_BASE}/operator`;

/** The ValueSet holding every share category. */
export const SHARE_CATEGORY_VALUE_SET = `${CARECIRCLE_CANONICAL_BASE}/ValueSet/share-category`;

/** The profile every sharing Consent claims in `meta.profile`. */
export const SHARING_CONSENT_PROFILE = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/sharing-consent`;

/**
 * Guides some of whose profiles fhir-profiles/ holds under their own canonical URLs, by the id prefix of those files:
 * IHE Basic Audit Log Patterns (BALP), whose profiles our disclosure AuditEvents claim (DESIGN.md, "Audit events").
 */
export const IMPORTED_CANONICAL_BASES: ReadonlyMap<string, string> = new Map([['IHE.BasicAudit.', 'https://profiles.ihe.net/ITI/BALP']]);

/** The HL7 Subscriptions R5 Backport IG's R4 Subscription profile (http://hl7.org/fhir/uv/subscriptions-backport). */
export const BACKPORT_SUBSCRIPTION_PROFILE = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription';

/**
 * Profiles of other guides that a resource may claim although fhir-profiles/ does not hold them, by the resource type
 * they constrain: their rules are checked in code by the server's own write rules (the Backport Subscription profile by
 * @carecircle/notify's subscription settings), so a claim of conformance to them is one the server does check.
 */
export const PROFILES_CHECKED_IN_CODE: ReadonlyMap<string, string> = new Map([[BACKPORT_SUBSCRIPTION_PROFILE, 'Subscription']]);

/**
 * `meta.extension` (valueReference: Organization) the server stamps on every psychotherapy note (consent's
 * note-custodian rule): the practice that holds it. A note stays with that practice when its client moves to another.
 */
export const NOTE_CUSTODIAN_URL = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/note-custodian`;

/** The coordinated update profile (a Composition the client approves before it is released to one provider). */
export const COORDINATED_UPDATE_PROFILE = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/coordinated-update`;

/** Extension (valueCode, CodeSystem update-state) on a coordinated update: where it is in its lifecycle. */
export const UPDATE_STATE_URL = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/update-state`;

/** Extension (valueReference: Organization, Practitioner or PractitionerRole) on a coordinated update: who it is for. */
export const UPDATE_RECIPIENT_URL = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/update-recipient`;
