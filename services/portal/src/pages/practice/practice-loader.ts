/**
 * The practice pages' loaders: the calls to the public FHIR API, as the signed-in practitioner, that fetch what the
 * referrals board and its actions show. The board is three searches in parallel whatever the number of referrals:
 * the practitioner's referral Tasks with their ServiceRequests, partners and clients (`_include`), the messages sent
 * to the practitioner (reminders and escalations about the Tasks), and the replies based on the referrals; plus the
 * partners' figures from `Task/$referral-metrics` when the API has that operation (the board goes on without it).
 */
import type { Bundle, Communication, OrganizationAffiliation, Parameters, ParametersParameter, Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { FhirRequestFailed, type FhirApi } from '../../fhir-api';
import { PortalError } from '../../http/portal-error';
import { isFhirId } from '../sharing/sharing-loader';
import { buildBoard, nameOf, type BoardGroup } from './referral-board';

/** At most this many referrals on the board (the newest); the page says when there are more. */
export const BOARD_SIZE = 100;
/** The task code of a referral's Task (contract): `fulfill`. */
const FULFILL = 'http://hl7.org/fhir/CodeSystem/task-code|fulfill';

function resourcesOf<T extends Resource = Resource>(bundle: Bundle, mode?: 'match' | 'include'): T[] {
  return (bundle.entry ?? [])
    .filter((e) => mode === undefined || (e.search?.mode ?? 'match') === mode)
    .map((e) => e.resource)
    .filter((r): r is T => Boolean(r));
}

function byReference(resources: readonly Resource[]): Map<string, Resource> {
  return new Map<string, Resource>(resources.map((r) => [`${r.resourceType}/${r.id ?? ''}`, r]));
}

/** One partner's figures, as `Task/$referral-metrics` reports them (hours; a share from 0 to 1). */
export interface PartnerMetrics {
  readonly partnerName: string | undefined;
  readonly referrals: number | undefined;
  readonly ackMedianHours: number | undefined;
  readonly ackP90Hours: number | undefined;
  readonly completionMedianHours: number | undefined;
  readonly completionP90Hours: number | undefined;
  readonly shareOverdue: number | undefined;
}

export interface ReferralBoard {
  readonly groups: readonly BoardGroup[];
  /** True when the practitioner has more referrals than the board shows. */
  readonly more: boolean;
  /** The partners' figures; undefined when the API does not offer them. */
  readonly metrics: readonly PartnerMetrics[] | undefined;
}

/** The signed-in practitioner's referrals board at `now`. */
export async function loadReferralBoard(api: FhirApi, now: Date): Promise<ReferralBoard> {
  const me = api.practitioner;
  const [tasks, toMe, metrics] = await Promise.all([
    api.search(
      `/Task?requester=${encodeURIComponent(me)}&code=${encodeURIComponent(FULFILL)}&_include=Task:focus&_include=Task:owner&_include=Task:patient&_sort=-_lastUpdated&_count=${BOARD_SIZE}`,
    ),
    api.search<Communication>(`/Communication?recipient=${encodeURIComponent(me)}&_sort=-sent&_count=200`),
    loadMetrics(api),
  ]);
  const matched = resourcesOf<Task>(tasks, 'match').filter((t) => t.resourceType === 'Task');
  const included = resourcesOf(tasks, 'include');
  const requests = matched.map((t) => t.focus?.reference).filter((r): r is string => Boolean(r?.startsWith('ServiceRequest/')));
  const replies = requests.length
    ? await api.search<Communication>(`/Communication?based-on=${encodeURIComponent(requests.join(','))}&_sort=-sent&_count=200`)
    : { resourceType: 'Bundle' as const, type: 'searchset' as const };
  const messages = [...resourcesOf<Communication>(toMe, 'match'), ...resourcesOf<Communication>(replies, 'match')];
  const metricPartners = (metrics?.parameter ?? []).flatMap((p) => p.part ?? []).map((part) => part.valueReference?.reference);
  const senders = await loadMissing(api, [...messages.map((m) => m.sender?.reference), ...metricPartners], included);
  const all = [...included, ...senders];
  return {
    groups: buildBoard(matched, all, messages, now),
    more: Boolean(tasks.link?.some((l) => l.relation === 'next')),
    metrics: metrics && metricsView(metrics, all),
  };
}

/** The Organizations and Practitioners named in `references` that are not among `known`, in one search per type. */
async function loadMissing(api: FhirApi, references: readonly (string | undefined)[], known: readonly Resource[]): Promise<Resource[]> {
  const have = new Set(known.map((r) => `${r.resourceType}/${r.id ?? ''}`));
  const wanted = [...new Set(references.filter((r): r is string => Boolean(r) && !have.has(r as string)))];
  const searches = (['Organization', 'Practitioner'] as const).map(async (type) => {
    const ids = wanted.filter((r) => r.startsWith(`${type}/`)).map((r) => r.slice(type.length + 1)).filter(isFhirId);
    return ids.length ? resourcesOf(await api.search(`/${type}?_id=${ids.join(',')}&_count=${ids.length}`)) : [];
  });
  return (await Promise.all(searches)).flat();
}

/** `Task/$referral-metrics`, or undefined when the API does not have it (or will not answer it for this caller). */
async function loadMetrics(api: FhirApi): Promise<Parameters | undefined> {
  try {
    const answer = await api.read<Parameters>('/Task/$referral-metrics');
    return answer.resourceType === 'Parameters' ? answer : undefined;
  } catch (err) {
    if (err instanceof FhirRequestFailed && err.status >= 400 && err.status < 500) {
      return undefined;
    }
    throw err;
  }
}

function numberPart(parts: readonly ParametersParameter[], name: string): number | undefined {
  const part = parts.find((p) => p.name === name);
  const value = part?.valueDecimal ?? part?.valueInteger ?? part?.valueUnsignedInt ?? part?.valueQuantity?.value;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * The operation's `organization` parts (DESIGN.md, "Referral follow-through"): `organization`, `referrals`,
 * `acknowledgement-median-hours`, `acknowledgement-p90-hours`, `completion-median-hours`, `completion-p90-hours`,
 * `overdue-share`; a figure absent (nothing acknowledged or completed yet) stays unknown.
 */
export function metricsView(parameters: Parameters, known: readonly Resource[]): PartnerMetrics[] {
  const byRef = byReference(known);
  return (parameters.parameter ?? [])
    .filter((p) => p.name === 'organization' && p.part && p.part.length > 0)
    .map((p) => {
      const parts = p.part ?? [];
      const organization = parts.find((x) => x.name === 'organization')?.valueReference;
      return {
        partnerName: nameOf(organization, byRef) ?? organization?.display,
        referrals: numberPart(parts, 'referrals'),
        ackMedianHours: numberPart(parts, 'acknowledgement-median-hours'),
        ackP90Hours: numberPart(parts, 'acknowledgement-p90-hours'),
        completionMedianHours: numberPart(parts, 'completion-median-hours'),
        completionP90Hours: numberPart(parts, 'completion-p90-hours'),
        shareOverdue: numberPart(parts, 'overdue-share'),
      };
    });
}

/** One referral of the practitioner's, with what its actions need: its ServiceRequest, partner and client. */
export interface OwnReferral {
  readonly task: Task & { id: string };
  readonly request: ServiceRequest & { id: string };
  readonly patient: Patient & { id: string };
  readonly partnerName: string | undefined;
  readonly clientName: string | undefined;
}

/**
 * The referral whose Task is `taskId`, when the signed-in practitioner requested it; anything else (not an id, not
 * found, not the practitioner's, not a referral) is the 404 page.
 */
export async function loadOwnReferral(api: FhirApi, taskId: string | undefined): Promise<OwnReferral> {
  if (typeof taskId !== 'string' || !isFhirId(taskId)) {
    throw new PortalError(404, 'notFound');
  }
  const bundle = await api.search(
    `/Task?_id=${taskId}&requester=${encodeURIComponent(api.practitioner)}&code=${encodeURIComponent(FULFILL)}&_include=Task:focus&_include=Task:owner&_include=Task:patient`,
  );
  const task = resourcesOf<Task>(bundle, 'match').find((t) => t.resourceType === 'Task' && t.id === taskId);
  const included = resourcesOf(bundle, 'include');
  const byRef = byReference(included);
  const request = task?.focus?.reference ? byRef.get(task.focus.reference) : undefined;
  const patient = task?.for?.reference ? byRef.get(task.for.reference) : undefined;
  if (!task?.id || request?.resourceType !== 'ServiceRequest' || !request.id || patient?.resourceType !== 'Patient' || !patient.id) {
    throw new PortalError(404, 'notFound');
  }
  return {
    task: task as Task & { id: string },
    request: request as ServiceRequest & { id: string },
    patient: patient as Patient & { id: string },
    partnerName: nameOf(task.owner, byRef),
    clientName: nameOf(task.for, byRef),
  };
}

/** A provider the practice works with (its directory), to re-send a referral to. */
export interface DirectoryProvider {
  readonly reference: string;
  readonly name: string;
  readonly kind: string | undefined;
}

/** The practice's directory of providers (`OrganizationAffiliation?primary-organization=`), by name. */
export async function loadPracticeDirectory(api: FhirApi, practice: string): Promise<DirectoryProvider[]> {
  const bundle = await api.search(
    `/OrganizationAffiliation?primary-organization=${encodeURIComponent(practice)}&active=true&_include=OrganizationAffiliation:participating-organization&_count=200`,
  );
  const included = resourcesOf(bundle, 'include');
  const byRef = byReference(included);
  const providers = new Map<string, DirectoryProvider>();
  for (const affiliation of resourcesOf<OrganizationAffiliation>(bundle, 'match')) {
    const reference = affiliation.participatingOrganization?.reference;
    if (!reference || providers.has(reference)) {
      continue;
    }
    const name = nameOf(affiliation.participatingOrganization, byRef);
    if (!name) {
      continue;
    }
    const kind = affiliation.specialty?.map((s) => s.text?.trim() || s.coding?.find((c) => c.display)?.display).find(Boolean);
    providers.set(reference, { reference, name, kind });
  }
  return [...providers.values()].sort((a, b) => a.name.localeCompare(b.name));
}
