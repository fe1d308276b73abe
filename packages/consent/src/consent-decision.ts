/**
 * The disclosure decision (contract, DESIGN.md): a resource of a client's is disclosed to a recipient iff some Consent
 * of that client is active, its period covers now, an actor matches the recipient (a practitioner matches through its
 * organization too), the purpose matches, and the resource's share category is among the consent's codes. Union over
 * consents; everything else is denied, untagged resources included. Psychotherapy notes are never disclosed. The
 * client's Patient resource is disclosed under any consent in force that names the recipient for the purpose.
 *
 * This module is pure: it decides over consents already read. The repository applies the same rule in SQL (see
 * consent-policy.ts) so that searches are limited before paging and counting; the table tests here pin the rule.
 */
import { SUPPORTED_PURPOSES_OF_USE } from '@carecircle/auth';
import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import { isShareCategory, PSYCHOTHERAPY_NOTES, SHARE_CATEGORY_SYSTEM, type ShareCategory } from './share-category';

export const PURPOSE_OF_USE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const DEFAULT_PURPOSE = 'TREAT';

/**
 * The v3-ActReason purposes of use this server supports (DESIGN.md, "Purpose of use"): what a caller may state (the
 * one list, in @carecircle/auth) and so what a consent may permit.
 */
export const PURPOSES_OF_USE: ReadonlySet<string> = new Set<string>(SUPPORTED_PURPOSES_OF_USE);
export const RECIPIENT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const RECIPIENT_ROLE = 'IRCP';

/** Types that are never disclosed by category: they describe the sharing itself, not the client's care. */
export const NEVER_DISCLOSED_TYPES: ReadonlySet<string> = new Set(['Consent', 'AuditEvent']);

/**
 * Who would receive the information: an organization, and optionally the practitioner acting for it with the
 * practitioner's roles at that organization. A consent naming any of them names the recipient.
 */
export interface Recipient {
  /** `Organization/{id}` */
  organization?: string;
  /** `Practitioner/{id}` */
  practitioner?: string;
  /** `PractitionerRole/{id}`: the one role the recipient acts in, when that is all that is known (a referral's performer). */
  practitionerRole?: string;
  /** `PractitionerRole/{id}` of each (active) role the practitioner holds at the organization. */
  practitionerRoles?: readonly string[];
}

export interface DisclosureQuestion {
  recipient: Recipient;
  /** v3-ActReason code; TREAT when the caller names none. */
  purpose: string;
  /** The resource's share category, or undefined when it has none (then: deny). */
  category: string | undefined;
  resourceType?: string;
  now: Date;
}

export interface DisclosureDecision {
  permit: boolean;
  /** `Consent/{id}` of every consent that permits it (empty when denied). */
  consents: string[];
  /** Why, in a sentence without PHI. */
  reason: string;
}

/** Decides one disclosure over the client's consents (all of them; inactive ones are ignored here). */
export function decideDisclosure(consents: readonly Consent[], question: DisclosureQuestion): DisclosureDecision {
  const { category } = question;
  if (question.resourceType && NEVER_DISCLOSED_TYPES.has(question.resourceType)) {
    return deny(`${question.resourceType} is never disclosed to other providers`);
  }
  if (question.resourceType === 'Patient') {
    return decidePatient(consents, question);
  }
  if (!isShareCategory(category)) {
    return deny('The resource has no share category');
  }
  if (category === PSYCHOTHERAPY_NOTES) {
    return deny('Psychotherapy notes never leave the practice');
  }
  const permitting = consents.filter((consent) => consentPermits(consent, question.recipient, question.purpose, question.now, category));
  if (permitting.length === 0) {
    return deny(`No active consent permits ${category} for this recipient and purpose`);
  }
  return {
    permit: true,
    consents: permitting.map((c) => `Consent/${c.id}`),
    reason: `Permitted by ${permitting.length} active consent${permitting.length === 1 ? '' : 's'}`,
  };
}

/** The Patient resource: disclosed under any consent in force that names the recipient for the purpose. */
function decidePatient(consents: readonly Consent[], question: DisclosureQuestion): DisclosureDecision {
  const permitting = consents.filter((consent) => permittedCategories(consent, question.recipient, question.purpose, question.now).length > 0);
  if (permitting.length === 0) {
    return deny('No active consent names this recipient for this purpose');
  }
  return {
    permit: true,
    consents: permitting.map((c) => `Consent/${c.id}`),
    reason: `The client's Patient resource is disclosed under any active consent naming the recipient (${permitting.length})`,
  };
}

/** The categories one consent permits to `recipient` for `purpose` at `now` (empty when it permits nothing). */
export function permittedCategories(consent: Consent, recipient: Recipient, purpose: string, now: Date): ShareCategory[] {
  const provision = consent.provision;
  if (!isConsentInForce(consent, now) || !provision || !recipientMatches(provision, recipient) || !purposeMatches(provision, purpose)) {
    return [];
  }
  return provisionCategories(provision).filter((c) => c !== PSYCHOTHERAPY_NOTES);
}

function consentPermits(consent: Consent, recipient: Recipient, purpose: string, now: Date, category: ShareCategory): boolean {
  return permittedCategories(consent, recipient, purpose, now).includes(category);
}

/** Active, a permit, and `now` within the provision's period (open ends allowed). */
export function isConsentInForce(consent: Consent, now: Date): boolean {
  const provision = consent.provision;
  if (consent.status !== 'active' || provision?.type !== 'permit') {
    return false;
  }
  const start = provision.period?.start;
  const end = provision.period?.end;
  if (start && now.getTime() < periodStart(start)) {
    return false;
  }
  if (end && now.getTime() >= periodEnd(end)) {
    return false;
  }
  return true;
}

/** A consent's recipients: the actors with role IRCP. */
export function consentRecipients(provision: ConsentProvision): string[] {
  return (provision.actor ?? [])
    .filter((actor) => actor.role?.coding?.some((c) => c.system === RECIPIENT_ROLE_SYSTEM && c.code === RECIPIENT_ROLE))
    .map((actor) => actor.reference?.reference)
    .filter((ref): ref is string => typeof ref === 'string');
}

function recipientMatches(provision: ConsentProvision, recipient: Recipient): boolean {
  const named = new Set(consentRecipients(provision));
  // A practitioner matches when named itself, through one of its roles, or through the organization it acts for.
  return recipientReferences(recipient).some((ref) => named.has(ref));
}

/** The references that identify a recipient in `Consent.provision.actor`. */
export function recipientReferences(recipient: Recipient): string[] {
  const references = [recipient.organization, recipient.practitioner, recipient.practitionerRole, ...(recipient.practitionerRoles ?? [])];
  return [...new Set(references.filter((r): r is string => r !== undefined))];
}

function purposeMatches(provision: ConsentProvision, purpose: string): boolean {
  return (provision.purpose ?? []).some((p) => p.system === PURPOSE_OF_USE_SYSTEM && p.code === purpose);
}

/** The share categories a provision lists (psychotherapy notes included, when a legacy consent lists them). */
export function provisionCategories(provision: ConsentProvision): ShareCategory[] {
  return (provision.code ?? [])
    .flatMap((concept) => concept.coding ?? [])
    .filter((coding) => coding.system === SHARE_CATEGORY_SYSTEM)
    .map((coding) => coding.code)
    .filter(isShareCategory);
}

/** The first instant of a FHIR date or dateTime (`2026`, `2026-05`, `2026-05-01`, or a full dateTime), epoch ms. */
export function periodStart(value: string): number {
  return Date.parse(expandDate(value));
}

/** The instant just after a FHIR date or dateTime ends: `2026-05-01` ends at the start of 2026-05-02 (UTC), epoch ms. */
export function periodEnd(value: string): number {
  if (value.length > 10) {
    return Date.parse(value);
  }
  const start = new Date(expandDate(value));
  if (value.length === 4) {
    start.setUTCFullYear(start.getUTCFullYear() + 1);
  } else if (value.length === 7) {
    start.setUTCMonth(start.getUTCMonth() + 1);
  } else {
    start.setUTCDate(start.getUTCDate() + 1);
  }
  return start.getTime();
}

function expandDate(value: string): string {
  if (value.length === 4) {
    return `${value}-01-01T00:00:00Z`;
  }
  if (value.length === 7) {
    return `${value}-01T00:00:00Z`;
  }
  if (value.length === 10) {
    return `${value}T00:00:00Z`;
  }
  return value;
}

function deny(reason: string): DisclosureDecision {
  return { permit: false, consents: [], reason };
}
