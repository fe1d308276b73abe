import type { CarePlan, Provenance } from '@medplum/fhirtypes';
import { SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { DATA_OPERATION_SYSTEM, callerAgent, recordProvenance, withProvenance } from './provenance-record';
import { callers, seedCareWorld, world } from './testing/care-fixtures';
import { openCareTestEnv, type CareTestEnv } from './testing/care-test-env';

/** Sensate-focus homework: the kind of plan whose every change the practice wants traceable. */
function buildCarePlan(overrides: Partial<CarePlan> = {}): CarePlan {
  return {
    resourceType: 'CarePlan',
    meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'care-plan' }] },
    status: 'active',
    intent: 'plan',
    subject: { reference: world.patient },
    title: 'Sensate focus',
    activity: [{ detail: { status: 'in-progress', description: 'Stage 1: non-genital touch, three times a week' } }],
    ...overrides,
  };
}

describe('care-plan provenance (PostgreSQL)', () => {
  let env: CareTestEnv;
  const agent = callerAgent(callers.therapist);

  beforeAll(async () => {
    env = await openCareTestEnv();
    await seedCareWorld(env.repository);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('records who made each version of a care plan, in the same transaction as the change', async () => {
    const created = await env.as(callers.therapist, (repository) =>
      withProvenance(repository, async (tx) => (await tx.create(buildCarePlan())).resource, agent),
    );
    const id = created.resource.id as string;
    expect(created.provenance).toMatchObject({
      resourceType: 'Provenance',
      target: [{ reference: `CarePlan/${id}/_history/1` }, { reference: world.patient }],
      activity: { coding: [{ system: DATA_OPERATION_SYSTEM, code: 'CREATE' }] },
      agent: [{ who: { reference: world.therapist } }],
      meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'care-plan' }] },
    });
    expect(Date.parse(created.provenance.recorded)).not.toBeNaN();

    const updated = await env.as(callers.therapist, (repository) =>
      withProvenance(
        repository,
        async (tx) => (await tx.update({ ...created.resource, title: 'Sensate focus, stage 2' })).resource,
        agent,
      ),
    );
    expect(updated.provenance.target?.[0]).toEqual({ reference: `CarePlan/${id}/_history/2` });
    expect(updated.provenance.activity?.coding?.[0]?.code).toBe('UPDATE');

    const stored = await env.repository.search('Provenance', new URLSearchParams({ target: `CarePlan/${id}` }));
    expect(stored.matches.map((p) => (p as Provenance).target?.[0]?.reference).sort()).toEqual([
      `CarePlan/${id}/_history/1`,
      `CarePlan/${id}/_history/2`,
    ]);
  });

  it('stores neither the change nor its Provenance when the transaction fails', async () => {
    const before = { plans: await env.countVersions('CarePlan'), provenances: await env.countVersions('Provenance') };
    await expect(
      env.as(callers.therapist, (repository) =>
        withProvenance(
          repository,
          async (tx) => {
            await tx.create(buildCarePlan({ title: 'Never stored' }));
            // An invalid second write in the same transaction: the plan must go with it.
            return (await tx.create(buildCarePlan({ status: 'not-a-status' as CarePlan['status'] }))).resource;
          },
          agent,
        ),
      ),
    ).rejects.toThrow();
    expect({ plans: await env.countVersions('CarePlan'), provenances: await env.countVersions('Provenance') }).toEqual(before);
  });

  it('records a Provenance for a given version directly', async () => {
    const plan = (await env.repository.create(buildCarePlan())).resource;
    const provenance = await recordProvenance(env.repository, plan, 'CREATE', callerAgent(callers.practiceSystem), {
      now: new Date('2026-03-02T10:00:00Z'),
    });
    expect(provenance).toMatchObject({ recorded: '2026-03-02T10:00:00.000Z', agent: [{ who: { reference: world.practice } }] });
    await expect(recordProvenance(env.repository, buildCarePlan(), 'CREATE', agent)).rejects.toThrow(/stored version/);
  });
});
