/**
 * Coordinated updates in care (PostgreSQL): the write rule every write of one passes (a plain write only makes or edits
 * a draft, its parties and content checked, nothing beyond the client's consents), and the workflow's parties, states
 * and races. The access policy is not under test here (full access, as the care suites use): the API's end-to-end
 * suite (test/e2e/coordinated-updates) covers who sees what.
 */
import type { Caller } from '@carecircle/auth';
import { applyShareLabels, indexConsentGrants, resolveRecipients, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { createRepository, fullAccess, withWriteRules, type Repository } from '@carecircle/store';
import { refusalOf } from '@carecircle/testing';
import type { Composition, CompositionSection, Observation, Resource } from '@medplum/fhirtypes';
import { buildClientConsent, callers, seedCareWorld, world } from '../testing/care-fixtures';
import { openCareTestEnv, type CareTestEnv } from '../testing/care-test-env';
import { approveUpdate, declineUpdate, submitUpdate, withdrawUpdate, type UpdateWorkflowContext } from './update-workflow';
import { checkCoordinatedUpdate } from './update-write-rule';

const PROFILE = 'https://carecircle.dev/fhir/StructureDefinition/coordinated-update';
const STATE = 'https://carecircle.dev/fhir/StructureDefinition/update-state';
const RECIPIENT = 'https://carecircle.dev/fhir/StructureDefinition/update-recipient';
const SIGNATURE = { signatureName: 'Alex Rivera', statement: 'I agree to send this.' };

describe('coordinated updates (PostgreSQL)', () => {
  let env: CareTestEnv;
  let repository: Repository;
  let homework: Observation;
  let othersHomework: Observation;
  let mood: Observation;

  const tagged = (category: string) => ({ tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] });
  const section = (category: string, ...entries: Resource[]): CompositionSection => ({
    title: category,
    code: { coding: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] },
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${category}</p></div>` },
    ...(entries.length > 0 ? { entry: entries.map((r) => ({ reference: `${r.resourceType}/${r.id}` })) } : {}),
  });
  const draft = (overrides: Partial<Composition> = {}): Composition => ({
    resourceType: 'Composition',
    meta: { profile: [PROFILE] },
    extension: [{ url: RECIPIENT, valueReference: { reference: world.clinic } }],
    status: 'preliminary',
    type: { coding: [{ system: 'http://loinc.org', code: '34133-9' }] },
    subject: { reference: world.patient },
    date: '2026-12-07',
    author: [{ reference: world.therapist }],
    custodian: { reference: world.practice },
    title: 'Update',
    section: [section('progress', homework)],
    ...overrides,
  });
  const create = async (update: Composition) => (await repository.create(update)).resource;
  const stateOf = (update: Composition) => update.extension?.find((e) => e.url === STATE)?.valueCode;
  const workflow = (caller: Caller): UpdateWorkflowContext => ({
    caller,
    reader: repository,
    writer: repository,
    resolveRecipients: (reference) => resolveRecipients(env.db, reference),
  });
  const client: Caller = callers.client;
  const otherClient: Caller = { ...callers.client, userId: 'u-sam', fhirUser: world.otherPatient };

  beforeAll(async () => {
    env = await openCareTestEnv();
    repository = createRepository(env.db, fullAccess, { writes: withWriteRules([checkCoordinatedUpdate, applyShareLabels, indexConsentGrants], undefined) });
    await seedCareWorld(repository);
    await repository.create(buildClientConsent({ categories: ['progress', 'trauma-history'] }));
    homework = (await repository.create<Observation>({ resourceType: 'Observation', meta: tagged('progress'), status: 'final', code: { text: 'Homework adherence' }, subject: { reference: world.patient } })).resource;
    mood = (await repository.create<Observation>({ resourceType: 'Observation', meta: tagged('mental-health'), status: 'final', code: { text: 'Mood' }, subject: { reference: world.patient } })).resource;
    othersHomework = (await repository.create<Observation>({ resourceType: 'Observation', meta: tagged('progress'), status: 'final', code: { text: 'Homework' }, subject: { reference: world.otherPatient } })).resource;
  });

  afterAll(async () => {
    await env?.close();
  });

  it('stores a draft as a draft, labelled as its sections', async () => {
    const stored = await create(draft());
    expect(stateOf(stored)).toBe('draft');
    expect(stored.meta?.tag).toContainEqual({ system: SHARE_CATEGORY_SYSTEM, code: 'progress' });
  });

  it.each<[string, () => Partial<Composition>, string]>([
    ['a state other than draft', () => ({ status: 'final', extension: [{ url: RECIPIENT, valueReference: { reference: world.clinic } }, { url: STATE, valueCode: 'released' }] }), 'Composition.extension'],
    ['a draft whose status is not preliminary', () => ({ status: 'final' }), 'Composition.status'],
    ['another custodian than the practice', () => ({ custodian: { reference: world.clinic } }), 'Composition.custodian'],
    ['no recipient', () => ({ extension: undefined }), 'Composition.extension'],
    ['two recipients', () => ({ extension: [{ url: RECIPIENT, valueReference: { reference: world.clinic } }, { url: RECIPIENT, valueReference: { reference: world.elsewhere } }] }), 'Composition.extension'],
    ['a recipient nobody stands for', () => ({ extension: [{ url: RECIPIENT, valueReference: { reference: 'Organization/nobody' } }] }), 'Composition.extension'],
    ['another client\'s resource', () => ({ section: [section('progress', othersHomework)] }), 'Composition.section.entry'],
    ['a resource filed under another category', () => ({ section: [section('trauma-history', homework)] }), 'Composition.section.entry'],
    ['a resource never stored', () => ({ section: [{ ...section('progress'), entry: [{ reference: 'Observation/missing' }] }] }), 'Composition.section.entry'],
    ['a psychotherapy-notes section', () => ({ section: [section('psychotherapy-notes')] }), 'Composition.section.code'],
    ['a category the consents do not grant the recipient', () => ({ section: [section('progress', homework), section('mental-health', mood)] }), 'Composition.section'],
    ['a recipient no consent names', () => ({ extension: [{ url: RECIPIENT, valueReference: { reference: world.elsewhere } }] }), 'Composition.section'],
  ])('refuses %s (422), storing nothing', async (_label, overrides, expression) => {
    const before = await env.countVersions('Composition');
    expect(await refusalOf(create(draft(overrides())))).toMatchObject({ status: 422, expression });
    expect(await env.countVersions('Composition')).toBe(before);
  });

  it('names the categories outside the consent', async () => {
    const refusal = await refusalOf(create(draft({ section: [section('progress', homework), section('mental-health', mood)] })));
    expect(refusal.text).toContain('mental-health');
    expect(refusal.text).toContain(world.clinic);
  });

  it('moves state only through the workflow: a PATCH cannot release a draft', async () => {
    const stored = await create(draft());
    const patched = repository.patch('Composition', stored.id as string, [
      { op: 'replace', path: '/status', value: 'final' },
      { op: 'replace', path: '/extension/1/valueCode', value: 'released' },
    ]);
    expect(await refusalOf(patched)).toMatchObject({ status: 422 });
  });

  it('lets the practice submit and the client approve, and no one else', async () => {
    const stored = await create(draft());
    expect(await refusalOf(submitUpdate(workflow(client), stored.id as string))).toMatchObject({ status: 403 });
    expect(await refusalOf(submitUpdate(workflow(callers.elsewhereSystem), stored.id as string))).toMatchObject({ status: 403 });
    const submitted = await submitUpdate(workflow(callers.therapist), stored.id as string);
    expect(stateOf(submitted)).toBe('awaiting-approval');
    expect(submitted.section?.[0]?.entry?.[0]?.reference).toBe(`Observation/${homework.id}/_history/1`);
    expect(await refusalOf(approveUpdate(workflow(callers.therapist), stored.id as string, SIGNATURE))).toMatchObject({ status: 403 });
    expect(await refusalOf(approveUpdate(workflow(otherClient), stored.id as string, SIGNATURE))).toMatchObject({ status: 403 });
    expect(await refusalOf(approveUpdate(workflow(client), stored.id as string, { statement: 'yes' }))).toMatchObject({ status: 400, expression: 'signature-name' });
    // Once submitted, a plain write is refused: the client approves what was submitted.
    expect(await refusalOf(repository.update({ ...submitted, title: 'Changed' }))).toMatchObject({ status: 422 });
    const released = await approveUpdate(workflow(client), stored.id as string, SIGNATURE);
    expect(stateOf(released)).toBe('released');
    expect(released.status).toBe('final');
    expect(await refusalOf(declineUpdate(workflow(client), stored.id as string, {}))).toMatchObject({ status: 422 });
    expect(await refusalOf(withdrawUpdate(workflow(callers.therapist), stored.id as string))).toMatchObject({ status: 422 });
    expect(await refusalOf(repository.update({ ...released, title: 'Changed' }))).toMatchObject({ status: 422 });
  });

  it('of two approvals at once, one releases the update and the other is refused', async () => {
    const stored = await create(draft());
    await submitUpdate(workflow(callers.therapist), stored.id as string);
    const outcomes = await Promise.allSettled([
      approveUpdate(workflow(client), stored.id as string, SIGNATURE),
      approveUpdate(workflow(client), stored.id as string, SIGNATURE),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const history = await repository.history('Composition', stored.id as string, new URLSearchParams());
    expect(history.entries.filter((e) => e.resource && stateOf(e.resource as Composition) === 'released')).toHaveLength(1);
  });

  it('refuses an approval once the consent no longer covers the update', async () => {
    const consent = (await repository.create(buildClientConsent({ recipients: [world.elsewhere], categories: ['progress'] }))).resource;
    const stored = await create(draft({ extension: [{ url: RECIPIENT, valueReference: { reference: world.elsewhere } }] }));
    await submitUpdate(workflow(callers.therapist), stored.id as string);
    await repository.update({ ...consent, status: 'inactive' });
    const refusal = await refusalOf(approveUpdate(workflow(client), stored.id as string, SIGNATURE));
    expect(refusal).toMatchObject({ status: 422, expression: 'Composition.section' });
    expect(stateOf(await repository.read<Composition>('Composition', stored.id as string))).toBe('awaiting-approval');
  });
});
