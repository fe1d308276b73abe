/**
 * One line of the client's accounting of disclosures, as data: who (the provider, and the person or system that acted
 * for it), what they did, which categories of the client's record, how many items, whether it was allowed, how many
 * times it was refused (a folded denial), and the sharing choice that allowed it. Built from one AuditEvent as the API
 * writes it (docs/DESIGN.md, "Audit events") and what the loader looked up: names of the agents, the share category
 * of each resource named, the consent in force at the time. Pure, so the sentence and the CSV are tested without HTTP.
 */
import type { AuditEvent, Organization, Practitioner, Resource } from '@medplum/fhirtypes';
import type { AccountingInteraction } from '../../i18n/accounting';
import { SHAREABLE_CATEGORIES } from '../../i18n/categories';

// The portal's own copies of @carecircle/consent's DENIED_COUNT_URL and @carecircle/fhir's OPERATOR_SYSTEM and
// OAUTH_CLIENT_SYSTEM: the portal is a pure HTTP client of the public API and imports no domain package.
export const DENIED_COUNT_URL = 'https://carecircle.dev/fhir/StructureDefinition/denied-count';
const OPERATOR_SYSTEM = 'https://carecircle.dev/fhir/operator';
const OAUTH_CLIENT_SYSTEM = 'https://carecircle.dev/fhir/oauth-client';

/** Who acted: a system of the provider, a person there, the service's operator, or someone the portal cannot name. */
export type AccountingActor =
  | { readonly kind: 'system'; readonly provider: string | undefined }
  | { readonly kind: 'person'; readonly person: string | undefined; readonly provider: string | undefined }
  | { readonly kind: 'operator' };

export interface AccountingEntry {
  /** The AuditEvent's id (a key for the list; never shown). */
  readonly id: string;
  /** When it happened (ISO 8601 instant, as recorded). */
  readonly recorded: string;
  readonly outcome: 'allowed' | 'denied';
  readonly actor: AccountingActor;
  /** `Organization/x` (or `Practitioner/x`) the event names as the recipient, for the provider filter. */
  readonly providerReference: string | undefined;
  readonly interaction: AccountingInteraction;
  /** The share categories of the items, in the portal's order of categories. */
  readonly categories: readonly string[];
  /** How many items (resources) the event names. */
  readonly items: number;
  /** For a denial, how many refusals it records (folded denials: more than 1). */
  readonly times: number;
  /** The sharing choice (Consent) that allowed it, and the day that version of it was made, when known. */
  readonly consent: { readonly id: string; readonly date: string } | undefined;
}

/** The names the loader found for references (`Organization/x` -> its name). */
export type NameLookup = ReadonlyMap<string, string>;

/** The share category of each resource an event names, by `Type/id` or `Type/id/_history/n` as the event says it. */
export type CategoryLookup = ReadonlyMap<string, string>;

/** What the loader decided about an event's consent (consent-attribution.ts). */
export type ConsentLookup = (event: AuditEvent, categories: readonly string[]) => AccountingEntry['consent'];

/** The AuditEvent as a line of the accounting. */
export function accountingEntryOf(event: AuditEvent, names: NameLookup, categoriesOf: CategoryLookup, consentOf: ConsentLookup): AccountingEntry {
  const outcome = event.outcome === '0' ? 'allowed' : 'denied';
  const items = itemReferences(event);
  const categories = sortCategories(items.flatMap((reference) => categoriesOf.get(reference) ?? []));
  return {
    id: event.id ?? '',
    recorded: event.recorded,
    outcome,
    actor: actorOf(event, names),
    providerReference: providerReferenceOf(event),
    interaction: interactionOf(event),
    categories,
    items: items.length,
    times: outcome === 'denied' ? deniedCount(event) : 0,
    consent: outcome === 'allowed' ? consentOf(event, categories) : undefined,
  };
}

/** The references of the items an event names: every entity but the client itself, each once. */
export function itemReferences(event: AuditEvent): string[] {
  const patient = patientOf(event);
  const references = (event.entity ?? [])
    .filter((entity) => entity.role?.code !== '1')
    .map((entity) => entity.what?.reference)
    .filter((reference): reference is string => typeof reference === 'string' && reference !== patient);
  return [...new Set(references)];
}

/** The client the event is about (`Patient/x`). */
export function patientOf(event: AuditEvent): string | undefined {
  return (event.entity ?? []).find((entity) => entity.role?.code === '1')?.what?.reference;
}

/** The references of the agents an event names (Organization, Practitioner, PractitionerRole). */
export function agentReferences(event: AuditEvent): string[] {
  return (event.agent ?? []).map((agent) => agent.who?.reference).filter((reference): reference is string => typeof reference === 'string');
}

/** The recipient organization the event names (else the practitioner), as the provider filter knows it. */
export function providerReferenceOf(event: AuditEvent): string | undefined {
  const references = agentReferences(event);
  return references.find((r) => r.startsWith('Organization/')) ?? references.find((r) => r.startsWith('Practitioner/'));
}

function actorOf(event: AuditEvent, names: NameLookup): AccountingActor {
  const agents = event.agent ?? [];
  if (agents.some((agent) => agent.who?.identifier?.system === OPERATOR_SYSTEM)) {
    return { kind: 'operator' };
  }
  const references = agentReferences(event);
  const organization = references.find((r) => r.startsWith('Organization/'));
  const provider = organization ? names.get(organization) : undefined;
  const practitioner = references.find((r) => r.startsWith('Practitioner/'));
  if (practitioner) {
    return { kind: 'person', person: names.get(practitioner), provider };
  }
  return { kind: 'system', provider };
}

function interactionOf(event: AuditEvent): AccountingInteraction {
  const code = event.subtype?.find((c) => c.system === 'http://hl7.org/fhir/restful-interaction')?.code ?? event.subtype?.[0]?.code;
  const client = event.agent?.find((agent) => agent.who?.identifier?.system === OAUTH_CLIENT_SYSTEM)?.who?.identifier?.value;
  if (client?.startsWith('subscription/')) {
    return 'notification';
  }
  switch (code) {
    case 'search-type':
    case 'search-system':
    case 'search':
      return 'search';
    case 'operation':
      return 'summary';
    case 'history':
    case 'history-instance':
    case 'history-type':
      return 'history';
    default:
      return 'read';
  }
}

function deniedCount(event: AuditEvent): number {
  const value = event.extension?.find((e) => e.url === DENIED_COUNT_URL)?.valueInteger;
  return typeof value === 'number' && value > 0 ? value : 1;
}

/** Categories once each, in the portal's order (unknown codes last, as they came). */
export function sortCategories(codes: readonly string[]): string[] {
  const unique = [...new Set(codes)];
  const rank = (code: string): number => {
    const i = (SHAREABLE_CATEGORIES as readonly string[]).indexOf(code);
    return i < 0 ? SHAREABLE_CATEGORIES.length : i;
  };
  return unique.sort((a, b) => rank(a) - rank(b));
}

/** A readable name of an Organization or Practitioner (undefined when it has none). */
export function nameOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Organization') {
    return (resource as Organization).name?.trim() || undefined;
  }
  if (resource.resourceType === 'Practitioner') {
    const name = (resource as Practitioner).name?.[0];
    if (!name) {
      return undefined;
    }
    const text = name.text?.trim() || [...(name.prefix ?? []), ...(name.given ?? []), name.family ?? ''].join(' ').trim();
    return text || undefined;
  }
  return undefined;
}
