import { buildSharingConsent, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { migrate, openDatabase, sql, type Database, type Repository } from '@carecircle/store';
import { buildObservation, buildOrganization, buildPatient, createTestDatabase, type TestDatabase } from '@carecircle/testing';
import type { AuditEvent, Communication, Consent, Observation, ServiceRequest, Subscription } from '@medplum/fhirtypes';
import { createCallerRepository, createServerRepository } from './caller-repository';
import { createConsentDeliveryGate } from './consent-delivery-gate';
import { SUBSCRIPTION_OWNER_URL, SUBSCRIPTION_PRINCIPAL_URL } from './subscription-ownership';

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

  /** The principal a Subscription's last writer left: its client, the token's scope and purposes. */
  interface Principal {
    client: string;
    scope?: string;
    purposes?: string[];
  }
  const subscriptionOf = (owner?: string, principal: Principal = { client: `${owner}-ehr` }): Subscription => ({
    resourceType: 'Subscription',
    id: 'sub-1',
    status: 'active',
    reason: 'test',
    criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
    channel: { type: 'rest-hook', endpoint: 'https://partner.example/hook' },
    ...(owner
      ? {
          extension: [
            { url: SUBSCRIPTION_OWNER_URL, valueReference: { reference: owner } },
            {
              url: SUBSCRIPTION_PRINCIPAL_URL,
              extension: [
                { url: 'client', valueString: principal.client },
                { url: 'scope', valueString: principal.scope ?? 'system/*.rs' },
                ...(principal.purposes ?? []).map((code) => ({ url: 'purpose', valueCode: code })),
              ],
            },
          ],
        }
      : {}),
  });
  const registerSystemClient = (id: string, organization: string) =>
    db.query(sql`INSERT INTO auth_client (id, kind, name, organization, jwks, scope)
                 VALUES (${id}, 'system', ${id}, ${organization}, '{"keys":[]}'::jsonb, 'system/*.rs')`);
  const tagged = (category: string) => ({ meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } });

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openDatabase({ databaseUrl: database.url });
    await migrate(db);
    repo = createServerRepository(db, SETTINGS);
    practice = `Organization/${(await repo.create(buildOrganization())).resource.id}`;
    partner = `Organization/${(await repo.create(buildOrganization({ name: 'Partner' }))).resource.id}`;
    patient = (await repo.create(buildPatient({ managingOrganization: { reference: practice } }))).resource.id as string;
    goals = (await repo.create(buildObservation(patient, tagged('treatment-goals')))).resource;
    progress = (await repo.create(buildObservation(patient, tagged('progress')))).resource;
    consent = (
      await repo.create(buildSharingConsent({ patient: `Patient/${patient}`, custodian: practice, recipients: [partner], categories: ['treatment-goals'] }))
    ).resource;
    await registerSystemClient(`${practice}-ehr`, practice);
    await registerSystemClient(`${partner}-ehr`, partner);
    await registerSystemClient(`${partner}-other`, partner);
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

  test("it reads with the principal's scopes and purpose: a token that could not read the resource delivers nothing", async () => {
    const gate = createConsentDeliveryGate(db, SETTINGS);
    const client = `${partner}-other`;
    expect((await gate.release(subscriptionOf(partner, { client }), focusOf(goals))).kind).toBe('deliver');
    // Scopes: Subscription access only, or Observation search without read.
    expect(await gate.release(subscriptionOf(partner, { client, scope: 'system/Subscription.cruds' }), focusOf(goals))).toEqual({ kind: 'withhold' });
    expect(await gate.canSee(subscriptionOf(partner, { client, scope: 'system/Subscription.cruds system/Observation.s' }), focusOf(goals))).toBe(false);
    // Purpose: the consent permits treatment; a token issued for payment acts for payment.
    expect(await gate.release(subscriptionOf(partner, { client, purposes: ['HPAYMT'] }), focusOf(goals))).toEqual({ kind: 'withhold' });
    expect((await gate.release(subscriptionOf(partner, { client, purposes: ['TREAT', 'HPAYMT'] }), focusOf(goals))).kind).toBe('deliver');
  });

  test('a principal that is disabled or unknown delivers nothing', async () => {
    const gate = createConsentDeliveryGate(db, SETTINGS);
    expect(await gate.release(subscriptionOf(partner, { client: 'no-such-client' }), focusOf(goals))).toEqual({ kind: 'withhold' });
    await db.query(sql`UPDATE auth_client SET disabled_at = now() WHERE id = ${`${partner}-other`}`);
    expect(await gate.release(subscriptionOf(partner, { client: `${partner}-other` }), focusOf(goals))).toEqual({ kind: 'withhold' });
    expect(await gate.canSee(subscriptionOf(partner, { client: `${partner}-other` }), focusOf(goals))).toBe(false);
    // Another client of the same organization still delivers.
    expect((await gate.release(subscriptionOf(partner), focusOf(goals))).kind).toBe('deliver');
  });

  test("a partner's own reply goes out in full to it though its consent does not grant the reply's category; not to another partner, nor after revocation", async () => {
    const client = (await repo.create(buildPatient({ managingOrganization: { reference: practice } }))).resource.id as string;
    const other = `Organization/${(await repo.create(buildOrganization({ name: 'Other partner' }))).resource.id}`;
    await registerSystemClient(`${other}-ehr`, other);
    const grants = (recipients: string[]) =>
      repo.create(buildSharingConsent({ patient: `Patient/${client}`, custodian: practice, recipients, categories: ['care-plan'] }));
    const sharing = (await grants([partner])).resource;
    await grants([other]);
    const request = (
      await repo.create<ServiceRequest>({
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        subject: { reference: `Patient/${client}` },
        performer: [{ reference: partner }],
      })
    ).resource;
    const asPartner = await createCallerRepository(db, SETTINGS, { kind: 'system', clientId: `${partner}-ehr`, organization: partner as `Organization/${string}`, scope: 'system/*.cruds' }, 'TREAT', 'req-reply');
    const reply = (
      await asPartner.create<Communication>({
        resourceType: 'Communication',
        status: 'completed',
        subject: { reference: `Patient/${client}` },
        basedOn: [{ reference: `ServiceRequest/${request.id}` }],
        sender: { reference: partner },
        payload: [{ contentString: 'Seen today; report follows' }],
      })
    ).resource;
    expect(reply.meta?.tag).toContainEqual({ system: SHARE_CATEGORY_SYSTEM, code: 'progress' });
    const gate = createConsentDeliveryGate(db, SETTINGS);
    const focus = { resourceType: 'Communication', id: reply.id as string, versionId: 1 };
    const released = await gate.release(subscriptionOf(partner), focus);
    expect(released.kind === 'deliver' && (released.resource as Communication).payload).toEqual(reply.payload);
    expect(await gate.canSee(subscriptionOf(partner), focus)).toBe(true);
    expect(await gate.release(subscriptionOf(other), focus)).toEqual({ kind: 'withhold' });
    await repo.update({ ...sharing, status: 'inactive' });
    expect(await gate.release(subscriptionOf(partner), focus)).toEqual({ kind: 'withhold' });
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
