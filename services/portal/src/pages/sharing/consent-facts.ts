/**
 * What a sharing Consent says, as facts a page can show: who it names, which categories and purposes, from and until
 * when, and where it stands now (sharing, not started, ended, stopped); the order the overview shows them in; and the
 * story of its versions (given, changed, stopped), with who made each version as far as the record tells. Pure: no
 * API calls, no words (the pages turn these into sentences from the catalogue).
 */
import type { Consent, Provenance } from '@medplum/fhirtypes';
import { NEVER_SHARED_CATEGORY, SHARE_CATEGORY_SYSTEM, SHAREABLE_CATEGORIES } from '../../i18n/categories';

const IRCP_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const DAY_MS = 86_400_000;

/** How near an end date has to be for the overview to put a sharing first with a reminder. */
export const ENDING_SOON_DAYS = 30;

export type SharingStatus = 'active' | 'not-started' | 'ended' | 'stopped';

export interface ConsentFacts {
  readonly id: string;
  readonly versionId: string | undefined;
  readonly lastUpdated: string | undefined;
  /** The recipients (IRCP actors) as `Type/id`. */
  readonly recipients: readonly string[];
  /** Share category codes, in the portal's order (never psychotherapy notes). */
  readonly categories: readonly string[];
  /** Purpose of use codes. */
  readonly purposes: readonly string[];
  readonly start: string | undefined;
  readonly end: string | undefined;
  readonly status: SharingStatus;
  /** Whole days until the end, when it is sharing now and ends within {@link ENDING_SOON_DAYS}. */
  readonly endsInDays: number | undefined;
}

/** The first instant a FHIR date or dateTime covers (a date alone is its day, read as UTC as the API does). */
export function periodStartInstant(value: string): number {
  return Date.parse(/^\d{4}(-\d{2}(-\d{2})?)?$/.test(value) ? paddedDate(value) : value);
}

/** The last instant a FHIR date or dateTime covers (a date alone covers its whole day, UTC). */
export function periodEndInstant(value: string): number {
  if (/^\d{4}$/.test(value)) {
    return Date.UTC(Number(value) + 1, 0, 1) - 1;
  }
  if (/^\d{4}-\d{2}$/.test(value)) {
    const [y, m] = value.split('-').map(Number) as [number, number];
    return Date.UTC(y, m, 1) - 1;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return Date.parse(`${value}T00:00:00Z`) + DAY_MS - 1;
  }
  return Date.parse(value);
}

function paddedDate(value: string): string {
  const [y, m = '01', d = '01'] = value.split('-');
  return `${y}-${m}-${d}T00:00:00Z`;
}

/** The recipients a Consent names (IRCP actors; an actor without a role is read as a recipient too). */
export function recipientsOf(consent: Consent): string[] {
  const refs = (consent.provision?.actor ?? [])
    .filter((a) => !a.role?.coding?.length || a.role.coding.some((c) => c.system === IRCP_SYSTEM && c.code === 'IRCP'))
    .map((a) => a.reference?.reference)
    .filter((r): r is string => typeof r === 'string');
  return [...new Set(refs)];
}

/** The share categories a Consent permits, in the portal's order (unknown codes after, as written). */
export function categoriesOf(consent: Consent): string[] {
  const codes = new Set(
    (consent.provision?.code ?? []).flatMap((c) => (c.coding ?? []).filter((x) => x.system === SHARE_CATEGORY_SYSTEM).map((x) => x.code ?? '')),
  );
  codes.delete('');
  codes.delete(NEVER_SHARED_CATEGORY);
  const known = SHAREABLE_CATEGORIES.filter((c) => codes.has(c));
  const unknown = [...codes].filter((c) => !(SHAREABLE_CATEGORIES as readonly string[]).includes(c)).sort();
  return [...known, ...unknown];
}

function purposesOf(consent: Consent): string[] {
  return [...new Set((consent.provision?.purpose ?? []).map((p) => p.code).filter((c): c is string => Boolean(c)))];
}

/** Where a Consent stands at `now`. */
export function statusOf(consent: Consent, now: Date): SharingStatus {
  if (consent.status !== 'active') {
    return 'stopped';
  }
  const { start, end } = consent.provision?.period ?? {};
  if (end && periodEndInstant(end) < now.getTime()) {
    return 'ended';
  }
  if (start && periodStartInstant(start) > now.getTime()) {
    return 'not-started';
  }
  return 'active';
}

/** The facts of one Consent at `now`. */
export function consentFacts(consent: Consent, now: Date): ConsentFacts {
  const status = statusOf(consent, now);
  const end = consent.provision?.period?.end;
  let endsInDays: number | undefined;
  if (status === 'active' && end) {
    const left = periodEndInstant(end) - now.getTime();
    if (left <= ENDING_SOON_DAYS * DAY_MS) {
      endsInDays = Math.max(0, Math.floor(left / DAY_MS));
    }
  }
  return {
    id: consent.id ?? '',
    versionId: consent.meta?.versionId,
    lastUpdated: consent.meta?.lastUpdated,
    recipients: recipientsOf(consent),
    categories: categoriesOf(consent),
    purposes: purposesOf(consent),
    start: consent.provision?.period?.start,
    end,
    status,
    endsInDays,
  };
}

export interface OrderedConsents {
  /** Sharing now and ending within 30 days, soonest first. */
  readonly endingSoon: readonly ConsentFacts[];
  /** Sharing now (not ending soon) and not started yet, by recipient name. */
  readonly current: readonly ConsentFacts[];
  /** Stopped and ended, most recent first. */
  readonly past: readonly ConsentFacts[];
}

/**
 * The overview's order: what ends within 30 days first (soonest first), then the rest of what is in force or about
 * to start (by recipient name, those in force first), then what stopped or ended (latest first).
 */
export function orderConsents(all: readonly ConsentFacts[], nameOf: (facts: ConsentFacts) => string): OrderedConsents {
  const byName = (a: ConsentFacts, b: ConsentFacts) => nameOf(a).localeCompare(nameOf(b)) || a.id.localeCompare(b.id);
  const endingSoon = all.filter((f) => f.endsInDays !== undefined).sort((a, b) => periodEndInstant(a.end ?? '') - periodEndInstant(b.end ?? '') || byName(a, b));
  const current = all
    .filter((f) => (f.status === 'active' && f.endsInDays === undefined) || f.status === 'not-started')
    .sort((a, b) => Number(a.status === 'not-started') - Number(b.status === 'not-started') || byName(a, b));
  const past = all.filter((f) => f.status === 'stopped' || f.status === 'ended').sort((a, b) => pastMoment(b) - pastMoment(a) || byName(a, b));
  return { endingSoon, current, past };
}

/** When a past sharing stopped or ended (for ordering). */
function pastMoment(f: ConsentFacts): number {
  if (f.status === 'ended' && f.end) {
    return periodEndInstant(f.end);
  }
  return f.lastUpdated ? Date.parse(f.lastUpdated) : 0;
}

/** Who made a version, as far as the record tells. */
export type VersionAuthor =
  /** The client: a Provenance says so, or the version carries no signed form or the portal's electronic signature. */
  | 'you'
  /** The practice (or anyone but the client), by a Provenance of the version. */
  | 'practice'
  /** No Provenance, but the version brought a newly signed request with it (whoever entered it, the client signed it). */
  | 'signed'
  /** Nothing tells. */
  | 'unknown';

export type HistoryChange =
  | { readonly kind: 'given'; readonly categories: readonly string[]; readonly start?: string; readonly end?: string }
  | {
      readonly kind: 'changed';
      readonly added: readonly string[];
      readonly removed: readonly string[];
      readonly period?: { readonly before: PeriodFacts; readonly after: PeriodFacts };
      readonly purposes?: { readonly before: readonly string[]; readonly after: readonly string[] };
    }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'restarted' }
  | { readonly kind: 'ended'; readonly end: string };

export interface PeriodFacts {
  readonly start?: string;
  readonly end?: string;
}

export interface HistoryEvent {
  readonly change: HistoryChange;
  /** When (the version's meta.lastUpdated; for "ended", the end of the period). */
  readonly at: string | undefined;
  readonly by: VersionAuthor | undefined;
  readonly versionId: string | undefined;
}

/**
 * The story of a Consent from its versions (any order; `_history` gives newest first), oldest first: given, then each
 * change (categories added and removed, period, purpose), stop or restart; and "ended" when an active sharing's end
 * has passed by `now`. A version that changed nothing a client cares about is a "changed" event with no differences.
 * `provenances` are the Provenance records targeting the Consent (any version); `self` is the client's `Patient/{id}`.
 */
export function consentHistory(versions: readonly Consent[], provenances: readonly Provenance[], self: string, now: Date): HistoryEvent[] {
  const ordered = [...versions].sort((a, b) => Number(a.meta?.versionId ?? 0) - Number(b.meta?.versionId ?? 0));
  const events: HistoryEvent[] = [];
  let previous: Consent | undefined;
  for (const version of ordered) {
    const by = authorOf(version, previous, provenances, self);
    const at = version.meta?.lastUpdated;
    const versionId = version.meta?.versionId;
    if (!previous) {
      events.push({ change: { kind: 'given', categories: categoriesOf(version), ...periodOf(version) }, at, by, versionId });
      if (version.status !== 'active' && version.status !== 'draft' && version.status !== 'proposed') {
        events.push({ change: { kind: 'stopped' }, at, by, versionId });
      }
    } else {
      const wasActive = previous.status === 'active';
      const isActive = version.status === 'active';
      const diff = differences(previous, version);
      if (diff || wasActive === isActive) {
        events.push({ change: diff ?? { kind: 'changed', added: [], removed: [] }, at, by, versionId });
      }
      if (wasActive && !isActive) {
        events.push({ change: { kind: 'stopped' }, at, by, versionId });
      } else if (!wasActive && isActive) {
        events.push({ change: { kind: 'restarted' }, at, by, versionId });
      }
    }
    previous = version;
  }
  const current = ordered.at(-1);
  const end = current?.provision?.period?.end;
  if (current?.status === 'active' && end && periodEndInstant(end) < now.getTime()) {
    events.push({ change: { kind: 'ended', end }, at: end, by: undefined, versionId: undefined });
  }
  return events;
}

function periodOf(consent: Consent): PeriodFacts {
  const { start, end } = consent.provision?.period ?? {};
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

/** What changed between two versions that a client cares about; undefined when nothing did. */
function differences(before: Consent, after: Consent): HistoryChange | undefined {
  const was = categoriesOf(before);
  const now = categoriesOf(after);
  const added = now.filter((c) => !was.includes(c));
  const removed = was.filter((c) => !now.includes(c));
  const pb = periodOf(before);
  const pa = periodOf(after);
  const periodChanged = pb.start !== pa.start || pb.end !== pa.end;
  const purposesBefore = purposesOf(before);
  const purposesAfter = purposesOf(after);
  const purposesChanged = purposesBefore.join(' ') !== purposesAfter.join(' ');
  if (added.length === 0 && removed.length === 0 && !periodChanged && !purposesChanged) {
    return undefined;
  }
  return {
    kind: 'changed',
    added,
    removed,
    ...(periodChanged ? { period: { before: pb, after: pa } } : {}),
    ...(purposesChanged ? { purposes: { before: purposesBefore, after: purposesAfter } } : {}),
  };
}

/**
 * The title of the electronic signature the portal records with the consents a client gives or changes online
 * (pages/consent-changes/consent-resource.ts, SIGNATURE_TITLE); a practice attaches the client's signed request form.
 */
export const PORTAL_SIGNATURE_TITLE = 'Electronic signature';

/**
 * Who made `version`: a Provenance naming that version (`Consent/{id}/_history/{v}`) says it (its author, else its
 * first agent). Without one, the signed form tells: none at all, or the client's own electronic signature from the
 * portal (newly signed, or kept as the portal keeps it when stopping), is the client's doing (the API takes a
 * practice's consent only with the signed request attached, and the portal is the client's); another signed form
 * newly attached was made from a request the client signed, whoever entered it; a form kept from before tells nothing.
 */
export function authorOf(version: Consent, previous: Consent | undefined, provenances: readonly Provenance[], self: string): VersionAuthor {
  const target = `Consent/${version.id ?? ''}/_history/${version.meta?.versionId ?? ''}`;
  const provenance = provenances.find((p) => (p.target ?? []).some((t) => t.reference === target));
  if (provenance) {
    const agents = provenance.agent ?? [];
    const author = agents.find((a) => a.type?.coding?.some((c) => c.code === 'author')) ?? agents[0];
    const who = author?.who?.reference;
    if (who) {
      return who === self ? 'you' : 'practice';
    }
  }
  const form = version.sourceAttachment;
  if (!form || form.title === PORTAL_SIGNATURE_TITLE) {
    return 'you';
  }
  if (!previous?.sourceAttachment || JSON.stringify(previous.sourceAttachment) !== JSON.stringify(form)) {
    return 'signed';
  }
  return 'unknown';
}
