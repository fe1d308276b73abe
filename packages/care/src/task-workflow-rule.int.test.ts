import type { Caller } from '@carecircle/auth';
import type { DocumentReference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { refusalOf, rejectionStatus } from '@carecircle/testing';
import { createReferral } from './create-referral';
import { followUpConcept, withFollowUpState } from './follow-up-state';
import { TASK_STATUSES, type TaskStatus } from './referral-task';
import {
  buildClientConsent,
  buildConsultNote,
  buildReferralRequest,
  callers,
  seedCareWorld,
  world,
} from './testing/care-fixtures';
import { openCareTestEnv, type CareTestEnv } from './testing/care-test-env';

/**
 * The contract's state machine, written out independently of referral-task.ts: `from>to:party`.
 * The owner moves the work forward; the requester cancels an open Task or marks any Task entered-in-error.
 */
const ALLOWED = new Set([
  'requested>received:owner',
  'requested>accepted:owner',
  'requested>rejected:owner',
  'received>accepted:owner',
  'received>rejected:owner',
  'accepted>in-progress:owner',
  'in-progress>on-hold:owner',
  'on-hold>in-progress:owner',
  'in-progress>completed:owner',
  'in-progress>failed:owner',
  'on-hold>completed:owner',
  'on-hold>failed:owner',
  ...['requested', 'received', 'accepted', 'in-progress', 'on-hold'].map((from) => `${from}>cancelled:requester`),
  ...TASK_STATUSES.filter((s) => s !== 'entered-in-error').map((from) => `${from}>entered-in-error:requester`),
]);

describe('enforceTaskWorkflow (PostgreSQL)', () => {
  let env: CareTestEnv;
  let request: ServiceRequest;
  let referralTask: Task;
  let consultNote: DocumentReference;
  let seeded = 0;

  /** A copy of the referral's Task in `status`, stored straight in SQL, ready to be completed. */
  async function taskIn(status: TaskStatus, overrides: Partial<Task> = {}): Promise<Task> {
    const task: Task & { id: string } = {
      ...referralTask,
      id: `seeded-${++seeded}`,
      status,
      statusReason: { text: 'Reason given' },
      output: [{ type: { text: 'Consult note' }, valueReference: { reference: `DocumentReference/${consultNote.id}` } }],
      ...overrides,
    };
    await env.putVersion(task);
    return env.repository.read<Task>('Task', task.id);
  }

  async function update(caller: Caller, task: Task) {
    return env.as(caller, async (repository) => (await repository.update(task)).resource);
  }

  beforeAll(async () => {
    env = await openCareTestEnv();
    await seedCareWorld(env.repository);
    await env.repository.create(buildClientConsent({ recipients: [world.clinic, world.urologistRole] }));
    const referral = await env.as(callers.practiceSystem, (repository) =>
      createReferral(repository, buildReferralRequest(), { now: new Date() }),
    );
    request = referral.serviceRequest;
    referralTask = referral.task;
    consultNote = await env.as(callers.clinicSystem, async (repository) =>
      (await repository.create(buildConsultNote(`ServiceRequest/${request.id}`))).resource,
    );
  });

  afterAll(async () => {
    await env?.close();
  });

  describe('every status pair, as the owner and as the requester', () => {
    const pairs = TASK_STATUSES.flatMap((from) => TASK_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const));
    const sides = [
      ['owner', callers.clinicSystem],
      ['requester', callers.practiceSystem],
    ] as const;

    it.each(pairs)('%s -> %s', async (from, to) => {
      for (const [side, caller] of sides) {
        const task = await taskIn(from);
        const attempt = update(caller, { ...task, status: to });
        const partyFor = ALLOWED.has(`${from}>${to}:owner`) ? 'owner' : ALLOWED.has(`${from}>${to}:requester`) ? 'requester' : undefined;
        if (partyFor === side) {
          await expect(attempt).resolves.toMatchObject({ status: to, meta: { versionId: '2' } });
        } else {
          // No such move at all: 422; a move of the other side: 403.
          expect([side, from, to, await rejectionStatus(attempt)]).toEqual([side, from, to, partyFor === undefined ? 422 : 403]);
        }
      }
    });
  });

  it('lets the owner walk a referral from requested to completed, one version per move', async () => {
    const task = await taskIn('requested', { statusReason: undefined, output: undefined });
    let current = task;
    const steps: Partial<Task>[] = [
      { status: 'received' },
      { status: 'accepted', businessStatus: { text: 'Appointment booked' } },
      { status: 'in-progress' },
      { status: 'on-hold', statusReason: { text: 'Waiting for lab results' } },
      { status: 'in-progress', statusReason: undefined },
      { status: 'completed', output: [{ type: { text: 'Consult note' }, valueReference: { reference: `DocumentReference/${consultNote.id}` } }] },
    ];
    for (const step of steps) {
      current = await update(callers.clinicSystem, { ...current, ...step });
    }
    expect(current).toMatchObject({ status: 'completed', meta: { versionId: String(steps.length + 1) } });
  });

  it("treats the role's organization as the owner of a Task owned by a PractitionerRole", async () => {
    const task = await taskIn('requested', { owner: { reference: world.urologistRole } });
    await expect(update(callers.urologist, { ...task, status: 'accepted' })).resolves.toMatchObject({ status: 'accepted' });
    const other = await taskIn('requested', { owner: { reference: world.urologistRole } });
    expect(await rejectionStatus(update(callers.elsewhereSystem, { ...other, status: 'accepted' }))).toBe(403);
  });

  it('lets the requester cancel but not the owner, who rejects instead', async () => {
    const task = await taskIn('accepted');
    const ownerCancel = await refusalOf(update(callers.clinicSystem, { ...task, status: 'cancelled' }));
    expect(ownerCancel).toMatchObject({ status: 403, text: 'Only the referring practice may move a Task from accepted to cancelled' });
    await expect(update(callers.therapist, { ...task, status: 'cancelled' })).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('refuses callers on neither side with 403, clients included', async () => {
    const task = await taskIn('requested');
    for (const caller of [callers.elsewhereSystem, callers.client]) {
      expect(await rejectionStatus(update(caller, { ...task, status: 'accepted' }))).toBe(403);
      expect(await rejectionStatus(update(caller, { ...task, status: 'cancelled' }))).toBe(403);
    }
  });

  it('lets server jobs (no request context) act as the admin, still within the state machine', async () => {
    const task = await taskIn('requested');
    await expect(env.repository.update({ ...task, status: 'accepted' })).resolves.toMatchObject({ outcome: 'updated' });
    expect(await rejectionStatus(env.repository.update({ ...task, status: 'completed', meta: undefined }))).toBe(422);
  });

  it('holds patches to the same rules', async () => {
    const task = await taskIn('requested');
    const patch = (caller: Caller, status: string) =>
      env.as(caller, (repository) => repository.patch('Task', task.id as string, [{ op: 'replace', path: '/status', value: status }]));
    expect(await rejectionStatus(patch(callers.clinicSystem, 'completed'))).toBe(422);
    expect(await rejectionStatus(patch(callers.practiceSystem, 'accepted'))).toBe(403);
    await expect(patch(callers.clinicSystem, 'received')).resolves.toMatchObject({ status: 'received' });
  });

  describe('statusReason', () => {
    it.each([
      ['requested', 'rejected'],
      ['in-progress', 'on-hold'],
      ['in-progress', 'failed'],
    ] as const)('is required for %s -> %s (400, Task.statusReason)', async (from, to) => {
      const task = await taskIn(from, { statusReason: undefined });
      const refusal = await refusalOf(update(callers.clinicSystem, { ...task, status: to }));
      expect(refusal).toMatchObject({ status: 400, expression: 'Task.statusReason' });
      expect(await rejectionStatus(update(callers.clinicSystem, { ...task, status: to, statusReason: { coding: [] } }))).toBe(400);
      await expect(update(callers.clinicSystem, { ...task, status: to, statusReason: { text: 'Not our specialty' } })).resolves.toMatchObject({
        status: to,
      });
    });

    it('may not be dropped while the Task is on hold', async () => {
      const task = await taskIn('on-hold');
      expect(await rejectionStatus(update(callers.clinicSystem, { ...task, statusReason: undefined, note: [{ text: 'Still waiting' }] }))).toBe(400);
    });
  });

  describe('completion needs the consult note', () => {
    const complete = (task: Task, output: Task['output']) => update(callers.clinicSystem, { ...task, status: 'completed', output });
    const referenceTo = (id: string | undefined): Task['output'] => [{ type: { text: 'Consult note' }, valueReference: { reference: `DocumentReference/${id}` } }];

    it('refuses completion without an output (422, Task.output)', async () => {
      const task = await taskIn('in-progress', { output: undefined });
      expect(await refusalOf(complete(task, undefined))).toMatchObject({ status: 422, expression: 'Task.output' });
      expect(await rejectionStatus(complete(task, [{ type: { text: 'Summary' }, valueString: 'All fine' }]))).toBe(422);
    });

    it('refuses a note that does not exist, is not a consult note, answers another referral, or is superseded', async () => {
      const task = await taskIn('in-progress', { output: undefined });
      const otherReferral = await env.as(callers.practiceSystem, (repository) =>
        createReferral(repository, buildReferralRequest(), { now: new Date() }),
      );
      const otherNote = await env.repository.create(buildConsultNote(`ServiceRequest/${otherReferral.serviceRequest.id}`));
      const notConsult = await env.repository.create(
        buildConsultNote(`ServiceRequest/${request.id}`, { type: { coding: [{ system: 'http://loinc.org', code: '34133-9' }] } }),
      );
      const superseded = await env.repository.create(buildConsultNote(`ServiceRequest/${request.id}`));
      await env.repository.update({ ...superseded.resource, status: 'superseded' });

      for (const id of ['missing', otherNote.resource.id, notConsult.resource.id, superseded.resource.id]) {
        expect([id, await rejectionStatus(complete(task, referenceTo(id)))]).toEqual([id, 422]);
      }
      await expect(complete(task, [...(referenceTo(notConsult.resource.id) ?? []), ...(referenceTo(consultNote.id) ?? [])])).resolves.toMatchObject({
        status: 'completed',
      });
    });

    it('accepts the consult note that answers this referral', async () => {
      const task = await taskIn('on-hold', { output: undefined });
      await expect(complete(task, referenceTo(consultNote.id))).resolves.toMatchObject({ status: 'completed' });
    });
  });

  describe('fixed fields', () => {
    const changes: [string, Partial<Task>][] = [
      ['for', { for: { reference: world.otherPatient } }],
      ['focus', { focus: { reference: 'ServiceRequest/other' } }],
      ['owner', { owner: { reference: world.elsewhere } }],
      ['requester', { requester: { reference: world.practice } }],
      ['intent', { intent: 'plan' }],
      ['code', { code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'approve' }] } }],
    ];

    it.each(changes)('nobody changes Task.%s, the admin included (400)', async (field, change) => {
      for (const caller of [callers.admin, callers.clinicSystem, callers.practiceSystem]) {
        const task = await taskIn('accepted');
        expect(await refusalOf(update(caller, { ...task, ...change }))).toMatchObject({ status: 400, expression: `Task.${field}` });
      }
    });

    it('only the requester changes the due date', async () => {
      const task = await taskIn('requested');
      const later = { ...task, restriction: { period: { end: '2030-01-01T00:00:00Z' } } };
      expect(await rejectionStatus(update(callers.clinicSystem, later))).toBe(403);
      await expect(update(callers.practiceSystem, later)).resolves.toMatchObject({ restriction: later.restriction });
    });

    it('lets either side amend an open Task without moving it', async () => {
      const task = await taskIn('accepted');
      const noted = await update(callers.clinicSystem, { ...task, note: [{ text: 'First visit on Monday' }] });
      await expect(update(callers.practiceSystem, { ...noted, businessStatus: { text: 'Scheduled' } })).resolves.toMatchObject({ status: 'accepted' });
    });

    it('freezes a closed Task, except for an identical re-write', async () => {
      const task = await taskIn('completed');
      expect(await refusalOf(update(callers.clinicSystem, { ...task, note: [{ text: 'Late addendum' }] }))).toMatchObject({ status: 422 });
      await expect(update(callers.clinicSystem, task)).resolves.toMatchObject({ status: 'completed' });
    });
  });

  describe('creating a Task directly', () => {
    const direct = (): Task => ({ ...referralTask, id: undefined, meta: undefined });

    it('is for the requester, in status requested, matching the ServiceRequest it focuses on', async () => {
      await expect(env.as(callers.practiceSystem, (repository) => repository.create(direct()))).resolves.toMatchObject({ outcome: 'created' });
      expect(await rejectionStatus(env.as(callers.clinicSystem, (repository) => repository.create(direct())))).toBe(403);
      expect(await rejectionStatus(env.as(callers.practiceSystem, (repository) => repository.create({ ...direct(), status: 'accepted' })))).toBe(422);
      expect(
        await refusalOf(env.as(callers.practiceSystem, (repository) => repository.create({ ...direct(), owner: { reference: world.elsewhere } }))),
      ).toMatchObject({ status: 422, expression: 'Task.focus' });
      expect(
        await refusalOf(env.as(callers.practiceSystem, (repository) => repository.create({ ...direct(), focus: { reference: 'ServiceRequest/none' } }))),
      ).toMatchObject({ status: 422, expression: 'Task.focus' });
      expect(await refusalOf(env.repository.create({ ...direct(), code: undefined }))).toMatchObject({ status: 400, expression: 'Task.code' });
      expect(await refusalOf(env.repository.create({ ...direct(), status: 'bogus' as TaskStatus }))).toMatchObject({ status: 400, expression: 'Task.status' });
    });
  });
  describe('the follow-up state (businessStatus coding referral-follow-up)', () => {
    const bser = { system: 'http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS', code: '2.0', display: 'Service Request Accepted' };

    it("is the server's while the Task awaits acknowledgement: other writers keep it, other codings may change", async () => {
      const task = await taskIn('requested', { businessStatus: followUpConcept('on-time') });
      for (const caller of [callers.clinicSystem, callers.practiceSystem]) {
        const silenced = { ...task, businessStatus: followUpConcept('expired') };
        expect(await refusalOf(update(caller, silenced))).toMatchObject({ status: 422, expression: 'Task.businessStatus' });
        expect(await refusalOf(update(caller, { ...task, businessStatus: { text: 'Scheduled' } }))).toMatchObject({ status: 422 });
      }
      const noted = await update(callers.clinicSystem, { ...task, businessStatus: { ...task.businessStatus, coding: [...(task.businessStatus?.coding ?? []), bser] } });
      expect(noted.businessStatus?.coding).toHaveLength(2);
      // The server (a job, acting as the admin) moves it on, keeping the partner's coding.
      const reminded = (await env.repository.update({ ...noted, businessStatus: withFollowUpState(noted.businessStatus, 'reminded') })).resource as Task;
      expect(reminded.businessStatus?.coding?.map((c) => c.code)).toEqual(['reminded', '2.0']);
      // Acknowledging from a stale read is no change of the follow-up the server cares about any more.
      await expect(update(callers.clinicSystem, { ...noted, meta: undefined, status: 'accepted' })).resolves.toMatchObject({ status: 'accepted' });
    });

    it('starts on-time: a Task created further along is refused', async () => {
      const direct: Task = { ...referralTask, id: undefined, meta: undefined, businessStatus: followUpConcept('escalated') };
      expect(await refusalOf(env.as(callers.practiceSystem, (repository) => repository.create(direct)))).toMatchObject({
        status: 422,
        expression: 'Task.businessStatus',
      });
    });

    it('lets the server expire an unacknowledged Task (requested -> failed), and no caller else', async () => {
      const task = await taskIn('requested', { output: undefined });
      const expired = { ...task, status: 'failed' as const, statusReason: { text: 'not acknowledged in time' } };
      expect(await rejectionStatus(update(callers.clinicSystem, expired))).toBe(422);
      expect(await rejectionStatus(update(callers.practiceSystem, expired))).toBe(422);
      await expect(env.repository.update(expired)).resolves.toMatchObject({ outcome: 'updated' });
    });
  });
});
