/**
 * What notifications may and may not tell, end to end (HTTP -> outbox -> BullMQ on real Redis -> worker -> webhook):
 *
 * - a full-resource notification carries only a version the subscriber may read: a Communication written in a
 *   category the partner's consent does not cover, then moved into one it covers while the partner's receiver is down,
 *   never reaches the partner with its first body;
 * - an organization without consent that subscribes to everything hears nothing: no notification, no event numbers or
 *   timestamps in `$events`, and no AuditEvents about it in the client's audit trail;
 * - endpoints the server must never call (cloud metadata, private networks) are refused when the Subscription is written;
 * - the consent topic reaches whoever may read the Consent: the custodian's systems, and a partner for the Consents
 *   naming it;
 * - a subscription carries only what the token that wrote it could read (scopes, purpose of use), and nothing once
 *   that client is disabled.
 */
import { buildSharingConsent, type ShareCategory } from '@carecircle/consent';
import { buildBackportSubscription, type SubscriptionFacts } from '@carecircle/notify';
import { fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type { AuditEvent, Bundle, Communication, Consent, Parameters, Patient, Subscription } from '@medplum/fhirtypes';
import request from 'supertest';
import { statusOf, type NotificationReceiver } from '../support/notification-receiver';
import { startNotifyStack, SUBSCRIPTION_SECRET, type NotifyStack } from '../support/notify-stack';

const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };
const SHARE = 'https://carecircle.dev/fhir/CodeSystem/share-category';
const TOPIC = (name: string) => `https://carecircle.dev/fhir/SubscriptionTopic/${name}`;

let t: TestApp;
let stack: NotifyStack;
let receiver: NotificationReceiver;
let practice: string;
let clinic: string;
let stranger: string;
let therapist: string;
let practiceToken: string;
let clinicToken: string;
let strangerToken: string;
let client: Patient;

function subscribe(token: string, path: string, topic: string, extra: Partial<SubscriptionFacts> = {}): Promise<Subscription> {
  return stack.subscribe(token, path, topic, extra);
}

async function eventsOf(token: string, subscription: Subscription): Promise<Parameters> {
  const res = await fhirClient(t, token).get(`Subscription/${subscription.id}/$events`);
  expect(res.status).toBe(200);
  return statusOf(res.body as Bundle);
}

beforeAll(async () => {
  stack = await startNotifyStack();
  ({ t, receiver } = stack);
  const admin = fhirClient(t, t.adminToken);
  practice = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
  clinic = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Clinic' }))).body.id}`;
  stranger = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Stranger' }))).body.id}`;
  therapist = `Practitioner/${(await admin.post('Practitioner', buildPractitioner())).body.id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
  strangerToken = await (await registerSystemClient(t, stranger, 'system/*.cruds')).token();
  client = (await fhirClient(t, practiceToken).post('Patient', buildPatient())).body as Patient;
  const consent = {
    ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [clinic], categories: ['care-plan', 'progress'] }),
    sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' },
  };
  expect((await fhirClient(t, practiceToken).post('Consent', consent)).status).toBe(201);
});

afterAll(async () => {
  await stack.close();
});

test('full-resource: a version the partner may not read never reaches it, even after the resource moves into a permitted category', async () => {
  const subscription = await subscribe(clinicToken, '/clinic/full', TOPIC('communication'), { content: 'full-resource' });
  receiver.down('/clinic/full');
  const written = await fhirClient(t, practiceToken).post('Communication', {
    resourceType: 'Communication',
    meta: { tag: [{ system: SHARE, code: 'treatment-goals' }] },
    status: 'completed',
    subject: { reference: `Patient/${client.id}` },
    payload: [{ contentString: 'FIRST-VERSION-NOT-FOR-THE-CLINIC' }],
  });
  expect(written.status).toBe(201);
  const first = written.body as Communication;
  const moved = await fhirClient(t, practiceToken).put(`Communication/${first.id}`, {
    ...first,
    meta: { tag: [{ system: SHARE, code: 'progress' }] },
    payload: [{ contentString: 'second version, shared as progress' }],
  });
  expect(moved.status).toBe(200);
  await new Promise((r) => setTimeout(r, 1500));
  receiver.up('/clinic/full');
  const delivered = await receiver.waitFor('the permitted version', () => receiver.events('/clinic/full')[0], 15_000);
  await new Promise((r) => setTimeout(r, 1500));
  // Only the permitted version was ever numbered and sent; the first body went nowhere, not even in a refused attempt.
  expect(receiver.events('/clinic/full')).toHaveLength(1);
  expect(delivered.eventNumbers).toEqual([1]);
  expect((delivered.bundle.entry?.[1]?.resource as Communication).meta?.versionId).toBe('2');
  const everything = receiver.received.filter((r) => r.path === '/clinic/full').map((r) => r.body).join('\n');
  expect(everything).not.toContain('FIRST-VERSION-NOT-FOR-THE-CLINIC');
  const events = await eventsOf(clinicToken, subscription);
  expect(events.parameter?.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('1');
});

test('an organization without consent hears nothing: no notification, no event numbers, no audit entries', async () => {
  const watching = await subscribe(strangerToken, '/stranger/all', TOPIC('referral'));
  const partner = await subscribe(clinicToken, '/clinic/referrals', TOPIC('referral'));
  const referral = await fhirClient(t, practiceToken).post('ServiceRequest', {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    category: [{ coding: [REFERRAL] }],
    code: { text: 'Pelvic floor PT evaluation' },
    subject: { reference: `Patient/${client.id}` },
    requester: { reference: therapist },
    performer: [{ reference: clinic }],
  });
  expect(referral.status).toBe(201);
  // The consented partner hears of the referral and its Task ...
  await receiver.waitFor('the partner notifications', () => (receiver.events('/clinic/referrals').length >= 2 ? true : undefined));
  await new Promise((r) => setTimeout(r, 1000));
  // ... the stranger of nothing at all.
  expect(receiver.received.filter((r) => r.path === '/stranger/all' && r.type === 'event-notification')).toEqual([]);
  const strangerEvents = await eventsOf(strangerToken, watching);
  expect(strangerEvents.parameter?.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('0');
  expect(strangerEvents.parameter?.some((p) => p.name === 'notification-event')).toBe(false);
  const audits = (await fhirClient(t, t.adminToken).get(`AuditEvent?patient=Patient/${client.id}&_count=1000`)).body as Bundle;
  const about = (subscription: Subscription) =>
    (audits.entry ?? [])
      .map((e) => e.resource as AuditEvent)
      .filter((a) => a.agent?.some((agent) => agent.who?.identifier?.value === `subscription/${subscription.id}`));
  expect(about(watching)).toEqual([]);
  // The partner's notifications are disclosures, audited as such (never as denials).
  expect(about(partner).length).toBeGreaterThanOrEqual(2);
  expect(about(partner).every((a) => a.outcome === '0')).toBe(true);
});

test('a subscription tells only what the token that wrote it could read, and nothing once its client is disabled', async () => {
  // Three more systems of the consented clinic: one with Subscription access only, one whose token is for payment
  // (the consent permits treatment), and one with full read access that the operator then disables.
  const narrowToken = await (await registerSystemClient(t, clinic, 'system/Subscription.cruds')).token();
  const paymentToken = await (await registerSystemClient(t, clinic, 'system/*.rs system/Subscription.cruds')).token(undefined, { purpose_of_use: 'HPAYMT' });
  const laterDisabled = await registerSystemClient(t, clinic, 'system/*.rs system/Subscription.cruds');
  const full = { content: 'full-resource' as const };
  await subscribe(clinicToken, '/clinic/baseline', TOPIC('communication'), full);
  await subscribe(narrowToken, '/clinic/narrow', TOPIC('communication'), full);
  await subscribe(paymentToken, '/clinic/payment', TOPIC('communication'), full);
  await subscribe(await laterDisabled.token(), '/clinic/disabled', TOPIC('communication'), full);
  const sendProgress = async (text: string) => {
    const res = await fhirClient(t, practiceToken).post('Communication', {
      resourceType: 'Communication',
      meta: { tag: [{ system: SHARE, code: 'progress' }] },
      status: 'completed',
      subject: { reference: `Patient/${client.id}` },
      payload: [{ contentString: text }],
    });
    expect(res.status).toBe(201);
    return (res.body as Communication).id;
  };
  const receivedAt = (path: string, id: string | undefined) =>
    receiver.events(path).some((e) => (e.bundle.entry?.[1]?.resource as Communication | undefined)?.id === id);

  const first = await sendProgress('PROGRESS-ONE');
  await receiver.waitFor('the baseline delivery', () => receivedAt('/clinic/baseline', first) || undefined, 15_000);
  await receiver.waitFor('the full-access delivery', () => receivedAt('/clinic/disabled', first) || undefined, 15_000);
  const adminRes = await request(t.app).post(`/admin/clients/${laterDisabled.clientId}/disable`).set('Authorization', `Bearer ${t.adminToken}`);
  expect(adminRes.status).toBe(200);
  const second = await sendProgress('PROGRESS-TWO');
  await receiver.waitFor('the second baseline delivery', () => receivedAt('/clinic/baseline', second) || undefined, 15_000);
  await new Promise((r) => setTimeout(r, 1000));

  const bodies = (path: string) => receiver.received.filter((r) => r.path === path && r.type === 'event-notification').map((r) => r.body).join('\n');
  for (const path of ['/clinic/narrow', '/clinic/payment']) {
    expect(bodies(path)).toBe('');
  }
  expect(bodies('/clinic/disabled')).toContain('PROGRESS-ONE');
  expect(bodies('/clinic/disabled')).not.toContain('PROGRESS-TWO');
});

test.each([
  ['cloud metadata', 'https://169.254.169.254/latest/meta-data/'],
  ['a private network', 'https://10.0.0.1/hook'],
  ['a private network (172.16/12)', 'https://172.20.0.5/hook'],
  ['a private network (IPv6)', 'https://[fd00::1]/hook'],
  ['a link-local address', 'https://[fe80::1]/hook'],
])('a subscription to %s is refused when written (422), so the worker never calls it', async (_name, endpoint) => {
  const res = await fhirClient(t, clinicToken).post('Subscription', buildBackportSubscription({ topic: TOPIC('referral'), endpoint, secret: SUBSCRIPTION_SECRET }));
  expect(res.status).toBe(422);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(JSON.stringify(res.body)).toContain('Subscription.channel.endpoint');
  // Not stored: nothing exists for the worker to call.
  const mine = (await fhirClient(t, clinicToken).get('Subscription?_count=1000')).body as Bundle;
  expect(JSON.stringify(mine)).not.toContain(new URL(endpoint).hostname);
});

test("the consent topic: the custodian's systems hear of every consent of their client, a partner of the ones naming it (revocation included), of no other", async () => {
  const custodianView = await subscribe(practiceToken, '/practice/consents', TOPIC('consent'), { filters: [`Consent?patient=Patient/${client.id}`] });
  const partnerView = await subscribe(clinicToken, '/clinic/consents', TOPIC('consent'));
  const give = async (recipient: string, category: ShareCategory) => {
    const res = await fhirClient(t, practiceToken).post('Consent', {
      ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [recipient], categories: [category] }),
      sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' },
    });
    expect(res.status).toBe(201);
    const consent = res.body as Consent;
    expect((await fhirClient(t, practiceToken).put(`Consent/${consent.id}`, { ...consent, status: 'inactive' })).status).toBe(200);
    return consent;
  };
  const forStranger = await give(stranger, 'progress');
  const forClinic = await give(clinic, 'treatment-goals');
  const base = t.services.config.fhirBaseUrl;
  await receiver.waitFor('the custodian notifications', () => (receiver.events('/practice/consents').length >= 4 ? true : undefined));
  expect(receiver.events('/practice/consents').map((r) => r.bundle.entry?.[1]?.fullUrl)).toEqual([
    `${base}/Consent/${forStranger.id}`,
    `${base}/Consent/${forStranger.id}`,
    `${base}/Consent/${forClinic.id}`,
    `${base}/Consent/${forClinic.id}`,
  ]);
  // The clinic hears of the consent naming it, given and revoked; a consent naming someone else is none of its business.
  await receiver.waitFor('the partner notifications', () => (receiver.events('/clinic/consents').length >= 2 ? true : undefined));
  await new Promise((r) => setTimeout(r, 1000));
  expect(receiver.events('/clinic/consents').map((r) => r.bundle.entry?.[1]?.fullUrl)).toEqual([`${base}/Consent/${forClinic.id}`, `${base}/Consent/${forClinic.id}`]);
  expect(JSON.stringify(receiver.received.filter((r) => r.path === '/clinic/consents'))).not.toContain(forStranger.id);
  const partnerEvents = await eventsOf(clinicToken, partnerView);
  expect(partnerEvents.parameter?.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('2');
  expect(custodianView.status).toBe('active');
});
