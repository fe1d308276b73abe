/**
 * The writes a partner clinic may make about a client it does not manage (DESIGN.md, "who may see what"): the status
 * of referral Tasks it owns, consult notes and replies to referrals addressed to it, and progress on care plans it may
 * see (with the Provenance recorded for it). Everything else about someone else's client stays read-only to it.
 *
 * This decides whether the partner may write at all; the write rules (task-workflow-rule, consult-note-rule) then hold
 * the content to the workflow. `visible` answers whether the partner may see a resource now (its consent grants), so
 * a revoked consent also ends the right to write. Every decision rests on the write and on what the partner sees, so
 * the answer never tells it whether something it may not see exists:
 * - every referral, care plan or other resource a consult note, reply or progress report links to (`context.related`,
 *   `basedOn`, `about`) must be one the partner sees now, and every referral one addressed to it. A link that fails
 *   (made up, hidden, or someone else's referral) is refused with one 403 text per kind of write, whichever it is;
 * - every Patient the write names, anywhere in it, must be the client of the referral or care plan it answers (of the
 *   Task, for a Task), so nothing a partner writes is filed in another client's record. Otherwise 422, with one text
 *   for any other Patient, existing or not.
 */
import type { Communication, DocumentReference, Provenance, Resource, Task } from '@medplum/fhirtypes';
import type { Queryable } from '@carecircle/store';
import { CONSULT_NOTE_TYPE, hasCoding } from './care-codes';
import { refuseParty, refuseUnprocessable } from './care-outcomes';
import { parseRelativeReference, patientReferences, type ReferenceTarget } from '@carecircle/fhir';
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

/**
 * True when the write is one of the partner workflows above; false when it is none of them. Throws an
 * OperationOutcomeError when it is one by its shape but links to what the partner may not use (403) or names another
 * client (422).
 */
export async function isPartnerWorkflowWrite(write: PartnerWrite): Promise<boolean> {
  const { next, current, interaction } = write;
  if (interaction === 'delete' || !next) {
    return false;
  }
  switch (next.resourceType) {
    case 'Task':
      return interaction !== 'create' && current?.resourceType === 'Task' && (await isOwnTaskUpdate(write, current, next));
    case 'DocumentReference':
      return interaction === 'create' && hasCoding(next.type, CONSULT_NOTE_TYPE) && (await isConsultNoteOnOwnReferral(write, next));
    case 'Communication':
      return interaction === 'create' && sentByCaller(write.caller, next) && (await isReplyOrProgress(write, next));
    case 'Provenance':
      return interaction === 'create' && (await recordsOwnProgress(write, next));
    default:
      return false;
  }
}

/**
 * The owner's update of a Task it sees. It adds no Patient but the one the Task is for (`for` cannot change); what the
 * referring practice wrote into the Task stays as it is.
 */
async function isOwnTaskUpdate(write: PartnerWrite, task: Task, next: Task): Promise<boolean> {
  if (!task.id || !(await write.visible('Task', task.id)) || !(await isOwner(write.caller, task.owner, write.tx))) {
    return false;
  }
  const named = new Set(patientReferences(task));
  const added = patientReferences(next).filter((id) => !named.has(id));
  requireOnlyClient(added, referenceTo(task.for?.reference, 'Patient'), 'A Task names no client but the one it is for (Task.for)');
  return true;
}

/** A consult note answers referrals addressed to the caller, every one it relates to, all about the note's client. */
async function isConsultNoteOnOwnReferral(write: PartnerWrite, note: DocumentReference): Promise<boolean> {
  const related = referencesOf(isObject(note.context) ? note.context.related : undefined);
  const linked = await linkedClient(write, related);
  if (linked.kind !== 'linked') {
    refuseParty("A partner's consult note relates only to referrals addressed to it (context.related)");
  }
  requireOnlyClient(patientReferences(note), linked.client, "A consult note names no client but its referral's");
  return true;
}

/** A reply to referrals addressed to the caller (`basedOn`), or progress on care plans it sees (`about`). */
async function isReplyOrProgress(write: PartnerWrite, communication: Communication): Promise<boolean> {
  const linked = await linkedClient(write, communicationLinks(communication));
  switch (linked.kind) {
    case 'unlinked':
      return false;
    case 'refused':
      return refuseParty("A partner's reply or progress report links only to referrals addressed to it and to what it may see (basedOn, about)");
    case 'linked':
      requireOnlyClient(patientReferences(communication), linked.client, "A reply or progress report names no client but its referral's or care plan's");
      return true;
    default:
      return linked satisfies never;
  }
}

function communicationLinks(communication: Communication): string[] {
  return [...referencesOf(communication.basedOn), ...referencesOf(communication.about)];
}

/**
 * The Provenance of a progress report the caller has just written (care-plan-provenance.ts records one with every
 * Communication about a care plan, in the same transaction) and nothing more: the report's current version first,
 * then only the report's client; the caller as its agent; no entity. Any other target or entity would give the record
 * the labels of what it names (share-labels.ts), and file it with other clients.
 */
async function recordsOwnProgress(write: PartnerWrite, provenance: Provenance): Promise<boolean> {
  const [first, ...rest] = referencesOf(provenance.target);
  const version = first === undefined ? null : /^Communication\/([A-Za-z0-9\-.]{1,64})\/_history\/(\d{1,9})$/.exec(first);
  if (!version?.[1] || listOf(provenance.target).length !== rest.length + 1 || provenance.entity !== undefined) {
    return false;
  }
  const report = await readCurrent(write.tx, 'Communication', version[1]);
  if (report === undefined || report.meta?.versionId !== version[2] || !sentByCaller(write.caller, report)) {
    return false;
  }
  const agents = listOf(provenance.agent).map((agent) => (isObject(agent) ? referenceOf(agent.who) : undefined));
  const caller: string[] = write.caller.kind === 'practitioner' ? [write.caller.organization, write.caller.fhirUser] : [write.caller.organization];
  if (agents.length === 0 || !agents.every((who) => who !== undefined && caller.includes(who))) {
    return false;
  }
  const linked = await linkedClient(write, communicationLinks(report));
  const client = linked.kind === 'linked' ? linked.client : undefined;
  return (
    client !== undefined &&
    rest.every((target) => target === `Patient/${client.id}`) &&
    patientReferences(provenance).every((id) => id === client.id) &&
    patientReferences(report).every((id) => id === client.id)
  );
}

/**
 * What a partner write's links establish: `unlinked` when none is a ServiceRequest or CarePlan of this server (it is
 * none of the workflows); `refused` when one of them is not something the caller sees now, or is a ServiceRequest not
 * addressed to it (made up, hidden and someone else's alike); else `linked`, with the one client all its referrals and
 * care plans are about (undefined when they are about several, or none).
 */
type Linked = { kind: 'unlinked' } | { kind: 'refused' } | { kind: 'linked'; client: ReferenceTarget | undefined };

async function linkedClient(write: PartnerWrite, links: readonly string[]): Promise<Linked> {
  // Absolute, contained and logical references name nothing of this server.
  const targets = links.flatMap((link) => parseRelativeReference(link) ?? []);
  if (!targets.some((target) => target.resourceType === 'ServiceRequest' || target.resourceType === 'CarePlan')) {
    return { kind: 'unlinked' };
  }
  const clients = new Set<string | undefined>();
  for (const target of targets) {
    if (!(await write.visible(target.resourceType, target.id))) {
      return { kind: 'refused' };
    }
    if (target.resourceType === 'ServiceRequest') {
      const request = await readCurrent(write.tx, 'ServiceRequest', target.id);
      if (!request || !(await isOwner(write.caller, request.performer?.[0], write.tx))) {
        return { kind: 'refused' };
      }
      clients.add(request.subject?.reference);
    } else if (target.resourceType === 'CarePlan') {
      clients.add((await readCurrent(write.tx, 'CarePlan', target.id))?.subject?.reference);
    }
  }
  const [only] = clients;
  return { kind: 'linked', client: clients.size === 1 ? referenceTo(only, 'Patient') : undefined };
}

/**
 * Refuses (422, one text whoever the other Patient is) a write naming Patients `named` (ids, from patientReferences:
 * anywhere in the resource, in the elements that file it in a client's record such as subject, recipient or author,
 * or elsewhere) when any is not `client`, and one whose links establish no single client at all.
 */
function requireOnlyClient(named: readonly string[], client: ReferenceTarget | undefined, text: string): void {
  if (client === undefined || !named.every((id) => id === client.id)) {
    refuseUnprocessable(text);
  }
}

function sentByCaller(caller: OrganizationCaller, communication: Communication): boolean {
  const sender = referenceOf(communication.sender);
  return sender === caller.organization || (caller.kind === 'practitioner' && sender === caller.fhirUser);
}
