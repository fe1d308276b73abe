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

  test('delivers what the subscriber may read now, withholds the rest, and audits the disclosure', async () => {
    const gate = createConsentDeliveryGate(db, SETTINGS);
    expect(await gate(subscriptionOf(partner), { resourceType: 'Observation', id: goals.id as string })).toBe('deliver');
    expect(await gate(subscriptionOf(partner), { resourceType: 'Observation', id: progress.id as string })).toBe('withhold');
    expect(await gate(subscriptionOf(practice), { resourceType: 'Observation', id: progress.id as string })).toBe('deliver');
    expect(await gate(subscriptionOf(undefined), { resourceType: 'Observation', id: goals.id as string })).toBe('withhold');
    const audits = (await repo.search('AuditEvent', new URLSearchParams({ patient: `Patient/${patient}` }))).matches as AuditEvent[];
    expect(audits.some((a) => a.outcome === '0' && a.entity?.some((e) => e.what?.reference?.startsWith(`Observation/${goals.id}/_history/`)))).toBe(true);
  });

  test('after revocation, nothing about the client goes out', async () => {
    await repo.update({ ...consent, status: 'inactive' });
    const gate = createConsentDeliveryGate(db, SETTINGS);
    expect(await gate(subscriptionOf(partner), { resourceType: 'Observation', id: goals.id as string })).toBe('withhold');
    expect(await gate(subscriptionOf(partner), { resourceType: 'Patient', id: patient })).toBe('withhold');
  });
});
