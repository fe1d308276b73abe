import type { DocumentReference, ServiceRequest } from '@medplum/fhirtypes';
import { refusalOf } from '@carecircle/testing';
import { createReferral } from './create-referral';
import { buildClientConsent, buildConsultNote, buildReferralRequest, callers, seedCareWorld, world } from './testing/care-fixtures';
import { openCareTestEnv, type CareTestEnv } from './testing/care-test-env';

describe('checkConsultNote (PostgreSQL)', () => {
  let env: CareTestEnv;
  let request: ServiceRequest;

  const write = (note: DocumentReference) => env.as(callers.clinicSystem, async (repository) => (await repository.update(note)).resource);
  const create = (note: DocumentReference) => env.as(callers.clinicSystem, async (repository) => (await repository.create(note)).resource);

  beforeAll(async () => {
    env = await openCareTestEnv();
    await seedCareWorld(env.repository);
    await env.repository.create(buildClientConsent());
    const referral = await env.as(callers.practiceSystem, (repository) =>
      createReferral(repository, buildReferralRequest(), { now: new Date() }),
    );
    request = referral.serviceRequest;
  });

  afterAll(async () => {
    await env?.close();
  });

  it('stores a current consult note that references its referral', async () => {
    const note = await create(buildConsultNote(`ServiceRequest/${request.id}`));
    expect(note).toMatchObject({ status: 'current', meta: { versionId: '1' } });
  });

  it.each<[string, Partial<DocumentReference>, string]>([
    ['no context.related', { context: undefined }, 'DocumentReference.context.related'],
    ['a related reference that is not a ServiceRequest', { context: { related: [{ reference: world.patient }] } }, 'DocumentReference.context.related'],
    ['a ServiceRequest that does not exist', { context: { related: [{ reference: 'ServiceRequest/missing' }] } }, 'DocumentReference.context.related'],
    ['another client', { subject: { reference: world.otherPatient } }, 'DocumentReference.subject'],
    ['a first version that is not current', { status: 'superseded' }, 'DocumentReference.status'],
  ])('refuses a consult note with %s (422)', async (_label, overrides, expression) => {
    const before = await env.countVersions('DocumentReference');
    const refusal = await refusalOf(create({ ...buildConsultNote(`ServiceRequest/${request.id}`), ...overrides }));
    expect(refusal).toMatchObject({ status: 422, expression });
    expect(await env.countVersions('DocumentReference')).toBe(before);
  });

  it('refuses a deleted referral as the related ServiceRequest', async () => {
    const gone = await env.repository.create(buildReferralRequest());
    await env.repository.delete('ServiceRequest', gone.resource.id as string);
    expect(await refusalOf(create(buildConsultNote(`ServiceRequest/${gone.resource.id}`)))).toMatchObject({ status: 422 });
  });

  it('lets a consult note be superseded later, but not stop being a consult note', async () => {
    const note = await create(buildConsultNote(`ServiceRequest/${request.id}`));
    const superseded = await write({ ...note, status: 'superseded' });
    expect(superseded).toMatchObject({ status: 'superseded', meta: { versionId: '2' } });
    const retyped = await refusalOf(write({ ...superseded, type: { coding: [{ system: 'http://loinc.org', code: '34133-9' }] } }));
    expect(retyped).toMatchObject({ status: 422, expression: 'DocumentReference.type' });
  });

  it('leaves other documents alone', async () => {
    const summary = await create({
      ...buildConsultNote(`ServiceRequest/${request.id}`),
      type: { coding: [{ system: 'http://loinc.org', code: '34133-9' }] },
      context: undefined,
    });
    expect(summary.meta?.versionId).toBe('1');
  });
});
