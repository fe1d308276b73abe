import { SUBSCRIPTION_OWNER_URL } from '@carecircle/auth';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { createRepository, fullAccess, migrate, openDatabase, type Database, type Repository } from '@carecircle/store';
import { buildObservation, buildOrganization, buildPatient, createTestDatabase, type TestDatabase } from '@carecircle/testing';
import type { AuditEvent, Consent, Observation, Subscription } from '@medplum/fhirtypes';
import { writeRulesFor } from './caller-repository';
import { createConsentDeliveryGate } from './consent-delivery-gate';

const SETTINGS = { allowLoopbackHttp: false };

describe('the consent delivery gate (PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Database;
  let repo: Repository;
  let practice: string;
  let partner: string;
  let patient: string;
  let goals: Observation;
  let progress: Observation;
  let consent: Consent;

  const subscriptionOf = (owner?: string): Subscription => ({
    resourceType: 'Subscription',
    id: 'sub-1',
    status: 'active',
    reason: 'test',
    criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
    channel: { type: 'rest-hook', endpoint: 'https://partner.example/hook' },
    ...(owner ? { extension: [{ url: SUBSCRIPTION_OWNER_URL, valueReference: { reference: owner } }] } : {}),
  });
  const tagged = (category: string) => ({ meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } });

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openDatabase({ databaseUrl: database.url });
    await migrate(db);
    repo = createRepository(db, fullAccess, { writeRules: writeRulesFor(SETTINGS) });
    practice = `Organization/${(await repo.create(buildOrganization())).resource.id}`;
    partner = `Organization/${(await repo.create(buildOrganization({ name: 'Partner' }))).resource.id}`;
    patient = (await repo.create(buildPatient({ managingOrganization: { reference: practice } }))).resource.id as string;
    goals = (await repo.create(buildObservation(patient, tagged('treatment-goals')))).resource;
    progress = (await repo.create(buildObservation(patient, tagged('progress')))).resource;
    consent = (
      await repo.create(buildSharingConsent({ patient: `Patient/${patient}`, custodian: practice, recipients: [partner], categories: ['treatment-goals'] }))
    ).resource;
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  const audits = async () => (await repo.search('AuditEvent', new URLSearchParams({ patient: `Patient/${patient}`, _count: '1000' }))).matches as AuditEvent[];
  const focusOf = (resource: Observation) => ({ resourceType: 'Observation', id: resource.id as string, versionId: Number(resource.meta?.versionId) });

  test('releases the exact version the subscriber may read now, withholds the rest, and audits only the disclosure', async () => {
    const gate = createConsentDeliveryGate(db, SETTINGS);
    const before = (await audits()).length;
    const released = await gate.release(subscriptionOf(partner), focusOf(goals));
    expect(released).toEqual({ kind: 'deliver', resource: expect.objectContaining({ id: goals.id, meta: expect.objectContaining({ versionId: '1' }) }) });
    expect(await gate.release(subscriptionOf(partner), focusOf(progress))).toEqual({ kind: 'withhold' });
    expect((await gate.release(subscriptionOf(practice), focusOf(progress))).kind).toBe('deliver');
    expect(await gate.release(subscriptionOf(undefined), focusOf(goals))).toEqual({ kind: 'withhold' });
    const written = (await audits()).slice(0, (await audits()).length - before);
    // One disclosure (the partner's goals); the custodian's own read is not a disclosure; the refusal is not audited.
    expect(written.map((a) => a.outcome)).toEqual(['0']);
    expect(written[0]?.entity?.some((e) => e.what?.reference === `Observation/${goals.id}/_history/1`)).toBe(true);
    expect(written[0]?.agent?.some((a) => a.who?.identifier?.value === 'subscription/sub-1')).toBe(true);
  });

  test('at matching it answers the same question and records nothing', async () => {
    const gate = createConsentDeliveryGate(db, SETTINGS);
    const before = (await audits()).length;
    expect(await gate.canSee(subscriptionOf(partner), focusOf(goals))).toBe(true);
    expect(await gate.canSee(subscriptionOf(partner), focusOf(progress))).toBe(false);
    expect(await gate.canSee(subscriptionOf(practice), focusOf(progress))).toBe(true);
    expect((await audits()).length).toBe(before);
  });

  test('a version the subscriber may not read is withheld, even when a later version is permitted', async () => {
    const gate = createConsentDeliveryGate(db, SETTINGS);
    const v1 = (await repo.create(buildObservation(patient, tagged('progress')))).resource;
    const v2 = (await repo.update({ ...v1, meta: { ...v1.meta, tag: tagged('treatment-goals').meta.tag } })).resource;
    expect(v2.meta?.versionId).toBe('2');
    expect(await gate.canSee(subscriptionOf(partner), focusOf(v1))).toBe(false);
    expect(await gate.release(subscriptionOf(partner), focusOf(v1))).toEqual({ kind: 'withhold' });
    const released = await gate.release(subscriptionOf(partner), focusOf(v2));
    expect(released.kind === 'deliver' && released.resource.meta?.versionId).toBe('2');
  });

  test('after revocation, nothing about the client goes out, and no denial is filed with the client', async () => {
    await repo.update({ ...consent, status: 'inactive' });
    const gate = createConsentDeliveryGate(db, SETTINGS);
    const before = (await audits()).length;
    expect(await gate.release(subscriptionOf(partner), focusOf(goals))).toEqual({ kind: 'withhold' });
    expect(await gate.release(subscriptionOf(partner), { resourceType: 'Patient', id: patient, versionId: 1 })).toEqual({ kind: 'withhold' });
    expect(await gate.canSee(subscriptionOf(partner), focusOf(goals))).toBe(false);
    expect((await audits()).length).toBe(before);
  });
});
