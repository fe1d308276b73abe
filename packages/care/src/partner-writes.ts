/**
 * The writes a partner clinic may make about a client it does not manage (DESIGN.md, "who may see what"): the status
 * of referral Tasks it owns, consult notes and replies to referrals addressed to it, and progress on care plans it may
 * see (with the Provenance recorded for it). Everything else about someone else's client stays read-only to it.
 *
 * This decides only whether the partner may write at all; the write rules (task-workflow-rule, consult-note-rule)
 * then hold the content to the workflow. `visible` answers whether the partner may see a resource now (its consent
 * grants), so a revoked consent also ends the right to write.
 */
import type { Communication, DocumentReference, Provenance, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Queryable } from '@carecircle/store';
import { CONSULT_NOTE_TYPE, hasCoding } from './care-codes';
import { readCurrent, referenceTo } from './current-resources';
import { isObject, listOf, referencesOf, referenceOf } from './element-shapes';
import { isOwner, type OrganizationCaller } from './task-parties';

/** May the partner see `resourceType/id` now? */
export type VisibilityCheck = (resourceType: string, id: string) => Promise<boolean>;

export interface PartnerWrite {
  caller: OrganizationCaller;
  interaction: 'create' | 'update' | 'patch' | 'delete';
  next: Resource | undefined;
  current: Resource | undefined;
  tx: Queryable;
  visible: VisibilityCheck;
}

/** True when the write is one of the partner workflows above. */
export async function isPartnerWorkflowWrite(write: PartnerWrite): Promise<boolean> {
  const { next, current, interaction } = write;
  if (interaction === 'delete' || !next) {
    return false;
  }
  switch (next.resourceType) {
    case 'Task':
      return interaction !== 'create' && current?.resourceType === 'Task' && (await ownsVisibleTask(write, current));
    case 'DocumentReference':
      return interaction === 'create' && hasCoding(next.type, CONSULT_NOTE_TYPE) && (await answersOwnReferral(write, relatedRequests(next)));
    case 'Communication':
      return interaction === 'create' && sentByCaller(write.caller, next) && (await communicationAllowed(write, next));
    case 'Provenance':
      return interaction === 'create' && (await recordsOwnProgress(write, next));
    default:
      return false;
  }
}

/**
 * The Provenance of a progress report the caller has just written (provenanced-repository.ts records one with every
 * Communication about a care plan, in the same transaction): it names the report's current version first and the
 * caller as its agent.
 */
async function recordsOwnProgress(write: PartnerWrite, provenance: Provenance): Promise<boolean> {
  const [first] = referencesOf(provenance.target);
  const version = first === undefined ? null : /^Communication\/([A-Za-z0-9\-.]{1,64})\/_history\/(\d{1,9})$/.exec(first);
  if (!version?.[1]) {
    return false;
  }
  const report = await readCurrent(write.tx, 'Communication', version[1]);
  const agents = listOf(provenance.agent).map((agent) => (isObject(agent) ? referenceOf(agent.who) : undefined));
  const caller: string[] = write.caller.kind === 'practitioner' ? [write.caller.organization, write.caller.fhirUser] : [write.caller.organization];
  return (
    report !== undefined &&
    report.meta?.versionId === version[2] &&
    sentByCaller(write.caller, report) &&
    agents.length > 0 &&
    agents.every((who) => who !== undefined && caller.includes(who)) &&
    (await communicationAllowed(write, report))
  );
}

async function ownsVisibleTask(write: PartnerWrite, task: Task): Promise<boolean> {
  return Boolean(task.id) && (await write.visible('Task', task.id as string)) && (await isOwner(write.caller, task.owner, write.tx));
}

function relatedRequests(note: DocumentReference): string[] {
  return referencesOf(isObject(note.context) ? note.context.related : undefined);
}

/** Some referenced ServiceRequest is visible to the caller and names it as performer. */
async function answersOwnReferral(write: PartnerWrite, references: readonly string[]): Promise<boolean> {
  for (const reference of references) {
    const target = referenceTo(reference, 'ServiceRequest');
    if (!target || !(await write.visible('ServiceRequest', target.id))) {
      continue;
    }
    const request: ServiceRequest | undefined = await readCurrent(write.tx, 'ServiceRequest', target.id);
    if (request && (await isOwner(write.caller, request.performer?.[0], write.tx))) {
      return true;
    }
  }
  return false;
}

async function communicationAllowed(write: PartnerWrite, communication: Communication): Promise<boolean> {
  if (await answersOwnReferral(write, referencesOf(communication.basedOn))) {
    return true;
  }
  for (const about of referencesOf(communication.about)) {
    const plan = referenceTo(about, 'CarePlan');
    if (plan && (await write.visible('CarePlan', plan.id))) {
      return true;
    }
  }
  return false;
}

function sentByCaller(caller: OrganizationCaller, communication: Communication): boolean {
  const sender = referenceOf(communication.sender);
  return sender === caller.organization || (caller.kind === 'practitioner' && sender === caller.fhirUser);
}
