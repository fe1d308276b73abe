/**
 * Builds "Who saw what" from the API as the signed-in client, in a fixed number of round trips whatever the page holds:
 *
 * 1. at once: the client's AuditEvents (`AuditEvent?patient=…&_sort=-date`, with the filters as the API's `agent` and
 *    `date` parameters, `_include=AuditEvent:agent` for the recipients' names, paged by the API's sealed `_page`
 *    token), and the client's Consents with their recipients (`Consent?patient=…&_include=Consent:actor`);
 * 2. one batch: the share category of every resource the events name (`{Type}?_id=…`, the current versions), the
 *    history of any Consent changed since an event it may have allowed, and any name step 1 did not bring;
 * 3. only when a resource changed since it was disclosed (or is gone): one batch of vreads of the versions named.
 *
 * Names are looked up once per request. Nothing is filtered after paging: the API filters, the portal only words.
 */
import type { AuditEvent, Bundle, BundleEntry, Consent, Resource } from '@medplum/fhirtypes';
import { FhirRequestFailed, type FhirApi } from '../../fhir-api';
import { SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import { accountingEntryOf, agentReferences, itemReferences, nameOf, providerReferenceOf, type AccountingEntry } from './accounting-entry';
import { apiFilterParams, type AccountingFilters } from './accounting-filters';
import { consentThatAllowed, needsHistory, type ConsentVersions } from './consent-attribution';

/** Entries on one page of the list. */
export const PAGE_SIZE = 25;
/** The CSV reads the API's largest pages, up to this many of them (a bound, not a limit any client will reach). */
const CSV_PAGE_SIZE = 1000;
const CSV_MAX_PAGES = 100;
const IDS_PER_SEARCH = 50;

export interface ProviderOption {
  readonly reference: string;
  readonly name: string;
}

export interface AccountingPage {
  readonly entries: readonly AccountingEntry[];
  /** The API's token for the next (older) page. */
  readonly next: string | undefined;
  /** The providers to filter by: those the client shares with (now or before) and those on this page. */
  readonly providers: readonly ProviderOption[];
}

/** The page token was refused (expired after an hour, or not this search's): the list should start again. */
export class PageTokenRefused extends Error {
  override readonly name = 'PageTokenRefused';
}

/** One page of the accounting for `filters`. */
export async function loadAccountingPage(api: FhirApi, filters: AccountingFilters): Promise<AccountingPage> {
  const [events, consents] = await Promise.all([searchEvents(api, filters, PAGE_SIZE, filters.page), searchConsents(api)]);
  const names = new Map([...consents.names, ...events.names]);
  const providers = new Set<string>([...consents.recipients]);
  for (const event of events.events) {
    const provider = providerReferenceOf(event);
    if (provider) {
      providers.add(provider);
    }
  }
  if (filters.provider) {
    providers.add(filters.provider);
  }
  const entries = await describeEvents(api, events.events, consents.consents, names, [...providers]);
  return {
    entries,
    next: events.next,
    providers: providerOptions([...providers], names),
  };
}

function providerOptions(references: readonly string[], names: ReadonlyMap<string, string>): ProviderOption[] {
  return references
    .map((reference) => ({ reference, name: names.get(reference) ?? '' }))
    .filter((p) => p.name !== '')
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The providers to filter by, without the list (for the form sent back with problems, so the reader's choice stays):
 * those the client shares with, and the one chosen.
 */
export async function loadProviderOptions(api: FhirApi, chosen: string | undefined): Promise<ProviderOption[]> {
  const consents = await searchConsents(api);
  const references = [...new Set([...consents.recipients, ...(chosen ? [chosen] : [])])];
  await describeEvents(api, [], [], consents.names, references);
  return providerOptions(references, consents.names);
}

/** Every entry for `filters`, newest first (for the CSV). */
export async function loadAllEntries(api: FhirApi, filters: AccountingFilters): Promise<AccountingEntry[]> {
  const [consents, first] = await Promise.all([searchConsents(api), searchEvents(api, filters, CSV_PAGE_SIZE, undefined)]);
  const events = [...first.events];
  const names = new Map([...consents.names, ...first.names]);
  let next = first.next;
  for (let page = 1; next && page < CSV_MAX_PAGES; page++) {
    const more = await searchEvents(api, filters, CSV_PAGE_SIZE, next);
    events.push(...more.events);
    for (const [k, v] of more.names) {
      names.set(k, v);
    }
    next = more.next;
  }
  return describeEvents(api, events, consents.consents, names, []);
}

interface EventPage {
  events: AuditEvent[];
  names: Map<string, string>;
  next: string | undefined;
}

/**
 * One page of the client's AuditEvents, newest first. Without `_total`: counting every match costs the API about as
 * much again as the page itself (`npm run bench`, bench/portal.bench.ts), and the list pages by "older" links anyway.
 */
async function searchEvents(api: FhirApi, filters: AccountingFilters, count: number, page: string | undefined): Promise<EventPage> {
  const params = new URLSearchParams([
    ['patient', api.patient],
    ...apiFilterParams(filters),
    ['_sort', '-date'],
    ['_count', String(count)],
    ['_include', 'AuditEvent:agent'],
    ['_total', 'none'],
  ]);
  if (page) {
    params.set('_page', page);
  }
  let bundle: Bundle;
  try {
    bundle = await api.search(`/AuditEvent?${params}`);
  } catch (err) {
    if (page && err instanceof FhirRequestFailed && (err.status === 400 || err.status === 410)) {
      throw new PageTokenRefused('page token refused', { cause: err });
    }
    throw err;
  }
  const entries = bundle.entry ?? [];
  const events = entries.filter((e) => e.search?.mode !== 'include' && e.resource?.resourceType === 'AuditEvent').map((e) => e.resource as AuditEvent);
  const next = bundle.link?.find((l) => l.relation === 'next')?.url;
  return {
    events,
    names: namesIn(entries.filter((e) => e.search?.mode === 'include')),
    next: next ? (new URL(next).searchParams.get('_page') ?? undefined) : undefined,
  };
}

interface ConsentList {
  consents: Consent[];
  names: Map<string, string>;
  /** Every recipient (IRCP actor) the client's consents name, in any status. */
  recipients: string[];
}

async function searchConsents(api: FhirApi): Promise<ConsentList> {
  const bundle = await api.search(`/Consent?${new URLSearchParams({ patient: api.patient, _count: '1000', _include: 'Consent:actor', _total: 'none' })}`);
  const entries = bundle.entry ?? [];
  const consents = entries.filter((e) => e.search?.mode !== 'include' && e.resource?.resourceType === 'Consent').map((e) => e.resource as Consent);
  const recipients = new Set<string>();
  for (const consent of consents) {
    for (const provision of [consent.provision, ...(consent.provision?.provision ?? [])]) {
      for (const actor of provision?.actor ?? []) {
        const reference = actor.reference?.reference;
        if (reference && actor.role?.coding?.some((c) => c.code === 'IRCP') && !reference.startsWith('PractitionerRole/')) {
          recipients.add(reference);
        }
      }
    }
  }
  return { consents, names: namesIn(entries.filter((e) => e.search?.mode === 'include')), recipients: [...recipients] };
}

function namesIn(entries: readonly BundleEntry[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const { resource } of entries) {
    const name = resource ? nameOf(resource) : undefined;
    if (resource?.id && name) {
      names.set(`${resource.resourceType}/${resource.id}`, name);
    }
  }
  return names;
}

/** Step 2 and 3: the categories, consents and missing names of `events`, then each as an entry. */
async function describeEvents(
  api: FhirApi,
  events: readonly AuditEvent[],
  consents: readonly Consent[],
  names: Map<string, string>,
  moreNames: readonly string[],
): Promise<AccountingEntry[]> {
  if (events.length === 0 && moreNames.every((r) => names.has(r))) {
    return [];
  }
  const items = [...new Set(events.flatMap(itemReferences))];
  const byType = groupIds(items.map(parseReference).filter((r): r is ParsedReference => r !== undefined));
  const unnamed = [...new Set([...events.flatMap(agentReferences), ...moreNames])].filter(
    (r) => !names.has(r) && (r.startsWith('Organization/') || r.startsWith('Practitioner/')),
  );
  const unnamedByType = groupIds(unnamed.map(parseReference).filter((r): r is ParsedReference => r !== undefined));
  const historyOf = consents.filter((consent) => events.some((event) => event.outcome === '0' && needsHistory(consent, event)));

  const requests: string[] = [
    ...searchesById(byType),
    ...searchesById(unnamedByType),
    ...historyOf.map((consent) => `Consent/${consent.id}/_history?_count=1000`),
  ];
  const answers = await batch(api, requests);
  const current = new Map<string, Resource>();
  const histories = new Map<string, Consent[]>();
  answers.forEach((answer, i) => {
    const url = requests[i] as string;
    if (!answer || answer.resourceType !== 'Bundle') {
      return;
    }
    const resources = ((answer as Bundle).entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
    if (url.startsWith('Consent/')) {
      histories.set(url.split('/')[1] as string, resources as Consent[]);
      return;
    }
    for (const resource of resources) {
      current.set(`${resource.resourceType}/${resource.id}`, resource);
      const name = nameOf(resource);
      if (name && resource.id) {
        names.set(`${resource.resourceType}/${resource.id}`, name);
      }
    }
  });

  // The category of each item: its current version's when that is the version named (or none is named); a resource
  // changed or gone since is read at the version the event names.
  const categories = new Map<string, string>();
  const vreads: string[] = [];
  for (const reference of items) {
    const parsed = parseReference(reference);
    const now = parsed ? current.get(`${parsed.type}/${parsed.id}`) : undefined;
    if (now && (!parsed?.version || now.meta?.versionId === parsed.version)) {
      const category = categoryOf(now);
      if (category) {
        categories.set(reference, category);
      }
    } else if (parsed?.version) {
      vreads.push(reference);
    }
  }
  if (vreads.length > 0) {
    const versions = await batch(api, vreads);
    versions.forEach((resource, i) => {
      const category = resource ? categoryOf(resource) : undefined;
      if (category) {
        categories.set(vreads[i] as string, category);
      }
    });
  }

  const consentVersions: ConsentVersions[] = consents.map((consent) => ({ current: consent, history: consent.id ? histories.get(consent.id) : undefined }));
  return events.map((event) => accountingEntryOf(event, names, categories, (e, cats) => consentThatAllowed(e, cats, consentVersions)));
}

interface ParsedReference {
  type: string;
  id: string;
  version: string | undefined;
}

function parseReference(reference: string): ParsedReference | undefined {
  const match = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/.exec(reference);
  return match ? { type: match[1] as string, id: match[2] as string, version: match[3] } : undefined;
}

function groupIds(references: readonly ParsedReference[]): Map<string, string[]> {
  const byType = new Map<string, Set<string>>();
  for (const { type, id } of references) {
    byType.set(type, (byType.get(type) ?? new Set()).add(id));
  }
  return new Map([...byType].map(([type, ids]) => [type, [...ids]]));
}

function searchesById(byType: ReadonlyMap<string, readonly string[]>): string[] {
  const searches: string[] = [];
  for (const [type, ids] of byType) {
    for (let i = 0; i < ids.length; i += IDS_PER_SEARCH) {
      const chunk = ids.slice(i, i + IDS_PER_SEARCH);
      searches.push(`${type}?${new URLSearchParams({ _id: chunk.join(','), _count: String(chunk.length), _total: 'none' })}`);
    }
  }
  return searches;
}

/** GETs `urls` in batches as the client; each answer's resource, or undefined where that entry failed. */
async function batch(api: FhirApi, urls: readonly string[]): Promise<(Resource | undefined)[]> {
  const answers: (Resource | undefined)[] = [];
  // One batch holds at most 1,000 entries (the API's bound); 500 keeps each well under it.
  for (let i = 0; i < urls.length; i += 500) {
    const chunk = urls.slice(i, i + 500);
    const { body } = await api.request('POST', '/', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: chunk.map((url) => ({ request: { method: 'GET', url } })),
    });
    const entries = (body as Bundle).entry ?? [];
    chunk.forEach((_, j) => {
      const entry = entries[j];
      answers.push(entry?.response?.status?.startsWith('200') ? entry.resource : undefined);
    });
  }
  return answers;
}

function categoryOf(resource: Resource): string | undefined {
  return resource.meta?.tag?.find((tag) => tag.system === SHARE_CATEGORY_SYSTEM)?.code;
}
