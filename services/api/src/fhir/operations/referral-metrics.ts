/**
 * `GET Task/$referral-metrics[?organization=Organization/x]`: how the practice's partners follow through on its
 * referrals (DESIGN.md, "Referral follow-through"). For the practice's systems and practitioners (the custodian of the
 * clients referred) and the operator; the referrals counted are the caller's own clients' (the operator: everyone's),
 * read through the caller's repository like any search, so nothing is counted that the caller could not read. A
 * Parameters resource with one `organization` part per partner organization (care's referral-metrics.ts computes the
 * figures): `organization` (Reference), `referrals`, `acknowledged`, `acknowledgement-median-hours`,
 * `acknowledgement-p90-hours`, `completed`, `completion-median-hours`, `completion-p90-hours` (each median and
 * percentile absent when nothing was acknowledged or completed), `overdue`, `overdue-share` (0 to 1).
 */
import { FULFILL_TASK_CODE, referralMetrics, timelineOf, type PartnerMetrics, type ReferralTimeline } from '@carecircle/care';
import { badRequest, forbidden, OperationOutcomeError, parseRelativeReference, readOrUndefined } from '@carecircle/fhir';
import type { Repository } from '@carecircle/store';
import type { Parameters, ParametersParameter, PractitionerRole, Resource, Task } from '@medplum/fhirtypes';
import type { OperationContext } from './operation-context';
import { defineOperation } from './operation-definition';
import type { OperationArguments } from './operation-parameters';

const PARAMETERS = { organization: { type: 'Reference' } } as const;

/** The $referral-metrics operation on Task (type level). */
export const TASK_REFERRAL_METRICS = defineOperation({
  resourceType: 'Task',
  name: 'referral-metrics',
  level: 'type',
  parameters: PARAMETERS,
  invoke: referralMetricsOperation,
});

async function referralMetricsOperation(context: OperationContext, given: OperationArguments<typeof PARAMETERS>): Promise<Parameters> {
  const organization = given.organization;
  if (organization !== undefined && parseRelativeReference(organization)?.resourceType !== 'Organization') {
    throw new OperationOutcomeError(badRequest('organization must reference an Organization (Organization/{id})', 'organization'));
  }
  const { caller, repository } = context;
  let clients: ReadonlySet<string> | undefined;
  switch (caller.kind) {
    case 'admin':
      clients = undefined;
      break;
    case 'system':
    case 'practitioner':
      clients = await clientsOf(repository, caller.organization);
      break;
    case 'patient':
      throw new OperationOutcomeError(forbidden);
    default:
      return caller satisfies never;
  }
  const timelines: ReferralTimeline[] = [];
  const partners = new Map<string, string>();
  for await (const task of referralTasks(repository)) {
    if (!task.id || (clients !== undefined && !clients.has(task.for?.reference ?? ''))) {
      continue;
    }
    const partner = await partnerOf(repository, task, partners);
    if (organization !== undefined && partner !== organization) {
      continue;
    }
    const timeline = timelineOf(await versionsOf(repository, task.id), partner);
    if (timeline) {
      timelines.push(timeline);
    }
  }
  return { resourceType: 'Parameters', parameter: referralMetrics(timelines, Date.now()).map(partnerPart) };
}

/** The caller's own clients (Patient.managingOrganization its organization), as `Patient/{id}`. */
async function clientsOf(repository: Repository, organization: string): Promise<Set<string>> {
  const clients = new Set<string>();
  for await (const patient of pages(repository, 'Patient', new URLSearchParams({ organization, _count: '1000', _elements: 'id' }))) {
    clients.add(`Patient/${patient.id}`);
  }
  return clients;
}

function referralTasks(repository: Repository): AsyncGenerator<Task> {
  const code = `${FULFILL_TASK_CODE.system}|${FULFILL_TASK_CODE.code}`;
  return pages(repository, 'Task', new URLSearchParams({ code, _count: '1000' })) as AsyncGenerator<Task>;
}

async function* pages(repository: Repository, resourceType: string, query: URLSearchParams): AsyncGenerator<Resource> {
  let outcome = await repository.search(resourceType, query);
  for (;;) {
    yield* outcome.matches.filter((m) => m.resourceType === resourceType);
    if (!outcome.next) {
      return;
    }
    const next = new URLSearchParams(query);
    next.set('_page', outcome.next);
    outcome = await repository.search(resourceType, next);
  }
}

/** The Task's versions the caller sees, oldest first. */
async function versionsOf(repository: Repository, taskId: string): Promise<Task[]> {
  const { entries } = await repository.history('Task', taskId, new URLSearchParams({ _count: '1000' }));
  return entries.flatMap((entry) => (entry.resource?.resourceType === 'Task' ? [entry.resource] : [])).reverse();
}

/** The partner organization of a Task: its Organization owner, a PractitionerRole owner's organization, else the owner. */
async function partnerOf(repository: Repository, task: Task, cache: Map<string, string>): Promise<string> {
  const owner = task.owner?.reference ?? 'unknown';
  const target = parseRelativeReference(owner);
  if (target?.resourceType !== 'PractitionerRole') {
    return owner;
  }
  let partner = cache.get(owner);
  if (partner === undefined) {
    const role = await readOrUndefined<PractitionerRole>(repository, 'PractitionerRole', target.id);
    partner = role?.organization?.reference ?? owner;
    cache.set(owner, partner);
  }
  return partner;
}

function partnerPart(metrics: PartnerMetrics): ParametersParameter {
  const decimal = (name: string, value: number | undefined): ParametersParameter[] => (value === undefined ? [] : [{ name, valueDecimal: value }]);
  return {
    name: 'organization',
    part: [
      { name: 'organization', valueReference: { reference: metrics.partner } },
      { name: 'referrals', valueInteger: metrics.referrals },
      { name: 'acknowledged', valueInteger: metrics.acknowledged },
      ...decimal('acknowledgement-median-hours', metrics.acknowledgementMedianHours),
      ...decimal('acknowledgement-p90-hours', metrics.acknowledgementP90Hours),
      { name: 'completed', valueInteger: metrics.completed },
      ...decimal('completion-median-hours', metrics.completionMedianHours),
      ...decimal('completion-p90-hours', metrics.completionP90Hours),
      { name: 'overdue', valueInteger: metrics.overdue },
      { name: 'overdue-share', valueDecimal: metrics.overdueShare },
    ],
  };
}
