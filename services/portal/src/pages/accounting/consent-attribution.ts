/**
 * Which of the client's sharing choices allowed a disclosure. The API's AuditEvent names the recipient, the purpose and
 * the resources, not the Consent, so the portal finds it as the API decided (docs/DESIGN.md, "The decision"): the
 * version of a Consent of the client that was in force when the event was recorded (its latest version written no
 * later than that), active, its period covering that moment, naming one of the event's agents as recipient (IRCP), for
 * the event's purpose, and listing the event's categories. When several did, the one listing most of them, then the
 * most recent. Pure; the loader fetches a Consent's history only when its current version is newer than an event.
 */
import type { AuditEvent, Consent, ConsentProvision } from '@medplum/fhirtypes';
import { PURPOSE_SYSTEM, SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import { agentReferences } from './accounting-entry';

/** The versions known of each Consent, by id: at least the current one; all of them once its history was read. */
export interface ConsentVersions {
  readonly current: Consent;
  /** Every version, newest first, when the history was read. */
  readonly history?: readonly Consent[];
}

/** The Consents whose current version was written after `at` and may have been the one in force then. */
export function needsHistory(consent: Consent, event: AuditEvent): boolean {
  const updated = consent.meta?.lastUpdated;
  return updated !== undefined && Date.parse(updated) > Date.parse(event.recorded) && namesAnAgent(consent, agentReferences(event));
}

/** The Consent (id, and the day its version in force was made) that allowed `event`, if the portal can tell. */
export function consentThatAllowed(
  event: AuditEvent,
  categories: readonly string[],
  consents: readonly ConsentVersions[],
): { id: string; date: string } | undefined {
  const at = Date.parse(event.recorded);
  const agents = agentReferences(event);
  const purpose = event.purposeOfEvent?.flatMap((c) => c.coding ?? []).find((c) => c.system === PURPOSE_SYSTEM)?.code ?? 'TREAT';
  let best: { id: string; date: string; covered: number; made: number } | undefined;
  for (const versions of consents) {
    const version = versionAt(versions, at);
    if (!version?.id || version.status !== 'active' || !version.provision) {
      continue;
    }
    const covered = coverage(version.provision, agents, purpose, categories, at);
    if (covered === undefined) {
      continue;
    }
    const date = version.dateTime ?? version.meta?.lastUpdated;
    if (!date) {
      continue;
    }
    const made = Date.parse(date);
    if (!best || covered > best.covered || (covered === best.covered && made > best.made)) {
      best = { id: version.id, date, covered, made };
    }
  }
  return best ? { id: best.id, date: best.date } : undefined;
}

/** The version of a Consent in force at `at`: the latest written no later than it (undefined: none yet, or unknown). */
function versionAt(versions: ConsentVersions, at: number): Consent | undefined {
  const all = versions.history ?? [versions.current];
  return all
    .filter((v) => v.meta?.lastUpdated !== undefined && Date.parse(v.meta.lastUpdated) <= at)
    .sort((a, b) => Date.parse(b.meta?.lastUpdated ?? '') - Date.parse(a.meta?.lastUpdated ?? ''))[0];
}

/**
 * How many of `categories` a provision (or one of its nested permits) grants the agents at `at` for `purpose`;
 * undefined when it grants them nothing. An event with no known category counts as covered by any matching permit.
 */
function coverage(provision: ConsentProvision, agents: readonly string[], purpose: string, categories: readonly string[], at: number): number | undefined {
  const permits = [provision, ...(provision.provision ?? []).map((nested) => ({ ...provision, ...nested, provision: undefined }))].filter(
    (p) => (p.type ?? 'permit') === 'permit',
  );
  let most: number | undefined;
  for (const p of permits) {
    if (!within(p, at) || !namesAny(p, agents) || !(p.purpose ?? []).some((c) => c.system === PURPOSE_SYSTEM && c.code === purpose)) {
      continue;
    }
    const granted = new Set((p.code ?? []).flatMap((c) => c.coding ?? []).filter((c) => c.system === SHARE_CATEGORY_SYSTEM).map((c) => c.code));
    const covered = categories.filter((c) => granted.has(c)).length;
    if (categories.length > 0 && covered === 0) {
      continue;
    }
    most = Math.max(most ?? 0, covered);
  }
  return most;
}

function within(provision: ConsentProvision, at: number): boolean {
  const start = provision.period?.start;
  const end = provision.period?.end;
  return (!start || periodStart(start) <= at) && (!end || at < periodEnd(end));
}

function namesAny(provision: ConsentProvision, agents: readonly string[]): boolean {
  return (provision.actor ?? []).some(
    (actor) => actor.role?.coding?.some((c) => c.code === 'IRCP') && actor.reference?.reference !== undefined && agents.includes(actor.reference.reference),
  );
}

function namesAnAgent(consent: Consent, agents: readonly string[]): boolean {
  const provision = consent.provision;
  return provision !== undefined && [provision, ...(provision.provision ?? [])].some((p) => namesAny(p, agents));
}

/** The first instant of a FHIR date or dateTime. */
function periodStart(value: string): number {
  return Date.parse(value.length === 4 ? `${value}-01-01` : value.length === 7 ? `${value}-01` : value);
}

/** The instant just after a FHIR date or dateTime ends (a date ends at the start of the next day, UTC). */
function periodEnd(value: string): number {
  if (value.length > 10) {
    return Date.parse(value) + 1;
  }
  const start = new Date(periodStart(value));
  if (value.length === 4) {
    start.setUTCFullYear(start.getUTCFullYear() + 1);
  } else if (value.length === 7) {
    start.setUTCMonth(start.getUTCMonth() + 1);
  } else {
    start.setUTCDate(start.getUTCDate() + 1);
  }
  return start.getTime();
}
