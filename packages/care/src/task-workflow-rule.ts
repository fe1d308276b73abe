/**
 * The write rule that holds every Task to the referral workflow (contract, DESIGN.md; state machine in
 * referral-task.ts), whoever writes it and however (create, update, patch, transaction bundles): the repository runs
 * it inside the write's transaction, before validation and the access policy.
 *
 * Outcomes, checked in this order:
 * - 400 a status that is not a Task status, a create without the referral shape, a change to `for`, `focus`,
 *   `owner`, `requester`, `intent` or `code` (nobody changes them, the admin included), `statusReason` missing for
 *   rejected / failed / on-hold (expression `Task.statusReason`);
 * - 403 a caller on neither side of the Task, or on the wrong side for the move (the owner moves it forward, the
 *   requester cancels or marks entered-in-error; only the requester creates it and changes its due date);
 * - 422 a change to the follow-up state (businessStatus coding referral-follow-up) by anyone but the server while the
 *   Task awaits acknowledgement, or a new Task created past `on-time`: the follow-up steps read it (referral-follow-up.ts);
 * - the server's expiry of an unacknowledged referral (requested or received -> failed, by server jobs or the
 *   operator, referral-follow-up.ts) is the one move outside the state machine;
 * - 422 a move the state machine has no edge for (we chose 422 over 409: the request is well-formed and current, the
 *   workflow refuses it; 409 and 412 stay reserved for version conflicts), a change to a closed Task, a Task that does
 *   not match its ServiceRequest, and completion without a consult note.
 *
 * A completion counts only consult notes the caller may see (visible-resources.ts): a hidden note answers exactly as
 * one that does not exist, so completing a Task cannot be used to learn that the practice wrote a note it withholds.
 */
import type { Reference, Task } from '@medplum/fhirtypes';
import type { Caller, Writer } from '@carecircle/auth';
import type { AccessPolicy, Queryable, WriteRuleFor } from '@carecircle/store';
import { CONSULT_NOTE_TYPE, FULFILL_TASK_CODE, hasCoding } from './care-codes';
import { refuseInvalid, refuseParty, refuseUnprocessable } from './care-outcomes';
import { parseRelativeReference } from '@carecircle/fhir';
import { readCurrent, referenceTo } from './current-resources';
import { FOLLOW_UP_SYSTEM } from './follow-up-state';
import { codingsOf, isObject, listOf, referenceOf } from './element-shapes';
import {
  classifyTaskChange,
  isClosedStatus,
  isTaskStatus,
  STATUSES_NEEDING_REASON,
  transitionParty,
  type TaskParty,
  type TaskStatus,
} from './referral-task';
import { resolveTaskParties } from './task-parties';
import { readVisibleMany } from './visible-resources';

/** Holds Task writes by `writer` to the referral workflow; other resource types pass untouched. */
export const enforceTaskWorkflow: WriteRuleFor<Writer> = async (next, current, tx, _write, writer) => {
  if (next.resourceType !== 'Task') {
    return;
  }
  await checkTaskWrite(next, current?.resourceType === 'Task' ? current : undefined, tx, writer);
};

async function checkTaskWrite(next: Task, previous: Task | undefined, tx: Queryable, { caller, policy }: Writer): Promise<void> {
  const status = requireStatus(next.status);
  if (previous === undefined) {
    await checkCreate(next, tx, caller);
  } else {
    await checkUpdate(next, previous, status, tx, caller);
  }
  if (STATUSES_NEEDING_REASON.has(status) && !hasContent(next.statusReason)) {
    refuseInvalid(`A Task that is ${status} needs a statusReason`, 'Task.statusReason');
  }
  if (status === 'completed' && previous?.status !== 'completed') {
    await checkConsultNoteOutput(next, tx, policy);
  }
}

/** An update: the caller's side, the fixed fields, then the status change (or amendment) itself. */
async function checkUpdate(next: Task, stored: Task, status: TaskStatus, tx: Queryable, caller: Caller): Promise<void> {
  const parties = await resolveTaskParties(caller, stored, tx);
  if (parties.size === 0) {
    refuseParty("Only the Task's owner or the referring practice may change this Task");
  }
  checkUnchanged(next, stored);
  const change = classifyTaskChange(status, requireStatus(stored.status));
  switch (change.kind) {
    case 'amend':
      checkAmend(next, stored, change.status);
      break;
    case 'transition':
      if (!isExpiry(change.from, change.to, caller)) {
        checkTransition(change.from, change.to, parties);
      }
      break;
    default:
      change satisfies never;
  }
  if (!sameJson(next.restriction, stored.restriction) && !parties.has('requester')) {
    refuseParty('Only the referring practice may change the due date of a Task');
  }
  if (caller.kind !== 'admin' && isTaskOpen(status) && followUpCodeOf(next) !== followUpCodeOf(stored)) {
    refuseUnprocessable(
      `While a referral Task awaits acknowledgement, its follow-up state (businessStatus coding ${FOLLOW_UP_SYSTEM}) is the server's: keep it as stored (other codings may change)`,
      'Task.businessStatus',
    );
  }
}

/** The raw code of the referral-follow-up coding in businessStatus; undefined when there is none. */
function followUpCodeOf(task: Task): string | undefined {
  const code = codingsOf(task.businessStatus).find((c) => c.system === FOLLOW_UP_SYSTEM)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isTaskOpen(status: TaskStatus): boolean {
  return status === 'requested' || status === 'received';
}

function requireStatus(value: unknown): TaskStatus {
  if (!isTaskStatus(value)) {
    refuseInvalid('Task.status must be a Task status code', 'Task.status');
  }
  return value;
}

/** A new Task: the referral shape, created `requested` by the referring practice, matching its ServiceRequest. */
async function checkCreate(task: Task, tx: Queryable, caller: Caller): Promise<void> {
  if (task.status !== 'requested') {
    refuseUnprocessable('A referral Task is created with status requested', 'Task.status');
  }
  if (task.intent !== 'order') {
    refuseInvalid('A referral Task has intent order', 'Task.intent');
  }
  if (!hasCoding(task.code, FULFILL_TASK_CODE)) {
    refuseInvalid('A referral Task has code fulfill (http://hl7.org/fhir/CodeSystem/task-code)', 'Task.code');
  }
  const focus = referenceTo(task.focus?.reference, 'ServiceRequest');
  if (!focus) {
    refuseInvalid('A referral Task focuses on its ServiceRequest (ServiceRequest/{id})', 'Task.focus');
  }
  if (!referenceTo(task.for?.reference, 'Patient')) {
    refuseInvalid('A referral Task is for a Patient (Patient/{id})', 'Task.for');
  }
  if (!isOwnerReference(task.owner)) {
    refuseInvalid('A referral Task is owned by an Organization, PractitionerRole or Practitioner', 'Task.owner');
  }
  if (!task.requester?.reference) {
    refuseInvalid('A referral Task names its requester', 'Task.requester');
  }
  const parties = await resolveTaskParties(caller, task, tx);
  if (!parties.has('requester')) {
    refuseParty('Only the referring practice may create a referral Task');
  }
  const followUp = followUpCodeOf(task);
  if (caller.kind !== 'admin' && followUp !== undefined && followUp !== 'on-time') {
    refuseUnprocessable(`A referral Task starts its follow-up (businessStatus coding ${FOLLOW_UP_SYSTEM}) on-time`, 'Task.businessStatus');
  }
  const request = await readCurrent(tx, 'ServiceRequest', focus.id);
  if (
    !request ||
    request.subject?.reference !== task.for?.reference ||
    request.performer?.[0]?.reference !== task.owner?.reference ||
    request.requester?.reference !== task.requester.reference
  ) {
    refuseUnprocessable("A referral Task's for, owner and requester must match an existing ServiceRequest it focuses on", 'Task.focus');
  }
}

function isOwnerReference(owner: Reference | undefined): boolean {
  const type = parseRelativeReference(owner?.reference)?.resourceType;
  return type === 'Organization' || type === 'PractitionerRole' || type === 'Practitioner';
}

/** The fields fixed at creation: who the Task is for, what it fulfils, who asked and who does it. */
function checkUnchanged(next: Task, stored: Task): void {
  const references = ['for', 'focus', 'owner', 'requester'] as const;
  for (const field of references) {
    if (referenceOf(next[field]) !== stored[field]?.reference) {
      refuseInvalid(`Task.${field} cannot change after the Task is created`, `Task.${field}`);
    }
  }
  if (next.intent !== stored.intent) {
    refuseInvalid('Task.intent cannot change after the Task is created', 'Task.intent');
  }
  if (codingKeys(next).join('\n') !== codingKeys(stored).join('\n')) {
    refuseInvalid('Task.code cannot change after the Task is created', 'Task.code');
  }
}

function codingKeys(task: Task): string[] {
  return [...new Set(codingsOf(task.code).map((c) => `${String(c.system ?? '')}|${String(c.code ?? '')}`))].sort();
}

/** Same status: fine while the Task is open; a closed Task takes only an identical re-write (a retried request). */
function checkAmend(next: Task, stored: Task, status: TaskStatus): void {
  if (isClosedStatus(status) && !sameJson(withoutMeta(next), withoutMeta(stored))) {
    refuseUnprocessable(`A ${status} Task is closed; it can only be marked entered-in-error`, 'Task.status');
  }
}

/**
 * The server's expiry of an unacknowledged referral (referral-follow-up.ts): requested or received -> failed, a move
 * no party has, made by server jobs (which act as the admin) and the operator only.
 */
function isExpiry(from: TaskStatus, to: TaskStatus, caller: Caller): boolean {
  return caller.kind === 'admin' && to === 'failed' && (from === 'requested' || from === 'received');
}

function checkTransition(from: TaskStatus, to: TaskStatus, parties: ReadonlySet<TaskParty>): void {
  const party = transitionParty(from, to);
  if (party === undefined) {
    refuseUnprocessable(`A Task cannot move from ${from} to ${to}`, 'Task.status');
  }
  if (!parties.has(party)) {
    const who = party === 'owner' ? "the Task's owner" : 'the referring practice';
    refuseParty(`Only ${who} may move a Task from ${from} to ${to}`);
  }
}

/**
 * Completion needs the partner's reply (contract): an output referencing a current DocumentReference of type LOINC
 * 11488-4 "Consult note", about the Task's patient, whose context.related is the Task's ServiceRequest, and which the
 * caller may see now (a note hidden from it counts as absent).
 */
async function checkConsultNoteOutput(task: Task, tx: Queryable, policy: AccessPolicy): Promise<void> {
  const ids = listOf(task.output).flatMap((output) => {
    const target = referenceTo(isObject(output) ? referenceOf(output.valueReference) : undefined, 'DocumentReference');
    return target ? [target.id] : [];
  });
  if (ids.length === 0) {
    refuseUnprocessable('A completed Task needs an output referencing the consult note (a DocumentReference)', 'Task.output');
  }
  const focusId = referenceTo(task.focus?.reference, 'ServiceRequest')?.id;
  const notes = await readVisibleMany(tx, 'DocumentReference', ids, policy);
  const answered = notes.some(
    (note) =>
      note.status === 'current' &&
      hasCoding(note.type, CONSULT_NOTE_TYPE) &&
      note.subject?.reference === task.for?.reference &&
      (note.context?.related ?? []).some((related) => focusId !== undefined && referenceTo(related.reference, 'ServiceRequest')?.id === focusId),
  );
  if (!answered) {
    refuseUnprocessable(
      "A completed Task's output must reference a current consult note (LOINC 11488-4) whose context.related is the Task's ServiceRequest",
      'Task.output',
    );
  }
}

function hasContent(concept: Task['statusReason']): boolean {
  const text: unknown = isObject(concept) ? concept.text : undefined;
  return (typeof text === 'string' && text.trim() !== '') || codingsOf(concept).some((c) => Boolean(c.code));
}

function withoutMeta(task: Task): Task {
  const { meta: _meta, ...rest } = task;
  return rest;
}

/** Structural equality of JSON values, ignoring object key order. */
function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}
