import type { ServiceRequest } from '@medplum/fhirtypes';
import { createRepository, fullAccess, withWriteRules, type Repository } from '@carecircle/store';
import { refusalOf } from '@carecircle/testing';
import { checkReferralUpdate } from './referral-update-rule';
import { buildReferralRequest, world } from './testing/care-fixtures';
import { openCareTestEnv, type CareTestEnv } from './testing/care-test-env';

describe('checkReferralUpdate (PostgreSQL)', () => {
  let env: CareTestEnv;
  let repository: Repository;
  const plain = (): ServiceRequest => ({ ...buildReferralRequest(), category: [{ text: 'Lab order' }] });

  beforeAll(async () => {
    env = await openCareTestEnv();
    repository = createRepository(env.db, fullAccess, { writes: withWriteRules([checkReferralUpdate], undefined) });
  });

  afterAll(async () => {
    await env?.close();
  });

  it('refuses an update or a patch that makes a plain ServiceRequest a referral (422)', async () => {
    const stored = (await repository.create(plain())).resource;
    const made = await refusalOf(repository.update({ ...stored, category: buildReferralRequest().category }));
    expect(made).toMatchObject({ status: 422, expression: 'ServiceRequest.category' });
    const patched = await refusalOf(
      repository.patch('ServiceRequest', stored.id as string, [{ op: 'add', path: '/category/-', value: buildReferralRequest().category?.[0] }]),
    );
    expect(patched).toMatchObject({ status: 422, expression: 'ServiceRequest.category' });
    expect((await repository.update({ ...stored, note: [{ text: 'fasting' }] })).outcome).toBe('updated');
  });

  it.each<[string, Partial<ServiceRequest>, string]>([
    ['removes the referral category', { category: [{ text: 'Lab order' }] }, 'ServiceRequest.category'],
    ['changes the performer', { performer: [{ reference: world.elsewhere }] }, 'ServiceRequest.performer'],
    ['adds a performer', { performer: [{ reference: world.clinic }, { reference: world.elsewhere }] }, 'ServiceRequest.performer'],
    ['drops the performer', { performer: undefined }, 'ServiceRequest.performer'],
    ['changes the subject', { subject: { reference: world.otherPatient } }, 'ServiceRequest.subject'],
  ])('refuses an update of a referral that %s (422)', async (_label, change, expression) => {
    const stored = (await repository.create(buildReferralRequest())).resource;
    expect(await refusalOf(repository.update({ ...stored, ...change }))).toMatchObject({ status: 422, expression });
  });

  it('lets a referral change otherwise (status, notes, the performer display)', async () => {
    const stored = (await repository.create(buildReferralRequest())).resource;
    const updated = await repository.update({
      ...stored,
      status: 'revoked',
      note: [{ text: 'client moved' }],
      performer: [{ reference: world.clinic, display: 'The clinic' }],
    });
    expect(updated.resource.meta?.versionId).toBe('2');
  });

  it('refuses bringing a deleted ServiceRequest back as a referral', async () => {
    const stored = (await repository.create(plain())).resource;
    await repository.delete('ServiceRequest', stored.id as string);
    const revived = await refusalOf(repository.update({ ...stored, category: buildReferralRequest().category }));
    expect(revived).toMatchObject({ status: 422, expression: 'ServiceRequest.category' });
  });

  it('refuses bringing a deleted referral back, even unchanged', async () => {
    const stored = (await repository.create(buildReferralRequest())).resource;
    await repository.delete('ServiceRequest', stored.id as string);
    expect(await refusalOf(repository.update(stored))).toMatchObject({ status: 422, expression: 'ServiceRequest.category' });
  });
});
